"""Every error a service raises is a catalogue message: no English literal as a problem
detail, every message id in every language with the placeholders the raising code fills in,
and the detail and the errors list rendered in the reader's language.

The raise sites are read from the source (Python's ``ast``), so a new error with an English
literal fails here before anyone reads it in the wrong language."""

from __future__ import annotations

import ast
import string
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog

from api.core.errors import Busy, DomainError, InvalidInput, Message, NotFound
from api.core.i18n import LANGUAGES, Language, decimal, translate
from api.core.i18n.catalogues import SOURCE_LOCALE_DIR, read_catalog
from api.outputs.ogc.crs import BadParameter
from geo.geojson import GeometryError, parse_geometry

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted([*ROOT.glob("api/**/*.py"), *ROOT.glob("models/**/*.py"), *ROOT.glob("geo/*.py")])

# Errors that are not problem details for a person: Open311 answers machine clients in the
# GeoReport error format of its standard, and backup errors go to an operator's terminal.
NOT_PEOPLE_FACING = {"Open311Error", "BackupError"}
# Where a message id is passed on from the exception that carried it.
FORWARDED = {"exc.key", "key", "message", "missing", "first['key']"}


@dataclass(frozen=True)
class Site:
    where: str
    cls: str
    key: str | None  # None: an English literal, or nothing at all
    params: frozenset[str] | None  # None: built at run time, not checked here


def _error_classes(trees: dict[Path, ast.Module]) -> set[str]:
    classes = {"DomainError"}
    grown = True
    while grown:
        grown = False
        for tree in trees.values():
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef) and node.name not in classes:
                    if any(isinstance(b, ast.Name) and b.id in classes for b in node.bases):
                        classes.add(node.name)
                        grown = True
    return classes


def _dict_keys(node: ast.expr | None) -> frozenset[str] | None:
    if isinstance(node, ast.Dict) and all(isinstance(k, ast.Constant) for k in node.keys):
        return frozenset(str(k.value) for k in node.keys if isinstance(k, ast.Constant))
    return None


