"""Signed photo links: they work in an <img> without a header, and nothing else does."""

from __future__ import annotations

import uuid
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from sqlalchemy.orm import Session

from api.core.signing import EXPORT_TTL, PhotoSigner, signed_photo_url
from models import Photo, utcnow
from tests.factories.client import SyncClient
from tests.factories.photos import new_observation, plain_jpeg, put_photo
from tests.factories.world import World


def _upload(client: SyncClient, world: World) -> dict[str, object]:
    oid = new_observation(client, world)
    r = put_photo(client, world, oid, plain_jpeg())
    assert r.status_code == 201, r.text
    data: dict[str, object] = r.json()
    return data


def _params(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_signed_links_work_without_a_header(client: SyncClient, world: World) -> None:
    photo = _upload(client, world)
    signed = photo["signed_urls"]
    assert isinstance(signed, dict)
    for size in ("thumb", "display", "original"):
        r = client.get(signed[size])  # no Authorization header at all
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "image/jpeg"
        assert r.headers["x-content-type-options"] == "nosniff"
    # The observation's reads carry the same kind of links.
    obs = client.get(
        f"/api/v1/observations/{photo['observation_id']}", headers=world.headers("coordinator")
    ).json()
    assert obs["photo_ids"] == [photo["id"]]
    link = obs["photos"][0]["urls"]["thumb"]
    assert client.get(link).status_code == 200
    expires = int(_params(link)["expires"])
    assert 15 * 60 - 5 <= expires - utcnow().timestamp() <= 20 * 60 + 5


def _tampered(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    params = _params(url) | changes
    return f"{parts.path}?{urlencode(params)}"


def test_tampered_links_are_refused(client: SyncClient, world: World) -> None:
    photo = _upload(client, world)
    link = photo["signed_urls"]["thumb"]  # type: ignore[index]
    params = _params(link)
    cases = {
        "another-size": _tampered(link, size="original"),
        "later-expiry": _tampered(link, expires=str(int(params["expires"]) + 3600)),
        "flipped-signature": _tampered(link, sig=params["sig"][:-2] + "AA"),
        "no-signature": _tampered(link, sig=""),
    }
    answers = {name: client.get(url) for name, url in cases.items()}
    # A signature that does not fit is refused (403); none at all asks for credentials (401).
    expected = {**dict.fromkeys(cases, 403), "no-signature": 401}
    assert {name: r.status_code for name, r in answers.items()} == expected
    for name, r in answers.items():
        assert r.headers["content-type"] == "application/problem+json"
        assert not r.content.startswith(b"\xff\xd8"), name
    # Without a signature and without a header: a token is required.
    assert client.get(f"/api/v1/photos/{photo['id']}?size=thumb").status_code == 401


def test_expired_links_are_refused(app: object, client: SyncClient, world: World) -> None:
    photo = _upload(client, world)
    secret = app.state.secret  # type: ignore[attr-defined]
    org = world.org.id
    old = PhotoSigner(secret, "/api/v1", timedelta(minutes=15), utcnow() - timedelta(minutes=25))
    r = client.get(old.url(uuid.UUID(str(photo["id"])), org, "display"))
    assert r.status_code == 403
    assert "expired" in r.json()["detail"] or "utløpt" in r.json()["detail"]
    # An export link lives for days.
    export = signed_photo_url(secret, uuid.UUID(str(photo["id"])), org, base="/api/v1",
                              ttl=EXPORT_TTL)  # fmt: skip
    assert int(_params(export)["expires"]) - utcnow().timestamp() > 6 * 86400
    assert client.get(export).status_code == 200


def test_a_link_never_opens_another_organizations_photo(
    app: object, client: SyncClient, world: World, session: Session
) -> None:
    photo = _upload(client, world)
    secret = app.state.secret  # type: ignore[attr-defined]
    pid = uuid.UUID(str(photo["id"]))
    # Signed as if the photo belonged to the other organization: does not verify.
    forged = signed_photo_url(secret, pid, world.other_org.id, "display", base="/api/v1")
    assert client.get(forged).status_code == 403
    # A genuine link of this organization's photo, pointed at another photo id: refused.
    row = session.get(Photo, pid)
    assert row is not None
    link = photo["signed_urls"]["display"]  # type: ignore[index]
    other_id = uuid.uuid4()
    assert client.get(link.replace(str(pid), str(other_id))).status_code == 404
    second = _upload(client, world)
    assert client.get(link.replace(str(pid), str(second["id"]))).status_code == 403


def test_with_a_header_signed_params_are_still_checked(client: SyncClient, world: World) -> None:
    photo = _upload(client, world)
    link = _tampered(photo["signed_urls"]["thumb"], sig="nope")  # type: ignore[index]
    assert client.get(link, headers=world.headers("coordinator")).status_code == 403


@pytest.mark.parametrize("size", ["thumb", "display"])
def test_signed_link_changes_neither_etag_nor_bytes(
    client: SyncClient, world: World, size: str
) -> None:
    photo = _upload(client, world)
    plain = client.get(
        f"/api/v1/photos/{photo['id']}?size={size}", headers=world.headers("participant")
    )
    signed = client.get(photo["signed_urls"][size])  # type: ignore[index]
    assert plain.content == signed.content
    assert plain.headers["etag"] == signed.headers["etag"]
