"""The rooms of the house import downwards only: read from the code's own imports.

Layers, from the bottom: ``geo`` (pure geometry), ``models`` (tables), ``api/core`` and
``api/settings.py``, ``api/http`` (the edge: session, middleware, docs), the domains (one folder
each), ``api/outputs`` (formats over the domains' reads), ``api/jobs`` (work outside a request),
and ``api/app.py`` and ``api/cli.py`` on top. FastAPI is spoken by routers only (``router.py``,
and ``*_router.py``: more routes, or the FastAPI dependencies a domain offers the routers),
``api/http`` and ``api/app.py``; use cases import no FastAPI and no router. A few rules of one
home each are checked here by reading the code too: which database it is on is known in
``api/core/dialect.py`` alone, and the earth's size is written once, in ``geo/units.py``.
"""

from __future__ import annotations

import ast
import re
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
    "assets",
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


def is_router(path: Path) -> bool:
    """``router.py`` or ``*_router.py``: the modules of a domain or output that speak HTTP."""
    return path.name.endswith("router.py")


def test_only_routes_and_dependencies_of_a_domain_speak_http() -> None:
    """A domain's use cases take plain values (a Principal, a session), never a request."""
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for domain in DOMAINS
        for path in sorted((ROOT / "api" / domain).glob("*.py"))
        if not is_router(path)
        for line, name in imports(path)
        if name.split(".")[0] in HTTP_LIBRARIES or part(name) == "http"
    ]
    assert wrong == []


def test_fastapi_only_in_routers_http_and_the_app() -> None:
    """The core, the domains' use cases, the outputs' formats, the jobs, the models and geo
    know no web framework: HTTP is the routers' and ``api/http``'s business."""
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in sources()
        if not is_router(path) and part(module_of(path)) not in ("http", "entry")
        for line, name in imports(path)
        if name.split(".")[0] == "fastapi"
    ]
    assert wrong == []


def test_only_routers_and_the_app_import_routers() -> None:
    """Use cases never import a router: a router calls use cases, not the other way round."""
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in sources()
        if not is_router(path) and part(module_of(path)) != "entry"
        for line, name in imports(path)
        if part(name) is not None and re.search(r"(^|_|\.)router(\.|$)", name)
    ]
    assert wrong == []


def _code_of(path: Path) -> str:
    """The file without comments and docstrings: what it does, not what it says."""
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            if isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
                body[0] = ast.Pass()
    return ast.unparse(tree)


def test_which_database_is_known_in_the_dialect_module_alone() -> None:
    """No ``dialect.name`` outside ``api/core/dialect.py``, and no dialect name passed along
    (a parameter or attribute called ``dialect`` holding a string)."""
    home = ROOT / "api" / "core" / "dialect.py"
    wrong = [
        str(path.relative_to(ROOT))
        for path in sources()
        if path != home and re.search(r"\.dialect\.name\b|\bdialect\.name\b", _code_of(path))
    ]
    assert wrong == []
    passed = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path in sources()
        if path != home
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.arg | ast.AnnAssign)
        and (node.arg if isinstance(node, ast.arg) else ast.unparse(node.target)) == "dialect"
        and node.annotation is not None
        and ast.unparse(node.annotation) == "str"
    ]
    assert passed == []


EARTH = {
    "the earth's radius": r"\b6_?378_?137(\.0*)?\b",
    "metres per degree": r"\b111_?320(\.0*)?\b",
}


@pytest.mark.parametrize("what", sorted(EARTH))
def test_the_earths_size_is_written_once_in_geo_units(what: str) -> None:
    found = [
        f"{path.relative_to(ROOT)}: {m.group(0)}"
        for path in sources()
        for m in re.finditer(EARTH[what], _code_of(path))
    ]
    assert found == [f"geo/units.py: {'6378137.0' if 'radius' in what else '111320.0'}"]


