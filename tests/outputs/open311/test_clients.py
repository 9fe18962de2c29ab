"""Real GeoReport v2 clients: ``jurisdiction_id`` and ``api_key`` on every call (FixMyStreet
sends both everywhere, an empty key included), and GeoReport error lists, never problem
details, on every path under ``/open311/``. On both databases."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import georeport.georeport
import httpx
import pytest
from fastapi.routing import APIRoute
from georeport import GeoReport
from sqlalchemy.orm import Session

from api.outputs.open311 import server
from api.outputs.open311.router import router as open311_router
from tests.factories.client import SyncClient
from tests.factories.open311 import W3C, fms_post, new_key
from tests.factories.world import World

BASE = "/open311/v2"
FORMATS = ("json", "xml")
# Every Open311 route, as the router declares it: a route added later is tested too.
ROUTES = sorted(
    (method, route.path)
    for route in open311_router.routes
    if isinstance(route, APIRoute)
    for method in route.methods
)


@dataclass
class Setting:
    key: str
    request_id: str
    token: str


@pytest.fixture
def setting(client: SyncClient, world: World) -> Setting:
    key = new_key(client, world)
    request_id = _xml(fms_post(client, key)).findtext("request/service_request_id")
    token = _xml(fms_post(client, key, lat=None, long=None, address_string="Storgata 1")).findtext(
        "request/token"
    )
    assert request_id
    assert token
    return Setting(key, request_id, token)


def _xml(res: httpx.Response) -> ET.Element:
    assert res.headers["content-type"].startswith("text/xml"), (res.status_code, res.text)
    return ET.fromstring(res.content)


def _path(template: str, fmt: str, s: Setting) -> str:
    values = {"fmt": fmt, "code": "lighting", "id": s.request_id, "token": s.token}
    return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], template)


def _call(
    client: SyncClient, method: str, path: str, address: dict[str, str], **form: str
) -> httpx.Response:
    """As a generic client: GETs carry the address in the query, POSTs in the form."""
    if method == "POST":
        body = {
            "service_code": "graffiti",
            "lat": "58.8521",
            "long": "5.7352",
            "description": "Tagging på muren",
            **address,
            **form,
        }
        return client.post(path, data=body)
    return client.get(path, params=address)


def _errors(res: httpx.Response, fmt: str) -> list[dict[str, Any]]:
    """The GeoReport error list of ``res``, in the format asked for."""
    media = res.headers["content-type"]
    assert "problem" not in media, (res.status_code, res.text)
    if fmt == "xml":
        root = _xml(res)
        assert root.tag == "errors"
        return [
            {"code": int(e.findtext("code") or 0), "description": e.findtext("description")}
            for e in root.findall("error")
        ]
    assert media.startswith("application/json"), media
    body = res.json()
    assert isinstance(body, list)
    assert all(set(e) == {"code", "description"} for e in body), body
    return list(body)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("method", "template"), ROUTES)
def test_every_route_takes_jurisdiction_and_key(
    client: SyncClient, world: World, setting: Setting, method: str, template: str, fmt: str
) -> None:
    res = _call(
        client,
        method,
        _path(template, fmt, setting),
        {"jurisdiction_id": "sandnes", "api_key": setting.key},
    )
    assert res.status_code == (201 if method == "POST" else 200), res.text
    media = "text/xml" if fmt == "xml" else "application/json"
    assert res.headers["content-type"].startswith(media)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("method", "template"), ROUTES)
def test_an_unknown_jurisdiction_is_a_404_everywhere(
    client: SyncClient, world: World, setting: Setting, method: str, template: str, fmt: str
) -> None:
    res = _call(
        client,
        method,
        _path(template, fmt, setting),
        {"jurisdiction_id": "atlantis", "api_key": setting.key},
    )
    assert res.status_code == 404, res.text
    [error] = _errors(res, fmt)
    assert error["code"] == 404
    assert "atlantis" in error["description"]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("method", "template"), ROUTES)
def test_another_organizations_key_is_refused_everywhere(
    client: SyncClient, world: World, setting: Setting, method: str, template: str, fmt: str
) -> None:
    """Sandnes' key with Stavanger named: the jurisdiction decides, and the key is not one
    of its own (a key is never ignored, not even where none is needed)."""
    res = _call(
        client,
        method,
        _path(template, fmt, setting),
        {"jurisdiction_id": "stavanger", "api_key": setting.key},
    )
    assert res.status_code == 403, res.text
    [error] = _errors(res, fmt)
    assert error == {"code": 403, "description": "invalid api_key for this jurisdiction"}


def test_the_key_addresses_its_organization_without_a_jurisdiction(
    client: SyncClient, world: World, setting: Setting
) -> None:
    """Two organizations, no jurisdiction_id: the key says whose it is."""
    auth = {"api_key": setting.key}
    [record] = client.get(f"{BASE}/requests/{setting.request_id}.json", params=auth).json()
    assert record["service_request_id"] == setting.request_id
    assert client.get(f"{BASE}/services.json", params=auth).status_code == 200
    posted = client.post(
        f"{BASE}/requests.json",
        data={**auth, "service_code": "litter", "lat": "58.8519", "long": "5.7355"},
    )
    assert posted.status_code == 201, posted.text
    unknown = client.get(f"{BASE}/services.xml", params={"api_key": "sw311_nobody"})
    assert unknown.status_code == 403
    assert _errors(unknown, "xml")[0]["code"] == 403
    neither = client.get(f"{BASE}/services.json")
    assert neither.status_code == 400
    assert "jurisdiction_id" in _errors(neither, "json")[0]["description"]


def test_discovery_and_services_as_fixmystreet_asks(
    client: SyncClient, world: World, session: Session, setting: Setting
) -> None:
    """FixMyStreet's Open311.pm adds jurisdiction_id to every GET and, with
    ``always_send_api_key``, the api_key too, empty when it has none."""
    for params in (
        {"jurisdiction_id": "sandnes"},
        {"jurisdiction_id": "sandnes", "api_key": ""},
        {"jurisdiction_id": "sandnes", "api_key": setting.key},
    ):
        for fmt in FORMATS:
            for path in ("discovery", "services"):
                res = client.get(f"{BASE}/{path}.{fmt}", params=params)
                assert res.status_code == 200, (path, fmt, params, res.text)
    d = client.get(f"{BASE}/discovery.json", params={"jurisdiction_id": "sandnes"}).json()
    assert W3C.match(d["changeset"])
    # An empty key is no key: the published view, if there is one.
    anon = client.get(f"{BASE}/requests.json", params={"jurisdiction_id": "sandnes", "api_key": ""})
    assert anon.status_code == 403
    world.org.public_followup = True
    session.flush()
    session.commit()
    anon = client.get(f"{BASE}/requests.json", params={"jurisdiction_id": "sandnes", "api_key": ""})
    assert anon.status_code == 200, anon.text
    assert anon.json()[0]["media_url"] == ""  # the published view


def _explode(*_args: Any, **_kw: Any) -> Any:
    raise RuntimeError("a bug")


def _error_cases(setting: Setting) -> Iterator[tuple[str, str, dict[str, Any], int]]:
    auth = {"jurisdiction_id": "sandnes", "api_key": setting.key}
    for fmt in FORMATS:
        ext = f".{fmt}"
        yield "GET", f"{BASE}/services.csv", {"params": auth}, 404
        yield "GET", f"{BASE}/nothing{ext}", {"params": auth}, 404
        yield "DELETE", f"{BASE}/requests{ext}", {"params": auth}, 405
        yield "PUT", f"{BASE}/services{ext}", {"params": auth}, 405
        yield "GET", f"{BASE}/requests{ext}", {"params": {**auth, "stauts": "open"}}, 400
        yield "GET", f"{BASE}/requests{ext}", {"params": {**auth, "status": "o\x00pen"}}, 400
        yield "GET", f"{BASE}/requests{ext}", {"params": {**auth, "start_date": "later"}}, 400
        yield "GET", f"{BASE}/tokens/{setting.token}{ext}", {"params": {"jurisdiction_id": "sandnes"}}, 400  # fmt: skip
        yield "GET", f"{BASE}/requests{ext}", {"params": {"jurisdiction_id": "sandnes"}}, 403
        yield "GET", f"{BASE}/requests/{setting.request_id}x{ext}", {"params": auth}, 404
        yield "GET", f"{BASE}/services/feels_unsafe{ext}", {"params": auth}, 404
        yield "POST", f"{BASE}/requests{ext}", {"data": {**auth, "lat": "91", "long": "5"}}, 400
    for path in ("services", "discovery", "requests", f"requests/{setting.request_id}", ""):
        yield "GET", f"{BASE}/{path}", {"params": auth}, 404


def test_every_error_is_a_georeport_error_list(
    client: SyncClient, world: World, setting: Setting
) -> None:
    for method, path, kw, status in _error_cases(setting):
        res = client.request(method, path, **kw)
        assert res.status_code == status, (method, path, res.status_code, res.text)
        fmt = "xml" if path.endswith(".xml") else "json"
        [error] = _errors(res, fmt)
        assert error["code"] == status
        assert error["description"], (method, path)
        if status == 405:
            assert res.headers["allow"], path
            assert method in error["description"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_bug_is_a_georeport_500(
    client: SyncClient, world: World, setting: Setting, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    monkeypatch.setattr(server, "services", _explode)
    res = client.get(
        f"{BASE}/services.{fmt}", params={"jurisdiction_id": "sandnes", "api_key": setting.key}
    )
    assert res.status_code == 500
    [error] = _errors(res, fmt)
    assert error["code"] == 500
    assert "a bug" not in error["description"]  # no internals leave the service


class _InProcess:
    """What ``georeport`` calls as ``requests``: a GET, here through the app in this process."""

    def __init__(self, client: SyncClient) -> None:
        self.client = client

    def get(self, url: str, params: dict[str, str] | None = None) -> httpx.Response:
        return self.client.get(url.removeprefix("http://testserver"), params=params)


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_georeport_client_from_pypi(
    client: SyncClient,
    world: World,
    session: Session,
    setting: Setting,
    monkeypatch: pytest.MonkeyPatch,
    fmt: str,
) -> None:
    """The ``georeport`` package, a generic GeoReport v2 client, sends ``jurisdiction_id``
    on every call; here it reads the published view through the app in this process."""
    world.org.public_followup = True
    session.flush()
    session.commit()
    monkeypatch.setattr(georeport.georeport, "requests", _InProcess(client))
    reader = GeoReport(f"http://testserver{BASE}", jurisdiction="sandnes", output_format=fmt)
    services = reader.get_service_list()
    assert "lighting" in [s["service_code"] for s in services]
    assert reader.get_service_definition("lighting")["service_code"] == "lighting"
    listed = reader.get_service_requests(start_date="2020-01-01T00:00:00Z")
    listed = listed if isinstance(listed, list) else [listed]  # xmltodict: one is a dict
    assert setting.request_id in [r["service_request_id"] for r in listed]
    one = reader.get_service_request(setting.request_id)
    assert one["service_request_id"] == setting.request_id
    assert W3C.match(str(one["requested_datetime"]))
    # A wrong jurisdiction is an HTTP error the client raises, not an empty answer.
    wrong = GeoReport(f"http://testserver{BASE}", jurisdiction="atlantis", output_format=fmt)
    with pytest.raises(httpx.HTTPStatusError) as raised:
        wrong.get_service_list()
    assert raised.value.response.status_code == 404
    assert json.dumps(_errors(raised.value.response, fmt))
