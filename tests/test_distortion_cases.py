"""Hard cases with a known scan distortion, rendered from atoms: the distortion is measured (grains,
a reference frame, an orthogonal pair), the lattice recovered within 1 %, the class right, and a
near-square rectangular cell stays rectangular when nothing measured says otherwise."""
import numpy as np
import pytest

from lattice_utils.lattice import fft_lattice, grains
from lattice_utils.lattice import scan_correction as scc
from lattice_utils.lattice import scan_distortion as sd
from lattice_utils.lattice.lattice2d import reduced_cell
from lattice_utils.simulate import hard_cases as hc


def material_cell(layer):
    return reduced_cell(np.array(layer.a_vec), np.array(layer.b_vec))[:3]


def true_factors(D):
    """The scan model's factors of D's symmetric part (what a measurement can see)."""
    return np.array(sd.scan_factors(D))


def assert_within_error(dist, D, k=2.0):
    f = dist.factors()
    fast, slow, shear = true_factors(D)
    for name, true in (("slow_axis", slow - 1), ("shear", shear)):
        assert abs(f[f"{name}_pct"] - 100 * true) <= k * f[f"{name}_err_pct"] + 0.05, (name, f, true)


def assert_material(lat, layer, rel=0.01):
    c = lat.corrected
    a, b, gamma = material_cell(layer)
    assert c["a"] == pytest.approx(a, rel=rel) and c["b"] == pytest.approx(b, rel=rel), lat.summary()
    assert c["label"] == layer.label, lat.summary()


@pytest.mark.slow
@pytest.mark.parametrize("rotations", [(3.0, 24.0), (3.0, 14.0, 40.0)])
def test_grains_under_one_scan_distortion_measure_it_and_give_the_material(rotations):
    case = hc.distorted_grains(rotations)
    res = grains.analyse_image(case.image, case.pixel_size)
    assert res.distortion is not None, res.distortion_note
    assert len(res.grains) == len(rotations)
    assert_within_error(res.distortion, case.distortion)
    for g in res.grains:
        assert g.lattice.label != 0          # the strict class is the image's, not widened
        assert_material(g.lattice, hc.GRAPHENE)
    assert all(row["passes"] for row in hc.compare_with_truth(case, res))
    assert any("scan distortion measured from" in n for n in res.notes)


@pytest.mark.slow
def test_two_undistorted_grains_measure_no_distortion():
    case = hc.grain_boundary()
    res = grains.analyse_image(case.image, case.pixel_size)
    d = res.distortion
    assert d is not None and d.anisotropy < 2 * d.anisotropy_err + 0.002
    assert all(g.lattice.corrected["label"] == 0 for g in res.grains)


@pytest.mark.slow
@pytest.mark.parametrize("sample", [hc.MOS2, hc.near_square(1.02)])
def test_a_reference_frame_calibrates_a_sample_frame_scale_included(sample):
    D = 1.02 * hc.SLOW_SCAN
    ref, smp = hc.reference_and_sample(sample, D)
    dist, _ = scc.calibrate(ref.image, ref.pixel_size, (2.46, 2.46, 120.0))
    assert dist.scale == pytest.approx(np.sqrt(np.linalg.det(D)), abs=3 * float(
        np.std(np.sqrt(np.linalg.det(dist.draws)))) + 5e-4)
    assert_within_error(dist, D)
    res = grains.with_distortion(grains.analyse_image(smp.image, smp.pixel_size), dist)
    assert res.answer.label != sample.label
    assert_material(res.answer, sample)


@pytest.mark.slow
def test_a_reference_frame_of_another_lattice_is_refused():
    ref, _ = hc.reference_and_sample(hc.MOS2)
    with pytest.raises(sd.NotMeasurable, match="not the given cell"):
        scc.calibrate(ref.image, ref.pixel_size, (3.16, 3.16, 120.0))


@pytest.mark.slow
def test_an_orthogonal_pair_removes_the_linear_drift():
    frame_0, frame_90 = hc.orthogonal_pair(drift=(0.01, 0.03))
    pair = scc.analyse_orthogonal_pair(frame_0.image, frame_90, frame_0.pixel_size)
    assert pair.distortion.drift["u"] == pytest.approx([0.01, 0.03], abs=0.002)
    assert_within_error(pair.distortion, frame_0.distortion)
    assert pair.analysis.answer.label != 0
    assert_material(pair.analysis.answer, hc.MOS2)
    again = pair.on_corrected_image.answer            # measured on the resampled frame
    assert again.label == 0 and again.a == pytest.approx(3.16, rel=0.002)
    with pytest.raises(ValueError, match="not the shape"):
        scc.analyse_orthogonal_pair(frame_0.image, frame_90[:, :-8], frame_0.pixel_size)


@pytest.mark.slow
@pytest.mark.parametrize("ratio", [1.005, 1.01, 1.02, 1.05])
def test_a_near_square_rectangular_cell_stays_rectangular(ratio):
    layer = hc.near_square(ratio)
    est = fft_lattice.estimate_lattice(hc.one_frame(layer).image, 0.1)
    assert est.label == 2 and est.b / est.a == pytest.approx(ratio, rel=0.002), est.summary()
    assert est.corrected is None
    # under a scan distortion: not rectangular in the image, rectangular once a reference
    # frame's measured distortion is removed
    ref, smp = hc.reference_and_sample(layer, hc.SLOW_SCAN)
    dist, _ = scc.calibrate(ref.image, ref.pixel_size, (2.46, 2.46, 120.0))
    lat = fft_lattice.corrected(fft_lattice.estimate_lattice(smp.image, 0.1), dist)
    assert lat.label != 2
    assert_material(lat, layer)