def test_metres_per_degree_is_defined_once() -> None:
    defined = [
        str(path.relative_to(ROOT))
        for path in sources()
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Assign | ast.AnnAssign | ast.FunctionDef)
        and (
            node.name
            if isinstance(node, ast.FunctionDef)
            else ast.unparse(node.targets[0] if isinstance(node, ast.Assign) else node.target)
        ).lower()
        == "metres_per_degree"
    ]
    assert sorted(defined) == ["geo/units.py", "geo/units.py"]  # the constant and the function


def domain_of(module: str) -> str | None:
    top, _, rest = module.partition(".")
    room = rest.split(".")[0]
    return room if top == "api" and room in DOMAINS else None


def domain_imports() -> dict[str, dict[str, str]]:
    """For each domain, the other domains it imports, each with one place that does."""
    found: dict[str, dict[str, str]] = {d: {} for d in DOMAINS}
    for domain in DOMAINS:
        for path in sorted((ROOT / "api" / domain).rglob("*.py")):
            for line, name in imports(path):
                other = domain_of(name)
                if other is not None and other != domain:
                    found[domain].setdefault(other, f"{path.relative_to(ROOT)}:{line}")
    return found


def circles(graph: dict[str, dict[str, str]]) -> list[str]:
    """Every loop of ``graph`` (each once, from its smallest name), with the place of its last
    import."""
    found: list[str] = []

    def visit(node: str, path: list[str]) -> None:
        for other, where in sorted(graph.get(node, {}).items()):
            if other == path[0]:
                found.append(" -> ".join([*path, other]) + f" ({where})")
            elif other not in path and other > path[0]:
                visit(other, [*path, other])

    for start in sorted(graph):
        visit(start, [start])
    return found


def test_the_domains_stand_on_floors() -> None:
    """Calls between domains run one way: no domain imports one that imports it back, however
    long the way round. A rule two domains share lives in the lower one (or beside its table),
    and a route that composes two domains stands in the higher one."""
    assert circles(domain_imports()) == []


def test_an_import_that_runs_back_up_is_a_circle(tmp_path: Path) -> None:
    """One import from a lower domain to a higher one closes a circle, lazy imports too."""
    module = tmp_path / "late.py"
    module.write_text("def f():\n    from api.observations import features\n")
    graph = {
        "areas": {domain_of(name) or "": f"late.py:{line}" for line, name in imports(module)},
        "observations": {"action_items": "capture.py:1"},
        "action_items": {"areas": "router.py:1"},
    }
    assert circles(graph) == [
        "action_items -> areas -> observations -> action_items (capture.py:1)"
    ]


HISTORY = re.compile(r"\b(?:wave|issue)s?\s+(?:\d+|#\d+)", re.IGNORECASE)


def code_and_tests() -> list[Path]:
    """Every file of code or tests this project wrote (no vendored or generated ones)."""
    tops = ("api", "models", "geo", "migrations", "scripts", "bench", "tests")
    found = [p for top in tops for p in (ROOT / top).rglob("*.py")]
    found += [
        p
        for app in ("field", "shared", "staff")
        for p in (ROOT / "web" / app).rglob("*")
        if p.suffix in (".js", ".html", ".css") and "vendor" not in p.parts
    ]
    return sorted(found)


def test_code_and_tests_tell_no_history() -> None:
    """Which issue or wave brought a line is CHANGELOG.md's business, not the code's."""
    told = [
        f"{path.relative_to(ROOT)}:{n}: {m.group(0)}"
        for path in code_and_tests()
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        for m in HISTORY.finditer(line)
    ]
    assert told == []


def test_no_test_module_imports_another() -> None:
    """Helpers that several test modules use live in ``tests/factories/``: a test module, or a
    conftest, is imported by pytest alone (importing one runs its fixtures' module twice)."""
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in sorted((ROOT / "tests").rglob("*.py"))
        for line, name in imports(path)
        if name.startswith("tests.")
        and any(p.startswith("test_") or p == "conftest" for p in name.split(".")[1:])
    ]
    relative = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path in sorted((ROOT / "tests").rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(), str(path)))
        if isinstance(node, ast.ImportFrom) and node.level > 0
    ]
    assert wrong == []
    assert relative == []
