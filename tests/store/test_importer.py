from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from store.db import Database
from store.enums import Level, LicenseType, Origin, SnapshotSource, Status
from store.errors import InvalidInput
from store.importer import (
    CustomerRecord,
    ImportRejected,
    import_records,
    parse_csv,
    parse_file,
    parse_json,
)
from store.models import Customer, RiskSnapshot
from store.names import company_key

SAMPLE = Path(__file__).parent.parent / "data" / "console-export.csv"
HEADER = (
    "Company,License type,TrendAI Vision One status,Cyber Risk Index,Exposure,"
    "Security Configuration,Expiration date,Customer sign-in account"
)
NOW = dt.datetime(2026, 5, 1, 9, 30, tzinfo=dt.UTC)
LATER = dt.datetime(2026, 5, 2, 9, 30, tzinfo=dt.UTC)


def csv_text(*rows: str, header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def rejected(text: str) -> list[str]:
    with pytest.raises(ImportRejected) as info:
        parse_csv(text)
    return info.value.errors


def one(row: str) -> CustomerRecord:
    (record,) = parse_csv(csv_text(row))
    return record


# --- Parsing: the console's own export -------------------------------------------------------


def test_sample_console_export() -> None:
    records = parse_file(SAMPLE)
    assert len(records) == 12
    assert records.warnings == []
    acme = records[0]
    assert acme == CustomerRecord(
        company="Acme Corporation",
        license_type=LicenseType.ANNUAL,
        status=Status.ACTIVE,
        cri=72,
        exposure=Level.HIGH,
        security_configuration=Level.MEDIUM,
        expiration_date=dt.date(2026, 11, 30),
        sign_in_account="it-admin@acme.example.com",
        line=2,
    )
    by_name = {r.company: r for r in records}
    contoso = by_name["Contoso Health"]
    assert contoso.status is Status.NOT_PROVISIONED
    assert (contoso.cri, contoso.exposure, contoso.expiration_date) == (None, None, None)
    assert by_name["Initech Labs"].license_type is LicenseType.MONTHLY_NFR
    assert "Delta Dental Partners, LLC" in by_name
    assert [r.line for r in records] == list(range(2, 14))


def test_snake_case_headers() -> None:
    header = (
        "company,license_type,status,cyber_risk_index,exposure,security_configuration,"
        "expiration_date,sign_in_account"
    )
    record = parse_csv(
        csv_text("Acme,monthly,active,40,medium,low,2026-03-31,a@b.io", header=header)
    )[0]
    assert record.license_type is LicenseType.MONTHLY
    assert record.status is Status.ACTIVE
    assert (record.cri, record.exposure, record.security_configuration) == (
        40,
        Level.MEDIUM,
        Level.LOW,
    )


@pytest.mark.parametrize(
    "title", ["TrendAI Vision One™ status", "Vision One status", "  trendai  VISION one status "]
)
def test_status_header_spellings(title: str) -> None:
    (record,) = parse_csv(csv_text("Acme,View", header=f"Company,{title}"))
    assert record.status is Status.ACTIVE


def test_headers_are_case_insensitive_and_trimmed() -> None:
    (record,) = parse_csv(csv_text("Acme,annual", header=" COMPANY , license TYPE"))
    assert record.license_type is LicenseType.ANNUAL


def test_windows_line_endings() -> None:
    text = 'Company,License type\r\n"Acme\r\nHoldings",Annual\r\nBeta,Yearly\r\n'
    assert rejected(text) == [
        'line 3: License type "Yearly" is not one of Annual, Monthly, Monthly (NFR)'
    ]


def test_bom_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes("\ufeff".encode() + csv_text("Acme,Annual").encode())
    assert parse_file(path)[0].company == "Acme"


def test_semicolon_separated_file() -> None:
    (record,) = parse_csv("Company;License type\nAcme, Inc.;Annual\n")
    assert (record.company, record.license_type) == ("Acme, Inc.", LicenseType.ANNUAL)


def test_missing_company_column() -> None:
    (error,) = rejected(csv_text("Annual,View", header="License type,Vision One status"))
    assert error.startswith("line 1: no Company column; expected the console's headers")
    assert "Customer sign-in account" in error and "sign_in_account" in error


def test_unknown_columns_are_warnings() -> None:
    records = parse_csv(csv_text("Acme,x,y", header="Company,Notes,Owner"))
    assert len(records) == 1
    assert records.warnings == [
        'ignored column "Notes": not a Customer Overview column',
        'ignored column "Owner": not a Customer Overview column',
    ]


def test_duplicate_header_is_an_error() -> None:
    (error,) = rejected(csv_text("Acme,Acme", header="Company,company"))
    assert error == 'line 1: column "company" repeats "Company"'


def test_header_only_file_is_rejected() -> None:
    assert rejected(HEADER + "\n") == ["The file has no customer rows."]


# --- Parsing: values ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Annual", LicenseType.ANNUAL),
        ("monthly", LicenseType.MONTHLY),
        ("Monthly (NFR)", LicenseType.MONTHLY_NFR),
        ("NFR", LicenseType.MONTHLY_NFR),
        ("monthly_nfr", LicenseType.MONTHLY_NFR),
    ],
)
def test_license_values(text: str, expected: LicenseType) -> None:
    assert one(f"Acme,{text}").license_type is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Not provisioned", Status.NOT_PROVISIONED),
        ("Provision", Status.NOT_PROVISIONED),
        ("not_provisioned", Status.NOT_PROVISIONED),
        ("Provisioning", Status.PROVISIONING),
        ("FAILED", Status.FAILED),
        ("Active", Status.ACTIVE),
        ("View", Status.ACTIVE),
        ("Trial", Status.TRIAL),
        ("Expired", Status.EXPIRED),
        ("Disconnected", Status.DISCONNECTED),
    ],
)
def test_status_values(text: str, expected: Status) -> None:
    assert one(f"Acme,,{text}").status is expected


