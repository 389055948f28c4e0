"""A reference classifier for the zone-axis CNN: a few physical features of one spot pattern (the
shape of its 2D reciprocal net and how well its intensities survive 3-, 4- and 6-fold rotations
and mirrors), fed to gradient-boosted trees. It shows how much crystal-system information one
pattern of the corpus carries, independent of how well a small CNN extracts it."""
from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from ..core import storage

__all__ = ["FEATURES", "MATCH_TOL", "FEATURES_VERSION", "symmetry_features", "feature_matrix", "fit_symmetry_baseline"]

FEATURES = ("g1 (1/Å)", "|g2|/|g1|", "net angle (deg)", "spots", "rot 90", "rot 60", "rot 120",
            "mirror g1", "mirror g2", "mirror g1+g2", "mirror g1-g2", "mean I", "share I>0.1",
            "median |g| (1/Å)")
MATCH_TOL = 1e-3     # 1/Å: a transformed spot within this of a spot is the same reflection
# bumped by hand whenever symmetry_features computes anything differently: part of the cache key
FEATURES_VERSION = 1


def _rotation(deg: float) -> np.ndarray:
    t = np.radians(deg)
    return np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])


def _mirror(u: np.ndarray) -> np.ndarray:
    u = u / np.linalg.norm(u)
    return 2 * np.outer(u, u) - np.eye(2)


def symmetry_features(xy: np.ndarray, intensity: np.ndarray) -> np.ndarray:
    """Feature vector (``FEATURES``) of one pattern: the shape of its 2D reciprocal net and its
    rotation and mirror symmetry scores.

    A symmetry score is the share of the total intensity that an operation maps onto a spot at
    least as bright (1: exact symmetry), positions matching within ``MATCH_TOL``. g1 is the
    shortest spot vector, g2 the shortest one not along g1.

    Args:
        xy: [m, 2] spot positions in 1/Å about the direct beam.
        intensity: [m] spot intensities (I / I_max).

    Returns:
        Float array [len(FEATURES)] in the order of ``FEATURES`` (lengths in 1/Å, the net angle in
        degrees, scores in [0, 1]); all NaN when there are fewer than two non-collinear spots.

    Raises:
        ValueError: when ``xy`` and ``intensity`` hold different numbers of spots.
    """
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    inten = np.asarray(intensity, dtype=float).ravel()
    if len(xy) != len(inten):
        raise ValueError(f"{len(xy)} spot positions but {len(inten)} intensities")
    out = np.full(len(FEATURES), np.nan)
    if len(xy) < 2:
        return out
    d = np.hypot(xy[:, 0], xy[:, 1])
    g1 = xy[np.argmin(d)]
    cross = np.abs(g1[0] * xy[:, 1] - g1[1] * xy[:, 0]) / (d[np.argmin(d)] * d + 1e-12)
    off_line = np.flatnonzero(cross > 0.05)
    if not len(off_line):
        return out
    g2 = xy[off_line[np.argmin(d[off_line])]]
    l1, l2 = np.linalg.norm(g1), np.linalg.norm(g2)
    angle = np.degrees(np.arccos(min(1.0, abs(g1 @ g2) / (l1 * l2))))
    tree = cKDTree(xy)
    total = inten.sum()

    def score(op: np.ndarray) -> float:
        dist, j = tree.query(xy @ op.T, distance_upper_bound=MATCH_TOL)
        hit = np.isfinite(dist)
        return float(np.minimum(inten[hit], inten[j[hit]]).sum() / total) if total > 0 else 0.0

    ops = [_rotation(90), _rotation(60), _rotation(120), _mirror(g1), _mirror(g2),
           _mirror(g1 / l1 + g2 / l2), _mirror(g1 / l1 - g2 / l2)]
    out[:] = [l1, l2 / l1, angle, len(xy), *(score(op) for op in ops), inten.mean(),
              (inten > 0.1).mean(), np.median(d)]
    return out


def feature_matrix(patterns, indices) -> np.ndarray:
    """``symmetry_features`` of stored patterns [n, len(FEATURES)], cached beside the patterns (keyed
    on the indices, ``FEATURES``, ``MATCH_TOL`` and ``FEATURES_VERSION``).

    Args:
        patterns: the ``patterns.PatternSet`` holding them.
        indices: [n] pattern indices into it.

    Returns:
        Float64 array [n, len(FEATURES)], one row per pattern (NaN rows as ``symmetry_features``).
    """
    indices = np.asarray(indices, dtype=int)
    key = storage.content_key(indices.tolist(), FEATURES, MATCH_TOL, FEATURES_VERSION)
    path = patterns.root / f"features-{key}.npy"
    cached = storage.load_npy_checked(path, (len(FEATURES),), np.float64)
    if cached is not None and len(cached) == len(indices):
        return np.asarray(cached)
    F = np.array([symmetry_features(*patterns.spots(int(i))) for i in indices]).reshape(-1, len(FEATURES))
    storage.save_npy(path, F)
    return F


def fit_symmetry_baseline(features: np.ndarray, systems: np.ndarray, seed: int = 0):
    """Gradient-boosted trees from ``features`` to crystal-system indices 0-6.

    Args:
        features: [n, len(FEATURES)] feature rows (NaN allowed).
        systems: [n] crystal-system indices 0-6 (``symmetry.CRYSTAL_SYSTEMS``).
        seed: the classifier's random state.

    Returns:
        The fitted ``sklearn.ensemble.HistGradientBoostingClassifier`` (300 iterations).
    """
    from sklearn.ensemble import HistGradientBoostingClassifier
    return HistGradientBoostingClassifier(max_iter=300, random_state=seed).fit(features, systems)
