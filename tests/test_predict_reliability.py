"""What ``predict`` tells a user about a real image, second reliability round: the answer
read first is the one the evidence supports, no file of the user's is overwritten, odd pixels,
files and model files are refused or repaired with a note, and every method says whether its
answer is supported. Each case that feeds the code a bad input carries the ``bad_input`` marker
(counted on docs/reliability.md)."""
from __future__ import annotations

import numpy as np
import pytest

from lattice_utils import predict
from lattice_utils.lattice import fft_lattice, grains
from lattice_utils.lattice.fft_lattice import LatticeEstimate
from lattice_utils.learn import training
from lattice_utils.simulate import degrade, hard_cases

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


# ---------------------------------------------------------------- 4. hot pixels on the CNN path

def _lattice_image(a: float = 3.0, size: int = 256, px: float = 0.1) -> np.ndarray:
    return hard_cases.cosine_lattice(size, px, a=a, noise=0.3).astype(float)


@bad_input
@pytest.mark.parametrize("damage", ["one pixel at 50x the maximum", "ten +inf pixels"])
def test_hot_pixels_do_not_darken_the_networks_input(damage):
    clean = _lattice_image()
    img = clean.copy()
    if damage.startswith("one"):
        img[100, 100] = 50 * img.max()
    else:
        img.flat[np.random.default_rng(0).choice(img.size, 10, replace=False)] = np.inf
    ref = predict.prepare_for_model(predict.ExperimentalImage(clean, 0.1, "clean"))
    got = predict.prepare_for_model(predict.ExperimentalImage(img, 0.1, "hot"))
    assert abs(float(got.image.mean()) - float(ref.image.mean())) < 10      # was 2 against 104
    assert any("clipped" in n or "filled" in n for n in got.notes)


# ---------------------------------------------------------------- 5. calibration from two places

def _emd(path, n: int = 256, nm_per_px: float = 0.01):
    """A small Berkeley EMD file (HDF5) with a calibrated 2D image: the kind RosettaSciIO reads."""
    import h5py

    with h5py.File(path, "w") as f:
        f.attrs["version_major"], f.attrs["version_minor"] = 0, 2
        g = f.create_group("data/image")
        g.attrs["emd_group_type"] = 1
        d = g.create_dataset("data", shape=(n, n), dtype="float32", chunks=(min(n, 256),) * 2,
                             compression="gzip", fillvalue=0)
        m = min(n, 256)
        d[:m, :m] = _lattice_image(size=m)
        for k, name in ((1, "y"), (2, "x")):
            dim = g.create_dataset(f"dim{k}", data=np.arange(n, dtype=float) * nm_per_px)
            dim.attrs["name"], dim.attrs["units"] = name, "nm"
    return path


@bad_input
def test_a_sidecar_that_disagrees_with_the_files_calibration_is_an_error(tmp_path):
    from test_hardening import run_predict

    f = _emd(tmp_path / "flake.emd")                       # 0.1 Å per pixel in the file
    assert predict.read_image(f).pixel_size == pytest.approx(0.1)
    (tmp_path / "flake.emd.json").write_text('{"pixel_size_A": 0.2}')
    rc, _, err = run_predict(f)
    assert rc == 2 and "0.1" in err and "0.2" in err and "flake.emd" in err
    rc, out, _ = run_predict(f, "--pixel-size", "0.2")     # the user chose: a note, not an error
    assert rc == 0 and "the sidecar says" not in out and "the file says 0.1" in out
    (tmp_path / "flake.emd.json").write_text('{"pixel_size_A": 0.10001, "material": "x"}')
    assert run_predict(f)[0] == 0                          # rounding is agreement


# ---------------------------------------------------------------- 6. model files

@pytest.fixture
def weights(scratch_dirs):
    import torch
    from conftest import train_tiny

    path = train_tiny(field_A=25.6).path
    return torch.load(path, weights_only=True)


@bad_input
@pytest.mark.parametrize("case", ["nan weights", "nan target scale", "huge target scale", "field 0.01 Å",
                                  "field inf", "input_px 20000", "input_px -5", "targets unknown"])
