"""Labels and geometry on hand-built cells whose answers are known."""
from __future__ import annotations

import numpy as np
import pytest
from conftest import cell, hexagonal

from lattice_utils.data.offline_corpus import supercell_2x1
from lattice_utils.data.structures import normalise_record
from lattice_utils.lattice.lattice2d import (
    StructureError,
    bravais_class_2d,
    canonical_cell,
    gauss_reduce,
    lattice_params_2d,
    orient_layer,
)


def labels(atoms):
    r = normalise_record("x", atoms, "test")
    return r["label"], r["canon_label"], r


@pytest.mark.parametrize("name, a, paper, canon", [
    ("graphene", 2.46, 0, 0), ("mos2", 3.16, 0, 0), ("hbn", 2.50, 0, 0),
    ("phosphorene", 3.30, 2, 2), ("fese", 3.77, 1, 1)])
def test_known_materials(request, name, a, paper, canon):
    p, c, r = labels(request.getfixturevalue(name))
    assert (p, c) == (paper, canon)
    assert r["a"] == pytest.approx(a, abs=1e-9)
    assert r["canon_mult"] == 1


def test_graphene_60_degree_cell_is_hexagonal_and_canonical_is_120(graphene):
    g60 = hexagonal(2.46, [[1 / 3, 1 / 3, 0.5], [2 / 3, 2 / 3, 0.5]], ["C", "C"], gamma=60.0)
    p, c, r = labels(g60)
    assert (p, c) == (0, 0)
    assert r["gamma"] == pytest.approx(60.0)
    assert r["canon_gamma"] == pytest.approx(120.0)


def test_rhombic_primitive_cell_is_centred_rectangular():
    p, c, r = labels(cell(4.0, 4.0, 70.0, [[0, 0, 0.5]], ["Mo"]))
    assert (p, c) == (3, 3)


def test_conventional_centred_cell_paper_says_rectangle_canonical_says_centred():
    # the rhombus a = b = 4 A, gamma = 70 deg in its conventional (centred) cell
    big, small = 2 * 4.0 * np.cos(np.radians(35)), 2 * 4.0 * np.sin(np.radians(35))
    p, c, r = labels(cell(small, big, 90.0, [[0, 0, 0.5], [0.5, 0.5, 0.5]], ["Mo", "Mo"]))
    assert p == 2 and c == 3 and r["canon_mult"] == 2
    assert r["canon_a"] == pytest.approx(4.0) and r["canon_b"] == pytest.approx(4.0)
    assert r["canon_gamma"] == pytest.approx(110.0)


def test_oblique_cell():
    p, c, _ = labels(cell(3.0, 4.0, 100.0, [[0, 0, 0.5], [0.3, 0.6, 0.52]], ["Ti", "S"]))
    assert (p, c) == (4, 4)


def test_graphene_2x1_supercell_keeps_primitive_lattice(graphene):
    lat, frac, sp = supercell_2x1(graphene["lattice_mat"], graphene["coords"], graphene["elements"])
    sc = {"lattice_mat": lat.tolist(), "coords": frac.tolist(), "elements": sp, "cartesian": False}
    p, c, r = labels(sc)
    assert r["a"] == pytest.approx(4.92) and r["b"] == pytest.approx(2.46)
    assert p == 4                      # the paper's rule on the stored cell: parallelogram
    assert c == 0 and r["canon_mult"] == 2
    assert (r["canon_a"], r["canon_b"], r["canon_gamma"]) == pytest.approx((2.46, 2.46, 120.0))


def test_ab_swapped_cell(phosphorene):
    lat = np.array(phosphorene["lattice_mat"])
    frac = np.array(phosphorene["coords"])
    swapped = {"lattice_mat": lat[[1, 0, 2]].tolist(), "coords": frac[:, [1, 0, 2]].tolist(),
               "elements": phosphorene["elements"], "cartesian": False}
    p, c, r = labels(swapped)
    assert (r["a"], r["b"]) == pytest.approx((4.62, 3.30))
    assert p == 2 and c == 2
    assert (r["canon_a"], r["canon_b"]) == pytest.approx((3.30, 4.62))


def test_orientation_puts_a_cross_b_on_z_and_keeps_geometry(mos2):
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    q *= np.sign(np.linalg.det(q))
    lat = np.array(mos2["lattice_mat"]) @ q.T          # rotate the whole crystal
    frac = np.array(mos2["coords"])
    new_lat, cart = orient_layer(lat, frac)
    assert np.allclose(new_lat[:2, 2], 0) and np.allclose(new_lat[2, :2], 0)
    assert new_lat[0, 1] == 0 and new_lat[0, 0] > 0
    assert lattice_params_2d(new_lat) == pytest.approx((3.16, 3.16, 120.0))
    old = frac @ lat
    d_old = np.linalg.norm(old[:, None] - old[None], axis=-1)
    d_new = np.linalg.norm(cart[:, None] - cart[None], axis=-1)
    assert np.allclose(d_old, d_new)


