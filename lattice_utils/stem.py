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


@dataclass(frozen=True)
class StemParams:
    image_px: int = 256
    px_scale: float = 0.1          # A / pixel
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
    """Real-space spacings (A) of the strongest non-central FFT peaks, strongest first.

    A Hann window suppresses the edge streaks; each peak is refined to sub-pixel by a
    parabola through its neighbours. Used by tests (graphene: 2.13 A) and notebooks.
    """
    img = np.asarray(image, float)
    ny, nx = img.shape
    win = np.outer(np.hanning(ny), np.hanning(nx))
    spec = np.abs(np.fft.fftshift(np.fft.fft2((img - img.mean()) * win)))
    cy, cx = ny // 2, nx // 2
    ky = (np.arange(ny) - cy) / (ny * px_scale)
    kx = (np.arange(nx) - cx) / (nx * px_scale)
    kr = np.hypot(ky[:, None], kx[None, :])
    spec[kr > 1.0 / min_spacing] = 0.0
    spec[kr < 1.5 / (min(nx, ny) * px_scale)] = 0.0
    out = []
    work = spec.copy()
    for _ in range(n_peaks):
        iy, ix = np.unravel_index(np.argmax(work), work.shape)
        if work[iy, ix] <= 0:
            break
        dy = _parabola(spec[iy - 1, ix], spec[iy, ix], spec[(iy + 1) % ny, ix])
        dx = _parabola(spec[iy, ix - 1], spec[iy, ix], spec[iy, (ix + 1) % nx])
        k = np.hypot((iy + dy - cy) / (ny * px_scale), (ix + dx - cx) / (nx * px_scale))
        out.append(1.0 / k)
        work[max(iy - 2, 0):iy + 3, max(ix - 2, 0):ix + 3] = 0.0
    return np.array(out)


def _parabola(left: float, centre: float, right: float) -> float:
    den = left - 2 * centre + right
    return 0.0 if den == 0 else float(np.clip(0.5 * (left - right) / den, -0.5, 0.5))
