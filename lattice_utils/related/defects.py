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

ISOLATION = 6.6        # Å: a defect is isolated when no other defect is closer (the document)


def standardise(image: np.ndarray) -> np.ndarray:
    """Per-image zero mean, unit variance (the network's input)."""
    img = np.asarray(image, dtype=np.float32)
    return (img - img.mean()) / max(float(img.std()), 1e-6)


# ------------------------------------------------------------------ detection and its scores

def detect(proba: np.ndarray, px: float, min_area: int = 3) -> pd.DataFrame:
    """Defects from class probabilities [C, H, W]: connected regions of each defect class in the
    arg-max map, at their probability-weighted centroids (Å)."""
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
    """Per point: no defect other than itself closer than ``min_dist`` Å."""
    points = np.asarray(points, float).reshape(-1, 2)
    if len(defects) == 0 or len(points) == 0:
        return np.ones(len(points), bool)
    d, _ = cKDTree(defects).query(points, k=min(2, len(defects)))
    d = d.reshape(len(points), -1)
    nearest_other = np.where(d[:, 0] < 1e-6, d[:, -1] if d.shape[1] > 1 else np.inf, d[:, 0])
    return nearest_other >= min_dist


def cut_windows(image: np.ndarray, centres_A: np.ndarray, px: float, half: int) -> tuple[np.ndarray, np.ndarray]:
    """(windows [n, 2 half + 1, 2 half + 1], kept indices) centred on the nearest pixels."""
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
    refined ``iterations`` times; returns the aligned stack."""
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
    """Mean of the three W-W distances (Å) of the W triangle around the central chalcogen site."""
    g = w_guesses(half, px, A_WSE2 / np.sqrt(3) + 0.3)
    xy = fit_columns(window, g, half=4)
    d = [np.hypot(*(xy[i] - xy[j])) for i, j in ((0, 1), (0, 2), (1, 2))]
    return float(np.mean(d) * px)


def ww_spacings(window: np.ndarray, px: float, half: int, radius: float = 5.0) -> np.ndarray:
    """Every nearest-neighbour W-W distance (Å) among W columns within ``radius`` Å of the centre."""
    xy = fit_columns(window, w_guesses(half, px, radius), half=4)
    xy = xy[np.isfinite(xy).all(1)]
    tree = cKDTree(xy)
    pairs = np.array(sorted(tree.query_pairs(1.2 * A_WSE2 / px)))
    if len(pairs) == 0:
        return np.zeros(0)
    return np.hypot(*(xy[pairs[:, 0]] - xy[pairs[:, 1]]).T) * px


def snr(window: np.ndarray, px: float, half: int) -> float:
    """The document's SNR: mean of a 3 x 3 patch on the W columns / standard deviation of the
    darkest 2.5 % of pixels."""
    g = np.rint(w_guesses(half, px, 4.0)).astype(int)
    sig = np.mean([window[y - 1:y + 2, x - 1:x + 2].mean() for x, y in g])
    dark = window[window <= np.percentile(window, 2.5)]
    return float(sig / max(dark.std(), 1e-12))


def bootstrap(aligned: np.ndarray, measure, m: int, seed: int = 0) -> np.ndarray:
    """``measure`` of the means of ``m`` resamples (with replacement) of an aligned stack."""
    rng = np.random.default_rng(seed)
    n = len(aligned)
    return np.array([measure(aligned[rng.integers(0, n, n)].mean(0)) for _ in range(m)])


def fit_slope(n: np.ndarray, y: np.ndarray) -> float:
    """Slope of log y against log n."""
    ok = np.isfinite(y) & (y > 0)
    return float(np.polyfit(np.log(np.asarray(n)[ok]), np.log(np.asarray(y)[ok]), 1)[0])


# ------------------------------------------------------------------ displacement and strain

def column_displacements(average: np.ndarray, reference: np.ndarray, px: float, half: int,
                         radius: float = 6.0) -> pd.DataFrame:
    """Positions of every W and chalcogen column within ``radius`` Å of the centre, fitted in a
    class average and in the defect-free reference; displacement (Å) with the common
    translation removed (a radial field sums to zero over the symmetric neighbourhood)."""
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
    """Least-squares C (Å^2) of u = C r_hat / r over columns farther than ``r_min`` Å."""
    xy, u = np.asarray(xy, float), np.asarray(u, float)
    r = np.hypot(xy[:, 0], xy[:, 1])
    k = r > r_min
    basis = xy[k] / r[k, None] ** 2          # r_hat / r
    return float((basis * u[k]).sum() / (basis ** 2).sum())


def dilation_map(xy: np.ndarray, u: np.ndarray, extent: float, step: float,
                 smooth: float = 0.6) -> np.ndarray:
    """exx + eyy on a grid over [-extent, extent]^2 (Å): the displacement interpolated (cubic),
    smoothed by ``smooth`` Å (a third of the W-Se spacing, as the document) and differentiated;
    NaN outside the columns' hull."""
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
