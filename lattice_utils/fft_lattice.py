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

from dataclasses import asdict, dataclass, field
from itertools import combinations

import numpy as np
from scipy import ndimage, stats

from .lattice2d import CLASS_NAMES, bravais_class_2d, gauss_reduce

MIN_PEAK_SNR = 100.0      # strongest peak power / median power: white noise gives ~16
INDEX_TOL = 0.12          # a peak is indexed when both Miller indices are this close to integers
# bias of the sub-pixel refinement, in pixels of the padded spectrum: calibrated on clean
# simulated images (training split), where it is the whole error (notebook 14, section 5)
PEAK_BIAS_PX = 0.02
STRAY_POWER = 0.05        # unindexed peaks off any superlattice, weaker than this share: stray
MIN_PERIODS = 3.0         # the field of view must hold at least this many periods of b
MAX_BAD_PIXELS = 0.25     # share of NaN/inf pixels that can be filled; more and nothing is found


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
    n_stray: int = 0            # weak peaks off the lattice and off any superlattice, ignored
    notes: list = field(default_factory=list)   # what was done to the input (e.g. pixels filled)

    def as_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        if self.label < 0:
            return f"no lattice found ({self.reason})"
        s = (f"a = {self.a:.3f} ± {self.a_err:.3f} Å, b = {self.b:.3f} ± {self.b_err:.3f} Å, "
             f"γ = {self.gamma:.2f} ± {self.gamma_err:.2f}°, class {self.label} ({self.class_name})")
        return s if self.reliable else s + f"  [unreliable: {self.reason}]"


def _failed(reason: str, pixel_size: float, snr: float = float("nan"), n: int = 0,
            notes: list | None = None) -> LatticeEstimate:
    nan = float("nan")
    return LatticeEstimate(nan, nan, nan, nan, nan, nan, -1, "none", nan, False, reason, n, snr,
                           pixel_size, notes=list(notes or []))


def fill_bad_pixels(image: np.ndarray, sigma: float = 2.0) -> tuple[np.ndarray, int]:
    """NaN/inf pixels (dead pixels, a masked region) replaced by the Gaussian-weighted mean of
    their finite neighbours (the global mean where none is near), and how many there were.
    Left in, a single NaN makes the whole spectrum NaN."""
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
    """Hann-windowed, zero-padded power spectrum (square, DC at the centre) and its size."""
    img = np.asarray(image, dtype=float)
    ny, nx = img.shape
    win = np.outer(np.hanning(ny), np.hanning(nx))
    n = pad * max(ny, nx)
    f = np.fft.fft2((img - img.mean()) * win, s=(n, n))
    return np.fft.fftshift(np.abs(f) ** 2), n


def parabola_offset(m, c, p) -> np.ndarray:
    """Sub-pixel offset (within +-0.5) of the vertex of the parabola through three samples
    m, c, p at -1, 0, +1; 0 where they do not curve downwards. Element-wise."""
    m, c, p = (np.asarray(v, dtype=float) for v in (m, c, p))
    den = m - 2 * c + p
    return np.where(den < 0, 0.5 * (m - p) / np.where(den < 0, den, -1.0), 0.0).clip(-0.5, 0.5)


def _refine(spec: np.ndarray, iy: int, ix: int) -> tuple[float, float]:
    """Sub-pixel peak position from a parabola through the log power (Gaussian peak model)."""
    n = spec.shape[0]

    def offset(m, c, p):
        return float(parabola_offset(*(np.log(max(v, 1e-300)) for v in (m, c, p))))

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
    else None. Noise and defect peaks land at random fractional indices; a superstructure does not."""
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


def estimate_lattice(image: np.ndarray, pixel_size: float, pad: int = 2, n_samples: int = 400,
                     seed: int = 0) -> LatticeEstimate:
    """a, b, gamma (reduced primitive cell), Bravais class and uncertainties of the lattice in
    ``image`` (2D array, rows = y) with square pixels of ``pixel_size`` A."""
    img = np.asarray(image, dtype=float)
    if img.ndim != 2:
        raise ValueError(f"expected a 2D image, got shape {img.shape}")
    if not np.isfinite(pixel_size) or pixel_size <= 0:
        raise ValueError(f"pixel size must be a positive number of Å, got {pixel_size}")
    if min(img.shape) < 16:
        return _failed(f"image too small ({img.shape[1]} x {img.shape[0]} px)", pixel_size)
    img, n_bad = fill_bad_pixels(img)
    notes = []
    if n_bad:
        share = n_bad / img.size
        if share > MAX_BAD_PIXELS:
            return _failed(f"{n_bad} of {img.size} pixels ({100 * share:.0f} %) are NaN or "
                           f"infinite, more than the {100 * MAX_BAD_PIXELS:.0f} % that can be "
                           "filled", pixel_size)
        notes.append(f"{n_bad} NaN/inf pixels ({100 * share:.2f} %) filled with the mean of "
                     "their neighbours")
    if np.ptp(img) == 0:
        return _failed("the image is constant", pixel_size, notes=notes)
    est = _estimate(img, pixel_size, pad, n_samples, seed)
    est.notes = notes + est.notes
    return est


def _estimate(img: np.ndarray, pixel_size: float, pad: int, n_samples: int,
              seed: int) -> LatticeEstimate:
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
    cov *= (stats.t.ppf(0.975, dof) / stats.norm.ppf(0.975)) ** 2
    rng = np.random.default_rng(seed)
    chol = np.linalg.cholesky(cov + 1e-30 * np.eye(4) + 1e-12 * np.trace(cov) * np.eye(4))
    dv = (chol @ rng.standard_normal((4, n_samples))).T.reshape(n_samples, 2, 2)   # (c, j)
    samples = B[None] + dv.transpose(0, 2, 1)

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
    elif not ok.all() and not stray:
        reason = f"{int((~ok).sum())} FFT peak(s) off the fitted lattice"
    return LatticeEstimate(float(a), float(b), float(gamma), float(a_err), float(b_err),
                           float(g_err), int(label), CLASS_NAMES[label],
                           float(np.degrees(np.arctan2(along_x[1], along_x[0]))), reason == "", reason,
                           int(ok.sum()), snr, float(pixel_size), u.tolist(), v.tolist(), stray)
