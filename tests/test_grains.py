"""Real-image problems: the distortion a lattice carries and the class it allows, peaks
that survive dopants, contamination and noise, a lattice per grain, strict output and the same
input checks for every method. The hard cases are simulated with known answers
(``lattice_utils.simulate.hard_cases``)."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from lattice_utils import predict
from lattice_utils.core import paths
from lattice_utils.data.real_images import ExperimentalImage
from lattice_utils.lattice import fft_lattice, grains
from lattice_utils.lattice.lattice2d import bravais_class_2d, class_distortions
from lattice_utils.simulate import hard_cases


def _cell(A):
    u, v = np.asarray(A, float)
    a, b = np.linalg.norm(u), np.linalg.norm(v)
    return a, b, np.degrees(np.arccos(np.dot(u, v) / (a * b)))


# ---------------------------------------------------------------- distortion

@pytest.mark.parametrize("eps", [0.01, 0.03, 0.1])
def test_a_stretched_square_lattice_is_that_far_from_square(eps):
    # x stretched by 1 + eps: the map from the ideal cell has singular values 1 + eps and 1
    d = class_distortions(*_cell([[1 + eps, 0], [0, 1]]))
    assert d[1] == pytest.approx(eps, rel=1e-9)
    assert d[2] == pytest.approx(0, abs=1e-7)          # and still exactly rectangular


def test_distortion_does_not_depend_on_scale_or_rotation():
    t = np.radians(37)
    R = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    A = np.array([[2.46, 0], [-1.23, 2.46 * np.sqrt(3) / 2]]) @ np.diag([1.02, 1.0]).T
    d1 = class_distortions(*_cell(A))
    d2 = class_distortions(*_cell(3.7 * A @ R.T))
    assert all(d1[k] == pytest.approx(d2[k], abs=1e-9) for k in range(5))


def test_a_stretched_hexagonal_lattice_is_its_stretch_from_hexagonal_and_still_centred_rectangular():
    hexa = np.array([[1.0, 0], [-0.5, np.sqrt(3) / 2]])
    for eps in (0.02, 0.04):       # stretched along a: still a mirror, so oc
        A = hexa @ np.diag([1 + eps, 1.0]).T
        d = class_distortions(*_cell(A))
        assert d[0] == pytest.approx(eps, rel=1e-6)
        assert d[3] == pytest.approx(0, abs=1e-6)
        assert bravais_class_2d(*_cell(A)) == 3
    assert all(np.isnan(v) for v in class_distortions(float("nan"), 1, 90).values())


# ---------------------------------------------------------------- the hard cases

@pytest.fixture(scope="module")
def cases():
    return {c.name: c for c in hard_cases.all_cases()}


@pytest.fixture(scope="module")
def analyses(cases):
    return {name: grains.analyse_image(c.image, c.pixel_size, name=name) for name, c in cases.items()}


def _truth_basis(t):
    return np.linalg.inv(np.array([t["a_vec"], t["b_vec"]])).T


@pytest.mark.slow
@pytest.mark.parametrize("name", ["grain boundary", "dopant clusters", "scan distortion and drift",
                                  "contamination", "dose 10 e/px", "dose 100 e/px", "dose 1000 e/px"])
def test_every_grain_of_a_fifth_of_the_image_is_found_with_its_lattice(cases, analyses, name):
    case, res = cases[name], analyses[name]
    for truth in case.grains:
        if truth["area_share"] < 0.2:
            continue
        B = _truth_basis(truth)
        match = [g for g in res.grains
                 if grains.lattice_mismatch(fft_lattice.reciprocal_basis_of(g.lattice), B) < grains.GRAIN_MATCH_TOL]
        assert match, (name, truth["area_share"], [g.summary() for g in res.grains])
        lat = match[0].lattice
        assert lat.a == pytest.approx(truth["a"], rel=0.01) and lat.b == pytest.approx(truth["b"], rel=0.01)
        # the strict class is the image's cell's; a corrected one (a measured distortion) the material's
        assert lat.label == truth["label_strict"], lat.summary()
        assert lat.corrected is None or lat.corrected["label"] == truth["label"], lat.summary()
        assert match[0].area_share == pytest.approx(truth["area_share"], abs=0.15)


@pytest.mark.slow
def test_a_grain_boundary_gives_two_grains_where_the_whole_image_gives_none(analyses):
    res = analyses["grain boundary"]
    assert res.whole.label == -1 or not res.whole.reliable
    assert len(res.grains) == 2
    d = abs(res.grains[0].lattice.orientation_deg - res.grains[1].lattice.orientation_deg) % 60
    assert min(d, 60 - d) == pytest.approx(9.0, abs=0.3)
    assert res.grain_map.shape == (8, 8) and set(np.unique(res.grain_map)) <= {-1, 0, 1}


@pytest.mark.slow
def test_one_distorted_grain_keeps_its_strict_class_and_says_what_hexagonal_would_need(cases, analyses):
    truth = cases["scan distortion and drift"].grains[0]
    res = analyses["scan distortion and drift"]
    lat = res.answer
    assert lat.label != 0 and lat.corrected is None       # nothing measured, nothing widened
    assert res.distortion is None and "one grain alone" in res.distortion_note
    expected = 100 * class_distortions(truth["a"], truth["b"], truth["gamma"])[0]
    assert lat.distortions_pct["hp"] == pytest.approx(expected, abs=0.2)
    assert f"hexagonal would need {lat.distortions_pct['hp']:.1f} %" in lat.summary()
    assert lat.spacing_spread_pct > 1.0


def test_dopants_and_contamination_are_said_and_do_not_hide_the_lattice(cases):
    dop = fft_lattice.estimate_lattice(cases["dopant clusters"].image, 0.1)
    assert dop.label == 0 and dop.a == pytest.approx(2.46, rel=0.01)
    con = fft_lattice.estimate_lattice(cases["contamination"].image, 0.1)
    assert con.label == 1 and con.a == pytest.approx(2.666, rel=0.01)
    said = " ".join(con.notes)
    assert "NaN/inf pixels" in said and "background removed" in said


def test_noise_alone_is_no_lattice_at_any_dose():
    rng = np.random.default_rng(5)
    for dose in (10.0, 1000.0):
        flat = rng.poisson(np.full((256, 256), dose)) / dose
        est = fft_lattice.estimate_lattice(flat, 0.1)
        assert est.label == -1 and "noise level" in est.reason
        assert grains.analyse_image(flat, 0.1).grains == []


def test_window_origins_cover_the_whole_image():
    o = grains.window_origins((300, 200), 64, 48)
    rows, cols = sorted({r for r, _ in o}), sorted({c for _, c in o})
    assert rows[0] == 0 and rows[-1] == 300 - 64 and cols[-1] == 200 - 64
    with pytest.raises(ValueError, match="larger than the image"):
        grains.window_origins((50, 50), 64, 16)
    size, stride = grains.window_size((6000, 6000), 0.1)
    assert (6000 - size) // stride + 1 <= grains.MAX_WINDOWS_PER_SIDE + 1


@pytest.mark.slow
def test_a_finely_sampled_image_is_binned_before_the_windows():
    img = hard_cases.cosine_lattice(3000, 0.01, a=3.16)          # 30 Å at 0.01 Å/px
    res = grains.analyse_image(img, 0.01)
    assert any("binned 4 x 4" in n for n in res.notes)
    assert res.window_px % 4 == 0 and res.window_px <= 4 * grains.MAX_WINDOW_PX
    assert res.answer.a == pytest.approx(3.16, rel=0.005) and res.answer.label == 0


# ---------------------------------------------------------------- input checks, strict output

BAD_IMAGES = {
    "constant": (np.ones((64, 64)), "constant"),
    "too small": (np.random.default_rng(0).random((8, 8)), "too small"),
    "all NaN": (np.full((64, 64), np.nan), "NaN"),
    "3D": (np.zeros((3, 64, 64)), "2D image"),
}


@pytest.mark.bad_input
@pytest.mark.parametrize("what", sorted(BAD_IMAGES))
def test_every_method_refuses_the_same_images_with_the_same_words(what, tmp_path):
    data, words = BAD_IMAGES[what]
    img = ExperimentalImage(data, 0.1, f"{what}.npy")
    messages = []
    for method in ("fft", "cnn"):
        with pytest.raises(ValueError, match=words) as err:
            predict.predict_image(img, method=method, model=tmp_path / "never-read.pt")
        messages.append(str(err.value))
    assert messages[0] == messages[1] and f"{what}.npy" in messages[0]


@pytest.mark.slow
@pytest.mark.bad_input
def test_bad_images_exit_2_from_the_command(tmp_path):
    for what, (data, words) in BAD_IMAGES.items():
        if data.ndim != 2:
            continue
        f = tmp_path / f"{what.replace(' ', '_')}.npy"
        np.save(f, data)
        for method in ("fft", "cnn"):
            out = subprocess.run([sys.executable, "-m", "lattice_utils", "predict", str(f), "--pixel-size",
                                  "0.1", "--method", method], capture_output=True, text=True,
                                 cwd=paths.ROOT, timeout=120)
            assert out.returncode == 2 and words in out.stderr and "Traceback" not in out.stderr, out.stderr


def _strict_loads(text):
    def refuse(name):
        raise ValueError(f"not JSON: {name}")
    return json.loads(text, parse_constant=refuse)


@pytest.mark.slow
def test_json_is_strict_with_a_schema_version_and_the_api_returns_the_same(tmp_path, cases):
    noise = tmp_path / "noise.npy"
    np.save(noise, np.random.default_rng(0).random((128, 128)))
    gb = tmp_path / "gb.npy"
    np.save(gb, cases["grain boundary"].image)
    for f in (noise, gb):
        out = subprocess.run([sys.executable, "-m", "lattice_utils", "predict", str(f), "--pixel-size", "0.1",
                              "--json"], capture_output=True, text=True, cwd=paths.ROOT, timeout=300)
        assert out.returncode == 0, out.stderr
        res = _strict_loads(out.stdout)
        assert res["schema_version"] == predict.SCHEMA_VERSION
        assert res == _strict_loads(json.dumps(predict.predict_image(f, 0.1), allow_nan=False))
    assert res["fft"]["grains"] and len(res["fft"]["grains"]) == 2
    failed = _strict_loads(subprocess.run([sys.executable, "-m", "lattice_utils", "predict", str(noise),
                                           "--pixel-size", "0.1", "--json"], capture_output=True, text=True,
                                          cwd=paths.ROOT, timeout=300).stdout)
    assert failed["fft"]["a"] is None and failed["fft"]["label"] == -1


@pytest.mark.slow
def test_grain_map_figure_is_written(tmp_path, cases):
    gb = tmp_path / "gb.npy"
    np.save(gb, cases["grain boundary"].image)
    png = tmp_path / "map.png"
    out = subprocess.run([sys.executable, "-m", "lattice_utils", "predict", str(gb), "--pixel-size", "0.1",
                          "--grain-map", str(png)], capture_output=True, text=True, cwd=paths.ROOT, timeout=300)
    assert out.returncode == 0, out.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "grains (" in out.stdout and "1: " in out.stdout


def test_cnn_preparation_cuts_before_resampling(monkeypatch):
    """A 2 Å pixel size used to upsample the whole image 20x before cropping (3.8 GB for 1024 px);
    now only the part that reaches the crop is resampled."""
    from scipy import ndimage

    seen = []
    real = ndimage.zoom
    monkeypatch.setattr(predict.ndimage, "zoom", lambda a, z, **kw: seen.append(a.shape) or real(a, z, **kw))
    rng = np.random.default_rng(0)
    img = ExperimentalImage(rng.random((1024, 1024)), 2.0, "coarse")
    prep = predict.prepare_for_model(img, rotate=False)
    assert prep.image.shape == (256, 256)
    assert max(seen[0]) <= int(np.ceil(256 * 0.1 / 2.0 * np.sqrt(2))) + 8


def _distortions_by_search(a, b, gamma):
    """The distortions to rectangular and centred rectangular by bounded numerical search over each
    class's free parameter (how they were computed before the closed forms): the reference."""
    from scipy.optimize import minimize_scalar

    from lattice_utils.lattice.lattice2d import _anisotropy, _basis

    M = _basis(a, b, gamma)
    sign, ratio = (-1.0 if gamma >= 90.0 else 1.0), b / a

    def best(f, lo, hi):
        r = minimize_scalar(f, bounds=(lo, hi), method="bounded", options={"xatol": 1e-9})
        return float(min(r.fun, f(lo), f(hi)))

    def half(r):
        return _anisotropy(M, _basis(1.0, r, np.degrees(np.arccos(np.clip(sign * 0.5 / r, -1, 1)))))
    rect = best(lambda r: _anisotropy(M, _basis(1.0, r, 90.0)), ratio / 1.5, ratio * 1.5)
    rhombus = best(lambda g: _anisotropy(M, _basis(1.0, 1.0, g)), max(gamma - 30.0, 1.0), min(gamma + 30.0, 179.0))
    return {2: rect, 3: min(rhombus, best(half, max(0.5, ratio / 1.5), max(0.5, ratio) * 1.5))}


