"""PostgreSQL COPY text format: fields escaped, NULL written as \\N."""

from __future__ import annotations

import re

NULL = "\\N"
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_SPECIAL = re.compile(r"[\\\t\n\r]")


def copy_text(text: str) -> str:
    """A text field escaped for COPY's text format."""
    return text.translate(_ESCAPES) if _SPECIAL.search(text) else text


def copy_optional(text: str | None) -> str:
    """A nullable text field escaped for COPY's text format."""
    if text is None:
        return NULL
    return text.translate(_ESCAPES) if _SPECIAL.search(text) else text
