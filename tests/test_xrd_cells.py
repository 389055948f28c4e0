"""The functions that notebooks 09-13 call for their tables and figures, on tiny inputs whose answers
are known: hand-built cubic cells, hand-written probabilities and a model that always predicts the
same space group (no training)."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from lattice_utils.core.profiles import get_profile  # noqa: E402
from lattice_utils.xrd import corpus, perturb, studies, symmetry  # noqa: E402
from lattice_utils.xrd.simulate import Crystal  # noqa: E402

FCC_SITES = [[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]]
OCTAHEDRAL_SITES = [[0.5, 0, 0], [0, 0.5, 0], [0, 0, 0.5], [0.5, 0.5, 0.5]]


def rock_salt() -> Crystal:
    """Cu on the f.c.c. sites, O on the octahedral ones: Fm-3m (225), a depletion candidate."""
    return Crystal(np.eye(3) * 4.2, FCC_SITES + OCTAHEDRAL_SITES, ["Cu"] * 4 + ["O"] * 4, "CuO-rock-salt")


def caesium_chloride() -> Crystal:
    """Pm-3m (221): cubic but primitive, no f.c.c. or b.c.c. candidate."""
    return Crystal(np.eye(3) * 4.1, [[0, 0, 0], [0.5, 0.5, 0.5]], ["Cs", "Cl"], "CsCl")


def table_of(*crystals, split="train") -> pd.DataFrame:
    return pd.DataFrame([{**corpus.record(c, "test"), "split": split} for c in crystals])


class AlwaysPredicts:
    """A stand-in for ``XrdModel``: every image is the same space group (and its crystal system)."""

    def __init__(self, space_group: int):
        self.space_group = space_group

    def predict_proba(self, images):
        p_group = np.zeros((len(images), 230))
        p_group[:, self.space_group - 1] = 1
        p_system = np.zeros((len(images), 7))
        p_system[:, symmetry.crystal_system(self.space_group)] = 1
        return p_group, p_system


@pytest.fixture(scope="module")
def smoke():
    return get_profile("smoke")


def one_hot(groups) -> np.ndarray:
    p = np.zeros((len(groups), 230))
    p[np.arange(len(groups)), np.asarray(groups) - 1] = 1
    return p


# ------------------------------------------------------------------ notebook 09

def test_cubic_is_the_named_crystal_system():
    assert symmetry.CUBIC == 6 and symmetry.crystal_system(225) == symmetry.CUBIC


def test_example_structure_prefers_ia3d_then_cubic_then_any():
    table = pd.DataFrame({"id": list("abcde"), "space_group": [230, 230, 225, 14, 2],
                          "crystal_system": [6, 6, 6, 1, 0], "n_atoms": [10, 20, 50, 100, 200]})
    assert studies.example_structure(table).id == "b"
    assert studies.example_structure(table[table.space_group != 230]).id == "c"
    assert studies.example_structure(table[table.crystal_system != 6]).id == "e"


def test_draw_structure_and_patterns_title_their_panels():
    fig = plt.figure()
    ax3d = fig.add_subplot(1, 3, 1, projection="3d")
    studies.draw_structure(ax3d, rock_salt(), "rock salt")
    assert ax3d.get_title() == "rock salt" and [t.get_text() for t in ax3d.get_legend().get_texts()] == ["Cu", "O"]
    axes = [fig.add_subplot(1, 3, k) for k in (2, 3)]
    studies.draw_patterns(axes, rock_salt(), ["100", "111"], ["[100]", "[111]"])
    assert [ax.get_title() for ax in axes] == ["[100]", "[111]"]
    assert axes[0].images[0].get_array().shape == (321, 322)
    plt.close(fig)


# ------------------------------------------------------------------ notebook 10

def test_accuracy_per_space_group():
    groups = np.array([1, 1, 2])
    p_group = one_hot([1, 2, 2])               # group 1: one of two right; group 2: right
    accuracy = studies.accuracy_per_space_group(p_group, groups)
    assert list(accuracy.index) == list(range(1, 231))
    assert accuracy[1] == 50 and accuracy[2] == 100 and accuracy.drop([1, 2]).isna().all()


def test_accuracy_by_group_size_bins_the_groups_by_training_structures():
    table = pd.DataFrame({"space_group": [1, 2, 2, 2, 3, 3, 3, 3, 3, 3, 2],
                          "split": ["train"] * 10 + ["test"]})       # 1, 3 and 6 training structures
    accuracy = pd.Series(np.nan, index=range(1, 231))
    accuracy[[1, 2, 3]] = [50.0, 100.0, 20.0]
    by_size = studies.accuracy_by_group_size(accuracy, table)
    assert list(by_size.columns) == ["train structures per group", "space groups", "mean accuracy %"]
    assert list(by_size["train structures per group"]) == ["(0, 2]", "(2, 5]", "(5, 10]"]
    assert list(by_size["space groups"]) == [1, 1, 1] and list(by_size["mean accuracy %"]) == [50, 100, 20]


def test_bars_by_crystal_system_draws_one_bar_per_space_group():
    fig, ax = plt.subplots()
    studies.bars_by_crystal_system(ax, np.arange(1, 231, dtype=float))
    assert len(ax.containers) == 7 and sum(len(c) for c in ax.containers) == 230
    assert ax.containers[6][0].get_height() == 195        # the first cubic group
    plt.close(fig)


# ------------------------------------------------------------------ notebook 11

def test_centrosymmetry_top_k():
    groups = np.array([2, 1])                  # P-1 (centrosymmetric), P1 (not)
    p_group = np.zeros((2, 230))
    p_group[0, [0, 1]] = [0.6, 0.4]            # CS pattern: P1 first, P-1 second
    p_group[1, [0, 1]] = [0.7, 0.3]            # non-CS pattern: P1 first
    table, matrices = studies.centrosymmetry_top_k(p_group, groups, ks=(1, 2))
    assert matrices[1].tolist() == [[0, 100], [0, 100]]
    assert matrices[2].tolist() == [[100, 0], [0, 100]]
    assert list(table["CS -> non-CS %"]) == [100, 0] and list(table["n CS"]) == [1, 1]


def test_enantiomorph_confusion():
    groups = np.array([76, 78, 76])
    table, matrices = studies.enantiomorph_confusion(one_hot([76, 76, 1]), groups)
    assert len(table) == len(symmetry.ENANTIOMORPHIC_PAIRS) == len(matrices)
    assert matrices[(76, 78)].tolist() == [[50, 0, 50], [100, 0, 0]]
    first = table.iloc[0]
    assert first["pair"] == "76 / 78" and first["symbols"] == "P4_1 / P4_3" and first["n"] == 3
    assert np.isnan(matrices[(91, 95)]).all() and table.iloc[1]["n"] == 0
    fig, ax = plt.subplots()
    studies.draw_pair_matrix(ax, matrices[(76, 78)], (76, 78))
    assert ax.get_title() == "P4_1 / P4_3" and [t.get_text() for t in ax.texts] == ["50", "0", "50", "100", "0", "0"]
    plt.close(fig)


# ------------------------------------------------------------------ notebook 13

def test_score_crystals_and_predicted_group(smoke):
    model = AlwaysPredicts(225)
    result, p_group = studies.score_crystals(model, [rock_salt(), caesium_chloride()], "100", [225, 221], smoke)
    assert p_group.shape == (2, 230)
    assert result["n"] == 2 and result["group weighted %"] == 50 and result["system weighted %"] == 100
    assert studies.predicted_group(model, rock_salt(), "111", smoke) == 225


def test_strain_study(smoke):
    table = table_of(rock_salt(), caesium_chloride())
    cubic, results = studies.strain_study(AlwaysPredicts(221), table, smoke, n=5)
    assert sorted(cubic.id) == ["CsCl", "CuO-rock-salt"]
    assert list(results["zone axis"]) == ["[100]"] * 5 + ["[111]"] * 5
    assert list(results["strain %"]) == [-10, -5, 0, 5, 10] * 2
    assert (results["group weighted %"] == 50).all() and (results["system weighted %"] == 100).all()


def test_substitution_sample_falls_back_to_the_largest():
    table = pd.DataFrame({"id": list("abcd"), "n_atoms": [120, 110, 10, 5]})
    sample, note = studies.substitution_sample(table, n=2, seed=0)
    assert sorted(sample.id) == ["a", "b"] and note == "structures with >= 100 atoms, as the paper"
    sample, note = studies.substitution_sample(table, n=3, seed=0)
    assert sorted(sample.id) == ["a", "b", "c"]
    assert note == ("only 2 training structures have >= 100 atoms in this profile, so the 3 largest are used "
                    "(>= 10 atoms)")


def test_substitution_study(smoke):
    crystals = [rock_salt()]
    results, examples = studies.substitution_study(AlwaysPredicts(225), crystals, np.array([225]), smoke,
                                                   levels=(0.0, 0.5))
    assert list(results["zone axis"]) == ["[100]", "[100]", "[111]", "[111]"]
    assert list(results["substituted %"]) == [0, 50, 0, 50]
    assert results["spglib still finds the group %"].iloc[0] == 100
    assert (results["group weighted %"] == 100).all()
    assert examples[0.0].species == rock_salt().species
    changed = sum(a != b for a, b in zip(examples[0.5].species, rock_salt().species))
    assert changed == 4
    again = perturb.substituted(rock_salt(), 0.5, np.random.default_rng([smoke.seed, 6, 500]))
    assert examples[0.5].species == again.species


def test_depletion_series():
    series = perturb.depletion_series(rock_salt(), "fcc", (0.0, 0.5, 1.0), np.random.default_rng(0))
    assert [len(c.species) for c in series] == [8, 6, 4]
    assert series[-1].species == ("Cu",) * 4 and corpus.spglib_group(series[-1]) == 225


def test_depletion_candidates_and_study(smoke):
    pools = [table_of(caesium_chloride()), table_of(rock_salt())]
    assert [c.name for _, c in studies.depletion_candidates(pools, "fcc")] == ["CuO-rock-salt"]
    assert studies.depletion_candidates(pools, "bcc") == []
    results, examples = studies.depletion_study(AlwaysPredicts(225), pools, smoke)
    assert list(examples) == ["fcc"] and examples["fcc"][0] == "CuO-rock-salt"
    assert list(results["path"]) == ["non-fcc -> fcc"] * 5
    assert list(results["depleted %"]) == [0, 25, 50, 75, 100] and list(results["atoms"]) == [8, 7, 6, 5, 4]
    assert results["spglib (3D)"].iloc[0] == 225 and results["spglib (3D)"].iloc[-1] == 225
    assert (results["model-4 [100]"] == 225).all() and results["model cubic [100]"].all()
    none, nothing = studies.depletion_study(AlwaysPredicts(225), [table_of(caesium_chloride())], smoke)
    assert nothing == {} and list(none["path"]) == ["none"]


def test_draw_depletion_titles_each_panel_with_its_level_and_group():
    fig, axes = plt.subplots(2, 5)
    studies.draw_depletion(axes, rock_salt(), "fcc", studies.DEPLETION_LEVELS, np.random.default_rng(0))
    assert axes[0, 0].get_title() == "0 % depleted, [100], sg 225"
    assert axes[1, 4].get_title() == "100 % depleted, [111], sg 225"
    plt.close(fig)
