"""What ``predict`` tells a user about a real image, second reliability round (issue 28): the answer
read first is the one the evidence supports, no file of the user's is overwritten, odd pixels,
files and model files are refused or repaired with a note, and every method says whether its
answer is supported. Each case that feeds the code a bad input carries the ``bad_input`` marker
(counted on docs/reliability.md)."""
from __future__ import annotations

import numpy as np
import pytest

from lattice_utils import degrade, fft_lattice, grains, hard_cases, predict
from lattice_utils.fft_lattice import LatticeEstimate

bad_input = pytest.mark.bad_input
SQ3 = np.sqrt(3.0)


def honeycomb(a: float, size: int, px: float = 0.1, dose: float | None = None, seed: int = 0) -> np.ndarray:
    """A graphene-like honeycomb of lattice constant ``a`` (Å), rendered at ``px`` Å/px."""
    layer = hard_cases.Layer("honeycomb", *hard_cases._hex(a), hard_cases.GRAPHENE.columns, 0)
    xy, w = hard_cases.layer_columns(layer, (size * px, size * px), 7.0)
    img = hard_cases._render(xy, w, (size, size), px)
    return degrade.shot_noise(img, dose, np.random.default_rng(seed)) if dose else img


# ---------------------------------------------------------------- 1. the answer a user reads first

def test_sub_cells_of_a_lattice_are_recognised():
    hexa = np.linalg.inv(np.array([[15.0, 0], [-7.5, 7.5 * SQ3]])).T        # reciprocal basis, rows
    root3 = np.array([[1, 1], [-1, 2]]) @ hexa                             # the (11) spots: a / √3
    assert grains.subcell_index(root3, hexa) == 3
    assert grains.subcell_index(hexa, root3) is None                       # not the other way round
    square = np.eye(2) / 4.0
    assert grains.subcell_index(np.array([[1, 1], [1, -1]]) @ square, square) == 2     # a / √2
    assert grains.subcell_index(2 * square, square) == 4                               # a / 2
    assert grains.subcell_index(square * 1.001, square) == 1                           # the same lattice
    assert grains.subcell_index(square * 1.3, square) is None                          # another lattice


def test_a_large_honeycomb_cell_is_not_reported_divided_by_root_3():
    # a = 15 Å at 0.1 Å/px: a 40 Å window holds 2.7 periods, where the honeycomb's strongest
    # spots are those of the cell / √3 (8.66 Å); the whole image (5.3 periods) sees every spot
    res = grains.analyse_image(honeycomb(15.0, 800), 0.1)
    assert res.whole.reliable and res.whole.a == pytest.approx(15.0, rel=0.002)
    assert res.answer.a == pytest.approx(15.0, rel=0.005) and res.answer.reliable
    assert res.grains and all(g.lattice.a == pytest.approx(15.0, rel=0.005) for g in res.grains)
    assert any("1/√3" in n for n in res.notes)


def test_a_graphene_image_declared_at_a_coarse_pixel_size_is_answered_by_the_whole_image():
    img = honeycomb(2.46, 1024, dose=200.0)
    res = grains.analyse_image(img, 0.6)            # the cell appears as 14.76 Å
    assert res.answer.a == pytest.approx(14.76, rel=0.005) and res.answer.reliable
    assert res.answer_source == "whole image"
    out = predict.predict_image(predict.ExperimentalImage(img, 0.6, "declared.npy"))
    assert out["fft"]["a"] == pytest.approx(14.76, rel=0.005) and out["fft"]["answer_source"] == "whole image"


def _estimate(a: float, reliable: bool = True) -> LatticeEstimate:
    est = fft_lattice.estimate_lattice(hard_cases.cosine_lattice(256, 0.1, a=a, noise=0.2), 0.1)
    assert est.reliable
    return est if reliable else LatticeEstimate(**{**est.__dict__, "reliable": False, "reason": "test"})


def test_a_small_grain_never_outranks_a_reliable_whole_image_fit():
    whole, other = _estimate(3.16), _estimate(2.46)
    small = grains.Grain(other, 0.05, 2, "windows")
    answer, source, notes = grains.choose_answer([small], whole)
    assert answer is whole and source == "whole image" and "5.0 %" in notes[0]
    # a grain of a fifth of the image or more is the answer
    answer, source, _ = grains.choose_answer([grains.Grain(other, 0.25, 9, "windows")], whole)
    assert answer is other and source == "grain 0"


def test_an_answer_from_a_small_grain_alone_says_it_is_not_reliable():
    whole_failed = _estimate(3.16, reliable=False)
    answer, source, notes = grains.choose_answer([grains.Grain(_estimate(2.46), 0.01, 2, "windows")], whole_failed)
    assert source == "grain 0" and not answer.reliable
    assert "1.0 % of the image" in answer.reason and "not reliable" in notes[0]
    assert "[unreliable:" in answer.summary()


# ---------------------------------------------------------------- 2. the user's files are never overwritten

@pytest.fixture
def lattice_png(tmp_path):
    """A user's own image: a PNG of a square lattice (with its pixel size in a sidecar)."""
    import matplotlib.image

    y, x = np.mgrid[:128, :128] * 0.1
    img = np.cos(2 * np.pi * x / 3.0) + np.cos(2 * np.pi * y / 3.0)
    f = tmp_path / "lattice.png"
    matplotlib.image.imsave(f, img, cmap="gray")
    (tmp_path / "lattice.png.json").write_text('{"pixel_size_A": 0.1}')
    return f


@bad_input
def test_the_grain_map_never_replaces_the_input_image(lattice_png):
    from test_hardening import run_predict

    before = lattice_png.read_bytes()
    rc, _, err = run_predict(lattice_png, "--grain-map", lattice_png)
    assert rc == 2 and "input image itself" in err
    rc, _, err = run_predict(lattice_png, "--grain-map", lattice_png, "--force")
    assert rc == 2 and lattice_png.read_bytes() == before


@bad_input
def test_the_grain_map_replaces_only_its_own_maps_unless_forced(lattice_png, tmp_path):
    from test_hardening import run_predict

    other = tmp_path / "holiday.png"
    other.write_bytes(b"\x89PNG\r\n\x1a\n not a grain map")
    rc, _, err = run_predict(lattice_png, "--grain-map", other)
    assert rc == 2 and "not a grain map" in err and other.read_bytes().endswith(b"not a grain map")
    rc, _, err = run_predict(lattice_png, "--grain-map", tmp_path / "map.txt")
    assert rc == 2 and ".png" in err
    mine = tmp_path / "map.png"
    assert run_predict(lattice_png, "--grain-map", mine)[0] == 0
    first = mine.read_bytes()
    assert predict._png_texts(mine)["Software"] == predict.GRAIN_MAP_SOFTWARE
    assert run_predict(lattice_png, "--grain-map", mine)[0] == 0 and mine.read_bytes() == first
    assert run_predict(lattice_png, "--grain-map", other, "--force")[0] == 0
    assert predict._png_texts(other)["Software"] == predict.GRAIN_MAP_SOFTWARE
