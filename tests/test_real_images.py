"""Real-image readers: calibration, sidecars, conversions and every kind of bad input."""
from __future__ import annotations

import json

import numpy as np
import pytest

from lattice_utils.data import real_images
from lattice_utils.data.real_images import ImageReadError, read_image
from lattice_utils.lattice import fft_lattice


def test_mos2_example_is_read_with_its_calibration():
    img = real_images.mos2_example()
    assert img.data.shape == (1024, 1024)
    assert img.pixel_size == pytest.approx(0.127, abs=1e-3)
    assert "temul" in img.meta["citation"]
    est = fft_lattice.estimate_lattice(img.data[:512, :512], img.pixel_size)
    # what the image says: a near-hexagonal cell of about 2.9-3.0 A, about 5 % below the
    # literature 3.16 A (pixel calibration), and not quite 120 deg (scan distortion)
    assert 2.85 < est.a <= est.b < 3.05
    assert 115 < est.gamma < 121


def test_au_nanoparticle_emd_is_read_with_its_calibration():
    img = real_images.au_example()
    assert img.data.shape == (2048, 2048) and img.name.endswith(".emd")
    assert img.pixel_size == pytest.approx(0.075, abs=1e-3)     # 0.0075 nm in the file
    assert img.meta["title"] == "HAADF" and "temul" in img.meta["citation"]


def test_srtio3_example_is_rectangular_at_its_literature_cell():
    img = real_images.sto_example()
    assert img.data.shape == (400, 380) and "Atomap" in img.meta["citation"]
    assert img.pixel_size == pytest.approx(0.0933, abs=1e-4)       # 0.00933 nm in the file, no unit
    assert any("read as nm" in n for n in img.notes)
    ref = img.meta["reference"]
    est = fft_lattice.estimate_lattice(img.data, img.pixel_size)
    # a genuinely rectangular cell (b/a = sqrt 2) stays rectangular, within 1 % of SrTiO3's [110] cell
    assert est.label == 2, est.summary()
    assert est.a == pytest.approx(ref["a"], rel=0.01) and est.b == pytest.approx(ref["b"], rel=0.01)


def test_npy_needs_a_pixel_size(tmp_path):
    f = tmp_path / "lattice.npy"
    np.save(f, np.random.default_rng(0).random((64, 64)))
    with pytest.raises(ImageReadError, match="lattice.npy: this format carries no pixel size.*--pixel-size"):
        read_image(f)
    assert read_image(f, pixel_size=0.2).pixel_size == 0.2
    (tmp_path / "lattice.npy.json").write_text(json.dumps({"pixel_size_A": 0.15, "material": "X"}))
    img = read_image(f)
    assert img.pixel_size == 0.15 and img.meta["material"] == "X"


@pytest.mark.parametrize("px", [0, -0.1, float("nan"), "abc"])
def test_bad_pixel_sizes(tmp_path, px):
    f = tmp_path / "a.npy"
    np.save(f, np.ones((32, 32)))
    with pytest.raises(ImageReadError, match="a.npy: pixel size"):
        read_image(f, pixel_size=px)


def test_rgb_16bit_and_float_images(tmp_path):
    import matplotlib.image
    import tifffile

    rgb = np.zeros((40, 40, 3), np.uint8)
    rgb[..., 1] = 90
    matplotlib.image.imsave(tmp_path / "rgb.png", rgb)
    img = read_image(tmp_path / "rgb.png", pixel_size=0.1)
    assert img.data.ndim == 2 and any("grey" in n for n in img.notes)
    tifffile.imwrite(tmp_path / "deep.tif", (np.arange(1600).reshape(40, 40) * 40).astype(np.uint16))
    assert read_image(tmp_path / "deep.tif", pixel_size=0.1).data.max() == 1599 * 40
    np.save(tmp_path / "f.npy", np.full((20, 20), 0.5, np.float32))
    assert read_image(tmp_path / "f.npy", pixel_size=0.1).data.dtype == np.float64


def test_non_image_with_image_extension_and_unknown_format(tmp_path):
    fake = tmp_path / "notes.png"
    fake.write_text("this is not a picture")
    with pytest.raises(ImageReadError, match="notes.png: cannot be read as .png"):
        read_image(fake, pixel_size=0.1)
    fake_dm = tmp_path / "broken.dm3"
    fake_dm.write_bytes(b"\x00" * 100)
    with pytest.raises(ImageReadError, match="broken.dm3"):
        read_image(fake_dm)
    (tmp_path / "x.bmp").write_bytes(b"BM")
    with pytest.raises(ImageReadError, match="unsupported format"):
        read_image(tmp_path / "x.bmp")
    with pytest.raises(ImageReadError, match="no such file"):
        read_image(tmp_path / "missing.npy")


def test_nan_pixels_are_noted_and_the_estimator_flags_them(tmp_path):
    a = np.random.default_rng(0).random((64, 64))
    a[5, 5] = np.nan
    np.save(tmp_path / "n.npy", a)
    img = read_image(tmp_path / "n.npy", pixel_size=0.1)
    assert any("NaN" in n for n in img.notes)
    assert not fft_lattice.estimate_lattice(img.data, img.pixel_size).reliable


def test_bad_sidecar_is_named(tmp_path):
    np.save(tmp_path / "s.npy", np.ones((8, 8)))
    (tmp_path / "s.npy.json").write_text("{not json")
    with pytest.raises(ImageReadError, match="s.npy.json: metadata sidecar is not valid JSON"):
        read_image(tmp_path / "s.npy")


def test_a_pixel_size_given_replaces_an_images_own_by_one_rule_for_files_and_objects(tmp_path):
    data = np.random.default_rng(0).random((32, 32))
    img = real_images.ExperimentalImage(data, 0.2, "frame.npy", {}, [])
    same = real_images.with_pixel_size(img, 0.2)
    assert same.pixel_size == 0.2 and same.notes == []
    kept = real_images.with_pixel_size(img)
    assert kept.pixel_size == 0.2 and kept.notes == []
    other = real_images.with_pixel_size(img, 0.1)
    assert other.pixel_size == 0.1 and other.notes == ["pixel size 0.1 Å given; the image said 0.2 Å"]
    assert img.pixel_size == 0.2 and img.notes == []                # the caller's image is untouched
    unknown = real_images.ExperimentalImage(data, None, "frame.npy", {}, [])
    assert real_images.with_pixel_size(unknown, 0.1).notes == ["pixel size 0.1 Å given; the image said None"]
    with pytest.raises(ImageReadError, match="frame.npy: pixel size"):
        real_images.with_pixel_size(img, 50.0)
    with pytest.raises(ImageReadError, match="frame.npy: pixel size"):
        real_images.with_pixel_size(unknown)                       # none given, none carried
    # a file: the same wording for its sidecar, a number or not
    np.save(tmp_path / "a.npy", data)
    (tmp_path / "a.json").write_text(json.dumps({"pixel_size_A": 0.2}))
    assert read_image(tmp_path / "a.npy", 0.1).notes == ["pixel size 0.1 Å given; the sidecar says 0.2 Å"]
    assert read_image(tmp_path / "a.npy", 0.2).notes == []
    (tmp_path / "a.json").write_text(json.dumps({"pixel_size_A": "0.2"}))
    assert read_image(tmp_path / "a.npy", 0.1).notes == ["pixel size 0.1 Å given; the sidecar says '0.2'"]
