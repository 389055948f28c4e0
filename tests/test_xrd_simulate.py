"""The 2D X-ray diffraction simulator against answers known in closed form, and pymatgen."""
from __future__ import annotations

import numpy as np
import pytest
from pymatgen.analysis.diffraction.xrd import XRDCalculator
from pymatgen.core import Lattice, Structure

from lattice_utils.xrd import simulate as S


def crystal(sg, lattice, species, coords):
    return S.Crystal.from_structure(Structure.from_spacegroup(sg, lattice, species, coords))


@pytest.fixture(scope="module")
def copper():
    return crystal("Fm-3m", Lattice.cubic(3.615), ["Cu"], [[0, 0, 0]])


@pytest.fixture(scope="module")
def tungsten():
    return crystal("Im-3m", Lattice.cubic(3.165), ["W"], [[0, 0, 0]])


@pytest.fixture(scope="module")
def triclinic():
    lat = Lattice.from_parameters(5.1, 6.3, 7.2, 78.0, 95.0, 104.0)
    return S.Crystal(lat.matrix, [[0.1, 0.2, 0.3], [0.6, 0.1, 0.8], [0.35, 0.7, 0.15]],
                     ["Si", "O", "Na"], "triclinic")


def test_simple_cubic_100_is_a_square_net_of_spacing_1_over_a():
    c = S.Crystal(np.eye(3) * 3.35, [[0, 0, 0]], ["Po"])
    p = S.zone_axis_pattern(c, "100", min_intensity=0)
    assert np.all(p.hkl[:, 0] == 0)
    expected = np.linalg.norm(p.hkl[:, 1:], axis=1) / 3.35
    assert np.allclose(np.linalg.norm(p.xy, axis=1), expected)
    # every (0 k l) inside the limiting sphere 2/lambda is there, and nothing else
    k = np.arange(-10, 11)
    kk, ll = np.meshgrid(k, k)
    inside = (np.hypot(kk, ll) / 3.35 < 2 / S.CU_KA) & ((kk != 0) | (ll != 0))
    assert len(p.hkl) == inside.sum()


def test_cubic_111_is_a_hexagonal_net(copper):
    p = S.zone_axis_pattern(copper, "111", min_intensity=1e-8)
    assert np.all(p.hkl.sum(axis=1) == 0)
    r = np.linalg.norm(p.xy, axis=1)
    first = np.isclose(r, r.min())
    assert first.sum() == 6                                       # the six {2-20}
    assert r.min() == pytest.approx(np.sqrt(8) / 3.615)
    ang = np.sort(np.degrees(np.arctan2(p.xy[first, 1], p.xy[first, 0])) % 360)
    assert np.allclose(np.diff(ang), 60.0)


def test_fcc_and_bcc_extinctions(copper, tungsten):
    for axis in ("100", "110", "111", "123"):
        h = S.zone_axis_pattern(copper, axis, min_intensity=1e-8).hkl
        assert len(h) and np.all((h % 2 == h[:, :1] % 2).all(axis=1))   # unmixed parity only
        h = S.zone_axis_pattern(tungsten, axis, min_intensity=1e-8).hkl
        assert len(h) and np.all(h.sum(axis=1) % 2 == 0)                # h + k + l even


def test_friedel_symmetry_of_a_non_centrosymmetric_crystal():
    zns = crystal("F-43m", Lattice.cubic(5.41), ["Zn", "S"], [[0, 0, 0], [0.25, 0.25, 0.25]])
    p = S.zone_axis_pattern(zns, "110")
    F = S.structure_factors(zns, p.hkl, np.linalg.norm(p.hkl @ zns.reciprocal, axis=1))
    Fm = S.structure_factors(zns, -p.hkl, np.linalg.norm(p.hkl @ zns.reciprocal, axis=1))
    assert not np.allclose(F, Fm)                     # the phases differ: no inversion centre
    assert np.allclose(np.abs(F), np.abs(Fm))         # the intensities do not
    img = S.render_pattern(p, (321, 322))
    assert np.abs(img.astype(int) - img[::-1, ::-1]).max() <= 1


