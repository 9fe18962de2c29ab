"""Exports read back the way their readers read them: XLSX with openpyxl, GeoPackage with
pyogrio, PDFs with poppler's pdftotext (pages rendered with pdftoppm into test-artifacts/).
On both databases."""

from __future__ import annotations

import csv
import io
import re
import shutil
import sqlite3
import subprocess
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pyogrio
import pyogrio.raw
import pytest
from shapely.geometry import LineString
from sqlalchemy.orm import Session

from api.core import spatial
from models import ActionItem, ActionStatus, utcnow
from tests.factories import make_category
from tests.factories.client import SyncClient
from tests.factories.observations import observe
from tests.factories.pdf import POPPLER, pdf_text
from tests.factories.photos import plain_jpeg, put_photo
from tests.factories.world import World

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"
FORMULA_NOTE = '=HYPERLINK("http://evil.example","click")'


@pytest.fixture
def walked(client: SyncClient, world: World, session: Session) -> dict[str, Any]:
    """A walk with a route, six observations (one with a photo) in three items."""
    world.walk.route = spatial.to_db(
        LineString([(5.730, 58.849), (5.736, 58.852), (5.740, 58.855)])
    )
    world.walk.weather = "Yr, 4 °C"
    session.flush()
    session.commit()
    first = observe(client, world, note="Lyktestolpen er mørk – æøå")
    observe(
        client,
        world,
        note=FORMULA_NOTE,
        location={"type": "Point", "coordinates": [5.73522, 58.85172]},
    )
    observe(client, world, category="vegetation", note="Hekken skjuler hjørnet",
            location={"type": "Point", "coordinates": [5.7390, 58.8540]})  # fmt: skip
    observe(client, world, category="graffiti", note=None,
            location={"type": "Point", "coordinates": [5.7310, 58.8500]})  # fmt: skip
    observe(client, world, category="feels_unsafe", note="Utrygt her",
            location={"type": "Point", "coordinates": [5.7330, 58.8530]})  # fmt: skip
    res = put_photo(client, world, first["id"], plain_jpeg((400, 300), "orange"))
    assert res.status_code == 201, res.text
    return {"first": first, "photo": res.json()["id"]}


def export(client: SyncClient, world: World, fmt: str, who: str = "engineer") -> bytes:
    area = world.objects["area"]
    res = client.get(
        f"/api/v1/areas/{area.id}/action-list", params={"format": fmt}, headers=world.headers(who)
    )
    assert res.status_code == 200, res.text
    assert "attachment" in res.headers["content-disposition"]
    return res.content


def test_xlsx_headers_types_and_rows(
    client: SyncClient, world: World, walked: dict[str, Any], session: Session
) -> None:
    wb = openpyxl.load_workbook(io.BytesIO(export(client, world, "xlsx")))
    ws = wb.active
    headers = [c.value for c in ws[1]]
    assert headers == [
        "Nr.", "Sted", "Breddegrad", "Lengdegrad", "Observasjoner", "Merknader", "Bilde",
        "Foreslått tiltak", "Ansvarlig", "Prioritet", "Frist", "Status", "Kommentar",
    ]  # fmt: skip
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == f"A1:M{ws.max_row}"
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert len(rows) == 3  # lighting (2 observations), vegetation, graffiti; not feels_unsafe
    assert [r[0] for r in rows] == [1, 2, 3]
    for r in rows:
        assert r[1] == "Sentrum"
        assert isinstance(r[2], float)
        assert isinstance(r[4], int)
        assert isinstance(r[9], float)
        assert isinstance(r[10], datetime)  # a real date cell
        assert r[11] == "Ny"
    lighting = next(r for r in rows if r[4] == 2)
    assert "Lyktestolpen er mørk – æøå" in lighting[5]
    # A note that looks like a formula stays text.
    cells = [
        c
        for row in ws.iter_rows(min_row=2)
        for c in row
        if c.value and FORMULA_NOTE in str(c.value)
    ]
    assert cells
    assert all(c.data_type == "s" for c in cells)
    assert not any(c.data_type == "f" for row in ws.iter_rows() for c in row)
    # The photo cell links to a signed URL that works without any header.
    link_row = next(row for row in ws.iter_rows(min_row=2) if row[6].hyperlink is not None)
    url = link_row[6].hyperlink.target
    assert walked["photo"] in url
    assert "sig=" in url
    image = client.get(url.replace("http://testserver", ""))
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/jpeg"
    # In English when the organization speaks English.
    res = client.patch(
        "/api/v1/organization", json={"language": "en"}, headers=world.headers("admin")
    )
    assert res.status_code == 200, res.text
    ws = openpyxl.load_workbook(io.BytesIO(export(client, world, "xlsx"))).active
    assert [c.value for c in ws[1]][:2] == ["No.", "Place"]
    assert ws.cell(row=2, column=12).value == "New"


