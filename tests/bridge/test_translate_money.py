"""Exact money: minor-unit exponents per currency, decimal strings, refusals."""

from __future__ import annotations

import pytest
from commercegateway.v1 import events_pb2

from bridge.platforms.money import (
    MoneyError,
    minor_unit_exponent,
    money_from_decimal,
    money_from_minor,
)


@pytest.mark.parametrize(
    ("currency", "exponent"),
    [
        ("JPY", 0),
        ("KRW", 0),
        ("BHD", 3),
        ("KWD", 3),
        ("OMR", 3),
        ("JOD", 3),
        ("TND", 3),
        ("USD", 2),
        ("EUR", 2),
        ("usd", 2),
        ("jpy", 0),
    ],
)
def test_minor_unit_exponent_follows_iso_4217(currency: str, exponent: int) -> None:
    assert minor_unit_exponent(currency) == exponent


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        ("29.99", "USD", 2999),
        ("1500", "JPY", 1500),
        ("1.234", "BHD", 1234),
        ("-0.50", "EUR", -50),
        ("0", "USD", 0),
        ("10.1", "KWD", 10100),
        ("92233720368547758.07", "USD", 2**63 - 1),
    ],
)
def test_decimal_amount_becomes_exact_minor_units(amount: str, currency: str, minor: int) -> None:
    money = money_from_decimal(amount, currency)
    assert money == events_pb2.Money(
        amount_minor=minor, currency_code=currency, amount_decimal=amount
    )


def test_currency_code_is_upper_cased() -> None:
    assert money_from_decimal("1.00", "usd").currency_code == "USD"


@pytest.mark.parametrize(
    ("amount", "currency"),
    [
        ("1.5", "JPY"),
        ("0.001", "USD"),
        ("1.0001", "KWD"),
        ("1.000000000000000000000000000001", "USD"),
    ],
)
def test_amount_finer_than_the_minor_unit_is_refused(amount: str, currency: str) -> None:
    with pytest.raises(MoneyError, match="more decimal places"):
        money_from_decimal(amount, currency)


@pytest.mark.parametrize("amount", ["92233720368547758.08", "nan", "inf", "abc"])
def test_amount_out_of_range_or_not_a_number_is_refused(amount: str) -> None:
    with pytest.raises(MoneyError):
        money_from_decimal(amount, "USD")


@pytest.mark.parametrize("currency", ["US", "DOLLAR", "", "U1D"])
def test_currency_that_is_not_an_iso_code_is_refused(currency: str) -> None:
    with pytest.raises(MoneyError, match="ISO 4217"):
        money_from_decimal("1.00", currency)


def test_minor_units_leave_the_decimal_text_empty() -> None:
    assert money_from_minor(5998, "USD") == events_pb2.Money(amount_minor=5998, currency_code="USD")
    with pytest.raises(MoneyError):
        money_from_minor(2**63, "USD")
