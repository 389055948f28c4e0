"""The analysis of notebook 16 (the defect class-averaging paper), free of the simulation: defects found
in a network's class probabilities, isolated defects cut out and registered into class averages,
W-W spacings and SNR measured on them, and the displacement field fitted by a 2D Eshelby model.
The specimen it is tried on, with its ground truth, is ``defect_specimen``."""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
from scipy import ndimage
from scipy.spatial import cKDTree

from ..simulate.columns import fit_columns
from .wse2 import A_WSE2, CONTENTS, hex_sites

__all__ = ["ISOLATION", "standardise", "detect", "isolated", "cut_windows", "align", "nearest_ww_spacing",
           "ww_spacings", "snr", "bootstrap", "fit_slope", "column_displacements", "fit_eshelby", "dilation_map"]

ISOLATION = 6.6        # Å: a defect is isolated when no other defect is closer (the document)


def standardise(image: np.ndarray) -> np.ndarray:
    """Per-image zero mean, unit variance (the network's input).

    Args:
        image: an image, any shape (counts).

    Returns:
        float32 array of the same shape, zero mean and unit standard deviation (a flat image is
        only centred).
    """
    img = np.asarray(image, dtype=np.float32)
    return (img - img.mean()) / max(float(img.std()), 1e-6)


# ------------------------------------------------------------------ detection and its scores

def detect(proba: np.ndarray, px: float, min_area: int = 3) -> pd.DataFrame:
    """Defects from class probabilities [C, H, W]: connected regions of each defect class in the
    arg-max map, at their probability-weighted centroids (Å).

    Args:
        proba: class probabilities [C, H, W], C = len(``CONTENTS``) in its order.
        px: pixel size (Å per pixel).
        min_area: smallest region kept (pixels).

    Returns:
        DataFrame, one row per defect: ``x``, ``y`` (Å), ``class`` (name) and ``score`` (the mean
        probability of the class over the region).

    Raises:
        ValueError: ``proba`` is not [len(CONTENTS), H, W].
    """
    proba = np.asarray(proba)
    if proba.ndim != 3 or proba.shape[0] != len(CONTENTS):
        raise ValueError(f"expected probabilities of shape [{len(CONTENTS)}, H, W], got {proba.shape}")
    arg = proba.argmax(0)
    rows = []
    for c in range(1, len(CONTENTS)):
        lab, n = ndimage.label(arg == c)
        if n == 0:
            continue
        idx = np.arange(1, n + 1)
        area = ndimage.sum(np.ones_like(lab), lab, idx)
        cy, cx = np.array(ndimage.center_of_mass(proba[c], lab, idx)).reshape(-1, 2).T
        score = ndimage.mean(proba[c], lab, idx)
        for a_, x, y, s in zip(area, cx, cy, score):
            if a_ >= min_area:
                rows.append({"x": x * px, "y": y * px, "class": CONTENTS[c], "score": float(s)})
    return pd.DataFrame(rows, columns=["x", "y", "class", "score"])


# ------------------------------------------------------------------ class averaging

def isolated(points: np.ndarray, defects: np.ndarray, min_dist: float = ISOLATION) -> np.ndarray:
    """Per point: no defect other than itself closer than ``min_dist`` Å.

    A defect within 1e-6 Å of the point is taken to be the point itself.

    Args:
        points: positions [n, 2], (x, y) in Å.
        defects: defect positions [m, 2], (x, y) in Å.
        min_dist: isolation distance (Å).

    Returns:
        bool array [n], True where the point is isolated.
    """
    points = np.asarray(points, float).reshape(-1, 2)
    if len(defects) == 0 or len(points) == 0:
        return np.ones(len(points), bool)
    d, _ = cKDTree(defects).query(points, k=min(2, len(defects)))
    d = d.reshape(len(points), -1)
    nearest_other = np.where(d[:, 0] < 1e-6, d[:, -1] if d.shape[1] > 1 else np.inf, d[:, 0])
    return nearest_other >= min_dist


