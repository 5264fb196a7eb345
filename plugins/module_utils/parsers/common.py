# Copyright: (c) 2025, gpuforge.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared pieces of the parsers: the error type and small value helpers."""

from __future__ import annotations

import re

NA_VALUES = frozenset(("", "N/A", "[N/A]", "n/a", "NA", "[Not Supported]", "Not Supported",
                       "[Requested functionality has been deprecated]", "[Unknown Error]"))


class ParseError(ValueError):
    """The input is not what the parser expects.

    ``line_number`` is 1-based (0 when no line applies) and ``line`` is the text of the first
    line that did not fit.
    """

    def __init__(self, message: str, line_number: int = 0, line: str = "") -> None:
        self.line_number = line_number
        self.line = line
        if line_number:
            message = f"{message} (line {line_number}: {line[:200]!r})"
        super().__init__(message)


def first_content_line(text: str) -> tuple[int, str]:
    """Return (1-based number, text) of the first non-blank line, or (0, '')."""
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            return number, line
    return 0, ""


def is_na(value: str | None) -> bool:
    return value is None or value.strip() in NA_VALUES


_NUM = re.compile(r"^\s*([-+]?\d+(?:\.\d+)?)")


def to_int(value: str | None) -> int | None:
    """Leading integer of a value ('81559 MiB' -> 81559); None for N/A or no number."""
    if is_na(value):
        return None
    match = _NUM.match(value or "")
    if not match:
        return None
    try:
        return int(float(match.group(1)))
    except ValueError:
        return None


def to_float(value: str | None) -> float | None:
    """Leading number of a value ('700.00 W' -> 700.0); None for N/A or no number."""
    if is_na(value):
        return None
    match = _NUM.match(value or "")
    return float(match.group(1)) if match else None


def check_text(text: object) -> str:
    """Reject input that is not text (bytes are decoded as UTF-8 with replacement)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    if not isinstance(text, str):
        raise ParseError(f"expected text, got {type(text).__name__}")
    if "\x00" in text:
        number = text[: text.index("\x00")].count("\n") + 1
        raise ParseError("binary data in input", number, text.split("\n")[number - 1])
    return text
