"""Symmetry tables, zone-axis sets, structure corpus, pattern storage and the XRD CNN."""
from __future__ import annotations

import numpy as np
import pytest
from conftest import point_paths_at

from lattice_utils.core.profiles import get_profile
from lattice_utils.xrd import corpus, model, patterns, symmetry, zone_axes
from lattice_utils.xrd import simulate as S

# ------------------------------------------------------------------ symmetry

def test_centrosymmetric_groups_from_the_operations():
    cs = symmetry.centrosymmetric_groups()
    assert len(cs) == 92 and 2 in cs and 225 in cs and 1 not in cs and 216 not in cs
    # the list the paper prints as "CS groups" (section 3.2) is the non-centrosymmetric one
    printed = {1, *range(3, 10), *range(16, 47), *range(75, 83), *range(89, 123),
               *range(143, 147), *range(149, 162), *range(168, 175), *range(177, 191),
               *range(195, 200), *range(207, 221)}
    assert len(printed) == 138 and printed == set(range(1, 231)) - set(cs)


def test_enantiomorphic_pairs_are_derived_and_chiral():
    assert symmetry.enantiomorphic_pairs() == symmetry.ENANTIOMORPHIC_PAIRS
    for a, b in symmetry.ENANTIOMORPHIC_PAIRS:
        assert symmetry.is_sohncke(a) and symmetry.is_sohncke(b)
        assert symmetry.point_group(a) == symmetry.point_group(b)
        assert not symmetry.is_centrosymmetric(a)
    assert sum(symmetry.is_sohncke(n) for n in range(1, 231)) == 65


def test_crystal_systems_and_centring():
    assert [symmetry.crystal_system(n) for n in (1, 2, 3, 15, 16, 74, 75, 142, 143, 167, 168,
                                                 194, 195, 230)] == \
        [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6]
    assert list(symmetry.crystal_systems([1, 230])) == [0, 6]
    with pytest.raises(ValueError, match="1-230"):
        symmetry.crystal_system(231)
    # the paper's b.c.c. and f.c.c. lists (section 3.6)
    assert [n for n in range(195, 231) if symmetry.centring(n) == "I"] == \
        [197, 199, 204, 206, 211, 214, 217, 220, 229, 230]
    assert [n for n in range(195, 231) if symmetry.centring(n) == "F"] == \
        [196, 202, 203, 209, 210, 216, 219, 225, 226, 227, 228]


# ------------------------------------------------------------------ axes

def test_axis_sets_and_their_coverage():
    assert len(zone_axes.AXES_20) == 20 and zone_axes.AXES_10 == zone_axes.AXES_20[:10]
    assert set(zone_axes.AXES_4) <= set(zone_axes.AXES_20) and not set(zone_axes.UNSEEN) & set(zone_axes.AXES_20)
    cov = zone_axes.angular_coverage(zone_axes.AXES_20)
    assert cov["nearest_mean_deg"] == pytest.approx(13.03, abs=0.005)     # the paper's figures
    assert cov["global_mean_deg"] == pytest.approx(44.32, abs=0.005)
    assert zone_axes.label((1, 2, 3)) == "[123]" and zone_axes.label("1 -1 0") == "[1 -1 0]"


# ------------------------------------------------------------------ corpus

