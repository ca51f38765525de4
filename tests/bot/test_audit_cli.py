"""`overview-bot audit export` as a real process: CSV and JSON read back, `--since` filters."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

from bot.audit_cli import COLUMNS
from store import audit
from store.access import CLI
from store.actor import Actor
from store.db import Database
from store.enums import Action, Role
from store.models import Customer
from tests.bot.test_cli import run
from tests.factories import add, customer

TRICKY = 'Acme, "Quoted"\nand Sons'  # comma, quotes and a newline: the CSV must survive them
OPS = Actor("U0OPS", Role.OPERATOR, name="ops")


async def seed(db: Database) -> int:
    """Three entries on three days: a role grant, a customer change, a channel allowed."""
    [cid] = await add(db, customer(TRICKY))
    async with db.transaction() as s:
        await audit.record(
            s,
            CLI,
            Action.GRANT_ROLE,
            before={"user": "U0OPS", "role": None},
            after={"user": "U0OPS", "role": "operator"},
            at=dt.datetime(2026, 11, 30, 23, 59, 59, tzinfo=dt.UTC),
        )
    async with db.transaction() as s:
        c = await s.get(Customer, cid)
        await audit.record(
            s,
            OPS,
            Action.EXTEND_TRIAL,
            customer=c,
            before={"expiration_date": "2027-01-01", "trial_extensions": 0},
            after={"expiration_date": "2027-01-31", "trial_extensions": 1},
            approval_id=4,
            detail='by 30 days, "as agreed"',
            at=dt.datetime(2026, 12, 1, 0, 0, tzinfo=dt.UTC),
        )
    async with db.transaction() as s:
        await audit.record(
            s,
            audit.SYSTEM,
            Action.ALLOW_CHANNEL,
            detail="C0OPS",
            at=dt.datetime(2026, 12, 2, 8, 30, tzinfo=dt.UTC),
        )
    return cid


async def test_csv_export_reads_back_oldest_first(
    db: Database, db_url: str, tmp_path: Path
) -> None:
    cid = await seed(db)
    out = run("audit", "export", "--format", "csv", env={"DATABASE_URL": db_url}, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    rows = list(csv.DictReader(io.StringIO(out.stdout, newline="")))
    assert list(rows[0]) == list(COLUMNS)
    assert [r["action"] for r in rows] == ["grant_role", "extend_trial", "allow_channel"]
    grant, extend, channel = rows
    assert grant["at"] == "2026-11-30T23:59:59+00:00"
    assert (grant["actor_id"], grant["actor_name"]) == ("cli", "overview-bot CLI")
    assert json.loads(grant["after"]) == {"user": "U0OPS", "role": "operator"}
    assert grant["customer_id"] == grant["company"] == grant["approval_id"] == ""
    assert extend["company"] == TRICKY and extend["customer_id"] == str(cid)
    assert extend["detail"] == 'by 30 days, "as agreed"' and extend["approval_id"] == "4"
    assert json.loads(extend["before"]) == {"expiration_date": "2027-01-01", "trial_extensions": 0}
    assert (channel["actor_id"], channel["detail"], channel["before"]) == ("system", "C0OPS", "")
    assert [int(r["id"]) for r in rows] == sorted(int(r["id"]) for r in rows)


async def test_json_export_is_one_array(db: Database, db_url: str, tmp_path: Path) -> None:
    cid = await seed(db)
    out = run("audit", "export", "--format", "json", env={"DATABASE_URL": db_url}, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    entries = json.loads(out.stdout)
    assert [e["action"] for e in entries] == ["grant_role", "extend_trial", "allow_channel"]
    extend = entries[1]
    assert extend == {
        "id": extend["id"],
        "at": "2026-12-01T00:00:00+00:00",
        "actor_id": "U0OPS",
        "actor_name": "ops",
        "action": "extend_trial",
        "customer_id": cid,
        "company": TRICKY,
        "before": {"expiration_date": "2027-01-01", "trial_extensions": 0},
        "after": {"expiration_date": "2027-01-31", "trial_extensions": 1},
        "approval_id": 4,
        "detail": 'by 30 days, "as agreed"',
    }
    assert entries[0]["customer_id"] is None and entries[2]["before"] is None


async def test_since_starts_at_midnight_utc(db: Database, db_url: str, tmp_path: Path) -> None:
    await seed(db)
    env = {"DATABASE_URL": db_url}
    since = ("--since", "2026-12-01")
    out = run("audit", "export", "--format", "json", *since, env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert [e["action"] for e in json.loads(out.stdout)] == ["extend_trial", "allow_channel"]
    out = run("audit", "export", *since, env=env, cwd=tmp_path)  # csv is the default
    assert [r["action"] for r in csv.DictReader(io.StringIO(out.stdout))] == [
        "extend_trial",
        "allow_channel",
    ]
    later = run(
        "audit", "export", "--format", "json", "--since", "2027-01-01", env=env, cwd=tmp_path
    )
    assert later.returncode == 0 and json.loads(later.stdout) == []
    header_only = run("audit", "export", "--since", "2027-01-01", env=env, cwd=tmp_path)
    assert header_only.stdout.splitlines() == [",".join(COLUMNS)]


def test_a_bad_since_is_a_clear_usage_error(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/x.db"}
    out = run("audit", "export", "--since", "01/12/2026", env=env, cwd=tmp_path)
    assert out.returncode == 2
    assert "'01/12/2026' is not a date like 2026-12-01" in out.stderr
    assert "Traceback" not in out.stderr
    assert not (tmp_path / "x.db").exists()  # refused before touching the database
