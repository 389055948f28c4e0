"""ADF-STEM images by the convolution approximation (paper section 2.1).

I(r) = sum_i Z_i^1.7 delta(r - r_i)  (x)  PSF(r), with jarvis-tools' STEMConv probe
(Gaussian width 0.5 A + 0.5 x Lorentzian of width 0.5 A), 256 x 256 pixels at 0.1 A/px
(2.56 nm field of view), min-max normalised.

Array convention used everywhere in this repository: ``image[row, col]`` with
row = Cartesian y and col = Cartesian x, so ``imshow(image, origin="lower")`` shows the
layer as seen down -z with a along +x. (STEMConv itself returns ``[x, y]``.)
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .profiles import STEM_IMAGE_PX, STEM_PX_SCALE


@dataclass(frozen=True)
class StemParams:
    image_px: int = STEM_IMAGE_PX
    px_scale: float = STEM_PX_SCALE   # A / pixel
    power_factor: float = 1.7
    gaussian_width: float = 0.5
    lorentzian_width: float = 0.5
    intensity_ratio: float = 0.5
    eps: float = 0.6

    def as_dict(self) -> dict:
        return asdict(self)


def simulate_stem_image(atoms, params: StemParams = StemParams(), rot: float = 0.0,
                        shift=(0.0, 0.0)) -> np.ndarray:
    """Simulated image of an oriented layer (jarvis ``Atoms``, a x b along z), float64
    normalised to [0, 1], indexed ``[y, x]``. ``rot`` (degrees) rotates the lattice in
    the field of view and ``shift`` (A) translates it, as STEMConv does."""
    from jarvis.analysis.stem.convolution_apprx import STEMConv

    conv = STEMConv(
        output_size=[params.image_px, params.image_px],
        power_factor=params.power_factor,
        gaussian_width=params.gaussian_width,
        lorentzian_width=params.lorentzian_width,
        intensity_ratio=params.intensity_ratio,
    )
    raw = conv.simulate_surface(atoms, px_scale=params.px_scale, eps=params.eps,
                                rot=rot, shift=list(shift))[0]
    return normalise(raw.T)


def normalise(image: np.ndarray) -> np.ndarray:
    """Min-max to [0, 1]; a flat image becomes zeros rather than NaN."""
    img = np.asarray(image, dtype=np.float64)
    lo, hi = float(img.min()), float(img.max())
    if not np.isfinite(lo) or not np.isfinite(hi) or hi - lo <= 0:
        return np.zeros_like(img)
    return (img - lo) / (hi - lo)


def to_uint8(image: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(np.asarray(image) * 255.0), 0, 255).astype(np.uint8)


def fft_peak_spacings(image: np.ndarray, px_scale: float, n_peaks: int = 6,
                      min_spacing: float = 0.5) -> np.ndarray:
    """Real-space spacings (A) of the strongest non-central FFT peaks, strongest first
    (the peaks of ``fft_lattice.find_peaks``: Hann window, sub-pixel refinement). Used by
    tests (graphene: 2.13 A)."""
    from .fft_lattice import find_peaks

    k, *_ = find_peaks(image, px_scale, max_peaks=n_peaks, min_spacing=min_spacing)
    return 1.0 / np.linalg.norm(k, axis=1)
