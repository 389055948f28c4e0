"""Notebook 16: a simulated monolayer 2H-WSe2(1-x)Te2x specimen with chalcogen-site defects
(2Te, SeTe, SV, DV), each with a known displacement field, imaged in the convolution
approximation; detection-matching metrics; class averaging of isolated defects.

The ground truth displacement around a defect is radial, u_r(r) = C / r (the 2D Eshelby field
of a point inclusion) with C set so the three nearest W-W spacings change by the class's strain;
single vacancies carry in addition a damped oscillation, which an Eshelby fit cannot follow (the
document's finding)."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy import ndimage
from scipy.spatial import cKDTree

from .columns import Z_POWER, Probe, check_positions, fit_columns, render_columns

A_WSE2 = 3.30          # Å, the document's W-W spacing (330 pm)
PIXEL = 0.2074         # Å per pixel, the document's sampling (20.74 pm)
CONTENTS = ("2Se", "2Te", "SeTe", "SV", "DV")    # chalcogen-column contents; 2Se: no defect
DEFECTS = CONTENTS[1:]
COLUMN_Z = {"2Se": (34, 34), "2Te": (52, 52), "SeTe": (34, 52), "SV": (34,), "DV": ()}
W_Z = 74
# nearest W-W strain around each defect: the document's class averages (Fig. 3d)
STRAIN = {"2Se": 0.0, "2Te": 0.012, "SeTe": 0.006, "SV": -0.048, "DV": -0.08}
ISOLATION = 6.6        # Å: a defect is isolated when no other defect is closer (the document)


@dataclass(frozen=True)
class FieldModel:
    """u_r(r) = C/r [1 + beta cos(2 pi (r - r1) / wavelength) exp(-(r - r1) / decay)] / (1 + beta),
    r1 = a / sqrt(3) the distance of the nearest W from a chalcogen site."""
    strain: float
    beta: float = 0.0
    wavelength: float = A_WSE2
    decay: float = 4.0

    @property
    def C(self) -> float:                      # Å^2: W at r1 = a/sqrt(3) moves by strain * r1
        return self.strain * A_WSE2 ** 2 / 3

    def radial(self, r: np.ndarray) -> np.ndarray:
        r = np.asarray(r, dtype=float)
        r1 = A_WSE2 / np.sqrt(3)
        rr = np.maximum(r, 1e-9)
        # normalised so that the nearest W (r = r1) moves by exactly strain * r1
        out = self.C / rr * (1 + self.beta * np.cos(2 * np.pi * (rr - r1) / self.wavelength)
                             * np.exp(-np.maximum(rr - r1, 0) / self.decay)) / (1 + self.beta)
        return np.where(r < 0.5, self.C * r / 0.25, out)      # a linear core, never used by a site


FIELDS = {c: FieldModel(STRAIN[c], beta=(0.6 if c == "SV" else 0.0)) for c in CONTENTS}


@dataclass(frozen=True)
class Conditions:
    """Acquisition: Poisson noise at ``dose`` counts on a W column, scan jitter (px, per row),
    low-frequency contamination (share of the W peak), Gaussian read noise (counts)."""
    dose: float = 60.0
    jitter_px: float = 0.3
    contamination: float = 0.3
    contamination_scale: float = 8.0     # Å
    read_noise: float = 1.0
    probe: Probe = field(default_factory=Probe)


@dataclass
class Specimen:
    px: float
    shape: tuple
    w_ideal: np.ndarray          # [nw, 2] Å
    x_ideal: np.ndarray          # [nx, 2] Å, chalcogen sites
    content: np.ndarray          # [nx] index into CONTENTS
    w_xy: np.ndarray             # displaced
    x_xy: np.ndarray

    @property
    def defect_sites(self) -> pd.DataFrame:
        k = np.flatnonzero(self.content > 0)
        return pd.DataFrame({"x": self.x_xy[k, 0], "y": self.x_xy[k, 1], "site": k,
                             "class": [CONTENTS[c] for c in self.content[k]]})


def draw_contents(n: int, rng: np.random.Generator, te_fraction: float = 0.06,
                  sv: float = 0.027, dv: float = 0.003) -> np.ndarray:
    """Chalcogen columns: vacancies first (3 % of sites in the document), then each of the two
    atoms of a full column is Te with probability x (x = 0.06 in the document)."""
    u = rng.random(n)
    te = (rng.random((n, 2)) < te_fraction).sum(1)
    out = np.select([te == 2, te == 1], [1, 2], 0)
    out = np.where(u < sv + dv, 3, out)
    return np.where(u < dv, 4, out)


def _hex_sites(size_A: tuple, a: float, origin) -> tuple[np.ndarray, np.ndarray]:
    a1, a2 = np.array([a, 0.0]), np.array([a / 2, a * np.sqrt(3) / 2])
    H, W = size_A
    nj = int(H / a2[1]) + 3
    ni = int(W / a) + nj + 3
    i, j = np.meshgrid(np.arange(-nj - 2, ni), np.arange(-2, nj), indexing="ij")
    w = np.asarray(origin) + i.ravel()[:, None] * a1 + j.ravel()[:, None] * a2
    x = w + (a1 + a2) / 3
    inside = lambda p: (p[:, 0] > -2) & (p[:, 0] < W + 2) & (p[:, 1] > -2) & (p[:, 1] < H + 2)
    return w[inside(w)], x[inside(x)]


def displace(points: np.ndarray, centres: np.ndarray, classes, cutoff: float = 12.0) -> np.ndarray:
    """Displacement [n, 2] at ``points`` from the radial fields of defects at ``centres``."""
    out = np.zeros_like(points, dtype=float)
    if len(centres) == 0:
        return out
    tree = cKDTree(points)
    for c in DEFECTS:
        sel = np.asarray(classes) == c
        if not sel.any():
            continue
        lists = tree.query_ball_point(centres[sel], cutoff)
        src = np.repeat(np.flatnonzero(sel), [len(x) for x in lists])
        dst = np.concatenate([np.asarray(x, dtype=int) for x in lists])
        d = points[dst] - centres[src]
        r = np.hypot(d[:, 0], d[:, 1])
        keep = r > 1e-6
        d, r, dst = d[keep], r[keep], dst[keep]
        np.add.at(out, dst, d / r[:, None] * FIELDS[c].radial(r)[:, None])
    return out


def make_specimen(shape=(512, 512), px: float = PIXEL, seed: int = 0, te_fraction: float = 0.06,
                  sv: float = 0.027, dv: float = 0.003, a: float = A_WSE2) -> Specimen:
    rng = np.random.default_rng(seed)
    size = (shape[0] * px, shape[1] * px)
    w, x = _hex_sites(size, a, rng.random(2) * a)
    content = draw_contents(len(x), rng, te_fraction, sv, dv)
    k = np.flatnonzero(content > 0)
    classes = [CONTENTS[c] for c in content[k]]
    return Specimen(px, tuple(shape), w, x, content, w + displace(w, x[k], classes),
                    x + displace(x, x[k], classes))


def column_weights(content: np.ndarray) -> np.ndarray:
    return np.array([sum(z ** Z_POWER for z in COLUMN_Z[CONTENTS[c]]) for c in content])


def clean_image(spec: Specimen, probe: Probe = Probe()) -> np.ndarray:
    """Noise-free image, scaled so an isolated W column peaks at 1."""
    xy = np.concatenate([spec.w_xy, spec.x_xy])
    w = np.concatenate([np.full(len(spec.w_xy), W_Z ** Z_POWER), column_weights(spec.content)])
    return render_columns(xy, w / W_Z ** Z_POWER, spec.shape, spec.px, probe)


def acquire(spec: Specimen, cond: Conditions = Conditions(), seed: int = 0) -> np.ndarray:
    """The image as recorded: jitter, contamination, Poisson and read noise (counts, float32)."""
    rng = np.random.default_rng(seed)
    img = clean_image(spec, cond.probe)
    if cond.jitter_px > 0:
        cols = np.arange(img.shape[1], dtype=float)
        shifts = rng.normal(0, cond.jitter_px, img.shape[0])
        img = np.array([np.interp(cols + s, cols, row) for row, s in zip(img, shifts)])
    if cond.contamination > 0:
        blob = ndimage.gaussian_filter(rng.normal(size=img.shape), cond.contamination_scale / spec.px)
        blob = (blob - blob.min()) / max(blob.max() - blob.min(), 1e-12)
        img = img + cond.contamination * blob
    counts = rng.poisson(np.clip(img, 0, None) * cond.dose).astype(np.float32)
    return counts + rng.normal(0, cond.read_noise, img.shape).astype(np.float32)


def label_map(spec: Specimen, radius: float = 0.45) -> np.ndarray:
    """int64 [H, W]: the defect class (1-4) in a disk around each defect site, 0 elsewhere."""
    H, W = spec.shape
    lab = np.zeros((H, W), dtype=np.int64)
    R = int(np.ceil(radius / spec.px))
    off = np.arange(-R, R + 1)
    for k in np.flatnonzero(spec.content > 0):
        x, y = spec.x_xy[k] / spec.px
        ix = np.rint(x).astype(int) + off
        iy = np.rint(y).astype(int) + off
        X, Y = np.meshgrid(ix, iy)
        ok = (np.hypot(X - x, Y - y) <= radius / spec.px) & (X >= 0) & (X < W) & (Y >= 0) & (Y < H)
        lab[Y[ok], X[ok]] = spec.content[k]
    return lab


def standardise(image: np.ndarray) -> np.ndarray:
    """Per-image zero mean, unit variance (the network's input)."""
    img = np.asarray(image, dtype=np.float32)
    return (img - img.mean()) / max(float(img.std()), 1e-6)


def training_set(n: int, size: int, seed: int, cond: Conditions = Conditions(),
                 defect_rate: float = 0.03) -> tuple[np.ndarray, np.ndarray]:
    """(images [n, 1, size, size] float32, labels [n, size, size]) of small random specimens.
    Each defect class is drawn at ``defect_rate`` of the sites so that rare classes are seen;
    the dose, jitter, contamination and pixel size vary around ``cond`` (as the document's
    training recipe)."""
    rng = np.random.default_rng(seed)
    X = np.empty((n, 1, size, size), np.float32)
    Y = np.empty((n, size, size), np.int64)
    for k in range(n):
        s = int(rng.integers(1 << 31))
        px = PIXEL * rng.uniform(0.93, 1.07)
        spec = make_specimen((size, size), px, s, te_fraction=np.sqrt(defect_rate / 2) * 1.2,
                             sv=defect_rate, dv=defect_rate)
        c = Conditions(dose=cond.dose * rng.uniform(0.5, 2.0), jitter_px=cond.jitter_px * rng.uniform(0, 2),
                       contamination=cond.contamination * rng.uniform(0, 2), read_noise=cond.read_noise,
                       probe=cond.probe)
        X[k, 0] = standardise(acquire(spec, c, s + 1))
        Y[k] = label_map(spec)
    return X, Y


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


def score_detections(found: pd.DataFrame, spec: Specimen, tol: float = 1.5,
                     margin: float = 3.0) -> pd.DataFrame:
    """Per defect class: TP, FP, FN, TN counted over chalcogen sites (the document's units),
    a hit within ``tol`` Å; precision, recall (true-positive rate), balanced accuracy, F1.
    Sites within ``margin`` Å of the image edge are left out."""
    H, W = spec.shape[0] * spec.px, spec.shape[1] * spec.px
    xy = spec.x_xy
    inner = (xy[:, 0] > margin) & (xy[:, 0] < W - margin) & (xy[:, 1] > margin) & (xy[:, 1] < H - margin)
    tree = cKDTree(xy)
    if len(found):
        d, site = tree.query(found[["x", "y"]].to_numpy())
    else:
        d, site = np.zeros(0), np.zeros(0, dtype=int)
    rows = []
    for ci, c in enumerate(CONTENTS[1:], start=1):
        sel = (found["class"].to_numpy() == c) if len(found) else np.zeros(0, bool)
        hit_sites = site[sel & (d < tol)]
        hit_sites = hit_sites[inner[hit_sites]]
        called = np.zeros(len(xy), bool)
        called[hit_sites] = True
        fp_far = int((sel & (d >= tol) & inner[site] if len(found) else sel).sum())
        truth = (spec.content == ci) & inner
        tp = int((called & truth).sum())
        fp = int((called & ~truth & inner).sum()) + fp_far
        fn = int((truth & ~called).sum())
        tn = int(inner.sum()) - tp - fp - fn
        prec = tp / (tp + fp) if tp + fp else float("nan")
        rec = tp / (tp + fn) if tp + fn else float("nan")
        tnr = tn / (tn + fp) if tn + fp else float("nan")
        rows.append({"class": c, "true": int(truth.sum()), "TP": tp, "FP": fp, "FN": fn, "TN": tn,
                     "precision": prec, "recall": rec, "balanced accuracy": (rec + tnr) / 2,
                     "F1": 2 * prec * rec / (prec + rec) if prec + rec else float("nan")})
    return pd.DataFrame(rows)


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
    w, x = _hex_sites((40 * a, 40 * a), a, (0.0, 0.0))
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


def true_displacements(xy: np.ndarray, cls: str) -> np.ndarray:
    """Ground-truth displacement (Å) at positions ``xy`` (Å, relative to the defect)."""
    xy, _ = check_positions(xy)
    r = np.hypot(xy[:, 0], xy[:, 1])
    return xy / np.maximum(r, 1e-9)[:, None] * FIELDS[cls].radial(r)[:, None]


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
