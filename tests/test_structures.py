"""Database loaders, offline on fixtures in the exact jarvis record format."""
from __future__ import annotations

import json
import math
import zipfile

import pytest
from conftest import hexagonal
from jarvis.core.atoms import Atoms

from lattice_utils.data import structures
from lattice_utils.data.structures import (
    CorruptFileError,
    DataUnavailableError,
    jarvis_zip_path,
    load_jarvis_records,
    load_jarvis_table,
)


def jarvis_atoms(d):
    """An ``Atoms.to_dict()`` record, as jarvis-tools stores them."""
    return Atoms(lattice_mat=d["lattice_mat"], coords=d["coords"], elements=d["elements"],
                 cartesian=False).to_dict()


def fixture_records(dataset):
    g = jarvis_atoms(hexagonal(2.46, [[1 / 3, 2 / 3, 0.5], [2 / 3, 1 / 3, 0.5]], ["C", "C"]))
    m = jarvis_atoms(hexagonal(3.19, [[0, 0, 0.5], [1 / 3, 2 / 3, 0.58], [1 / 3, 2 / 3, 0.42]],
                               ["Mo", "S", "S"]))
    bad = dict(g, elements=["C", "Qq"])
    empty = dict(g, coords=[], elements=[])
    keys = structures.JARVIS_DATASETS[dataset]
    gaps = {"jv2d": [0.0, "na"], "c2db": [0.0, 1.58], "alex": [0.0, None]}[dataset]
    recs = [{keys["id"]: "id-1", "atoms": g, keys["gap"]: gaps[0], "formula": "C"},
            {keys["id"]: "id-2", "atoms": m, keys["gap"]: gaps[1]},
            {keys["id"]: "id-3", "atoms": bad, keys["gap"]: 1.0},
            {keys["id"]: "id-4", "atoms": empty, keys["gap"]: 1.0}]
    if dataset == "c2db":      # C2DB records carry no formula
        for r in recs:
            r.pop("formula", None)
    return recs


def write_fixture_zip(dataset, store):
    from jarvis.db.figshare import get_db_info

    path = jarvis_zip_path(dataset, store)
    tag = get_db_info()[structures.JARVIS_DATASETS[dataset]["name"]][1]
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(tag, json.dumps(fixture_records(dataset)))
    return path


@pytest.mark.parametrize("dataset", ["jv2d", "c2db", "alex"])
def test_loader_normalises_and_skips_bad_records(tmp_path, dataset, capsys):
    write_fixture_zip(dataset, tmp_path)
    table, skipped = load_jarvis_table(dataset, tmp_path)
    assert list(table["id"]) == ["id-1", "id-2"]
    assert [s[0] for s in skipped] == ["id-3", "id-4"]
    assert "unknown element(s) Qq" in skipped[0][1] and "no atoms" in skipped[1][1]
    assert table.loc[0, "band_gap"] == 0.0
    second = table.loc[1, "band_gap"]
    assert (second == 1.58) if dataset == "c2db" else math.isnan(second)
    assert list(table["label"]) == [0, 0]
    assert table.loc[1, "a"] == pytest.approx(3.19)
    assert table.loc[1, "formula"] == "MoS2"
    out = capsys.readouterr().out
    assert "2 of 4 records kept, 2 skipped" in out


def _no_network(*args, **kwargs):
    raise ConnectionError("no network")


def test_no_file_no_network_names_the_file_and_the_offline_default(tmp_path, monkeypatch):
    monkeypatch.setattr("jarvis.db.figshare.get_request_data", _no_network)
    with pytest.raises(DataUnavailableError) as err:
        load_jarvis_records("c2db", tmp_path)
    msg = str(err.value)
    assert "c2db_atoms.json.zip" in msg and "offline" in msg


def test_corrupt_zip_is_detected_moved_aside_and_not_reused(tmp_path, monkeypatch, capsys):
    path = write_fixture_zip("jv2d", tmp_path)
    path.write_bytes(path.read_bytes()[:40])          # a download cut off
    monkeypatch.setattr("jarvis.db.figshare.get_request_data", _no_network)
    with pytest.raises(DataUnavailableError):
        load_jarvis_records("jv2d", tmp_path)
    assert "not a readable zip" in capsys.readouterr().out
    assert not path.exists() and path.with_suffix(".zip.corrupt").exists()


def test_damaged_zip_message_names_file(tmp_path):
    bad = tmp_path / "x.zip"
    bad.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(CorruptFileError, match="x.zip"):
        structures.read_jarvis_zip(bad, "x.json")