def cut_windows(image: np.ndarray, centres_A: np.ndarray, px: float, half: int) -> tuple[np.ndarray, np.ndarray]:
    """(windows [n, 2 half + 1, 2 half + 1], kept indices) centred on the nearest pixels.

    Centres whose window would leave the image are dropped.

    Args:
        image: the image [H, W].
        centres_A: window centres [n, 2], (x, y) in Å.
        px: pixel size (Å per pixel).
        half: window half-width (pixels).

    Returns:
        (float32 windows [k, 2 half + 1, 2 half + 1], int array [k] of the kept centres' indices).
    """
    H, W = image.shape
    out, kept = [], []
    for k, (x, y) in enumerate(np.asarray(centres_A).reshape(-1, 2) / px):
        cx, cy = int(round(x)), int(round(y))
        if half <= cx < W - half and half <= cy < H - half:
            out.append(image[cy - half:cy + half + 1, cx - half:cx + half + 1])
            kept.append(k)
    size = 2 * half + 1
    return np.array(out, dtype=np.float32).reshape(-1, size, size), np.array(kept, dtype=int)


def align(stack: np.ndarray, iterations: int = 2, upsample: int = 20) -> np.ndarray:
    """Rigid registration: each window shifted (sub-pixel, Fourier) onto the stack's mean,
    refined ``iterations`` times; returns the aligned stack.

    The Fourier shift is circular: what leaves one edge of a window enters at the opposite one.

    Args:
        stack: windows [n, h, w].
        iterations: number of registrations against the updated mean.
        upsample: upsampling factor of the cross-correlation (precision 1 / ``upsample`` pixel).

    Returns:
        float64 array [n, h, w], the aligned windows.

    Raises:
        ValueError: ``stack`` is not a non-empty [n, h, w] array.
    """
    from skimage.registration import phase_cross_correlation
    stack = np.asarray(stack, dtype=np.float64)
    if stack.ndim != 3 or len(stack) == 0:
        raise ValueError(f"expected a non-empty stack [n, h, w], got shape {stack.shape}")
    aligned = stack.copy()
    for _ in range(iterations):
        ref = aligned.mean(0)
        for k in range(len(stack)):
            shift, _, _ = phase_cross_correlation(ref, stack[k], upsample_factor=upsample,
                                                  normalization=None)
            aligned[k] = np.real(np.fft.ifft2(ndimage.fourier_shift(np.fft.fft2(stack[k]), shift)))
    return aligned


@lru_cache(maxsize=4)
def _local_sites(a: float) -> tuple[np.ndarray, np.ndarray]:
    """W and chalcogen sites (Å) relative to one chalcogen site at the origin."""
    w, x = hex_sites((40 * a, 40 * a), a, (0.0, 0.0))
    centre = x[np.argmin(np.hypot(*(x - 20 * a).T))]
    w, x = w - centre, x - centre
    w.setflags(write=False)          # shared by every caller (cached)
    x.setflags(write=False)
    return w, x


def _in_window(sites: np.ndarray, half: int, px: float, radius: float) -> np.ndarray:
    """Sites (Å from the centre) within ``radius`` Å, the centre itself left out, as window pixels."""
    r = np.hypot(sites[:, 0], sites[:, 1])
    return sites[(r < radius) & (r > 0.1)] / px + half


def w_guesses(half: int, px: float, radius: float, a: float = A_WSE2) -> np.ndarray:
    """Ideal W positions (pixels, window frame) within ``radius`` Å of a chalcogen site at the
    window centre."""
    return _in_window(_local_sites(a)[0], half, px, radius)


def chalcogen_guesses(half: int, px: float, radius: float, a: float = A_WSE2) -> np.ndarray:
    """Ideal chalcogen positions around the central one (which a vacancy may leave empty)."""
    return _in_window(_local_sites(a)[1], half, px, radius)


