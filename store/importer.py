"""The customer import: a console export (CSV or JSON) read, checked, then written at once.

Parsing is pure and reports every bad row; writing is one all-or-nothing transaction.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.db import Database
from store.enums import Level, LicenseType, Origin, SnapshotSource, Status
from store.errors import InvalidInput
from store.models import Customer, RiskSnapshot, utcnow
from store.names import clean_company, company_key

MAX_COMPANY = 200
MAX_EMAIL = 320
CHUNK = 1000


class ImportRejected(InvalidInput):
    """The file cannot be imported; `errors` has one line per bad row."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = list(errors)


@dataclass(frozen=True, slots=True)
class CustomerRecord:
    company: str
    license_type: LicenseType | None = None
    status: Status | None = None
    cri: int | None = None
    exposure: Level | None = None
    security_configuration: Level | None = None
    expiration_date: dt.date | None = None
    sign_in_account: str | None = None
    line: int = 0
    unit: str = "line"  # "item" for JSON

    @property
    def where(self) -> str:
        return f"{self.unit} {self.line}"


class ParsedFile(list[CustomerRecord]):
    """The file's records, plus warnings about what was ignored."""

    def __init__(self, records: Iterable[CustomerRecord] = (), warnings: Iterable[str] = ()):
        super().__init__(records)
        self.warnings = list(warnings)


# --- Headers -------------------------------------------------------------------------------

# Console titles (used in messages) and the header spellings accepted for each field.
TITLES = {
    "company": "Company",
    "license_type": "License type",
    "status": "TrendAI Vision One status",
    "cri": "Cyber Risk Index",
    "exposure": "Exposure",
    "security_configuration": "Security Configuration",
    "expiration_date": "Expiration date",
    "sign_in_account": "Customer sign-in account",
}
_SNAKE = {"cri": "cyber_risk_index"}
_EXTRA_ALIASES = {"licence type": "license_type", "vision one status": "status"}


def _header_key(title: str) -> str:
    return " ".join(title.replace("\ufeff", "").replace("™", "").split()).casefold()


_HEADERS: dict[str, str] = (
    {_header_key(t): f for f, t in TITLES.items()}
    | {_SNAKE.get(f, f): f for f in TITLES}
    | _EXTRA_ALIASES
)
_EXPECTED = (
    "expected the console's headers ("
    + ", ".join(TITLES.values())
    + ") or snake_case ("
    + ", ".join(_SNAKE.get(f, f) for f in TITLES)
    + ")"
)


# --- Values --------------------------------------------------------------------------------


class _Bad(ValueError):
    """One problem with one cell; the text follows the row's "line N: "."""


def _word(value: str) -> str:
    return re.sub(r"[\s_]+", "", value.casefold())


_LICENSES = (
    {_word(t.label): t for t in LicenseType}
    | {_word(t.value): t for t in LicenseType}
    | {"nfr": LicenseType.MONTHLY_NFR}
)
_STATUSES = {_word(s.value): s for s in Status} | {
    "provision": Status.NOT_PROVISIONED,
    "view": Status.ACTIVE,
    "retry": Status.FAILED,  # the console shows Retry on a failed provisioning
}
_LEVELS = {level.value: level for level in Level}

_MONTH_NAMES = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]
_MONTHS = (
    {m: i for i, m in enumerate(_MONTH_NAMES, 1)}
    | {m[:3]: i for i, m in enumerate(_MONTH_NAMES, 1)}
    | {"sept": 9}
)
_YMD = re.compile(r"(\d{4})([-/])(\d{1,2})\2(\d{1,2})", re.ASCII)
_MDY = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})", re.ASCII)
_MON_D_Y = re.compile(r"([a-z]+)\.?\s+(\d{1,2}),?\s+(\d{4})", re.ASCII)
_D_MON_Y = re.compile(r"(\d{1,2})\s+([a-z]+)\.?,?\s+(\d{4})", re.ASCII)
_DIGITS = re.compile(r"[0-9]+")


def _show(value: str) -> str:
    return f'"{value if len(value) <= 60 else value[:57] + "..."}"'


def _choice(table: Mapping[str, Any], labels: Iterable[str]) -> Callable[[str, str], Any]:
    options = ", ".join(labels)

    def convert(value: str, name: str) -> Any:
        found = table.get(_word(value))
        if found is None:
            raise _Bad(f"{name} {_show(value)} is not one of {options}")
        return found

    return convert


def _cri(value: str, name: str) -> int:
    if not _DIGITS.fullmatch(value) or int(value) > 100:
        raise _Bad(f"{name} {_show(value)} is not a whole number from 0 to 100")
    return int(value)


