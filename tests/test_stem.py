"""Image simulation: scale (FFT spacings), orientation convention, symmetry."""
from __future__ import annotations

import numpy as np
import pytest
from conftest import cell
from jarvis.core.atoms import Atoms

from lattice_utils.data.structures import normalise_record
from lattice_utils.lattice.fft_lattice import find_peaks
from lattice_utils.simulate.stem import StemParams, simulate_stem_image, to_uint8

P = StemParams()


def fft_peak_spacings(image: np.ndarray, px_scale: float, n_peaks: int = 6,
                      min_spacing: float = 0.5) -> np.ndarray:
    """Real-space spacings (A) of the strongest non-central FFT peaks, strongest first
    (the peaks of ``fft_lattice.find_peaks``: Hann window, sub-pixel refinement)."""
    k, *_ = find_peaks(image, px_scale, max_peaks=n_peaks, min_spacing=min_spacing)
    return 1.0 / np.linalg.norm(k, axis=1)


def image_of(atoms_dict, **kw):
    rec = normalise_record("x", atoms_dict, "test")
    return simulate_stem_image(Atoms.from_dict(rec["atoms"]), P, **kw)


def test_graphene_fft_peaks_at_2_13_angstrom(graphene):
    spacings = fft_peak_spacings(image_of(graphene), P.px_scale, n_peaks=6)
    assert len(spacings) == 6
    # d(100) of graphene = a sqrt(3) / 2 = 2.130 A, the six first-order spots
    assert np.all(np.abs(spacings - 2.46 * np.sqrt(3) / 2) < 0.02), spacings


def test_mos2_first_order_spacing(mos2):
    spacings = fft_peak_spacings(image_of(mos2), P.px_scale, n_peaks=6)
    assert np.median(spacings) == pytest.approx(3.16 * np.sqrt(3) / 2, abs=0.02)


def test_image_is_indexed_y_then_x():
    # rectangular lattice: period 5 A along x, 2.5 A along y
    img = image_of(cell(5.0, 2.5, 90.0, [[0, 0, 0.5]], ["Mo"]))
    n = img.shape[0]
    along_x = np.abs(np.fft.rfft(img.mean(axis=0) - img.mean()))   # function of x (columns)
    along_y = np.abs(np.fft.rfft(img.mean(axis=1) - img.mean()))   # function of y (rows)
    fov = n * P.px_scale
    assert np.argmax(along_x) == round(fov / 5.0)
    assert np.argmax(along_y) == round(fov / 2.5)


def test_hexagonal_spots_are_sixfold_and_rotation_keeps_spacings(graphene):
    base = fft_peak_spacings(image_of(graphene), P.px_scale, n_peaks=6)
    rotated = fft_peak_spacings(image_of(graphene, rot=17.0), P.px_scale, n_peaks=6)
    assert np.ptp(base) < 0.02 and np.ptp(rotated) < 0.03
    assert np.median(rotated) == pytest.approx(np.median(base), abs=0.02)


def test_image_range_shape_and_uint8(fese):
    img = image_of(fese)
    assert img.shape == (256, 256)
    assert img.min() == 0.0 and img.max() == 1.0
    u8 = to_uint8(img)
    assert u8.dtype == np.uint8 and u8.max() == 255 and u8.min() == 0


def test_field_of_view_covers_2_5_nm():
    # a 5.12 A lattice must repeat exactly 5 times across the image if the field is 25.6 A
    img = image_of(cell(5.12, 5.12, 90.0, [[0, 0, 0.5]], ["Mo"]))
    repeats = int(np.argmax(np.abs(np.fft.rfft(img.mean(axis=0) - img.mean()))))
    assert repeats * 5.12 == pytest.approx(P.image_px * P.px_scale)
    assert repeats * 5.12 >= 25.0
