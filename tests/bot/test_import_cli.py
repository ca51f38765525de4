from __future__ import annotations

import csv
import io
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.import_cli import run_import
from store.db import Database
from store.enums import LicenseType, Origin, Status
from store.models import Customer
from store.names import company_key

SAMPLE = Path(__file__).parent.parent / "data" / "console-export.csv"
HEADER = [
    "Company",
    "License type",
    "TrendAI Vision One status",
    "Cyber Risk Index",
    "Exposure",
    "Security Configuration",
    "Expiration date",
    "Customer sign-in account",
]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
async def unused_db(tmp_path: Path) -> AsyncIterator[Database]:
    """For runs that must fail before touching the database."""
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'never.db'}")
    yield database
    await database.close()


async def run(db: Database, path: Path, err: io.StringIO | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), err or io.StringIO()
    code = await run_import(db, path, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


async def count(db: Database) -> int:
    async with db.session() as s:
        return await s.scalar(select(func.count()).select_from(Customer)) or 0


def write_rows(path: Path, n: int) -> Path:
    levels = ["Low", "Medium", "High", ""]
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        for i in range(n):
            writer.writerow(
                [
                    f"Customer {i:05d}",
                    ("Annual", "Monthly")[i % 2],
                    ("View", "Provision", "Trial", "")[i % 4],
                    i % 101,
                    levels[i % 4],
                    levels[(i + 1) % 4],
                    f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}",
                    f"admin{i}@customer{i}.example.com",
                ]
            )
    return path


async def test_missing_file(unused_db: Database, tmp_path: Path) -> None:
    code, out, err = await run(unused_db, tmp_path / "nope.csv")
    assert code == 2
    assert out == ""
    assert err == f"Cannot read {tmp_path / 'nope.csv'}: No such file or directory\n"


async def test_directory_is_not_a_file(unused_db: Database, tmp_path: Path) -> None:
    code, _, err = await run(unused_db, tmp_path)
    assert code == 2
    assert err.startswith(f"Cannot read {tmp_path}: ")
    assert err.count("\n") == 1


async def test_rejected_file_lists_bad_rows(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("Company,License type,Cyber Risk Index\nAcme,Yearly,1\nBeta,Annual,2\n,,abc\n")
    code, out, err = await run(db, path)
    assert code == 1
    assert out == ""
    assert err.splitlines() == [
        "Import rejected: 2 bad rows; nothing was written.",
        'line 2: License type "Yearly" is not one of Annual, Monthly, Monthly (NFR)',
        'line 4: Company is empty; Cyber Risk Index "abc" is not a whole number from 0 to 100',
    ]
    assert await count(db) == 0


async def test_file_level_rejection_has_no_row_count(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text(",".join(HEADER) + "\n")
    code, _, err = await run(db, path)
    assert (code, err) == (
        1,
        "Import rejected; nothing was written.\nThe file has no customer rows.\n",
    )


async def test_sample_imports_with_summary_and_warnings(db: Database, tmp_path: Path) -> None:
    code, out, err = await run(db, SAMPLE)
    assert (code, out, err) == (
        0,
        "Imported 12 customers: 12 new, 0 updated, 0 unchanged.\n",
        "",
    )
    path = tmp_path / "notes.csv"
    path.write_text("Company,Notes\nAcme Corporation,call back\nNew One,\n")
    code, out, err = await run(db, path)
    assert code == 0
    assert out == "Imported 2 customers: 1 new, 1 updated, 0 unchanged.\n"
    assert err == 'Warning: ignored column "Notes": not a Customer Overview column\n'
    assert await count(db) == 13


async def test_nfr_conflict_is_rejected(db: Database) -> None:
    async with db.transaction() as s:
        s.add(
            Customer(
                company="Partner Demo",
                company_key=company_key("Partner Demo"),
                origin=Origin.MANUAL,
                status=Status.ACTIVE,
                license_type=LicenseType.MONTHLY_NFR,
                is_nfr=True,
            )
        )
    code, out, err = await run(db, SAMPLE)
    assert (code, out) == (1, "")
    lines = err.splitlines()
    assert lines[0] == "Import rejected: 1 bad row; nothing was written."
    assert lines[1].startswith('line 10: "Initech Labs" is Monthly (NFR), but "Partner Demo"')
    assert await count(db) == 1


async def test_ten_thousand_rows(db: Database, tmp_path: Path) -> None:
    path = write_rows(tmp_path / "big.csv", 10_000)
    started = time.perf_counter()
    code, out, err = await run(db, path)
    elapsed = time.perf_counter() - started
    print(f"10,000 rows on {db.engine.dialect.name}: {elapsed:.2f} s")
    assert code == 0, err
    assert out == "Imported 10,000 customers: 10,000 new, 0 updated, 0 unchanged.\n"
    assert err.splitlines() == ["Validated 10,000 rows"] + [
        f"Writing… {n:,}/10,000" for n in range(1000, 10_001, 1000)
    ]
    assert await count(db) == 10_000
    assert elapsed < 20  # a sanity bound only; the target is a few seconds


async def test_progress_rewrites_one_line_on_a_terminal(db: Database, tmp_path: Path) -> None:
    path = write_rows(tmp_path / "big.csv", 2_000)
    code, _, err = await run(db, path, err=Terminal())
    assert code == 0
    assert err == "Validated 2,000 rows\n\rWriting… 1,000/2,000\rWriting… 2,000/2,000\n"


async def test_small_files_show_no_progress(db: Database, tmp_path: Path) -> None:
    code, _, err = await run(db, write_rows(tmp_path / "small.csv", 1_999))
    assert (code, err) == (0, "")
