"""Does a classifier trained on the offline stand-in work on real structures? The transfer
benchmark of notebook 05: the stand-in's structures drawn the way AtomVision drew the paper's
STEM-JV2D set (``simulate.image_set_style``, read back through the set's own crop), a network
trained on them alone, scored on the set's test images (real JARVIS monolayers with their
Bravais labels), beside the same network trained on the set's own training images and the FFT
estimator on the same test images.

Run as a module it measures what the layer-group share of the stand-in does to transfer (issue
31 item 2): ``python -m lattice_utils.studies.transfer --shares 0 0.3 --seeds 0 1`` trains one
quick-profile classifier per share and seed (cached) and prints accuracy and recall per class on
the STEM-JV2D test images, beside the share of flat layers and Table 1's baseline, which the
stand-in must keep (the STEM-JV2D zip must be in the raw-data folder)."""
from __future__ import annotations

import argparse
import dataclasses
import sys

import numpy as np
import pandas as pd

from ..core import paths
from ..core.profiles import Profile, get_profile
from ..core.storage import write_text
from ..data import datasets, image_sets, offline_corpus
from ..data.structures import DataUnavailableError
from ..lattice import fft_lattice
from ..lattice.lattice2d import CLASS_SHORT
from ..learn import metrics
from . import corpus_stats
from .stem_studies import SlotData, classification_slot, fit_network

__all__ = ["stand_in_like_image_set", "network_classes", "fft_classes", "transfer_rows", "confusions", "draw_bars",
           "layer_group_rows", "main"]


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


def layer_group_rows(shares, seeds, profile: str = "quick", log=print) -> pd.DataFrame:
    """Transfer to the STEM-JV2D test images of a classifier trained on the jv2d stand-in with
    each layer-group share, for each seed (the profile's seed replaced: corpus, split and network).

    Args:
        shares: layer-group shares of the stand-in's records, each 0-1.
        seeds: profile seeds.
        profile: the profile whose corpus size, image size and training are used.
        log: callable that prints a line.

    Returns:
        One row per share and seed: share, seed, the measured share of layer-group records and of
        perfectly flat layers, Table 1's baseline MAE of a and b in Å (a property of the data; the
        paper's JV2D: 1.29 and 1.87 Å), n, accuracy and recall per class.

    Raises:
        DataUnavailableError: the STEM-JV2D image set is not in the raw-data folder.
    """
    rows = []
    for seed in seeds:
        P = dataclasses.replace(get_profile(profile), seed=int(seed))
        target = classification_slot("jv2d", P, "paper")
        truth = target.test["label"].to_numpy()
        for share in shares:
            with offline_corpus.layer_group_share("jv2d", float(share)):
                stand_in = stand_in_like_image_set("jv2d", P)
            pred = network_classes(stand_in, target, log=log)
            table = stand_in.table
            figures = corpus_stats.realism(table)
            base = corpus_stats.baseline_errors(table)
            row = {"share": float(share), "seed": int(seed),
                   "layer_group_records": float(table["prototype"].astype(str).str.startswith("layer group").mean()),
                   "flat_layers": figures["perfectly flat layers"],
                   "baseline_mae_a": base["a"]["MAE"], "baseline_mae_b": base["b"]["MAE"]}
            row.update(transfer_rows(truth, {"stand-in": pred}).drop(columns="method").iloc[0].to_dict())
            rows.append(row)
            log(f"share {share} seed {seed}: accuracy {row['accuracy']:.3f}")
    return pd.DataFrame(rows)


def main(argv=None) -> int:
    """Command line: the layer-group share sweep of ``layer_group_rows``.

    Writes ``reports/tables/transfer_layer_groups.csv`` and prints the table.

    Args:
        argv: the arguments (``--shares``, ``--seeds``, ``--profile``); None reads the command line.

    Returns:
        The exit status: 0 done, 2 refused (a share outside 0-1, or the STEM-JV2D set missing).
    """
    ap = argparse.ArgumentParser(prog="python -m lattice_utils.studies.transfer",
                                 description="Transfer of the stand-in-trained classifier to the STEM-JV2D test "
                                             "images, by layer-group share of the stand-in")
    ap.add_argument("--shares", type=float, nargs="+", default=[0.0, 0.3])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--profile", default="quick", choices=["smoke", "quick", "paper"])
    args = ap.parse_args(argv)
    bad = [s for s in args.shares if not 0.0 <= s <= 1.0]
    if bad:
        print(f"error: --shares must lie in 0-1, got {bad}", file=sys.stderr)
        return 2
    try:
        table = layer_group_rows(args.shares, args.seeds, args.profile)
    except DataUnavailableError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    paths.ensure(paths.TABLES)
    write_text(paths.TABLES / "transfer_layer_groups.csv", table.to_csv(index=False, lineterminator="\n"))
    print(table.round(3).to_markdown(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
