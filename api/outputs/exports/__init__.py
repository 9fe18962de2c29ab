"""Exports engineers and the public open: XLSX, GeoPackage and PDF (action list, walk report)."""
