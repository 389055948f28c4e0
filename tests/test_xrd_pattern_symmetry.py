"""The physics ceiling of one zone-axis pattern: its 2D point group and the systems it admits."""
from __future__ import annotations

import numpy as np
import pytest

from lattice_utils.xrd import pattern_symmetry as P
from lattice_utils.xrd.symmetry import CRYSTAL_SYSTEMS


def net(a, b, intensity, n=4):
    """Spots h a* + k b* (not the origin) with intensity(h, k); Friedel pairs equal by construction."""
    xy, inten = [], []
    for h in range(-n, n + 1):
        for k in range(-n, n + 1):
            if (h, k) != (0, 0):
                xy.append(h * np.asarray(a) + k * np.asarray(b))
                inten.append(intensity(h, k))
    xy, inten = np.asarray(xy), np.asarray(inten, float)
    # a limiting circle, as in a real pattern: a parallelogram of (h, k) is not symmetric
    keep = np.linalg.norm(xy, axis=1) <= 0.9 * n * min(np.linalg.norm(a), np.linalg.norm(b))
    return xy[keep], inten[keep] / inten[keep].max()


def radial(h, k):
    return 1.0 / (1 + h * h + k * k)


def test_a_square_net_with_4mm_intensities_admits_tetragonal_and_cubic_not_hexagonal():
    xy, inten = net((0.25, 0), (0, 0.25), radial)
    assert P.pattern_symmetry(xy, inten) == "4mm"
    admitted = {CRYSTAL_SYSTEMS[i] for i in P.consistent_systems("4mm")}
    assert admitted == {"tetragonal", "cubic"}


def test_each_plane_symmetry_is_found_on_a_hand_made_pattern():
    c60 = (0.3 * np.cos(np.pi / 3), 0.3 * np.sin(np.pi / 3))
    assert P.pattern_symmetry(*net((0.3, 0), c60, lambda h, k: 1 / (1 + h * h + k * k + h * k))) == "6mm"
    # a square net whose intensities turn one way: the 4-fold axis without mirrors
    def chiral(h, k):
        return 1 + 0.5 * np.sign(h * k) * np.sign(h * h - k * k) + 0.1 * (h * h + k * k)

    assert P.pattern_symmetry(*net((0.25, 0), (0, 0.25), chiral)) == "4"
    assert P.pattern_symmetry(*net((0.2, 0), (0, 0.31), radial)) == "2mm"        # rectangular
    oblique = net((0.2, 0), (0.07, 0.31), lambda h, k: 1 + ((3 * h + 5 * k) % 7) / 7)
    assert P.pattern_symmetry(*oblique) == "2"
    assert P.consistent_systems("2") == tuple(range(7))
    assert CRYSTAL_SYSTEMS.index("triclinic") not in P.consistent_systems("2mm")


def test_weak_spots_do_not_decide_and_bad_input_is_refused():
    xy, inten = net((0.25, 0), (0, 0.25), radial)
    rng = np.random.default_rng(0)
    noisy = inten.copy()
    weak = noisy < 0.5 * P.MIN_INTENSITY * noisy.max() + 1e-12
    noisy[weak] = rng.uniform(0, 0.004, weak.sum())
    assert P.pattern_symmetry(xy, noisy) == "4mm"
    assert P.pattern_symmetry(xy[:1], inten[:1]) == "2"
    with pytest.raises(ValueError, match=r"xy \[m, 2\]"):
        P.pattern_symmetry(xy[:, :1], inten)
    with pytest.raises(ValueError, match="unknown pattern symmetry '3m'"):
        P.consistent_systems("3m")


def test_the_intensity_tolerance_is_the_noise_a_symmetry_survives():
    xy, inten = net((0.25, 0), (0, 0.25), radial)
    # a square net whose intensities carry 6 % noise: 4mm is lost at the noise-free tolerance and
    # found again at a tolerance of three standard deviations of the difference of two values
    rng = np.random.default_rng(1)
    noisy = inten * (1 + 0.06 * rng.standard_normal(len(inten)))
    assert P.pattern_symmetry(xy, noisy) != "4mm"
    assert P.pattern_symmetry(xy, noisy, intensity_tol=3 * np.sqrt(2) * 0.06) == "4mm"
    # a tolerance that wide still tells a rectangular net's 2mm from 4mm (positions decide)
    assert P.pattern_symmetry(*net((0.2, 0), (0, 0.31), radial), intensity_tol=0.3) == "2mm"
    for bad in (0, -0.1, float("nan"), "5 %"):
        with pytest.raises(ValueError, match="intensity_tol must be a positive number"):
            P.pattern_symmetry(xy, inten, intensity_tol=bad)


