"""A physics-based lattice estimator: a, b, gamma and the 2D Bravais class from the FFT.

The power spectrum of an image of a 2D crystal has peaks on the reciprocal lattice. We find them
(windowed, zero-padded FFT; sub-pixel refinement by a Gaussian fit through each peak and its
neighbours), look for the coarsest pair of peaks that indexes all of them with integers
(the primitive reciprocal basis), refine that basis by least squares over every indexed peak
(high orders pin it down best), and invert it to the real-space cell, Gauss-reduced
(a <= b, 90 <= gamma <= 120, the canonical convention of ``lattice2d``).

It is rotation-invariant by construction and exact in units of the pixel size: a calibration
error of the pixel size is a proportional error of a and b, nothing is learned. The
uncertainty is the heteroscedasticity-consistent (HC3) covariance of the fitted basis over the
independent (one Friedel half-plane) peaks, with a floor for the bias of the sub-pixel refinement
and a Student-t widening for few peaks, propagated to a, b, gamma by sampling. It is the
precision of the lattice *in the image*: scan distortion and drift change that lattice and are
not in it (notebook 14 compares it with the error).
"""
from __future__ import annotations

import dataclasses
import functools
from dataclasses import asdict, dataclass, field
from itertools import combinations

import numpy as np
from scipy import fft as scipy_fft
from scipy import ndimage, stats

from .lattice2d import (
    CLASS_NAMES,
    CLASS_SHORT,
    bravais_class_2d,
    class_distortions,
    orientation_deg,
    reduced_cell,
    reduced_cells,
)
from .scan_distortion import ScanDistortion, basis_draws, correct_basis

__all__ = ["MIN_IMAGE_PX", "MAX_BAD_PIXELS", "MAX_FFT_PX", "LatticeEstimate", "fill_bad_pixels", "power_spectrum",
           "band_power", "BACKGROUND_SHARE", "background_share", "parabola_offset", "suppress_outliers", "find_peaks",
           "superlattice", "validate_image", "estimate_lattice", "lattice_from_basis", "ORIENTATION_REL_TOL",
           "NEAR_CLASS_PCT", "STRICT_LEN_TOL", "STRICT_ANG_TOL", "reciprocal_basis_of", "corrected"]

# Peaks are measured against the spectrum's own background: the noise power of the same ring |k|
# (the whitened spectrum, ``ring_background``), so slow background, amorphous material and the
# low-frequency power of bright dopants do not count as signal. The noise level is the data's: a
# whitened noise spectrum is exponential with median 1, and its largest value over the M pixels of
# the band is about log2(M) (a 256 px image: about 17, measured 16). A lattice needs a peak
# DETECT_OVER_NOISE times above that.
DETECT_OVER_NOISE = 3.0
RING_QUARTILE_TO_MEDIAN = float(np.log(2) / np.log(4 / 3))
SHARP_OVER_SURROUND = 3.0  # a sharp peak: this much above the mean of its (4 pad + 1)^2 surroundings
KEEP_OVER_NOISE = 1.5     # weaker peaks than this multiple of the expected noise maximum are dropped
POWER_FLOOR = 1e-4        # peaks weaker than this share of the strongest one's power are dropped
CLIP_SPREAD = 1.5         # intensities beyond median + 1.5 (99.5th percentile - median) are clipped
INDEX_TOL = 0.12          # a peak is indexed when both Miller indices are this close to integers
# bias of the sub-pixel refinement, in pixels of the padded spectrum: calibrated on clean
# simulated images (training split), where it is the whole error (notebook 14, section 5)
PEAK_BIAS_PX = 0.02
STRAY_POWER = 0.05        # unindexed peaks off any superlattice, weaker than this share: stray
MIN_PERIODS = 3.0         # the field of view must hold at least this many periods of b
MAX_BAD_PIXELS = 0.25     # share of NaN/inf pixels that can be filled; more and nothing is found
MIN_IMAGE_PX = 16         # smaller images hold too few periods for any answer
BACKGROUND_SHARE = 0.05    # a slow background is removed when it holds more than this share of the variance
MAX_FFT_PX = 2048         # a larger image is analysed on its central 2048 x 2048 px (memory bound)
# shortest vectors this close in length count as equals when the orientation is chosen, so that a
# hexagonal lattice under a few % of scan distortion keeps its six
ORIENTATION_REL_TOL = 0.03
# floors of the strict class's tolerances (3 sigma above them): a near-square rectangular cell
# (SnSe, b/a = 1.026; the hard cases go down to 1.005) must stay rectangular when the fit resolves it
STRICT_LEN_TOL = 2e-3     # relative
STRICT_ANG_TOL = 0.2      # degrees
# a strict class within this much anisotropic strain (%) of hexagonal or square says so
NEAR_CLASS_PCT = 10.0


