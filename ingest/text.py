"""The parse error that names a source's line."""

from __future__ import annotations


class ParseError(ValueError):
    """A source does not have the layout its parser reads; ``line`` is 1-based."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message
