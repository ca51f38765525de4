"""`overview-bot audit export`: the whole audit log, oldest first, as CSV or JSON."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import json
import os
from typing import Any, TextIO

from store import audit
from store.db import Database
from store.models import AuditEntry

COLUMNS = (
    "id",
    "at",
    "actor_id",
    "actor_name",
    "action",
    "customer_id",
    "company",
    "before",
    "after",
    "approval_id",
    "detail",
)


def as_record(entry: AuditEntry) -> dict[str, Any]:
    """One entry as plain JSON values; `at` in ISO 8601 UTC."""
    return {
        "id": entry.id,
        "at": entry.at.astimezone(dt.UTC).isoformat(),
        "actor_id": entry.actor_id,
        "actor_name": entry.actor_name,
        "action": entry.action.value,
        "customer_id": entry.customer_id,
        "company": entry.company,
        "before": entry.before,
        "after": entry.after,
        "approval_id": entry.approval_id,
        "detail": entry.detail,
    }


def _csv_row(record: dict[str, Any]) -> list[Any]:
    # Empty cells for unknown values; the before/after dicts stay JSON inside their cell.
    row = []
    for key in COLUMNS:
        value = record[key]
        if key in ("before", "after") and value is not None:
            value = json.dumps(value, ensure_ascii=False, sort_keys=True)
        row.append("" if value is None else value)
    return row


async def export_audit(db: Database, fmt: str, since: dt.date | None, out: TextIO) -> int:
    """Write every entry (from `since` 00:00 UTC on) to `out`, streamed: the log may be large."""
    try:
        await _write(db, fmt, since, out)
    except BrokenPipeError:
        # The reader stopped early (`… | head`): it has what it wanted. Point the stream at
        # /dev/null so the interpreter's last flush does not print a traceback.
        with contextlib.suppress(AttributeError, OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, out.fileno())
    return 0


async def _write(db: Database, fmt: str, since: dt.date | None, out: TextIO) -> None:
    start = dt.datetime.combine(since, dt.time.min, tzinfo=dt.UTC) if since else None
    async with db.snapshot() as s:  # one transaction: a streamed read needs one
        entries = audit.export(s, start)
        if fmt == "csv":
            writer = csv.writer(out)  # quotes commas, quotes and newlines inside values
            writer.writerow(COLUMNS)
            async for entry in entries:
                writer.writerow(_csv_row(as_record(entry)))
        elif fmt == "json":
            out.write("[")
            first = True
            async for entry in entries:
                out.write("\n" if first else ",\n")
                out.write(json.dumps(as_record(entry), ensure_ascii=False))
                first = False
            out.write("\n]\n" if not first else "]\n")
        else:
            raise ValueError(f"unknown format {fmt!r}")
    out.flush()
