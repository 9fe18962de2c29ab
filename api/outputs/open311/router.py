"""Open311 GeoReport v2 routes under ``/open311/v2/``, each in ``.json`` and ``.xml``.

Thin: read the parameters, call ``api.outputs.open311.server``, write the answer in the asked format.
Every error on these routes, ours or the framework's, is a GeoReport error list with its HTTP
status, in the format of the path, so Open311 clients can read it.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from api.action_items.deps import RulesDep
from api.core.errors import DomainError
from api.http.deps import SessionDep
from api.outputs.open311 import formats, server
from api.outputs.open311.formats import Open311Error
from api.outputs.open311.links import media_url_builder
from models import utcnow

PREFIX = "/open311/v2"
STARTED = utcnow()


class Open311Route(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except Open311Error as exc:
                status, description = exc.status, exc.description
            except DomainError as exc:
                # GeoReport v2 knows 400 for a bad request, not 422.
                status, description = (400 if exc.status == 422 else exc.status), exc.detail
            except RequestValidationError as exc:
                first = exc.errors()[0] if exc.errors() else {}
                where = ".".join(str(p) for p in first.get("loc", ()))
                status, description = 400, f"{where}: {first.get('msg', 'invalid')}"
            except HTTPException as exc:
                status, description = exc.status_code, str(exc.detail)
            fmt = request.scope.get("path_params", {}).get("fmt", "json")
            body, media = formats.error_body("xml" if fmt == "xml" else "json", status, description)
            return Response(body, status_code=status, media_type=media)

        return handle


router = APIRouter(prefix=PREFIX, tags=["open311"], route_class=Open311Route)


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
    str | None, Query(description="the organization's slug; optional with one organization")
]
ApiKey = Annotated[str | None, Query(description="an integration key of the organization")]
W3CDate = Annotated[str | None, Query(description="W3C datetime with offset")]


def _params(**values: str | None) -> dict[str, str]:
    return {k: v for k, v in values.items() if v is not None}


@router.get("/discovery.{fmt}", summary="Open311 discovery")
def discovery(fmt: str, request: Request) -> Response:
    base = str(request.url_for("discovery", fmt="json")).rsplit("/", 1)[0] + "/"
    return _answer(fmt, "discovery", None, server.discovery(base, STARTED))


@router.get("/services.{fmt}", summary="Services: the actionable categories")
def services(fmt: str, session: SessionDep, jurisdiction_id: Jurisdiction = None) -> Response:
    formats.check_format(fmt)
    org = server.jurisdiction(session, jurisdiction_id)
    return _answer(fmt, "services", "service", server.services(session, org))


@router.get("/services/{code}.{fmt}", summary="A service definition")
def service_definition(
    code: str, fmt: str, session: SessionDep, jurisdiction_id: Jurisdiction = None
) -> Response:
    formats.check_format(fmt)
    org = server.jurisdiction(session, jurisdiction_id)
    return _answer(fmt, "service_definition", None, server.service_definition(session, org, code))


@router.get("/requests.{fmt}", summary="Service requests: the action items")
def list_requests(
    fmt: str,
    request: Request,
    session: SessionDep,
    jurisdiction_id: Jurisdiction = None,
    api_key: ApiKey = None,
    service_request_id: Annotated[str | None, Query(description="comma-separated ids")] = None,
    service_code: str | None = None,
    status: Annotated[str | None, Query(description="open or closed")] = None,
    start_date: W3CDate = None,
    end_date: W3CDate = None,
) -> Response:
    formats.check_format(fmt)
    params = _params(
        jurisdiction_id=jurisdiction_id, api_key=api_key, service_request_id=service_request_id,
        service_code=service_code, status=status, start_date=start_date, end_date=end_date,
    )  # fmt: skip
    org = server.jurisdiction(session, params.get("jurisdiction_id"))
    full = server.reader(session, org, params.get("api_key"))
    records = server.list_requests(
        session, org, server.parse_filter(params), media_url_builder(request, org), full=full
    )
    return _answer(fmt, "service_requests", "request", records)


@router.post("/requests.{fmt}", summary="Post a service request (becomes an observation)")
def post_request(fmt: str, form: FormDep, session: SessionDep, rules: RulesDep) -> Response:
    formats.check_format(fmt)
    org = server.jurisdiction(session, form.get("jurisdiction_id"))
    key = server.authenticate(session, org, form.get("api_key"))
    posted = server.post_request(session, org, key, form, rules)
    body, media = formats.render(fmt, "service_requests", "request", [server.posted_record(posted)])
    return Response(body, media_type=media, status_code=201)


@router.get("/requests/{id}.{fmt}", summary="One service request")
def get_request(
    id: str,
    fmt: str,
    request: Request,
    session: SessionDep,
    jurisdiction_id: Jurisdiction = None,
    api_key: ApiKey = None,
) -> Response:
    formats.check_format(fmt)
    params = _params(jurisdiction_id=jurisdiction_id, api_key=api_key)
    org = server.jurisdiction(session, params.get("jurisdiction_id"))
    full = server.reader(session, org, params.get("api_key"))
    records = server.get_request(session, org, id, media_url_builder(request, org), full=full)
    return _answer(fmt, "service_requests", "request", records)


@router.get("/tokens/{token}.{fmt}", summary="The request id behind a token")
def token(
    token: str,
    fmt: str,
    session: SessionDep,
    jurisdiction_id: Jurisdiction = None,
    api_key: ApiKey = None,
) -> Response:
    formats.check_format(fmt)
    params = _params(jurisdiction_id=jurisdiction_id, api_key=api_key)
    org = server.jurisdiction(session, params.get("jurisdiction_id"))
    server.authenticate(session, org, params.get("api_key"))
    return _answer(fmt, "service_requests", "request", server.token_records(session, org, token))


@router.get("/servicerequestupdates.{fmt}", summary="Status changes since a time")
def request_updates(
    fmt: str,
    session: SessionDep,
    jurisdiction_id: Jurisdiction = None,
    api_key: ApiKey = None,
    start_date: W3CDate = None,
    end_date: W3CDate = None,
) -> Response:
    formats.check_format(fmt)
    params = _params(
        jurisdiction_id=jurisdiction_id, api_key=api_key, start_date=start_date, end_date=end_date
    )
    org = server.jurisdiction(session, params.get("jurisdiction_id"))
    server.authenticate(session, org, params.get("api_key"))
    records = server.updates(session, org, params)
    return _answer(fmt, "service_requests_updates", "request_update", records)
