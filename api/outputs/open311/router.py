"""Open311 GeoReport v2 routes under ``/open311/v2/``, each in ``.json`` and ``.xml``.

Thin: read the parameters, call ``api.outputs.open311.server``, write the answer in the asked format.
Every error under ``/open311/``, ours or the framework's, is turned into a GeoReport error list
by ``api.outputs.open311.edge``. Every call takes ``jurisdiction_id`` and ``api_key``, as GeoReport v2
lets a client send them anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from api.action_items.deps_router import RulesDep
from api.http.deps import SessionDep
from api.http.export_links import media_url_builder
from api.outputs.open311 import formats, server
from models import Organization, utcnow

PREFIX = "/open311/v2"
STARTED = utcnow()


router = APIRouter(prefix=PREFIX, tags=["open311"])


def _answer(fmt: str, root: str, item: str | None, data: Any) -> Response:
    body, media = formats.render(formats.check_format(fmt), root, item, data)
    return Response(body, media_type=media)


async def _form(request: Request) -> dict[str, str]:
    """Form-encoded (as FixMyStreet sends it) or multipart; the first value of each field."""
    form = await request.form()
    out: dict[str, str] = {}
    for k, v in form.multi_items():
        if isinstance(v, str):
            out.setdefault(k, v)
    return out


FormDep = Annotated[dict[str, str], Depends(_form)]


# Every query parameter is declared (an undeclared one is refused, never silently ignored).
Jurisdiction = Annotated[
    str | None,
    Query(description="the organization's slug; optional with one organization or an api_key"),
]
ApiKey = Annotated[
    str | None,
    Query(description="an integration key of the organization; accepted on every call"),
]
W3CDate = Annotated[str | None, Query(description="W3C datetime with offset")]


@dataclass(frozen=True)
class Address:
    """What a GeoReport v2 client may send on any call: ``jurisdiction_id`` and ``api_key``."""

    jurisdiction_id: str | None
    api_key: str | None


def _query_address(jurisdiction_id: Jurisdiction = None, api_key: ApiKey = None) -> Address:
    return Address(jurisdiction_id, api_key)


def _form_address(
    form: FormDep, jurisdiction_id: Jurisdiction = None, api_key: ApiKey = None
) -> Address:
    """A POST carries them in its form (as FixMyStreet sends them), or else in the query."""
    return Address(form.get("jurisdiction_id") or jurisdiction_id, form.get("api_key") or api_key)


QueryAddress = Annotated[Address, Depends(_query_address)]
FormAddress = Annotated[Address, Depends(_form_address)]


def _caller(fmt: str, session: SessionDep, address: Address) -> server.Caller:
    """Who asks (by the jurisdiction and key), once the format is known to be one we answer in."""
    formats.check_format(fmt)
    caller = server.addressed(session, address.jurisdiction_id, address.api_key)
    assert caller is not None
    return caller


def _query_caller(fmt: str, session: SessionDep, address: QueryAddress) -> server.Caller:
    return _caller(fmt, session, address)


QueryCaller = Annotated[server.Caller, Depends(_query_caller)]


@dataclass(frozen=True)
class Reading:
    """A GET of service requests: the organization read, whether the reader sees everything
    (a key) or the published view, and how photo links are written for it."""

    org: Organization
    full: bool
    media_url: server.MediaUrl


def _reading(request: Request, caller: QueryCaller) -> Reading:
    return Reading(caller.org, server.reader(caller), media_url_builder(request, caller.org))


ReadingDep = Annotated[Reading, Depends(_reading)]


def _params(**values: str | None) -> dict[str, str]:
    return {k: v for k, v in values.items() if v is not None}


@router.get("/discovery.{fmt}", summary="Open311 discovery")
def discovery(fmt: str, request: Request, session: SessionDep, address: QueryAddress) -> Response:
    formats.check_format(fmt)
    # Not an organization's: a jurisdiction_id or api_key sent along is still checked.
    server.addressed(session, address.jurisdiction_id, address.api_key, required=False)
    base = str(request.url_for("discovery", fmt="json")).rsplit("/", 1)[0] + "/"
    return _answer(fmt, "discovery", None, server.discovery(base, STARTED))


@router.get("/services.{fmt}", summary="Services: the actionable categories")
def services(fmt: str, session: SessionDep, caller: QueryCaller) -> Response:
    return _answer(fmt, "services", "service", server.services(session, caller.org))


@router.get("/services/{code}.{fmt}", summary="A service definition")
def service_definition(code: str, fmt: str, session: SessionDep, caller: QueryCaller) -> Response:
    definition = server.service_definition(session, caller.org, code)
    return _answer(fmt, "service_definition", None, definition)


@router.get("/requests.{fmt}", summary="Service requests: the action items")
def list_requests(
    fmt: str,
    session: SessionDep,
    reading: ReadingDep,
    service_request_id: Annotated[str | None, Query(description="comma-separated ids")] = None,
    service_code: str | None = None,
    status: Annotated[str | None, Query(description="open or closed")] = None,
    start_date: W3CDate = None,
    end_date: W3CDate = None,
) -> Response:
    params = _params(
        service_request_id=service_request_id, service_code=service_code, status=status,
        start_date=start_date, end_date=end_date,
    )  # fmt: skip
    f = server.parse_filter(params)
    records = server.list_requests(session, reading.org, f, reading.media_url, full=reading.full)
    return _answer(fmt, "service_requests", "request", records)


@router.post("/requests.{fmt}", summary="Post a service request (becomes an observation)")
def post_request(
    fmt: str, form: FormDep, session: SessionDep, rules: RulesDep, address: FormAddress
) -> Response:
    caller = _caller(fmt, session, address)
    key = server.required_key(caller)
    posted = server.post_request(session, caller.org, key, form, rules)
    body, media = formats.render(fmt, "service_requests", "request", [server.posted_record(posted)])
    return Response(body, media_type=media, status_code=201)


@router.get("/requests/{id}.{fmt}", summary="One service request")
def get_request(id: str, fmt: str, session: SessionDep, reading: ReadingDep) -> Response:
    records = server.get_request(session, reading.org, id, reading.media_url, full=reading.full)
    return _answer(fmt, "service_requests", "request", records)


@router.get("/tokens/{token}.{fmt}", summary="The request id behind a token")
def token(token: str, fmt: str, session: SessionDep, caller: QueryCaller) -> Response:
    server.required_key(caller)
    records = server.token_records(session, caller.org, token)
    return _answer(fmt, "service_requests", "request", records)


@router.get("/servicerequestupdates.{fmt}", summary="Status changes since a time")
def request_updates(
    fmt: str,
    session: SessionDep,
    caller: QueryCaller,
    start_date: W3CDate = None,
    end_date: W3CDate = None,
) -> Response:
    server.required_key(caller)
    records = server.updates(session, caller.org, _params(start_date=start_date, end_date=end_date))
    return _answer(fmt, "service_requests_updates", "request_update", records)