def nearest_ww_spacing(window: np.ndarray, px: float, half: int) -> float:
    """Mean of the three W-W distances (Å) of the W triangle around the central chalcogen site.

    The W columns are fitted with 2D Gaussians from their ideal positions.

    Args:
        window: an image [2 half + 1, 2 half + 1] centred on a chalcogen site (a class average).
        px: pixel size (Å per pixel).
        half: window half-width (pixels).

    Returns:
        The mean W-W spacing (Å); NaN when a column fit leaves the window.
    """
    g = w_guesses(half, px, A_WSE2 / np.sqrt(3) + 0.3)
    xy = fit_columns(window, g, half=4)
    d = [np.hypot(*(xy[i] - xy[j])) for i, j in ((0, 1), (0, 2), (1, 2))]
    return float(np.mean(d) * px)


def ww_spacings(window: np.ndarray, px: float, half: int, radius: float = 5.0) -> np.ndarray:
    """Every nearest-neighbour W-W distance (Å) among W columns within ``radius`` Å of the centre.

    Neighbours are pairs of fitted columns closer than 1.2 ``A_WSE2``.

    Args:
        window: an image [2 half + 1, 2 half + 1] centred on a chalcogen site.
        px: pixel size (Å per pixel).
        half: window half-width (pixels).
        radius: radius around the centre whose W columns are fitted (Å).

    Returns:
        float array of the distances (Å), empty when no pair is found.
    """
    xy = fit_columns(window, w_guesses(half, px, radius), half=4)
    xy = xy[np.isfinite(xy).all(1)]
    tree = cKDTree(xy)
    pairs = np.array(sorted(tree.query_pairs(1.2 * A_WSE2 / px)))
    if len(pairs) == 0:
        return np.zeros(0)
    return np.hypot(*(xy[pairs[:, 0]] - xy[pairs[:, 1]]).T) * px


def snr(window: np.ndarray, px: float, half: int) -> float:
    """The document's SNR: mean of a 3 x 3 patch on the W columns / standard deviation of the
    darkest 2.5 % of pixels.

    The W columns are the ideal sites within 4 Å of the centre.

    Args:
        window: an image [2 half + 1, 2 half + 1] centred on a chalcogen site.
        px: pixel size (Å per pixel).
        half: window half-width (pixels).

    Returns:
        The SNR (dimensionless).
    """
    g = np.rint(w_guesses(half, px, 4.0)).astype(int)
    sig = np.mean([window[y - 1:y + 2, x - 1:x + 2].mean() for x, y in g])
    dark = window[window <= np.percentile(window, 2.5)]
    return float(sig / max(dark.std(), 1e-12))


def bootstrap(aligned: np.ndarray, measure, m: int, seed: int = 0) -> np.ndarray:
    """``measure`` of the means of ``m`` resamples (with replacement) of an aligned stack.

    Args:
        aligned: aligned windows [n, h, w].
        measure: function of one mean window [h, w] returning a number.
        m: number of resamples.
        seed: seed of the resampling.

    Returns:
        array [m] of ``measure`` of each resample's mean.
    """
    rng = np.random.default_rng(seed)
    n = len(aligned)
    return np.array([measure(aligned[rng.integers(0, n, n)].mean(0)) for _ in range(m)])


def fit_slope(n: np.ndarray, y: np.ndarray) -> float:
    """Slope of log y against log n.

    Points where ``y`` is not finite or not positive are left out.

    Args:
        n: the abscissae (e.g. stack sizes), positive.
        y: the values, same length.

    Returns:
        The least-squares slope of log y on log n (the exponent of a power law).
    """
    ok = np.isfinite(y) & (y > 0)
    return float(np.polyfit(np.log(np.asarray(n)[ok]), np.log(np.asarray(y)[ok]), 1)[0])


# ------------------------------------------------------------------ displacement and strain