@dataclass
class LatticeEstimate:
    """The lattice the FFT estimator finds in an image: reduced cell, class, uncertainties, and
    why it may not be reliable. A failed estimate has label -1, class "none" and NaN values.

    Attributes:
        a: shorter length of the reduced primitive cell (Å).
        b: longer length (Å).
        gamma: angle between a and b (degrees, 90-120).
        a_err: standard deviation of a (Å), sampled from the fit's covariance.
        b_err: standard deviation of b (Å).
        gamma_err: standard deviation of gamma (degrees).
        label: strict class: 0 hp, 1 tp, 2 op, 3 oc, 4 mp; -1 when nothing was found.
        class_name: the strict class's name ("none" when nothing was found).
        orientation_deg: angle (degrees) from the image x axis (counter-clockwise, y up) of the
            shortest lattice vector closest to x: rotate by -this to align.
        reliable: whether the result can be trusted.
        reason: why the result is unreliable ("" when reliable).
        n_peaks: FFT peaks indexed and used in the fit.
        peak_snr: the strongest peak's power over the median (noise) power of its ring.
        pixel_size: the image's pixel size (Å per pixel).
        a_vec: real-space basis vector a (Å, (x, y)).
        b_vec: real-space basis vector b (Å, (x, y)).
        n_stray: weak peaks off the lattice and off any superlattice, ignored.
        notes: what was done to the input (e.g. pixels filled).
        distortions_pct: {class short name (hp, tp, op, oc, mp): the anisotropic strain that would
            turn the measured cell into that class (%; ``lattice2d.class_distortions``)}: what a
            distortion would have to be, never a class.
        first_order_spacings: the three largest lattice-plane spacings d (Å).
        spacing_spread_pct: (max - min) / mean of those three (%).
        basis_cov: 4 x 4 covariance ((1/Å)^2) of the reciprocal basis dual to (a_vec, b_vec),
            index c * 2 + j for component c of vector j.
        corrected: the lattice after removing a measured scan distortion (``corrected``): a, b,
            gamma with errors, label, class_name, distortions_pct, a_vec, b_vec, basis_cov, and the
            distortion's source and detail; None when no distortion was measured.
    """
    a: float
    b: float
    gamma: float
    a_err: float
    b_err: float
    gamma_err: float
    label: int                  # 0 hp, 1 tp, 2 op, 3 oc, 4 mp; -1 when nothing was found
    class_name: str
    orientation_deg: float      # angle from the image x axis (counter-clockwise, y up) of the
                                # shortest lattice vector closest to x: rotate by -this to align
    reliable: bool
    reason: str                 # why the result is unreliable ("" when reliable)
    n_peaks: int                # peaks indexed and used in the fit
    peak_snr: float             # strongest peak power / median power
    pixel_size: float
    a_vec: list = field(default_factory=list)   # real-space basis in A, (x, y)
    b_vec: list = field(default_factory=list)
    n_stray: int = 0            # weak peaks off the lattice and off any superlattice, ignored
    notes: list = field(default_factory=list)   # what was done to the input (e.g. pixels filled)
    distortions_pct: dict = field(default_factory=dict)        # per class (hp, tp, op, oc, mp)
    first_order_spacings: list = field(default_factory=list)   # Å, the three largest d
    spacing_spread_pct: float = float("nan")   # (max - min) / mean of those three
    basis_cov: list = field(default_factory=list)              # of the reciprocal basis, (c, j)
    corrected: dict | None = None        # after removing a measured scan distortion

    def as_dict(self) -> dict:
        """The estimate as a plain dict (every field)."""
        return asdict(self)

    def summary(self) -> str:
        """One line for people: a, b, gamma with errors (Å, degrees), the strict class, the lattice
        and class after removing a measured scan distortion (or, when none was measured, the
        distortion a hexagonal or square reading would need), and why the estimate is
        unreliable, if it is."""
        if self.label < 0:
            return f"no lattice found ({self.reason})"
        s = (f"a = {self.a:.3f} ± {self.a_err:.3f} Å, b = {self.b:.3f} ± {self.b_err:.3f} Å, "
             f"γ = {self.gamma:.2f} ± {self.gamma_err:.2f}°, class {self.label} ({self.class_name})")
        c = self.corrected
        if c:
            s += (f"; after removing the scan distortion measured from {c['detail']}: "
                  f"a = {c['a']:.3f} ± {c['a_err']:.3f} Å, b = {c['b']:.3f} ± {c['b_err']:.3f} Å, "
                  f"γ = {c['gamma']:.2f} ± {c['gamma_err']:.2f}°, class {c['label']} ({c['class_name']})")
        elif self.label not in (0, 1):
            # a lattice a few % from hexagonal or square is worth saying, as what it would take
            near = [(d, k) for k, short in ((0, "hp"), (1, "tp"))
                    if (d := (self.distortions_pct or {}).get(short)) is not None and d < NEAR_CLASS_PCT]
            for d, k in sorted(near)[:1]:
                s += (f"; {CLASS_NAMES[k]} would need {d:.1f} % of scan distortion (not measured: two grains, "
                      "a reference frame or an orthogonal pair would measure it)")
        return s if self.reliable else s + f"  [unreliable: {self.reason}]"


def _failed(reason: str, pixel_size: float, snr: float = float("nan"), n: int = 0,
            notes: list | None = None) -> LatticeEstimate:
    nan = float("nan")
    return LatticeEstimate(nan, nan, nan, nan, nan, nan, -1, "none", nan, False, reason, n, snr,
                           pixel_size, notes=list(notes or []))


def fill_bad_pixels(image: np.ndarray, sigma: float = 2.0) -> tuple[np.ndarray, int]:
    """NaN/inf pixels (dead pixels, a masked region) replaced by the Gaussian-weighted mean of
    their finite neighbours (the global mean where none is near), and how many there were.
    Left in, a single NaN makes the whole spectrum NaN.

    Args:
        image: 2D image [H, W], any real dtype.
        sigma: width of the Gaussian weighting (px).

    Returns:
        (image, n_bad): the image as float64 [H, W] with the bad pixels filled (unchanged when none
        or all are bad), and the number of NaN/inf pixels.
    """
    img = np.asarray(image, dtype=float)
    bad = ~np.isfinite(img)
    n_bad = int(bad.sum())
    if n_bad == 0 or n_bad == img.size:
        return img, n_bad
    good = (~bad).astype(float)
    values = np.where(bad, 0.0, img)
    weight = ndimage.gaussian_filter(good, sigma, mode="reflect")
    local = ndimage.gaussian_filter(values, sigma, mode="reflect") / np.maximum(weight, 1e-12)
    fill = np.where(weight > 1e-3, local, float(values.sum() / good.sum()))
    return np.where(bad, fill, img), n_bad


