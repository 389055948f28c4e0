"""Notebook 15 as functions: which test structures a rotation study can score (those whose
projected cell is the stored cell), and the errors of each method per rotation and pixel size,
scored without regard to which lattice vector is called a (lengths sorted, gamma folded)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..data.structures import projected_cell
from ..learn import metrics

__all__ = ["ROBUSTNESS_GROUPS", "folded_gamma", "robustness_table", "same_projected_cell", "scorable_structures"]

# the columns of the evaluation set that define one condition of the study
ROBUSTNESS_GROUPS = ["condition", "rotation", "true_px"]


def same_projected_cell(atoms, a: float, b: float) -> bool:
    """Whether a structure's projection along z repeats on its stored cell (area within 1 %).

    Args:
        atoms: the structure (a jarvis-tools ``Atoms`` dict as the tables store it).
        a: the stored cell's first length (Å).
        b: the stored cell's second length (Å).

    Returns:
        True when the projected cell's area a * b is within 1 % of the stored one's.
    """
    c = projected_cell(atoms)
    return abs(c.a * c.b - a * b) < 0.01 * a * b


def scorable_structures(test: pd.DataFrame, n: int) -> list[int]:
    """The first ``n`` test structures of the standard subset whose projection repeats on the stored cell.

    Args:
        test: a test split (columns a, b, gamma, atoms, canon_a, canon_b; Å and degrees).
        n: how many to take.

    Returns:
        Row positions in ``test``.
    """
    return [i for i in np.flatnonzero(metrics.subset_mask(test, "standard"))
            if same_projected_cell(test.atoms.iloc[i], test.canon_a.iloc[i], test.canon_b.iloc[i])][:n]


def folded_gamma(gamma: np.ndarray) -> np.ndarray:
    """gamma and 180 - gamma are the same lattice: the larger of the two (degrees).

    Args:
        gamma: angles (degrees).

    Returns:
        max(gamma, 180 - gamma), in degrees.
    """
    return np.maximum(gamma, 180 - gamma)


def robustness_table(evalset: pd.DataFrame, predictions: dict) -> pd.DataFrame:
    """Each method's error per condition (rotation, pixel size) of the evaluation set.

    Lengths are compared sorted (shorter with shorter) and gamma folded to at least 90 degrees, so
    that a method is not charged for naming the other lattice vector a; images where a method gave
    no finite answer are counted apart.

    Args:
        evalset: one row per evaluation image: its structure's ``canon_a``, ``canon_b`` (Å) and
            ``canon_gamma`` (degrees), and the condition columns ``ROBUSTNESS_GROUPS`` (condition
            name, rotation in degrees, true pixel size in Å per pixel).
        predictions: method -> its a, b (Å), gamma (degrees) per image, [len(evalset), 3].

    Returns:
        One row per method and condition: n, n_without_result, MAE of the shorter and the longer
        length (Å) and of the folded gamma (degrees), unrounded.
    """
    truth = evalset[["canon_a", "canon_b", "canon_gamma"]].to_numpy(float)
    rows = []
    for method, p in predictions.items():
        ok = np.all(np.isfinite(p), axis=1)
        err_len = np.abs(np.sort(p[:, :2], axis=1) - np.sort(truth[:, :2], axis=1))
        err_g = np.abs(folded_gamma(p[:, 2]) - folded_gamma(truth[:, 2]))
        for (kind, rot, px), g in evalset.groupby(ROBUSTNESS_GROUPS, sort=False):
            m = evalset.index.isin(g.index) & ok
            rows.append({"method": method, "condition": kind, "rotation_deg": rot, "true_pixel_A": px,
                         "n": int(m.sum()), "n_without_result": int((evalset.index.isin(g.index) & ~ok).sum()),
                         "MAE shorter (Å)": err_len[m, 0].mean() if m.any() else np.nan,
                         "MAE longer (Å)": err_len[m, 1].mean() if m.any() else np.nan,
                         "MAE γ folded (°)": err_g[m].mean() if m.any() else np.nan})
    return pd.DataFrame(rows)