def _date(value: str, name: str) -> dt.date:
    text = value.casefold()
    parts: tuple[int, int, int] | None = None
    if m := _YMD.fullmatch(text):
        parts = int(m[1]), int(m[3]), int(m[4])
    elif m := _MDY.fullmatch(text):
        parts = int(m[3]), int(m[1]), int(m[2])
    elif (m := _MON_D_Y.fullmatch(text)) and m[1] in _MONTHS:
        parts = int(m[3]), _MONTHS[m[1]], int(m[2])
    elif (m := _D_MON_Y.fullmatch(text)) and m[2] in _MONTHS:
        parts = int(m[3]), _MONTHS[m[2]], int(m[1])
    if parts is None:
        raise _Bad(f"{name} {_show(value)} is not a date; use YYYY-MM-DD, e.g. 2026-03-31")
    try:
        return dt.date(*parts)
    except ValueError:
        hint = " (read as month/day/year)" if _MDY.fullmatch(text) else ""
        raise _Bad(f"{name} {_show(value)} is not a real date{hint}") from None


def _email(value: str, name: str) -> str:
    local, _, domain = value.partition("@")
    labels = domain.split(".")
    if (
        value.count("@") != 1
        or not local
        or any(c.isspace() for c in value)
        or len(labels) < 2
        or not all(labels)
        or len(value) > MAX_EMAIL
    ):
        raise _Bad(f"{name} {_show(value)} is not an email address")
    return value


def _company(value: str, name: str) -> str:
    company = clean_company(value)
    # The key is stored too, and case folding can lengthen it ("ß" -> "ss").
    if max(len(company), len(company_key(company))) > MAX_COMPANY:
        raise _Bad(f"{name} is {len(company)} characters long; the limit is {MAX_COMPANY}")
    return company


_CONVERT: dict[str, Callable[[str, str], Any]] = {
    "company": _company,
    "license_type": _choice(_LICENSES, (t.label for t in LicenseType)),
    "status": _choice(_STATUSES, (s.label for s in Status)),
    "cri": _cri,
    "exposure": _choice(_LEVELS, (level.label for level in Level)),
    "security_configuration": _choice(_LEVELS, (level.label for level in Level)),
    "expiration_date": _date,
    "sign_in_account": _email,
}


def _text(value: Any, name: str) -> str | None:
    """A cell as trimmed text; None when empty. JSON may give numbers."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _Bad(f"{name} must be text or a number")
    text = str(value).strip()
    return text or None


# --- Rows ----------------------------------------------------------------------------------


class _Checker:
    """Turns raw rows into records, collecting every problem, row by row."""

    def __init__(self) -> None:
        self.records: list[CustomerRecord] = []
        self.errors: list[str] = []
        self._seen: dict[str, str] = {}  # company key -> where it first appeared
        self._nfr: str | None = None

    def row(
        self,
        cells: Mapping[str, Any],
        names: Mapping[str, str],
        line: int,
        unit: str,
        problems: list[str] | None = None,
    ) -> None:
        """`cells` maps field -> raw value; `names` maps field -> header as the file has it."""
        where = f"{unit} {line}"
        values: dict[str, Any] = {}
        problems = list(problems or ())
        for field, raw in cells.items():
            name = names.get(field, TITLES[field])
            try:
                text = _text(raw, name)
                values[field] = None if text is None else _CONVERT[field](text, name)
            except _Bad as e:
                problems.append(str(e))
        company = values.get("company")
        company_failed = "company" in cells and "company" not in values
        if not company and not company_failed:
            problems.insert(0, f"{names.get('company', TITLES['company'])} is empty")
        if company:
            key = company_key(company)
            if key in self._seen:
                problems.append(f"company {_show(company)} is already on {self._seen[key]}")
            else:
                self._seen[key] = where
        if values.get("license_type") is LicenseType.MONTHLY_NFR:
            if self._nfr is not None:
                problems.append(f"a partner has one NFR licence; {self._nfr} already has it")
            else:
                self._nfr = where
        if problems:
            self.errors.append(f"{where}: " + "; ".join(problems))
        elif not self.errors:  # once rejected, records are not needed
            self.records.append(CustomerRecord(**values, line=line, unit=unit))

    def result(self, warnings: list[str]) -> ParsedFile:
        if not self.errors and not self.records:
            self.errors.append("The file has no customer rows.")
        if self.errors:
            raise ImportRejected(self.errors)
        return ParsedFile(self.records, warnings)


# --- Files ---------------------------------------------------------------------------------


def parse_file(path: Path) -> ParsedFile:
    """Read and check a console export; raises ImportRejected listing every bad row."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise ImportRejected(
            [f"line {line}: the file is not UTF-8 text; save it as “CSV UTF-8” and try again"]
        ) from None
    suffix = path.suffix.casefold()
    is_json = suffix == ".json" or (suffix != ".csv" and text.lstrip()[:1] in ("[", "{"))
    return parse_json(text) if is_json else parse_csv(text)


