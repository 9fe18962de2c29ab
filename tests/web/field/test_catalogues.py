"""The field app's text and pictures, checked without a browser: every key the markup and the
code use is in its catalogue (locale/*/LC_MESSAGES/field.po; every language has every key:
tests/core/test_catalogues.py), every default category has an icon, and the phone's sun
position (which picks the dark theme) agrees with the server's."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from api.core.i18n.catalogues import SOURCE_LOCALE_DIR, web_messages
from geo.sun import solar_altitude
from models.categories import DEFAULT_CATEGORIES

FIELD = Path(__file__).resolve().parents[3] / "web" / "field"


def _keys(lang: str) -> set[str]:
    return set(web_messages(lang, "field", SOURCE_LOCALE_DIR))


def test_every_key_used_exists() -> None:
    keys = _keys("en")
    assert len(keys) > 100
    html = (FIELD / "index.html").read_text(encoding="utf-8")
    used = set(re.findall(r'data-i18n(?:-[\w-]+)?="(\w+)"', html))
    # A scale's labels are built from it (buildScales in app.js): `<scale>_<step>`.
    for scale, steps in re.findall(r'data-scale="(\w+)"[^>]*data-steps="([\w,]+)"', html):
        used |= {f"{scale}_{step}" for step in steps.split(",")}
    assert {"severity_1", "safety_0"} <= used
    for js in (FIELD / "js").glob("*.js"):
        used |= set(re.findall(r"\btn?\('(\w+)'", js.read_text(encoding="utf-8")))
    assert len(used) > 50
    assert used - keys == set()


def test_no_text_inline_in_the_markup() -> None:
    """Text lives in the catalogues: elements that show words carry a data-i18n key instead."""
    html = (FIELD / "index.html").read_text(encoding="utf-8")
    body = html[html.index("<body") :]
    body = re.sub(r"<!--.*?-->", "", body, flags=re.DOTALL)
    texts = [t.strip() for t in re.findall(r">([^<>]+)<", body)]
    assert [t for t in texts if t] == []


def test_every_default_category_has_an_icon() -> None:
    sprite = (FIELD / "icons.svg").read_text(encoding="utf-8")
    symbols = set(re.findall(r'<symbol id="([\w-]+)"', sprite))
    assert {f"cat-{c.code}" for c in DEFAULT_CATEGORIES} <= symbols
    for name in ("logo", "pin", "camera", "plus", "outbox", "list", "map"):
        assert name in symbols


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_phone_and_server_agree_on_the_sun() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    cases = [
        (lat, lon, start + timedelta(days=d, hours=h))
        for lat, lon in ((58.85, 5.73), (69.65, 18.96), (59.91, 10.75))
        for d in (0, 80, 172, 300)
        for h in (0, 6, 9, 12, 15, 18, 21)
    ]
    script = (
        f"import {{ solarAltitude }} from '{(FIELD / 'js' / 'sun.js').as_posix()}';"
        f"const cases = {json.dumps([[a, b, c.isoformat()] for a, b, c in cases])};"
        "console.log(JSON.stringify(cases.map(([a, b, c]) => solarAltitude(a, b, new Date(c)))));"
    )
    out = subprocess.run(
        ["node", "--input-type=module", "-e", script],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    phone = json.loads(out)
    for (lat, lon, when), alt in zip(cases, phone, strict=True):
        server = solar_altitude(lat, lon, when, refraction=False)
        assert abs(alt - server) < 1.0, (lat, lon, when, alt, server)
