"""Conventions every route keeps, checked over the app's own route table so that a route
added later is checked too: every GET answers HEAD alike, and every list pages the same way
(``limit`` clamped, an opaque ``cursor``, and a ``next`` link). On both databases.

One scene serves every route: two of everything a list can hold, made through the API.
"""

from __future__ import annotations

import json
import math
import re
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from shapely.geometry import LineString, Polygon
from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from api.core import spatial
from api.core.paging import page_sorted
from api.http.openapi import flat_routes
from api.http.web import VENDOR
from api.outputs.basemap import service as basemap
from api.settings import Settings
from tests.factories import make_area
from tests.factories.client import SyncClient
from tests.factories.databases import serve_on
from tests.factories.observations import obs_body
from tests.factories.photos import plain_jpeg, put_photo
from tests.factories.tilesets import area_tiles, make_mbtiles
from tests.factories.world import World, build_world

SECRET = "test-secret-key-long-enough-for-hs256-and-hs512-0123456789abcdefghijklmnop"
HERE = (5.7352, 58.8517)


def _settings(data_dir: Path, database_url: str) -> Settings:
    return Settings(
        environment="test",
        data_dir=data_dir,
        database_url=database_url,
        secret_key=SECRET,
        throttle_store="memory",
        metrics="open",
        notify_seconds=0,
        # The tour points the case system at a closed loopback port.
        webhook_allow_private=True,
    )


def _get_routes() -> list[str]:
    """Every GET path template of the app, as its route table has it (mounted static files
    by one file each)."""
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(_settings(Path(tmp), "sqlite://"), engine=create_engine("sqlite://"))
        paths = {
            str(getattr(r, "path", ""))
            for r in flat_routes(app)
            if "GET" in (getattr(r, "methods", None) or ())
        }
    return sorted(paths | {"/app/", "/app/manifest.webmanifest", "/staff/app.js"})


GET_ROUTES = _get_routes()


@dataclass
class Tour:
    """The scene, and how to reach every route in it."""

    client: SyncClient
    world: World
    values: dict[str, str] = field(default_factory=dict)
    key: str = ""

    def url(self, template: str) -> str:
        # {name} or {name:convertor} (the public pages' {language:lang})
        return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: self._value(template, m.group(1)), template)

    def _value(self, template: str, name: str) -> str:
        if name == "id":
            # The id of what the path names just before it.
            owner = template.split("/{id}")[0].rsplit("/", 1)[-1]
            return self.values[f"{owner}.id"]
        if name == "name":
            return "swagger-ui.css" if template.startswith("/docs/") else next(iter(VENDOR))
        if name == "code":
            return self.values["join_code"] if template.startswith("/j/") else "lighting"
        if name == "photo_id" and template.startswith("/public/"):
            return self.values["fix_photo_id"]  # the report back shows fix photos only
        return self.values[name]

    def params(self, template: str) -> dict[str, str]:
        if template.startswith("/open311/"):
            return {"jurisdiction_id": "sandnes", "api_key": self.key}
        if template == "/api/v1/observations/nearby":
            return {"lat": str(HERE[1]), "lon": str(HERE[0]), "radius": "250"}
        if template == "/api/v1/walks/{id}/nearby-resolved":
            return {"lat": str(HERE[1]), "lon": str(HERE[0])}
        return {}

    def headers(self, template: str) -> dict[str, str]:
        if template.startswith(("/open311/", "/public/")):
            return {}
        return self.world.headers("admin")

    def get(self, template: str, method: str = "GET", **params: str) -> httpx.Response:
        return self.client.request(
            method,
            self.url(template),
            params={**self.params(template), **params},
            headers=self.headers(template),
        )


def _ok(res: httpx.Response, what: str) -> Any:
    assert res.status_code in (200, 201, 202), (what, res.status_code, res.text)
    return res.json() if res.content else None


def _observe(tour: Tour, category: str, lon: float, lat: float) -> dict[str, Any]:
    body = obs_body(
        tour.world, category=category, location={"type": "Point", "coordinates": [lon, lat]}
    )
    res = tour.client.put(
        f"/api/v1/observations/{uuid.uuid4()}", json=body, headers=tour.world.headers("participant")
    )
    return dict(_ok(res, f"observe {category}"))


