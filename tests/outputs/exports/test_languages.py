"""Exports in the reader's language: a CSV, an XLSX and a PDF in Swedish (Accept-Language),
with Swedish headers, statuses and category labels, semicolons and decimal commas, and dates
as a Swedish reader writes them."""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy.orm import Session

from models import ActionItem
from tests.factories.client import SyncClient
from tests.factories.observations import observe
from tests.factories.pdf import POPPLER, pdf_text
from tests.factories.world import World

SWEDISH = {"Accept-Language": "sv-SE,sv;q=0.9,en;q=0.5"}


@pytest.fixture
def listed(client: SyncClient, world: World, session: Session) -> dict[str, Any]:
    lit = observe(client, world, note="Lampan är trasig")
    observe(client, world, category="vegetation", note="Häcken skymmer hörnet",
            location={"type": "Point", "coordinates": [5.7390, 58.8540]})  # fmt: skip
    item = session.get(ActionItem, uuid.UUID(lit["action_item_id"]))
    assert item is not None
    item.due_date = date(2030, 3, 31)
    session.commit()
    return lit


def _export(client: SyncClient, world: World, fmt: str, headers: dict[str, str]) -> Any:
    area = world.objects["area"]
    res = client.get(
        f"/api/v1/areas/{area.id}/action-list",
        params={"format": fmt},
        headers={**world.headers("engineer"), **headers},
    )
    assert res.status_code == 200, res.text
    return res


def test_csv_in_swedish(client: SyncClient, world: World, listed: dict[str, Any]) -> None:
    text = _export(client, world, "csv", SWEDISH).content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    header = rows[0]
    assert header[:4] == ["id", "prioritet", "rubrik", "kategori"]
    assert {"sista dag", "försenad", "latitud"} <= set(header)
    by_name = [dict(zip(header, r, strict=True)) for r in rows[1:]]
    lit = next(r for r in by_name if r["id"] == listed["action_item_id"])
    assert lit["kategori"] == "Dålig belysning"
    assert lit["status"] == "Ny"
    assert lit["försenad"] == "nej"
    assert re.fullmatch(r"\d+,\d+", lit["latitud"])  # a decimal comma
    assert "." not in lit["prioritet"]
    # English readers get commas and decimal points, as before.
    english = _export(client, world, "csv", {"Accept-Language": "en"}).content
    assert english.decode("utf-8-sig").splitlines()[0].startswith("id,priority,title,")


def test_xlsx_in_swedish(client: SyncClient, world: World, listed: dict[str, Any]) -> None:
    book = openpyxl.load_workbook(io.BytesIO(_export(client, world, "xlsx", SWEDISH).content))
    sheet = book.active
    assert sheet.title == "Åtgärdslista"
    headers = [c.value for c in sheet[1]]
    assert {"Föreslagen åtgärd", "Ansvarig", "Sista dag"} <= set(headers)
    due_col = headers.index("Sista dag") + 1
    status_col = headers.index("Status") + 1
    dues = [sheet.cell(row=r, column=due_col) for r in range(2, sheet.max_row + 1)]
    assert date(2030, 3, 31) in {c.value.date() for c in dues if c.value is not None}
    assert {c.number_format for c in dues} == {"yyyy-mm-dd"}  # a Swedish short date
    statuses = {sheet.cell(row=r, column=status_col).value for r in range(2, sheet.max_row + 1)}
    assert statuses == {"Ny"}
    finnish = openpyxl.load_workbook(
        io.BytesIO(_export(client, world, "xlsx", {"Accept-Language": "fi"}).content)
    ).active
    assert finnish.title == "Toimenpidelista"


@pytest.mark.skipif(not POPPLER, reason="poppler-utils (pdftotext, pdftoppm) not installed")
def test_pdf_in_swedish(
    client: SyncClient, world: World, listed: dict[str, Any], tmp_path: Path, backend: str
) -> None:
    pdf = _export(client, world, "pdf", SWEDISH).content
    text = pdf_text(pdf, tmp_path, f"action-list-sv-{backend}")
    assert "Åtgärdslista: Sentrum" in text
    assert "Föreslagen åtgärd" in text
    assert "Sida 1" in text
    assert "2030-03-31" in text  # the due date, as Sweden writes it
    assert "Tiltaksliste" not in text


@pytest.mark.skipif(not POPPLER, reason="poppler-utils (pdftotext, pdftoppm) not installed")
def test_walk_report_in_the_readers_language(
    client: SyncClient, world: World, listed: dict[str, Any], tmp_path: Path, backend: str
) -> None:
    url = f"/api/v1/walks/{world.walk.id}/report.pdf"
    res = client.get(url, headers={**world.headers("coordinator"), "Accept-Language": "da"})
    assert res.status_code == 200, res.text
    text = pdf_text(res.content, tmp_path, f"walk-report-da-{backend}")
    assert "Rapport fra tryghedsvandring" in text
