"""Never ignore a query parameter silently: one that the route does not declare is a 422.

A filter with a typo (``?action_item=...``) used to return everything, which reads like an
answer. Applied once to every API route (app.py), from the route's own declared parameters,
including those of its dependencies.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from api.core.errors import InvalidInput

_KNOWN: dict[int, frozenset[str]] = {}


def _query_names(dependant: Dependant, seen: set[int]) -> set[str]:
    if id(dependant) in seen:
        return set()
    seen.add(id(dependant))
    names = {p.alias for p in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub, seen)
    return names


def declared_query_names(route: APIRoute) -> frozenset[str]:
    names = _KNOWN.get(id(route))
    if names is None:
        names = frozenset(_query_names(route.dependant, set()))
        _KNOWN[id(route)] = names
    return names


def reject_unknown_query(request: Request) -> None:
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    known = declared_query_names(route)
    unknown = [name for name in dict.fromkeys(request.query_params.keys()) if name not in known]
    if not unknown:
        return
    accepted = ", ".join(sorted(known)) or "none"
    raise InvalidInput(
        errors=[{"loc": ["query", n], "key": "error.unknown_query_parameter"} for n in unknown],
        key="error.unknown_query",
        params={"name": unknown[0], "accepted": accepted},
    )