@pytest.fixture(scope="module")
def smoke_structures(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    point_paths_at(tmp_path_factory.mktemp("xrd-data"), mp)
    P = get_profile("smoke")
    table = corpus.load_structures(P, verbose=False)
    yield P, table
    mp.undo()


def test_pyxtal_corpus_is_labelled_split_and_cached(smoke_structures):
    P, table = smoke_structures
    assert len(table) >= 0.9 * len(corpus.requested_groups(P)) * P.xrd.per_group
    # labels are what spglib finds, whatever PyXtal was asked for
    row = table.iloc[5]
    assert corpus.spglib_group(corpus.crystal_of(row)) == row.space_group
    assert set(table.split) <= {"train", "val", "test"} and (table.split == "train").any()
    again = corpus.load_structures(P, verbose=False)
    assert again["id"].tolist() == table["id"].tolist()
    assert again["split"].tolist() == table["split"].tolist()
    assert (table.requested_group != table.space_group).mean() < 0.6


def test_cif_folder_skips_and_names_bad_files(tmp_path):
    from pymatgen.core import Lattice, Structure
    Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"],
                              [[0, 0, 0], [0.5, 0.5, 0.5]]).to(filename=str(tmp_path / "nacl.cif"))
    Structure(Lattice.cubic(3.6), [{"Fe": 0.5, "Co": 0.5}], [[0, 0, 0]]).to(
        filename=str(tmp_path / "feco.cif"))
    (tmp_path / "junk.cif").write_text("this is not a CIF\n")
    table, skipped = corpus.read_cif_dir(tmp_path, verbose=False)
    assert table["space_group"].tolist() == [225]
    reasons = dict(skipped)
    assert "partial occupancy" in reasons["feco.cif"] and "junk.cif" in reasons
    with pytest.raises(FileNotFoundError, match="no such folder"):
        corpus.read_cif_dir(tmp_path / "missing")


@pytest.mark.slow
def test_aflow_prototypes_are_an_external_set_of_real_crystals():
    table = corpus.aflow_prototypes()
    assert len(table) >= 250 and table.crystal_system.nunique() == 7
    # spglib agrees with the prototype's own space group nearly always
    assert (table.space_group == table.aflow_group).mean() > 0.95


# ------------------------------------------------------------------ patterns and model

def test_stored_patterns_render_like_direct_simulation(smoke_structures):
    P, table = smoke_structures
    ps = patterns.build_patterns(table, zone_axes.AXES_4, P, verbose=False)
    assert len(ps) == 4 * len(table)
    rng = np.random.default_rng(0)
    for i in rng.choice(len(ps), 6, replace=False):
        m = ps.meta.iloc[i]
        direct = S.zone_axis_pattern(corpus.crystal_of(table.iloc[m.structure]), m.axis)
        xy, inten = ps.spots(int(i))
        assert len(inten) == len(direct.intensity)
        assert np.allclose(xy, direct.xy, atol=2e-3) and np.allclose(inten, direct.intensity, atol=1e-3)
        # float16 positions may move a sub-pixel spot to the neighbouring pixel: compare totals
        a, b = S.render_pattern(direct, (48, 48)).sum(), ps.render([i], (48, 48))[0].sum()
        assert abs(int(a) - int(b)) <= 0.02 * a + 255
    idx = ps.select(["100"], "train")
    assert set(ps.meta.axis[idx]) == {"[100]"} and set(ps.meta.split[idx]) == {"train"}
    # another split of the same structures: the stored patterns, the table's split
    moved = table.assign(split=np.where(table["split"] == "train", "test", "train"))
    again = patterns.build_patterns(moved, zone_axes.AXES_4, P, verbose=False)
    assert again.root == ps.root and set(again.meta.split[idx]) == {"test"}
    cached = ps.images(idx, (32, 32), name="t")
    lazy = ps.images(idx, (32, 32), cache_limit_gb=0)
    assert isinstance(lazy, patterns.LazyImages)
    assert np.array_equal(np.asarray(cached[:5]), lazy[np.arange(5)])


def test_cnn_trains_resumes_and_is_cached(smoke_structures, tmp_path):
    P, table = smoke_structures
    rng = np.random.default_rng(0)
    X = rng.integers(0, 255, (40, 32, 32), dtype=np.uint8)
    y = rng.integers(1, 231, 40)
    cfg = model.make_config("test", P, "rand", epochs=2, precision="fp32")
    m = model.train_xrd(cfg, X, y, X[:8], y[:8], log=lambda *a: None)
    assert [h["epoch"] for h in m.history] == [1, 2] and (cfg.directory() / "final.pt").exists()
    p_sg, p_cs = m.predict_proba(X[:5])
    assert p_sg.shape == (5, 230) and p_cs.shape == (5, 7)
    assert np.allclose(p_sg.sum(1), 1, atol=1e-4)
    again = model.train_xrd(cfg, X, y, log=lambda *a: pytest.fail("retrained"))
    assert np.allclose(again.predict_proba(X[:5])[0], p_sg, atol=1e-5)


