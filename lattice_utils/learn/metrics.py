"""Regression and classification metrics of the lattice paper (section 2.2-2.3).

Every table row carries its ``n``. An empty subset or class gives a row with n = 0 and
NaN metrics (shown as "n/a"), never a crash, and never enters an average silently.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..lattice.lattice2d import is_standard_gamma

__all__ = ["PARAMETERS", "REDUCED_PARAMETERS", "UNITS", "TEST_SUBSETS", "subset_mask", "mae", "rmse", "regression_rows",
           "baseline_prediction", "subset_table", "confusion", "classification_table", "accuracy_and_f1", "CHALCOGENS",
           "HALOGENS", "METAL_GAP_EV", "CHEMISTRY_GROUPS", "is_tmd", "chemistry_masks", "chemistry_table",
           "GAMMA_CLASSES", "snap_gamma", "gamma_confusion"]

PARAMETERS = ("a", "b", "gamma")
# the same parameters of the Gauss-reduced cell (``lattice2d.reduced_parameters``): what a network
# trained on them answers is the physical cell, whatever convention the database stored
REDUCED_PARAMETERS = ("a_reduced", "b_reduced", "gamma_reduced")
UNITS = {"a": "Å", "b": "Å", "gamma": "°"}

# The test subsets of section 2.3, in the paper's order. Each maps a table with columns
# a, b, gamma (true values) to a boolean mask.
TEST_SUBSETS = {
    "full": ("Full test set", lambda t: np.ones(len(t), dtype=bool)),
    "standard": ("a ≤ 10 Å, b ≤ 10 Å, γ ∈ {60°, 90°, 120°}",
                 lambda t: ((t["a"].to_numpy() <= 10) & (t["b"].to_numpy() <= 10)
                            & is_standard_gamma(t["gamma"].to_numpy()))),
    "nonstandard_gamma": ("γ ∉ {60°, 90°, 120°}",
                          lambda t: ~is_standard_gamma(t["gamma"].to_numpy())),
    "a_gt_10": ("a > 10 Å", lambda t: t["a"].to_numpy() > 10),
    "b_gt_10": ("b > 10 Å", lambda t: t["b"].to_numpy() > 10),
}


def subset_mask(table: pd.DataFrame, subset: str) -> np.ndarray:
    """Which rows of a test table belong to one of the paper's test subsets (section 2.3).

    Args:
        table: test table with the true ``a``, ``b`` (Å) and ``gamma`` (degrees).
        subset: a key of ``TEST_SUBSETS`` (``full``, ``standard``, ``nonstandard_gamma``,
            ``a_gt_10``, ``b_gt_10``).

    Returns:
        bool [N], True for a row in the subset.

    Raises:
        ValueError: ``subset`` is not a key of ``TEST_SUBSETS``.
    """
    try:
        return np.asarray(TEST_SUBSETS[subset][1](table), dtype=bool)
    except KeyError:
        raise ValueError(f"unknown test subset {subset!r}; choose one of {list(TEST_SUBSETS)}") from None


def mae(y_true, y_pred) -> float:
    """Mean absolute error.

    Args:
        y_true: true values, any shape.
        y_pred: predictions, the same shape.

    Returns:
        The MAE in the unit of the values (Å for a, b; degrees for gamma); NaN when empty.
    """
    y_true, y_pred = np.asarray(y_true, float), np.asarray(y_pred, float)
    return float(np.mean(np.abs(y_true - y_pred))) if y_true.size else float("nan")


def rmse(y_true, y_pred) -> float:
    """Root mean squared error.

    Args:
        y_true: true values, any shape.
        y_pred: predictions, the same shape.

    Returns:
        The RMSE in the unit of the values (Å for a, b; degrees for gamma); NaN when empty.
    """
    y_true, y_pred = np.asarray(y_true, float), np.asarray(y_pred, float)
    return float(np.sqrt(np.mean((y_true - y_pred) ** 2))) if y_true.size else float("nan")


def _as_2d(y, n_params):
    y = np.asarray(y, dtype=float)
    if y.ndim == 1:
        y = y[:, None]
    if y.shape[1] != n_params:
        raise ValueError(f"expected {n_params} columns (one per parameter), got shape {y.shape}")
    return y


def regression_rows(y_true, y_pred, parameters=PARAMETERS, **labels) -> list[dict]:
    """One row per parameter: n, MAE, RMSE (NaN with n = 0 for an empty set).

    Args:
        y_true: true values [N, P] (or [N] for one parameter), a and b in Å, gamma in degrees.
        y_pred: predictions, the same shape.
        parameters: names of the P columns.
        **labels: columns added to every row (model, dataset ...).

    Returns:
        One dict per parameter: ``**labels``, ``parameter``, ``n``, ``MAE``, ``RMSE`` (the
        parameter's unit).

    Raises:
        ValueError: a column count differs from ``len(parameters)``, or the row counts differ.
    """
    y_true, y_pred = _as_2d(y_true, len(parameters)), _as_2d(y_pred, len(parameters))
    if len(y_true) != len(y_pred):
        raise ValueError(f"{len(y_true)} true values but {len(y_pred)} predictions")
    return [{**labels, "parameter": p, "n": len(y_true),
             "MAE": mae(y_true[:, k], y_pred[:, k]), "RMSE": rmse(y_true[:, k], y_pred[:, k])}
            for k, p in enumerate(parameters)]


def baseline_prediction(train_targets, n: int) -> np.ndarray:
    """The paper's baseline: the training-set mean of each parameter, for every test sample.

    Args:
        train_targets: training targets [N_train, P] (a, b in Å, gamma in degrees).
        n: number of test samples.

    Returns:
        float [n, P], every row the training mean.
    """
    mean = np.asarray(train_targets, dtype=float).mean(axis=0)
    return np.broadcast_to(mean, (n, mean.size)).copy()


def subset_table(test: pd.DataFrame, y_pred, subsets=tuple(TEST_SUBSETS),
                 parameters=PARAMETERS, **labels) -> pd.DataFrame:
    """Table 1 layout: MAE/RMSE per parameter on each test subset, with its n.

    Args:
        test: test table with the true parameters as columns (a, b in Å, gamma in degrees).
        y_pred: predictions [N, P], rows as in ``test``.
        subsets: keys of ``TEST_SUBSETS`` to report, in order.
        parameters: names of the P parameters (columns of ``test``).
        **labels: columns added to every row.

    Returns:
        One row per subset and parameter: ``**labels``, ``subset``, ``subset_title``,
        ``parameter``, ``n``, ``MAE``, ``RMSE``.

    Raises:
        ValueError: an unknown subset, or predictions of another shape.
    """
    y_true = test[list(parameters)].to_numpy(float)
    y_pred = _as_2d(y_pred, len(parameters))
    rows = []
    for s in subsets:
        m = subset_mask(test, s)
        rows += regression_rows(y_true[m], y_pred[m], parameters, **labels, subset=s,
                                subset_title=TEST_SUBSETS[s][0])
    return pd.DataFrame(rows)


# ------------------------------------------------------------------ classification

def confusion(y_true, y_pred, n_classes: int) -> np.ndarray:
    """Confusion matrix of class labels.

    Args:
        y_true: true class labels [N], 0 to ``n_classes`` - 1.
        y_pred: predicted class labels [N], same range.
        n_classes: number of classes.

    Returns:
        int [n_classes, n_classes] counts, true class by row, predicted class by column.

    Raises:
        ValueError: a label lies outside 0 to ``n_classes`` - 1.
    """
    y_true, y_pred = np.asarray(y_true, int), np.asarray(y_pred, int)
    for name, y in (("true", y_true), ("predicted", y_pred)):
        if y.size and (y.min() < 0 or y.max() >= n_classes):
            raise ValueError(f"{name} labels outside 0..{n_classes - 1}: {sorted(set(y) - set(range(n_classes)))}")
    cm = np.zeros((n_classes, n_classes), dtype=int)
    np.add.at(cm, (y_true, y_pred), 1)
    return cm


def classification_table(y_true, y_pred, n_classes: int = 5, **labels) -> pd.DataFrame:
    """Per-class precision, recall, F1 and support, then accuracy, macro and weighted averages
    (the layout of scikit-learn's ``classification_report`` and of the paper's Table 2).

    A class that is never predicted has undefined precision; a class absent from the test set
    has undefined recall: both are NaN here (scikit-learn would write 0 with a warning). The
    macro average runs over the classes present in the test set and says how many those are.

    Args:
        y_true: true class labels [N], 0 to ``n_classes`` - 1.
        y_pred: predicted class labels [N], same range.
        n_classes: number of classes (5 Bravais classes).
        **labels: columns added to every row.

    Returns:
        One row per class (``class`` "0" ...), then ``accuracy`` (in ``f1``, as a fraction),
        the macro and the weighted average: ``precision``, ``recall``, ``f1`` (fractions) and
        ``support`` (counts).

    Raises:
        ValueError: a label lies outside 0 to ``n_classes`` - 1.
    """
    cm = confusion(y_true, y_pred, n_classes)
    tp = np.diag(cm).astype(float)
    support, predicted = cm.sum(axis=1), cm.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(predicted > 0, tp / np.maximum(predicted, 1), np.nan)
        recall = np.where(support > 0, tp / np.maximum(support, 1), np.nan)
        # F1 = 2TP / (2TP + FP + FN) = 2TP / (support + predicted): no 0/0 when support > 0
        f1 = np.where(support > 0, 2 * tp / np.maximum(support + predicted, 1), np.nan)
    rows = [{**labels, "class": str(c), "precision": precision[c], "recall": recall[c],
             "f1": f1[c], "support": int(support[c])} for c in range(n_classes)]
    n = int(support.sum())
    present = support > 0
    acc = float(tp.sum() / n) if n else float("nan")
    rows.append({**labels, "class": "accuracy", "precision": np.nan, "recall": np.nan,
                 "f1": acc, "support": n})
    # a class present but never predicted counts as precision 0 in the averages
    p0 = np.nan_to_num(precision)
    rows.append({**labels,
                 "class": f"macro avg ({int(present.sum())} classes)" if present.sum() < n_classes else "macro avg",
                 "precision": float(p0[present].mean()) if n else np.nan,
                 "recall": float(recall[present].mean()) if n else np.nan,
                 "f1": float(f1[present].mean()) if n else np.nan, "support": n})
    w = support / n if n else np.zeros(n_classes)
    rows.append({**labels, "class": "weighted avg",
                 "precision": float((p0 * w).sum()) if n else np.nan,
                 "recall": float((np.nan_to_num(recall) * w).sum()) if n else np.nan,
                 "f1": float((np.nan_to_num(f1) * w).sum()) if n else np.nan, "support": n})
    return pd.DataFrame(rows)


def accuracy_and_f1(y_true, y_pred, n_classes: int = 5) -> dict:
    """Table S1's two numbers (accuracy in %, F1), with both F1 averages named.

    Args:
        y_true: true class labels [N].
        y_pred: predicted class labels [N].
        n_classes: number of classes.

    Returns:
        ``accuracy_pct`` (%), ``f1_macro`` and ``f1_weighted`` (fractions), and ``n``.

    Raises:
        ValueError: a label lies outside 0 to ``n_classes`` - 1.
    """
    t = classification_table(y_true, y_pred, n_classes).set_index("class")
    macro = t.index[t.index.str.startswith("macro")][0]
    return {"accuracy_pct": 100 * t.loc["accuracy", "f1"], "f1_macro": t.loc[macro, "f1"],
            "f1_weighted": t.loc["weighted avg", "f1"], "n": int(t.loc["accuracy", "support"])}


# ------------------------------------------------------------------ chemistry groups (Table S5)

CHALCOGENS = ("S", "Se", "Te")
HALOGENS = ("F", "Cl", "Br", "I")
METAL_GAP_EV = 0.05
CHEMISTRY_GROUPS = {
    "semiconductors": "Semiconductors/Insulators (Eg > 0.05 eV)",
    "metals": "Metals (Eg ≤ 0.05 eV)",
    "chalcogenides": "Chalcogenides (S/Se/Te)",
    "halides": "Halides (F/Cl/Br/I)",
    "tmd": "TMD (MX2)",
}


def _elements(value) -> set:
    return set(value.split()) if isinstance(value, str) else set(value)


def is_tmd(formula: str) -> bool:
    """Whether a formula is a TMD: MX2 with M a transition metal and X a chalcogen (S, Se, Te).

    Args:
        formula: chemical formula (reduced before the test).

    Returns:
        True for a transition-metal dichalcogenide.
    """
    from pymatgen.core import Composition

    comp = Composition(formula).reduced_composition
    if len(comp) != 2:
        return False
    amounts = {el.symbol: comp[el] for el in comp}
    metals = [el for el in comp if el.is_transition_metal and amounts[el.symbol] == 1]
    chalc = [s for s, n in amounts.items() if s in CHALCOGENS and n == 2]
    return len(metals) == 1 and len(chalc) == 1


def chemistry_masks(table: pd.DataFrame) -> dict:
    """The rows of each chemistry group of Table S5.

    Metals and semiconductors split at ``METAL_GAP_EV`` (eV); the offline corpus has no band
    gaps, so those two groups are then not available.

    Args:
        table: table with ``elements`` (space-separated symbols or a collection), ``band_gap``
            (eV) and ``formula``.

    Returns:
        Group name (keys of ``CHEMISTRY_GROUPS``) -> ``(bool [N] mask, None)``, or
        ``(None, reason)`` when the table cannot fill the group.
    """
    elements = table["elements"].map(_elements)
    gap = pd.to_numeric(table["band_gap"], errors="coerce")
    out = {}
    if gap.notna().any():
        known = gap.notna().to_numpy()
        out["semiconductors"] = (known & (gap.to_numpy() > METAL_GAP_EV), None)
        out["metals"] = (known & (gap.to_numpy() <= METAL_GAP_EV), None)
    else:
        reason = "no band gaps in this data source (offline corpus: structures only)"
        out["semiconductors"] = (None, reason)
        out["metals"] = (None, reason)
    out["chalcogenides"] = (elements.map(lambda e: bool(e & set(CHALCOGENS))).to_numpy(), None)
    out["halides"] = (elements.map(lambda e: bool(e & set(HALOGENS))).to_numpy(), None)
    out["tmd"] = (table["formula"].map(is_tmd).to_numpy(), None)
    return out


def chemistry_table(test: pd.DataFrame, y_pred, parameters=PARAMETERS, **labels) -> pd.DataFrame:
    """Table S5: MAE and RMSE per chemistry group; unavailable groups are rows saying why.

    Args:
        test: test table with the true parameters (a, b in Å, gamma in degrees), ``elements``,
            ``band_gap`` (eV) and ``formula``.
        y_pred: predictions [N, P], rows as in ``test``.
        parameters: names of the P parameters (columns of ``test``).
        **labels: columns added to every row.

    Returns:
        Columns ``**labels``, ``group``, ``parameter``, ``n``, ``MAE``, ``RMSE`` (the parameter's
        unit) and ``note`` (why a group is empty or not available).

    Raises:
        ValueError: predictions of another shape.
    """
    y_true = test[list(parameters)].to_numpy(float)
    y_pred = _as_2d(y_pred, len(parameters))
    rows = []
    for group, (mask, reason) in chemistry_masks(test).items():
        if mask is None:
            rows += [{**labels, "group": group, "parameter": p, "n": 0, "MAE": np.nan,
                      "RMSE": np.nan, "note": f"not available: {reason}"} for p in parameters]
        else:
            rows += [{**r, "group": group, "note": "" if r["n"] else "empty group"}
                     for r in regression_rows(y_true[mask], y_pred[mask], parameters, **labels)]
    return pd.DataFrame(rows)[[*labels, "group", "parameter", "n", "MAE", "RMSE", "note"]]


GAMMA_CLASSES = np.array([60.0, 90.0, 120.0])


def snap_gamma(gamma) -> np.ndarray:
    """The nearest of 60, 90, 120 degrees (Figure S2's confusion matrices).

    Args:
        gamma: angles in degrees, any shape.

    Returns:
        float array of the same shape, each 60.0, 90.0 or 120.0 degrees.
    """
    g = np.asarray(gamma, dtype=float)
    return GAMMA_CLASSES[np.abs(g[..., None] - GAMMA_CLASSES).argmin(axis=-1)]


def gamma_confusion(true_gamma, pred_gamma) -> np.ndarray:
    """[3, 3] counts of true (rows) against predicted (columns) gamma, each snapped to 60, 90 or
    120 degrees (Figure S2).

    Args:
        true_gamma: true angles [N], degrees.
        pred_gamma: predicted angles [N], degrees.

    Returns:
        int [3, 3], rows and columns in the order 60, 90, 120 degrees.
    """
    return confusion(GAMMA_CLASSES.searchsorted(snap_gamma(true_gamma)),
                     GAMMA_CLASSES.searchsorted(snap_gamma(pred_gamma)), len(GAMMA_CLASSES))
