"""Open311 GeoReport v2 routes under ``/open311/v2/``, each in ``.json`` and ``.xml``.

Thin: read the parameters, call ``api.open311.server``, write the answer in the asked format.
Every error on these routes, ours or the framework's, is a GeoReport error list with its HTTP
status, in the format of the path, so Open311 clients can read it.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from api.deps import SessionDep
from api.errors import DomainError
from api.open311 import formats, server
from api.open311.formats import Open311Error
from api.open311.links import media_url_builder
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
                status, description = exc.status, exc.detail
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


def _params(request: Request) -> dict[str, str]:
    return {k: v for k, v in request.query_params.items()}


@router.get("/discovery.{fmt}", summary="Open311 discovery")
def discovery(fmt: str, request: Request) -> Response:
    base = str(request.url_for("discovery", fmt="json")).rsplit("/", 1)[0] + "/"
    return _answer(fmt, "discovery", None, server.discovery(base, STARTED))


@router.get("/services.{fmt}", summary="Services: the actionable categories")
def services(fmt: str, request: Request, session: SessionDep) -> Response:
    formats.check_format(fmt)
    org = server.jurisdiction(session, request.query_params.get("jurisdiction_id"))
    return _answer(fmt, "services", "service", server.services(session, org))


@router.get("/services/{code}.{fmt}", summary="A service definition")
def service_definition(code: str, fmt: str, request: Request, session: SessionDep) -> Response:
    formats.check_format(fmt)
    org = server.jurisdiction(session, request.query_params.get("jurisdiction_id"))
    return _answer(fmt, "service_definition", None, server.service_definition(session, org, code))


@router.get("/requests.{fmt}", summary="Service requests: the action items")
def list_requests(fmt: str, request: Request, session: SessionDep) -> Response:
    formats.check_format(fmt)
    params = _params(request)
    org = server.jurisdiction(session, params.get("jurisdiction_id"))
    full = server.reader(session, org, params.get("api_key"))
    records = server.list_requests(
        session, org, server.parse_filter(params), media_url_builder(request, org), full=full
    )
    return _answer(fmt, "service_requests", "request", records)


@router.post("/requests.{fmt}", summary="Post a service request (becomes an observation)")
def post_request(fmt: str, form: FormDep, session: SessionDep) -> Response:
    formats.check_format(fmt)
    org = server.jurisdiction(session, form.get("jurisdiction_id"))
    key = server.authenticate(session, org, form.get("api_key"))
    posted = server.post_request(session, org, key, form)
    body, media = formats.render(fmt, "service_requests", "request", [server.posted_record(posted)])
    return Response(body, media_type=media, status_code=201)


@router.get("/requests/{id}.{fmt}", summary="One service request")
def get_request(id: str, fmt: str, request: Request, session: SessionDep) -> Response:
    formats.check_format(fmt)
    params = _params(request)
    org = server.jurisdiction(session, params.get("jurisdiction_id"))
    full = server.reader(session, org, params.get("api_key"))
    records = server.get_request(session, org, id, media_url_builder(request, org), full=full)
    return _answer(fmt, "service_requests", "request", records)


@router.get("/tokens/{token}.{fmt}", summary="The request id behind a token")
def token(token: str, fmt: str, request: Request, session: SessionDep) -> Response:
    formats.check_format(fmt)
    params = _params(request)
    org = server.jurisdiction(session, params.get("jurisdiction_id"))
    server.authenticate(session, org, params.get("api_key"))
    return _answer(fmt, "service_requests", "request", server.token_records(session, org, token))


@router.get("/servicerequestupdates.{fmt}", summary="Status changes since a time")
def request_updates(fmt: str, request: Request, session: SessionDep) -> Response:
    formats.check_format(fmt)
    params = _params(request)
    org = server.jurisdiction(session, params.get("jurisdiction_id"))
    server.authenticate(session, org, params.get("api_key"))
    records = server.updates(session, org, params)
    return _answer(fmt, "service_requests_updates", "request_update", records)