def power_spectrum(image: np.ndarray, pad: int = 2):
    """Hann-windowed, zero-padded power spectrum (square, DC at the centre) and its size.

    The image's mean is removed first. Pixel (i, j) of the spectrum is the frequency
    ((j - n // 2), (i - n // 2)) / (n x pixel size), in cycles per length.

    Args:
        image: 2D image [H, W].
        pad: zero-padding factor: the spectrum's side is ``pad`` times the image's longer side.

    Returns:
        (spectrum, n): the power |F|^2 as float64 [n, n] (``fftshift``-ed, DC at [n // 2, n // 2];
        in squared image intensity), and n.
    """
    img = np.asarray(image, dtype=float)
    ny, nx = img.shape
    win = np.outer(np.hanning(ny), np.hanning(nx))
    n = pad * max(ny, nx)
    f = np.fft.fft2((img - img.mean()) * win, s=(n, n))
    return np.fft.fftshift(np.abs(f) ** 2), n


def band_power(image: np.ndarray, pad: int, half: int) -> tuple[np.ndarray, int]:
    """The square [-half, half) x [-half, half) around DC of ``power_spectrum(image, pad)``, from a
    real FFT (half the work of a complex one, and only the square is assembled).

    Args:
        image: 2D image [H, W].
        pad: zero-padding factor (as ``power_spectrum``).
        half: half-side of the square (spectrum pixels, at most n // 2).

    Returns:
        (square, n): float64 [2 half, 2 half], DC at [half, half]; n the full spectrum's side.
    """
    img = np.asarray(image, dtype=float)
    ny, nx = img.shape
    win = np.outer(np.hanning(ny), np.hanning(nx))
    n = pad * max(ny, nx)
    # the 2D real FFT as its two passes, the second only over the columns the square needs
    f = scipy_fft.rfft((img - img.mean()) * win, n=n, axis=1)[:, :half + 1]
    f = scipy_fft.fft(f, n=n, axis=0)
    p = f.real ** 2 + f.imag ** 2                       # [n, half + 1], 0 <= kx <= half
    ky = np.arange(-half, half) % n
    kx = np.arange(-half, half)
    # a real image's spectrum is point-symmetric: P(ky, kx) = P(-ky, -kx) for kx < 0
    out = np.where(kx[None, :] >= 0, p[ky[:, None], np.abs(kx)[None, :]],
                   p[(-ky[:, None]) % n, np.abs(kx)[None, :]])
    return out, n


def parabola_offset(m, c, p) -> np.ndarray:
    """Sub-pixel offset (within +-0.5) of the vertex of the parabola through three samples
    m, c, p at -1, 0, +1; 0 where they do not curve downwards. Element-wise.

    Args:
        m: sample(s) at -1.
        c: sample(s) at 0 (the maximum).
        p: sample(s) at +1.

    Returns:
        The offset(s) of the vertex from 0, in sample steps (float array, clipped to [-0.5, 0.5]).
    """
    m, c, p = (np.asarray(v, dtype=float) for v in (m, c, p))
    den = m - 2 * c + p
    return np.where(den < 0, 0.5 * (m - p) / np.where(den < 0, den, -1.0), 0.0).clip(-0.5, 0.5)