def test_accuracy_measures_against_hand_counts():
    proba = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.5, 0.4, 0.1], [0.2, 0.5, 0.3]])
    truth = np.array([0, 1, 1, 1])
    t = model.accuracy_table(proba, truth)
    assert t["weighted_acc"] == pytest.approx(2 / 4)       # rows 0 and 3
    assert t["balanced_acc"] == pytest.approx((1 + 1 / 3) / 2)
    assert model.accuracy_table(proba, truth)["n"] == 4
    assert model.top_k_hits(proba, truth, 2).tolist() == [True, True, True, True]
    assert np.isnan(model.accuracy_table(np.zeros((0, 3)), np.zeros(0, int))["weighted_acc"])


# ------------------------------------------------------------------ perturbations

def test_perturbations_strain_substitution_depletion_mirror():
    from pymatgen.core import Lattice, Structure

    from lattice_utils.xrd import perturb
    # an I-cubic structure with Fe on the b.c.c. sites and Al elsewhere (CsCl-derived, Im-3m)
    s = Structure.from_spacegroup("Im-3m", Lattice.cubic(5.8), ["Fe", "Al"],
                                  [[0, 0, 0], [0.25, 0.25, 0.25]])
    c = S.Crystal.from_structure(s, "FeAl-like")
    assert corpus.spglib_group(c) == 229 and perturb.is_depletion_candidate(c, 229, "bcc")
    assert not perturb.is_depletion_candidate(c, 229, "fcc")
    # strain scales the lattice and moves spots radially by 1 / (1 + e)
    p0 = S.zone_axis_pattern(c, "100")
    p1 = S.zone_axis_pattern(perturb.strained(c, 0.10), "100")
    assert np.allclose(np.sort(np.linalg.norm(p1.xy, axis=1))[:4],
                       np.sort(np.linalg.norm(p0.xy, axis=1))[:4] / 1.1)
    with pytest.raises(ValueError, match="strain"):
        perturb.strained(c, 5.0)
    # substitution replaces the stated share of atoms, never by the same element
    rng = np.random.default_rng(0)
    sub = perturb.substituted(c, 0.5, rng)
    changed = np.array(sub.species) != np.array(c.species)
    assert changed.sum() == round(0.5 * len(c.species))
    assert np.allclose(sub.frac, c.frac)
    # depletion keeps the key sites; at 100 % only the b.c.c. lattice of Fe is left
    half = perturb.depleted(c, "bcc", 0.5, np.random.default_rng(1))
    assert len(half.species) == 2 + round(0.5 * (len(c.species) - 2))
    full = perturb.depleted(c, "bcc", 1.0, np.random.default_rng(1))
    assert set(full.species) == {"Fe"} and len(full.species) == 2
    assert corpus.spglib_group(full) == 229                       # Im-3m: b.c.c.
    # a mirror image keeps the intensities (Friedel) and, for a chiral group, is its enantiomorph
    m = perturb.mirrored(c)
    assert np.allclose(S.zone_axis_pattern(m, "123").intensity, S.zone_axis_pattern(c, "123").intensity)


def test_cnn_takes_the_papers_321_by_322_patterns():
    import torch
    net = model.XrdCNN(width=4, hidden=32, input_shape=(321, 322))
    assert net.pool.output_size == 7                  # 20 x 20 after four poolings, pooled to 7 x 7
    a, b = net(torch.rand(1, 1, 321, 322))
    assert a.shape == (1, 230) and b.shape == (1, 7)
    # the paper's widths: 64 -> 512 channels, two 4,096-wide layers
    full = sum(p.numel() for p in model.XrdCNN(64, 4096, (321, 322)).parameters())
    assert 120e6 < full < 130e6


