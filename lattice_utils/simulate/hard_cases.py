"""Simulated real-image problems with known answers: grain boundaries, dopant clusters, scan
distortion and drift, contamination with a vacuum hole and a slow background, and low dose.

Each case is rendered with the convolution approximation of ``columns`` (an atom's
intensity ~ Z^1.7 through an analytic probe), at the pixel size of a typical atomic-resolution
image, and degraded with ``degrade``. The truth of every grain is the lattice *in the image*
(after any distortion), with its reduced cell, the class of the undistorted material and the
share of the image it covers. Notebook 08 and the tests run the grain analysis on them.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from ..lattice.fft_lattice import STRICT_ANG_TOL, STRICT_LEN_TOL, reciprocal_basis_of
from ..lattice.grains import GRAIN_MATCH_TOL, lattice_mismatch
from ..lattice.lattice2d import CLASS_NAMES, anisotropy, bravais_class_2d, orientation_deg, reduced_cell
from . import degrade
from .columns import Z_POWER, Probe, render_columns

__all__ = ["GRAPHENE", "MOS2", "FESE", "Layer", "HardCase", "layer_columns", "image_lattice", "grain_boundary",
           "dopant_clusters", "scan_distortion", "contamination", "low_dose", "cosine_lattice", "all_cases",
           "SLOW_SCAN", "near_square", "distorted_grains", "one_frame", "reference_and_sample",
           "orthogonal_pair",
           "compare_with_truth"]


@dataclass(frozen=True)
class Layer:
    """A 2D crystal as seen down the beam: two lattice vectors (Å, x y) and the columns of one
    cell (fractional coordinates and the summed Z^1.7 weight of the atoms in the column).

    Attributes:
        name: the material's name.
        a_vec: first lattice vector (Å, (x, y)).
        b_vec: second lattice vector (Å, (x, y)).
        columns: ((fx, fy, weight), ...): fractional coordinates of each column in the cell and
            the summed Z^1.7 of its atoms.
        label: Bravais class (0-4) of the undistorted layer.
    """
    name: str
    a_vec: tuple
    b_vec: tuple
    columns: tuple           # ((fx, fy, weight), ...)
    label: int               # class of the undistorted layer


def _hex(a: float):
    return (a, 0.0), (-a / 2, a * np.sqrt(3) / 2)


GRAPHENE = Layer("graphene", *_hex(2.46), ((1 / 3, 2 / 3, 6 ** Z_POWER), (2 / 3, 1 / 3, 6 ** Z_POWER)), 0)
MOS2 = Layer("MoS2", *_hex(3.16), ((0.0, 0.0, 42 ** Z_POWER), (1 / 3, 2 / 3, 2 * 16 ** Z_POWER)), 0)
# FeSe (a = 3.77 Å) seen down c: the Se above and below the Fe plane fall on one square grid, so
# the lattice of the columns is a / sqrt(2) = 2.666 Å, turned by 45° (Fe at the corners, Se at
# the centre)
FESE = Layer("FeSe (projected)", (3.77 / 2, 3.77 / 2), (-3.77 / 2, 3.77 / 2),
             ((0.0, 0.0, 26 ** Z_POWER), (0.5, 0.5, 2 * 34 ** Z_POWER)), 1)
SI_WEIGHT = 14 ** Z_POWER


@dataclass
class HardCase:
    """A simulated real-image problem and its known answer.

    Attributes:
        name: short name of the case.
        description: what the image shows (material, defects, dose in e/px).
        image: float [y, x] image (intensity normalised to a maximum of 1 before shot noise; NaN
            for dead pixels where the case has them).
        pixel_size: Å per pixel.
        grains: the truth per grain: dict with a, b (Å), gamma (degrees), label (class of the
            undistorted material), class_name, label_strict (class of the cell in the image),
            a_vec, b_vec (Å), orientation_deg, area_share (0-1) and mask (bool [y, x]).
        notes: remarks for people.
        distortion: the 2 x 2 map (x, y) from the sample to the image (scan distortion, drift,
            a pixel-size error), None when the image is undistorted.
    """
    name: str
    description: str
    image: np.ndarray        # float [y, x]
    pixel_size: float        # Å
    grains: list             # truth per grain: dict(a, b, gamma, label, class_name, orientation_deg, area_share, mask)
    notes: list = field(default_factory=list)
    distortion: np.ndarray | None = None


def _rotation(deg: float) -> np.ndarray:
    t = np.radians(deg)
    return np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])


def layer_columns(layer: Layer, extent: tuple, rotation_deg: float = 0.0,
                  origin=(0.0, 0.0)) -> tuple[np.ndarray, np.ndarray]:
    """Column positions (Å, x y) covering a field ``extent`` = (width, height) Å, lattice
    rotated counter-clockwise by ``rotation_deg``, and their weights.

    Columns up to 3 Å beyond the field's edges are included.

    Args:
        layer: the crystal.
        extent: (width, height) of the field (Å).
        rotation_deg: counter-clockwise rotation of the lattice (degrees).
        origin: (x, y) of a lattice point (Å).

    Returns:
        (xy, weights): float [n, 2] positions (Å, x y) and float [n] weights (Z^1.7 sums).
    """
    A = np.array([layer.a_vec, layer.b_vec]) @ _rotation(rotation_deg).T
    w, h = extent
    corners = np.array([[0, 0], [w, 0], [0, h], [w, h]]) - np.asarray(origin)
    frac = corners @ np.linalg.inv(A)
    lo, hi = np.floor(frac.min(axis=0)) - 1, np.ceil(frac.max(axis=0)) + 1
    i, j = np.meshgrid(np.arange(lo[0], hi[0] + 1), np.arange(lo[1], hi[1] + 1), indexing="ij")
    cells = np.stack([i.ravel(), j.ravel()], axis=1)
    xy, wt = [], []
    for fx, fy, weight in layer.columns:
        p = (cells + [fx, fy]) @ A + np.asarray(origin)
        keep = (p[:, 0] > -3) & (p[:, 0] < w + 3) & (p[:, 1] > -3) & (p[:, 1] < h + 3)
        xy.append(p[keep])
        wt.append(np.full(keep.sum(), float(weight)))
    return np.vstack(xy), np.concatenate(wt)


def image_lattice(layer: Layer, rotation_deg: float = 0.0, distortion=np.eye(2)) -> dict:
    """The reduced cell of the layer as it appears in the image: rotated, then distorted by the
    2 x 2 map ``distortion`` (x y).

    Args:
        layer: the crystal.
        rotation_deg: counter-clockwise rotation of the lattice (degrees).
        distortion: 2 x 2 linear map applied to (x, y) after the rotation (identity: none).

    Returns:
        dict: a, b (Å), gamma (degrees) of the reduced cell, label and class_name of the
        undistorted layer, label_strict (``bravais_class_2d`` of the cell in the image, at the
        estimator's tolerance floors), a_vec,
        b_vec (Å, x y) and orientation_deg (degrees).
    """
    A = np.array([layer.a_vec, layer.b_vec]) @ _rotation(rotation_deg).T @ np.asarray(distortion).T
    a, b, gamma, u, v = reduced_cell(A[0], A[1])
    return {"a": a, "b": b, "gamma": gamma, "label": layer.label, "class_name": CLASS_NAMES[layer.label],
            "label_strict": bravais_class_2d(a, b, gamma, STRICT_LEN_TOL, STRICT_ANG_TOL),
            "a_vec": u.tolist(), "b_vec": v.tolist(),
            "orientation_deg": orientation_deg(u, v)}


def _render(xy, weights, shape, px, probe=Probe()) -> np.ndarray:
    img = render_columns(xy, weights, shape, px, probe)
    return img / img.max()


def _truth(layer, rotation, mask, distortion=np.eye(2)) -> dict:
    return {**image_lattice(layer, rotation, distortion), "area_share": float(mask.mean()), "mask": mask}


def grain_boundary(size: int = 512, px: float = 0.1, tilt_deg: float = 9.0, dose: float = 200.0,
                   seed: int = 0) -> HardCase:
    """Two graphene grains, rotated by ``tilt_deg`` against each other, meeting on a slanted line
    (60 / 40 % of the field).

    Args:
        size: image side (px).
        px: pixel size (Å per pixel).
        tilt_deg: misorientation of the two grains (degrees).
        dose: electrons per pixel at the brightest intensity.
        seed: seed of the shot noise.

    Returns:
        The ``HardCase`` with one truth per grain.
    """
    rng = np.random.default_rng(seed)
    extent = (size * px, size * px)
    yy, xx = np.mgrid[:size, :size] * px
    side = (xx - 0.6 * extent[0]) * np.cos(np.radians(15)) + (yy - extent[1] / 2) * np.sin(np.radians(15)) < 0
    parts = []
    for rot, inside in ((3.0, side), (3.0 + tilt_deg, ~side)):
        xy, w = layer_columns(GRAPHENE, extent, rot)
        ix = np.clip((xy[:, 0] / px).astype(int), 0, size - 1)
        iy = np.clip((xy[:, 1] / px).astype(int), 0, size - 1)
        keep = inside[iy, ix]
        parts.append((xy[keep], w[keep]))
    xy = np.vstack([p[0] for p in parts])
    w = np.concatenate([p[1] for p in parts])
    img = degrade.shot_noise(_render(xy, w, (size, size), px), dose, rng)
    return HardCase("grain boundary", f"graphene, two grains {tilt_deg:g}° apart, {dose:g} e/px",
                    img, px, [_truth(GRAPHENE, 3.0, side), _truth(GRAPHENE, 3.0 + tilt_deg, ~side)])


def dopant_clusters(size: int = 512, px: float = 0.1, share: float = 0.04, clusters: int = 6,
                    dose: float = 100.0, seed: int = 1) -> HardCase:
    """Graphene with ``share`` of its carbon replaced by Si (4x brighter) in ``clusters``
    clusters, under shot noise: the bright dopants dominate the low frequencies.

    Args:
        size: image side (px).
        px: pixel size (Å per pixel).
        share: fraction of the carbon columns replaced by Si.
        clusters: number of clusters.
        dose: electrons per pixel at the brightest intensity.
        seed: seed of the cluster centres, the Si choice and the shot noise.

    Returns:
        The ``HardCase`` (one grain: the whole image).
    """
    rng = np.random.default_rng(seed)
    extent = (size * px, size * px)
    xy, w = layer_columns(GRAPHENE, extent, 21.0)
    centres = rng.uniform(0.1, 0.9, (clusters, 2)) * extent
    d = np.min(np.linalg.norm(xy[:, None] - centres[None], axis=-1), axis=1)
    n_si = int(share * len(xy))
    si = np.argsort(d + rng.uniform(0, 1.0, len(d)))[:n_si]
    w = w.copy()
    w[si] = SI_WEIGHT
    img = degrade.shot_noise(_render(xy, w, (size, size), px), dose, rng)
    return HardCase("dopant clusters", f"graphene, {100 * share:g} % Si in {clusters} clusters, "
                    f"{dose:g} e/px", img, px, [_truth(GRAPHENE, 21.0, np.ones((size, size), bool))])


def scan_distortion(size: int = 512, px: float = 0.1, stretch: float = 0.02, shear: float = 0.01,
                    drift_px: float = 4.0, dose: float = 300.0, seed: int = 2) -> HardCase:
    """MoS2 with the slow scan axis stretched by ``stretch``, sheared by ``shear`` and a linear
    drift of ``drift_px`` over the frame: the image's lattice is no longer hexagonal.

    Args:
        size: image side (px).
        px: pixel size (Å per pixel).
        stretch: relative stretch of the slow (y) axis (0.02 = 2 %).
        shear: shear, x displacement per unit of y.
        drift_px: drift of the last row along x (px).
        dose: electrons per pixel at the brightest intensity.
        seed: seed of the shot noise.

    Returns:
        The ``HardCase``; its truth is the distorted lattice.
    """
    rng = np.random.default_rng(seed)
    extent = (size * px, size * px)
    xy, w = layer_columns(MOS2, extent, 12.0)
    img = _render(xy, w, (size, size), px)
    img = degrade.drift(degrade.scan_distortion(img, stretch, shear), drift_px)
    img = degrade.shot_noise(np.clip(img, 0, None), dose, rng)
    # in (x, y): y' = (1 + stretch) y, x' = x + shear y; then drift moves row y' by
    # drift_px y' / (size - 1) along x
    F = np.array([[1.0, drift_px / max(size - 1, 1)], [0.0, 1.0]]) @ np.array([[1.0, shear], [0.0, 1.0 + stretch]])
    return HardCase("scan distortion and drift", f"MoS2, slow axis +{100 * stretch:g} %, shear "
                    f"{100 * shear:g} %, drift {drift_px:g} px, {dose:g} e/px", img, px,
                    [_truth(MOS2, 12.0, np.ones((size, size), bool), F)])


def contamination(size: int = 512, px: float = 0.1, dose: float = 100.0, seed: int = 3) -> HardCase:
    """A square FeSe-like layer with a vacuum hole (no atoms), bright amorphous contamination in
    a corner, a slow illumination gradient and 20 dead (NaN) pixels.

    Args:
        size: image side (px).
        px: pixel size (Å per pixel).
        dose: electrons per pixel at the brightest intensity.
        seed: seed of the contamination, the shot noise and the dead pixels.

    Returns:
        The ``HardCase``; its grain is the layer outside the hole and the corner.
    """
    rng = np.random.default_rng(seed)
    extent = (size * px, size * px)
    yy, xx = np.mgrid[:size, :size]
    hole = np.hypot(xx - 0.7 * size, yy - 0.3 * size) < 0.17 * size
    xy, w = layer_columns(FESE, extent, 33.0)
    ix = np.clip((xy[:, 0] / px).astype(int), 0, size - 1)
    iy = np.clip((xy[:, 1] / px).astype(int), 0, size - 1)
    keep = ~hole[iy, ix]
    img = _render(xy[keep], w[keep], (size, size), px)
    corner = np.hypot(xx, yy - size) < 0.35 * size
    blobs = ndimage.gaussian_filter(rng.random((size, size)), 6.0)
    blobs = (blobs - blobs.min()) / np.ptp(blobs)
    img = img + 2.5 * corner * blobs + 0.6 * (xx + yy) / (2 * size)
    img = degrade.shot_noise(img / img.max(), dose, rng)
    dead = rng.integers(0, size, (20, 2))
    img[dead[:, 0], dead[:, 1]] = np.nan
    lattice = ~hole & ~corner
    return HardCase("contamination", f"FeSe-like square layer, vacuum hole {100 * hole.mean():.0f} %, "
                    f"contaminated corner {100 * corner.mean():.0f} %, gradient, 20 NaN pixels, "
                    f"{dose:g} e/px", img, px, [_truth(FESE, 33.0, lattice)])


def low_dose(dose: float, size: int = 512, px: float = 0.1, seed: int = 4) -> HardCase:
    """MoS2 at ``dose`` electrons per pixel on its brightest column.

    Args:
        dose: electrons per pixel at the brightest intensity.
        size: image side (px).
        px: pixel size (Å per pixel).
        seed: seed of the shot noise.

    Returns:
        The ``HardCase`` (one grain: the whole image).
    """
    rng = np.random.default_rng(seed)
    extent = (size * px, size * px)
    xy, w = layer_columns(MOS2, extent, -7.0)
    img = degrade.shot_noise(_render(xy, w, (size, size), px), dose, rng)
    return HardCase(f"dose {dose:g} e/px", f"MoS2, {dose:g} electrons per pixel", img, px,
                    [_truth(MOS2, -7.0, np.ones((size, size), bool))])


def cosine_lattice(size: int, px: float, a: float = 3.16, rotation_deg: float = 10.0,
                   noise: float = 1.0, seed: int = 0) -> np.ndarray:
    """A hexagonal lattice of constant ``a`` as three cosines plus white noise (float32): cheap at
    any size, for memory and sampling checks where rendering atoms would cost too much.

    Args:
        size: image side (px).
        px: pixel size (Å per pixel).
        a: lattice constant (Å); the fringes are a sqrt(3) / 2 apart.
        rotation_deg: direction of the first fringe normal from the x axis (degrees,
            counter-clockwise).
        noise: standard deviation of the Gaussian white noise (each cosine has amplitude 1).
        seed: seed of the noise.

    Returns:
        float32 [size, size] image, not normalised.
    """
    y, x = np.mgrid[:size, :size].astype(np.float32) * np.float32(px)
    img = np.zeros((size, size), np.float32)
    k = 2 * np.pi / (a * np.sqrt(3) / 2)
    for t in (rotation_deg, rotation_deg + 60.0, rotation_deg + 120.0):
        c, s = np.float32(np.cos(np.radians(t)) * k), np.float32(np.sin(np.radians(t)) * k)
        img += np.cos(c * x + s * y)
    del x, y
    img += np.random.default_rng(seed).normal(0, noise, img.shape).astype(np.float32)
    return img


# a slow frame's scan distortion: the slow axis 4 % long and a 2 % shear (x moves with y), about
# what the grain-boundary images of graphene show (4-6 % from hexagonal)
SLOW_SCAN = np.array([[1.0, 0.02], [0.0, 1.04]])


def near_square(ratio: float, a: float = 4.29) -> Layer:
    """A SnSe-like rectangular monolayer seen down c: a x (ratio a), Sn and Se columns at
    unequal heights of the cell (a primitive rectangular lattice however close to square).

    Args:
        ratio: b / a (> 1).
        a: the shorter side (Å).

    Returns:
        The ``Layer`` (label 2, rectangular).
    """
    return Layer(f"SnSe-like, b/a = {ratio:g}", (a, 0.0), (0.0, ratio * a),
                 ((0.0, 0.1, 50 ** Z_POWER), (0.5, 0.4, 34 ** Z_POWER)), 2)


def _distorted_columns(layer: Layer, size: int, px: float, rotation_deg: float, distortion) -> tuple:
    """Columns of the layer over a field that covers the image once ``distortion`` (about the
    image's centre) is applied, mapped into the image."""
    D = np.asarray(distortion, float)
    w = size * px
    margin = 0.5 * w * max(0.1, float(np.abs(np.linalg.inv(D) - np.eye(2)).max()) + 0.1)
    xy, wt = layer_columns(layer, (w + 2 * margin, w + 2 * margin), rotation_deg)
    c = np.array([w / 2, w / 2])
    xy = (xy - margin - c) @ D.T + c
    keep = np.all((xy > -3) & (xy < w + 3), axis=1)
    return xy[keep], wt[keep]


def distorted_grains(rotations=(3.0, 24.0), distortion=SLOW_SCAN, layer: Layer = GRAPHENE, size: int = 512,
                     px: float = 0.1, dose: float = 200.0, seed: int = 5) -> HardCase:
    """Grains of one layer at ``rotations`` (degrees), side by side in slanted stripes, all under
    one scan ``distortion``: the frame from which the grains measure it.

    Args:
        rotations: each grain's counter-clockwise rotation (degrees); two or more.
        distortion: 2 x 2 map (x, y) from the sample to the image.
        layer: the crystal.
        size: image side (px).
        px: pixel size (Å per pixel).
        dose: electrons per pixel at the brightest intensity.
        seed: seed of the shot noise.

    Returns:
        The ``HardCase``; its truth is each grain's lattice in the image, and ``distortion``.
    """
    rng = np.random.default_rng(seed)
    D = np.asarray(distortion, float)
    yy, xx = np.mgrid[:size, :size] * px
    along = xx * np.cos(np.radians(20)) + yy * np.sin(np.radians(20))
    edges = np.quantile(along, np.linspace(0, 1, len(rotations) + 1)[1:-1])
    region = np.digitize(along, edges)
    xy, w = [], []
    for k, rot in enumerate(rotations):
        p, wt = _distorted_columns(layer, size, px, rot, D)
        ix = np.clip((p[:, 0] / px).astype(int), 0, size - 1)
        iy = np.clip((p[:, 1] / px).astype(int), 0, size - 1)
        keep = region[iy, ix] == k
        xy.append(p[keep])
        w.append(wt[keep])
    img = degrade.shot_noise(_render(np.vstack(xy), np.concatenate(w), (size, size), px), dose, rng)
    return HardCase(f"{len(rotations)} grains, one scan distortion",
                    f"{layer.name}, grains at {', '.join(f'{r:g}' for r in rotations)}°, scan distortion "
                    f"{100 * anisotropy(D):.1f} %, {dose:g} e/px", img, px,
                    [_truth(layer, rot, region == k, D) for k, rot in enumerate(rotations)], distortion=D)


def one_frame(layer: Layer, distortion=np.eye(2), rotation_deg: float = 17.0, size: int = 512, px: float = 0.1,
              dose: float = 300.0, seed: int = 6, name: str = "") -> HardCase:
    """One grain of ``layer`` filling the frame under ``distortion``.

    Args:
        layer: the crystal.
        distortion: 2 x 2 map (x, y) from the sample to the image (identity: none).
        rotation_deg: counter-clockwise rotation of the lattice (degrees).
        size: image side (px).
        px: pixel size (Å per pixel).
        dose: electrons per pixel at the brightest intensity.
        seed: seed of the shot noise.
        name: the case's name (default: the layer's).

    Returns:
        The ``HardCase`` with one truth (the lattice in the image) and ``distortion``.
    """
    D = np.asarray(distortion, float)
    xy, w = _distorted_columns(layer, size, px, rotation_deg, D)
    img = degrade.shot_noise(_render(xy, w, (size, size), px), dose, np.random.default_rng(seed))
    return HardCase(name or layer.name, f"{layer.name}, distortion {100 * anisotropy(D):.1f} %, "
                    f"{size} px, {dose:g} e/px", img, px,
                    [_truth(layer, rotation_deg, np.ones((size, size), bool), D)], distortion=D)


def reference_and_sample(sample: Layer, distortion=1.02 * SLOW_SCAN, reference: Layer = GRAPHENE,
                         size: int = 512, px: float = 0.1) -> tuple[HardCase, HardCase]:
    """A reference frame (graphene) and a sample frame taken with the same settings: the same
    ``distortion`` (here with the nominal pixel size 2 % off as well).

    Args:
        sample: the sample's crystal.
        distortion: 2 x 2 map (x, y) from the sample to the image, shared by both frames.
        reference: the reference crystal.
        size: image side (px).
        px: nominal pixel size (Å per pixel).

    Returns:
        (reference frame, sample frame), each with its truth and ``distortion``.
    """
    return (one_frame(reference, distortion, 8.0, size, px, seed=7, name=f"reference {reference.name}"),
            one_frame(sample, distortion, 23.0, size, px, seed=8, name=f"sample {sample.name}"))


def orthogonal_pair(drift=(0.01, 0.03), layer: Layer = MOS2, rotation_deg: float = 17.0, size: int = 512,
                    px: float = 0.1, dose: float = 300.0) -> tuple[HardCase, np.ndarray]:
    """Two frames of one area under one constant drift, scanned at 0 and 90 degrees.

    Frame 0 scans rows (slow axis y): a point at height y is reached after y rows, so it appears
    at r + u y (D0 = I + u e_y^T, u = ``drift`` per unit length of the slow axis). Frame 90 scans
    with the slow axis along x of the sample (D90 = I + u e_x^T) and is stored as recorded: the
    sample turned by 90 degrees (``np.rot90(frame_90)`` turns it back).

    Args:
        drift: (ux, uy): the shift per unit length of the slow axis (0.01 = 1 %).
        layer: the crystal.
        rotation_deg: counter-clockwise rotation of the lattice (degrees).
        size: image side (px).
        px: pixel size (Å per pixel).
        dose: electrons per pixel at the brightest intensity.

    Returns:
        (frame 0 as a ``HardCase`` with its truth and ``distortion`` D0, frame 90 as recorded).
    """
    u = np.asarray(drift, float)
    D0 = np.eye(2) + np.outer(u, [0.0, 1.0])
    D90 = np.eye(2) + np.outer(u, [1.0, 0.0])
    frame_0 = one_frame(layer, D0, rotation_deg, size, px, dose, seed=9, name="orthogonal pair, frame 0")
    frame_90 = one_frame(layer, D90, rotation_deg, size, px, dose, seed=10).image
    return frame_0, np.rot90(frame_90, -1).copy()


def all_cases(size: int = 512) -> list[HardCase]:
    """The cases of notebook 08, in order.

    Args:
        size: image side of every case (px).

    Returns:
        [grain boundary, dopant clusters, scan distortion, contamination, then low dose at 10, 100
        and 1000 electrons per pixel], each a ``HardCase`` at its default settings.
    """
    return [grain_boundary(size), dopant_clusters(size), scan_distortion(size), contamination(size),
            *(low_dose(d, size) for d in (10.0, 100.0, 1000.0))]


def compare_with_truth(case: HardCase, analysis, rel_tol: float = 0.01, min_share: float = 0.2) -> list[dict]:
    """One row per true grain: the found grain with the same lattice and orientation (first-order
    reciprocal vectors within ``grains.GRAIN_MATCH_TOL``), its errors against the truth, and
    ``passes``: found, a and b within ``rel_tol``, and the corrected class the material's where a
    distortion was measured, else the strict class that of the cell in the image. Grains
    smaller than ``min_share`` of the image are listed but not required.

    Args:
        case: the hard case and its truth.
        analysis: the ``grains.GrainAnalysis`` of ``case.image``.
        rel_tol: largest relative error of a and b that passes (0.01 = 1 %).
        min_share: smallest area share (0-1) of a grain that must be found.

    Returns:
        One dict per true grain: the truth (true_a, true_b in Å, true_gamma in degrees, ...),
        ``found`` and, when found, the found lattice with errors (Å, degrees) and
        a_error_pct / b_error_pct (%), ``required`` and ``passes``.
    """
    rows = []
    for k, t in enumerate(case.grains):
        B = np.linalg.inv(np.array([t["a_vec"], t["b_vec"]])).T
        match = [g for g in analysis.grains
                 if lattice_mismatch(reciprocal_basis_of(g.lattice), B) < GRAIN_MATCH_TOL]
        row = {"case": case.name, "description": case.description, "grain": k,
               "true_share": round(t["area_share"], 3), "true_a": t["a"], "true_b": t["b"],
               "true_gamma": t["gamma"], "true_class": t["class_name"], "found": bool(match)}
        if match:
            g = match[0]
            lat = g.lattice
            row.update({"found_share": round(g.area_share, 3), "source": g.source, "a": lat.a, "a_err": lat.a_err,
                        "b": lat.b, "b_err": lat.b_err, "gamma": lat.gamma, "gamma_err": lat.gamma_err,
                        "a_error_pct": 100 * (lat.a - t["a"]) / t["a"],
                        "b_error_pct": 100 * (lat.b - t["b"]) / t["b"],
                        "class_strict": lat.class_name, "true_class_strict": CLASS_NAMES[t["label_strict"]],
                        "class_corrected": (lat.corrected or {}).get("class_name"),
                        "correction_source": (lat.corrected or {}).get("source")})
        required = t["area_share"] >= min_share
        row["required"] = required
        # without a measured distortion the strict class must be the class of the cell in the
        # image; with one, the corrected class must be the material's
        row["passes"] = bool(match) and (abs(row["a_error_pct"]) <= 100 * rel_tol
                                         and abs(row["b_error_pct"]) <= 100 * rel_tol
                                         and (match[0].lattice.label == t["label_strict"]
                                              if match[0].lattice.corrected is None
                                              else match[0].lattice.corrected["label"] == t["label"]))
        rows.append(row)
    return rows
