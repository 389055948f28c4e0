"""Does a classifier trained on the offline stand-in work on real structures? The transfer
benchmark of notebook 05: the stand-in's structures drawn the way AtomVision drew the paper's
STEM-JV2D set (``simulate.image_set_style``, read back through the set's own crop), a network
trained on them alone, scored on the set's test images (real JARVIS monolayers with their
Bravais labels), beside the same network trained on the set's own training images and the FFT
estimator on the same test images."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..core.profiles import Profile
from ..data import datasets, image_sets
from ..lattice import fft_lattice
from ..lattice.lattice2d import CLASS_SHORT
from ..learn import metrics
from .stem_studies import SlotData, fit_network

__all__ = ["stand_in_like_image_set", "network_classes", "fft_classes", "transfer_rows", "confusions", "draw_bars"]


def stand_in_like_image_set(slot: str, profile: Profile, image_set: str = "stem_jv2d", force: bool = False,
                            verbose: bool = False) -> SlotData:
    """The offline stand-in of ``slot`` (the profile's corpus and split) drawn like ``image_set``.

    Args:
        slot: the dataset slot whose stand-in is drawn (``jv2d`` for STEM-JV2D).
        profile: the profile: corpus size, split, workers, chunk size.
        image_set: the paper's image set whose drawing is copied.
        force: rebuild the corpus and the images even when cached.
        verbose: print progress.

    Returns:
        The ``SlotData`` (source ``offline-like-<image_set>``).
    """
    table = datasets.with_split(datasets.load_corpus(slot, profile, "offline", force=force, verbose=verbose),
                                profile)
    store = image_sets.build_styled_store(slot, table, image_set, profile.chunk_size, profile.workers,
                                          force, verbose)
    return SlotData(slot, profile, f"offline-like-{image_set}", table, store)


def network_classes(trained_on: SlotData, target: SlotData, arch: str = "densenet121", force: bool = False,
                    log=print) -> np.ndarray:
    """The classes a network trained on ``trained_on`` (``fit_network``, cached) gives the test
    images of ``target``.

    Args:
        trained_on: the training data.
        target: the data whose test split is scored.
        arch: the network.
        force: train again even when cached.
        log: callable that prints a line.

    Returns:
        int [n_test of target], classes 0-4.
    """
    model = fit_network(trained_on, "classify", arch, force=force, log=log)
    return model.predict_classes(target.inputs(model.config.input_px), target.rows("test"))


def fft_classes(target: SlotData) -> np.ndarray:
    """The FFT estimator's strict class of each test image of ``target`` (-1 where it finds no
    lattice), at the store's pixel size.

    Args:
        target: the data whose test split is read.

    Returns:
        int [n_test], classes 0-4 or -1.
    """
    px = target.store.params.px_scale
    return np.array([fft_lattice.estimate_lattice(target.store[int(i)].astype(float), px).label
                     for i in target.rows("test")])


def transfer_rows(truth, predictions: dict) -> pd.DataFrame:
    """One row per method: accuracy and recall per class (fractions), with n.

    Args:
        truth: the test images' classes [n].
        predictions: method name -> predicted classes [n] (-1 for no answer: counted wrong).

    Returns:
        Columns method, n, accuracy, recall_hp ... recall_mp (NaN for a class absent from the test).
    """
    truth = np.asarray(truth, int)
    rows = []
    for method, pred in predictions.items():
        pred = np.asarray(pred, int)
        row = {"method": method, "n": len(truth), "accuracy": float((pred == truth).mean()) if len(truth) else np.nan}
        for c, short in enumerate(CLASS_SHORT):
            mask = truth == c
            row[f"recall_{short}"] = float((pred[mask] == c).mean()) if mask.any() else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


def confusions(truth, predictions: dict) -> dict:
    """Method -> confusion matrix of its classes.

    Args:
        truth: the test images' classes [n].
        predictions: method name -> predicted classes [n] (-1 for no answer).

    Returns:
        Method -> int [5, 6]: true class by row, predicted class by column, the last column for no
        answer.
    """
    truth = np.asarray(truth, int)
    out = {}
    for method, pred in predictions.items():
        pred = np.where(np.asarray(pred, int) < 0, 5, np.asarray(pred, int))
        out[method] = metrics.confusion(truth, pred, 6)[:5]
    return out


def draw_bars(ax, table: pd.DataFrame, majority: float | None = None) -> None:
    """Accuracy and per-class recall per method as grouped bars (one group per quantity).

    Args:
        ax: a matplotlib axes.
        table: ``transfer_rows``' table.
        majority: the majority-class rate of the test split, drawn as a line (None: not drawn).
    """
    cols = ["accuracy"] + [f"recall_{s}" for s in CLASS_SHORT]
    x = np.arange(len(cols))
    width = 0.8 / max(len(table), 1)
    for k, (_, row) in enumerate(table.iterrows()):
        ax.bar(x + (k - (len(table) - 1) / 2) * width, [row[c] for c in cols], width, label=row["method"])
    if majority is not None:
        ax.axhline(majority, color="k", lw=0.8, ls="--", label="majority class")
    ax.set_xticks(x, ["accuracy"] + [f"recall {s}" for s in CLASS_SHORT])
    ax.set_ylim(0, 1)
    ax.set_ylabel("fraction of the test images")
    ax.legend(fontsize=7)
