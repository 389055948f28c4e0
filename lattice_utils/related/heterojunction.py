"""The specimen of notebook 18 (the 4D-STEM divisive K-means paper): a simulated 4D-STEM scan of
a WS2-WSe2 lateral heterojunction with its ground truth (regions, lattice rotation, tilt). The
analysis (alignment, features, divisive hierarchical K-means) is ``fourdstem``.

Specimen: an equilateral flake on amorphous carbon; outer and inner WS2, a middle WSe2 band; a
continuous in-plane lattice rotation across the WS2 (sign alternating along x); rippled (tilted)
WSe2 near the flake's three corners, flat in between; the central beam drifts across the scan.
Each pattern is kinematic: disks at the reciprocal-lattice points of the rotated cell with
|F(g, g_z)|^2 of the MX2 layer, where the tilt gives g_z = g . tau and the chalcogen pair at
+-z_X modulates F; a diffuse amorphous ring; Poisson noise."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["A_WS2", "A_WSE2", "TRUTH_CLASSES", "ScanSpec", "Scan", "structure_factor", "make_scan", "ripple_truth"]

A_WS2, A_WSE2 = 3.153, 3.282          # Å
Z = {"W": 74, "S": 16, "Se": 34}
Z_CHALCOGEN = 1.56                     # Å, chalcogen height above/below the metal plane
TRUTH_CLASSES = ("background", "WS2", "WSe2")   # the values of Scan.truth, in order


@dataclass(frozen=True)
class ScanSpec:
    """The simulated 4D-STEM acquisition and specimen settings.

    Attributes:
        scan_px: probe positions per side.
        detector_px: detector pixels per side.
        k_px: reciprocal-space sampling (1/Å per detector pixel).
        disk_radius: radius of the central beam and of every diffraction disk (detector pixels).
        rotation_deg: amplitude of the WS2 lattice rotation (degrees).
        rotation_periods: periods of the rotation's sine along x across the scan.
        tilt_deg: largest WSe2 ripple tilt, near the flake's corners (degrees).
        drift_px: drift of the central beam across the scan (detector pixels; 0.6 of it along y).
        dose: electrons (expected counts) per pattern.
        beam_share: share of the counts in the central beam.
        amorphous_share: share of the counts in the amorphous ring over the flake; off the flake
            the ring takes ``amorphous_share`` + 0.8 (1 - ``beam_share``).
    """
    scan_px: int = 64
    detector_px: int = 64
    k_px: float = 0.0305             # 1/Å per detector pixel (first-order WS2 spots ~12 px out)
    disk_radius: float = 1.5         # px: 1.6 mrad convergence at 80 kV
    rotation_deg: float = 1.0        # amplitude of the WS2 lattice rotation
    rotation_periods: float = 1.5    # sign changes along x across the flake
    tilt_deg: float = 8.0            # WSe2 ripple tilt near the corners
    drift_px: float = 1.5            # central-beam drift across the scan
    dose: float = 2e4                # electrons per pattern
    beam_share: float = 0.5          # share of the counts in the central beam
    amorphous_share: float = 0.25


@dataclass
class Scan:
    """A simulated 4D-STEM scan and its ground truth.

    Attributes:
        data: float32 [Sy, Sx, Dy, Dx], counts.
        truth: int [Sy, Sx], indices into ``TRUTH_CLASSES`` (0 background, 1 WS2, 2 WSe2).
        rotation: in-plane lattice rotation [Sy, Sx] (degrees), 0 outside WS2.
        tilt: tilt vector [Sy, Sx, 2] (radians), g_z = g . tilt.
        spec: the settings it was made with.
    """
    data: np.ndarray          # float32 [Sy, Sx, Dy, Dx]
    truth: np.ndarray         # int [Sy, Sx]: 0 background, 1 WS2, 2 WSe2
    rotation: np.ndarray      # degrees [Sy, Sx], 0 outside WS2
    tilt: np.ndarray          # [Sy, Sx, 2] radians
    spec: ScanSpec


def _hex_g(a: float, order: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """(h, k) and Cartesian in-plane g (1/Å) of a hexagonal layer out to ``order``."""
    r = np.arange(-order * 2, order * 2 + 1)
    hk = np.stack(np.meshgrid(r, r, indexing="ij"), -1).reshape(-1, 2)
    hk = hk[np.any(hk != 0, axis=1)]
    b1 = np.array([1.0, 1 / np.sqrt(3)]) / a
    b2 = np.array([0.0, 2 / np.sqrt(3)]) / a
    g = hk[:, :1] * b1 + hk[:, 1:] * b2
    keep = np.linalg.norm(g, axis=1) < (order + 0.1) * 2 / (np.sqrt(3) * a) * 1.01
    return hk[keep], g[keep]


def structure_factor(hk: np.ndarray, gz: np.ndarray, metal: str, chalcogen: str) -> np.ndarray:
    """|F|^2 of an MX2 layer (metal at 0, two chalcogens at (1/3, 2/3, +-z)), Z as scattering
    amplitude.

    The chalcogens sit ``Z_CHALCOGEN`` Å above and below the metal plane.

    Args:
        hk: in-plane Miller indices [n, 2].
        gz: out-of-plane component of each reflection (1/Å, no factor 2 pi), [n].
        metal: the metal's element symbol ("W").
        chalcogen: the chalcogen's element symbol ("S" or "Se").

    Returns:
        float array [n] of |F|^2 (in units of Z^2).

    Raises:
        KeyError: an element is not in ``Z``.
    """
    phase = np.exp(2j * np.pi * (hk[:, 0] / 3 + 2 * hk[:, 1] / 3))
    F = Z[metal] + 2 * Z[chalcogen] * phase * np.cos(2 * np.pi * gz * Z_CHALCOGEN)
    return np.abs(F) ** 2


def _disks(D: int, cx: np.ndarray, cy: np.ndarray, w: np.ndarray, r: float) -> np.ndarray:
    """Sum of anti-aliased disks (radius ``r`` px, total weight ``w`` each) on a D x D detector."""
    R = int(np.ceil(r + 1))
    off = np.arange(-R, R + 1)
    ix = np.floor(cx).astype(int)[:, None, None] + off[None, None, :]
    iy = np.floor(cy).astype(int)[:, None, None] + off[None, :, None]
    val = np.clip(r - np.hypot(ix - cx[:, None, None], iy - cy[:, None, None]) + 0.5, 0, 1)
    val = val * (w / np.maximum(val.sum((1, 2)), 1e-12))[:, None, None]
    ok = (ix >= 0) & (ix < D) & (iy >= 0) & (iy < D)
    out = np.zeros(D * D)
    np.add.at(out, (iy * D + ix)[ok], val[ok])
    return out.reshape(D, D)


def make_scan(spec: ScanSpec = ScanSpec(), seed: int = 0, crystal: bool = True) -> Scan:
    """The heterojunction scan (``crystal=False``: amorphous film only).

    Args:
        spec: the acquisition and specimen settings.
        seed: seed of the Poisson noise.
        crystal: whether the flake is there (False: amorphous carbon only, truth all background).

    Returns:
        The ``Scan``.
    """
    rng = np.random.default_rng(seed)
    S, D = spec.scan_px, spec.detector_px
    yy, xx = (np.mgrid[0:S, 0:S] + 0.5) / S - 0.5            # scan coordinates in [-0.5, 0.5]
    # equilateral flake: distance to the edge in units of the inradius (1 at the centre, 0 at the edge)
    normals = np.array([[np.cos(t), np.sin(t)] for t in np.radians([90, 210, 330])])
    inradius = 0.25                                           # the flake fits in the scan
    depth = 1 - np.max(np.stack([xx * n[0] + yy * n[1] for n in normals]), 0) / inradius
    truth = np.zeros((S, S), dtype=int)
    if crystal:
        truth[depth > 0] = 1
        truth[(depth > 0.3) & (depth < 0.6)] = 2
    rotation = np.where(truth == 1, spec.rotation_deg * np.sin(2 * np.pi * spec.rotation_periods * (xx + 0.5)), 0.0)
    corners = -normals * 2 * inradius                          # the flake's corners
    tilt = np.zeros((S, S, 2))
    for c in corners:
        d = np.hypot(xx - c[0] * 0.55, yy - c[1] * 0.55)       # near each corner of the WSe2 band
        w = np.clip(1.6 - d / 0.12, 0, 1) * (truth == 2)
        u = c / np.linalg.norm(c)
        tilt += np.radians(spec.tilt_deg) * w[..., None] * np.array([-u[1], u[0]])
    drift = spec.drift_px * np.stack([xx, 0.6 * yy], -1)
    data = np.zeros((S, S, D, D), dtype=np.float32)
    gy_, gx_ = np.mgrid[0:D, 0:D]
    lattices = {1: ("W", "S", A_WS2), 2: ("W", "Se", A_WSE2)}
    cache = {k: _hex_g(v[2]) for k, v in lattices.items()}
    for i in range(S):
        for j in range(S):
            cx, cy = D / 2 + drift[i, j, 0], D / 2 + drift[i, j, 1]
            pat = _disks(D, np.array([cx]), np.array([cy]), np.array([spec.beam_share]), spec.disk_radius)
            # the whole pattern (beam, amorphous ring, spots) moves with the drift
            kk = np.hypot(gx_ - cx, gy_ - cy) * spec.k_px
            ring = np.exp(-((kk - 0.45) / 0.08) ** 2)          # amorphous carbon, ~2.2 Å
            ring /= ring.sum()
            amorph = spec.amorphous_share if truth[i, j] else spec.amorphous_share + (1 - spec.beam_share) * 0.8
            pat = pat + amorph * ring
            t = truth[i, j]
            if t:
                metal, chal, _ = lattices[t]
                hk, g = cache[t]
                th = np.radians(rotation[i, j])
                R = np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
                gr = g @ R.T
                gz = g @ tilt[i, j]
                intensity = structure_factor(hk, gz, metal, chal)
                intensity = intensity / intensity.sum() * (1 - spec.beam_share - amorph)
                pat = pat + _disks(D, cx + gr[:, 0] / spec.k_px, cy + gr[:, 1] / spec.k_px, intensity,
                                   spec.disk_radius)
            data[i, j] = rng.poisson(np.clip(pat, 0, None) * spec.dose)
    return Scan(data, truth, rotation, tilt, spec)


def ripple_truth(scan: Scan) -> np.ndarray:
    """The ripple group of every probe position: 0 flat (tilt below half of ``tilt_deg``), else 1-3
    by the direction of the tilt (its angle rounded to a multiple of 120 degrees).

    Args:
        scan: the scan with its tilt truth.

    Returns:
        int array [Sy * Sx] (scan order) of groups 0-3.
    """
    tilt = scan.tilt.reshape(-1, 2)
    return np.where(np.hypot(*tilt.T) > np.radians(scan.spec.tilt_deg) / 2,
                    1 + np.round((np.degrees(np.arctan2(tilt[:, 1], tilt[:, 0])) % 360) / 120).astype(int) % 3, 0)
