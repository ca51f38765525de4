"""Typed errors. Each carries a message fit to show the person who asked."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class OverviewError(Exception):
    """A failure the user caused or can fix; its text is shown to them as it is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(OverviewError):
    pass


class NotFound(OverviewError):
    pass


class AccessDenied(OverviewError):
    pass


@dataclass(frozen=True)
class Candidate:
    id: int
    company: str


class Ambiguous(OverviewError):
    """Several customers match a name; the caller offers a pick list."""

    def __init__(self, query: str, candidates: Sequence[Candidate], total: int) -> None:
        super().__init__(f"{total} customers match “{query}”. Pick one:")
        self.query = query
        self.candidates = list(candidates)
        self.total = total
