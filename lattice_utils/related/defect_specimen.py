"""The specimen of notebook 16 (the defect class-averaging paper): a simulated monolayer
2H-WSe2(1-x)Te2x with chalcogen-site defects (2Te, SeTe, SV, DV), each with a known displacement
field, imaged in the convolution approximation; its ground truth, and the score of a list of
detections against it. The analysis (detection, class averaging, displacements) is ``defects``.

The ground truth displacement around a defect is radial, u_r(r) = C / r (the 2D Eshelby field
of a point inclusion) with C set so the three nearest W-W spacings change by the class's strain;
single vacancies carry in addition a damped oscillation, which an Eshelby fit cannot follow (the
document's finding)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import ndimage
from scipy.spatial import cKDTree

from ..simulate.columns import Z_POWER, Probe, check_positions, render_columns
from .wse2 import A_WSE2, CONTENTS, DEFECTS, hex_sites

__all__ = ["PIXEL", "STRAIN", "FieldModel", "FIELDS", "Conditions", "Specimen", "draw_contents", "displace",
           "make_specimen", "clean_image", "acquire", "label_map", "score_detections", "true_displacements"]

PIXEL = 0.2074         # Å per pixel, the document's sampling (20.74 pm)
# atomic numbers of the atoms in a chalcogen column of each content, and of a W column
COLUMN_Z = {"2Se": (34, 34), "2Te": (52, 52), "SeTe": (34, 52), "SV": (34,), "DV": ()}
W_Z = 74
# nearest W-W strain around each defect: the document's class averages (Fig. 3d)
STRAIN = {"2Se": 0.0, "2Te": 0.012, "SeTe": 0.006, "SV": -0.048, "DV": -0.08}


@dataclass(frozen=True)
class FieldModel:
    """The radial displacement field around a defect on a chalcogen site:
    u_r(r) = C/r [1 + beta cos(2 pi (r - r1) / wavelength) exp(-(r - r1) / decay)] / (1 + beta),
    r1 = a / sqrt(3) the distance of the nearest W from a chalcogen site.

    Attributes:
        strain: relative change of the three nearest W-W spacings (0.012: +1.2 %; negative: they
            shrink).
        beta: relative amplitude of the damped oscillation (0: the pure Eshelby field C / r).
        wavelength: wavelength of the oscillation (Å).
        decay: decay length of the oscillation (Å).
    """
    strain: float
    beta: float = 0.0
    wavelength: float = A_WSE2
    decay: float = 4.0

    @property
    def C(self) -> float:                      # Å^2: W at r1 = a/sqrt(3) moves by strain * r1
        """The field's strength C (Å^2): the nearest W, at r1 = a / sqrt(3), moves by strain * r1."""
        return self.strain * A_WSE2 ** 2 / 3

    def radial(self, r: np.ndarray) -> np.ndarray:
        """Radial displacement u_r (Å, positive outwards) at distances ``r`` (Å) from the defect.

        Below 0.5 Å the field is a linear core (no lattice site lies there).

        Args:
            r: distances from the defect (Å), any shape.

        Returns:
            u_r (Å), the shape of ``r``.
        """
        r = np.asarray(r, dtype=float)
        r1 = A_WSE2 / np.sqrt(3)
        rr = np.maximum(r, 1e-9)
        # normalised so that the nearest W (r = r1) moves by exactly strain * r1
        out = self.C / rr * (1 + self.beta * np.cos(2 * np.pi * (rr - r1) / self.wavelength)
                             * np.exp(-np.maximum(rr - r1, 0) / self.decay)) / (1 + self.beta)
        return np.where(r < 0.5, self.C * r / 0.25, out)      # a linear core, never used by a site


# the field of each chalcogen-column content (single vacancies oscillate, beta = 0.6)
FIELDS = {c: FieldModel(STRAIN[c], beta=(0.6 if c == "SV" else 0.0)) for c in CONTENTS}