def test_geopackage_layers_types_crs_counts(
    client: SyncClient, world: World, walked: dict[str, Any], tmp_path: Path
) -> None:
    path = tmp_path / "list.gpkg"
    path.write_bytes(export(client, world, "gpkg", who="planner"))
    layers = {name: kind for name, kind in pyogrio.list_layers(path)}
    assert layers == {"observations": "Point", "action_items": "Point", "areas": "MultiPolygon"}
    counts = {"observations": 5, "action_items": 3, "areas": 1}
    for name, count in counts.items():
        info = pyogrio.read_info(path, layer=name)
        assert info["crs"] == "EPSG:4326"
        assert info["features"] == count
    obs = pyogrio.read_info(path, layer="observations")
    types = dict(zip(obs["fields"], obs["dtypes"], strict=True))
    assert types["nr"] == "int32"
    assert types["severity"] == "int32"
    assert types["is_dark"] == "bool"
    assert types["recorded_at"].startswith("datetime64")
    assert "participant" not in " ".join(obs["fields"])
    items = pyogrio.read_info(path, layer="action_items")
    types = dict(zip(items["fields"], items["dtypes"], strict=True))
    assert types["priority"] == "float64"
    assert types["observations"] == "int32"
    assert types["due_date"] == "datetime64[D]"
    assert types["created_at"].startswith("datetime64")
    # Datetimes are stored as UTC.
    _, _, _, values = pyogrio.raw.read(
        path, layer="action_items", columns=["created_at"], datetime_as_string=True
    )
    assert all(str(v).endswith(("+00:00", "Z")) for v in values[0]), values[0][:2]
    _, _, geometry, _ = pyogrio.raw.read(path, layer="observations")
    assert len(geometry) == 5


def pages(pdf: bytes, tmp_path: Path) -> int:
    path = tmp_path / "count.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


@pytest.mark.skipif(not POPPLER, reason="poppler-utils (pdftotext, pdftoppm) not installed")
def test_action_list_pdf(
    client: SyncClient, world: World, walked: dict[str, Any], tmp_path: Path, backend: str
) -> None:
    pdf = export(client, world, "pdf")
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf, tmp_path, f"action-list-{backend}")
    assert "Tiltaksliste: Sentrum" in text
    assert "Foreslått tiltak" in text
    assert "Side 1" in text
    assert list((ARTIFACTS).glob(f"action-list-{backend}-1.png"))


@pytest.mark.skipif(not POPPLER, reason="poppler-utils (pdftotext, pdftoppm) not installed")
def test_walk_report_pdf(
    client: SyncClient, world: World, walked: dict[str, Any], tmp_path: Path, backend: str
) -> None:
    url = f"/api/v1/walks/{world.walk.id}/report.pdf"
    assert client.get(url, headers=world.headers("planner")).status_code == 403
    res = client.get(url, headers=world.headers("coordinator"))
    assert res.status_code == 200, res.text
    assert res.headers["content-type"] == "application/pdf"
    text = pdf_text(res.content, tmp_path, f"walk-report-{backend}")
    assert "Rapport fra trygghetsvandring" in text
    assert world.walk.title in text
    assert "Yr, 4 °C" in text
    assert "5 observasjoner, 3 tiltak" in text
    assert "Lyktestolpen er mørk – æøå" in text
    assert "Hekken skjuler hjørnet" in text
    assert "Tiltaksliste" in text
    # Participant groups are counted; names never appear.
    assert "Deltakere" in text
    assert "Ada" not in text
    path = tmp_path / "report.pdf"
    path.write_bytes(res.content)
    images = subprocess.run(
        ["pdfimages", "-list", str(path)], check=True, capture_output=True, text=True
    )
    assert len(images.stdout.strip().splitlines()) >= 3  # header lines + the thumbnail
    other = client.get(
        f"/api/v1/walks/{world.walk.id}/report.pdf", headers=world.headers("foreign_admin")
    )
    assert other.status_code == 404