def test_model_files_carry_only_numbers_in_range(tmp_path, weights, case):
    import torch
    from test_hardening import run_predict

    state = {**weights, "config": dict(weights["config"]), "meta": dict(weights["meta"])}
    if case == "nan weights":
        state["model"] = {k: (v * np.nan if v.is_floating_point() else v) for k, v in state["model"].items()}
    elif case == "nan target scale":
        state["target_std"] = [np.nan, 1.0, 1.0]
    elif case == "huge target scale":
        state["target_mean"] = [1e307, 3.0, 100.0]
    elif case.startswith("field"):
        state["meta"]["field_of_view_A"] = float(case.split()[1])
    elif case.startswith("input_px"):
        state["config"]["input_px"] = int(case.split()[1])
    else:
        state["config"]["targets"] = ["a", "colour"]
    # a file made to pass the configuration check: its key is that of the configuration it carries
    state["key"] = training.TrainConfig(**state["config"]).key()
    f = tmp_path / "model.pt"
    torch.save(state, f)
    np.save(tmp_path / "img.npy", _lattice_image())
    rc, out, err = run_predict(tmp_path / "img.npy", "--pixel-size", "0.1", "--method", "cnn", "--model", f)
    assert rc == 2 and "model.pt" in err and "Traceback" not in err, (rc, out, err)


# ---------------------------------------------------------------- 7. every method says whether it is supported

def test_the_cnn_says_its_answer_on_noise_is_not_supported(tmp_path, scratch_dirs):
    from conftest import train_tiny
    from test_hardening import run_predict

    regressor, classifier = train_tiny(field_A=25.6), train_tiny("classify", seed=1, field_A=25.6)
    noise = tmp_path / "noise.npy"
    np.save(noise, np.random.default_rng(0).normal(size=(256, 256)))
    lattice = tmp_path / "lattice.npy"
    np.save(lattice, _lattice_image())
    res = predict.predict_image(noise, 0.1, method="cnn", model=regressor.path)
    assert res["cnn"]["supported"] is False and "no reliable lattice" in res["cnn"]["support"]
    rc, out, _ = run_predict(noise, "--pixel-size", "0.1", "--method", "cnn", "--model", regressor.path)
    assert rc == 0 and "[unsupported]" in out and "not supported" in out
    res = predict.predict_image(lattice, 0.1, method="cnn", model=classifier.path)
    assert res["cnn"]["class_name"] in ("hexagonal", "square", "rectangular", "centred rectangular", "oblique")
    rc, out, _ = run_predict(lattice, "--pixel-size", "0.1", "--method", "cnn", "--model", classifier.path)
    assert f"class {res['cnn']['label']} ({res['cnn']['class_name']})" in out


# ---------------------------------------------------------------- 8. one validation for every entry point

@bad_input
def test_complex_images_are_refused(tmp_path):
    from test_hardening import run_predict

    f = tmp_path / "complex.npy"
    np.save(f, _lattice_image() * (1 + 1j))
    rc, _, err = run_predict(f, "--pixel-size", "0.1")
    assert rc == 2 and "complex" in err and "complex.npy" in err and "Warning" not in err


@bad_input
def test_huge_finite_values_keep_their_lattice(tmp_path):
    import warnings

    f = tmp_path / "huge.npy"
    np.save(f, (_lattice_image() + 5) * 1e300)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                    # no overflow on the way
        res = predict.predict_image(f, 0.1)
    assert res["fft"]["a"] == pytest.approx(3.0, rel=0.01) and any("divided by" in n for n in res["notes"])


@bad_input
@pytest.mark.parametrize("pixel_size", [100.0, 0.0, float("nan"), True])
def test_the_python_api_refuses_what_the_command_refuses(pixel_size):
    with pytest.raises(predict.ImageReadError, match="pixel size"):
        predict.predict_image(predict.ExperimentalImage(_lattice_image(), pixel_size, "api"))
    with pytest.raises(predict.ImageReadError, match="complex"):
        predict.predict_image(predict.ExperimentalImage(_lattice_image() * 1j, 0.1, "api"))


# ---------------------------------------------------------------- 9. declared sizes

@bad_input
def test_a_small_emd_declaring_a_huge_image_is_refused_before_reading(tmp_path):
    import resource

    from test_hardening import run_predict

    f = _emd(tmp_path / "huge.emd", n=20000)             # 20000² float32 declared, a few hundred kB on disk
    assert f.stat().st_size < 2_000_000
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rc, _, err = run_predict(f)
    assert rc == 2 and "20000 x 20000" in err and "huge.emd" in err
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 500_000      # kB: nothing was read