def test_orientation_unwraps_a_layer_split_across_c_with_a_tilted_c():
    lat = np.array([[3.0, 0, 0], [0, 3.0, 0], [1.0, 0.5, 15.0]])   # c has in-plane parts
    frac = np.array([[0, 0, 0.98], [0.5, 0.5, 0.03]])
    new_lat, cart = orient_layer(lat, frac)
    assert np.ptp(cart[:, 2]) == pytest.approx(0.05 * 15.0)
    # the moved atom travels by the full c vector, so its in-plane offset is -c_xy
    rel = (cart[1] - cart[0])[:2]
    expect = (np.array([0.5, 0.5, 0.03 + 1.0]) - np.array([0, 0, 0.98])) @ lat
    assert np.allclose(rel, expect[:2])


def test_a_tilted_oblique_cell_is_rotated_into_the_plane():
    from lattice_utils.data.structures import normalise_record

    # an oblique layer whose a and b carry an out-of-plane component (the stored cell is tilted)
    tilt = np.array([[3.1, 0.0, 0.4], [0.9, 3.6, -0.3], [0.0, 0.0, 20.0]])
    row = normalise_record("tilted", {"lattice_mat": tilt.tolist(), "coords": [[0.1, 0.2, 0.5], [0.55, 0.7, 0.52]],
                                      "elements": ["Mo", "S"], "cartesian": False}, "test")
    lat = np.array(row["atoms"]["lattice_mat"])
    assert np.allclose(lat[:2, 2], 0) and np.allclose(lat[2, :2], 0)
    assert row["label"] == 4


def test_gauss_reduction_and_class_tolerances():
    u, v = gauss_reduce([2.46, 0], [2.46 * 5.5, 2.46 * np.sqrt(3) / 2])
    assert np.linalg.norm(u) == pytest.approx(2.46) and np.linalg.norm(v) == pytest.approx(2.46)
    assert np.degrees(np.arccos(np.dot(u, v) / 2.46**2)) == pytest.approx(120.0)
    assert bravais_class_2d(3.0, 3.001, 90.2) == 1
    assert bravais_class_2d(3.0, 3.2, 90.0) == 2
    assert bravais_class_2d(3.0, 4.0, np.degrees(np.arccos(-0.375))) == 3  # b.a = -a^2/2
    assert bravais_class_2d(3.0, 4.0, 101.0) == 4


@pytest.mark.parametrize("atoms, reason", [
    ({"lattice_mat": np.eye(3).tolist(), "coords": [], "elements": []}, "no atoms"),
    ({"lattice_mat": [[1, 0, 0], [2, 0, 0], [0, 0, 9]], "coords": [[0, 0, 0]], "elements": ["C"]},
     "zero-area"),
    ({"lattice_mat": (3 * np.eye(3)).tolist(), "coords": [[0, float("nan"), 0]], "elements": ["C"]},
     "non-finite"),
    ({"lattice_mat": (3 * np.eye(3)).tolist(), "coords": [[0, 0, 0]], "elements": ["Xx"]},
     "unknown element"),
    (None, "no structure"),
])
def test_bad_records_raise_with_reason(atoms, reason):
    with pytest.raises(StructureError, match=reason):
        normalise_record("bad", atoms, "test")


def test_canonical_cell_rejects_zero_area():
    with pytest.raises(StructureError):
        canonical_cell(np.zeros((3, 3)), np.zeros((1, 3)), ["C"])


def test_reducing_many_cells_at_once_gives_each_cells_own_reduction():
    from lattice_utils.lattice.lattice2d import reduced_cell, reduced_cells

    rng = np.random.default_rng(3)
    bases = rng.normal(size=(500, 2, 2)) * rng.uniform(0.5, 5, size=(500, 1, 1))
    bases[:5] = [[[1, 0], [0.5, np.sqrt(3) / 2]], [[1, 0], [7, 1]], [[3, 0], [0, 2]], [[1, 1e-9], [1, 0]],
                 [[2, 0], [-1, 3]]]
    a, b, gamma = reduced_cells(bases)
    one_by_one = np.array([reduced_cell(u, v)[:3] for u, v in bases])
    np.testing.assert_allclose(np.column_stack([a, b, gamma]), one_by_one, rtol=1e-12, atol=1e-9)


def test_reduced_parameters_give_one_description_of_each_lattice():
    from lattice_utils.lattice.lattice2d import reduced_cell, reduced_parameters

    a, b, g = reduced_parameters([2.46, 5.0, 3.0, 3.0], [2.46, 3.0, 3.5, 5.5], [60.0, 90.0, 70.0, 30.0])
    # hexagonal at 60 -> 120; a > b swapped; an acute cell made obtuse; a long cell reduced
    assert np.allclose(a, [2.46, 3.0, 3.0, 3.0]) and np.allclose(b, [2.46, 5.0, 3.5, 3.0153480])
    assert np.allclose(g, [120.0, 90.0, 110.0, 114.2166604])
    rng = np.random.default_rng(0)
    aa, bb, gg = rng.uniform(2, 8, 50), rng.uniform(2, 8, 50), rng.uniform(20, 160, 50)
    ra, rb, rg = reduced_parameters(aa, bb, gg)
    for i in range(50):       # the vectorised reduction is the scalar one
        t = np.radians(gg[i])
        one = reduced_cell([aa[i], 0.0], [bb[i] * np.cos(t), bb[i] * np.sin(t)])
        assert np.allclose((ra[i], rb[i], rg[i]), one[:3])
    # the cell area is kept: it is the same lattice
    assert np.allclose(ra * rb * np.sin(np.radians(rg)), aa * bb * np.sin(np.radians(gg)))