@pytest.mark.bad_input
@pytest.mark.parametrize("number", [0, 231, -5])
def test_a_space_group_number_outside_1_to_230_is_refused_by_every_symmetry_lookup(number):
    from lattice_utils.xrd import symmetry

    for lookup in (symmetry.crystal_system, symmetry.rotations, symmetry.international_symbol,
                   symmetry.point_group, symmetry.centring):
        with pytest.raises(ValueError, match=f"space group number must be 1-230, got {number}"):
            lookup(number)


# ------------------------------------------------------------------ corpus: attempts abandoned for time

def test_a_pinned_timeout_skips_that_attempt_and_others_get_the_slack(monkeypatch):
    free, _, none_out = corpus.generate_one(1, 0, seed=3, max_atoms=12, timeout_s=0)
    assert free is not None and none_out == []
    # the reference build abandoned attempt 0: the replay skips it and keeps attempt 1's structure
    skipped, rej, out = corpus.generate_one(1, 0, seed=3, max_atoms=12, timeout_s=0, pinned=[0])
    assert out == [0] and rej[corpus.TIMED_OUT] == 1
    assert skipped is not None and skipped["id"] == free["id"] and skipped["frac"] != free["frac"]
    # a machine on which every search runs past the limit: attempts under 1 s of CPU are abandoned
    from contextlib import contextmanager

    from lattice_utils.core import parallel

    @contextmanager
    def slow_machine(seconds):
        if 0 < seconds < 1:
            raise parallel.AttemptTimeout()
        yield

    monkeypatch.setattr(parallel, "time_limit", slow_machine)
    lost, rej, out = corpus.generate_one(1, 0, seed=3, max_atoms=12, timeout_s=0.5, attempts=3)
    assert lost is None and out == [0, 1, 2] and rej[corpus.TIMED_OUT] == 3
    # replaying a reference that finished attempt 0: PIN_SLACK times the limit lets it finish here too
    assert corpus.PIN_SLACK * 0.5 >= 1
    kept, _, out = corpus.generate_one(1, 0, seed=3, max_atoms=12, timeout_s=0.5, pinned=[])
    assert out == [] and kept == free


def test_a_ledger_pins_the_corpus_and_a_bad_ledger_is_refused(smoke_structures, tmp_path, monkeypatch):
    P, table = smoke_structures
    summary = corpus.structures_summary(P)
    assert summary["pinned"] is False and isinstance(summary["timed_out"], dict)
    ledger = tmp_path / "ledger.json"
    monkeypatch.setattr(corpus, "TIMEOUT_LEDGER", ledger)
    unpinned = corpus.corpus_path(P)
    assert corpus.pinned_timeouts(P) is None
    path = corpus.pin_timeouts(P)
    assert path != unpinned and "-pinned-" in path.name and path.exists()
    assert corpus.pinned_timeouts(P) == summary["timed_out"]
    again = corpus.load_structures(P, verbose=False)
    assert again["id"].tolist() == table["id"].tolist() and again["frac"].tolist() == table["frac"].tolist()
    assert corpus.structures_summary(P)["pinned"] is True
    with pytest.raises(ValueError, match="pinned already"):
        corpus.pin_timeouts(P)
    # a different record is another corpus
    ledger.write_text('{"%s": {"pyxtal-001-0000": [0]}}' % unpinned.name.removesuffix(".json.gz"))
    assert corpus.corpus_path(P) not in (path, unpinned)
    ledger.write_text('{"%s": {"pyxtal-001-0000": ["first"]}}' % unpinned.name.removesuffix(".json.gz"))
    with pytest.raises(ValueError, match=r"ledger\.json.*attempt numbers"):
        corpus.pinned_timeouts(P)


def test_patterns_are_keyed_by_the_structures_not_only_their_ids(smoke_structures):
    P, table = smoke_structures
    axes = zone_axes.AXES_4
    moved = table.copy()
    lat = np.array(moved.at[0, "lattice"], dtype=float) * 1.01
    moved.at[0, "lattice"] = lat.tolist()
    assert patterns.pattern_dir(moved, axes, P, S.CU_KA, False) != patterns.pattern_dir(table, axes, P, S.CU_KA, False)