@dataclass(frozen=True)
class Conditions:
    """Acquisition: Poisson noise at ``dose`` counts on a W column, scan jitter (px, per row),
    low-frequency contamination (share of the W peak), Gaussian read noise (counts).

    Attributes:
        dose: counts at the peak of a W column (the clean image's W peak is 1).
        jitter_px: standard deviation of each scan row's horizontal shift (pixels).
        contamination: largest height of the added low-frequency background, as a share of the W
            peak.
        contamination_scale: Gaussian smoothing length of the contamination (Å).
        read_noise: standard deviation of the Gaussian read noise (counts).
        probe: the probe the columns are imaged with (sizes in Å).
    """
    dose: float = 60.0
    jitter_px: float = 0.3
    contamination: float = 0.3
    contamination_scale: float = 8.0     # Å
    read_noise: float = 1.0
    probe: Probe = field(default_factory=Probe)


@dataclass
class Specimen:
    """A simulated WSe2(1-x)Te2x field and its ground truth.

    Attributes:
        px: pixel size (Å per pixel).
        shape: image size (H, W) in pixels.
        w_ideal: ideal W sites [n_w, 2], (x, y) in Å.
        x_ideal: ideal chalcogen sites [n_x, 2], (x, y) in Å.
        content: int [n_x], each chalcogen column's content as an index into ``CONTENTS``.
        w_xy: displaced W positions [n_w, 2] (Å).
        x_xy: displaced chalcogen positions [n_x, 2] (Å).
    """
    px: float
    shape: tuple
    w_ideal: np.ndarray          # [nw, 2] Å
    x_ideal: np.ndarray          # [nx, 2] Å, chalcogen sites
    content: np.ndarray          # [nx] index into CONTENTS
    w_xy: np.ndarray             # displaced
    x_xy: np.ndarray

    @property
    def defect_sites(self) -> pd.DataFrame:
        """The defects: displaced position ``x``, ``y`` (Å), chalcogen ``site`` index and ``class``."""
        k = np.flatnonzero(self.content > 0)
        return pd.DataFrame({"x": self.x_xy[k, 0], "y": self.x_xy[k, 1], "site": k,
                             "class": [CONTENTS[c] for c in self.content[k]]})


def draw_contents(n: int, rng: np.random.Generator, te_fraction: float = 0.06,
                  sv: float = 0.027, dv: float = 0.003) -> np.ndarray:
    """Chalcogen columns: vacancies first (3 % of sites in the document), then each of the two
    atoms of a full column is Te with probability x (x = 0.06 in the document).

    Args:
        n: number of chalcogen columns.
        rng: the random generator drawn from.
        te_fraction: x, the probability that a chalcogen atom is Te.
        sv: share of the sites that are single vacancies.
        dv: share of the sites that are double vacancies.

    Returns:
        int array [n], each column's content as an index into ``CONTENTS`` (0 2Se, 1 2Te, 2 SeTe,
        3 SV, 4 DV).
    """
    u = rng.random(n)
    te = (rng.random((n, 2)) < te_fraction).sum(1)
    out = np.select([te == 2, te == 1], [1, 2], 0)
    out = np.where(u < sv + dv, 3, out)
    return np.where(u < dv, 4, out)


def displace(points: np.ndarray, centres: np.ndarray, classes, cutoff: float = 12.0) -> np.ndarray:
    """Displacement [n, 2] at ``points`` from the radial fields of defects at ``centres``.

    The fields (``FIELDS``) of all defects within ``cutoff`` of a point add up; a point on a
    defect's own site is not moved by it.

    Args:
        points: positions [n, 2], (x, y) in Å.
        centres: defect positions [m, 2], (x, y) in Å.
        classes: the m defects' classes (names from ``DEFECTS``).
        cutoff: range of each field (Å).

    Returns:
        float array [n, 2], the displacement (Å) of each point.
    """
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
    """A random WSe2(1-x)Te2x field: the lattice at a random origin, column contents drawn by
    ``draw_contents`` and every site displaced by the defects' fields.

    Args:
        shape: image size (H, W) in pixels.
        px: pixel size (Å per pixel).
        seed: seed of the random draws.
        te_fraction: x, the probability that a chalcogen atom is Te.
        sv: share of the sites that are single vacancies.
        dv: share of the sites that are double vacancies.
        a: W-W spacing (Å).

    Returns:
        The ``Specimen``.
    """
    rng = np.random.default_rng(seed)
    size = (shape[0] * px, shape[1] * px)
    w, x = hex_sites(size, a, rng.random(2) * a)
    content = draw_contents(len(x), rng, te_fraction, sv, dv)
    k = np.flatnonzero(content > 0)
    classes = [CONTENTS[c] for c in content[k]]
    return Specimen(px, tuple(shape), w, x, content, w + displace(w, x[k], classes),
                    x + displace(x, x[k], classes))