def column_displacements(average: np.ndarray, reference: np.ndarray, px: float, half: int,
                         radius: float = 6.0) -> pd.DataFrame:
    """Positions of every W and chalcogen column within ``radius`` Å of the centre, fitted in a
    class average and in the defect-free reference; displacement (Å) with the common
    translation removed (a radial field sums to zero over the symmetric neighbourhood).

    Args:
        average: the class average [2 half + 1, 2 half + 1], centred on the defect's site.
        reference: the defect-free (2Se) average, same shape.
        px: pixel size (Å per pixel).
        half: window half-width (pixels).
        radius: radius around the centre whose columns are fitted (Å).

    Returns:
        DataFrame, one row per column fitted in both: ``kind`` ("W" or "X", chalcogen), ``x``,
        ``y`` (reference position relative to the centre, Å), ``ux``, ``uy`` (displacement, Å).
    """
    rows = []
    for kind, g in (("W", w_guesses(half, px, radius)), ("X", chalcogen_guesses(half, px, radius))):
        pa, pr = fit_columns(average, g, 4), fit_columns(reference, g, 4)
        for (xa, ya), (xr, yr) in zip(pa, pr):
            rows.append({"kind": kind, "x": (xr - half) * px, "y": (yr - half) * px,
                         "ux": (xa - xr) * px, "uy": (ya - yr) * px})
    df = pd.DataFrame(rows).dropna()
    df[["ux", "uy"]] -= df[["ux", "uy"]].mean()
    return df.reset_index(drop=True)


def fit_eshelby(xy: np.ndarray, u: np.ndarray, r_min: float = 1.5) -> float:
    """Least-squares C (Å^2) of u = C r_hat / r over columns farther than ``r_min`` Å.

    The 2D Eshelby field of a point inclusion; C > 0 pushes the columns outwards.

    Args:
        xy: column positions [n, 2] relative to the defect (Å).
        u: their displacements [n, 2] (Å).
        r_min: columns this close to the defect or closer are left out (Å).

    Returns:
        C (Å^2).
    """
    xy, u = np.asarray(xy, float), np.asarray(u, float)
    r = np.hypot(xy[:, 0], xy[:, 1])
    k = r > r_min
    basis = xy[k] / r[k, None] ** 2          # r_hat / r
    return float((basis * u[k]).sum() / (basis ** 2).sum())


def dilation_map(xy: np.ndarray, u: np.ndarray, extent: float, step: float,
                 smooth: float = 0.6) -> np.ndarray:
    """exx + eyy on a grid over [-extent, extent]^2 (Å): the displacement interpolated (cubic),
    smoothed by ``smooth`` Å (a third of the W-Se spacing, as the document) and differentiated;
    NaN outside the columns' hull.

    Args:
        xy: column positions [n, 2] relative to the defect (Å).
        u: their displacements [n, 2] (Å).
        extent: half-width of the grid (Å).
        step: grid spacing (Å).
        smooth: standard deviation of the Gaussian smoothing (Å).

    Returns:
        float array [m, m] of the dilation exx + eyy (dimensionless), rows along y and columns
        along x, m = len(arange(-extent, extent + step / 2, step)).
    """
    from scipy.interpolate import griddata
    g = np.arange(-extent, extent + step / 2, step)
    X, Y = np.meshgrid(g, g)
    out = []
    for comp in (0, 1):
        f = griddata(xy, u[:, comp], (X, Y), method="cubic")
        mask = np.isnan(f)
        f = ndimage.gaussian_filter(np.nan_to_num(f), smooth / step)
        w = ndimage.gaussian_filter((~mask).astype(float), smooth / step)
        f = np.where(mask, np.nan, f / np.maximum(w, 1e-9))
        out.append(f)
    exx = np.gradient(out[0], step, axis=1)
    eyy = np.gradient(out[1], step, axis=0)
    return exx + eyy
