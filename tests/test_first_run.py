"""A fresh machine's first run: `safewalk migrate` exits cleanly, and the native libraries the
wheels bring stay apart from the system's copies that mod_spatialite brings
(api/core/db.py, ``_bind_bundled_libraries``)."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import sysconfig
import textwrap
import tomllib
from collections import Counter
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from packaging.licenses import canonicalize_license_expression
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

SAFEWALK = Path(sys.executable).with_name("safewalk")


def _environ(url: str, data_dir: Path) -> dict[str, str]:
    environ = {**os.environ, "SAFEWALK_DATABASE_URL": url, "SAFEWALK_DATA_DIR": str(data_dir)}
    environ.pop("SAFEWALK_OWNER_DATABASE_URL", None)
    return environ


def test_migrate_on_a_fresh_database_exits_cleanly(fresh_db_url: str, tmp_path: Path) -> None:
    # The console script `make run` calls, in a process of its own: a crash at exit (after the
    # work is done and printed) is only visible from outside.
    proc = subprocess.run(
        [str(SAFEWALK), "migrate"],
        env=_environ(fresh_db_url, tmp_path),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert "double free" not in proc.stderr
    assert proc.returncode == 0, proc.stderr
    assert "database is at the latest schema" in proc.stdout


def test_upgrade_then_backfill_in_one_process_exits_cleanly(tmp_path: Path) -> None:
    # The smallest reproduction: SpatiaLite is loaded by the upgrade, pyproj only afterwards
    # by the backfill's imports.
    url = f"sqlite:///{(tmp_path / 'x.db').as_posix()}"
    code = (
        "from api.core.migrate import upgrade; from api.jobs.backfill import backfill; "
        f"u = {url!r}; upgrade(u); backfill(u)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert "double free" not in proc.stderr
    assert proc.returncode == 0, proc.stderr


# What a manylinux wheel may link against instead of carrying its own (the C and C++
# runtimes, the dynamic linker, zlib, the interpreter): binding to these is as it is meant.
_RUNTIME = re.compile(
    r"/(ld-linux[^/]*|lib(c|m|dl|rt|nsl|util|pthread|resolv|z|gcc_s|stdc\+\+)\.so[^/]*"
    r"|(lib)?python[^/]*)$"
)
# The C++ standard library's inline templates and type information are emitted into every
# C++ library and merged across the process on purpose (one definition), whichever defines them.
_STD_CXX = re.compile(r"^_Z(T[ISV])?Z?(N[KVR]*)?(St|9__gnu_cxx)")
_BINDING = re.compile(r"binding file (\S+) \[\d+\] to (\S+) \[\d+\]: \S+ symbol `([^']+)'")
_STB_GNU_UNIQUE = 10


def _unique_symbols(library: str) -> set[str]:
    """The library's GNU unique symbols (an inline function's static, a template's static
    member): the dynamic linker keeps one per process on purpose, whichever library defined it
    first and whatever the lookup scope, so both copies share one object, built and destroyed
    once. A 64-bit little-endian ELF's .dynsym, read directly (binutils may be absent)."""
    data = Path(library).read_bytes()
    shoff, shentsize, shnum = (
        int.from_bytes(data[0x28:0x30], "little"),
        int.from_bytes(data[0x3A:0x3C], "little"),
        int.from_bytes(data[0x3C:0x3E], "little"),
    )
    sections = [data[shoff + i * shentsize : shoff + (i + 1) * shentsize] for i in range(shnum)]
    names: set[str] = set()
    for sh in sections:
        if int.from_bytes(sh[4:8], "little") != 11:  # SHT_DYNSYM
            continue
        offset, size = int.from_bytes(sh[24:32], "little"), int.from_bytes(sh[32:40], "little")
        strtab = sections[int.from_bytes(sh[40:44], "little")]
        str_off = int.from_bytes(strtab[24:32], "little")
        for at in range(offset, offset + size, 24):
            if data[at + 4] >> 4 != _STB_GNU_UNIQUE:
                continue
            start = str_off + int.from_bytes(data[at : at + 4], "little")
            names.add(data[start : data.index(b"\0", start)].decode())
    return names


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="LD_DEBUG is glibc's")
def test_no_wheel_library_binds_to_the_system_copies_spatialite_brings(tmp_path: Path) -> None:
    # SpatiaLite first, then everything the service and the tests import, used a little: no
    # library or module from a wheel may bind a symbol to a system library that is not the C or
    # C++ runtime (before the fix: pyproj to the system's PROJ, shapely to its GEOS, pyogrio to
    # its OpenSSL and SQLite, psycopg's libpq to its Kerberos, Pillow to its libtiff, ...).
    script = textwrap.dedent(
        f"""
        from sqlalchemy import text
        from api.core.db import create_db_engine

        engine = create_db_engine({f"sqlite:///{(tmp_path / 'b.db').as_posix()}"!r})
        with engine.connect() as conn:
            conn.execute(text("SELECT spatialite_version()"))
        engine.dispose()

        import api.app, api.cli, argon2, owslib.wfs, PIL.TiffImagePlugin, psycopg, pyogrio
        from pyproj import Transformer
        from shapely import Point

        Transformer.from_crs(4326, 25832, always_xy=True).transform(5.7, 58.8)
        Point(5.7, 58.8).buffer(1.0).area
        """
    )
    log = tmp_path / "ld"
    environ = {**os.environ, "LD_DEBUG": "bindings", "LD_DEBUG_OUTPUT": str(log)}
    proc = subprocess.run(
        [sys.executable, "-c", script], env=environ, capture_output=True, text=True, timeout=600
    )

    wheels = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    crossings: Counter[tuple[str, str]] = Counter()
    unique: dict[str, set[str]] = {}
    for part in tmp_path.glob("ld.*"):
        with part.open(encoding="utf-8", errors="replace") as lines:
            for line in lines:
                match = _BINDING.search(line)
                if match is None:
                    continue
                source, target, symbol = match.groups()
                if not any(source.startswith(w) for w in wheels):
                    continue
                if any(target.startswith(w) for w in wheels) or _RUNTIME.search(target):
                    continue
                if _STD_CXX.match(symbol):
                    continue
                if target not in unique:
                    unique[target] = _unique_symbols(target)
                if symbol in unique[target]:
                    continue
                crossings[(source.split("-packages/")[-1], target)] += 1
    assert not crossings, "\n".join(f"{n} x {s} -> {t}" for (s, t), n in crossings.most_common())
    assert proc.returncode == 0, proc.stderr


