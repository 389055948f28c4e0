"""A physics-based lattice estimator: a, b, gamma and the 2D Bravais class from the FFT.

The power spectrum of an image of a 2D crystal has peaks on the reciprocal lattice. We find them
(windowed, zero-padded FFT; sub-pixel refinement by a Gaussian fit through each peak and its
neighbours), look for the coarsest pair of peaks that indexes all of them with integers
(the primitive reciprocal basis), refine that basis by least squares over every indexed peak
(high orders pin it down best), and invert it to the real-space cell, Gauss-reduced
(a <= b, 90 <= gamma <= 120, the canonical convention of ``lattice2d``).

It is rotation-invariant by construction and exact in units of the pixel size: a calibration
error of the pixel size is a proportional error of a and b, nothing is learned. The
uncertainty comes from the residuals of the least-squares fit, propagated by sampling.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from itertools import combinations

import numpy as np
from scipy import ndimage

from .lattice2d import CLASS_NAMES, bravais_class_2d, gauss_reduce

MIN_PEAK_SNR = 100.0      # strongest peak power / median power: white noise gives ~16
INDEX_TOL = 0.12          # a peak is indexed when both Miller indices are this close to integers
MIN_PERIODS = 3.0         # the field of view must hold at least this many periods of b


@dataclass
class LatticeEstimate:
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

    def as_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        if self.label < 0:
            return f"no lattice found ({self.reason})"
        s = (f"a = {self.a:.3f} ± {self.a_err:.3f} Å, b = {self.b:.3f} ± {self.b_err:.3f} Å, "
             f"γ = {self.gamma:.2f} ± {self.gamma_err:.2f}°, class {self.label} ({self.class_name})")
        return s if self.reliable else s + f"  [unreliable: {self.reason}]"


def _failed(reason: str, pixel_size: float, snr: float = float("nan"), n: int = 0) -> LatticeEstimate:
    nan = float("nan")
    return LatticeEstimate(nan, nan, nan, nan, nan, nan, -1, "none", nan, False, reason, n, snr,
                           pixel_size)


def power_spectrum(image: np.ndarray, pad: int = 2):
    """Hann-windowed, zero-padded power spectrum (square, DC at the centre) and its size."""
    img = np.asarray(image, dtype=float)
    ny, nx = img.shape
    win = np.outer(np.hanning(ny), np.hanning(nx))
    n = pad * max(ny, nx)
    f = np.fft.fft2((img - img.mean()) * win, s=(n, n))
    return np.fft.fftshift(np.abs(f) ** 2), n


def _refine(spec: np.ndarray, iy: int, ix: int) -> tuple[float, float]:
    """Sub-pixel peak position from a parabola through the log power (Gaussian peak model)."""
    n = spec.shape[0]

    def offset(m, c, p):
        m, c, p = np.log(max(m, 1e-300)), np.log(max(c, 1e-300)), np.log(max(p, 1e-300))
        den = m - 2 * c + p
        return 0.0 if den >= 0 else float(np.clip(0.5 * (m - p) / den, -0.5, 0.5))

    dy = offset(spec[(iy - 1) % n, ix], spec[iy, ix], spec[(iy + 1) % n, ix])
    dx = offset(spec[iy, (ix - 1) % n], spec[iy, ix], spec[iy, (ix + 1) % n])
    return iy + dy, ix + dx


def find_peaks(image: np.ndarray, pixel_size: float, max_peaks: int = 80, pad: int = 2,
               min_spacing: float | None = None):
    """Reciprocal-space peaks: (k [m, 2] in cycles/A as (kx, ky), power [m], peak SNR)."""
    spec, n = power_spectrum(image, pad)
    c = n // 2
    fov = max(np.asarray(image).shape) * pixel_size
    idx = np.arange(n) - c
    kk = np.hypot(idx[:, None], idx[None, :]) / (n * pixel_size)
    k_min = 1.5 / fov                      # longer periods than ~fov/1.5 are not lattices
    # spacings below 1 A add little precision and crowd out weak superstructure peaks;
    # never closer to Nyquist than 2.5 px
    k_max = 1.0 / max(min_spacing or 1.0, 2.5 * pixel_size)
    valid = (kk >= k_min) & (kk <= k_max)
    median = float(np.median(spec[valid])) if valid.any() else 0.0
    local_max = (spec == ndimage.maximum_filter(spec, size=2 * pad + 1)) & valid
    ys, xs = np.nonzero(local_max)
    if len(ys) == 0 or median <= 0:
        return np.zeros((0, 2)), np.zeros(0), 0.0
    power = spec[ys, xs]
    order = np.argsort(power)[::-1][: 2 * max_peaks]
    snr = float(power[order[0]] / median)
    keep = [i for i in order if power[i] >= max(power[order[0]] * 1e-4, 20 * median)][:max_peaks]
    ks, ps = [], []
    for i in keep:
        y, x = _refine(spec, ys[i], xs[i])
        ks.append(((x - c) / (n * pixel_size), (y - c) / (n * pixel_size)))
        ps.append(power[i])
    return np.array(ks), np.array(ps), snr


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
    best, best_key = None, None
    for i, j in combinations(cand, 2):
        basis = np.array([k[i], k[j]])
        det = abs(np.linalg.det(basis))
        if det < 1e-3 * norms[i] * norms[j]:
            continue                      # collinear
        _, res = _index(k, basis)
        ok = res < INDEX_TOL
        # weak superstructure peaks count as much as strong ones: a basis that leaves out
        # more than a stray peak or two describes a sub-lattice of the image, not its lattice
        if strict and ok.sum() < len(k) - 2 - len(k) // 40:   # one stray Friedel pair, or a few
            continue
        if not strict and power[ok].sum() < 0.9 * power.sum():
            continue
        key = (round(det, 9), -norms[i] - norms[j])
        if best_key is None or key > best_key:
            best, best_key = basis, key
    return best


def estimate_lattice(image: np.ndarray, pixel_size: float, pad: int = 2, n_samples: int = 400,
                     seed: int = 0) -> LatticeEstimate:
    """a, b, gamma (reduced primitive cell), Bravais class and uncertainties of the lattice in
    ``image`` (2D array, rows = y) with square pixels of ``pixel_size`` A."""
    img = np.asarray(image, dtype=float)
    if img.ndim != 2:
        raise ValueError(f"expected a 2D image, got shape {img.shape}")
    if not np.isfinite(pixel_size) or pixel_size <= 0:
        raise ValueError(f"pixel size must be a positive number of Å, got {pixel_size}")
    if not np.all(np.isfinite(img)):
        return _failed("the image contains NaN or infinite values", pixel_size)
    if min(img.shape) < 16:
        return _failed(f"image too small ({img.shape[1]} x {img.shape[0]} px)", pixel_size)
    if np.ptp(img) == 0:
        return _failed("the image is constant", pixel_size)
    k, power, snr = find_peaks(img, pixel_size, pad=pad)
    if snr < MIN_PEAK_SNR or len(k) < 4:
        return _failed(f"no periodic lattice: FFT peaks at noise level (peak/median {snr:.0f})",
                       pixel_size, snr)
    basis = reciprocal_basis(k, power)
    strict = basis is not None
    if basis is None:
        basis = reciprocal_basis(k, power, strict=False)
    if basis is None:
        return _failed("the FFT peaks do not form a 2D lattice", pixel_size, snr, len(k))
    h, res = _index(k, basis)
    ok = res < INDEX_TOL
    hi, ki = np.round(h[ok]), k[ok]
    # least squares over every indexed peak: k = h @ B
    B, *_ = np.linalg.lstsq(hi, ki, rcond=None)
    dof = max(2 * len(hi) - 4, 1)
    sigma2 = float(np.sum((ki - hi @ B) ** 2) / dof)
    cov = sigma2 * np.linalg.inv(hi.T @ hi)
    rng = np.random.default_rng(seed)
    chol = np.linalg.cholesky(cov + 1e-30 * np.eye(2))
    samples = B[None] + np.einsum("ij,sjc->sic", chol, rng.standard_normal((n_samples, 2, 2)))

    def cell(Bm):
        A = np.linalg.inv(Bm).T           # rows: real-space vectors with a_i . g_j = delta_ij
        u, v = gauss_reduce(A[0], A[1])
        a, b = np.linalg.norm(u), np.linalg.norm(v)
        gamma = np.degrees(np.arccos(np.clip(np.dot(u, v) / (a * b), -1, 1)))
        return a, b, gamma, u, v

    a, b, gamma, u, v = cell(B)
    # orientation: of all the shortest lattice vectors, the one closest to the x axis
    shortest = [w for w in (u, -u, v, -v, u + v, -u - v, u - v, v - u)
                if np.linalg.norm(w) <= a * (1 + 1e-3)]
    along_x = min(shortest, key=lambda w: abs(np.arctan2(w[1], w[0])))
    draws = np.array([cell(s)[:3] for s in samples])
    a_err, b_err, g_err = draws.std(axis=0)
    len_tol = max(5e-3, 3 * max(a_err / a, b_err / b))
    label = bravais_class_2d(a, b, gamma, len_tol=len_tol, ang_tol=max(0.5, 3 * g_err))
    fov = min(img.shape) * pixel_size
    reason = ""
    if b * MIN_PERIODS > fov:
        reason = f"cell too large for the field of view (b = {b:.1f} Å, view {fov:.1f} Å)"
    elif not strict:
        reason = f"{int((~ok).sum())} weaker FFT peak(s) not indexed: the cell may be a sub-cell"
    elif not ok.all():
        reason = f"{int((~ok).sum())} FFT peak(s) off the fitted lattice"
    return LatticeEstimate(float(a), float(b), float(gamma), float(a_err), float(b_err),
                           float(g_err), int(label), CLASS_NAMES[label],
                           float(np.degrees(np.arctan2(along_x[1], along_x[0]))), reason == "", reason,
                           int(ok.sum()), snr, float(pixel_size), u.tolist(), v.tolist())