def test_the_ceiling_summary_on_a_hand_made_test_set():
    tet, cub, hexa, tri = (CRYSTAL_SYSTEMS.index(s) for s in ("tetragonal", "cubic", "hexagonal", "triclinic"))
    sym = ["4mm", "4mm", "4mm", "6mm", "2"]
    truth = [tet, tet, cub, hexa, tri]
    p = np.full((5, 7), 0.01)
    p[[0, 1, 2, 3, 4], [tet, hexa, cub, hexa, hexa]] = 0.9      # row 1 predicts hexagonal from a 4mm pattern
    p[1, cub] = 0.5
    s = P.ceiling_summary(sym, truth, p)
    assert s["truth admitted %"] == 100 and s["mean admitted systems"] == pytest.approx((2 + 2 + 2 + 3 + 7) / 5)
    assert s["symmetry-only ceiling %"] == pytest.approx(100 * 4 / 5)     # 4mm -> tetragonal (2 of 3)
    assert s["classifier %"] == pytest.approx(60) and s["classifier outside physics %"] == pytest.approx(20)
    assert s["classifier within physics %"] == pytest.approx(60)          # row 1 becomes cubic: still wrong


def test_one_crystal_seen_along_several_axes_admits_only_what_every_pattern_admits():
    tet, cub, hexa, tri, mono = (CRYSTAL_SYSTEMS.index(s)
                                 for s in ("tetragonal", "cubic", "hexagonal", "triclinic", "monoclinic"))
    # crystal 0: cubic, 4mm along <100> and 6mm along <111>: only cubic survives
    # crystal 1: tetragonal, 4mm along c and 2mm elsewhere: tetragonal or cubic
    # crystal 2: triclinic, 2 everywhere: anything
    crystal = [0, 0, 0, 1, 1, 2, 2]
    sym = ["4mm", "6mm", "2mm", "4mm", "2mm", "2", "2"]
    truth = [cub] * 3 + [tet] * 2 + [tri] * 2
    p = np.full((7, 7), 0.01)
    # pattern by pattern the classifier is right 3 times in 7; summed over each crystal's patterns
    # it picks hexagonal for crystal 0 (which the 4mm pattern forbids), tetragonal for 1, monoclinic for 2
    p[0, [cub, tet]] = 0.5, 0.4
    p[1, hexa] = 0.9
    p[2, hexa] = 0.9
    p[3, tet] = 0.9
    p[4, tet], p[4, mono] = 0.5, 0.4
    p[5, tri], p[6, mono] = 0.5, 0.9
    s = P.crystal_summary(crystal, sym, truth, p)
    assert s["crystals"] == 3 and s["crystal truth admitted %"] == 100
    assert s["crystal admitted systems"] == pytest.approx((1 + 2 + 7) / 3)
    # the admitted set alone: {cubic} -> cubic, {tet, cubic} -> tetragonal (its only crystal), all -> triclinic
    assert s["crystal symmetry-only ceiling %"] == pytest.approx(100)
    assert s["crystal classifier %"] == pytest.approx(100 / 3)             # crystal 1 only
    assert s["crystal classifier within physics %"] == pytest.approx(200 / 3)   # crystal 0 becomes cubic
    with pytest.raises(ValueError, match="got 6 patterns, 7 symmetries"):
        P.crystal_summary(crystal[:-1], sym, truth, p)
    # with the axes known, the Laue classes decide every crystal: m-3m, 4/mmm, -1
    # (two 2 patterns of the triclinic one along a and b would fit -3 as well; along c, -3 shows 6)
    axes = ["100", "111", "110", "001", "100", "001", "100"]
    assert P.crystal_summary(crystal, sym, truth, axes=axes)["crystal Laue-class rule %"] == pytest.approx(100)
    # the tetragonal crystal's patterns read as if its 4mm lay along a and a 2mm along c: no tetragonal or
    # cubic class has both, so the rule answers orthorhombic (mmm holds both patterns) and misses it
    assert P.crystal_summary(crystal, sym, truth, axes=axes[:3] + ["100", "001"] + axes[5:])[
        "crystal Laue-class rule %"] == pytest.approx(200 / 3)
    with pytest.raises(ValueError, match="and 6 axes"):
        P.crystal_summary(crystal, sym, truth, axes=axes[:-1])


