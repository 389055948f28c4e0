"""Related methods (notebooks 16-18): known answers for the column images, the defect fields,
class averaging, interplanar angles, FFT spacings and the 4D-STEM clustering."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pymatgen.core import Lattice

from lattice_utils.related import defect_specimen as DS
from lattice_utils.related import defects as D
from lattice_utils.related import fft_windows as F
from lattice_utils.related import fourdstem as Q
from lattice_utils.related import heterojunction as H
from lattice_utils.related import nanoparticles as NP
from lattice_utils.related import phases as PH
from lattice_utils.related import wse2 as W
from lattice_utils.simulate import columns as C

# ------------------------------------------------------------------ columns

def test_gaussian_fit_recovers_a_sub_pixel_column():
    img = C.render_columns([[6.03, 5.71]], [1.0], (64, 64), 0.2)
    x, y, amp = C.fit_gaussian(img, 30, 28)
    assert x == pytest.approx(6.03 / 0.2, abs=0.01) and y == pytest.approx(5.71 / 0.2, abs=0.01)
    assert np.isnan(C.fit_gaussian(img, 1, 1)[0])          # the window leaves the image


def test_column_inputs_are_checked():
    with pytest.raises(ValueError, match=r"shape \[n, 2\]"):
        C.render_columns(np.zeros((3, 3)), np.ones(3), (8, 8), 0.2)
    with pytest.raises(ValueError, match="3 positions but 2 weights"):
        C.render_columns(np.zeros((3, 2)), np.ones(2), (8, 8), 0.2)
    with pytest.raises(ValueError, match="NaN"):
        C.render_columns([[np.nan, 0.0]], [1.0], (8, 8), 0.2)


# ------------------------------------------------------------------ defects

@pytest.mark.parametrize("cls", W.DEFECTS)
def test_each_field_moves_the_nearest_w_by_its_strain(cls):
    """Three W around a chalcogen site form a triangle of side a; under the class's field its
    side becomes a (1 + strain), the oscillating SV field included."""
    w, x = D._local_sites(W.A_WSE2)
    r = np.hypot(*w.T)
    tri = w[np.argsort(r)[:3]]
    moved = tri + DS.displace(tri, np.zeros((1, 2)), [cls])
    side = np.mean([np.hypot(*(moved[i] - moved[j])) for i, j in ((0, 1), (0, 2), (1, 2))])
    assert side == pytest.approx(W.A_WSE2 * (1 + DS.STRAIN[cls]), rel=1e-9)


def test_defect_fractions_follow_the_document():
    c = DS.draw_contents(400_000, np.random.default_rng(0))
    share = np.bincount(c, minlength=5) / len(c)
    x = 0.06
    full = 1 - 0.03
    expected = [full * (1 - x) ** 2, full * x * x, full * 2 * x * (1 - x), 0.027, 0.003]
    assert share == pytest.approx(expected, abs=0.002)


def test_clean_specimen_gives_the_w_w_spacing():
    spec = DS.make_specimen((160, 160), seed=3, te_fraction=0, sv=0, dv=0)
    img = DS.clean_image(spec)
    site = spec.x_ideal[np.argmin(np.hypot(*(spec.x_ideal - 80 * spec.px).T))]
    win, kept = D.cut_windows(img, site[None], spec.px, 40)
    # the window is centred on the nearest pixel: move the guesses by the sub-pixel remainder
    assert len(kept) == 1
    spacing = D.nearest_ww_spacing(win[0], spec.px, 40)
    assert spacing == pytest.approx(W.A_WSE2, abs=0.004)
    assert np.std(D.ww_spacings(win[0], spec.px, 40)) < 0.003


def test_isolation_and_detection_scores():
    pts = np.array([[0.0, 0.0], [3.0, 0.0], [20.0, 0.0]])
    assert D.isolated(pts, pts).tolist() == [False, False, True]
    spec = DS.make_specimen((200, 200), seed=5)
    truth = spec.defect_sites
    perfect = truth.assign(score=1.0)[["x", "y", "class", "score"]]
    s = DS.score_detections(perfect, spec).set_index("class")
    present = s["true"] > 0
    assert (s.loc[present, "precision"] == 1).all() and (s.loc[present, "recall"] == 1).all()
    some = s.index[present][0]
    dropped = perfect.drop(perfect.index[perfect["class"] == some][:1])
    extra = pd.concat([perfect, pd.DataFrame([{"x": 30.0, "y": 30.0, "class": "DV", "score": 1.0}])])
    assert DS.score_detections(dropped, spec).set_index("class").loc[some, "FN"] >= 1
    assert DS.score_detections(extra, spec).set_index("class").loc["DV", "FP"] >= 1


def test_detect_reads_a_probability_map_and_checks_its_shape():
    spec = DS.make_specimen((200, 200), seed=6)
    lab = DS.label_map(spec)
    proba = np.eye(len(W.CONTENTS))[lab].transpose(2, 0, 1)
    found = D.detect(proba, spec.px)
    s = DS.score_detections(found, spec)
    assert (s["FP"] == 0).all() and (s["FN"] == 0).all()
    with pytest.raises(ValueError, match=r"shape \[5, H, W\]"):
        D.detect(np.zeros((3, 10, 10)), spec.px)


def test_class_averaging_precision_scales_as_one_over_root_n():
    cond = DS.Conditions(dose=20, jitter_px=0.0, contamination=0.0)
    spec = DS.make_specimen((400, 400), seed=7, te_fraction=0, sv=0, dv=0)
    img = DS.acquire(spec, cond, seed=8)
    inner = spec.x_ideal[(spec.x_ideal > 10).all(1) & (spec.x_ideal < 400 * spec.px - 10).all(1)]
    stack, _ = D.cut_windows(img, inner[:128], spec.px, 24)
    aligned = D.align(stack, iterations=1)

    def m(im):
        return D.nearest_ww_spacing(im, spec.px, 24)

    spread = {n: np.std([m(aligned[np.random.default_rng(k).choice(len(aligned), n, replace=False)].mean(0))
                         for k in range(12)]) for n in (4, 64)}
    slope = np.log(spread[64] / spread[4]) / np.log(16)
    assert -0.8 < slope < -0.3
    with pytest.raises(ValueError, match="non-empty stack"):
        D.align(np.zeros((0, 5, 5)))


def test_eshelby_fit_and_dilation_of_known_fields():
    rng = np.random.default_rng(0)
    xy = rng.uniform(-6, 6, (300, 2))
    r = np.hypot(*xy.T)
    u = xy / r[:, None] ** 2 * -0.17
    assert D.fit_eshelby(xy, u) == pytest.approx(-0.17)
    grid = np.stack(np.meshgrid(np.arange(-6, 6.1, 0.5), np.arange(-6, 6.1, 0.5)), -1).reshape(-1, 2)
    dil = D.dilation_map(grid, 0.01 * grid, 5.0, 0.1, smooth=0.3)
    assert np.nanmedian(dil[20:80, 20:80]) == pytest.approx(0.02, abs=1e-3)


# ------------------------------------------------------------------ the segmenter

def test_resunet_learns_a_trivial_segmentation_and_is_cached(scratch_dirs):
    from lattice_utils.related.unet import ResUNet, predict_proba, train_segmenter
    rng = np.random.default_rng(0)
    X = rng.normal(0, 0.3, (64, 1, 32, 32)).astype(np.float32)
    Y = np.zeros((64, 32, 32), np.int64)
    for k in range(64):
        r, c = rng.integers(4, 24, 2)
        X[k, 0, r:r + 6, c:c + 6] += 2.0
        Y[k, r:r + 6, c:c + 6] = 1
    logs = []
    net = train_segmenter("toy", X, Y, 2, epochs=6, base=8, depth=2, lr=5e-3, log=logs.append)
    acc = np.mean([(predict_proba(net, X[k, 0]).argmax(0) == Y[k]).mean() for k in range(8)])
    assert acc > 0.95
    train_segmenter("toy", X, Y, 2, epochs=6, base=8, depth=2, lr=5e-3, log=logs.append)
    assert "reused cached" in logs[-1]
    assert predict_proba(ResUNet(1, 3, 4, 2), np.zeros((30, 21))).shape == (3, 30, 21)
    with pytest.raises(ValueError, match=r"float32 \[n, 1, H, W\]"):
        train_segmenter("bad", X[:, 0], Y, 2)


# ------------------------------------------------------------------ FFT windows

def _random_pairs(n, rng):
    out = []
    while len(out) < n:
        h1, h2 = rng.integers(-3, 4, 3), rng.integers(-3, 4, 3)
        if h1.any() and h2.any() and np.cross(h1, h2).any():
            out.append((h1, h2))
    return out


def test_document_angle_formulas_match_the_metric_tensor():
    rng = np.random.default_rng(1)
    for h1, h2 in _random_pairs(40, rng):
        assert F.angle_cubic(h1, h2) == pytest.approx(F.angle_general(Lattice.cubic(4.1).matrix, h1, h2), abs=1e-9)
        assert F.angle_tetragonal(4.6, 2.96, h1, h2) == pytest.approx(
            F.angle_general(Lattice.tetragonal(4.6, 2.96).matrix, h1, h2), abs=1e-9)
        assert F.angle_orthorhombic(3.9, 5.1, 6.3, h1, h2) == pytest.approx(
            F.angle_general(Lattice.orthorhombic(3.9, 5.1, 6.3).matrix, h1, h2), abs=1e-9)
        assert F.angle_hexagonal(3.25, 5.2, h1, h2) == pytest.approx(
            F.angle_general(Lattice.hexagonal(3.25, 5.2).matrix, h1, h2), abs=1e-9)
    with pytest.raises(ValueError, match="three Miller indices"):
        F.angle_cubic((0, 0, 0), (1, 0, 0))


def test_spacing_conversion_and_candidate_d_spacings():
    # a 2.04 Å spacing in a 256 px FFT at 0.1677 Å/px sits 256 * 0.1677 / 2.04 px out
    distance_px = 256 * NP.PIXEL_002 / 2.04
    assert F.spacing_from_pixels(distance_px, 256, NP.PIXEL_002) == pytest.approx(2.04)
    with pytest.raises(ValueError, match="positive"):
        F.spacing_from_pixels(10, 0, 0.1)
    au = PH.candidate_spacings("Au")
    assert au["d"].iloc[0] == pytest.approx(4.078 / np.sqrt(3), abs=1e-3)         # (111)
    assert not np.isclose(au["d"], 4.078, atol=0.01).any()                          # (100) extinct
    assert F.match_phase([2.355, 2.039, 1.442], tol=0.01)["phase"].iloc[0] == "Au"


def test_a_simulated_particle_shows_its_spacings():
    p = NP.make_particle("Au", (0, 0, 1), (21.5, 21.5), 40.0, 17.0)
    spots = NP.zone_spots(p)
    assert (spots[["h", "k", "l"]].to_numpy() @ np.array([0, 0, 1]) == 0).all()
    assert set(np.round(spots["d"], 3)) >= {2.039, 1.442}                          # {200}, {220}
    xy, w = NP.particle_atoms(p)
    img = C.render_columns(xy, w, (256, 256), NP.PIXEL_002, C.Probe(sigma=0.35, lorentz_ratio=0, radius=1.4))
    found = F.peaks_plain(F.log_spectrum(img, 128))
    d = F.spacing_from_pixels(np.hypot(*found.T), 256, NP.PIXEL_002)
    assert np.min(np.abs(d - 2.039)) < 0.01
    with pytest.raises(ValueError, match="larger than the image"):
        next(F.windows(np.zeros((64, 64)), 128))


# ------------------------------------------------------------------ 4D-STEM

@pytest.fixture(scope="module")
def small_scan():
    return H.make_scan(H.ScanSpec(scan_px=24, detector_px=48, k_px=0.0305 * 64 / 48), seed=0)


def test_alignment_brings_the_central_beam_within_tolerance(small_scan):
    before = Q.centre_of_mass(small_scan.data, 4.0)
    assert before.reshape(-1, 2).std(0).max() > 0.1
    aligned, passes = Q.align_central_beam(small_scan.data, tol=0.01)
    std, off = passes[-1]
    assert std < 0.01 and off < 0.01


def test_hierarchy_separates_the_heterojunction(small_scan):
    aligned, _ = Q.align_central_beam(small_scan.data)
    r_in, r_out = Q.ring_radii(aligned, 2.0)
    X, _ = Q.select_features(aligned, Q.ring_mask(aligned.shape[2:], r_in, r_out))
    root = Q.divisive_kmeans(X, max_depth=2, min_size=10)
    lab, _ = Q.labels_at(root, 2, len(X))
    assert Q.mapped_accuracy(lab, small_scan.truth.ravel()) > 0.99


def test_a_scan_without_crystal_is_one_cluster_with_a_message():
    blank = H.make_scan(H.ScanSpec(scan_px=16, detector_px=48, k_px=0.0305 * 64 / 48), seed=2, crystal=False)
    aligned, _ = Q.align_central_beam(blank.data)
    X, _ = Q.select_features(aligned, Q.ring_mask(aligned.shape[2:], 8, 20))
    messages = []
    root = Q.divisive_kmeans(X, min_size=5, log=messages.append)
    assert root.children is None and "one cluster" in messages[0]


def test_scan_inputs_and_accuracy_helpers():
    with pytest.raises(ValueError, match=r"\[scan_y, scan_x, detector_y, detector_x\]"):
        Q.check_scan(np.zeros((4, 4, 4)))
    with pytest.raises(ValueError, match="holds numbers"):
        Q.check_scan(np.full((2, 2, 2, 2), "a"))
    with pytest.raises(ValueError, match="non-empty array"):
        Q.divisive_kmeans(np.zeros((0, 3)))
    truth = np.array([0, 0, 1, 1, 1, 2])
    assert Q.mapped_accuracy(np.array([5, 5, 7, 7, 5, 7]), truth) == pytest.approx(4 / 6)
    assert Q.matched_accuracy(np.array([1, 1, 0, 0, 0, 2]), truth) == pytest.approx(1.0)
    rng = np.random.default_rng(0)
    blobs = np.concatenate([rng.normal(m, 0.1, (60, 5)) for m in (0, 3, 6)])
    assert Q.elbow(blobs)[0] == 3