def _key_of(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value if node.value.startswith("error.") else None
    return f"<{ast.unparse(node)}>" if ast.unparse(node) in FORWARDED else None


def raise_sites() -> Iterator[Site]:
    trees = {p: ast.parse(p.read_text(encoding="utf-8")) for p in SOURCES}
    classes = _error_classes(trees) - NOT_PEOPLE_FACING
    for path, tree in trees.items():
        rel = path.relative_to(ROOT)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func, where = node.func, f"{rel}:{node.lineno}"
            if isinstance(func, ast.Attribute) and func.attr == "at":
                if not (isinstance(func.value, ast.Name) and func.value.id in classes):
                    continue
                key = _key_of(node.args[1]) if len(node.args) > 1 else None
                named = [k for k in node.keywords if k.arg is not None]
                forwarded = any(k.arg is None for k in node.keywords)
                params = None if forwarded else frozenset(k.arg for k in named if k.arg)
                yield Site(where, func.value.id, key, params)
            elif isinstance(func, ast.Name) and func.id in classes:
                kw = {k.arg: k.value for k in node.keywords if k.arg}
                literal = bool(node.args) and not (
                    isinstance(node.args[0], ast.Constant) and node.args[0].value is None
                )
                key = _key_of(kw["key"]) if "key" in kw else None
                if func.id == "Busy" and not node.args and "key" not in kw:
                    key = "error.busy"  # its own default message
                if literal:
                    key = None  # an English detail, whatever else it carries
                params = _dict_keys(kw["params"]) if "params" in kw else frozenset()
                yield Site(where, func.id, key, params)


@cache
def _catalog(lang: Language) -> Catalog:
    return read_catalog(lang, "server", SOURCE_LOCALE_DIR)


def _english(key: str) -> str:
    message = _catalog(Language.en).get(key)
    return str(message.string) if message is not None else ""


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _keys_in_code() -> set[str]:
    keys = set()
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if node.value.startswith("error.") and node.value[6:].isidentifier():
                    keys.add(node.value)
    return keys


SITES = list(raise_sites())
KEYS = sorted(_keys_in_code())


def test_every_raised_error_names_a_catalogue_message() -> None:
    assert len(SITES) > 200
    english_literals = [f"{s.where} {s.cls}" for s in SITES if s.key is None]
    assert english_literals == [], "raise these with key=... (or InvalidInput.at(loc, key))"


def test_the_raising_code_fills_in_every_placeholder() -> None:
    wrong = []
    for site in SITES:
        if site.key is None or site.key.startswith("<") or site.params is None:
            continue
        wanted = _placeholders(_english(site.key))
        if site.params != wanted:
            wrong.append(
                f"{site.where} {site.key}: gives {sorted(site.params)}, needs {sorted(wanted)}"
            )
    assert wrong == []


@pytest.mark.parametrize("lang", LANGUAGES, ids=str)
def test_every_error_message_in_every_language(lang: Language) -> None:
    """Each message id the code names, through the language's catalogue: present, translated,
    with English's placeholders, and fillable."""
    assert len(KEYS) > 200
    catalog = _catalog(lang)
    missing, mismatched = [], []
    for key in KEYS:
        message = catalog.get(key)
        if message is None or not str(message.string).strip():
            missing.append(key)
            continue
        wanted = _placeholders(_english(key))
        if _placeholders(str(message.string)) != wanted:
            mismatched.append(key)
            continue
        text = translate(key, lang, **{name: "X" for name in wanted})
        assert "{" not in text.replace("{{", ""), key
    assert missing == []
    assert mismatched == []


def test_a_placeholder_the_code_does_not_fill_is_caught() -> None:
    """The walk above can fail: a site that gives the wrong names is reported."""
    site = Site("x.py:1", "Conflict", "error.area_code_taken", frozenset({"slug"}))
    assert site.params != _placeholders(_english(site.key or ""))


@pytest.mark.parametrize("lang", LANGUAGES, ids=str)
def test_a_field_error_in_the_readers_language(lang: Language) -> None:
    exc = InvalidInput.at(["body", "password"], "error.password_too_short", min_length=12)
    message = translate("error.password_too_short", lang, min_length=12)
    assert "12" in message
    assert exc.detail_in(lang) == f"body.password: {message}"
    assert exc.errors_in(lang) == [{"loc": ["body", "password"], "msg": message}]
    # Logs and the command line read English.
    assert exc.detail == "body.password: at least 12 characters"


@pytest.mark.parametrize("lang", LANGUAGES, ids=str)
def test_keyed_entries_of_an_errors_list_are_translated(lang: Language) -> None:
    exc = NotFound(
        key="error.no_such_tile", errors=[{"loc": ["path", "z"], "key": "error.not_a_tile_number"}]
    )
    assert exc.detail_in(lang) == translate("error.no_such_tile", lang)
    assert exc.errors_in(lang) == [
        {"loc": ["path", "z"], "msg": translate("error.not_a_tile_number", lang)}
    ]


@pytest.mark.parametrize("lang", LANGUAGES, ids=str)
def test_a_geometry_error_keeps_its_message_id(lang: Language) -> None:
    with pytest.raises(GeometryError) as caught:
        parse_geometry({"type": "Point", "coordinates": [200, 10]}, {"Point"})
    exc = InvalidInput.at(
        ["body", "location", *caught.value.loc], caught.value.key, **caught.value.params
    )
    assert exc.loc == ["body", "location", "coordinates", 0]
    assert exc.detail_in(lang).endswith(translate("error.geo_lon", lang, lon=decimal(200.0, lang)))
    assert "200" in exc.detail_in(lang)


def test_an_ogc_parameter_is_named_as_sent() -> None:
    exc = BadParameter.at("limit", "error.ogc_not_integer", raw="x")
    assert exc.detail_in("sv") == "limit: 'x' är inte ett heltal"
    assert exc.errors_in("sv") == [{"loc": ["query", "limit"], "msg": "'x' är inte ett heltal"}]


def test_busy_says_it_in_the_readers_language() -> None:
    assert Busy().detail_in("fi") == translate("error.busy", "fi")
    assert Busy().headers == {"Retry-After": "1"}


def test_an_error_needs_a_message() -> None:
    with pytest.raises(TypeError):
        DomainError()


# Placeholders that take a code with a label (a role, an item or walk status): the raising code gives
# the label's message (``Message("role.engineer")``), so that no reader meets "engineer" or
# "in_progress" in a sentence of their own language.
LABELLED = {"role", "status", "src", "dst", "target"}


def _gives_a_message(node: ast.expr) -> bool:
    if isinstance(node, ast.IfExp):
        return _gives_a_message(node.body) or _gives_a_message(node.orelse)
    return isinstance(node, ast.Call) and ast.unparse(node.func) == "Message"


def test_a_role_or_status_is_given_in_words() -> None:
    raw = []
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Dict):
                continue
            for k, v in zip(node.keys, node.values, strict=True):
                if isinstance(k, ast.Constant) and k.value in LABELLED and v is not None:
                    if not _gives_a_message(v) and _is_error_params(node, path):
                        raw.append(f"{path.relative_to(ROOT)}:{node.lineno} {k.value}")
    assert raw == []


@cache
def _error_param_dicts(path: Path) -> frozenset[int]:
    """The line numbers of the ``params={...}`` dicts (and ``words`` dicts passed as params)
    of the errors raised in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: dict[str, int] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    names[target.id] = node.value.lineno
    lines = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for kw in node.keywords:
                if kw.arg == "params" and isinstance(kw.value, ast.Dict):
                    lines.add(kw.value.lineno)
                elif kw.arg == "params" and isinstance(kw.value, ast.Name):
                    lines.add(names.get(kw.value.id, -1))
    return frozenset(lines)


def _is_error_params(node: ast.Dict, path: Path) -> bool:
    return node.lineno in _error_param_dicts(path)


def test_every_labelled_code_has_its_label() -> None:
    """The labels those messages are given, for every code the models have."""
    from api.auth import policy
    from api.core.i18n import has
    from models import ActionStatus, Role, WalkStatus

    keys = [
        *(f"role.{r}" for r in [*Role, policy.PARTICIPANT]),
        *(f"status.{s}" for s in ActionStatus),
        *(f"walk_status.{s}" for s in WalkStatus),
    ]
    assert [k for k in keys if not has(k)] == []
    # And they are the labels, not the codes, in every language.
    for lang in LANGUAGES:
        assert "engineer" not in translate(
            "error.role_may_not", lang, role=translate("role.engineer", lang)
        )
    error = DomainError(key="error.move_forbidden", params={
        "role": Message("role.engineer"), "src": Message("status.in_progress"),
        "dst": Message("status.wont_fix"),
    })  # fmt: skip
    assert error.message_in("sv") == (
        "rollen ”Handläggare” får inte flytta en åtgärd från ”Pågår” till ”Åtgärdas inte”"
    )
