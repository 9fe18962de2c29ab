"""``safewalk import-assets``: the same import as the API, from the command line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from api import cli
from api.core.db import create_db_engine, make_sessionmaker
from api.settings import get_settings
from models import Asset, AssetOwner
from tests.factories.assets import csv_file, gpkg_file
from tests.factories.observations import near

LAMPS = [("N-1", *near(0, 0), "Kommune"), ("N-2", *near(40, 0), "Fylkeskommune")]


@pytest.fixture
def env(fresh_db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("SAFEWALK_DATABASE_URL", fresh_db_url)
    monkeypatch.setenv("SAFEWALK_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    args = ["init", "--org", "Sandnes", "--admin-email", "a@sandnes.no"]
    assert cli.main([*args, "--admin-password", "correct horse battery"]) == 0
    yield fresh_db_url
    get_settings.cache_clear()


def _owners(url: str) -> dict[str, AssetOwner]:
    engine = create_db_engine(url)
    try:
        with make_sessionmaker(engine)() as s:
            return {a.external_id: a.owner for a in s.scalars(select(Asset))}
    finally:
        engine.dispose()


def test_import_assets_from_a_geopackage_in_utm(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "lamps.gpkg"
    path.write_bytes(gpkg_file(LAMPS, "EPSG:25832"))
    assert cli.main(["import-assets", str(path), "--id-property", "lampenummer",
                     "--owner-property", "eier"]) == 0  # fmt: skip
    assert "2 created, 0 updated, 0 removed, 0 refused" in capsys.readouterr().out
    assert _owners(env) == {"N-1": AssetOwner.municipality, "N-2": AssetOwner.county}


def test_a_refused_row_imports_nothing_and_says_where(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = csv_file(LAMPS, "EPSG:25833").decode() + "N-3;;6523000;Kommune\n"
    path = tmp_path / "lamps.csv"
    path.write_text(rows, encoding="utf-8")
    assert cli.main(["import-assets", str(path), "--crs", "EPSG:5973"]) == 1
    err = capsys.readouterr().err
    assert "feature 3:" in err
    assert "nothing was imported" in err
    assert _owners(env) == {}
    assert cli.main(["import-assets", str(path), "--crs", "EPSG:5973", "--skip-invalid"]) == 0
    assert set(_owners(env)) == {"N-1", "N-2"}
