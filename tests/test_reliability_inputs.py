"""Bad inputs, second round (issue "Reliability, second round", items 9, 11, 19, 21, 22): files
that inflate without bound, cells and densities no crystal has, foreign JSON in a database zip,
image sets that leak or contradict themselves, and command-line arguments. Every one is refused
with a message naming the file (or structure) before anything large is allocated, never a
traceback.

Each case carries the ``bad_input`` marker (counted on docs/reliability.md)."""
from __future__ import annotations

import json
import re
import subprocess
import zipfile

import numpy as np
import pytest
from conftest import hexagonal
from test_hardening import CIF, _no_network, _zip, assert_moved_aside_and_reported
from test_structures import fixture_records, jarvis_atoms

from lattice_utils.core import paths
from lattice_utils.data import image_sets, structures

bad_input = pytest.mark.bad_input


def _refuses_reading(monkeypatch):
    """Make any read of a zip member fail the test: a refusal must come from the directory."""
    def read(self, name, pwd=None):
        raise AssertionError(f"member {name} was read")

    monkeypatch.setattr(zipfile.ZipFile, "read", read)


# ------------------------------------------------------------------ 9. members that inflate

@bad_input
def test_jarvis_member_declaring_more_than_the_limit_is_refused_unread(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("jarvis.db.figshare.get_request_data", _no_network)
    monkeypatch.setattr(structures, "MAX_MEMBER_BYTES", 20_000, raising=False)
    path = structures.jarvis_zip_path("jv2d", tmp_path)
    _zip(path, fixture_records("jv2d") * 30)            # ~60 kB of repetitive JSON
    member = zipfile.ZipFile(path).namelist()[0]
    assert zipfile.ZipFile(path).getinfo(member).file_size > 20_000
    _refuses_reading(monkeypatch)
    with pytest.raises(structures.CorruptFileError, match=f"{path.name}: member {member} declares"):
        structures.read_jarvis_zip(path, member)
    with pytest.raises(structures.DataUnavailableError, match="damaged"):
        structures.load_jarvis_records("jv2d", tmp_path)
    out = capsys.readouterr().out
    assert "WARNING" in out and path.name in out and "20,000" in out
    assert not path.exists() and path.with_name(path.name + ".corrupt").exists()


@bad_input
def test_jarvis_member_compressed_like_a_zip_bomb_is_refused(tmp_path):
    path = structures.jarvis_zip_path("jv2d", tmp_path)
    # valid JSON (two records after 3 MiB of blanks) that deflates about 1000x
    _zip(path, "[" + " " * (3 << 20) + json.dumps(fixture_records("jv2d")[:2])[1:])
    member = zipfile.ZipFile(path).namelist()[0]
    with pytest.raises(structures.CorruptFileError, match=f"member {member} inflates .* \\(more than 100x"):
        structures.read_jarvis_zip(path, member)


def _image_zip(path, extra: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("stem_jv2d/train_folder/0/JVASP-1.jpg", b"\xff\xd8 small")
        z.writestr("stem_jv2d/test_folder/0/JVASP-2.jpg", b"\xff\xd8 small")
        for name, data in extra.items():
            z.writestr(name, data)


@bad_input
@pytest.mark.parametrize("case", ["over-the-limit", "bomb-ratio"])
def test_image_set_member_that_inflates_is_refused_and_moved_aside(scratch_dirs, monkeypatch, capsys, case):
    monkeypatch.setattr(image_sets, "_download", lambda *a, **k: (_ for _ in ()).throw(OSError("offline")))
    if case == "over-the-limit":
        monkeypatch.setattr(image_sets, "MAX_IMAGE_BYTES", 100_000, raising=False)
        size = 200_000
    else:
        size = 3 << 20             # under the real limit, but 1000x compressed
    path = image_sets.image_set_path("stem_jv2d")
    member = "stem_jv2d/train_folder/1/JVASP-3.jpg"
    _image_zip(path, {member: b"\0" * size})
    with monkeypatch.context() as m:
        _refuses_reading(m)
        with pytest.raises(structures.CorruptFileError, match=f"member {member} (declares|inflates)"):
            image_sets.verify_archive(path)
    with pytest.raises(structures.DataUnavailableError, match="was damaged"):
        image_sets.load_image_set("stem_jv2d", verbose=False)
    out = capsys.readouterr().out
    assert "WARNING" in out and "stem_jv2d.zip" in out and member in out
    assert not path.exists() and path.with_name("stem_jv2d.zip.corrupt").exists()


@bad_input
def test_image_of_absurd_pixel_count_is_not_decoded():
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("L", (4000, 4000)).save(buf, format="png")    # 16 Mpx, a few kB as PNG
    with pytest.raises(ValueError, match="4000 x 4000 pixels.*not decoded"):
        image_sets.decode_member(buf.getvalue())


# ------------------------------------------------------------------ 19. foreign JSON in a database zip

FOREIGN = {
    "deeply-nested": "[" * 200_000 + "]" * 200_000,
    "empty-list": "[]",
    "no-records": "[1, 2, 3]",
}


@bad_input
@pytest.mark.parametrize("case", sorted(FOREIGN))
def test_foreign_json_in_a_jarvis_zip_is_moved_aside_and_reported(tmp_path, monkeypatch, capsys, case):
    monkeypatch.setattr("jarvis.db.figshare.get_request_data", _no_network)
    path = _zip(structures.jarvis_zip_path("jv2d", tmp_path), FOREIGN[case])
    with pytest.raises(structures.CorruptFileError, match=path.name):
        structures.read_jarvis_zip(path, zipfile.ZipFile(path).namelist()[0])
    assert_moved_aside_and_reported(path, tmp_path, capsys)


@bad_input
def test_empty_jarvis_zip_is_never_the_papers_database(scratch_dirs, monkeypatch):
    from lattice_utils.core.profiles import get_profile
    from lattice_utils.data import datasets

    monkeypatch.setattr("jarvis.db.figshare.get_request_data", _no_network)
    zpath = _zip(structures.jarvis_zip_path("jv2d"), [])
    with pytest.raises(structures.DataUnavailableError, match="damaged"):
        datasets.load_corpus("jv2d", get_profile("smoke"), "jarvis")
    assert not zpath.exists() and list(paths.CORPORA.glob("*")) == []


# ------------------------------------------------------------------ 21. ids in both splits

def _split_zip(path, members: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as z:
        for name in members:
            z.writestr(name, b"\xff\xd8")


@bad_input
@pytest.mark.parametrize("case", ["contradiction", "leak"])
def test_image_id_in_train_and_test_is_refused(scratch_dirs, case):
    path = image_sets.image_set_path("stem_jv2d")
    test_class = 3 if case == "contradiction" else 1
    _split_zip(path, {"stem_jv2d/train_folder/1/JVASP-7.jpg": 1, "stem_jv2d/train_folder/2/JVASP-8.jpg": 1,
                      f"stem_jv2d/test_folder/{test_class}/JVASP-7.jpg": 1,
                      "stem_jv2d/test_folder/0/JVASP-9.jpg": 1})
    expect = ("both hold 1 image id\\(s\\) under different classes, e.g. JVASP-7 \\(class 1 in train, 3 in test\\)"
              if case == "contradiction" else "both hold 1 image id\\(s\\), e.g. JVASP-7; test images seen in training")
    with pytest.raises(image_sets.LayoutError, match=f"stem_jv2d.zip: train_folder/ and test_folder/ {expect}"):
        image_sets.index_archive(path)


# ------------------------------------------------------------------ 11. physical bounds on cells

def _lone_atom(lattice):
    return {"lattice_mat": lattice, "coords": [[0, 0, 0.5]], "elements": ["C"], "cartesian": False}


LONE_ATOMS = {      # (lattice, reason): one atom in a 0.01 Å cell; one 0.36 Å from its image by a - b
    "tiny-cell": ([[0.01, 0, 0], [0, 0.01, 0], [0, 0, 20]], "absurd lattice .* outside 1-1000 Å"),
    "oblique-cell": ([[1.2, 0, 0], [1.0, 0.3, 0], [0, 0, 20]],
                     "atom 0 \\(C\\) is 0.361 Å from its own periodic image"),
}


@bad_input
@pytest.mark.parametrize("case", sorted(LONE_ATOMS))
def test_lone_atom_closer_than_an_atom_to_its_own_image_is_refused(case):
    lattice, reason = LONE_ATOMS[case]
    good = jarvis_atoms(hexagonal(2.46, [[1 / 3, 2 / 3, 0.5], [2 / 3, 1 / 3, 0.5]], ["C", "C"]))
    table, skipped = structures.records_to_table(
        [{"jid": case, "atoms": _lone_atom(lattice)}, {"jid": "graphene", "atoms": good}], "jv2d", verbose=False)
    assert list(table["id"]) == ["graphene"]
    assert len(skipped) == 1 and skipped[0][0] == case
    assert re.search(reason, skipped[0][1]), skipped[0][1]


@bad_input
def test_stem_image_of_a_tiny_cell_is_refused_before_any_atom_is_placed(monkeypatch):
    from jarvis.core.atoms import Atoms

    from lattice_utils.data import datasets
    from lattice_utils.simulate.stem import StemParams, simulate_stem_image

    def placed(self, *a, **k):
        raise AssertionError("the supercell was built")

    tiny = _lone_atom([[0.01, 0, 0], [0, 0.01, 0], [0, 0, 20]])
    monkeypatch.setattr(Atoms, "make_supercell_matrix", placed)
    with pytest.raises(ValueError, match="tiny: a 0.01 x 0.01 Å cell of 1 atom\\(s\\) would be tiled into "
                                         "5.86e\\+07 atoms .* more than 1,000,000; not simulated"):
        simulate_stem_image(Atoms.from_dict(jarvis_atoms(tiny)), StemParams(), name="tiny")
    # in a store build: the record fails, named, and its chunk is kept
    images, failed = datasets._simulate_chunk((["tiny"], [jarvis_atoms(tiny)], StemParams().as_dict(), None))
    assert images.shape == (1, 256, 256) and not images.any()
    assert failed[0][0] == "tiny" and failed[0][1].startswith("StemInputError: a 0.01 x 0.01 Å cell")


@bad_input
@pytest.mark.parametrize("params,expect", [({"px_scale": 1e-4}, "needs a 100256 x 100256 px grid"),
                                           ({"px_scale": float("nan")}, "must be positive")])
def test_stem_settings_that_would_need_a_huge_grid_are_refused(monkeypatch, graphene, params, expect):
    from jarvis.core.atoms import Atoms

    from lattice_utils.simulate.stem import StemParams, simulate_stem_image

    monkeypatch.setattr(Atoms, "make_supercell_matrix", lambda *a, **k: pytest.fail("simulated"))
    with pytest.raises(ValueError, match=expect):
        simulate_stem_image(Atoms.from_dict(jarvis_atoms(graphene)), StemParams(**params))


# the NaCl test cell of test_hardening, its edges made 20,000 Å
HUGE_CIF = CIF.replace("4.0", "20000.0")


@bad_input
def test_cif_with_a_20000_angstrom_cell_is_skipped_and_named(tmp_path):
    from lattice_utils.xrd.corpus import read_cif_dir
    from lattice_utils.xrd.simulate import Crystal, CrystalError

    (tmp_path / "huge.cif").write_text(HUGE_CIF)
    (tmp_path / "nacl.cif").write_text(CIF)
    table, skipped = read_cif_dir(tmp_path, verbose=False)
    assert list(table["id"]) == ["nacl.cif"]
    assert skipped == [("huge.cif", "lattice vectors of 2e+04, 2e+04, 2e+04 Å, outside the 1-500 Å "
                                    "of real crystals")]
    with pytest.raises(CrystalError, match="dense: lattice vectors of 0.01"):
        Crystal(np.eye(3) * 0.01, [[0, 0, 0]], ["Na"], "dense")


@bad_input
@pytest.mark.parametrize("kind", ["zone", "powder"])
def test_patterns_that_would_enumerate_too_many_reflections_are_refused_before_allocating(monkeypatch, kind):
    from lattice_utils.xrd import simulate

    nacl = simulate.Crystal(np.eye(3) * 5.64, [[0, 0, 0], [0.5, 0.5, 0.5]], ["Na", "Cl"], "NaCl")
    monkeypatch.setattr(simulate, "MAX_ZONE_POINTS", 100, raising=False)
    monkeypatch.setattr(simulate, "MAX_POWDER_POINTS", 100, raising=False)
    monkeypatch.setattr(simulate.np, "meshgrid", lambda *a, **k: pytest.fail("the grid was allocated"))
    with pytest.raises(simulate.CrystalError, match="NaCl: .* would enumerate .* more than 100"):
        if kind == "zone":
            simulate.zone_axis_pattern(nacl, "100")
        else:
            simulate.powder_pattern(nacl)


def test_structure_factors_in_blocks_equal_those_in_one_pass(monkeypatch):
    from lattice_utils.xrd import simulate

    rng = np.random.default_rng(0)
    c = simulate.Crystal(np.eye(3) * 7.0 + rng.normal(0, 0.2, (3, 3)), rng.random((7, 3)),
                         ["Na", "Cl", "O", "Na", "Fe", "O", "O"], "x")
    hkl, g = simulate.zone_reflections(c, "110")
    whole = simulate.structure_factors(c, hkl, np.linalg.norm(g, axis=1))
    monkeypatch.setattr(simulate, "MAX_PHASE_ENTRIES", 50)
    blocks = simulate.structure_factors(c, hkl, np.linalg.norm(g, axis=1))
    assert len(hkl) * 7 > 50 and np.allclose(blocks, whole, rtol=1e-12, atol=1e-9)


# ------------------------------------------------------------------ 22. command-line arguments

@bad_input
@pytest.mark.parametrize("argv,expect", [
    (["--profile", "bogus"], "argument --profile: invalid choice: 'bogus' (choose from 'paper', 'quick', 'smoke')"),
    (["--data-source", "bogus"], "argument --data-source: invalid choice: 'bogus'"),
    (["--targets", "a,zz"], "argument --targets: unknown target(s) 'zz'; give one or more of a, b, gamma"),
    (["--targets", "a,a"], "argument --targets: a target is given twice"),
    (["--data-source", "stem_c2db"], "--data-source stem_c2db holds the c2db images: use it with --slot c2db"),
], ids=["profile", "data-source", "target", "target-twice", "image-set-of-another-slot"])
def test_train_models_refuses_bad_arguments_in_one_line(monkeypatch, capsys, argv, expect):
    from lattice_utils.studies import train_models

    monkeypatch.setattr(train_models, "load_slot", lambda *a, **k: pytest.fail("data were loaded"))
    with pytest.raises(SystemExit) as exit_:
        train_models.main(["--slot", "jv2d", "--task", "regress", *argv])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and expect in err, err
    assert ("Traceback" not in err
            and err.strip().splitlines()[-1].startswith("python -m lattice_utils.studies.train_models: error:"))


@bad_input
def test_train_models_names_a_missing_data_file_without_a_traceback(scratch_dirs, monkeypatch, capsys):
    from lattice_utils.studies import train_models

    monkeypatch.setattr(image_sets, "_download", lambda *a, **k: (_ for _ in ()).throw(OSError("offline")))
    assert train_models.main(["--slot", "jv2d", "--task", "classify", "--data-source", "stem_jv2d"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: The paper's image set stem_jv2d") and "stem_jv2d.zip" in err[0]


@bad_input
@pytest.mark.parametrize("start", ["1a", "19", "004"])
def test_run_all_refuses_a_from_number_no_notebook_has(start):
    # --plan: were the number accepted, only the plan would run, never a notebook (--only was
    # already checked: test_hardening's test_run_all_arguments_are_checked_before_anything_runs)
    out = subprocess.run(["bash", "run_all.sh", "--from", start, "--plan"], capture_output=True, text=True,
                         cwd=paths.ROOT, timeout=120)
    assert out.returncode == 2, out.stdout[-500:]
    assert f"no notebook numbered '{start}'; the notebooks are numbered 01 02" in out.stderr
    assert out.stdout == ""


@bad_input
def test_sources_lists_a_folder_or_an_empty_file_as_not_usable(scratch_dirs, capsys):
    from lattice_utils.data import datasets, sources

    structures.jarvis_zip_path("jv2d").mkdir(parents=True)          # a folder named like the zip
    image_sets.image_set_path("stem_jv2d").write_bytes(b"")          # an interrupted copy
    assert sources.main([]) == 0
    out = capsys.readouterr().out
    assert re.search(r"d2-12-12-2022.json.zip +not usable: .*d2-12-12-2022.json.zip is a folder, not a "
                     r"file; replace it with the file from https://", out), out
    assert re.search(r"stem_jv2d.zip +not usable: .*stem_jv2d.zip is empty \(0 bytes", out), out
    assert "present:" not in out
    # and the run does what the listing says: the stand-ins, with the reason
    assert sources.structure_source("jv2d", "auto") == "offline"
    assert sources.image_set_for("jv2d", "auto") is None
    out = capsys.readouterr().out
    assert "is a folder, not a file in data/raw/" in out and "is empty (0 bytes" in out
    assert datasets.jarvis_corpus_path("jv2d") is None
