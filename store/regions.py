"""Vision One data centers: API hosts and console sites (domain.md section 3)."""

from __future__ import annotations

import enum


class DataCenter(enum.StrEnum):
    US = "us"
    EU = "eu"
    SG = "sg"
    JP = "jp"
    AU = "au"
    IN = "in"
    MEA = "mea"
    UK = "uk"
    CA = "ca"
    ZA = "za"
    USGOV = "usgov"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def console_url(self) -> str:
        return _CONSOLES[self]

    @property
    def api_host(self) -> str | None:
        return _API_HOSTS.get(self)


_LABELS: dict[DataCenter, str] = {
    DataCenter.US: "United States",
    DataCenter.EU: "Europe (Germany)",
    DataCenter.SG: "Singapore",
    DataCenter.JP: "Japan",
    DataCenter.AU: "Australia",
    DataCenter.IN: "India",
    DataCenter.MEA: "Middle East and Africa (UAE)",
    DataCenter.UK: "United Kingdom",
    DataCenter.CA: "Canada",
    DataCenter.ZA: "South Africa",
    DataCenter.USGOV: "US Government",
}

_CONSOLES: dict[DataCenter, str] = {
    DataCenter.US: "https://portal.xdr.trendmicro.com",
    DataCenter.JP: "https://portal.xdr.trendmicro.co.jp",
    **{
        dc: f"https://portal.{dc.value}.xdr.trendmicro.com"
        for dc in DataCenter
        if dc not in (DataCenter.US, DataCenter.JP)
    },
}

_API_HOSTS: dict[DataCenter, str] = {
    DataCenter.US: "api.xdr.trendmicro.com",
    DataCenter.JP: "api.xdr.trendmicro.co.jp",
    DataCenter.EU: "api.eu.xdr.trendmicro.com",
    DataCenter.SG: "api.sg.xdr.trendmicro.com",
    DataCenter.AU: "api.au.xdr.trendmicro.com",
    DataCenter.IN: "api.in.xdr.trendmicro.com",
    DataCenter.MEA: "api.mea.xdr.trendmicro.com",
    DataCenter.UK: "api.uk.xdr.trendmicro.com",
    DataCenter.USGOV: "api.usgov.xdr.trendmicro.com",
}