@bad_input
@pytest.mark.parametrize("fmt", [".npy", ".png", ".tif"])
def test_declared_sizes_are_checked_for_every_format(tmp_path, monkeypatch, fmt):
    import matplotlib.image
    import tifffile

    from lattice_utils.data import real_images

    img = _lattice_image(size=128)
    f = tmp_path / f"img{fmt}"
    {".npy": lambda: np.save(f, img), ".png": lambda: matplotlib.image.imsave(f, img, cmap="gray"),
     ".tif": lambda: tifffile.imwrite(f, img.astype(np.float32))}[fmt]()
    assert real_images.read_image(f, 0.1).data.shape == (128, 128)
    monkeypatch.setattr(real_images, "MAX_IMAGE_PIXELS", 100 * 100)
    with pytest.raises(real_images.ImageReadError, match="declares an image of 128 x 128"):
        real_images.read_image(f, 0.1)


# ---------------------------------------------------------------- 12. not a regular file

@bad_input
@pytest.mark.parametrize("where", ["image", "sidecar", "folder"])
def test_a_fifo_or_folder_is_refused_not_waited_on(tmp_path, where):
    import os
    import subprocess
    import sys

    from lattice_utils.core import paths

    img = tmp_path / "img.npy"
    if where == "image":
        os.mkfifo(img)
    elif where == "sidecar":
        np.save(img, _lattice_image())
        os.mkfifo(tmp_path / "img.npy.json")
    else:
        img.mkdir()
    out = subprocess.run([sys.executable, "-m", "lattice_utils", "predict", str(img), "--pixel-size", "0.1"],
                         capture_output=True, text=True, cwd=paths.ROOT, timeout=120)
    assert out.returncode == 2 and ("regular file" in out.stderr or "a folder" in out.stderr), out.stderr


# ---------------------------------------------------------------- 20. odd sidecars

@bad_input
@pytest.mark.parametrize("sidecar", ['{"pixel_size_A": 1' + "0" * 400 + "}",
                                     '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}"],
                         ids=["huge integer", "nested 100000 deep"])
def test_odd_sidecars_are_messages(tmp_path, sidecar):
    from test_hardening import run_predict

    f = tmp_path / "img.npy"
    np.save(f, _lattice_image())
    (tmp_path / "img.npy.json").write_text(sidecar)
    rc, _, err = run_predict(f)
    assert rc == 2 and "img.npy" in err and "Traceback" not in err and "unexpected" not in err, err


@bad_input
def test_a_sidecar_with_a_byte_order_mark_is_read(tmp_path):
    from test_hardening import run_predict

    f = tmp_path / "img.npy"
    np.save(f, _lattice_image())
    (tmp_path / "img.npy.json").write_bytes(b"\xef\xbb\xbf" + b'{"pixel_size_A": 0.1}')
    assert run_predict(f)[0] == 0
    assert run_predict(f, "--pixel-size", "0.1")[0] == 0


# ---------------------------------------------------------------- 23. a closed pipe

@bad_input
def test_a_reader_that_stops_reading_gets_no_traceback(tmp_path):
    import subprocess
    import sys

    from lattice_utils.core import paths

    f = tmp_path / "img.npy"
    np.save(f, _lattice_image())
    proc = subprocess.Popen([sys.executable, "-m", "lattice_utils", "predict", str(f), "--pixel-size", "0.1",
                             "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=paths.ROOT)
    proc.stdout.close()                                     # `| head -n 0`
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0 and "Traceback" not in err and "BrokenPipe" not in err, err


# ---------------------------------------------------------------- 10. memory: no needless copies of a large image

def test_the_image_checks_do_not_copy_a_float_image():
    # on an 8000² image each copy is 0.5 GB (bench_predict_memory.py measures the whole command)
    from lattice_utils.data import real_images

    img = _lattice_image(size=512)
    img[3, 3] = np.nan
    assert np.shares_memory(fft_lattice.validate_image(img, 0.1), img)
    assert np.shares_memory(real_images.check_image(predict.ExperimentalImage(img, 0.1, "x")).data, img)
