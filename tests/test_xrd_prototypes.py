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
