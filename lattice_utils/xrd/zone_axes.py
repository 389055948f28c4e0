"""The zone-axis sets of the XRD paper (Table 1) and their angular coverage."""
from __future__ import annotations

import numpy as np

from .simulate import parse_zone_axis
from .symmetry import rotations

__all__ = ["AXES_20", "AXES_10", "AXES_4", "AXES_1", "UNSEEN", "AXIS_SETS", "label", "angular_coverage",
           "equivalent_axes", "family_in_training"]

# the authors' code lists the 20 axes of model-4 and the 4 of model-2; the 10 of model-3 are
# not published: we take the first 10 of the 20 (docs/deviations.md#deviation-23)
AXES_20 = ("111", "100", "010", "001", "110", "101", "210", "012", "112", "121",
           "122", "212", "103", "310", "123", "312", "023", "302", "313", "331")
AXES_4 = ("111", "100", "001", "012")
AXES_10 = AXES_20[:10]
AXES_1 = ("100",)
UNSEEN = ("131", "211", "011", "120")
AXIS_SETS = {"model-1": AXES_1, "model-2": AXES_4, "model-3": AXES_10, "model-4": AXES_20}


def label(axis) -> str:
    """The zone axis written '[uvw]' (single digits are written together, as in the paper).

    Args:
        axis: the zone axis (anything ``simulate.parse_zone_axis`` accepts).

    Returns:
        ``"[uvw]"`` when every index is a digit 0-9, else ``"[u v w]"`` (spaces, e.g. ``"[1 -1 0]"``).

    Raises:
        ValueError: for an invalid axis.
    """
    uvw = parse_zone_axis(axis)
    return "[" + ("".join(str(x) for x in uvw) if all(0 <= x <= 9 for x in uvw)
                  else " ".join(str(x) for x in uvw)) + "]"


def angular_coverage(axes, metric: np.ndarray | None = None) -> dict:
    """Angles between the directions [uvw]: per-axis nearest neighbour and all pairs.

    The directions are Cartesian, i.e. a cubic cell, unless a lattice ``metric`` [3, 3] with rows
    a, b, c is given.

    Args:
        axes: the zone axes (each anything ``simulate.parse_zone_axis`` accepts).
        metric: optional [3, 3] lattice matrix, rows a, b, c (Å; only their directions and
            ratios matter), that turns [uvw] into u a + v b + w c; None for a cubic cell.

    Returns:
        A dict: ``n_axes`` (int), ``nearest_deg`` (float array [n], each axis's angle to its
        nearest other axis, degrees), ``nearest_mean_deg`` (their mean, degrees),
        ``angles_deg`` (float array [n, n] of all angles in degrees, NaN on the diagonal) and
        ``global_mean_deg`` (the mean of all pair angles, degrees).

    Raises:
        ValueError: for an invalid axis.
    """
    v = np.array([parse_zone_axis(a) for a in axes], dtype=float)
    if metric is not None:
        v = v @ np.asarray(metric, dtype=float)
    v /= np.linalg.norm(v, axis=1)[:, None]
    ang = np.degrees(np.arccos(np.clip(v @ v.T, -1, 1)))
    np.fill_diagonal(ang, np.nan)
    nearest = np.nanmin(ang, axis=1)
    return {"n_axes": len(v), "nearest_mean_deg": float(np.mean(nearest)),
            "nearest_deg": nearest, "global_mean_deg": float(np.nanmean(ang)), "angles_deg": ang}


# holohedral group of each crystal system (spglib standard setting; trigonal in hexagonal axes)
_HOLOHEDRY = (2, 10, 47, 123, 166, 191, 221)


def _canonical(uvw) -> tuple:
    v = np.asarray(uvw, dtype=int)
    g = np.gcd.reduce(np.abs(v))
    v = v // g
    first = v[np.flatnonzero(v)[0]]
    return tuple(int(x) for x in (v if first > 0 else -v))


def equivalent_axes(axis, crystal_system: int) -> set:
    """Directions equivalent to [uvw] under the lattice point group of a crystal system
    (0 triclinic .. 6 cubic), with [uvw] and -[uvw] counted as one axis.

    The point group is that of the system's holohedral space group in spglib's standard setting
    (trigonal in hexagonal axes).

    Args:
        axis: the zone axis (anything ``simulate.parse_zone_axis`` accepts).
        crystal_system: index into ``symmetry.CRYSTAL_SYSTEMS`` (0 triclinic .. 6 cubic).

    Returns:
        A set of ``(u, v, w)`` int tuples, each divided by its indices' greatest common divisor and
        with its first non-zero index positive.
    """
    u = np.array(parse_zone_axis(axis))
    return {_canonical(W @ u) for W in rotations(_HOLOHEDRY[crystal_system])}


def family_in_training(axis, training_axes, crystal_system: int) -> list:
    """The training axes equivalent to ``axis`` in this crystal system (SI Table D).

    Args:
        axis: the (unseen) zone axis.
        training_axes: the zone axes a model was trained on.
        crystal_system: index into ``symmetry.CRYSTAL_SYSTEMS`` (0 triclinic .. 6 cubic).

    Returns:
        The equivalent training axes as sorted labels (``label``: ``"[uvw]"``); empty when none is.
    """
    train = {_canonical(parse_zone_axis(a)): a for a in training_axes}
    return sorted(label(train[e]) for e in equivalent_axes(axis, crystal_system) if e in train)
