"""The analysis of notebook 17 (Zhu et al., HRTEM nanoparticles), free of the simulation:
lattice spacings and interplanar angles from the FFT spots of moving image windows, with phases
matched against the candidates' d-spacings (``phases``). The specimen it is tried on is
``nanoparticles``.

Conversion (Zhu et al., ESI-2): a spot l pixels from the centre of a d-pixel FFT of an image sampled at
p Å per pixel lies at spatial frequency q = l / (d p) (1/Å); the lattice spacing is 1/q. (The
document calls q itself the spacing; see docs/deviations.md#deviation-29.)"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import ndimage

from ..lattice.fft_lattice import parabola_offset
from ..lattice.grains import window_origins
from .phases import PHASES, candidate_spacings, phase_structure, plane_family

__all__ = ["angle_general", "angle_cubic", "angle_orthorhombic", "angle_tetragonal", "angle_hexagonal",
           "spacing_from_pixels", "match_phase", "windows", "log_spectrum", "peaks_plain", "peaks_from_mask",
           "index_pair", "pair_of_spots"]

# ------------------------------------------------------------------ interplanar angles

def _hkl(h) -> np.ndarray:
    h = np.asarray(h, dtype=float)
    if h.shape != (3,) or not np.any(h):
        raise ValueError(f"a plane needs three Miller indices, not all zero; got {h.tolist()}")
    return h


def angle_general(lattice_matrix, hkl1, hkl2) -> float:
    """Angle (degrees) between planes (h1 k1 l1) and (h2 k2 l2) from the reciprocal metric
    tensor G* = (A A^T)^-1 of any cell (rows of A: a, b, c).

    Args:
        lattice_matrix: the cell [3, 3], rows a, b, c in Å.
        hkl1: Miller indices (h1 k1 l1) of the first plane.
        hkl2: Miller indices (h2 k2 l2) of the second plane.

    Returns:
        The interplanar angle in degrees, in [0, 180].

    Raises:
        ValueError: a plane is not three Miller indices, or they are all zero.
    """
    A = np.asarray(lattice_matrix, dtype=float)
    Gs = np.linalg.inv(A @ A.T)
    h1, h2 = _hkl(hkl1), _hkl(hkl2)
    c = h1 @ Gs @ h2 / np.sqrt((h1 @ Gs @ h1) * (h2 @ Gs @ h2))
    return float(np.degrees(np.arccos(np.clip(c, -1, 1))))


def angle_cubic(hkl1, hkl2) -> float:                       # Zhu et al., ESI eq. (3)
    """Angle (degrees) between planes (h1 k1 l1) and (h2 k2 l2) of a cubic cell (Zhu et al., ESI eq. 3).

    Args:
        hkl1: Miller indices of the first plane.
        hkl2: Miller indices of the second plane.

    Returns:
        The interplanar angle in degrees, in [0, 180].

    Raises:
        ValueError: a plane is not three Miller indices, or they are all zero.
    """
    h1, h2 = _hkl(hkl1), _hkl(hkl2)
    return float(np.degrees(np.arccos(np.clip(h1 @ h2 / np.sqrt((h1 @ h1) * (h2 @ h2)), -1, 1))))


def angle_orthorhombic(a, b, c, hkl1, hkl2) -> float:       # Zhu et al., ESI eq. (2)
    """Angle (degrees) between planes (h1 k1 l1) and (h2 k2 l2) of an orthorhombic cell (Zhu et al., ESI eq. 2).

    Args:
        a: lattice constant a (Å).
        b: lattice constant b (Å).
        c: lattice constant c (Å).
        hkl1: Miller indices of the first plane.
        hkl2: Miller indices of the second plane.

    Returns:
        The interplanar angle in degrees, in [0, 180].

    Raises:
        ValueError: a plane is not three Miller indices, or they are all zero.
    """
    w = np.array([1 / a ** 2, 1 / b ** 2, 1 / c ** 2])
    h1, h2 = _hkl(hkl1), _hkl(hkl2)
    cosine = (w * h1 * h2).sum() / np.sqrt((w * h1 * h1).sum() * (w * h2 * h2).sum())
    return float(np.degrees(np.arccos(np.clip(cosine, -1, 1))))


def angle_tetragonal(a, c, hkl1, hkl2) -> float:            # Zhu et al., ESI eq. (5)
    """Angle (degrees) between planes (h1 k1 l1) and (h2 k2 l2) of a tetragonal cell (Zhu et al., ESI eq. 5).

    Args:
        a: lattice constant a = b (Å).
        c: lattice constant c (Å).
        hkl1: Miller indices of the first plane.
        hkl2: Miller indices of the second plane.

    Returns:
        The interplanar angle in degrees, in [0, 180].

    Raises:
        ValueError: a plane is not three Miller indices, or they are all zero.
    """
    return angle_orthorhombic(a, a, c, hkl1, hkl2)


def angle_hexagonal(a, c, hkl1, hkl2) -> float:             # Zhu et al., ESI eq. (4)
    """Angle (degrees) between planes (h1 k1 l1) and (h2 k2 l2) of a hexagonal cell (Zhu et al., ESI eq. 4).

    Args:
        a: lattice constant a (Å).
        c: lattice constant c (Å).
        hkl1: three-index Miller indices (h k l) of the first plane (not h k i l).
        hkl2: three-index Miller indices of the second plane.

    Returns:
        The interplanar angle in degrees, in [0, 180].

    Raises:
        ValueError: a plane is not three Miller indices, or they are all zero.
    """
    (h1, k1, l1), (h2, k2, l2) = _hkl(hkl1), _hkl(hkl2)
    r = 3 * a ** 2 / (4 * c ** 2)
    num = h1 * h2 + k1 * k2 + 0.5 * (h1 * k2 + h2 * k1) + r * l1 * l2
    den = np.sqrt((h1 ** 2 + k1 ** 2 + h1 * k1 + r * l1 ** 2) * (h2 ** 2 + k2 ** 2 + h2 * k2 + r * l2 ** 2))
    return float(np.degrees(np.arccos(np.clip(num / den, -1, 1))))


def spacing_from_pixels(l_px, fft_px: int, pixel: float) -> np.ndarray:
    """Lattice spacing (Å) of a spot ``l_px`` pixels from the centre of an ``fft_px`` FFT of an
    image sampled at ``pixel`` Å: 1 / q with q = l / (d p).

    Args:
        l_px: distance(s) of the spot(s) from the FFT's centre (FFT pixels).
        fft_px: side d of the FFT (pixels).
        pixel: pixel size p of the image (Å per pixel).

    Returns:
        float array of the spacings (Å), the shape of ``l_px``; inf where ``l_px`` is 0.

    Raises:
        ValueError: ``fft_px`` or ``pixel`` is not positive.
    """
    l_px = np.asarray(l_px, dtype=float)
    if fft_px <= 0 or pixel <= 0:
        raise ValueError(f"FFT size and pixel size must be positive, got {fft_px} and {pixel}")
    with np.errstate(divide="ignore"):
        return fft_px * pixel / l_px


# ------------------------------------------------------------------ phases

def match_phase(spacings, candidates=None, tol: float = 0.03) -> pd.DataFrame:
    """Score each candidate phase by how many of the measured ``spacings`` (Å) lie within a
    relative ``tol`` of one of its d-spacings; best first. Columns: phase, matched, share,
    mean relative error.

    Non-finite spacings are left out. Phases are ranked by matches, ties by the smaller error.

    Args:
        spacings: measured lattice spacings (Å).
        candidates: names of the phases to try (keys of ``phases.PHASES``); None or empty: all.
        tol: relative tolerance (0.03: 3 %).

    Returns:
        DataFrame, one row per candidate: ``phase``, ``matched`` (spacings explained), ``share``
        (their fraction, 0-1), ``error`` (mean relative error of the matched ones, NaN if none).
    """
    spacings = np.asarray(spacings, dtype=float)
    spacings = spacings[np.isfinite(spacings)]
    rows = []
    for name in candidates or PHASES:
        d = candidate_spacings(name)["d"].to_numpy()
        if len(spacings) == 0 or len(d) == 0:
            rows.append({"phase": name, "matched": 0, "share": 0.0, "error": np.nan})
            continue
        rel = np.abs(spacings[:, None] / d[None, :] - 1).min(1)
        ok = rel < tol
        rows.append({"phase": name, "matched": int(ok.sum()), "share": float(ok.mean()),
                     "error": float(rel[ok].mean()) if ok.any() else np.nan})
    return pd.DataFrame(rows).sort_values(["matched", "error"], ascending=[False, True]).reset_index(drop=True)


# ------------------------------------------------------------------ windows and spots

def windows(image: np.ndarray, size: int, stride: int | None = None):
    """(row, col, window) of the moving window: top-left corners every ``stride`` pixels.

    Only windows wholly inside the image; an edge strip narrower than ``stride`` is not covered.

    Args:
        image: the image [H, W].
        size: window side (pixels).
        stride: step between windows (pixels); None: ``size`` // 2.

    Yields:
        (top row, left column, view of the window [size, size]).

    Raises:
        ValueError: ``image`` is not 2D, the window is larger than the image, or ``stride`` is not
            positive (raised on the first iteration).
    """
    img = np.asarray(image)
    if img.ndim != 2:
        raise ValueError(f"expected a 2D image, got shape {img.shape}")
    # the grid of the grain analysis, without its extra row and column at the edges (the
    # document's windows)
    for r, c in window_origins(img.shape, size, stride or size // 2, cover_edges=False):
        yield r, c, img[r:r + size, c:c + size]


def log_spectrum(window: np.ndarray, crop: int | None = None) -> np.ndarray:
    """log(1 + |FFT|) of a Hann-tapered window, zero frequency at the centre, standardised;
    the central ``crop`` x ``crop`` part when given.

    The window's mean is removed before the taper. Spot positions keep the full FFT's scale: a
    spot l pixels from the crop's centre is l pixels from the FFT's.

    Args:
        window: the image window [h, w].
        crop: side of the central part kept (pixels); None or 0: all of it.

    Returns:
        float32 [crop, crop] (or [h, w]), zero mean and unit standard deviation.
    """
    w = np.asarray(window, dtype=float)
    w = (w - w.mean()) * np.outer(np.hanning(w.shape[0]), np.hanning(w.shape[1]))
    s = np.log1p(np.abs(np.fft.fftshift(np.fft.fft2(w))))
    if crop:
        c0, c1 = s.shape[0] // 2 - crop // 2, s.shape[1] // 2 - crop // 2
        s = s[c0:c0 + crop, c1:c1 + crop]
    return ((s - s.mean()) / max(s.std(), 1e-9)).astype(np.float32)


def peaks_plain(spec_img: np.ndarray, k: float = 4.0, r_min: float = 4.0, size: int = 5) -> np.ndarray:
    """Spots by plain peak finding on a standardised log spectrum: local maxima above the
    local background (a wide median) by ``k`` standard deviations, outside radius ``r_min``;
    [n, 2] (x, y) relative to the centre.

    The background is a 15 x 15 median; positions are refined to sub-pixel by parabolas through
    the spectrum. The centre is pixel (n // 2, n // 2) of a square spectrum.

    Args:
        spec_img: a standardised log spectrum [n, n] (``log_spectrum``).
        k: threshold, in standard deviations of the background-subtracted spectrum.
        r_min: smallest distance of a spot from the centre (FFT pixels).
        size: side of the local-maximum neighbourhood (pixels).

    Returns:
        float array [m, 2] of the spots, (x, y) in FFT pixels relative to the centre.
    """
    s = np.asarray(spec_img, float)
    bg = ndimage.median_filter(s, size=15)
    r = s - bg
    thr = k * r.std()
    mx = ndimage.maximum_filter(r, size=size)
    yy, xx = np.nonzero((r == mx) & (r > thr))
    ok = (yy > 0) & (xx > 0) & (yy < s.shape[0] - 1) & (xx < s.shape[1] - 1)
    yy, xx = yy[ok], xx[ok]
    c = s.shape[0] // 2
    xy = np.stack([xx - c + parabola_offset(s[yy, xx - 1], s[yy, xx], s[yy, xx + 1]),
                   yy - c + parabola_offset(s[yy - 1, xx], s[yy, xx], s[yy + 1, xx])], 1)
    return xy[np.hypot(*xy.T) >= r_min] if len(xy) else np.zeros((0, 2))


def peaks_from_mask(mask: np.ndarray, r_min: float = 4.0) -> np.ndarray:
    """Centroids of the binarised spots, (x, y) relative to the centre.

    Args:
        mask: the binarised spectrum [n, n] (non-zero on spots); the centre is pixel (n // 2, n // 2).
        r_min: smallest distance of a spot from the centre (FFT pixels).

    Returns:
        float array [m, 2] of the connected regions' centroids, (x, y) in FFT pixels relative to
        the centre.
    """
    lab, n = ndimage.label(np.asarray(mask) > 0)
    if n == 0:
        return np.zeros((0, 2))
    cy, cx = np.array(ndimage.center_of_mass(np.ones_like(lab), lab, np.arange(1, n + 1))).reshape(-1, 2).T
    c = mask.shape[0] // 2
    xy = np.stack([cx - c, cy - c], 1)
    return xy[np.hypot(*xy.T) >= r_min]


def index_pair(phase: str, d1: float, d2: float, angle: float, tol: float = 0.03) -> dict:
    """Index two measured spots (spacings d1, d2 in Å, angle between them in degrees) against
    ``phase``: the pair of planes from the nearest d-spacing families whose interplanar angle
    (metric tensor) is closest to ``angle``.

    Only the first 48 planes of each family are tried; collinear pairs are skipped.

    Args:
        phase: the phase (a key of ``phases.PHASES``).
        d1: spacing of the first spot (Å).
        d2: spacing of the second spot (Å).
        angle: measured angle between the two spots (degrees).
        tol: relative tolerance of a spacing against the phase's nearest d-spacing.

    Returns:
        dict: ``hkl1``, ``hkl2`` (tuples of three ints, or None when a spacing matches no family
        within ``tol``), ``angle_theory`` and ``angle_error`` (degrees, NaN when not indexed).
    """
    cand = candidate_spacings(phase)["d"].to_numpy()
    if len(cand) == 0:
        return {"hkl1": None, "hkl2": None, "angle_theory": np.nan, "angle_error": np.nan}
    A = phase_structure(phase).lattice.matrix
    fam = []
    for d in (d1, d2):
        k = np.argmin(np.abs(cand / d - 1))
        if abs(cand[k] / d - 1) > tol:
            return {"hkl1": None, "hkl2": None, "angle_theory": np.nan, "angle_error": np.nan}
        fam.append(plane_family(phase, cand[k]))
    best = (np.inf, None, None, np.nan)
    for h1 in fam[0][:48]:
        for h2 in fam[1][:48]:
            if np.all(np.cross(h1, h2) == 0):
                continue
            t = angle_general(A, h1, h2)
            e = abs(t - angle)
            if e < best[0]:
                best = (e, tuple(int(v) for v in h1), tuple(int(v) for v in h2), t)
    return {"hkl1": best[1], "hkl2": best[2], "angle_theory": best[3], "angle_error": best[0]}


def pair_of_spots(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """The two shortest non-collinear spot vectors (FFT pixels), or None.

    Non-collinear: the sine of the angle between them exceeds 0.2.

    Args:
        xy: spots [n, 2], (x, y) in FFT pixels relative to the centre.

    Returns:
        (shortest spot, the shortest one not collinear with it), each an array (x, y) in FFT
        pixels; None when there is no such pair.
    """
    xy = np.asarray(xy, float).reshape(-1, 2)
    if len(xy) < 2:
        return None
    o = np.argsort(np.hypot(*xy.T))
    v1 = xy[o[0]]
    for k in o[1:]:
        v = xy[k]
        s = abs(v1[0] * v[1] - v1[1] * v[0]) / (np.linalg.norm(v1) * np.linalg.norm(v))
        if s > 0.2:
            return v1, v
    return None
