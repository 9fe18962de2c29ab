"""Reading a PDF the service made: its text (pdftotext), with its first pages drawn to
``test-artifacts/`` to look at."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


POPPLER = shutil.which("pdftotext") is not None and shutil.which("pdftoppm") is not None


def pdf_text(pdf: bytes, tmp_path: Path, name: str) -> str:
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True
    ).stdout
    ARTIFACTS.mkdir(exist_ok=True)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "3", str(path), str(ARTIFACTS / name)],
        check=True,
    )
    return text.decode("utf-8")