def test_patterns_that_admit_no_common_system_leave_their_crystal_unconstrained():
    tet, hexa = CRYSTAL_SYSTEMS.index("tetragonal"), CRYSTAL_SYSTEMS.index("hexagonal")
    p = np.full((2, 7), 0.01)
    p[:, hexa] = 0.9
    # a 4 and a 6 pattern: no system shows both; a wrongly found symmetry, not an empty answer
    s = P.crystal_summary([0, 0], ["4", "6"], [tet, tet], p)
    assert s["crystals with contradicting patterns"] == 1 and s["crystal admitted systems"] == 7
    assert s["crystal classifier within physics %"] == s["crystal classifier %"] == 0      # hexagonal, not triclinic


# ------------------------------------------------------------------ Laue class from labelled patterns

def test_each_laue_class_predicts_the_pattern_groups_of_the_international_tables():
    e = P.expected_symmetry
    assert (e("m-3m", "100"), e("m-3m", "111"), e("m-3m", "110")) == ("4mm", "6mm", "2mm")
    assert (e("m-3", "100"), e("m-3", "111")) == ("2mm", "6")
    assert (e("4/m", "001"), e("4/m", "100"), e("4/mmm", "001")) == ("4", "2mm", "4mm")
    # monoclinic, b unique: the 2-fold axis along the beam adds nothing to Friedel's 2
    assert (e("2/m", "010"), e("2/m", "100"), e("2/m", "001")) == ("2", "2mm", "2mm")
    assert (e("mmm", "100"), e("mmm", "010"), e("mmm", "001")) == ("2mm", "2mm", "2mm")
    # trigonal and hexagonal share their c-axis pattern (Friedel) and differ across it
    assert (e("-3", "001"), e("6/m", "001"), e("-3m1", "001"), e("6/mmm", "001")) == ("6", "6", "6mm", "6mm")
    assert (e("-3m1", "100"), e("-3m1", "210"), e("-31m", "100"), e("-31m", "210")) == ("2", "2mm", "2mm", "2")
    assert (e("6/m", "100"), e("6/mmm", "210"), e("-3", "100")) == ("2mm", "2mm", "2")
    assert {e("-1", a) for a in ("100", "111", "123")} == {"2"}
    # any form of the axis: a list, a string, a label
    assert e("m-3m", [1, 0, 0]) == e("m-3m", "[100]") == e("m-3m", (2, 0, 0)) == "4mm"
    with pytest.raises(ValueError, match="unknown Laue class"):
        e("4/mm", "001")


def test_predicted_groups_agree_with_the_single_pattern_table():
    # two independent pieces of physics: each class's prediction must admit its own crystal system
    from lattice_utils.xrd.zone_axes import AXES_20
    for name, (_, system) in P.LAUE_CLASSES.items():
        for axis in AXES_20:
            assert system in P.consistent_systems(P.expected_symmetry(name, axis)), (name, axis)
    # the 20 axes tell every two classes apart, three pairs along one axis alone
    rows = {name: [P.expected_symmetry(name, a) for a in AXES_20] for name in P.LAUE_CLASSES}
    differ = {(x, y): sum(a != b for a, b in zip(rows[x], rows[y])) for x in rows for y in rows if x < y}
    assert min(differ.values()) == 1
    assert sorted(k for k, v in differ.items() if v == 1) == [("-1", "-3"), ("4/m", "6/m"), ("m-3", "mmm")]


def _crystal(group: int, lattice, site=(0.13, 0.27, 0.31)):
    from pymatgen.core import Lattice, Structure

    from lattice_utils.xrd import simulate as S
    s = Structure.from_spacegroup(group, Lattice.from_parameters(*lattice), ["Ga"], [site])
    return S.Crystal.from_structure(s, f"sg{group}")