ROOT = Path(__file__).resolve().parents[1]
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$")


def _pins(lock: Path) -> dict[str, Version]:
    """The lock's pins that apply to this interpreter and platform."""
    pins: dict[str, Version] = {}
    for line in lock.read_text(encoding="utf-8").splitlines():
        match = _PIN.match(line)
        if match is None:
            continue
        name, version, marker = match.groups()
        if marker is None or Marker(marker).evaluate():
            pins[canonicalize_name(name)] = Version(version)
    return pins


def _project_requirements(*extras: str) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    lines = [*project["dependencies"]]
    for extra in extras:
        lines += project["optional-dependencies"][extra]
    return [Requirement(line) for line in lines]


@pytest.mark.parametrize(
    ("lock", "extras"),
    [
        pytest.param("requirements.txt", ("dev",), id="with-dev"),
        pytest.param("requirements-runtime.txt", (), id="runtime"),
    ],
)
def test_the_locks_pin_every_requirement_of_pyproject(lock: str, extras: tuple[str, ...]) -> None:
    # A dependency added to pyproject.toml without `make lock` would be missing on every fresh
    # machine, since they install the lock and then safewalk with --no-deps.
    pins = _pins(ROOT / lock)
    unmet = [
        str(req)
        for req in _project_requirements(*extras)
        if (req.marker is None or req.marker.evaluate())
        and not req.specifier.contains(
            pins.get(canonicalize_name(req.name), Version("0.0.0.dev0")), prereleases=True
        )
    ]
    assert not unmet, f"{lock} does not satisfy {unmet}: run `make lock LOCK_UPGRADE=`"


def test_the_runtime_lock_is_the_full_lock_without_dev_tools() -> None:
    full = _pins(ROOT / "requirements.txt")
    runtime = _pins(ROOT / "requirements-runtime.txt")
    assert {name: full.get(name) for name in runtime} == runtime


def test_the_runtime_lock_has_every_package_the_service_imports() -> None:
    # The image installs the runtime lock only: a module the service imports from a package of
    # the dev extra alone would stop it at start there and nowhere else.
    distributions = packages_distributions()
    runtime = set(_pins(ROOT / "requirements-runtime.txt"))
    own = {"api", "models", "geo", "migrations"}
    missing: dict[str, str] = {}
    for package in own:
        for source in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for top in {name.partition(".")[0] for name in names}:
                    if top in own or top in sys.stdlib_module_names or top == "__future__":
                        continue
                    owners = {canonicalize_name(d) for d in distributions.get(top, [])}
                    if not owners & runtime:
                        missing.setdefault(top, str(source.relative_to(ROOT)))
    assert not missing, f"imported but not in the runtime dependencies: {missing}"


def test_the_license_is_an_spdx_expression() -> None:
    # The build backend floats (build isolation fetches the newest setuptools), and setuptools
    # stops building projects whose license is still a table in February 2027.
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert isinstance(project["license"], str)
    assert canonicalize_license_expression(project["license"]) == project["license"]
