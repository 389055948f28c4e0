"""Layer-group structures for the offline stand-in: class of each group, primitive cells of
centred ones, the bond rules, and records that keep their class and bonds."""
from __future__ import annotations

import numpy as np
import pytest

from lattice_utils.data import layer_groups, offline_corpus, prototypes
from lattice_utils.lattice.lattice2d import StructureError, symmetry_class

bad_input = pytest.mark.bad_input

# jv2d records (index, class) (3, 0), (4, 2), (5, 4) at seed 11, drawn before layer groups existed
EXPECTED = [("2H-MXY Janus", "TeWS", 3.5397, 3.5397), ("GeS/SnSe-type MX (puckered)", "PbS", 4.1422, 4.385),
            ("square rocksalt monolayer MX", "SrO", 3.5735, 3.9664)]


def test_layer_group_classes_follow_the_international_tables():
    # p1, p-1 oblique; c211 centred; pm11 and pmmn rectangular; p4 and p4/mmm square; p3 and p6/mmm hexagonal
    expected = {1: 4, 2: 4, 7: 4, 10: 3, 11: 2, 46: 2, 48: 3, 49: 1, 61: 1, 64: 1, 65: 0, 80: 0}
    assert {g: layer_groups.layer_group_class(g) for g in expected} == expected
    sizes = [len(layer_groups.groups_of_class(c)) for c in range(5)]
    assert sizes == [16, 16, 32, 9, 7] and sum(sizes) == 80


def test_the_centred_groups_are_those_whose_symbol_starts_with_c():
    from pyxtal.symmetry import Group

    centred = tuple(g for g in range(1, 81) if Group(g, dim=2).symbol.startswith("c"))
    assert centred == layer_groups.CENTRED_GROUPS


@bad_input
@pytest.mark.parametrize("group", [0, 81, -3, 1.5, True, "12", None])
def test_a_group_outside_1_to_80_is_refused(group):
    with pytest.raises(ValueError, match="layer group"):
        layer_groups.layer_group_class(group)


def test_primitive_cell_of_a_centred_rectangle_is_the_rhombus_with_half_the_atoms():
    lat = prototypes.cell_matrix(3.0, 5.0, 90.0)
    frac = np.array([[0.0, 0.0, 0.5], [0.5, 0.5, 0.5], [0.0, 0.3, 0.55], [0.5, 0.8, 0.55]])
    new, kept, species = layer_groups.primitive_of_centred(lat, frac, ["Mo", "Mo", "S", "S"])
    assert species == ["Mo", "S"] and len(kept) == 2
    assert np.linalg.norm(new[0]) == pytest.approx(np.hypot(1.5, 2.5))
    assert np.linalg.norm(new[1]) == pytest.approx(np.hypot(1.5, 2.5))
    assert abs(np.linalg.det(new[:2, :2])) == pytest.approx(7.5)       # half the conventional area
    # the kept S sits where it was in space
    cart_before = frac[2] @ lat
    cart_after = kept[1] @ new
    assert np.allclose(cart_before[2], cart_after[2])
    shift = np.linalg.solve(new[:2, :2].T, (cart_before - cart_after)[:2])
    assert np.allclose(shift, np.round(shift))


@bad_input
def test_atoms_without_their_centring_partner_are_refused():
    lat = prototypes.cell_matrix(3.0, 5.0, 90.0)
    frac = np.array([[0.0, 0.0, 0.5], [0.2, 0.5, 0.5]])
    with pytest.raises(StructureError, match="not half"):
        layer_groups.primitive_of_centred(lat, frac, ["Mo", "Mo"])


def test_contact_ratio_of_a_square_carbon_net_is_its_spacing_over_two_radii():
    r = prototypes.covalent_radii()["C"]
    lat = prototypes.cell_matrix(2 * r, 2 * r, 90.0)
    ratios, cells = layer_groups.contact_ratios(lat, np.array([[0.0, 0.0, 0.5]]), ["C"])
    assert ratios.shape == (1, 1, 9) and ratios.min() == pytest.approx(1.0)
    assert np.isinf(ratios[0, 0][np.all(cells[0, 0] == 0, axis=1)]).all()     # not bonded to itself


def test_graphene_spans_the_plane_and_wires_dimers_and_lone_atoms_do_not():
    c = ["C", "C"]
    graphene = prototypes.cell_matrix(2.46, 2.46, 120.0)
    assert layer_groups.spans_layer(graphene, [[1 / 3, 2 / 3, 0.5], [2 / 3, 1 / 3, 0.5]], c)
    # a chain along a, 5 Å between chains: bonded in one direction only
    wire = prototypes.cell_matrix(1.45, 5.0, 90.0)
    assert not layer_groups.spans_layer(wire, [[0.0, 0.0, 0.5]], ["C"])
    # a C2 dimer in a 6 Å cell
    box = prototypes.cell_matrix(6.0, 6.0, 90.0)
    assert not layer_groups.spans_layer(box, [[0.0, 0.0, 0.5], [0.24, 0.0, 0.5]], c)
    # graphene with one atom lifted 3 Å off the sheet: a lone atom
    lifted = [[1 / 3, 2 / 3, 0.5], [2 / 3, 1 / 3, 0.5], [0.0, 0.0, 0.5 + 3.0 / 25]]
    assert not layer_groups.spans_layer(graphene, lifted, ["C", "C", "C"])