def _refine(spec: np.ndarray, iy: np.ndarray, ix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sub-pixel positions of the peaks at (iy, ix) from parabolas through the log power (Gaussian
    peak model), all peaks at once."""
    n = spec.shape[0]

    def offset(m, c, p):
        return parabola_offset(*(np.log(np.maximum(v, 1e-300)) for v in (m, c, p)))

    centre = spec[iy, ix]
    dy = offset(spec[(iy - 1) % n, ix], centre, spec[(iy + 1) % n, ix])
    dx = offset(spec[iy, (ix - 1) % n], centre, spec[iy, (ix + 1) % n])
    return iy + dy, ix + dx


def suppress_outliers(image: np.ndarray) -> tuple[np.ndarray, int]:
    """Intensities beyond median +- CLIP_SPREAD x (99.5th or 0.5th percentile - median) clipped,
    and how many pixels were. A clean lattice image loses nothing; a bright dopant, a
    contamination spot or a hot pixel stops dominating the spectrum's low frequencies.

    Args:
        image: 2D image [H, W] of finite values (fill NaN first: ``fill_bad_pixels``).

    Returns:
        (image, n_clipped): the image as float64 [H, W], clipped where needed, and the number of
        pixels clipped.
    """
    img = np.asarray(image, dtype=float)
    lo_q, med, hi_q = np.percentile(img, [0.5, 50.0, 99.5])
    hi = med + CLIP_SPREAD * (hi_q - med)
    lo = med - CLIP_SPREAD * (med - lo_q)
    n = int(np.count_nonzero((img > hi) | (img < lo)))
    return (np.clip(img, lo, hi) if n else img), n


def _binned_blur(img: np.ndarray, sigma_px: float, f: int) -> np.ndarray:
    """The Gaussian blur of ``img`` binned f x f (f >= 2), on the binned grid."""
    H, W = img.shape
    padded = np.pad(img, ((0, -H % f), (0, -W % f)), mode="reflect")
    small = padded.reshape(padded.shape[0] // f, f, padded.shape[1] // f, f).mean(axis=(1, 3))
    return ndimage.gaussian_filter(small, sigma_px / f, mode="reflect")


def background_share(image: np.ndarray, sigma_px: float) -> float:
    """A cheap estimate of the share of the image's variance in its blur of width ``sigma_px``
    (the blur computed on a copy binned by sigma / 4 and not interpolated back).

    Args:
        image: 2D image [H, W].
        sigma_px: Gaussian width (px).

    Returns:
        The share (0-1); the exact blur's (``remove_background``) when sigma is under 8 px.
    """
    img = np.asarray(image, dtype=float)
    f = int(sigma_px // 4)
    if f < 2:
        return remove_background(img, sigma_px)[1]
    total = float(img.var())
    return float(_binned_blur(img, sigma_px, f).var()) / total if total > 0 else 0.0


def smooth(image: np.ndarray, sigma_px: float) -> np.ndarray:
    """Gaussian blur of width ``sigma_px``; a wide one on a copy binned by sigma / 4 and
    interpolated back (the same slow background at a small part of the cost) for images over
    512 x 512 px."""
    img = np.asarray(image, dtype=float)
    f = int(sigma_px // 4)
    if f < 2 or img.size <= 512 * 512:
        return ndimage.gaussian_filter(img, sigma_px, mode="reflect")
    H, W = img.shape
    small = _binned_blur(img, sigma_px, f)
    # bin centres sit at (f - 1) / 2 + f i: interpolate back onto every pixel
    y = (np.arange(H) - (f - 1) / 2) / f
    x = (np.arange(W) - (f - 1) / 2) / f
    yy, xx = np.meshgrid(np.clip(y, 0, small.shape[0] - 1), np.clip(x, 0, small.shape[1] - 1), indexing="ij")
    return ndimage.map_coordinates(small, [yy, xx], order=1, mode="nearest")


def remove_background(image: np.ndarray, sigma_px: float) -> tuple[np.ndarray, float]:
    """The image minus its Gaussian blur of width ``sigma_px`` (slow background, a bright corner,
    uneven illumination), and the share of the image's variance that was removed (a cheap first
    look at that share: ``background_share``)."""
    img = np.asarray(image, dtype=float)
    background = smooth(img, sigma_px)
    out = img - background
    total = float(img.var())
    return out, (float(background.var()) / total if total > 0 else 0.0)


def ring_background(spec: np.ndarray, valid: np.ndarray, radius: np.ndarray) -> np.ndarray:
    """The noise power of each ring of the spectrum (rings one padded pixel wide, over the valid
    band; the median a noise ring would have, from its lower quartile), as a map: what a peak is
    compared with."""
    r = np.rint(radius).astype(int)
    rv, pv = r[valid], spec[valid]
    # by ring, then by power within the ring: a sort by power, then a stable (radix) sort of the ring
    # numbers; only the sorted values are read, so ties in power (Friedel mates) may come in any order
    # (np.lexsort((pv, rv)) gives the same values at about twice the time)
    by_power = np.argsort(pv)
    ring_type = np.int16 if r.max() < np.iinfo(np.int16).max else np.int64
    order = by_power[np.argsort(rv[by_power].astype(ring_type), kind="stable")]
    rv, pv = rv[order], pv[order]
    edges = np.searchsorted(rv, np.arange(r.max() + 2))
    count = np.diff(edges)
    # the lower quartile of each ring of at least 16 pixels (numpy's linear percentile), scaled
    # to the median of noise (exponential: ln 2 / ln 4/3): on the rings of a large cell, peaks
    # fill much of a ring and would lift its median
    rings = np.flatnonzero(count >= 16)
    pos = 0.25 * (count[rings] - 1)
    below = np.floor(pos).astype(int)
    lo_v, hi_v = pv[edges[rings] + below], pv[edges[rings] + np.minimum(below + 1, count[rings] - 1)]
    med = np.full(r.max() + 1, np.nan)
    med[rings] = (lo_v + (pos - below) * (hi_v - lo_v)) * RING_QUARTILE_TO_MEDIAN
    known = np.flatnonzero(np.isfinite(med) & (med > 0))
    if len(known) == 0:
        return np.full(spec.shape, np.nan)
    med = np.interp(np.arange(len(med)), known, med[known])
    return med[np.clip(r, 0, len(med) - 1)]


def find_peaks(image: np.ndarray, pixel_size: float, max_peaks: int = 80, pad: int = 2,
               min_spacing: float | None = None):
    """Reciprocal-space peaks of an image's power spectrum, with sub-pixel positions.

    Each peak is measured against the noise power of its ring (``ring_background``: the whitened
    spectrum). Only frequencies between 1.5 / field of view and 1 / max(``min_spacing``, 2.5 pixels)
    are searched; peaks weaker than ``KEEP_OVER_NOISE`` times the noise maximum, or than
    ``POWER_FLOOR`` of the strongest, are dropped.

    Args:
        image: 2D image [H, W] (rows = y).
        pixel_size: pixel size (Å per pixel).
        max_peaks: peaks kept at most (the strongest).
        pad: zero-padding factor of the spectrum (``power_spectrum``).
        min_spacing: smallest lattice spacing searched (Å); None for 1 Å.

    Returns:
        (k, power, snr, noise_max): k [m, 2] the peak positions in cycles/Å (1/Å, no 2 pi) as
        (kx, ky); power [m] their power; the peak SNR, the strongest peak's whitened power; the
        noise maximum, what white noise would reach in this spectrum (log2 of its independent
        pixels). Fewer than 16 frequencies in the band, no finite ring background or no local
        maximum: empty arrays, SNR 0 and noise maximum NaN.
    """
    n = pad * max(np.asarray(image).shape)
    fov = max(np.asarray(image).shape) * pixel_size
    k_min = 1.5 / fov                      # longer periods than ~fov/1.5 are not lattices
    # spacings below 1 A add little precision and crowd out weak superstructure peaks;
    # never closer to Nyquist than 2.5 px
    k_max = 1.0 / max(min_spacing or 1.0, 2.5 * pixel_size)
    # only the square around the searched band is filtered: with a margin wider than the widest
    # filter below (half-width 2 pad), every value inside the band is what the whole spectrum gives
    half = min(n // 2, int(np.ceil(k_max * n * pixel_size)) + 2 * pad + 2)
    spec, n = band_power(image, pad, half)
    c = half
    idx = np.arange(spec.shape[0]) - c
    radius = np.hypot(idx[:, None], idx[None, :])
    kk = radius / (n * pixel_size)
    valid = (kk >= k_min) & (kk <= k_max)
    del kk
    empty = np.zeros((0, 2)), np.zeros(0), 0.0, float("nan")
    if valid.sum() < 16:
        return empty
    local_max = (spec == ndimage.maximum_filter(spec, size=2 * pad + 1)) & valid
    # the footprints of sharp peaks (well above the mean of their surroundings) are left out of
    # the ring statistics: a large cell fills its low rings with peaks, which would lift the
    # background they are measured against; the broad low-frequency hump of dopant clusters or
    # contamination is not sharp and stays in it
    sharp = local_max & (spec >= SHARP_OVER_SURROUND * ndimage.uniform_filter(spec, size=4 * pad + 1))
    # the dilation by a (2 pad + 1)^2 square, as two 1D passes (a maximum filter; zero beyond the edge)
    footprint = ndimage.maximum_filter(sharp, size=2 * pad + 1, mode="constant", cval=False)
    background = ring_background(spec, valid & ~footprint, radius)
    del radius, footprint
    if not np.isfinite(background[valid]).all():
        return empty
    white = np.zeros_like(spec)
    white[valid] = spec[valid] / np.maximum(background[valid], 1e-300)
    del background
    noise_max = float(np.log2(max(valid.sum(), 2.0)))
    ys, xs = np.nonzero(local_max)
    if len(ys) == 0:
        return empty
    power, whitened = spec[ys, xs], white[ys, xs]
    order = np.argsort(power)[::-1][: 4 * max_peaks]
    snr = float(whitened.max())
    keep = [i for i in order if power[i] >= power[order[0]] * POWER_FLOOR
            and whitened[i] >= KEEP_OVER_NOISE * noise_max][:max_peaks]
    keep = np.array(keep, dtype=int)
    y, x = _refine(spec, ys[keep], xs[keep])
    ks = np.stack([(x - c) / (n * pixel_size), (y - c) / (n * pixel_size)], axis=1)
    return ks.reshape(-1, 2), power[keep].astype(float), snr, noise_max


def _index(k: np.ndarray, basis: np.ndarray):
    h = k @ np.linalg.inv(basis)
    return h, np.max(np.abs(h - np.round(h)), axis=1)


def reciprocal_basis(k: np.ndarray, power: np.ndarray, n_candidates: int = 12, strict: bool = True):
    """The coarsest basis, made of two detected peaks, that indexes the peaks: all but a stray
    one or two (``strict``), or 90 % of the power (the fallback). Candidates are the strongest
    and the shortest peaks (a weak superstructure peak can be a basis vector)."""
    norms = np.linalg.norm(k, axis=1)
    cand = list(dict.fromkeys([*np.argsort(power)[::-1][:n_candidates],
                               *np.argsort(norms)[:n_candidates]]))
    pairs = np.array(list(combinations(cand, 2))).reshape(-1, 2)
    if len(pairs) == 0:
        return None
    bases = k[pairs]                                      # [P, 2, 2]: every candidate pair at once
    det = np.abs(np.linalg.det(bases))
    ni, nj = norms[pairs[:, 0]], norms[pairs[:, 1]]
    usable = det >= 1e-3 * ni * nj                        # not collinear
    if not usable.any():
        return None
    h = k[None] @ np.linalg.inv(bases[usable])            # [P', m, 2]
    ok = np.max(np.abs(h - np.round(h)), axis=2) < INDEX_TOL
    # weak superstructure peaks count as much as strong ones: a basis that leaves out more than a
    # stray peak or two describes a sub-lattice of the image, not its lattice
    if strict:
        good = ok.sum(axis=1) >= len(k) - 2 - len(k) // 40     # one stray Friedel pair, or a few
    else:
        good = (ok * power[None]).sum(axis=1) >= 0.9 * power.sum()
    rows = np.flatnonzero(usable)[good]
    if len(rows) == 0:
        return None
    # the coarsest (largest reciprocal cell), then the shortest vectors; the first such pair on a tie
    keys = [(round(float(det[r]), 9), -ni[r] - nj[r], -r) for r in rows]
    return bases[max(zip(keys, rows))[1]].copy()


def _integer_lattice_basis(vectors: np.ndarray) -> np.ndarray:
    """Basis (2 x 2, Hermite normal form) of the lattice generated by integer 2-vectors."""
    rows = [[int(x), int(y)] for x, y in vectors]
    top = None
    rest = []
    for r in rows:                    # Euclid on the first column
        while r[0] != 0:
            if top is None:
                top = r
                break
            if abs(r[0]) < abs(top[0]):
                top, r = r, top
            q = r[0] // top[0]
            r = [r[0] - q * top[0], r[1] - q * top[1]]
        else:
            rest.append(r[1])
    d = int(np.gcd.reduce(np.abs(rest))) if rest else 0
    if top is None or d == 0:
        return np.zeros((2, 2))
    return np.array([[abs(top[0]), top[1] * np.sign(top[0]) % d], [0, d]], dtype=float)


def superlattice(h_unindexed: np.ndarray, max_order: int = 6, share: float = 0.8):
    """If most peaks left unindexed by a basis lie on an n-times finer reciprocal lattice
    (n <= max_order), return (n, the integer lattice they span with the basis, in units of 1/n)
    else None. Noise and defect peaks land at random fractional indices; a superstructure does not.

    Args:
        h_unindexed: [m, 2] fractional Miller indices of the unindexed peaks in the basis.
        max_order: largest refinement n tried.
        share: fraction of the peaks that must lie on the finer lattice (within ``INDEX_TOL``).

    Returns:
        (n, basis) for the smallest n that works, basis a 2 x 2 integer matrix (float, Hermite
        normal form) in units of 1/n of the original reciprocal basis; None when no n does.
    """
    h_unindexed = np.asarray(h_unindexed)
    if len(h_unindexed) == 0:
        return None
    for n in range(2, max_order + 1):
        nh = n * h_unindexed
        on = np.max(np.abs(nh - np.round(nh)), axis=1) < INDEX_TOL
        if on.mean() >= share:
            gen = np.vstack([np.eye(2) * n, np.round(nh[on])])
            basis = _integer_lattice_basis(gen)
            if abs(np.linalg.det(basis)) > 0:
                return n, basis
    return None


def _checked_array(image, pixel_size: float, prefix: str = "") -> np.ndarray:
    """``image`` as an array, if it is 2D and the pixel size a positive finite number (not a
    boolean); ``ValueError`` beginning with ``prefix`` otherwise."""
    img = np.asarray(image)
    if img.ndim != 2:
        raise ValueError(f"{prefix}expected a 2D image, got shape {img.shape}")
    if isinstance(pixel_size, (bool, np.bool_)) or not np.isfinite(pixel_size) or pixel_size <= 0:
        raise ValueError(f"{prefix}pixel size must be a positive number of Å, got {pixel_size}")
    return img


def validate_image(image, pixel_size: float, name: str = "image") -> np.ndarray:
    """The checks every method makes on a user's image: a 2D numeric array of at least
    MIN_IMAGE_PX pixels a side, not constant, at most MAX_BAD_PIXELS NaN/inf, with a positive
    finite pixel size.

    Args:
        image: the image, array-like [H, W].
        pixel_size: pixel size (Å per pixel).
        name: the image's name, for the error messages.

    Returns:
        The image as float64 [H, W] (not copied when it is float64 already).

    Raises:
        ValueError: naming ``name``, when any check fails.
    """
    img = _checked_array(image, pixel_size, f"{name}: ")
    if not np.issubdtype(img.dtype, np.number) or np.issubdtype(img.dtype, np.complexfloating):
        raise ValueError(f"{name}: pixel type {img.dtype} is not a real number")
    if min(img.shape) < MIN_IMAGE_PX:
        raise ValueError(f"{name}: image too small ({img.shape[1]} x {img.shape[0]} px; at least "
                         f"{MIN_IMAGE_PX} px a side)")
    # no copy of an image that is float already, and none of its finite pixels: on a large image
    # each copy is the image's size again
    img = img.astype(float, copy=False)
    finite = np.isfinite(img)
    n_bad = int(img.size - np.count_nonzero(finite))
    if n_bad > MAX_BAD_PIXELS * img.size:
        raise ValueError(f"{name}: {n_bad} of {img.size} pixels ({100 * n_bad / img.size:.0f} %) are "
                         f"NaN or infinite, more than the {100 * MAX_BAD_PIXELS:.0f} % that can be filled")
    if n_bad == img.size or np.max(img, where=finite, initial=-np.inf) == np.min(img, where=finite, initial=np.inf):
        raise ValueError(f"{name}: the image is constant")
    return img


def estimate_lattice(image: np.ndarray, pixel_size: float, pad: int = 2, n_samples: int = 400,
                     seed: int = 0) -> LatticeEstimate:
    """a, b, gamma (reduced primitive cell), Bravais class and uncertainties of the lattice in
    ``image`` (2D array, rows = y) with square pixels of ``pixel_size`` Å.

    Before the FFT: an image larger than MAX_FFT_PX is cut to its centre, NaN pixels are filled,
    outlying intensities clipped and the slow background removed; each step that changed
    something is listed in ``notes``. Input that cannot hold a lattice (too small, constant,
    mostly NaN) gives a failed estimate with the reason; a bad pixel size or shape raises.

    Args:
        image: 2D image [H, W] (rows = y), any real dtype; NaN/inf pixels allowed (filled).
        pixel_size: pixel size (Å per pixel).
        pad: zero-padding factor of the spectrum.
        n_samples: draws from the fit's covariance for the errors of a, b and gamma.
        seed: seed of those draws.

    Returns:
        The ``LatticeEstimate``; label -1 with the reason when no lattice is found.

    Raises:
        ValueError: the image is not 2D, or the pixel size is not a positive finite number.
    """
    img = _checked_array(image, pixel_size)
    if min(img.shape) < MIN_IMAGE_PX:
        return _failed(f"image too small ({img.shape[1]} x {img.shape[0]} px)", pixel_size)
    notes = []
    if max(img.shape) > MAX_FFT_PX:
        y0, x0 = max(0, (img.shape[0] - MAX_FFT_PX) // 2), max(0, (img.shape[1] - MAX_FFT_PX) // 2)
        notes.append(f"analysed the central {min(img.shape[1], MAX_FFT_PX)} x "
                     f"{min(img.shape[0], MAX_FFT_PX)} px of {img.shape[1]} x {img.shape[0]} "
                     f"(memory bound); use the grain analysis for the whole image")
        img = img[y0:y0 + MAX_FFT_PX, x0:x0 + MAX_FFT_PX]
    img, n_bad = fill_bad_pixels(img)
    if n_bad:
        share = n_bad / img.size
        if share > MAX_BAD_PIXELS:
            return _failed(f"{n_bad} of {img.size} pixels ({100 * share:.0f} %) are NaN or "
                           f"infinite, more than the {100 * MAX_BAD_PIXELS:.0f} % that can be "
                           "filled", pixel_size, notes=notes)
        notes.append(f"{n_bad} NaN/inf pixels ({100 * share:.2f} %) filled with the mean of "
                     "their neighbours")
    if np.ptp(img) == 0:
        return _failed("the image is constant", pixel_size, notes=notes)
    img, n_clipped = suppress_outliers(img)
    if n_clipped:
        notes.append(f"{n_clipped} pixels ({100 * n_clipped / img.size:.2f} %) of outlying "
                     "intensity clipped (dopants, contamination, hot pixels)")
    sigma = max(min(img.shape) / 8.0, 4.0)
    # a cheap first look at the background's share; the exact blur only for a background that matters
    removed = background_share(img, sigma)
    if removed > BACKGROUND_SHARE / 2:
        flat, removed = remove_background(img, sigma)
    if removed > BACKGROUND_SHARE:
        # only a background that matters is removed: a clean image keeps every peak as it was
        img = flat
        notes.append(f"slow background removed ({100 * removed:.0f} % of the variance; Gaussian "
                     f"width {sigma * pixel_size:.1f} Å)")
    est = _estimate(img, pixel_size, pad, n_samples, seed)
    est.notes = notes + est.notes
    return est


def lattice_from_basis(B: np.ndarray, cov: np.ndarray, pixel_size: float, n_samples: int = 400,
                       seed: int = 0) -> dict:
    """The real-space cell of a fitted reciprocal basis ``B`` (rows: reciprocal vectors, 1/Å) with
    the 4 x 4 covariance ``cov`` of vec(B) (ordered (c, j)): a, b, gamma and their errors by
    sampling, the strict class (at 3 sigma), the distortion each class would need, the
    orientation, the three first-order spacings, and the covariance carried to the reduced cell.

    Args:
        B: 2 x 2 reciprocal basis, rows g1, g2 (1/Å, cycles per Å as (kx, ky)).
        cov: 4 x 4 covariance of vec(B) ((1/Å)^2), index c * 2 + j for component c of vector j.
        pixel_size: the image's pixel size (Å per pixel); not used in the computation.
        n_samples: draws from ``cov`` for the errors.
        seed: seed of the draws.

    Returns:
        The fields of a ``LatticeEstimate`` from a to basis_cov except reliable, reason, n_peaks,
        peak_snr, pixel_size, n_stray and notes: lengths in Å, angles in degrees, distortions in %.
    """
    A = np.linalg.inv(B).T                # rows: real-space vectors with a_i . g_j = delta_ij
    a, b, gamma, u, v = reduced_cell(A[0], A[1])
    # every draw's real-space basis (rows), reduced all at once
    draws = np.column_stack(reduced_cells(basis_draws(B, cov, n_samples, seed)))
    a_err, b_err, g_err = draws.std(axis=0)
    len_tol = max(STRICT_LEN_TOL, 3 * max(a_err / a, b_err / b))
    label = bravais_class_2d(a, b, gamma, len_tol=len_tol, ang_tol=max(STRICT_ANG_TOL, 3 * g_err))
    distortions = class_distortions(a, b, gamma)
    # the covariance of the reduced cell's reciprocal basis: rows M^-T B for the reduced real basis M A
    M = np.rint(np.array([u, v]) @ B.T)
    T = np.kron(np.eye(2), np.linalg.inv(M).T)
    # first-order spacings: the three shortest reciprocal vectors (up to sign)
    g = np.linalg.inv(np.array([u, v])).T                 # reciprocal of the reduced cell
    first = sorted(1.0 / np.linalg.norm(w) for w in (g[0], g[1], g[0] + g[1], g[0] - g[1]))[::-1][:3]
    return {"a": float(a), "b": float(b), "gamma": float(gamma), "a_err": float(a_err),
            "b_err": float(b_err), "gamma_err": float(g_err), "label": int(label),
            "class_name": CLASS_NAMES[label],
            # of the shortest vectors (equal within ORIENTATION_REL_TOL, so that a slightly
            # distorted hexagonal lattice keeps its six), the one closest to the x axis
            "orientation_deg": orientation_deg(u, v, ORIENTATION_REL_TOL),
            "a_vec": u.tolist(), "b_vec": v.tolist(),
            "distortions_pct": {CLASS_SHORT[k]: float(100 * d) for k, d in distortions.items()},
            "first_order_spacings": [float(x) for x in first],
            "spacing_spread_pct": float(100 * (max(first) - min(first)) / np.mean(first)),
            "basis_cov": (T @ cov @ T.T).tolist()}


def reciprocal_basis_of(est: LatticeEstimate) -> np.ndarray:
    """Rows: the reciprocal vectors (1/Å) dual to the estimate's reduced real-space basis.

    Args:
        est: a lattice estimate with ``a_vec`` and ``b_vec`` (Å).

    Returns:
        2 x 2 float array, rows g1, g2 (1/Å, cycles per Å, no 2 pi) with a_i . g_j = delta_ij.
    """
    return np.linalg.inv(np.array([est.a_vec, est.b_vec], dtype=float)).T


def corrected(est: LatticeEstimate, distortion: ScanDistortion, seed: int = 0) -> LatticeEstimate:
    """A copy of ``est`` whose ``corrected`` field holds its lattice after removing ``distortion``.

    The corrected reciprocal basis and its covariance (``scan_distortion.correct_basis``: the
    estimate's own and the distortion's uncertainty) go through ``lattice_from_basis``, so the
    corrected class is decided exactly as the strict one is.

    Args:
        est: a found lattice (label >= 0, with ``basis_cov``).
        distortion: the measured scan distortion of its frame.
        seed: seed of the sampled errors.

    Returns:
        The copy (``est`` itself when it holds no lattice).
    """
    if est.label < 0 or not est.basis_cov:
        return est
    B, cov = correct_basis(reciprocal_basis_of(est), np.array(est.basis_cov), distortion)
    fit = lattice_from_basis(B, cov, est.pixel_size, 200, seed)
    keep = ("a", "a_err", "b", "b_err", "gamma", "gamma_err", "label", "class_name", "distortions_pct",
            "a_vec", "b_vec", "basis_cov")
    return dataclasses.replace(est, corrected={**{k: fit[k] for k in keep}, "source": distortion.source,
                                               "detail": distortion.detail})


@functools.lru_cache(maxsize=256)
def _t_over_normal(dof: int) -> float:
    # the grain analysis asks for the same few degrees of freedom hundreds of times per image
    return float(stats.t.ppf(0.975, dof) / stats.norm.ppf(0.975))


def _estimate(img: np.ndarray, pixel_size: float, pad: int, n_samples: int, seed: int) -> LatticeEstimate:
    k, power, snr, noise_max = find_peaks(img, pixel_size, pad=pad)
    threshold = DETECT_OVER_NOISE * noise_max
    if not snr >= threshold or len(k) < 4:
        return _failed(f"no periodic lattice: FFT peaks at noise level (the strongest is {snr:.0f} x "
                       f"its ring's median power, below {threshold:.0f} x: 3 x the largest that noise "
                       "reaches in this spectrum)", pixel_size, snr)
    basis = reciprocal_basis(k, power)
    strict = basis is not None
    if basis is None:
        basis = reciprocal_basis(k, power, strict=False)
    if basis is None:
        return _failed("the FFT peaks do not form a 2D lattice", pixel_size, snr, len(k))
    h, res = _index(k, basis)
    ok = res < INDEX_TOL
    stray = 0
    if not strict:
        sup = superlattice(h[~ok])
        if sup is not None:
            # weak superstructure peaks on a finer reciprocal lattice: the true, larger cell
            n, hb = sup
            finer = hb @ basis / n
            h2, res2 = _index(k, finer)
            if (res2 < INDEX_TOL).sum() > ok.sum():
                basis, h, res, strict = finer, h2, res2, True
                ok = res < INDEX_TOL
        elif power[~ok].sum() < STRAY_POWER * power.sum():
            # peaks at random fractional indices, weak together: noise, defects, contamination
            strict, stray = True, int((~ok).sum())
    # the power spectrum is centrosymmetric: a peak and its Friedel mate carry the same error,
    # so only one half-plane holds independent measurements
    half = ok & (k @ np.array([1.0, 1e-3]) > 0)
    hi, ki = np.round(h[half]), k[half]
    # least squares over every indexed peak: k = h @ B
    B, *_ = np.linalg.lstsq(hi, ki, rcond=None)
    # uncertainty: heteroscedasticity-consistent (HC3) sandwich covariance of B. High orders
    # carry the leverage and the larger position errors, which a pooled residual variance
    # underestimates; HC3 weighs each residual by its leverage
    X = hi
    XtX_inv = np.linalg.inv(X.T @ X)
    lev = np.einsum("ij,jk,ik->i", X, XtX_inv, X)
    e = (ki - X @ B) / np.clip(1 - lev, 1e-3, None)[:, None]
    Z = np.einsum("ij,ic->icj", X, e).reshape(len(X), 4)     # per-peak score, columns (c, j)
    W = np.kron(np.eye(2), XtX_inv)                             # vec(B) ordered (c, j)
    # plus a floor for the bias of the sub-pixel refinement, which residuals cannot show
    floor = (PEAK_BIAS_PX / (pad * max(img.shape) * pixel_size)) ** 2
    cov = W @ (Z.T @ Z + floor * np.kron(np.eye(2), X.T @ X)) @ W.T
    # few peaks give a noisy variance: widen so that 2 sigma stays a 95 % interval (Student t)
    dof = max(len(X) - 2, 1)
    cov *= _t_over_normal(dof) ** 2
    fit = lattice_from_basis(B, cov, pixel_size, n_samples, seed)
    b = fit["b"]
    fov = min(img.shape) * pixel_size
    reason = ""
    if b * MIN_PERIODS > fov:
        reason = f"cell too large for the field of view (b = {b:.1f} Å, view {fov:.1f} Å)"
    elif not strict:
        reason = f"{int((~ok).sum())} weaker FFT peak(s) not indexed: the cell may be a sub-cell"
    elif not ok.all() and not stray:
        reason = f"{int((~ok).sum())} FFT peak(s) off the fitted lattice"
    return LatticeEstimate(**fit, reliable=reason == "", reason=reason, n_peaks=int(ok.sum()),
                           peak_snr=snr, pixel_size=float(pixel_size), n_stray=stray)