@pytest.mark.parametrize(("text", "expected"), [("Low", Level.LOW), ("high", Level.HIGH)])
def test_level_values(text: str, expected: Level) -> None:
    record = one(f"Acme,,,,{text},{text}")
    assert record.exposure is record.security_configuration is expected


def test_bad_choice_messages() -> None:
    (error,) = rejected(csv_text("Acme,Yearly,Dormant,,Severe"))
    assert error == (
        'line 2: License type "Yearly" is not one of Annual, Monthly, Monthly (NFR); '
        'TrendAI Vision One status "Dormant" is not one of Not provisioned, Provisioning, '
        "Failed, Active, Trial, Expired, Disconnected; "
        'Exposure "Severe" is not one of Low, Medium, High'
    )


@pytest.mark.parametrize("cri", ["0", "100", " 42 "])
def test_cri_accepted(cri: str) -> None:
    assert one(f"Acme,,,{cri}").cri == int(cri)


@pytest.mark.parametrize("cri", ["abc", "101", "-1", "50.5"])
def test_cri_rejected(cri: str) -> None:
    assert rejected(csv_text(f"Acme,,,{cri}")) == [
        f'line 2: Cyber Risk Index "{cri}" is not a whole number from 0 to 100'
    ]


@pytest.mark.parametrize(
    "text",
    [
        "2026-03-07",
        "2026/03/07",
        "03/07/2026",
        "3/7/2026",
        "Mar 7, 2026",
        "March 7, 2026",
        "7 Mar 2026",
        "7 March 2026",
    ],
)
def test_date_formats(text: str) -> None:
    assert one(f'Acme,,,,,,"{text}"').expiration_date == dt.date(2026, 3, 7)


def test_impossible_date_names_the_value() -> None:
    assert rejected(csv_text("Acme,,,,,,2026-02-30")) == [
        'line 2: Expiration date "2026-02-30" is not a real date'
    ]


def test_day_first_date_is_explained() -> None:
    (error,) = rejected(csv_text("Acme,,,,,,13/01/2026"))
    assert "(read as month/day/year)" in error


def test_unreadable_date() -> None:
    (error,) = rejected(csv_text("Acme,,,,,,next week"))
    assert error.startswith('line 2: Expiration date "next week" is not a date; use YYYY-MM-DD')


@pytest.mark.parametrize("email", ["a@b.io", "first.last+tag@mail.example.co.uk"])
def test_email_accepted(email: str) -> None:
    assert one(f"Acme,,,,,,,{email}").sign_in_account == email


@pytest.mark.parametrize(
    "email", ["nobody", "a@b", "a@@b.io", "a b@c.io", "@b.io", "a@b.", "a@.io"]
)
def test_email_rejected(email: str) -> None:
    assert rejected(csv_text(f"Acme,,,,,,,{email}")) == [
        f'line 2: Customer sign-in account "{email}" is not an email address'
    ]