def _resolve(tour: Tour, item_id: str) -> None:
    admin = tour.world.headers("coordinator")
    etag = tour.client.get(f"/api/v1/action-items/{item_id}", headers=admin).headers["etag"]
    _ok(
        tour.client.patch(
            f"/api/v1/action-items/{item_id}",
            json={"status": "resolved", "resolution_note": "Fixed"},
            headers={**admin, "If-Match": etag},
        ),
        "resolve",
    )


def build_tour(client: SyncClient, world: World, session: Session) -> Tour:
    tour = Tour(client, world)
    admin = world.headers("admin")
    west = make_area(
        session,
        world.org,
        "Vest",
        Polygon([(5.700, 58.848), (5.714, 58.848), (5.714, 58.856), (5.700, 58.856)]),
    )
    world.org.public_followup = True
    world.org.report_back_photos = True
    session.commit()
    # Webhooks first, so that what the tour does next is delivered to both.
    hooks = [
        _ok(
            client.post(
                "/api/v1/webhooks",
                json={"url": f"http://127.0.0.1:9/{name}", "events": ["*"]},
                headers=admin,
            ),
            "webhook",
        )
        for name in ("gis", "case")
    ]
    lit = _observe(tour, "lighting", *HERE)
    _observe(tour, "lighting", HERE[0] + 0.00005, HERE[1] + 0.00002)  # the same item
    graffiti = _observe(tour, "graffiti", 5.7356, 58.8519)
    done = [
        _observe(tour, "vegetation", 5.7348, 58.8515),
        _observe(tour, "litter", 5.7360, 58.8522),
    ]
    _observe(tour, "walkway", 5.7300, 58.8490)  # another hotspot cell
    for obs in done:
        _resolve(tour, obs["action_item_id"])
    fix_photo = str(uuid.uuid4())
    _ok(
        client.put(
            f"/api/v1/action-items/{done[0]['action_item_id']}/photos/{fix_photo}",
            headers={**world.headers("coordinator"), "Content-Type": "image/jpeg"},
            content=plain_jpeg(),
        ),
        "fix photo",
    )
    item = lit["action_item_id"]
    _ok(
        client.post(
            f"/api/v1/action-items/{item}/comments", json={"text": "Ordered"}, headers=admin
        ),
        "comment",
    )
    photo = _ok(put_photo(client, world, lit["id"], plain_jpeg()), "photo")["id"]
    for name in ("QGIS", "GDAL"):
        _ok(
            client.post("/api/v1/me/tokens", json={"name": name, "scope": "read"}, headers=admin),
            "pat",
        )
    keys = [
        _ok(client.post("/api/v1/integration-keys", json={"name": n}, headers=admin), "key")
        for n in ("FixMyStreet", "Case system")
    ]
    tour.key = keys[0]["api_key"]
    _ok(
        client.put(
            "/api/v1/open311/case-system",
            json={
                "url": "http://127.0.0.1:9/open311/v2/",
                "api_key": "theirs",
                "departments": ["lighting", "parks"],
            },
            headers=admin,
        ),
        "case system",
    )
    for obs in (lit, graffiti):
        _ok(
            client.post(f"/api/v1/action-items/{obs['action_item_id']}/open311", headers=admin),
            "send",
        )
    token = _ok(
        client.post(
            "/open311/v2/requests.json",
            data={"jurisdiction_id": "sandnes", "api_key": tour.key, "service_code": "litter",
                  "address_string": "Storgata 1"},
        ),
        "open311 token",
    )[0]["token"]  # fmt: skip
    _ok(
        client.post(f"/api/v1/walks/{world.walk.id}/report-back", json={}, headers=admin),
        "report back",
    )
    _ok(
        client.put(
            "/api/v1/response-times",
            json=[
                {"days": 30, "working_days": False},
                {"category": "lighting", "days": 14, "working_days": True},
            ],
            headers=admin,
        ),
        "response times",
    )
    # Two lamps (after the observations, which they would otherwise name), two owners' case
    # systems, and a route with a lamp halfway: two dark gaps.
    lamps = _ok(
        client.post(
            "/api/v1/assets/import",
            files={"file": ("lamps.csv", f"id;lon;lat;eier\nT-1;{HERE[0]};{HERE[1]};Kommune\n"
                                         f"T-2;{HERE[0] + 0.0002};{HERE[1]};Fylkeskommune\n")},
            data={"kind": "street_light"},
            headers=admin,
        ),
        "lamps",
    )  # fmt: skip
    assert lamps["created"] == 2, lamps
    lamp = _ok(client.get("/api/v1/assets?limit=1", headers=admin), "lamp")["items"][0]["id"]
    for owner in ("county", "state_roads"):
        _ok(
            client.put(
                f"/api/v1/asset-owners/{owner}",
                json={"url": f"http://127.0.0.1:9/{owner}/open311/v2/", "api_key": "theirs"},
                headers=admin,
            ),
            "owner route",
        )
    world.walk.route = spatial.to_db(
        LineString([(HERE[0] - 0.004, HERE[1]), (HERE[0] + 0.004, HERE[1])])
    )
    session.add(world.walk)
    session.commit()
    # The z14 tile (slippy map numbering) the observations are in.
    x = int((HERE[0] + 180) / 360 * 2**14)
    y = int((1 - math.asinh(math.tan(math.radians(HERE[1]))) / math.pi) / 2 * 2**14)
    tour.values = {
        "walks.id": str(world.walk.id),
        "webhooks.id": hooks[0]["id"],
        "assets.id": lamp,
        "areas.id": str(world.objects["area"].id),
        "action-items.id": item,
        "requests.id": item,
        "observations.id": lit["id"],
        "walks.id.map": str(world.walk.id),
        "photo_id": photo,
        "fix_photo_id": fix_photo,
        "org_slug": world.org.slug,
        "language": "sv",
        "walk_id": str(world.walk.id),
        "area_id": str(west.id),
        "join_code": world.walk.join_code,
        "cid": "observations",
        "fid": lit["id"],
        "layer": "observations",
        "z": "14",
        "x": str(x),
        "y": str(y),
        "fmt": "json",
        "token": token,
        "ext": "png",
    }
    return tour


