"""One Content-Security-Policy for every page (api/http/csp.py): the field app, the staff web
and the shared kit agree, ``base-uri`` included; a remote basemap's origin is the only outside
origin, and only when chosen; a basemap URL no browser could load refuses to start."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import create_engine

from api.app import create_app
from api.settings import Settings
from tests.factories.client import SyncClient

SECRET = "test-secret-key-long-enough-for-hs256-and-hs512-0123456789abcdefghijklmnop"
KARTVERKET = (
    "https://cache.kartverket.no/v1/wmts/1.0.0/topograatone/default/webmercator/{z}/{y}/{x}.png"
)
PAGES = ("/", "/app/", "/app/sw.js", "/shared/map.js", "/staff/app.js", "/vendor/maplibre-gl.js")


def _policies(tmp_path: Path, basemap_url: str = "") -> dict[str, str]:
    settings = Settings(
        environment="test", data_dir=tmp_path, secret_key=SECRET, basemap_url=basemap_url
    )
    with SyncClient(create_app(settings, engine=create_engine("sqlite://"))) as c:
        return {path: c.get(path).headers["content-security-policy"] for path in PAGES}


def test_every_page_has_the_same_policy(tmp_path: Path) -> None:
    policies = _policies(tmp_path)
    assert len(set(policies.values())) == 1, policies
    csp = policies["/"]
    assert "base-uri 'none'" in csp
    assert "script-src 'self';" in csp
    assert "connect-src 'self';" in csp
    assert not re.findall(r"https?://", csp)


def test_kartverket_is_added_only_when_chosen(tmp_path: Path) -> None:
    policies = _policies(tmp_path, KARTVERKET)
    assert len(set(policies.values())) == 1
    csp = policies["/app/"]
    assert set(re.findall(r"https?://[^\s;]+", csp)) == {"https://cache.kartverket.no"}
    assert "img-src 'self' https://cache.kartverket.no data: blob:;" in csp
    assert "connect-src 'self' https://cache.kartverket.no;" in csp
    assert "script-src 'self';" in csp  # tiles only: never a script from there


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("javascript:alert(1)", id="javascript"),
        pytest.param("/tiles/{z}/{x}/{y}.png", id="relative"),
        pytest.param("ftp://tiles.example/{z}.png", id="ftp"),
        pytest.param("https://{s}.tile.example/{z}/{x}/{y}.png", id="host-placeholder"),
        pytest.param("https:///{z}/{x}/{y}.png", id="no-host"),
    ],
)
def test_a_bad_basemap_url_is_refused_by_the_settings(url: str) -> None:
    with pytest.raises(
        ValidationError, match=r"SAFEWALK_BASEMAP_URL must be an absolute http\(s\)"
    ):
        Settings(environment="test", secret_key=SECRET, basemap_url=url)


def test_a_remote_basemap_names_its_origin() -> None:
    s = Settings(environment="test", secret_key=SECRET, basemap_url=KARTVERKET)
    assert s.basemap_origin == "https://cache.kartverket.no"
    assert Settings(environment="test", secret_key=SECRET).basemap_origin is None
