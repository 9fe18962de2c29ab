"""schemathesis over the app's own ``/openapi.json``, once per kind of caller, on both databases.

Every operation in the document is fuzzed, so routes added later are covered without anyone
listing them. Bounded and seeded (``derandomize``): the same inputs on every run. A failing
example is collected, not shrunk, so one run reports every failing operation at once.

Required of every response: not a server error; a status the operation declares; the declared
content type; a body that conforms to the declared schema; the declared headers.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core import NOT_SET
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.auth import policy
from tests.factories.world import World

CALLERS = ["admin", "coordinator", "engineer", "planner", "participant", "anonymous"]
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
# Per operation, caller and mode. Small on purpose: 6 callers x 2 databases x every operation
# x both modes must stay within the suite's time budget. A caller the policy refuses gets the
# same 401/403 whatever it sends: one example shows that answer is declared and well formed.
EXAMPLES = {GenerationMode.POSITIVE: 2, GenerationMode.NEGATIVE: 1}
REFUSED_EXAMPLES = {GenerationMode.POSITIVE: 1}


def _real_ids(world: World) -> dict[str, str]:
    return {
        "walks": str(world.walk.id),
        "areas": str(world.objects["area"].id),
    }


def _pin_path(case: Any, ids: dict[str, str]) -> None:
    """Point ``{id}`` at a real object of the caller's organization, so the fuzz gets past the
    lookup and into the route."""
    for name in list(case.path_parameters or {}):
        if name != "id":
            continue
        head = case.operation.path.split("/{")[0].rstrip("/").split("/")[-1]
        if head in ids:
            case.path_parameters[name] = ids[head]


# The requests drawn per operation and mode (``EXAMPLES`` of them). Seeded (``derandomize``),
# they are the same for every caller and both databases, and drawing them (schemathesis'
# strategies, many draws filtered away) was most of a fuzz test's CPU: each test process draws
# them once, and every caller sends the same requests with its own credentials and ids (a
# refused caller the first of them).
_DRAWN: dict[tuple[str, str], list[dict[str, Any]]] = {}


def _drawn(operation: Any, mode: GenerationMode, examples: int) -> list[Any]:
    """The first ``examples`` generated cases of ``operation`` in ``mode``, as new objects."""
    key = (operation.label, mode.value)
    if key not in _DRAWN:
        drawn: list[dict[str, Any]] = []

        @settings(
            max_examples=EXAMPLES[mode],
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def draw(case: Any) -> None:
            drawn.append(
                {
                    "method": case.method,
                    "path_parameters": case.path_parameters,
                    "headers": dict(case.headers),
                    "cookies": case.cookies,
                    "query": case.query,
                    "body": case.body,
                    "media_type": case.media_type,
                    "multipart_content_types": case.multipart_content_types,
                    "_meta": case._meta,
                }
            )

        try:
            draw()
        except Unsatisfiable:
            pass  # nothing to negate: the operation takes no input
        _DRAWN[key] = [copy.deepcopy(fields, {id(NOT_SET): NOT_SET}) for fields in drawn]
    return [
        operation.Case(**copy.deepcopy(fields, {id(NOT_SET): NOT_SET}))
        for fields in _DRAWN[key][:examples]
    ]


def _fuzz(
    operation: Any,
    mode: GenerationMode,
    examples: int,
    headers: dict[str, str],
    ids: dict[str, str],
    failures: list[str],
) -> int:
    """Send ``examples`` generated requests to one operation; return how many were sent."""
    cases = _drawn(operation, mode, examples)
    for n, case in enumerate(cases):
        if n % 2 == 0:
            _pin_path(case, ids)
        sent = {**headers, **({"If-Match": "*"} if n % 3 == 0 else {})}
        response = case.call(headers=sent)
        try:
            case.validate_response(response, checks=CHECKS, headers=sent)
        except (Exception, FailureGroup) as exc:  # collected, not shrunk: reports every one
            failures.append(f"{operation.label} [{mode.value}]: {str(exc)[:1500]}")
    return len(cases)


@pytest.mark.parametrize("caller", CALLERS)
def test_fuzz_every_operation(app: Any, world: World, caller: str) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    headers = world.headers(caller)
    ids = _real_ids(world)
    failures: list[str] = []
    calls = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        allowed = policy.allowed(operation.method.upper(), operation.path) or frozenset()
        plan = EXAMPLES if caller in allowed else REFUSED_EXAMPLES
        for mode, examples in plan.items():
            calls += _fuzz(operation, mode, examples, headers, ids, failures)
    assert calls > 40  # the generator found the operations
    assert failures == [], "\n\n".join(failures[:20]) + f"\n\n({len(failures)} failures)"
