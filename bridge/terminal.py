"""Text from deliveries made safe for a terminal: control and format characters escaped."""

from __future__ import annotations

import unicodedata

# Control (Cc: C0, DEL, C1 incl. ESC and CSI), format (Cf: bidi overrides, zero-width),
# surrogates, private use, line and paragraph separators: anything that could move the cursor,
# recolour, hide or reorder what is shown.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})
_LINE_BREAKS = frozenset("\n\t")


def _escape(char: str) -> str:
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def printable(text: str, *, multiline: bool = False) -> str:
    r"""`text` with every control, format, surrogate or private-use character written as an
    escape (`\x1b`, `\u202e`); with `multiline`, newlines and tabs are kept as they are."""
    if text.isprintable() and not multiline:
        return text
    return "".join(
        _escape(char)
        if unicodedata.category(char) in _UNSAFE_CATEGORIES
        and not (multiline and char in _LINE_BREAKS)
        else char
        for char in text
    )
