"""Whole numbers written by someone else: query parameters, headers, settings, digests.

`str.isdigit()` alone takes "²" (which `int()` refuses) and "٣" (which it reads as 3), and
`int()` refuses more than 4,300 digits: a request could turn either into a 500.
"""

from __future__ import annotations

# What more than 20 significant digits read as: above every count, size and log position here
# (and above what a 64-bit database integer holds, so callers clamp or refuse it).
HUGE = 10**20


def parse_whole_number(text: str) -> int | None:
    """The value of `text` written in ASCII digits; None if it is not that."""
    if not (text.isascii() and text.isdigit()):
        return None
    digits = text.lstrip("0")
    return int(digits or "0") if len(digits) <= 20 else HUGE
