"""docs/configuration.md is generated from ``Settings`` (scripts/config_doc.py), so it cannot
drift: it must equal what the generator writes, and it must name every environment variable
the code, the tests and the deployment files read."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from api.settings import Settings
from scripts import config_doc

ROOT = Path(__file__).resolve().parent.parent

# Where variables are read or set: code, tests, benchmarks and the files that deploy or run it.
SCANNED = ["api", "models", "geo", "migrations", "tests", "bench", "scripts", "deploy"]
SCANNED_FILES = ["Dockerfile", "docker-compose.yml", "Makefile", ".ci/run"]
PREFIXED_NAME = re.compile(r"\bSAFEWALK_[A-Z0-9_]*[A-Z0-9]\b")
ENVIRON_READ = re.compile(r"""(?:environ(?:\.get)?\(|environ\[|getenv\()\s*["']([A-Z0-9_]+)["']""")


def _sources() -> list[Path]:
    files = [ROOT / f for f in SCANNED_FILES if (ROOT / f).exists()]
    for top in SCANNED:
        for path in sorted((ROOT / top).rglob("*")):
            if path.is_file() and path.suffix in {".py", ".sh", ".js", ".yml", ".toml", ""}:
                files.append(path)
    return files


def test_configuration_page_is_what_the_generator_writes() -> None:
    page = config_doc.TARGET
    assert page.exists(), "docs/configuration.md is missing: run `make docs`"
    assert page.read_text(encoding="utf-8") == config_doc.render(), (
        "docs/configuration.md differs from api/settings.py: run `make docs` and commit the page"
    )


@pytest.mark.parametrize("name", list(Settings.model_fields))
def test_every_setting_is_described(name: str) -> None:
    field = Settings.model_fields[name]
    assert field.description, f"Settings.{name} needs Field(description=…) for the docs"
    assert f"### `{config_doc.env_name(name)}`" in config_doc.render()


def test_every_environment_variable_read_anywhere_is_documented() -> None:
    found: dict[str, Path] = {}
    for path in _sources():
        text = path.read_text(encoding="utf-8", errors="replace")
        for name in (*PREFIXED_NAME.findall(text), *ENVIRON_READ.findall(text)):
            found.setdefault(name, path)
    undocumented = {
        name: str(path.relative_to(ROOT))
        for name, path in found.items()
        if name not in config_doc.documented_names()
    }
    assert not undocumented, (
        f"environment variables with no entry in docs/configuration.md: {undocumented}; make "
        "them Settings fields or declare them in scripts/config_doc.py, then run `make docs`"
    )


def test_the_generator_refuses_a_setting_without_a_description(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    field = Settings.model_fields["log_format"]
    monkeypatch.setattr(field, "description", None)
    with pytest.raises(ValueError, match="log_format has no description"):
        config_doc.render()