def _columns(titles: list[str], unit: str) -> tuple[dict[str, int], dict[str, str], list[str]]:
    """Where each field is: (field -> position, field -> title as written, problems)."""
    fields: dict[str, int] = {}
    names: dict[str, str] = {}
    problems: list[str] = []
    for i, raw in enumerate(titles):
        title = " ".join(raw.replace("\ufeff", "").split())
        field = _HEADERS.get(_header_key(title))
        if field is None:
            continue
        if field in names:
            problems.append(f"{unit} {_show(title)} repeats {_show(names[field])}")
        else:
            fields[field] = i
            names[field] = title
    return fields, names, problems


def _ignored(titles: Iterable[str], unit: str) -> list[str]:
    return [
        f"ignored {unit} {_show(t.strip())}: not a Customer Overview column"
        for t in dict.fromkeys(titles)
        if t.strip() and _HEADERS.get(_header_key(t)) is None
    ]


_DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab"}


def parse_csv(text: str) -> ParsedFile:
    first_line = text.split("\n", 1)[0]
    delimiter = max(_DELIMITERS, key=first_line.count)  # Excel in some locales writes ";"
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = next(reader, [])
    fields, names, problems = _columns(header, "column")
    if "company" not in fields:
        problems.insert(0, f"no Company column; {_EXPECTED}")
    if problems:
        raise ImportRejected(["line 1: " + "; ".join(problems)])
    width = len(header)
    checker = _Checker()
    try:
        # Records, not physical lines: a quoted cell with a newline is still one row.
        for line, cells in enumerate(reader, start=2):
            if not any(c.strip() for c in cells):
                continue
            extra = []
            if any(c.strip() for c in cells[width:]):
                extra.append(
                    f"{len(cells)} cells but the header has {width}; "
                    f"a value containing a {_DELIMITERS[delimiter]} must be in quotes"
                )
            row = {f: cells[i] if i < len(cells) else None for f, i in fields.items()}
            checker.row(row, names, line, "line", extra)
    except csv.Error as e:
        checker.errors.append(f"line {reader.line_num}: cannot read the CSV ({e})")
    return checker.result(_ignored(header, "column"))


def parse_json(text: str) -> ParsedFile:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ImportRejected([f"line {e.lineno}: not valid JSON ({e.msg})"]) from None
    if isinstance(data, dict) and isinstance(data.get("customers"), list):
        data = data["customers"]
    if not isinstance(data, list):
        raise ImportRejected(['Expected a list of customers, or {"customers": [...]}.'])
    items = [item for item in data if isinstance(item, dict)]
    keys = [k for item in items for k in item]
    if items and not any(_HEADERS.get(_header_key(k)) == "company" for k in keys):
        raise ImportRejected([f"No Company field; {_EXPECTED}."])
    checker = _Checker()
    for n, item in enumerate(data, start=1):
        if not isinstance(item, dict):
            checker.errors.append(f"item {n}: expected an object with the customer's fields")
            continue
        item_keys = list(item)
        fields, names, problems = _columns(item_keys, "field")
        cells = {field: item[item_keys[i]] for field, i in fields.items()}
        checker.row(cells, names, n, "item", problems)
    return checker.result(_ignored(keys, "field"))


# --- Writing -------------------------------------------------------------------------------


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    snapshots: int = 0

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


_CURRENT = (
    Customer.id,
    Customer.company_key,
    Customer.company,
    Customer.license_type,
    Customer.status,
    Customer.cri,
    Customer.exposure,
    Customer.security_configuration,
    Customer.expiration_date,
    Customer.sign_in_account,
    Customer.is_nfr,
    Customer.version,
)
_DATA = (
    "company",
    "license_type",
    "status",
    "cri",
    "exposure",
    "security_configuration",
    "expiration_date",
    "sign_in_account",
    "is_nfr",
)
_RISK = ("cri", "exposure", "security_configuration")
# The ORM drops None values from INSERT rows by default, splitting one batch into many
# (by which columns are None); rendering NULLs keeps it a single executemany.
_ALL_ROWS_ALIKE: dict[str, Any] = {"execution_options": {"render_nulls": True}}


