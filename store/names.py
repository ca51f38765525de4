"""How company names are compared."""

from __future__ import annotations

import re

_SPACE = re.compile(r"\s+")


def clean_company(name: str) -> str:
    """The name as shown: trimmed, inner whitespace collapsed."""
    return _SPACE.sub(" ", name).strip()


def company_key(name: str) -> str:
    """Case-insensitive identity of a company name."""
    return clean_company(name).casefold()