def test_the_closed_form_distortions_equal_a_numerical_search_on_random_reduced_cells():
    from lattice_utils.lattice.lattice2d import reduced_cell

    rng = np.random.default_rng(7)
    cells = [reduced_cell(*rng.normal(size=(2, 2)))[:3] for _ in range(300)]
    cells += [(2.43, 2.47, 118.9), (3.0, 3.0, 90.5), (4.29, 4.40, 90.0), (3.0, 3.1, 61.0), (3.0, 5.0, 96.0)]
    for a, b, gamma in cells:
        fast, searched = class_distortions(a, b, gamma), _distortions_by_search(a, b, gamma)
        for k in (2, 3):
            assert fast[k] == pytest.approx(searched[k], abs=1e-7), (a, b, gamma, k)


def test_a_rectangular_cell_is_zero_from_rectangular_and_a_rhombus_zero_from_centred():
    assert class_distortions(4.29, 4.40, 90.0)[2] == pytest.approx(0, abs=1e-12)
    assert class_distortions(3.0, 3.0, 75.0)[3] == pytest.approx(0, abs=1e-7)
    assert class_distortions(3.0, 4.0, 180 - np.degrees(np.arccos(1.5 / 4.0)))[3] == pytest.approx(0, abs=1e-7)


def test_the_mismatch_matrix_is_the_pairwise_lattice_mismatch():
    rng = np.random.default_rng(0)
    base = np.array([[0.4, 0.0], [0.2, 0.35]])
    bases = []
    for t in rng.uniform(0, 0.2, 25):
        R = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
        bases.append(base @ R * (1 + 0.01 * rng.normal()))
    def one_way(P, Q):     # each basis vector of P to the nearest short vector of Q, one pair at a time
        p, q = np.vstack([P, -P]), grains.short_vectors(Q)
        return (np.linalg.norm(p[:, None] - q[None], axis=-1).min(axis=1) / np.linalg.norm(p, axis=1)).max()

    pairwise = np.array([[max(one_way(a, b), one_way(b, a)) for b in bases] for a in bases])
    assert np.array_equal(grains.mismatch_matrix(bases), pairwise)
    assert grains.lattice_mismatch(bases[0], bases[3]) == pairwise[0, 3]
    assert grains.mismatch_matrix([]).shape == (0, 0)
