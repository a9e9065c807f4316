"""Exact money: decimal strings or minor units to the canonical Money message."""

from __future__ import annotations

import re
from decimal import Context, Decimal, InvalidOperation

from commercegateway.v1 import events_pb2

from bridge.platforms.fields import INT64_MAX, INT64_MIN

# ISO 4217 currencies whose minor unit is not the usual 1/100.
_EXPONENTS: dict[str, int] = {
    "JPY": 0,
    "KRW": 0,
    "BHD": 3,
    "KWD": 3,
    "OMR": 3,
    "JOD": 3,
    "TND": 3,
}
_CURRENCY = re.compile(r"[A-Z]{3}", re.ASCII)
_EXACT = Context(prec=100)  # scaling is exact for every amount DecimalText admits


class MoneyError(ValueError):
    """An amount that cannot be represented exactly in its currency's minor unit."""


def minor_unit_exponent(currency_code: str) -> int:
    """The number of decimal places of the currency's minor unit (JPY 0, KWD 3, else 2)."""
    return _EXPONENTS.get(currency_code.upper(), 2)


def _currency(code: str) -> str:
    normalized = code.strip().upper()
    if not _CURRENCY.fullmatch(normalized):
        raise MoneyError("currency must be a three-letter ISO 4217 code")
    return normalized


def _checked(minor: int) -> int:
    if not INT64_MIN <= minor <= INT64_MAX:
        raise MoneyError("amount is out of range")
    return minor


def money_from_decimal(amount: str, currency_code: str) -> events_pb2.Money:
    """Money from a decimal string such as "29.99", exact in the currency's minor unit.

    Raises MoneyError when the currency is not an ISO code or the amount has more decimal
    places than the currency's minor unit.
    """
    currency = _currency(currency_code)
    try:
        value = Decimal(amount)
    except InvalidOperation as error:
        raise MoneyError("amount must be a decimal number") from error
    if not value.is_finite():
        raise MoneyError("amount must be a decimal number")
    scaled = value.scaleb(minor_unit_exponent(currency), _EXACT)
    if scaled != scaled.to_integral_value():
        raise MoneyError(f"amount has more decimal places than {currency} allows")
    return events_pb2.Money(
        amount_minor=_checked(int(scaled)), currency_code=currency, amount_decimal=amount
    )


def money_from_minor(amount_minor: int, currency_code: str) -> events_pb2.Money:
    """Money from an integer amount in the currency's minor unit (amount_decimal left empty)."""
    return events_pb2.Money(
        amount_minor=_checked(amount_minor), currency_code=_currency(currency_code)
    )


def price_without_currency(amount: str) -> events_pb2.Money:
    """Money for a price whose currency the payload does not name: amount_decimal only."""
    return events_pb2.Money(amount_decimal=amount)