def test_every_drawn_reflection_is_perpendicular_to_the_direct_lattice_beam(triclinic):
    for axis in ("100", "111", "123", "302", "013"):
        p = S.zone_axis_pattern(triclinic, axis, min_intensity=0)
        beam = np.array(S.parse_zone_axis(axis)) @ triclinic.lattice
        g = p.hkl @ triclinic.reciprocal
        assert len(g) > 10
        assert np.abs(g @ beam).max() < 1e-9 * np.linalg.norm(beam)
        # the detector coordinates keep every length: the whole g lies in the detector plane
        assert np.allclose(np.linalg.norm(p.xy, axis=1), np.linalg.norm(g, axis=1))
    # taking [uvw] as a Cartesian vector (the authors' code) is not the same beam here
    t_cart = np.array([1.0, 1.0, 1.0]) / np.sqrt(3)
    assert abs(S.beam_direction(triclinic, "111") @ t_cart) < 0.99


@pytest.mark.parametrize("name", ["copper", "zno", "triclinic"])
def test_powder_pattern_matches_pymatgen(name, copper, triclinic):
    c = {"copper": copper, "triclinic": triclinic,
         "zno": crystal("P6_3mc", Lattice.hexagonal(3.25, 5.21), ["Zn", "O"],
                        [[1 / 3, 2 / 3, 0], [1 / 3, 2 / 3, 0.382]])}[name]
    tt, inten = S.powder_pattern(c, two_theta_range=(10, 80))
    ref = XRDCalculator(wavelength=S.CU_KA).get_pattern(c.to_structure(), two_theta_range=(10, 80))
    strong = ref.y > 1
    # each strong reference peak against our nearest peak (positions agree to rounding only)
    dist = np.abs(tt[None, :] - ref.x[strong][:, None])
    near, ours = dist.min(axis=1), inten[dist.argmin(axis=1)]
    assert near.max() < 1e-3                                   # peak positions
    assert np.allclose(ours, ref.y[strong], atol=0.2)          # relative intensities


def test_render_sizes_and_direct_beam(copper):
    p = S.zone_axis_pattern(copper, "100")
    img = S.render_pattern(p, (321, 322))
    assert img.shape == (321, 322) and img.dtype == np.uint8
    assert img[160, 160:162].max() == round(255 * S.BEAM_LEVEL)       # the beam marker
    # the four strongest {200} spots are disks of radius 0.1 1/A: area pi r^2 each
    px = 322 / (2 * p.g_max)
    disk = np.pi * (0.1 * px) ** 2
    x = np.round((p.xy[:, 0] + p.g_max) * px).astype(int)
    y = np.round((p.g_max - p.xy[:, 1]) * 321 / (2 * p.g_max)).astype(int)
    top = np.argmax(p.intensity)
    patch = img[y[top] - 15:y[top] + 16, x[top] - 15:x[top] + 16] / 255
    assert patch.sum() == pytest.approx(disk, rel=0.05)
    # rotation turns the spots about the beam
    sq = S.render_pattern(p, (321, 321), rotation_deg=10)
    rot = S.render_pattern(p, (321, 321), rotation_deg=100)
    assert np.array_equal(rot, np.rot90(sq)) or np.abs(rot.astype(int) - np.rot90(sq)).max() <= 1


def test_bad_input_is_named():
    for bad in ("000", [0, 0, 0], "1.5 0 0", "abc", [1, 2]):
        with pytest.raises(ValueError, match="zone axis"):
            S.parse_zone_axis(bad)
    assert S.parse_zone_axis("[1 -1 0]") == (1, -1, 0) and S.parse_zone_axis("012") == (0, 1, 2)
    half = Structure(Lattice.cubic(3.6), [{"Fe": 0.5, "Co": 0.5}], [[0, 0, 0]])
    with pytest.raises(S.CrystalError, match="partial occupancy"):
        S.Crystal.from_structure(half, "FeCo.cif")
    with pytest.raises(S.CrystalError, match="zero cell volume"):
        S.Crystal(np.array([[1, 0, 0], [0, 1, 0], [1, 1, 0]]), [[0, 0, 0]], ["Fe"], "flat.cif")
    with pytest.raises(S.CrystalError, match="form factor"):
        S.Crystal(np.eye(3) * 4, [[0, 0, 0]], ["Xx"], "odd")


