"""What the kept per-image test predictions of several trainings give without retraining:
accuracies recomputed, confusion matrices summed over seeds, a bootstrap interval over the test
images, McNemar's paired test between two networks, the seed ensemble, and each symmetric copy
scored on its own (from the per-copy classes, ``copy_accuracy``).

A predictions table has one row per (model, seed, test image): ``model``, ``seed``, ``id``,
``true``, ``predicted`` and the class probabilities ``p0`` ... ``p4`` (``paper_runs.PREDICTION_COLUMNS``).
Pure functions of that table: the snapshot is read elsewhere.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..learn.metrics import confusion
from .verdicts import LEVEL, clopper_pearson, mean_interval

__all__ = ["PROBABILITIES", "accuracy_per_run", "confusion_over_seeds", "row_normalised", "bootstrap_accuracy",
           "mcnemar_exact", "paired_tests", "seed_ensemble", "single_accuracy", "improvements", "copy_accuracy",
           "copy_disagreements"]

PROBABILITIES = ("p0", "p1", "p2", "p3", "p4")


def _check(preds: pd.DataFrame) -> None:
    missing = [c for c in ("model", "seed", "id", "true", "predicted") if c not in preds]
    if missing:
        raise ValueError(f"the predictions lack the column(s) {missing}")
    twice = preds.duplicated(["model", "seed", "id"])
    if twice.any():
        r = preds[twice].iloc[0]
        raise ValueError(f"image {r['id']} is predicted twice by {r['model']} seed {r['seed']}")


def accuracy_per_run(preds: pd.DataFrame) -> pd.DataFrame:
    """The test accuracy of each training (model and seed).

    Args:
        preds: a predictions table (one row per model, seed and test image).

    Returns:
        One row per (model, seed): ``model``, ``seed``, ``n`` (test images), ``correct`` and
        ``accuracy_pct`` (%).

    Raises:
        ValueError: a required column is missing, or an image is predicted twice by one training.
    """
    _check(preds)
    ok = (preds["true"] == preds["predicted"]).astype(int)
    g = ok.groupby([preds["model"], preds["seed"]], sort=True)
    out = pd.DataFrame({"n": g.size(), "correct": g.sum()}).reset_index()
    out["accuracy_pct"] = 100.0 * out["correct"] / out["n"]
    return out


def confusion_over_seeds(preds: pd.DataFrame, model: str, n_classes: int = 5) -> np.ndarray:
    """Counts [true class, predicted class] of ``model`` summed over its seeds: each test image
    appears once per seed, so a row sums to (seeds x that class's test images).

    Args:
        preds: a predictions table.
        model: the model whose seeds are summed (``densenet121``, ...).
        n_classes: the number of classes (5 Bravais classes).

    Returns:
        int counts [n_classes, n_classes], rows the true class, columns the predicted one.

    Raises:
        ValueError: a required column is missing, an image is predicted twice by one training, a
            class lies outside 0..n_classes-1, or there is no prediction of ``model``.
    """
    _check(preds)
    sub = preds[preds["model"] == model]
    if sub.empty:
        raise ValueError(f"no predictions of {model!r}")
    return confusion(sub["true"], sub["predicted"], n_classes)


def row_normalised(counts: np.ndarray) -> np.ndarray:
    """Each row divided by its sum (the recall of each class on the diagonal); NaN for a class
    without test images.

    Args:
        counts: a confusion matrix [n_classes, n_classes] (rows: true class).

    Returns:
        float [n_classes, n_classes], each row's fractions (summing to 1), or NaN for an empty row.
    """
    counts = np.asarray(counts, dtype=float)
    totals = counts.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, counts / totals, np.nan)


def _correct_matrix(preds: pd.DataFrame, model: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(image ids, seeds, correct[image, seed]) of ``model``; every seed must hold the same images."""
    sub = preds[preds["model"] == model]
    if sub.empty:
        raise ValueError(f"no predictions of {model!r}")
    table = (sub["true"] == sub["predicted"]).astype(int).groupby([sub["id"].astype(str), sub["seed"]]).first()
    wide = table.unstack("seed")
    if wide.isna().any().any():
        raise ValueError(f"the seeds of {model!r} did not predict the same test images")
    return wide.index.to_numpy(), wide.columns.to_numpy(), wide.to_numpy(int)


def bootstrap_accuracy(preds: pd.DataFrame, model: str, n_boot: int = 4000, seed: int = 0,
                       level: float = LEVEL) -> dict:
    """The mean accuracy over seeds (%) of ``model`` and its percentile bootstrap interval over
    test images: the images are drawn with replacement, the same draw for every seed, so the
    interval says how much another test set of the same size could move the mean. It leaves
    out the seed-to-seed spread (the verdicts' t interval has that), so the two answer
    different questions.

    Args:
        preds: a predictions table.
        model: the model (``densenet121``, ...).
        n_boot: the number of bootstrap resamples.
        seed: the random generator's seed (the draws, not a training seed).
        level: the two-sided coverage (0.95).

    Returns:
        {"model", "seeds", "n" (test images), "accuracy_pct" (%), "low", "high" (the interval, %),
        "resamples"}.

    Raises:
        ValueError: no prediction of ``model``, or its seeds did not predict the same test images.
    """
    _, seeds, correct = _correct_matrix(preds, model)
    n = correct.shape[0]
    rng = np.random.default_rng(seed)
    per_image = correct.mean(axis=1)            # each image's share of seeds that got it right
    draws = rng.integers(0, n, size=(n_boot, n))
    boot = 100.0 * per_image[draws].mean(axis=1)
    lo, hi = np.quantile(boot, [(1 - level) / 2, 1 - (1 - level) / 2])
    return {"model": model, "seeds": len(seeds), "n": n, "accuracy_pct": 100.0 * per_image.mean(),
            "low": float(lo), "high": float(hi), "resamples": n_boot}


def mcnemar_exact(correct_a, correct_b) -> dict:
    """McNemar's exact test of two classifiers on the same images: ``b`` images only A got right,
    ``c`` only B; under "equally accurate" each discordant image is a fair coin, so the two-sided
    p value is the binomial tail of min(b, c) in b + c draws, doubled (1 when nothing differs).

    Args:
        correct_a: bool [n]: whether classifier A got each image right.
        correct_b: bool [n]: the same for classifier B, on the same images in the same order.

    Returns:
        {"only_a": b, "only_b": c, "p_value": two-sided p, at most 1}.

    Raises:
        ValueError: the two are not 1-D arrays of the same length.
    """
    a, b_ = np.asarray(correct_a, dtype=bool), np.asarray(correct_b, dtype=bool)
    if a.shape != b_.shape or a.ndim != 1:
        raise ValueError(f"the two classifiers must be scored on the same images: {a.shape} vs {b_.shape}")
    b, c = int((a & ~b_).sum()), int((~a & b_).sum())
    p = 1.0 if b + c == 0 else min(1.0, 2.0 * float(stats.binom.cdf(min(b, c), b + c, 0.5)))
    return {"only_a": b, "only_b": c, "p_value": p}


def paired_tests(preds: pd.DataFrame, model_a: str, model_b: str) -> pd.DataFrame:
    """McNemar between two networks for each seed both were trained with, on the images both
    predicted: seed, n, accuracies, images only each got right, p value.

    Args:
        preds: a predictions table.
        model_a: the first model (``densenet121``, ...).
        model_b: the second model.

    Returns:
        One row per common seed: ``seed``, ``n`` (images both predicted), ``<model> accuracy %``
        for each, ``only <model>`` (images only that one got right) for each, ``McNemar p``.

    Raises:
        ValueError: a required column is missing, or an image is predicted twice by one training.
    """
    _check(preds)
    rows = []
    a_all, b_all = preds[preds["model"] == model_a], preds[preds["model"] == model_b]
    for seed in sorted(set(a_all["seed"]) & set(b_all["seed"])):
        a = a_all[a_all["seed"] == seed].set_index(a_all[a_all["seed"] == seed]["id"].astype(str))
        b = b_all[b_all["seed"] == seed].set_index(b_all[b_all["seed"] == seed]["id"].astype(str))
        ids = a.index.intersection(b.index)
        ok_a = (a.loc[ids, "true"] == a.loc[ids, "predicted"]).to_numpy()
        ok_b = (b.loc[ids, "true"] == b.loc[ids, "predicted"]).to_numpy()
        test = mcnemar_exact(ok_a, ok_b)
        rows.append({"seed": int(seed), "n": len(ids), f"{model_a} accuracy %": 100.0 * ok_a.mean(),
                     f"{model_b} accuracy %": 100.0 * ok_b.mean(), f"only {model_a}": test["only_a"],
                     f"only {model_b}": test["only_b"], "McNemar p": test["p_value"]})
    return pd.DataFrame(rows)


def seed_ensemble(preds: pd.DataFrame, model: str) -> pd.DataFrame:
    """One prediction per test image from all seeds of ``model``: the class of the highest mean
    probability (id, true, predicted, seeds). Needs the class probabilities.

    Args:
        preds: a predictions table with the class probabilities ``p0`` ... ``p4``.
        model: the model whose seeds are averaged.

    Returns:
        One row per test image: ``id``, ``true``, ``predicted`` (the ensemble's class) and
        ``seeds`` (how many seeds predicted it).

    Raises:
        ValueError: a required column is missing, an image is predicted twice by one training, or
            ``model`` has no class probabilities.
    """
    _check(preds)
    sub = preds[preds["model"] == model]
    cols = [c for c in PROBABILITIES if c in sub]
    if sub.empty or not cols or sub[cols].isna().all(axis=None):
        raise ValueError(f"no class probabilities of {model!r} to average")
    mean = sub.groupby(sub["id"].astype(str))[cols].mean()
    truth = sub.groupby(sub["id"].astype(str))["true"].first()
    seeds = sub.groupby(sub["id"].astype(str))["seed"].nunique()
    return pd.DataFrame({"id": mean.index, "true": truth.loc[mean.index].to_numpy(int),
                         "predicted": mean.to_numpy().argmax(axis=1), "seeds": seeds.loc[mean.index].to_numpy()})


def single_accuracy(true, predicted, level: float = LEVEL) -> dict:
    """Accuracy (%) of one classifier with its Clopper-Pearson interval over its n test images.

    Args:
        true: the true classes, [n].
        predicted: the predicted classes, [n].
        level: the two-sided coverage (0.95).

    Returns:
        {"n", "correct", "accuracy_pct" (%), "low", "high" (the interval, %)}.

    Raises:
        ValueError: no test image (n = 0).
    """
    true, predicted = np.asarray(true), np.asarray(predicted)
    n, k = len(true), int((true == predicted).sum())
    lo, hi = clopper_pearson(k, n, level)
    return {"n": n, "correct": k, "accuracy_pct": 100.0 * k / n if n else float("nan"),
            "low": 100.0 * lo, "high": 100.0 * hi}


def _over_seeds(per_seed: pd.Series, bounds=(-np.inf, np.inf)) -> tuple[float, float, float, int]:
    """Mean over seeds with its t interval, cut to ``bounds`` (an accuracy lies in [0, 100])."""
    k = len(per_seed)
    m = float(per_seed.mean())
    lo, hi = mean_interval(m, float(per_seed.std(ddof=1)), k) if k > 1 else (np.nan, np.nan)
    return m, max(lo, bounds[0]), min(hi, bounds[1]), k


def improvements(preds: pd.DataFrame, symmetric: pd.DataFrame, model: str) -> pd.DataFrame:
    """What the same trained network gives when the paper's recipe is improved where physics
    allows, without retraining: its test predictions averaged over the eight symmetric copies
    of each image, the ensemble of its seeds, and both. One row per way, with the accuracy (%),
    its 95 % interval and what that interval is (over seeds: Student's t; one classifier: Clopper-
    Pearson over the test images; a t interval is cut at 0 and 100 %), and for the symmetric
    average its paired gain over the network as trained (per seed, t interval).

    Args:
        preds: a predictions table of the networks as trained (``PREDICTIONS``), with class
            probabilities.
        symmetric: the same networks' predictions averaged over the eight symmetric copies
            (``SYMMETRIC``); may be empty, which leaves its rows out.
        model: the model (``densenet121``, ...).

    Returns:
        One row per way: ``model``, ``way``, ``seeds``, ``n`` (test images), ``accuracy_pct``,
        ``low``, ``high`` (%), ``interval`` (what the interval is) and, for the symmetric average,
        ``gain_points``, ``gain_low``, ``gain_high`` (percentage points).

    Raises:
        ValueError: a required column is missing, an image is predicted twice by one training,
            ``model`` has no predictions, or it has no class probabilities.
    """
    _check(preds)
    if not (preds["model"] == model).any():
        raise ValueError(f"no test predictions of {model!r} in the table: nothing to improve on")
    plain = accuracy_per_run(preds[preds["model"] == model]).set_index("seed")["accuracy_pct"]
    rows = []

    def seeds_row(way, per_seed, gain=None):
        m, lo, hi, k = _over_seeds(per_seed, (0.0, 100.0))
        row = {"model": model, "way": way, "seeds": k, "n": int(n), "accuracy_pct": m, "low": lo, "high": hi,
               "interval": "mean over seeds, t" if k > 1 else "one seed"}
        if gain is not None:
            g, glo, ghi, _ = _over_seeds(gain)
            row.update(gain_points=g, gain_low=glo, gain_high=ghi)
        rows.append(row)

    def ensemble_row(way, table):
        ens = seed_ensemble(table, model)
        acc = single_accuracy(ens["true"], ens["predicted"])
        rows.append({"model": model, "way": way, "seeds": int(ens["seeds"].max()), "n": acc["n"],
                     "accuracy_pct": acc["accuracy_pct"], "low": acc["low"], "high": acc["high"],
                     "interval": "one classifier, Clopper-Pearson"})

    n = len(preds[(preds["model"] == model) & (preds["seed"] == plain.index[0])])
    seeds_row("as trained (the paper's recipe)", plain)
    sym = symmetric[symmetric["model"] == model] if len(symmetric) else symmetric
    if len(sym):
        averaged = accuracy_per_run(sym).set_index("seed")["accuracy_pct"]
        both = averaged.index.intersection(plain.index)
        seeds_row("eight symmetric copies averaged", averaged.loc[both], averaged.loc[both] - plain.loc[both])
    ensemble_row("ensemble of the seeds", preds)
    if len(sym):
        ensemble_row("ensemble of the seeds, eight copies averaged", sym)
    return pd.DataFrame(rows)


def copy_accuracy(per_copy: pd.DataFrame, model: str, true_class: int | None = None) -> pd.DataFrame:
    """Each symmetric copy scored on its own, and the copies that keep the image's orientation
    against those that turn it by 90°: does the network lose accuracy on the copies whose lattice
    vector lies along y, an orientation its training images lacked?

    Args:
        per_copy: one row per (model, seed, test image, copy): ``model``, ``seed``, ``id``, ``true``,
            ``copy``, ``rotation_deg`` (0, 90, 180, 270), ``mirrored``, ``predicted``
            (``snapshots.PER_COPY``).
        model: the model (``densenet121``, ...).
        true_class: score only the test images of this true class; None: every image.

    Returns:
        One row per copy, then one for the copies rotated by 0 or 180° (mirrored or not), one for
        those rotated by 90 or 270°, and one for their difference: ``model``, ``copies`` (what is
        scored), ``seeds``, ``n`` (test images), ``accuracy_pct`` (mean over seeds, %; the
        difference in percentage points, paired seed by seed) and ``low``, ``high``, its 95 % t
        interval over seeds (NaN with one seed). A group's accuracy per seed is the mean of its four
        copies' accuracies.

    Raises:
        ValueError: a required column is missing, ``model`` has no rows (of ``true_class``), an
            image's copy is predicted twice by one training, a training lacks a copy of some image,
            or the seeds scored different test images.
    """
    need = ["model", "seed", "id", "true", "copy", "rotation_deg", "mirrored", "predicted"]
    missing = [c for c in need if c not in per_copy]
    if missing:
        raise ValueError(f"the per-copy predictions lack the column(s) {missing}")
    rows = per_copy[per_copy["model"] == model]
    if not len(rows):
        raise ValueError(f"no per-copy predictions of {model!r} in the table")
    if rows.duplicated(["seed", "id", "copy"]).any():
        r = rows[rows.duplicated(["seed", "id", "copy"])].iloc[0]
        raise ValueError(f"copy {r['copy']} of image {r['id']} is predicted twice by {model} seed {r['seed']}")
    images = rows.groupby("seed")["id"].agg(lambda ids: frozenset(ids))
    counts = rows.groupby("seed").size()
    for seed in counts.index:
        if counts[seed] != 8 * len(images[seed]):
            raise ValueError(f"{model} seed {seed} lacks a copy of some image "
                             f"({counts[seed]} rows for {len(images[seed])} images x 8 copies)")
    if len(set(images)) > 1:
        raise ValueError(f"the seeds of {model} scored different test images")
    if true_class is not None:
        rows = rows[rows["true"] == true_class]
        if not len(rows):
            raise ValueError(f"no test image of class {true_class} in the per-copy predictions of {model!r}")
    acc = (rows.assign(hit=rows["true"] == rows["predicted"])
           .groupby(["seed", "copy", "rotation_deg", "mirrored"])["hit"].mean().mul(100.0).reset_index())
    n = int(rows.groupby("seed")["id"].nunique().iloc[0])
    out = []

    def row(what, per_seed, bounds=(0.0, 100.0)):
        m, lo, hi, k = _over_seeds(per_seed, bounds)
        out.append({"model": model, "copies": what, "seeds": k, "n": n, "accuracy_pct": m, "low": lo, "high": hi})

    for (copy, deg, mirrored), g in acc.groupby(["copy", "rotation_deg", "mirrored"]):
        row(f"copy {copy}: rotated {deg}°" + (", mirrored" if mirrored else ""), g.set_index("seed")["hit"])
    kept = acc[acc["rotation_deg"] % 180 == 0].groupby("seed")["hit"].mean()
    turned = acc[acc["rotation_deg"] % 180 != 0].groupby("seed")["hit"].mean()
    row("rotated 0 or 180° (orientation kept)", kept)
    row("rotated 90 or 270° (turned)", turned)
    row("turned minus kept (points)", turned - kept, (-np.inf, np.inf))
    return pd.DataFrame(out)


def copy_disagreements(per_copy: pd.DataFrame, model: str) -> pd.DataFrame:
    """Why the eight-copy average loses less than its turned copies: where the mean of the four copies
    that keep the orientation and the mean of the four turned ones name different classes, which side
    the average of all eight takes, and how sure each side is.

    Args:
        per_copy: per-copy predictions with class probabilities ``p0``-``p4`` (``copy_accuracy``).
        model: the model (``densenet121``, ...).

    Returns:
        One row per quantity, its mean over seeds with the 95 % t interval (NaN with one seed):
        ``model``, ``quantity``, ``seeds``, ``n`` (test images), ``value``, ``low``, ``high``. The
        quantities: the images where the two sides disagree (count); of those, the share (%) where
        the eight-copy average takes the kept side (NaN for a seed without disagreement, left out of
        the mean); the mean probability (%) a kept copy and a turned copy give the class it predicts.

    Raises:
        ValueError: what ``copy_accuracy`` refuses, or the table has no class probabilities.
    """
    copy_accuracy(per_copy, model)          # the same checks of the table
    missing = [c for c in PROBABILITIES if c not in per_copy]
    if missing or per_copy.loc[per_copy["model"] == model, list(PROBABILITIES)].isna().any().any():
        raise ValueError(f"the per-copy predictions of {model!r} keep no class probabilities")
    rows = per_copy[per_copy["model"] == model]
    n = int(rows.groupby("seed")["id"].nunique().iloc[0])
    per_seed = []
    for seed, g in rows.groupby("seed"):
        kept = g["rotation_deg"] % 180 == 0
        side = {name: g[mask].groupby("id")[list(PROBABILITIES)].mean() for name, mask in (("kept", kept),
                                                                                            ("turned", ~kept))}
        k_cls, t_cls = side["kept"].to_numpy().argmax(1), side["turned"].loc[side["kept"].index].to_numpy().argmax(1)
        all_cls = (side["kept"].to_numpy() + side["turned"].loc[side["kept"].index].to_numpy()).argmax(1)
        differ = k_cls != t_cls
        top = g[list(PROBABILITIES)].max(axis=1) * 100.0
        per_seed.append({"seed": seed, "disagree": float(differ.sum()),
                         "kept wins": 100.0 * float((all_cls[differ] == k_cls[differ]).mean()) if differ.any()
                         else np.nan,
                         "kept top": float(top[kept].mean()), "turned top": float(top[~kept].mean())})
    table = pd.DataFrame(per_seed).set_index("seed")
    names = {"disagree": "images where the kept and the turned copies' means name different classes",
             "kept wins": "of those, the eight-copy average takes the kept side (%)",
             "kept top": "probability a kept copy gives the class it predicts (%)",
             "turned top": "probability a turned copy gives the class it predicts (%)"}
    out = []
    for col, quantity in names.items():
        m, lo, hi, k = _over_seeds(table[col].dropna(), (0.0, np.inf) if col == "disagree" else (0.0, 100.0))
        out.append({"model": model, "quantity": quantity, "seeds": k, "n": n, "value": m, "low": lo, "high": hi})
    return pd.DataFrame(out)