def column_weights(content: np.ndarray) -> np.ndarray:
    return np.array([sum(z ** Z_POWER for z in COLUMN_Z[CONTENTS[c]]) for c in content])


def clean_image(spec: Specimen, probe: Probe = Probe()) -> np.ndarray:
    """Noise-free image, scaled so an isolated W column peaks at 1.

    Columns weigh the sum of Z^1.7 of their atoms (relative to a W column), in the convolution
    approximation with ``probe``.

    Args:
        spec: the specimen.
        probe: the probe (sizes in Å).

    Returns:
        float64 image [H, W] (the specimen's shape).
    """
    xy = np.concatenate([spec.w_xy, spec.x_xy])
    w = np.concatenate([np.full(len(spec.w_xy), W_Z ** Z_POWER), column_weights(spec.content)])
    return render_columns(xy, w / W_Z ** Z_POWER, spec.shape, spec.px, probe)


def acquire(spec: Specimen, cond: Conditions = Conditions(), seed: int = 0) -> np.ndarray:
    """The image as recorded: jitter, contamination, Poisson and read noise (counts, float32).

    Args:
        spec: the specimen.
        cond: the acquisition conditions.
        seed: seed of the noise.

    Returns:
        float32 image [H, W] in counts (read noise can make a pixel negative).
    """
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
    """int64 [H, W]: the defect class (1-4) in a disk around each defect site, 0 elsewhere.

    The segmentation target of the defect finder.

    Args:
        spec: the specimen.
        radius: radius of each disk (Å), about the displaced site.

    Returns:
        int64 array [H, W] of indices into ``CONTENTS``.
    """
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


def score_detections(found: pd.DataFrame, spec: Specimen, tol: float = 1.5,
                     margin: float = 3.0) -> pd.DataFrame:
    """Per defect class: TP, FP, FN, TN counted over chalcogen sites (the document's units),
    a hit within ``tol`` Å; precision, recall (true-positive rate), balanced accuracy, F1.
    Sites within ``margin`` Å of the image edge are left out.

    A detection is assigned to its nearest chalcogen site; one farther than ``tol`` counts as a
    false positive.

    Args:
        found: detections, columns ``x``, ``y`` (Å) and ``class`` (as ``defects.detect`` gives).
        spec: the specimen with the truth.
        tol: largest distance of a hit from its site (Å).
        margin: width of the left-out border (Å).

    Returns:
        DataFrame, one row per defect class: ``class``, ``true`` (defects of the class), ``TP``,
        ``FP``, ``FN``, ``TN`` (site counts), ``precision``, ``recall``, ``balanced accuracy``,
        ``F1`` (fractions in [0, 1], NaN where undefined).
    """
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


def true_displacements(xy: np.ndarray, cls: str) -> np.ndarray:
    """Ground-truth displacement (Å) at positions ``xy`` (Å, relative to the defect).

    Args:
        xy: positions [n, 2], (x, y) in Å relative to the defect.
        cls: the defect's class (a name in ``CONTENTS``).

    Returns:
        float array [n, 2], the displacement (ux, uy) in Å.

    Raises:
        ValueError: ``xy`` is not [n, 2] or holds NaN or infinite values.
        KeyError: ``cls`` is not a name in ``CONTENTS``.
    """
    xy, _ = check_positions(xy)
    r = np.hypot(xy[:, 0], xy[:, 1])
    return xy / np.maximum(r, 1e-9)[:, None] * FIELDS[cls].radial(r)[:, None]
