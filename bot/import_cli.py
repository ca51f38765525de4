"""`overview-bot import FILE`: read a console export and write it, reporting to a terminal."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TextIO

from store.db import Database
from store.importer import ImportRejected, ImportResult, import_records, parse_file

PROGRESS_FROM = 2000  # rows; smaller files finish before progress would help


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def summary(result: ImportResult) -> str:
    return (
        f"Imported {_plural(result.total, 'customer')}: {result.created:,} new, "
        f"{result.updated:,} updated, {result.unchanged:,} unchanged."
    )


class _Progress:
    """On a terminal, one line rewritten in place; elsewhere (logs), a line per step."""

    def __init__(self, err: TextIO) -> None:
        self.err = err
        self.tty = err.isatty()
        self.open = False  # a rewritten line still needs its newline

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.open:
            self.err.write("\n")
            self.open = False

    def writing(self, done: int, total: int) -> None:
        text = f"Writing… {done:,}/{total:,}"
        if self.tty:
            self.err.write(f"\r{text}")
            self.open = True
        else:
            self.err.write(f"{text}\n")
        self.err.flush()


def _rejected(e: ImportRejected, err: TextIO) -> int:
    rows = sum(1 for line in e.errors if line.startswith(("line ", "item ")))
    count = f": {_plural(rows, 'bad row')}" if rows else ""
    print(f"Import rejected{count}; nothing was written.", file=err)
    for line in e.errors:
        print(line, file=err)
    return 1


async def run_import(db: Database, path: Path, *, out: TextIO, err: TextIO) -> int:
    """Exit code: 0 imported, 1 rejected (nothing written), 2 the file cannot be read."""
    try:
        records = await asyncio.to_thread(parse_file, path)
    except ImportRejected as e:
        return _rejected(e, err)
    except OSError as e:
        print(f"Cannot read {path}: {e.strerror or e}", file=err)
        return 2
    for warning in records.warnings:
        print(f"Warning: {warning}", file=err)
    big = len(records) >= PROGRESS_FROM
    if big:
        print(f"Validated {len(records):,} rows", file=err, flush=True)
    try:
        with _Progress(err) as meter:
            result = await import_records(db, records, progress=meter.writing if big else None)
    except ImportRejected as e:
        return _rejected(e, err)
    print(summary(result), file=out)
    return 0