def test_empty_cells_are_unknown() -> None:
    record = one("Acme,,,,,,,")
    assert record == CustomerRecord(company="Acme", line=2)


def test_short_row_is_padded_with_unknowns() -> None:
    assert one("Acme,Annual").expiration_date is None


def test_company_is_cleaned() -> None:
    assert one('"  Acme   Corp  ",Annual').company == "Acme Corp"


def test_company_rules() -> None:
    errors = rejected(csv_text(",Annual", "   ,Annual", "x" * 201))
    assert errors == [
        "line 2: Company is empty",
        "line 3: Company is empty",
        "line 4: Company is 201 characters long; the limit is 200",
    ]


def test_duplicate_company_names_the_earlier_line() -> None:
    errors = rejected(csv_text("Acme Corp,Annual", "Other,Annual", "ACME  corp,Monthly"))
    assert errors == ['line 4: company "ACME corp" is already on line 2']


def test_second_nfr_row() -> None:
    errors = rejected(csv_text("A,Monthly (NFR)", "B,Annual", "C,NFR"))
    assert errors == ["line 4: a partner has one NFR licence; line 2 already has it"]


def test_every_bad_row_is_listed() -> None:
    errors = rejected(
        csv_text("Good,Annual", "Bad1,Yearly", "Good2,Annual", ",,,abc", "Bad3,,,,,,,x@")
    )
    assert [e.split(":")[0] for e in errors] == ["line 3", "line 5", "line 6"]
    assert errors[1] == (
        'line 5: Company is empty; Cyber Risk Index "abc" is not a whole number from 0 to 100'
    )


def test_too_many_cells_is_an_error() -> None:
    (error,) = rejected(csv_text("Acme, Inc.,Annual", header="Company,License type"))
    assert error.startswith("line 2: 3 cells but the header has 2; a value containing a comma")


# --- Parsing: line numbers -------------------------------------------------------------------


def test_quoted_newline_does_not_shift_line_numbers() -> None:
    text = csv_text('"Acme\nHoldings",Annual', "Beta,Annual", "Gamma,Yearly")
    assert rejected(text) == [
        'line 4: License type "Yearly" is not one of Annual, Monthly, Monthly (NFR)'
    ]
    records = parse_csv(csv_text('"Acme\nHoldings",Annual', "Beta,Annual"))
    assert [(r.company, r.line) for r in records] == [("Acme Holdings", 2), ("Beta", 3)]


def test_empty_rows_count_but_are_skipped() -> None:
    text = csv_text("Acme,Annual", "", ",,,", "Beta,Yearly")
    assert rejected(text) == [
        'line 5: License type "Yearly" is not one of Annual, Monthly, Monthly (NFR)'
    ]
    assert [r.line for r in parse_csv(csv_text("Acme,Annual", "", "Beta,Annual"))] == [2, 4]


# --- Parsing: files and JSON -----------------------------------------------------------------


def test_json_list_and_wrapped_forms(tmp_path: Path) -> None:
    items = [
        {"Company": "Acme", "License type": "Annual", "Cyber Risk Index": 40},
        {"company": "Beta", "status": "View", "cyber_risk_index": None},
    ]
    for i, data in enumerate([items, {"customers": items}]):
        path = tmp_path / f"export{i}.json"
        path.write_text(json.dumps(data))
        records = parse_file(path)
        assert [(r.company, r.cri, r.line, r.unit) for r in records] == [
            ("Acme", 40, 1, "item"),
            ("Beta", None, 2, "item"),
        ]
        assert records[1].status is Status.ACTIVE


def test_json_errors_name_items() -> None:
    with pytest.raises(ImportRejected) as info:
        parse_json(
            json.dumps(
                [
                    {"Company": "Acme"},
                    {"Company": "Beta", "Cyber Risk Index": 50.5},
                    "Gamma",
                    {"Company": "acme"},
                    {"Company": "Delta", "Exposure": True},
                ]
            )
        )
    assert info.value.errors == [
        'item 2: Cyber Risk Index "50.5" is not a whole number from 0 to 100',
        "item 3: expected an object with the customer's fields",
        'item 4: company "acme" is already on item 1',
        "item 5: Exposure must be text or a number",
    ]


