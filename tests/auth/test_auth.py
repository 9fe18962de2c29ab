"""Sign-in, /me, users, and a clear 401 for every kind of bad credential."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import jwt
import pytest

from api.app import create_app
from api.auth.security import ALGORITHM, WeakSecret, resolve_secret
from api.settings import Settings
from models import utcnow
from tests.factories import PASSWORD
from tests.factories.client import SyncClient
from tests.factories.world import World, staff_token


def _problem(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = r.json()
    return body


def test_login_and_me(client: SyncClient, world: World) -> None:
    user = world.users["engineer"]
    r = client.post(
        "/api/v1/auth/token", data={"username": user.email.upper(), "password": PASSWORD}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer"
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json()["role"] == "engineer"
    assert me.json()["department"] == "lighting"
    assert me.json()["organization"]["slug"] == "sandnes"


def test_participant_me_shows_no_contact_details(client: SyncClient, world: World) -> None:
    me = client.get("/api/v1/me", headers=world.headers("participant")).json()
    assert me["kind"] == "participant"
    assert me["walk_id"] == str(world.walk.id)
    assert me["email"] is None


def test_wrong_password_is_401(client: SyncClient, world: World) -> None:
    r = client.post(
        "/api/v1/auth/token", data={"username": world.users["admin"].email, "password": "nope"}
    )
    assert _problem(r, 401)["detail"] == "wrong email or password"
    r = client.post(
        "/api/v1/auth/token", data={"username": "ghost@example.org", "password": "nope"}
    )
    assert _problem(r, 401)["detail"] == "wrong email or password"


def test_password_guessing_is_throttled(client: SyncClient, world: World) -> None:
    email = world.users["planner"].email
    codes = [
        client.post("/api/v1/auth/token", data={"username": email, "password": f"x{i}"}).status_code
        for i in range(12)
    ]
    assert codes[:10] == [401] * 10
    assert codes[10] == 429


def _forge(
    app: Any, world: World, *, secret: str | None = None, alg: str = ALGORITHM, **claims: Any
) -> str:
    user = world.users["admin"]
    now = utcnow()
    payload = {
        "iss": app.state.settings.token_issuer,
        "aud": app.state.settings.token_audience,
        "sub": str(user.id),
        "typ": "staff",
        "org": str(user.organization_id),
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(hours=1)).timestamp()),
    }
    payload.update(claims)
    return jwt.encode(payload, secret or app.state.secret, algorithm=alg)


def _b64(obj: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")


def _bad_tokens(app: Any, world: World) -> dict[str, tuple[dict[str, str], str]]:
    good = staff_token(app, world.users["admin"])
    head, payload, sig = good.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["org"] = str(world.other_org.id)
    none_token = _b64({"alg": "none", "typ": "JWT"}) + "." + payload + "."
    return {
        "missing": ({}, "authentication required"),
        "not-bearer": ({"Authorization": f"Basic {good}"}, "malformed Authorization header"),
        "malformed": ({"Authorization": "Bearer not.a.jwt"}, "malformed token"),
        "expired": (
            {
                "Authorization": "Bearer "
                + _forge(
                    app,
                    world,
                    exp=int((utcnow() - timedelta(hours=1)).timestamp()),
                    iat=int((utcnow() - timedelta(hours=2)).timestamp()),
                )
            },
            "token expired",
        ),
        "wrong-audience": (
            {"Authorization": "Bearer " + _forge(app, world, aud="someone-else")},
            "another audience",
        ),
        "wrong-issuer": (
            {"Authorization": "Bearer " + _forge(app, world, iss="evil")},
            "another issuer",
        ),
        "alg-none": ({"Authorization": f"Bearer {none_token}"}, "algorithm 'none' is not accepted"),
        "alg-hs512": (
            {"Authorization": "Bearer " + _forge(app, world, alg="HS512")},
            "algorithm 'HS512' is not accepted",
        ),
        "tampered-payload": (
            {"Authorization": f"Bearer {head}.{_b64(claims)}.{sig}"},
            "signature does not verify",
        ),
        "other-key": (
            {
                "Authorization": "Bearer "
                + _forge(
                    app,
                    world,
                    secret="another-key-that-is-also-long-enough-0123456789-abcdefghijklmnopqrstuv",
                )
            },
            "signature does not verify",
        ),
        "no-exp": ({"Authorization": "Bearer " + _forge(app, world, exp=None)}, "token"),
        "unknown-user": (
            {
                "Authorization": "Bearer "
                + _forge(app, world, sub="00000000-0000-0000-0000-000000000000")
            },
            "unknown or disabled account",
        ),
    }


CASES = [
    "missing",
    "not-bearer",
    "malformed",
    "expired",
    "wrong-audience",
    "wrong-issuer",
    "alg-none",
    "alg-hs512",
    "tampered-payload",
    "other-key",
    "no-exp",
    "unknown-user",
]


@pytest.mark.parametrize("case", [pytest.param(c, id=c) for c in CASES])
def test_bad_credentials_get_a_clear_401(
    client: SyncClient, app: Any, world: World, case: str
) -> None:
    headers, expected = _bad_tokens(app, world)[case]
    body = _problem(client.get("/api/v1/users", headers=headers), 401)
    assert expected in body["detail"]
    assert body["title"] == "Unauthorized"


def test_admin_creates_and_lists_users(client: SyncClient, world: World) -> None:
    h = world.headers("admin")
    r = client.post(
        "/api/v1/users",
        headers=h,
        json={
            "email": "Per@Sandnes.no",
            "password": "a long password",
            "role": "engineer",
            "department": "parks",
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["email"] == "per@sandnes.no"
    assert "password" not in r.text
    assert "argon2" not in r.text
    emails = []
    url: str | None = "/api/v1/users?limit=2"
    while url:
        page = client.get(url, headers=h).json()
        emails += [u["email"] for u in page["items"]]
        url = page["next"]
    assert "per@sandnes.no" in emails
    assert len(emails) == len(set(emails)) == 5  # four roles + the new one; not the other org's


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        pytest.param(
            {
                "email": "x@y.no",
                "password": "long enough pw",
                "role": "admin",
                "organization_id": "00000000-0000-0000-0000-000000000000",
            },
            ["body", "organization_id"],
            id="smuggled-organization",
        ),
        pytest.param(
            {"email": "x@y.no", "password": "long enough pw", "role": "superuser"},
            ["body", "role"],
            id="unknown-role",
        ),
        pytest.param(
            {"email": "x@y.no", "password": "short", "role": "planner"},
            ["body", "password"],
            id="short-password",
        ),
        pytest.param(
            {"email": "x@y.no", "password": "long enough pw", "role": "engineer"},
            ["body", "department"],
            id="engineer-without-department",
        ),
        pytest.param(
            {"email": "not-an-email", "password": "long enough pw", "role": "planner"},
            ["body", "email"],
            id="bad-email",
        ),
    ],
)
def test_user_input_is_validated(
    client: SyncClient, world: World, body: dict[str, Any], loc: list[str]
) -> None:
    r = client.post("/api/v1/users", headers=world.headers("admin"), json=body)
    assert _problem(r, 422)["errors"][0]["loc"] == loc


def test_duplicate_email_is_409(client: SyncClient, world: World) -> None:
    body = {"email": world.users["planner"].email, "password": "long enough pw", "role": "planner"}
    _problem(client.post("/api/v1/users", headers=world.headers("admin"), json=body), 409)


def test_secret_is_generated_once_and_kept(tmp_path: Any) -> None:
    s = Settings(data_dir=tmp_path, database_url="sqlite:///:memory:")
    first = resolve_secret(s)
    assert len(first) >= 32
    assert resolve_secret(s) == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(
    "secret",
    [pytest.param("changeme", id="known-default"), pytest.param("short-secret", id="too-short")],
)
def test_weak_secret_refused_outside_development(tmp_path: Any, secret: str) -> None:
    s = Settings(
        environment="production",
        data_dir=tmp_path,
        secret_key=secret,
        database_url="sqlite:///:memory:",
    )
    with pytest.raises(WeakSecret):
        create_app(s)
    # In development it is tolerated, so a laptop set-up keeps working.
    assert (
        resolve_secret(Settings(environment="development", data_dir=tmp_path, secret_key=secret))
        == secret
    )
