"""The rooms of the house import downwards only: read from the code's own imports.

Layers, from the bottom: ``geo`` (pure geometry), ``models`` (tables), ``api/core`` and
``api/settings.py``, ``api/http`` (the edge: session, middleware, docs), the domains (one folder
each), ``api/outputs`` (formats over the domains' reads), ``api/jobs`` (work outside a request),
and ``api/app.py`` and ``api/cli.py`` on top. Inside a domain, only its routes and its FastAPI
dependencies speak HTTP; its use cases import no FastAPI.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOMAINS = (
    "auth",
    "areas",
    "categories",
    "walks",
    "observations",
    "photos",
    "action_items",
    "hotspots",
    "privacy",
    "deadlines",
    "notices",
)
HTTP_LIBRARIES = ("fastapi", "starlette")


def part(module: str) -> str | None:
    """The layer a module of this tree belongs to."""
    top, _, rest = module.partition(".")
    if top in ("geo", "models", "migrations"):
        return top
    if top != "api" or not rest:
        return None
    room = rest.split(".")[0]
    if room in ("core", "settings"):
        return "core"
    if room in DOMAINS:
        return "domains"
    if room in ("http", "outputs", "jobs"):
        return room
    return "entry"  # app.py, cli.py


def imports(path: Path) -> list[tuple[int, str]]:
    """Every module the file imports (``from a import b`` counts as ``a.b``), lazy ones too."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def sources() -> list[Path]:
    return sorted(p for top in ("api", "models", "geo") for p in (ROOT / top).rglob("*.py"))


def module_of(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


NEVER = {
    "geo": {"models", "core", "http", "domains", "outputs", "jobs", "entry"},
    "models": {"core", "http", "domains", "outputs", "jobs", "entry"},
    "core": {"http", "domains", "outputs", "jobs", "entry"},
    "http": {"domains", "outputs", "jobs", "entry"},
    "domains": {"outputs", "jobs", "entry"},
    "outputs": {"jobs", "entry"},
    "jobs": {"entry"},
}


def test_the_layers_are_known() -> None:
    """Every module of api/ stands in a layer; a new folder has to be placed here first."""
    unplaced = [
        str(p.relative_to(ROOT))
        for p in sources()
        if p.parts[-2:] != ("api", "__init__.py")
        and part(module_of(p)) == "entry"
        and p.name not in ("app.py", "cli.py")
    ]
    assert unplaced == []


@pytest.mark.parametrize("layer", sorted(NEVER))
def test_no_layer_imports_one_above_it(layer: str) -> None:
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in sources()
        if part(module_of(path)) == layer
        for line, name in imports(path)
        if part(name) in NEVER[layer]
    ]
    assert wrong == []


def test_only_routes_and_dependencies_of_a_domain_speak_http() -> None:
    """A domain's use cases take plain values (a Principal, a session), never a request."""
    http_facing = ("router.py", "deps.py", "readers.py")  # readers.py: the /ogc callers' deps
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for domain in DOMAINS
        for path in sorted((ROOT / "api" / domain).glob("*.py"))
        if not path.name.endswith(http_facing)
        for line, name in imports(path)
        if name.split(".")[0] in HTTP_LIBRARIES or part(name) == "http"
    ]
    assert wrong == []
