"""The two tile archive readers (api/outputs/basemap/archive.py) on files the tests make:
MBTiles rows in TMS order, PMTiles v3 with runs and leaf directories, formats told by
metadata or by the tiles' own bytes, and files that are not archives refused with a reason."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from api.outputs.basemap.archive import ArchiveError, open_archive, zxy_to_tile_id
from tests.factories.tilesets import area_tiles, make_mbtiles, make_pmtiles, striped_png


@pytest.mark.parametrize(
    ("zxy", "tile_id"),
    [
        pytest.param((0, 0, 0), 0, id="root"),
        pytest.param((1, 0, 0), 1, id="z1-nw"),
        pytest.param((1, 0, 1), 2, id="z1-sw"),
        pytest.param((1, 1, 1), 3, id="z1-se"),
        pytest.param((1, 1, 0), 4, id="z1-ne"),
        pytest.param((2, 0, 0), 5, id="z2-first"),
        pytest.param((3, 7, 0), 84, id="z3-last"),
    ],
)
def test_tile_ids_follow_the_hilbert_curves(zxy: tuple[int, int, int], tile_id: int) -> None:
    assert zxy_to_tile_id(*zxy) == tile_id


def test_tile_ids_number_each_zoom_level_once() -> None:
    for z in range(5):
        ids = sorted(zxy_to_tile_id(z, x, y) for x in range(1 << z) for y in range(1 << z))
        first = ((1 << (2 * z)) - 1) // 3
        assert ids == list(range(first, first + (1 << (2 * z))))


def test_mbtiles_rows_are_read_in_xyz(tmp_path: Path) -> None:
    tiles = area_tiles(range(12, 15))
    archive = open_archive(make_mbtiles(tmp_path / "a.mbtiles", tiles))
    assert archive.info.format == "png"
    assert (archive.info.minzoom, archive.info.maxzoom) == (12, 14)
    assert archive.info.attribution == "© Test Kart"
    for (z, x, y), data in tiles.items():
        assert archive.tile(z, x, y) == data
    z, x, y = next(iter(tiles))
    assert archive.tile(z, x, (1 << z) - 1 - y) is None  # the TMS row is not the XYZ one
    archive.close()


def test_mbtiles_format_from_the_tiles_when_metadata_is_silent(tmp_path: Path) -> None:
    vector = gzip.compress(b"\x1a\x05hello")
    archive = open_archive(make_mbtiles(tmp_path / "v.mbtiles", {(5, 16, 9): vector}, fmt=None))
    assert archive.info.format == "pbf"
    assert not archive.info.raster
    assert archive.tile(5, 16, 9) == vector
    archive.close()


@pytest.mark.parametrize("leaf_size", [None, 7], ids=["root-only", "leaves"])
def test_pmtiles_tiles_come_back(tmp_path: Path, leaf_size: int | None) -> None:
    tiles = area_tiles(range(10, 15))
    archive = open_archive(make_pmtiles(tmp_path / "a.pmtiles", tiles, leaf_size=leaf_size))
    assert archive.info.format == "png"
    assert (archive.info.minzoom, archive.info.maxzoom) == (10, 14)
    assert archive.info.bounds == pytest.approx((5.72, 58.84, 5.76, 58.86))
    for (z, x, y), data in tiles.items():
        assert archive.tile(z, x, y) == data, (z, x, y)
    assert archive.tile(14, 0, 0) is None
    assert archive.tile(3, 9, 0) is None  # outside its zoom level
    archive.close()


def test_pmtiles_runs_of_one_tile(tmp_path: Path) -> None:
    """Sea is one tile repeated: one entry with a run length serves every one of them."""
    sea = striped_png(0, 0, 0)
    tiles = {(4, x, y): sea for x in range(16) for y in range(16)}
    tiles[(4, 3, 3)] = striped_png(4, 3, 3)
    path = make_pmtiles(tmp_path / "sea.pmtiles", tiles)
    assert path.stat().st_size < 2 * len(sea) + 1024
    archive = open_archive(path)
    for (z, x, y), data in tiles.items():
        assert archive.tile(z, x, y) == data
    archive.close()


def test_pmtiles_vector_tiles_stay_gzipped(tmp_path: Path) -> None:
    tile = gzip.compress(b"\x1a\x07roads..")
    archive = open_archive(
        make_pmtiles(
            tmp_path / "v.pmtiles",
            {(14, 8453, 4737): tile},
            tile_type=1,
            tile_compression=2,
            metadata={"vector_layers": [{"id": "roads", "fields": {}}]},
        )
    )
    assert archive.info.format == "pbf"
    assert archive.info.vector_layers == [{"id": "roads", "fields": {}}]
    assert archive.tile(14, 8453, 4737) == tile
    archive.close()


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        pytest.param(b"hello, world" * 20, "neither an MBTiles nor a PMTiles", id="text"),
        pytest.param(b"PMTiles\x02" + bytes(200), "version 2", id="pmtiles-v2"),
        pytest.param(b"PMTiles\x03" + bytes(20), "is not a PMTiles file", id="cut-short"),
    ],
)
def test_what_is_not_an_archive_is_refused(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "bad.pmtiles"
    path.write_bytes(content)
    with pytest.raises(ArchiveError, match=reason):
        open_archive(path)


def test_other_compression_is_refused_with_a_way_out(tmp_path: Path) -> None:
    path = make_pmtiles(tmp_path / "a.pmtiles", area_tiles(range(10, 11)))
    data = bytearray(path.read_bytes())
    data[97] = 3  # brotli directories
    path.write_bytes(bytes(data))
    with pytest.raises(ArchiveError, match="gzip"):
        open_archive(path)


def test_an_empty_mbtiles_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match="holds no tiles"):
        open_archive(make_mbtiles(tmp_path / "empty.mbtiles", {}))
