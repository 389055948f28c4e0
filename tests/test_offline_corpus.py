"""The offline stand-in: prototype library, class from symmetry, determinism, realism figures."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from lattice_utils.core.profiles import get_profile
from lattice_utils.data import datasets, offline_corpus, prototypes
from lattice_utils.lattice.lattice2d import canonical_cell, symmetry_class
from lattice_utils.studies import corpus_stats

bad_input = pytest.mark.bad_input


def _cell(a, b, gamma, c=20.0):
    return prototypes.cell_matrix(a, b, gamma, c)


def _class(lat, frac, species):
    frac = np.asarray(frac, float)
    return symmetry_class(lat, frac @ lat, species)


# ---------------------------------------------------------------- class from symmetry

def test_symmetry_class_of_known_layers():
    hexa = _cell(2.46, 2.46, 120)
    assert _class(hexa, [[1 / 3, 2 / 3, 0.5], [2 / 3, 1 / 3, 0.5]], ["C", "C"]) == 0          # graphene
    fese = _cell(3.77, 3.77, 90)
    assert _class(fese, [[0, 0, .5], [.5, .5, .5], [.5, 0, .57], [0, .5, .43]], ["Fe", "Fe", "Se", "Se"]) == 1
    phos = _cell(3.30, 4.62, 90)
    z = 1.06 / 20
    assert _class(phos, [[0, .086, .5 + z], [.5, .414, .5 + z], [.5, .586, .5 - z], [0, .914, .5 - z]],
                  ["P"] * 4) == 2
    rhomb = _cell(2.46, 2.46, 110)     # graphene sheared along its diagonal mirror
    assert _class(rhomb, [[1 / 3, 2 / 3, .5], [2 / 3, 1 / 3, .5]], ["C", "C"]) == 3
    assert _class(rhomb, [[0.3, 0.6, .5], [0.71, 0.33, .55]], ["C", "N"]) == 4


def test_symmetry_not_metric_decides_the_class():
    # a and b 0.25 % apart in a layer with a mirror but no 4-fold axis: the metric rule says square
    lat = _cell(3.77, 3.7794, 90)
    frac = np.array([[0, 0, .5], [.5, .3, .55]])
    assert canonical_cell(lat, frac @ lat, ["Fe", "Se"]).label == 1
    assert _class(lat, frac, ["Fe", "Se"]) == 2
    # gamma 89.79 degrees with a mirror along the rhombus diagonal: metric square, symmetry centred
    lat = _cell(3.5, 3.5, 89.79)
    frac = np.array([[0, 0, .5], [.3, .3, .55]])
    assert canonical_cell(lat, frac @ lat, ["Fe", "Se"]).label == 1
    assert _class(lat, frac, ["Fe", "Se"]) == 3


def test_symmetry_class_sees_through_stored_supercells_and_centred_cells():
    a = 2.46
    g2x1 = _cell(2 * a, a, 120)
    frac = [[1 / 6, 2 / 3, .5], [2 / 6, 1 / 3, .5], [1 / 6 + .5, 2 / 3, .5], [2 / 6 + .5, 1 / 3, .5]]
    assert _class(g2x1, frac, ["C"] * 4) == 0
    conventional = _cell(3.0, 5.0, 90)
    assert _class(conventional, [[0, 0, .5], [.5, .5, .5]], ["C", "C"]) == 3


# ---------------------------------------------------------------- prototype library

def test_every_prototype_example_builds_with_its_class_and_plausible_bonds():
    lib = prototypes.load_library()
    assert {p.bravais_class for p in lib} >= {0, 1, 2, 4}
    assert len(lib) >= 20
    for p in lib:
        assert p.reference
        for ex in p.examples:
            lat, frac, species, (a, b, gamma) = prototypes.build(p, ex["elements"])
            assert a == pytest.approx(ex["a"]) and b == pytest.approx(ex.get("b", ex["a"]))
            assert prototypes.implausible_bonds(lat, frac, species) == [], (p.name, ex)
            assert _class(lat, frac, species) == p.bravais_class, (p.name, ex)


def test_decorated_cell_scales_with_covalent_radii():
    lib = {p.name: p for p in prototypes.load_library()}
    p = lib["2H-MX2 (MoS2-type)"]
    _, _, _, (a, _, _) = prototypes.build(p, {"M": "Mo", "X": "S"})
    assert a == pytest.approx(3.18)                       # the example itself
    _, _, _, (a_cr_te, _, _) = prototypes.build(p, {"M": "Cr", "X": "Te"})
    r = prototypes.covalent_radii()
    # CrS2 and MoTe2 each share one element; MoTe2 needs the smaller rescaling (0.95 vs 1.14)
    assert a_cr_te == pytest.approx(3.55 * (r["Cr"] + r["Te"]) / (r["Mo"] + r["Te"]))


@bad_input
def test_library_with_an_unknown_element_or_incomplete_example_is_refused(tmp_path):
    good = json.loads(prototypes.LIBRARY.read_text())
    bad = json.loads(json.dumps(good))
    bad["prototypes"][0]["roles"]["X"] = ["C", "Xx"]
    path = tmp_path / "protos.json"
    path.write_text(json.dumps(bad))
    with pytest.raises(ValueError, match=r"protos.json.*no covalent radius.*Xx"):
        prototypes.load_library(path)
    bad = json.loads(json.dumps(good))
    bad["prototypes"][4]["examples"][0]["elements"].pop("X")
    path.write_text(json.dumps(bad))
    with pytest.raises(ValueError, match="does not name every role"):
        prototypes.load_library(path)


# ---------------------------------------------------------------- the corpus

@pytest.mark.parametrize("slot", ["jv2d", "c2db", "alex"])
def test_records_have_their_target_class_by_label_and_symmetry(slot):
    targets = offline_corpus.class_sequence(slot, 40, 0)
    for i, t in enumerate(targets):
        row, _ = offline_corpus.generate_one(slot, i, int(t), 0)
        assert row is not None
        assert row["label"] == t
        if row["supercell"]:
            assert t == 4 and row["canon_label"] in (0, 3) and row["canon_mult"] == 2
        else:
            assert row["canon_label"] == t and row["canon_mult"] == 1
        at = row["atoms"]
        lat = np.array(at["lattice_mat"])
        frac = np.linalg.solve(lat.T, np.array(at["coords"]).T).T
        assert prototypes.implausible_bonds(lat, frac, at["elements"]) == []


def test_supercell_keeps_every_atom_once():
    lat = _cell(3.0, 4.0, 90)
    frac = np.array([[0.1, 0.2, 0.5], [0.6, 0.7, 0.5]])
    big, f, sp = offline_corpus.supercell(lat, frac, ["A", "B"], [[2, 1], [-1, 1]])
    assert len(sp) == 6 and sorted(sp) == ["A"] * 3 + ["B"] * 3
    cart = f @ big
    back = np.mod(np.linalg.solve(lat.T, cart.T).T[:, :2], 1.0)
    assert np.allclose(np.sort(back[np.array(sp) == "A"], axis=0), [[0.1, 0.2]] * 3)


BUSY = "import time\nt = time.time()\nwhile time.time() - t < 120: pass\n"


@pytest.mark.slow
def test_a_slot_is_byte_identical_under_load(scratch_dirs):
    """Nothing in the stand-in depends on the clock: a build beside two busy-loop processes
    writes the same bytes as a build on an idle machine (and with one worker or two)."""
    prof = get_profile("smoke")
    prof = type(prof)(**{**prof.as_dict(), "corpus_sizes": {"jv2d": 24}, "workers": 1})
    datasets.load_corpus("jv2d", prof, verbose=False)
    path = datasets.corpus_path("jv2d", prof, "offline")
    idle = path.read_bytes()
    path.unlink()
    busy = [subprocess.Popen([sys.executable, "-c", BUSY]) for _ in range(2)]
    try:
        loaded = type(prof)(**{**prof.as_dict(), "workers": 2})
        datasets.load_corpus("jv2d", loaded, force=True, verbose=False)
    finally:
        for p in busy:
            p.kill()
    assert datasets.corpus_path("jv2d", loaded, "offline") == path
    assert path.read_bytes() == idle


# ---------------------------------------------------------------- realism figures

def test_baseline_errors_match_scikit_learn():
    from sklearn.dummy import DummyRegressor
    from sklearn.metrics import mean_absolute_error, mean_squared_error

    rng = np.random.default_rng(0)
    t = pd.DataFrame({"a": rng.uniform(2, 8, 50), "b": rng.uniform(2, 9, 50), "gamma": rng.choice([90., 120.], 50)})
    t["split"] = np.where(np.arange(50) < 40, "train", "test")
    ours = corpus_stats.baseline_errors(t)
    train, test = t[t.split == "train"], t[t.split == "test"]
    for p in ("a", "b", "gamma"):
        pred = DummyRegressor().fit(train[[p]], train[p]).predict(test[[p]])
        assert ours[p]["MAE"] == pytest.approx(mean_absolute_error(test[p], pred))
        assert ours[p]["RMSE"] == pytest.approx(np.sqrt(mean_squared_error(test[p], pred)))
    with pytest.raises(ValueError, match="train and a test"):
        corpus_stats.baseline_errors(t[t.split == "train"])


def test_realism_figures_of_graphene_and_a_supercell():
    from lattice_utils.data.structures import normalise_record

    lat = _cell(2.46, 2.46, 120)
    flat = normalise_record("g", {"lattice_mat": lat.tolist(), "coords": [[1 / 3, 2 / 3, .5], [2 / 3, 1 / 3, .5]],
                                  "elements": ["C", "C"], "cartesian": False}, "test")
    big, f, sp = offline_corpus.supercell(lat, [[1 / 3, 2 / 3, .5], [2 / 3, 1 / 3, .55]], ["B", "N"], [[5, 0], [0, 5]])
    large = normalise_record("h", {"lattice_mat": big.tolist(), "coords": f.tolist(), "elements": sp,
                                   "cartesian": False}, "test")
    fig = corpus_stats.realism(pd.DataFrame([flat, large]))
    bn = np.hypot(2.46 / np.sqrt(3), 0.05 * 20.0)        # B-N bond: in-plane 1.42 Å, 1 Å apart in z
    assert fig["median shortest interatomic distance (Å)"] == pytest.approx((2.46 / np.sqrt(3) + bn) / 2)
    assert fig["perfectly flat layers"] == 0.5 and fig["a or b > 10 Å"] == 0.5
    assert fig["atoms per cell, max"] == 50
    agree = corpus_stats.label_agreement(pd.DataFrame([flat, large]))
    assert list(agree["disagree"]) == [0, 0]
    figures = corpus_stats.record_figures(pd.DataFrame([flat, large]))
    assert list(figures["pair"]) == ["C-C", "B-N"]
    pairs = corpus_stats.distances_by_pair(figures).set_index("pair")
    assert pairs.loc["C-C", "min (Å)"] == pytest.approx(2.46 / np.sqrt(3))
    assert pairs.loc["B-N", "radius sum"] == pytest.approx(0.84 + 0.71)   # Cordero 2008: B 0.84, N 0.71
    assert pairs.loc["B-N", "median / radius sum"] == pytest.approx(bn / 1.55)


def test_drawing_a_record_leaves_the_callers_warning_filters_as_they_were():
    """The drawing libraries' warnings are silenced inside generate_one only: a caller's own
    filters (and so the warnings of everything else it runs) are as they were."""
    import warnings

    from lattice_utils.data import offline_corpus

    with warnings.catch_warnings():
        warnings.simplefilter("default")
        before = list(warnings.filters)
        offline_corpus.generate_one("jv2d", 0, 0, seed=0)
        assert warnings.filters == before


@pytest.mark.bad_input
def test_a_damaged_prototype_library_named_as_text_is_refused_with_its_name(tmp_path):
    import json

    from lattice_utils.data import prototypes

    good = json.loads(prototypes.LIBRARY.read_text())
    good["prototypes"] = [p for p in good["prototypes"] if p["bravais_class"] != 4]
    bad = tmp_path / "no_hexagonal.json"
    bad.write_text(json.dumps(good))
    with pytest.raises(ValueError, match="no_hexagonal.json: prototypes cover classes"):
        prototypes.load_library(str(bad))
