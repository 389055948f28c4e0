"""Known answers of the scan-distortion measurements (lattice bases built by hand, no images)."""
import numpy as np
import pytest

from lattice_utils.lattice import scan_distortion as sd
from lattice_utils.lattice.lattice2d import anisotropy, reduced_cell

GRAPHENE = np.array([[2.46, 0.0], [-1.23, 2.46 * np.sqrt(3) / 2]])
OBLIQUE = np.array([[3.1, 0.0], [-0.9, 4.2]])
TINY_COV = 1e-12 * np.eye(4)      # (1/Å)^2: a measurement far more precise than any tolerance below


def rotation(deg):
    t = np.radians(deg)
    return np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])


def seen(T, deg, D):
    """The basis T (rows) rotated by deg and seen through D."""
    return T @ rotation(deg).T @ D.T


def polar_symmetric(D):
    w, v = np.linalg.eigh(D @ D.T)
    return (v * np.sqrt(w)) @ v.T


D_SCAN = np.array([[1.0, 0.02], [0.0, 1.045]])     # slow axis 4.5 % long, 2 % shear


@pytest.mark.parametrize("T, angles", [(GRAPHENE, (3.0, 24.0)), (GRAPHENE, (3.0, 12.0, 40.0)),
                                       (OBLIQUE, (0.0, 50.0))])
def test_grains_at_different_orientations_give_the_scan_distortion_shape(T, angles):
    bases = [seen(T, a, D_SCAN) for a in angles]
    got = sd.from_grains(bases, [TINY_COV] * len(bases))
    # D_SCAN is a scan model (fast axis exact): grains recover all of it
    assert np.allclose(got.matrix, polar_symmetric(D_SCAN), atol=1e-6)
    assert np.allclose(sd.scan_factors(got.matrix), (1.0, 1.045, 0.02), atol=1e-6)
    f = got.factors()
    assert f["slow_axis_pct"] == pytest.approx(4.5, abs=1e-4) and f["shear_pct"] == pytest.approx(2.0, abs=1e-4)
    assert got.anisotropy == pytest.approx(anisotropy(D_SCAN), abs=1e-6)
    assert got.residual_pct < 1e-4 and got.source == "grains"
    # removing it restores the material's cell (up to the scale grains cannot see)
    cell = reduced_cell(*(bases[0] @ np.linalg.inv(got.matrix).T))
    assert np.allclose(cell[:3], reduced_cell(*T)[:3], rtol=1e-6)


def test_grains_cannot_see_a_scale_error_of_both_axes():
    bases = [seen(GRAPHENE, a, 1.03 * D_SCAN) for a in (3.0, 24.0)]
    got = sd.from_grains(bases, [TINY_COV] * 2)
    assert np.allclose(got.matrix, polar_symmetric(D_SCAN), atol=1e-6)      # the 3 % is not seen


def test_one_grain_or_grains_one_symmetry_apart_cannot_measure_it():
    with pytest.raises(sd.NotMeasurable, match="one grain alone"):
        sd.from_grains([seen(GRAPHENE, 3.0, D_SCAN)], [TINY_COV])
    # 60 degrees apart: the same view of a hexagonal lattice
    with pytest.raises(sd.NotMeasurable, match="symmetry"):
        sd.from_grains([seen(GRAPHENE, 3.0, D_SCAN), seen(GRAPHENE, 63.0, D_SCAN)], [TINY_COV] * 2)


def test_grains_of_two_materials_are_not_made_congruent():
    other = GRAPHENE * np.array([[1.0], [1.0]]) @ np.diag([1.0, 1.1])   # a centred rectangular cell
    with pytest.raises(sd.NotMeasurable, match="differ|no positive-definite"):
        sd.from_grains([seen(GRAPHENE, 3.0, D_SCAN), seen(other, 30.0, D_SCAN),
                        seen(GRAPHENE, 50.0, D_SCAN)], [TINY_COV] * 3)


def test_uncertainty_follows_the_grains_errors():
    bases = [seen(GRAPHENE, a, D_SCAN) for a in (3.0, 24.0)]
    precise = sd.from_grains(bases, [TINY_COV] * 2)
    rough = sd.from_grains(bases, [1e-6 * np.eye(4)] * 2)
    assert rough.anisotropy_err > 10 * precise.anisotropy_err
    # 1e-6 (1/Å)^2 on a reciprocal vector of 0.47 1/Å is 0.2 %: the anisotropy to a few 0.1 %
    assert 1e-4 < rough.anisotropy_err < 0.03


@pytest.mark.parametrize("T, cell", [(GRAPHENE, (2.46, 2.46, 120.0)), (OBLIQUE, None)])
def test_a_reference_of_known_cell_gives_the_whole_distortion(T, cell):
    D = 1.03 * D_SCAN        # the nominal pixel size 3 % off as well
    cell = cell or reduced_cell(*T)[:3]
    got = sd.from_reference(seen(T, 17.0, D), TINY_COV, cell)
    assert np.allclose(got.matrix, polar_symmetric(D), atol=1e-6)
    assert got.scale == pytest.approx(np.sqrt(np.linalg.det(D)), rel=1e-6)


def test_a_reference_that_is_another_lattice_is_refused():
    with pytest.raises(sd.NotMeasurable, match="not the given cell"):
        sd.from_reference(seen(GRAPHENE, 0.0, np.eye(2)), TINY_COV, (3.16, 3.16, 120.0))
    with pytest.raises(sd.NotMeasurable, match="not a cell"):
        sd.from_reference(GRAPHENE, TINY_COV, (2.46, -1.0, 120.0))


@pytest.mark.parametrize("T", [GRAPHENE, OBLIQUE])
def test_an_orthogonal_pair_gives_the_linear_drift(T):
    u, w = np.array([0.012, 0.03]), np.array([0.03, -0.012])
    D0 = np.eye(2) + np.outer(u, [0.0, 1.0])
    D90 = np.eye(2) + np.outer(w, [1.0, 0.0])
    got = sd.from_orthogonal_pair(seen(T, 17.0, D0), TINY_COV, seen(T, 17.0, D90), TINY_COV)
    assert np.allclose(got.drift["u"], u, atol=1e-8) and np.allclose(got.drift["w"], w, atol=1e-8)
    assert np.allclose(got.matrix, polar_symmetric(D0), atol=1e-8)
    assert np.allclose(sd.scan_factors(got.matrix), (1.0, 1.03, 0.012), atol=1e-8)
    assert not got.notes     # the same drift in both frames
    with pytest.raises(sd.NotMeasurable, match="same lattice"):
        sd.from_orthogonal_pair(seen(T, 17.0, D0), TINY_COV, 1.5 * seen(T, 17.0, D90), TINY_COV)


def test_correcting_a_reciprocal_basis_removes_the_distortion_and_widens_its_covariance():
    bases = [seen(GRAPHENE, a, D_SCAN) for a in (3.0, 24.0)]
    dist = sd.from_grains(bases, [1e-7 * np.eye(4)] * 2)
    B = np.linalg.inv(bases[0]).T
    Bc, cov = sd.correct_basis(B, 1e-9 * np.eye(4), dist)
    a, b, gamma, *_ = reduced_cell(*np.linalg.inv(Bc).T)
    assert a == pytest.approx(b, rel=1e-6) and gamma == pytest.approx(120.0, abs=1e-4)
    assert np.all(np.diag(cov) > 1e-9)
