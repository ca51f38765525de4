from __future__ import annotations

import pytest

from store.enums import Level, LicenseType, Status
from store.errors import InvalidInput
from store.filters import CustomerFilter, Sort, parse_filter


def test_empty_is_everything_by_company() -> None:
    assert parse_filter("") == CustomerFilter()
    assert parse_filter("   ").is_empty


def test_every_key_and_free_text() -> None:
    flt = parse_filter(
        "acme east RISK:High,medium license:nfr status:not-provisioned expiring:30 sort:risk"
    )
    assert flt.text == "acme east"
    assert flt.risk == {Level.HIGH, Level.MEDIUM}
    assert flt.licenses == {LicenseType.MONTHLY_NFR}
    assert flt.statuses == {Status.NOT_PROVISIONED}
    assert flt.expiring_days == 30
    assert flt.sort is Sort.RISK


def test_round_trip_through_query_words() -> None:
    flt = parse_filter("globex license:annual,monthly status:trial expiring:7 sort:expiry risk:low")
    assert parse_filter(flt.to_query()) == flt


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("risk:extreme", "risk:high"),
        ("risk:", "needs a value"),
        ("license:yearly", "license:annual"),
        ("status:sleeping", "is not a status"),
        ("expiring:soon", "number of days"),
        ("expiring:-3", "number of days"),
        ("expiring:99999", "number of days"),
        ("sort:name", "sort:risk"),
        ("colour:red", "Unknown filter `colour:`"),
        ("x" * 1001, "keep it under 1,000"),
    ],
)
def test_bad_filters_explain_themselves(text: str, expected: str) -> None:
    with pytest.raises(InvalidInput, match=expected):
        parse_filter(text)


def test_words_with_colons_that_are_not_keys_are_text() -> None:
    assert parse_filter("10:30 x2:y").text == "10:30 x2:y"
