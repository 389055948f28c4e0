"""Real structure types for the XRD studies: AFLOW prototypes decorated with other elements."""
from __future__ import annotations

import numpy as np
import pytest

from lattice_utils.xrd import corpus
from lattice_utils.xrd import prototype_corpus as pc


@pytest.fixture(scope="module")
def decorated():
    protos = corpus.aflow_prototypes()
    # every crystal system, a few prototypes each, and the duplicated tags
    pick = protos.groupby("crystal_system", group_keys=False).head(3)
    dup = protos[protos["id"].duplicated(keep=False)].head(4)
    sub = protos.loc[sorted(set(pick.index) | set(dup.index))]
    return sub, pc.prototype_corpus(2, seed=0, prototypes=sub)


def test_substitutes_are_close_in_electronegativity_and_size():
    radii = pc.covalent_radii()
    for e in ("O", "S", "Fe", "Ba"):
        options = pc.substitutes(e)
        assert options and e not in options
        for x in options:
            assert abs(pc._electronegativity(x) - pc._electronegativity(e)) <= pc.MAX_ELECTRONEGATIVITY_STEP
            assert abs(radii[x] - radii[e]) <= pc.MAX_RADIUS_STEP * radii[e]
    assert "N" in pc.substitutes("O") and "Cs" not in pc.substitutes("O")
    assert pc.substitutes("Ar") == []      # no electronegativity: kept as it is


def test_a_decoration_keeps_the_space_group_and_plausible_bonds(decorated):
    sub, table = decorated
    deco = table[table["substitution"] != ""]
    assert len(deco) >= len(sub)              # most prototypes give both decorations
    assert table["id"].is_unique
    own = {r["id"]: r for r in table[table["substitution"] == ""].to_dict("records")}
    for r in deco.to_dict("records"):
        base = own[r["id"].rsplit("-d", 1)[0]]
        c = corpus.crystal_of(r)
        assert corpus.spglib_group(c) == r["space_group"] == base["space_group"]
        assert r["prototype"] == base["prototype"]
        ratios = pc.bond_ratios(c)
        # the decoration's bonds sit where real ones do, relative to the covalent radii
        assert ratios.min() >= min(0.8, 0.95 * pc.bond_ratios(corpus.crystal_of(base)).min()) - 1e-9, r["id"]
        # rescaled by the radii: the typical bond keeps its place relative to the radius sums (the
        # whole library: 0.86-1.11 of the prototype's median ratio)
        assert 0.8 < np.median(ratios) / np.median(pc.bond_ratios(corpus.crystal_of(base))) < 1.25, r["id"]
        # every element of the prototype was replaced one to one (no two sites merged)
        assert len(set(r["species"])) == len(set(base["species"]))


def test_the_draw_is_a_function_of_seed_prototype_and_index(decorated):
    sub, table = decorated
    r = sub.iloc[0]
    a, b = pc.decorate_prototype(r, 0, 0), pc.decorate_prototype(r, 0, 0)
    assert a == b
    other = pc.decorate_prototype(r, 1, 0)
    assert other is None or other["species"] != a["species"] or other["lattice"] != a["lattice"]


def test_the_prototype_split_never_leaks(decorated):
    _, table = decorated
    split = pc.split_by_prototype(table, (0.5, 0.25, 0.25), seed=1)
    assert set(split) <= {"train", "val", "test"} and split.notna().all()
    per_prototype = split.groupby(table["prototype"]).nunique()
    assert (per_prototype == 1).all()           # a structure type lies in one split only
    assert split.equals(pc.split_by_prototype(table, (0.5, 0.25, 0.25), seed=1))
    for bad in [(0.5, 0.5), (0.8, 0.3, -0.1), (0.5, 0.2, 0.2)]:
        with pytest.raises(ValueError, match="three non-negative shares"):
            pc.split_by_prototype(table, bad)


def test_conventional_cell_turns_a_primitive_fcc_cell_into_the_cubic_one():
    # rock salt in its primitive rhombohedral cell (a = 5.64 / sqrt 2 Å, 60°): the zone axes of the
    # XRD paper are indices of the conventional cubic cell, so a [100] pattern must be the cube's
    from pymatgen.core import Lattice, Structure

    from lattice_utils.xrd import pattern_symmetry as ps
    from lattice_utils.xrd import simulate as S
    a = 5.64
    prim = Structure(Lattice([[0, a / 2, a / 2], [a / 2, 0, a / 2], [a / 2, a / 2, 0]]), ["Na", "Cl"],
                     [[0, 0, 0], [0.5, 0.5, 0.5]])
    c = S.Crystal.from_structure(prim, "NaCl")
    conv = corpus.conventional_cell(c)
    assert np.allclose(np.linalg.norm(conv.lattice, axis=1), a, atol=1e-6)
    assert np.allclose(conv.lattice @ conv.lattice.T, a * a * np.eye(3), atol=1e-6)
    assert len(conv.species) == 8 and sorted(set(conv.species)) == ["Cl", "Na"]
    assert conv.name == "NaCl" and corpus.spglib_group(conv) == corpus.spglib_group(c) == 225
    # the cube's [100] shows 4mm; the primitive cell's [100] is the cube's [011]: 2mm
    sym = {name: ps.pattern_symmetry(p.xy, p.intensity)
           for name, p in (("conv", S.zone_axis_pattern(conv, "100")), ("prim", S.zone_axis_pattern(c, "100")))}
    assert sym == {"conv": "4mm", "prim": "2mm"}
    # already conventional: the same cell back
    again = corpus.conventional_cell(conv)
    assert np.allclose(again.lattice, conv.lattice) and len(again.species) == 8


@pytest.mark.slow
def test_real_crystals_are_given_in_their_conventional_standard_cells():
    # the prototypes ship mostly as primitive cells (fcc cF8 as a 3.82 Å rhombohedron): every real
    # test crystal is stood in the cell whose [uvw] the zone axes mean, its space group kept
    table = corpus.aflow_prototypes()
    rock_salt = table[table["id"] == "AB_cF8_225_a_b"].iloc[0]
    assert rock_salt["n_atoms"] == 8 and np.allclose(np.linalg.norm(rock_salt["lattice"], axis=1), 5.64, atol=0.05)
    for r in table.sample(40, random_state=0).to_dict("records"):
        c = corpus.crystal_of(r)
        assert corpus.spglib_group(c) == r["space_group"]
        # standing it in its cell again changes nothing but, at most, the orientation
        again = corpus.conventional_cell(c).lattice
        assert np.allclose(again @ again.T, c.lattice @ c.lattice.T, atol=1e-3), r["id"]