def test_zone_basis_spans_the_whole_zone():
    for axis in ("100", "111", "123", "302", "313", "331", (2, -3, 5)):
        b = S.zone_basis(axis)
        n = np.array(S.parse_zone_axis(axis))
        assert np.all(b @ n == 0)
        # a basis of the full sublattice has |b1 x b2| = |n| / gcd(n)
        g = np.gcd.reduce(np.abs(n))
        assert np.linalg.norm(np.cross(b[0], b[1])) == pytest.approx(np.linalg.norm(n) / g)


def test_symmetry_features_see_the_net_and_its_rotations(copper):
    """Cubic [100] is a square net with 4-fold symmetry and no 3-fold; [111] a hexagonal net
    with 6-fold symmetry and no 4-fold; both keep their mirrors."""
    from lattice_utils.xrd.features import FEATURES, symmetry_features
    f = dict(zip(FEATURES, symmetry_features(*_spots(copper, "100"))))
    assert f["|g2|/|g1|"] == pytest.approx(1.0) and f["net angle (deg)"] == pytest.approx(90.0)
    assert f["rot 90"] == pytest.approx(1.0) and f["rot 60"] < 0.1
    assert f["mirror g1"] == pytest.approx(1.0)
    f = dict(zip(FEATURES, symmetry_features(*_spots(copper, "111"))))
    assert f["net angle (deg)"] == pytest.approx(60.0)
    assert f["rot 60"] == pytest.approx(1.0) and f["rot 120"] == pytest.approx(1.0)
    assert f["rot 90"] < 0.1


def test_symmetry_features_of_a_triclinic_pattern_and_bad_input(triclinic):
    from lattice_utils.xrd.features import symmetry_features
    f = symmetry_features(*_spots(triclinic, "123"))
    assert np.isfinite(f).all() and f[4] < 0.5           # no 4-fold axis in a triclinic zone
    assert np.isnan(symmetry_features(np.zeros((1, 2)), np.ones(1))).all()
    with pytest.raises(ValueError, match="3 spot positions but 2 intensities"):
        symmetry_features(np.zeros((3, 2)), np.ones(2))


def _spots(crystal, axis):
    p = S.zone_axis_pattern(crystal, axis)
    return p.xy, p.intensity


def test_polar_input_puts_spots_by_radius_and_azimuth_and_turns_rotation_into_a_shift():
    g = 1.0
    xy = np.array([[0.5 * np.cos(np.radians(31.0)), 0.5 * np.sin(np.radians(31.0))],
                   [-0.5 * np.cos(np.radians(31.0)), -0.5 * np.sin(np.radians(31.0))]])   # a Friedel pair
    img = S.render_polar(xy, [1.0, 1.0], (40, 36), g)
    assert img.sum() == 255 and img[20, int(31 / 5)] == 255           # row |g| / g_max * H, column azimuth / 5°
    turned = S.render_polar(xy, [1.0, 1.0], (40, 36), g, rotation_deg=45.0)
    assert np.array_equal(turned, np.roll(img, 9, axis=1))             # 45° = 9 columns of 5°
    assert np.array_equal(S.render_input(xy, [1.0, 1.0], (40, 36), g), S.render_spots(xy, [1.0, 1.0], (40, 36), g))
    with pytest.raises(ValueError, match="unknown pattern representation"):
        S.render_input(xy, [1.0, 1.0], (8, 8), g, representation="log")


def test_the_feature_cache_knows_the_match_tolerance_and_the_version(tmp_path, copper, monkeypatch):
    from types import SimpleNamespace

    from lattice_utils.xrd import features
    calls = []

    def spots(i):
        calls.append(i)
        return _spots(copper, "100")

    ps = SimpleNamespace(root=tmp_path, spots=spots)
    first = features.feature_matrix(ps, [0, 1])
    assert len(calls) == 2 and first.shape == (2, len(features.FEATURES))
    np.testing.assert_array_equal(features.feature_matrix(ps, [0, 1]), first)
    assert len(calls) == 2                                   # read back from the cache
    monkeypatch.setattr(features, "MATCH_TOL", 2e-3)
    features.feature_matrix(ps, [0, 1])
    assert len(calls) == 4                                   # another tolerance, computed again
    monkeypatch.setattr(features, "FEATURES_VERSION", features.FEATURES_VERSION + 1)
    features.feature_matrix(ps, [0, 1])
    assert len(calls) == 6
