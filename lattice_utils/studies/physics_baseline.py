"""Notebook 14 as functions: the FFT lattice estimator beside DenseNet121 on the simulated test
splits (Table 1's layout), and the estimator on images degraded by dose, scan stretch and drift."""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from ..lattice import fft_lattice
from ..learn import metrics
from ..simulate import degrade

__all__ = ["COMPARISON_COLUMNS", "DEGRADATIONS", "degradation_levels", "degradation_table", "estimator_vs_network"]

# the columns of table_14_physics_vs_densenet, in order
COMPARISON_COLUMNS = ["dataset", "subset", "parameter", "method", "truth", "used", "n", "MAE", "RMSE"]
# the three ways an image is degraded, with the levels notebook 14 sweeps
DEGRADATIONS = {"dose (e/px at peak)": (10, 30, 100, 1000), "scan stretch (%)": (0.5, 1, 2, 5),
                "drift (px per frame)": (1, 2, 5, 10)}


def estimator_vs_network(results: dict, parameters: Sequence[str] = metrics.PARAMETERS) -> pd.DataFrame:
    """MAE and RMSE of DenseNet121 and of the FFT estimator per dataset, test subset and parameter.

    DenseNet121 is scored against the stored cell (the paper's labels) on every test image; the
    estimator against the reduced cells (a <= b, 90 <= gamma <= 120 degrees) of the crystal and of
    its projection along z, on the images where it found a lattice and on those it calls reliable.

    Args:
        results: dataset slot -> (test, network, estimator): ``test`` the test table with the true
            a, b, gamma (Å, Å, degrees), the reduced crystal cell ``canon_a``, ``canon_b``,
            ``canon_gamma`` and the projection's ``proj_a``, ``proj_b``, ``proj_gamma``; ``network``
            DenseNet121's predictions [n, 3] (Å, Å, degrees); ``estimator`` the FFT estimator's
            answers (``fft_lattice.LatticeEstimate.as_dict`` rows: a, b, gamma, label, reliable).
        parameters: the regressed parameters, in the order of the prediction columns.

    Returns:
        One row per dataset, subset, parameter, method, truth and images used, with n, MAE and
        RMSE (Å or degrees), columns ``COMPARISON_COLUMNS``, unrounded.
    """
    params = list(parameters)
    rows = []
    for slot, (test, network, estimate) in results.items():
        found, reliable = (estimate.label >= 0).to_numpy(), estimate.reliable.to_numpy()
        fft_pred = estimate[params].to_numpy(float)
        truths = {"crystal": test[["canon_a", "canon_b", "canon_gamma"]].to_numpy(float),
                  "projection": test[["proj_a", "proj_b", "proj_gamma"]].to_numpy(float)}
        for subset in metrics.TEST_SUBSETS:
            mask = metrics.subset_mask(test, subset)
            for r in metrics.regression_rows(test[params].to_numpy(float)[mask], network[mask]):
                rows.append({"dataset": slot, "subset": subset, "method": "DenseNet121",
                             "truth": "stored cell (paper labels)", "used": "all", **r})
            for truth, values in truths.items():
                for used, sel in (("found", mask & found), ("reliable", mask & reliable)):
                    for r in metrics.regression_rows(values[sel], fft_pred[sel]):
                        rows.append({"dataset": slot, "subset": subset, "method": "FFT estimator",
                                     "truth": f"{truth} (reduced cell)", "used": used, **r})
    return pd.DataFrame(rows)[COMPARISON_COLUMNS]


def degradation_levels(rng: np.random.Generator) -> list[tuple[str, float, Callable]]:
    """The degradations of notebook 14, weakest first within each kind.

    Args:
        rng: the generator of the shot noise (drawn from in the order the levels are applied).

    Returns:
        (kind, level, degrade) triples: ``degrade`` maps an image ([H, W] float in [0, 1]) to its
        degraded copy; dose in electrons per pixel at the brightest pixel, scan stretch in per cent
        of the fast axis, drift in pixels per frame.
    """
    dose, stretch, drift = DEGRADATIONS
    return ([(dose, d, lambda im, d=d: degrade.shot_noise(im, d, rng)) for d in DEGRADATIONS[dose]]
            + [(stretch, x, lambda im, x=x: degrade.scan_distortion(im, stretch=x / 100))
               for x in DEGRADATIONS[stretch]]
            + [(drift, x, lambda im, x=x: degrade.drift(im, x)) for x in DEGRADATIONS[drift]])


def degradation_table(images: Sequence[np.ndarray], truth: pd.DataFrame, levels, px_scale: float) -> pd.DataFrame:
    """How the FFT estimator fares on degraded copies of images whose lattice is known.

    Args:
        images: the clean images, each [H, W] float in [0, 1].
        truth: one row per image with the true ``proj_a``, ``proj_b`` (Å) and ``proj_gamma``
            (degrees) of the projected cell.
        levels: (kind, level, degrade) triples, as ``degradation_levels`` gives them.
        px_scale: the images' pixel size (Å per pixel).

    Returns:
        One row per level: n, found % and reliable % (per cent of the images), MAE of a, b (Å) and
        gamma (degrees) over the images where a lattice was found, the median error of a and the
        median error the estimator reports for a (Å), and the per cent of images whose error in a
        is under twice the reported one. NaN where no lattice was found.
    """
    rows = []
    for kind, level, fn in levels:
        errs = []
        for k, img in enumerate(images):
            e = fft_lattice.estimate_lattice(fn(img), px_scale)
            errs.append((e.label >= 0, e.reliable, abs(e.a - truth.proj_a.iloc[k]), abs(e.b - truth.proj_b.iloc[k]),
                         abs(e.gamma - truth.proj_gamma.iloc[k]), e.a_err))
        e = np.array(errs, dtype=float)
        f = e[:, 0] > 0
        rows.append({"degradation": kind, "level": level, "n": len(images), "found %": 100 * f.mean(),
                     "reliable %": 100 * e[:, 1].mean(), "MAE a": np.nanmean(e[f, 2]) if f.any() else np.nan,
                     "MAE b": np.nanmean(e[f, 3]) if f.any() else np.nan,
                     "MAE gamma": np.nanmean(e[f, 4]) if f.any() else np.nan,
                     "median |err a|": np.nanmedian(e[f, 2]) if f.any() else np.nan,
                     "median reported a_err": np.nanmedian(e[f, 5]) if f.any() else np.nan,
                     "|err a| < 2 a_err %": 100 * np.mean(e[f, 2] < 2 * e[f, 5]) if f.any() else np.nan})
    return pd.DataFrame(rows)