def _values(rec: CustomerRecord, status: Status) -> dict[str, Any]:
    """The columns a row sets; `status` stands in when the row leaves it empty."""
    return {
        "company": rec.company,
        "license_type": rec.license_type,
        "status": rec.status or status,
        "cri": rec.cri,
        "exposure": rec.exposure,
        "security_configuration": rec.security_configuration,
        "expiration_date": rec.expiration_date,
        "sign_in_account": rec.sign_in_account,
        "is_nfr": rec.license_type is LicenseType.MONTHLY_NFR,
    }


def _snapshot(customer_id: int, values: Mapping[str, Any], now: dt.datetime) -> dict[str, Any]:
    risk = {k: values[k] for k in _RISK}
    return {"customer_id": customer_id, "taken_at": now, "source": SnapshotSource.IMPORT, **risk}


def _chunks(records: list[CustomerRecord]) -> Iterator[list[CustomerRecord]]:
    for start in range(0, len(records), CHUNK):
        yield records[start : start + CHUNK]


async def import_records(
    db: Database,
    records: list[CustomerRecord],
    *,
    progress: Callable[[int, int], None] | None = None,
    now: dt.datetime | None = None,
) -> ImportResult:
    """Upsert the records by company; all of them or, on any error, none."""
    now = now or utcnow()
    result = ImportResult()
    async with db.transaction() as s:
        await _check_nfr(s, records)
        done = 0
        for chunk in _chunks(records):
            await _write_chunk(s, chunk, now, result)
            done += len(chunk)
            if progress is not None:
                progress(done, len(records))
    return result


async def _check_nfr(s: AsyncSession, records: list[CustomerRecord]) -> None:
    """The NFR licence cannot be reassigned: a file giving it elsewhere is rejected."""
    wanted = next((r for r in records if r.license_type is LicenseType.MONTHLY_NFR), None)
    if wanted is None:
        return
    holder = (
        await s.execute(
            select(Customer.company, Customer.company_key)
            .where(Customer.is_nfr.is_(True))
            .with_for_update()
        )
    ).first()
    if holder is not None and holder.company_key != company_key(wanted.company):
        raise ImportRejected(
            [
                f"{wanted.where}: {_show(wanted.company)} is Monthly (NFR), but "
                f"{_show(holder.company)} already holds the NFR licence; "
                "a partner has one and it cannot be reassigned"
            ]
        )


async def _write_chunk(
    s: AsyncSession, chunk: list[CustomerRecord], now: dt.datetime, result: ImportResult
) -> None:
    keys = [company_key(r.company) for r in chunk]
    # FOR UPDATE (PostgreSQL only) keeps a concurrent edit from being overwritten unseen.
    rows = await s.execute(
        select(*_CURRENT).where(Customer.company_key.in_(keys)).with_for_update()
    )
    current = {row.company_key: row for row in rows}
    new: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    snapshots: list[dict[str, Any]] = []
    new_risk: dict[str, dict[str, Any]] = {}
    for rec, key in zip(chunk, keys, strict=True):
        row = current.get(key)
        if row is None:
            values = _values(rec, Status.NOT_PROVISIONED)
            new.append(
                {
                    **values,
                    "company_key": key,
                    "origin": Origin.IMPORTED,
                    "version": 1,
                    "trial_extensions": 0,
                    "v1_connected": False,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            if any(values[k] is not None for k in _RISK):
                new_risk[key] = values
            continue
        values = _values(rec, row.status)
        if all(getattr(row, k) == values[k] for k in _DATA):
            result.unchanged += 1
            continue
        changed.append({"id": row.id, **values, "version": row.version + 1, "updated_at": now})
        if any(getattr(row, k) != values[k] for k in _RISK):
            snapshots.append(_snapshot(row.id, values, now))
    if changed:
        # Updates first: a customer losing NFR must free the one-NFR index before another gains it.
        await s.execute(update(Customer), changed)
    if new:
        inserted = await s.execute(
            insert(Customer).returning(Customer.id, Customer.company_key), new, **_ALL_ROWS_ALIKE
        )
        for customer_id, key in inserted:
            if key in new_risk:
                snapshots.append(_snapshot(customer_id, new_risk[key], now))
    if snapshots:
        await s.execute(insert(RiskSnapshot), snapshots, **_ALL_ROWS_ALIKE)
    result.created += len(new)
    result.updated += len(changed)
    result.snapshots += len(snapshots)
