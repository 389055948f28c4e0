"""Model-4 trained on random crystals, real structure types or both, scored on held-out types."""
from __future__ import annotations

import numpy as np
import pytest
from conftest import point_paths_at

from lattice_utils.core.profiles import get_profile
from lattice_utils.xrd import structure_types as st


@pytest.fixture(scope="module")
def smoke_sets(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    point_paths_at(tmp_path_factory.mktemp("xrd-types"), mp)
    P = get_profile("smoke")
    yield P, st.load_sets(P, per_prototype=1, verbose=False)
    mp.undo()


def test_the_mixes_train_on_what_they_say_and_never_on_a_held_out_type(smoke_sets):
    P, sets = smoke_sets
    pr_table, pr = sets["prototypes"]
    px_table, px = sets["pyxtal"]
    held = st.held_out_indices(sets)
    test_types = set(pr_table.loc[pr.meta["structure"].to_numpy()[held[st.TEST_SETS[0]][1]], "prototype"])
    assert test_types and held[st.TEST_SETS[1]][1].size > 0
    for mix in st.MIXES:
        chosen = st.training_indices(sets, mix, "train")
        assert set(chosen) == {"pyxtal": {"pyxtal"}, "prototypes": {"prototypes"},
                               "mixture": {"pyxtal", "prototypes"}}[mix]
        if "prototypes" in chosen:
            seen = set(pr_table.loc[pr.meta["structure"].to_numpy()[chosen["prototypes"]], "prototype"])
            assert not seen & test_types
    # the mixture adds PyXtal crystals only where the training prototypes have no example
    covered = set(pr_table.query("split == 'train'")["space_group"])
    extra = st.training_indices(sets, "mixture", "train")["pyxtal"]
    assert not set(px.meta["space_group"].to_numpy()[extra]) & covered
    assert len(extra) < len(st.training_indices(sets, "pyxtal", "train")["pyxtal"])
    # the other real crystals: none of a structure type the training prototypes hold
    pk_table = sets["package"][0]
    assert len(pk_table) >= 8 and set(pk_table["split"]) == {"test"}
    assert not set(pk_table["aflow_match"]) & set(pr_table.loc[pr_table["split"] == "train", "prototype"])
    with pytest.raises(ValueError, match="unknown training mix 'icsd'"):
        st.training_indices(sets, "icsd", "train")


@pytest.mark.slow
def test_every_mix_is_scored_on_every_test_set(smoke_sets):
    P, sets = smoke_sets
    table, confusions = st.score_mixes(sets, P, log=lambda *_: None)
    assert len(table) == len(st.MIXES) * len(st.CLASSIFIERS) * len(st.TEST_SETS)
    assert table.groupby("classifier")["group weighted %"].apply(lambda c: c.notna().all()).to_dict() == \
        {"model-4": True, "features": False, "model-4 x features": False}
    assert table["n"].gt(0).all()
    for col in ("system weighted %", "system balanced %", "system top-3 %", "majority %"):
        assert table[col].between(0, 100).all()
    assert (table["system top-3 %"] >= table["system weighted %"] - 1e-9).all()
    # one answer per crystal: every test set holds each crystal's 20 patterns
    assert (table["n"] == len(st.AXES) * table["crystals"]).all()
    for col in ("per crystal %", "per crystal within physics %", "crystal symmetry-only ceiling %"):
        assert table[col].between(0, 100).all()
    # physics alone, no training: one value per test set, and on real crystals in their conventional cells
    # the Laue class that the 20 labelled patterns bear out names nearly every system
    laue = table.groupby("test set")["Laue-class rule per crystal %"]
    assert (laue.nunique() == 1).all() and table["Laue-class rule per crystal %"].between(0, 100).all()
    assert laue.first()[st.TEST_SETS[0]] >= 90
    conf = confusions[("mixture", "model-4 x features", st.TEST_SETS[0])]
    assert conf.shape == (7, 7) and np.allclose(conf.dropna().sum(axis=1), 100)


def test_two_classifiers_combine_by_multiplying_their_probabilities():
    p = np.array([[0.6, 0.3, 0.1], [0.2, 0.2, 0.6]])
    q = np.array([[0.2, 0.7, 0.1], [0.0, 0.5, 0.5]])
    c = st.combine(p, q)
    assert np.allclose(c.sum(axis=1), 1)
    assert np.allclose(c[0], np.array([0.12, 0.21, 0.01]) / 0.34)
    # a class one classifier rules out (probability 0) stays out, whatever the other says
    assert c[1, 0] < 1e-10 and c[1].argmax() == 2
