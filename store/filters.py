"""The list's filter language: free text plus key:value words. Pure parsing, no I/O."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from store.enums import Level, LicenseType, Status
from store.errors import InvalidInput


class Sort(enum.StrEnum):
    COMPANY = "company"
    RISK = "risk"
    EXPIRY = "expiry"


_LICENSES = {
    "annual": LicenseType.ANNUAL,
    "monthly": LicenseType.MONTHLY,
    "nfr": LicenseType.MONTHLY_NFR,
}
_STATUS_ALIASES = {s.value.replace("_", ""): s for s in Status} | {
    "provision": Status.NOT_PROVISIONED,
    "new": Status.NOT_PROVISIONED,
    "view": Status.ACTIVE,
}
MAX_EXPIRING_DAYS = 3650
MAX_QUERY = 1000  # fits, re-encoded, in a button value (2,000)
FILTER_KEYS = ("risk", "license", "status", "expiring", "sort")


@dataclass(frozen=True)
class CustomerFilter:
    text: str = ""
    risk: frozenset[Level] = frozenset()
    licenses: frozenset[LicenseType] = frozenset()
    statuses: frozenset[Status] = frozenset()
    expiring_days: int | None = None
    sort: Sort = Sort.COMPANY

    @property
    def is_empty(self) -> bool:
        return self == CustomerFilter(sort=self.sort)

    def to_query(self) -> str:
        """The canonical words that parse back to this filter."""
        words = []
        if self.risk:
            words.append("risk:" + ",".join(sorted(r.value for r in self.risk)))
        if self.licenses:
            names = {v: k for k, v in _LICENSES.items()}
            words.append("license:" + ",".join(sorted(names[x] for x in self.licenses)))
        if self.statuses:
            words.append("status:" + ",".join(sorted(s.value for s in self.statuses)))
        if self.expiring_days is not None:
            words.append(f"expiring:{self.expiring_days}")
        if self.sort is not Sort.COMPANY:
            words.append(f"sort:{self.sort.value}")
        if self.text:
            words.append(self.text)
        return " ".join(words)


def _values(key: str, raw: str) -> list[str]:
    values = [v.strip().lower() for v in raw.split(",") if v.strip()]
    if not values:
        raise InvalidInput(f"`{key}:` needs a value, for example `{key}:{_EXAMPLES[key]}`.")
    return values


_EXAMPLES = {
    "risk": "high",
    "license": "annual",
    "status": "trial",
    "expiring": "30",
    "sort": "risk",
}


def parse_filter(text: str) -> CustomerFilter:
    """Parse e.g. `acme risk:high,medium license:nfr expiring:30 sort:risk`."""
    if len(text) > MAX_QUERY:
        raise InvalidInput(
            f"That is {len(text):,} characters of filters; keep it under {MAX_QUERY:,}."
        )
    risk: set[Level] = set()
    licenses: set[LicenseType] = set()
    statuses: set[Status] = set()
    expiring: int | None = None
    sort = Sort.COMPANY
    free: list[str] = []
    for word in text.split():
        key, sep, raw = word.partition(":")
        key = key.lower()
        if not sep or not key.isalpha():
            free.append(word)
            continue
        if key not in FILTER_KEYS:
            raise InvalidInput(
                f"Unknown filter `{key}:`. Filters are "
                + ", ".join(f"`{k}:`" for k in FILTER_KEYS)
                + "; other words search company names and sign-in accounts."
            )
        values = _values(key, raw)
        if key == "risk":
            for v in values:
                try:
                    risk.add(Level(v))
                except ValueError:
                    raise InvalidInput(
                        f"`risk:{v}` — use `risk:high`, `risk:medium` or `risk:low`."
                    ) from None
        elif key == "license":
            for v in values:
                if v not in _LICENSES:
                    raise InvalidInput(
                        f"`license:{v}` — use `license:annual`, `license:monthly` or `license:nfr`."
                    )
                licenses.add(_LICENSES[v])
        elif key == "status":
            for v in values:
                status = _STATUS_ALIASES.get(v.replace("_", "").replace("-", ""))
                if status is None:
                    known = ", ".join(f"`{s.value}`" for s in Status)
                    raise InvalidInput(f"`status:{v}` is not a status. Statuses: {known}.")
                statuses.add(status)
        elif key == "expiring":
            if len(values) != 1 or not values[0].isdigit() or int(values[0]) > MAX_EXPIRING_DAYS:
                raise InvalidInput(
                    f"`expiring:{raw}` needs a number of days from 0 to {MAX_EXPIRING_DAYS}, "
                    "for example `expiring:30`."
                )
            expiring = int(values[0])
        else:
            try:
                sort = Sort(values[0])
            except ValueError:
                raise InvalidInput(
                    f"`sort:{raw}` — use `sort:company`, `sort:risk` or `sort:expiry`."
                ) from None
    return CustomerFilter(
        text=" ".join(free),
        risk=frozenset(risk),
        licenses=frozenset(licenses),
        statuses=frozenset(statuses),
        expiring_days=expiring,
        sort=sort,
    )