def test_json_unknown_fields_and_no_company() -> None:
    assert parse_json('[{"Company": "Acme", "notes": "x"}]').warnings == [
        'ignored field "notes": not a Customer Overview column'
    ]
    with pytest.raises(ImportRejected, match=r"^No Company field"):
        parse_json('[{"name": "Acme"}]')


def test_invalid_json() -> None:
    with pytest.raises(ImportRejected) as info:
        parse_json('[\n{"Company": "Acme",}\n]')
    assert info.value.errors[0].startswith("line 2: not valid JSON")
    with pytest.raises(ImportRejected, match=r"^Expected a list of customers"):
        parse_json('{"rows": []}')


def test_format_is_sniffed_without_a_known_extension(tmp_path: Path) -> None:
    as_json = tmp_path / "export.txt"
    as_json.write_text('  [{"Company": "Acme"}]')
    as_csv = tmp_path / "export"
    as_csv.write_text(csv_text("Acme,Annual"))
    assert parse_file(as_json)[0].unit == "item"
    assert parse_file(as_csv)[0].unit == "line"


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(csv_text("Acme,Annual", "Société Générale,Annual").encode("cp1252"))
    with pytest.raises(ImportRejected, match=r"^line 3: the file is not UTF-8 text"):
        parse_file(path)


def test_rejection_is_invalid_input() -> None:
    error = ImportRejected(["line 2: a", "line 3: b"])
    assert isinstance(error, InvalidInput)
    assert error.message == "line 2: a\nline 3: b"


# --- Writing ---------------------------------------------------------------------------------


def record(company: str, line: int = 2, **values: object) -> CustomerRecord:
    return CustomerRecord(company=company, line=line, **values)  # type: ignore[arg-type]


async def customers(db: Database) -> dict[str, Customer]:
    async with db.session() as s:
        return {c.company_key: c for c in (await s.scalars(select(Customer))).all()}


async def snapshots(db: Database) -> list[RiskSnapshot]:
    async with db.session() as s:
        return list((await s.scalars(select(RiskSnapshot).order_by(RiskSnapshot.id))).all())


async def add_customer(db: Database, company: str, **values: object) -> None:
    values.setdefault("origin", Origin.MANUAL)
    values.setdefault("status", Status.ACTIVE)
    async with db.transaction() as s:
        s.add(Customer(company=company, company_key=company_key(company), **values))


async def test_import_inserts_new_customers(db: Database) -> None:
    result = await import_records(db, parse_file(SAMPLE), now=NOW)
    assert (result.created, result.updated, result.unchanged) == (12, 0, 0)
    assert result.snapshots == 8  # the rows with any risk figure
    rows = await customers(db)
    assert len(rows) == 12
    acme = rows["acme corporation"]
    assert acme.company == "Acme Corporation"
    assert acme.origin is Origin.IMPORTED
    assert (acme.status, acme.cri, acme.exposure) == (Status.ACTIVE, 72, Level.HIGH)
    assert acme.expiration_date == dt.date(2026, 11, 30)
    assert (acme.version, acme.trial_extensions, acme.v1_connected) == (1, 0, False)
    assert acme.created_at == acme.updated_at == NOW
    assert rows["contoso health"].status is Status.NOT_PROVISIONED
    assert [c.company for c in rows.values() if c.is_nfr] == ["Initech Labs"]
    taken = await snapshots(db)
    assert {s.source for s in taken} == {SnapshotSource.IMPORT}
    assert {s.taken_at for s in taken} == {NOW}
    first = next(s for s in taken if s.customer_id == acme.id)
    assert (first.cri, first.exposure, first.security_configuration) == (
        72,
        Level.HIGH,
        Level.MEDIUM,
    )


async def test_empty_status_defaults_to_not_provisioned(db: Database) -> None:
    await import_records(db, [record("Acme")], now=NOW)
    assert (await customers(db))["acme"].status is Status.NOT_PROVISIONED
    assert await snapshots(db) == []  # no risk figure, no snapshot


async def test_reimport_unchanged_changes_nothing(db: Database) -> None:
    await import_records(db, parse_file(SAMPLE), now=NOW)
    result = await import_records(db, parse_file(SAMPLE), now=LATER)
    assert (result.created, result.updated, result.unchanged, result.snapshots) == (0, 0, 12, 0)
    rows = await customers(db)
    assert {c.version for c in rows.values()} == {1}
    assert {c.updated_at for c in rows.values()} == {NOW}
    assert len(await snapshots(db)) == 8