@pytest.mark.skipif(not POPPLER, reason="poppler-utils (pdftotext, pdftoppm) not installed")
def test_five_hundred_rows_stay_readable(
    client: SyncClient, world: World, session: Session, tmp_path: Path, backend: str
) -> None:
    cat = make_category(session, world.org, "lighting")
    area = world.objects["area"]
    today = utcnow().date()
    for n in range(500):
        session.add(
            ActionItem(
                organization_id=world.org.id,
                area_id=area.id,
                category_id=cat.id,
                title=f"Tiltak nummer {n:03d} langs en lang gangvei med mange ord som må brytes",
                location=spatial.to_db(
                    spatial.point(5.729 + (n % 25) * 0.0005, 58.849 + (n // 25) * 0.00035)
                ),
                observation_count=1 + n % 4,
                priority_score=float(n % 100),
                due_date=today + timedelta(days=n % 180),
                department="lighting",
                status=ActionStatus.triaged,
                resolution_note="Merknad " * (n % 7),
            )  # fmt: skip
        )
    session.flush()
    session.commit()
    pdf = export(client, world, "pdf")
    text = pdf_text(pdf, tmp_path, f"action-list-500-{backend}")
    n_pages = pages(pdf, tmp_path)
    assert n_pages >= 10
    # Every row is there, and every page repeats the header.
    for n in (0, 250, 499):
        assert f"Tiltak nummer {n:03d}" in text
    page_texts = text.split("\f")
    assert sum("Foreslått tiltak" in p for p in page_texts) >= n_pages - 1
    assert f"Side {n_pages}" in text
    ws = openpyxl.load_workbook(io.BytesIO(export(client, world, "xlsx"))).active
    assert ws.max_row == 501
    assert isinstance(ws.cell(row=501, column=11).value, datetime | date)


GPKG_DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
VALIDATE_GPKG = next(
    (
        p
        for p in (
            Path("/usr/lib/python3/dist-packages/osgeo_utils/samples/validate_gpkg.py"),
            Path("/usr/share/doc/python3-gdal/examples/validate_gpkg.py"),
        )
        if p.exists()
    ),
    None,
)


@pytest.mark.skipif(shutil.which("ogrinfo") is None, reason="gdal-bin (ogrinfo) not installed")
def test_geopackage_passes_gdal_conformance(
    client: SyncClient, world: World, walked: dict[str, Any], tmp_path: Path
) -> None:
    """QGIS and ArcGIS open it without a word: the installed GDAL reads it with no warning,
    GDAL's own GeoPackage validator passes it, and it says which GeoPackage it is."""
    path = tmp_path / "list.gpkg"
    path.write_bytes(export(client, world, "gpkg", who="planner"))
    info = subprocess.run(
        ["ogrinfo", "-ro", "-al", "-so", str(path)], capture_output=True, text=True, check=True
    )
    assert "Warning" not in info.stderr, info.stderr
    assert "Warning" not in info.stdout, info.stdout
    # Every feature too: a datetime GDAL has to round says so only when it reads the value.
    full = subprocess.run(["ogrinfo", "-ro", "-al", str(path)], capture_output=True, text=True)
    assert full.returncode == 0, full.stderr
    assert "Warning" not in full.stderr, full.stderr
    head = path.read_bytes()[:100]
    application_id = head[68:72]
    user_version = int.from_bytes(head[60:64], "big")
    assert application_id == b"GPKG"
    assert 10200 <= user_version <= 10400, user_version
    # DATETIME is YYYY-MM-DDTHH:MM:SS.SSSZ: milliseconds even on a whole second.
    with sqlite3.connect(path) as db:
        stamps = [
            v
            for table, column in db.execute(
                "SELECT m.name, c.name FROM sqlite_master m, pragma_table_info(m.name) c "
                "WHERE m.type = 'table' AND c.type = 'DATETIME'"
            ).fetchall()
            for (v,) in db.execute(f'SELECT "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL')
        ]
    assert stamps
    assert any(s.endswith(":00.000Z") or ".000Z" in s for s in stamps)  # whole seconds exist
    assert all(GPKG_DATETIME.match(s) for s in stamps), stamps[:3]
    if VALIDATE_GPKG is not None and shutil.which("python3"):
        check = subprocess.run(
            ["python3", str(VALIDATE_GPKG), str(path)], capture_output=True, text=True
        )
        assert check.returncode == 0, check.stdout + check.stderr
        assert "Warning" not in check.stdout + check.stderr, check.stdout + check.stderr


@pytest.mark.parametrize(
    ("language", "delimiter", "mark", "headers"),
    [
        pytest.param("nb", ";", ",", ("prioritet", "breddegrad", "lengdegrad"), id="norwegian"),
        pytest.param("en", ",", ".", ("priority", "lat", "lon"), id="english"),
    ],
)
def test_csv_has_one_number_convention(
    client: SyncClient,
    world: World,
    walked: dict[str, Any],
    language: str,
    delimiter: str,
    mark: str,
    headers: tuple[str, str, str],
) -> None:
    """Semicolons with decimal commas in Norwegian, commas with decimal points in English:
    every number of the file in the one convention that the language's Excel reads."""
    area = world.objects["area"]
    res = client.get(
        f"/api/v1/areas/{area.id}/action-list",
        params={"format": "csv"},
        headers={**world.headers("engineer"), "Accept-Language": language},
    )
    assert res.status_code == 200, res.text
    text = res.content.decode("utf-8-sig")
    assert text.splitlines()[0].count(delimiter) == 17  # 18 columns, split by this delimiter
    rows = list(csv.DictReader(io.StringIO(text), delimiter=delimiter))
    assert len(rows) == 3
    other = "." if mark == "," else ","
    for row in rows:
        for name in headers:
            value = row[name]
            assert other not in value, (name, value)
            assert mark in value, (name, value)
            number = float(value.replace(mark, "."))
            assert number == number  # a number, not text
        assert 58 < float(row[headers[1]].replace(mark, ".")) < 59
        assert 5 < float(row[headers[2]].replace(mark, ".")) < 6
        assert int(row["reports" if language == "en" else "meldinger"]) >= 1