def _layer_group_records(target, n=3):
    rows = []
    for index in range(40):
        row, _ = offline_corpus.generate_one("jv2d", index, target, seed=11)
        if row is not None and str(row["prototype"]).startswith("layer group"):
            rows.append(row)
        if len(rows) == n:
            break
    return rows


@pytest.mark.parametrize("target", range(5))
def test_layer_group_records_keep_their_class_and_bond_rules(monkeypatch, target):
    monkeypatch.setitem(offline_corpus.SLOT_SETTINGS["jv2d"], "layer_groups", 1.0)
    rows = _layer_group_records(target)
    assert len(rows) == 3, "a layer-group record should be found within 40 indices"
    for row in rows:
        group = int(row["prototype"].split()[2])
        assert layer_groups.layer_group_class(group) == target
        atoms = row["atoms"]
        lat = np.asarray(atoms["lattice_mat"])
        frac = np.asarray(atoms["coords"])
        if atoms["cartesian"]:
            frac = np.linalg.solve(lat.T, frac.T).T
        species = list(atoms["elements"])
        assert row["label"] == target and row["canon_label"] == target and row["canon_mult"] == 1
        assert symmetry_class(lat, frac @ lat, species) == target
        assert not prototypes.implausible_bonds(lat, frac, species)
        assert layer_groups.spans_layer(lat, frac, species)
        assert 1 <= len(species) <= layer_groups.MAX_ATOMS
        height = np.ptp(frac[:, 2] * lat[2, 2])
        assert layer_groups.MIN_THICKNESS_A - 1e-6 <= height <= layer_groups.MAX_THICKNESS_A + 1e-6


def test_a_layer_group_draw_is_a_function_of_its_generator_alone():
    for seed in range(50):
        try:
            first = layer_groups.draw_layer(2, np.random.default_rng(seed))
        except StructureError:
            continue
        again = layer_groups.draw_layer(2, np.random.default_rng(seed))
        assert np.array_equal(first[0], again[0]) and np.array_equal(first[1], again[1])
        assert first[2] == again[2] and first[3] == again[3]
        return
    pytest.fail("no rectangular layer in 50 seeds")


def test_share_zero_leaves_the_prototype_records_as_they_were(monkeypatch):
    # a draw from the generator at share 0 would change them
    monkeypatch.setitem(offline_corpus.SLOT_SETTINGS["jv2d"], "tail", 0.12)    # its setting then
    monkeypatch.setitem(offline_corpus.SLOT_SETTINGS["jv2d"], "layer_groups", 0.0)
    got = [offline_corpus.generate_one("jv2d", i, t, seed=11)[0] for i, t in ((3, 0), (4, 2), (5, 4))]
    assert [(r["prototype"], r["formula"], round(r["a"], 4), round(r["b"], 4)) for r in got] == EXPECTED


def test_the_share_is_one_of_records_not_of_attempts(monkeypatch):
    # a layer-group draw is rejected about four times as often as a prototype one: drawn per
    # attempt, a share of 0.5 would give about a fifth of the records
    monkeypatch.setitem(offline_corpus.SLOT_SETTINGS["jv2d"], "layer_groups", 0.5)
    rows = [offline_corpus.generate_one("jv2d", i, i % 5, seed=11)[0] for i in range(30)]
    share = np.mean([str(r["prototype"]).startswith("layer group") for r in rows if r is not None])
    assert 0.35 <= share <= 0.65


@bad_input
@pytest.mark.parametrize("share", [-0.1, 1.5, True, "0.3", None, float("nan")])
def test_a_share_outside_0_to_1_is_refused_and_the_setting_kept(share):
    with pytest.raises(ValueError, match="layer-group share"):
        with offline_corpus.layer_group_share("jv2d", share):
            pass
    assert offline_corpus.SLOT_SETTINGS["jv2d"]["layer_groups"] == 0.3


def test_the_share_holds_inside_the_block_only_and_reaches_spawned_workers():
    with offline_corpus.layer_group_share("jv2d", 1.0):
        assert offline_corpus.SLOT_SETTINGS["jv2d"]["layer_groups"] == 1.0
        rows, _, _ = offline_corpus.generate_block("jv2d", [0, 1], [0, 2], seed=11, workers=2)
    assert offline_corpus.SLOT_SETTINGS["jv2d"]["layer_groups"] == 0.3
    assert all(str(r["prototype"]).startswith("layer group") for r in rows) and len(rows) == 2


@bad_input
def test_the_transfer_sweep_refuses_bad_shares_and_a_missing_image_set(scratch_dirs, capsys):
    from lattice_utils.studies import transfer

    assert transfer.main(["--shares", "0", "1.2"]) == 2
    assert "--shares must lie in 0-1" in capsys.readouterr().err
    assert transfer.main(["--shares", "0", "--seeds", "0", "--profile", "smoke"]) == 2
    assert "stem_jv2d" in capsys.readouterr().err