async def test_upsert_updates_every_column(db: Database) -> None:
    await add_customer(
        db,
        "Acme Corp",
        license_type=LicenseType.ANNUAL,
        status=Status.TRIAL,
        cri=40,
        exposure=Level.MEDIUM,
        expiration_date=dt.date(2026, 1, 1),
        sign_in_account="old@acme.io",
        data_center=None,
    )
    result = await import_records(
        db,
        [record("ACME CORP", license_type=LicenseType.MONTHLY, cri=40, exposure=Level.MEDIUM)],
        now=LATER,
    )
    assert (result.created, result.updated, result.snapshots) == (0, 1, 0)
    acme = (await customers(db))["acme corp"]
    assert acme.company == "ACME CORP"  # the file's spelling
    assert acme.origin is Origin.MANUAL  # kept
    assert acme.license_type is LicenseType.MONTHLY
    assert acme.status is Status.TRIAL  # empty status keeps the current one
    assert (acme.expiration_date, acme.sign_in_account) == (None, None)  # empty cells clear
    assert (acme.version, acme.updated_at) == (2, LATER)


async def test_snapshot_only_when_risk_changes(db: Database) -> None:
    await add_customer(db, "Acme", cri=40, exposure=Level.LOW, security_configuration=Level.LOW)
    await add_customer(db, "Beta", cri=10, exposure=Level.LOW, security_configuration=Level.LOW)
    same_risk = dict(cri=40, exposure=Level.LOW, security_configuration=Level.LOW)
    result = await import_records(
        db,
        [
            record("Acme", 2, status=Status.EXPIRED, **same_risk),
            record("Beta", 3, cri=75, exposure=Level.LOW, security_configuration=Level.HIGH),
        ],
        now=LATER,
    )
    assert (result.updated, result.snapshots) == (2, 1)
    (taken,) = await snapshots(db)
    beta = (await customers(db))["beta"]
    assert taken.customer_id == beta.id
    assert (taken.cri, taken.security_configuration, taken.taken_at) == (75, Level.HIGH, LATER)
    assert taken.source is SnapshotSource.IMPORT


async def test_progress_is_reported_per_chunk(db: Database) -> None:
    calls: list[tuple[int, int]] = []
    records = [record(f"Customer {i}", i + 2) for i in range(2500)]
    await import_records(db, records, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1000, 2500), (2000, 2500), (2500, 2500)]


async def test_failure_late_in_the_file_writes_nothing(db: Database) -> None:
    # A CRI the parser would refuse, slipped in to make the database fail in the third chunk.
    records = [record(f"Customer {i}", i + 2, cri=50) for i in range(2500)]
    records[2400] = record("Broken", 2402, cri=150)
    with pytest.raises(IntegrityError):
        await import_records(db, records)
    async with db.session() as s:
        assert await s.scalar(select(func.count()).select_from(Customer)) == 0
        assert await s.scalar(select(func.count()).select_from(RiskSnapshot)) == 0


async def test_nfr_conflict_rejects_the_whole_import(db: Database) -> None:
    await add_customer(db, "Partner Demo", license_type=LicenseType.MONTHLY_NFR, is_nfr=True)
    with pytest.raises(ImportRejected) as info:
        await import_records(db, parse_file(SAMPLE))
    assert info.value.errors == [
        'line 10: "Initech Labs" is Monthly (NFR), but "Partner Demo" already holds the NFR '
        "licence; a partner has one and it cannot be reassigned"
    ]
    assert list(await customers(db)) == ["partner demo"]


async def test_nfr_holder_may_keep_or_lose_it(db: Database) -> None:
    await add_customer(db, "Initech Labs", license_type=LicenseType.MONTHLY_NFR, is_nfr=True)
    nfr = LicenseType.MONTHLY_NFR
    result = await import_records(db, [record("initech labs", license_type=nfr, cri=1)])
    assert result.updated == 1
    assert (await customers(db))["initech labs"].is_nfr
    await import_records(db, [record("Initech Labs", license_type=LicenseType.MONTHLY)])
    assert not (await customers(db))["initech labs"].is_nfr
    # Now free, the licence can go to another customer.
    await import_records(db, [record("Acme", license_type=nfr)])
    assert [c.company for c in (await customers(db)).values() if c.is_nfr] == ["Acme"]