# a crystal of each Laue class, one atom in a general position, a metric of its system only
LAUE_CRYSTALS = {"-1": (2, (4.1, 5.3, 6.2, 81, 97, 104)), "2/m": (10, (4.1, 5.3, 6.2, 90, 103, 90)),
                 "mmm": (47, (4.1, 5.3, 6.2, 90, 90, 90)), "4/m": (83, (5.3, 5.3, 4.1, 90, 90, 90)),
                 "4/mmm": (123, (5.3, 5.3, 4.1, 90, 90, 90)), "-3": (147, (5.3, 5.3, 4.1, 90, 90, 120)),
                 "-3m1": (164, (5.3, 5.3, 4.1, 90, 90, 120)), "-31m": (162, (5.3, 5.3, 4.1, 90, 90, 120)),
                 "6/m": (175, (5.3, 5.3, 4.1, 90, 90, 120)), "6/mmm": (191, (5.3, 5.3, 4.1, 90, 90, 120)),
                 "m-3": (200, (5.3, 5.3, 5.3, 90, 90, 90)), "m-3m": (221, (5.3, 5.3, 5.3, 90, 90, 90))}


def test_twenty_labelled_patterns_give_each_crystal_its_laue_class():
    from lattice_utils.xrd import corpus
    from lattice_utils.xrd import simulate as S
    from lattice_utils.xrd.zone_axes import AXES_20
    for name, (group, lattice) in LAUE_CRYSTALS.items():
        c = _crystal(group, lattice)
        assert corpus.spglib_group(c) == group
        sym = [P.pattern_symmetry(p.xy, p.intensity) for p in (S.zone_axis_pattern(c, a) for a in AXES_20)]
        expected = [P.expected_symmetry(name, a) for a in AXES_20]
        # every pattern shows its class's group; a high-index zone with a few spots on one row may
        # show a mirror more (6/m along [123]): accidental, and the rule keeps the class
        assert all(P.contains(o, e) for o, e in zip(sym, expected)), name
        assert sum(o == e for o, e in zip(sym, expected)) >= 19, name
        assert P.laue_class(sym, AXES_20) == name


def test_the_laue_rule_survives_an_accidental_symmetry_and_a_missed_one():
    axes = ("100", "010", "001", "111")
    tetragonal = [P.expected_symmetry("4/mmm", a) for a in axes]
    # one pattern shows more than its class (intensities equal by accident): still 4/mmm
    assert P.laue_class(["4mm"] + tetragonal[1:], axes) == "4/mmm"
    # the 4mm along c missed (seen as 4): 4/m and 4/mmm each match three patterns; a tetragonal class is kept
    assert P.laue_class(tetragonal[:2] + ["4"] + tetragonal[3:], axes) in ("4/m", "4/mmm")
    assert P.laue_class(["2"] * 4, axes) == "-1"
    with pytest.raises(ValueError, match="one symmetry per axis"):
        P.laue_class(["2"], axes)
    with pytest.raises(ValueError, match="unknown pattern symmetry"):
        P.contains("3m", "2")


def test_the_laue_rule_table_scores_crystals_and_lists_its_misses():
    import pandas as pd

    from lattice_utils.xrd import corpus, studies
    rows = [corpus.record(_crystal(*LAUE_CRYSTALS[name]), "test") for name in ("mmm", "4/m", "-3m1", "m-3")]
    wrong = dict(rows[1], id="relabelled", crystal_system=CRYSTAL_SYSTEMS.index("cubic"))
    summary, misses = studies.laue_rule({"four": pd.DataFrame(rows), "five": pd.DataFrame(rows + [wrong])},
                                        axes=("100", "010", "001", "111", "110", "210"))
    assert summary["crystals"].tolist() == [4, 5] and summary["skipped"].tolist() == [0, 0]
    assert summary["Laue-class rule %"].tolist() == pytest.approx([100, 80])
    assert summary["majority %"].tolist() == pytest.approx([25, 40])
    assert misses.to_dict("records") == [{"test set": "five", "id": "relabelled", "space group": 83,
                                          "crystal system": "cubic", "Laue class found": "4/m",
                                          "system found": "tetragonal"}]
    # with 10 % intensity noise the rule, its tolerance widened to that noise, still names all four
    noisy, _ = studies.laue_rule({"four": pd.DataFrame(rows)}, axes=("100", "010", "001", "111", "110", "210"),
                                 intensity_noise=0.1)
    assert noisy["intensity noise %"].tolist() == [10] and noisy["Laue-class rule %"].tolist() == [100]
    for bad in (-0.1, float("inf"), "5 %"):
        with pytest.raises(ValueError, match="intensity_noise must be a non-negative number"):
            studies.laue_rule({"four": pd.DataFrame(rows)}, intensity_noise=bad)