@pytest.fixture(scope="module")
def tour(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tour]:
    with engine.connect() as conn:
        trans = conn.begin()
        factory = sessionmaker(
            bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        settings = _settings(
            tmp_path_factory.mktemp("tour"), engine.url.render_as_string(hide_password=False)
        )
        # A basemap file of the town, so its tiles answer too.
        basemap.import_file(
            make_mbtiles(settings.data_dir / "town.mbtiles", area_tiles(range(14, 15))),
            settings.data_dir,
        )
        app = create_app(settings, engine=engine)
        serve_on(app, conn)
        with factory() as s, SyncClient(app) as client:
            yield build_tour(client, build_world(app, s), s)
        trans.rollback()


# --- HEAD -------------------------------------------------------------------------------------


@pytest.mark.parametrize("template", GET_ROUTES)
def test_every_get_route_answers_head(
    tour: Tour, template: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The map feeds stamp the second they were made; GET and HEAD may straddle a tick.
    frozen = datetime(2026, 12, 7, 12, 0, 0, tzinfo=UTC)
    monkeypatch.setattr("api.outputs.maps.service.utcnow", lambda: frozen)
    got = tour.get(template)
    head = tour.get(template, method="HEAD")
    assert head.status_code == got.status_code, (template, got.status_code, head.status_code)
    assert head.content == b""
    for name in ("content-type", "etag", "content-disposition", "link", "cache-control"):
        assert head.headers.get(name) == got.headers.get(name), (template, name)
    if "content-length" in got.headers and template not in VARYING:
        assert head.headers.get("content-length") == got.headers["content-length"], template
    # The tour reaches every route: a HEAD that only agrees on an error proves little.
    assert got.status_code < 400 or template in REFUSED, (template, got.status_code, got.text[:300])


# GET routes the tour cannot answer with a 2xx/3xx, and why.
REFUSED: dict[str, str] = {}
# Bodies that change between two requests, so their lengths may differ.
VARYING = {"/metrics": "the counters count the first request"}


# --- lists ------------------------------------------------------------------------------------


def _entries(body: Any) -> list[Any] | None:
    """The entries of a list-shaped body: an array, a Page's items, a FeatureCollection's
    features; None for anything else."""
    if isinstance(body, list):
        return body
    if isinstance(body, dict):
        if body.get("type") == "FeatureCollection":
            return list(body.get("features", []))
        if isinstance(body.get("items"), list):
            return list(body["items"])
    return None


def _identity(entry: Any) -> str:
    if isinstance(entry, dict) and "id" in entry:
        return str(entry["id"])
    return json.dumps(entry, sort_keys=True)


def _next(res: httpx.Response, body: Any) -> str | None:
    """Where the next page is: the body's ``next``, a FeatureCollection's ``links``, or the
    ``Link`` header (for a bare array)."""
    found: list[str] = []
    if isinstance(body, dict):
        if body.get("next"):
            found.append(str(body["next"]))
        found += [str(link["href"]) for link in body.get("links", []) if link.get("rel") == "next"]
    link = res.headers.get("link")
    if link:
        match = re.search(r'<([^>]+)>;\s*rel="next"', link)
        if match:
            found.append(match.group(1))
    assert len(set(found)) <= 1, found  # where it is said twice, it is said alike
    return found[0].removeprefix("http://testserver") if found else None


# Lists whose paging is another standard's: GeoReport v2 has none, OGC API Features its own
# (followed all the same, below, when it is a list).
OWN_STANDARD = ("/open311/",)
# One walk's report back is a document (its HTML and PDF are the same report), not a list; so
# is one asset, whose ``items`` are its history (API.md), not a page of assets.
DOCUMENTS = (
    "/public/{org_slug}/walks/{walk_id}",
    "/public/{org_slug}/{language:lang}/walks/{walk_id}",
    "/api/v1/assets/{id}",
)


@pytest.mark.parametrize("template", GET_ROUTES)
def test_every_list_pages_by_limit_and_cursor(tour: Tour, template: str) -> None:
    """``?limit=1`` gives one entry and a next link; following the links visits every entry
    once; a limit beyond the maximum is clamped, not refused. A route whose answer is not a
    list passes by."""
    whole = tour.get(template)
    if not whole.headers.get("content-type", "").startswith(
        ("application/json", "application/geo+json")
    ):
        return
    entries = _entries(whole.json())
    if entries is None or template.startswith(OWN_STANDARD + DOCUMENTS):
        return
    clamped = tour.get(template, limit="1000000")
    assert clamped.status_code == 200, (template, clamped.text)
    everything = {_identity(e) for e in _entries(clamped.json()) or []}
    assert len(everything) >= 2, (template, "the tour should put two entries in every list")
    seen: list[str] = []
    res = tour.get(template, limit="1")
    for _ in range(len(everything) + 2):
        assert res.status_code == 200, (template, res.text)
        body = res.json()
        page = _entries(body)
        assert page is not None, template
        assert len(page) == 1 or (not page and not seen), (template, len(page))
        seen += [_identity(e) for e in page]
        nxt = _next(res, body)
        if nxt is None:
            break
        assert "cursor=" in nxt or "offset=" in nxt, nxt
        res = tour.client.get(nxt, headers=tour.headers(template))
    assert len(seen) == len(set(seen)), (template, "an entry came twice")
    assert set(seen) == everything, (template, len(seen), len(everything))
    bad = tour.get(template, cursor="not-a-cursor")
    # OGC API Features answers a bad parameter value with 400; the rest of the API with 422.
    assert bad.status_code == (400 if template.startswith("/ogc/") else 422), (
        template,
        bad.status_code,
    )


def test_a_cursor_into_a_list_that_emptied_is_an_empty_page() -> None:
    """The rows a cursor was made from may be gone by the time it is used."""
    rows = [("a", 1), ("b", 2)]
    page, nxt = page_sorted(rows, lambda r: (r[1], r[0]), 1, None)
    assert (page, nxt is not None) == ([("a", 1)], True)
    assert page_sorted([], lambda r: (r[1], r[0]), 1, nxt) == ([], None)
    assert page_sorted(rows[1:], lambda r: (r[1], r[0]), 1, nxt) == ([("b", 2)], None)
