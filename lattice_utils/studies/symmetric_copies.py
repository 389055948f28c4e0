"""The eight symmetric copies one by one: the class each paper-settings network gives each copy of
each test image, added to the committed snapshot whose networks they are.

Averaged over the eight copies, the paper-settings networks lose accuracy (notebook 05). The reason
offered is that the paper's recipe trains without augmentation on images drawn with a lattice vector
along x, and four of the copies (rotated by 90 or 270°) turn it onto y. Scoring each copy on its own
tests that: the copies rotated by 0 or 180°, mirrored or not, keep the vector on x and should score as
the network does; the other four should score lower (``prediction_stats.copy_accuracy``).

It runs over the weights that the paper-settings run left in the data folder, one inference pass of
eight copies per network; nothing is trained. A network whose weights are missing, or whose
configuration is not the one the snapshot records, is left out; one whose unturned copy does not give
the snapshot's own predictions is refused (those are not the weights the snapshot scored).

    python -m lattice_utils.studies.symmetric_copies --set stem_jv2d --profile paper
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys

import numpy as np
import pandas as pd

from ..core import paths, storage
from ..core.profiles import get_profile
from ..core.provenance import git_commit
from ..data.image_sets import IMAGE_SETS
from ..learn.training import DIHEDRAL_COPIES, TrainedModel
from . import snapshots, stem_studies

__all__ = ["COLUMNS", "NETWORKS", "copy_predictions", "matches_snapshot", "add_to_snapshot", "main"]

COLUMNS = ["model", "seed", "id", "true", "copy", "rotation_deg", "mirrored", "predicted", "p0", "p1", "p2", "p3", "p4"]
NETWORKS = ("densenet121", "googlenet")


def copy_predictions(sd: stem_studies.SlotData, net: TrainedModel) -> pd.DataFrame:
    """The class a network gives each of the eight symmetric copies of each test image.

    Args:
        sd: the slot's data (its ``test`` split is scored).
        net: a trained Bravais classifier.

    Returns:
        One row per (test image, copy): ``id``, ``true``, ``copy`` (0-7, ``DIHEDRAL_COPIES``' order),
        ``rotation_deg`` (0, 90, 180, 270; anticlockwise), ``mirrored`` (in x, after the rotation),
        ``predicted`` and the class probabilities ``p0``-``p4`` (six decimals).
    """
    truth = sd.test["label"].to_numpy().astype(int)
    ids = sd.test["id"].astype(str).to_numpy() if "id" in sd.test else np.arange(len(truth)).astype(str)
    per_copy = net.copy_probabilities(sd.inputs(net.config.input_px), sd.rows("test"))
    frames = [pd.DataFrame({"id": ids, "true": truth, "copy": k, "rotation_deg": degrees, "mirrored": mirrored,
                            "predicted": per_copy[k].argmax(axis=1).astype(int),
                            **{f"p{c}": per_copy[k][:, c].round(6) for c in range(per_copy.shape[2])}})
              for k, (degrees, mirrored) in enumerate(DIHEDRAL_COPIES)]
    return pd.concat(frames, ignore_index=True)


def matches_snapshot(copies: pd.DataFrame, committed: pd.DataFrame) -> str:
    """Why a network's unturned copy disagrees with the snapshot's predictions, or "" when it agrees.

    Args:
        copies: ``copy_predictions`` of one network.
        committed: the snapshot's predictions of the same training (``snapshots.PREDICTIONS`` rows).

    Returns:
        "" when copy 0 (the image as it is) has the snapshot's images, true classes and predictions;
        else a sentence saying what differs.
    """
    plain, theirs = copies[copies["copy"] == 0], committed
    if plain["id"].duplicated().any() or theirs["id"].duplicated().any():
        return "an image is predicted twice"
    plain, theirs = plain.set_index("id"), theirs.set_index("id")
    if len(theirs) == 0 or set(plain.index) != set(theirs.index):
        return f"the test images differ ({len(plain)} here, {len(theirs)} in the snapshot)"
    plain = plain.loc[theirs.index]
    if (plain["true"].astype(int) != theirs["true"].astype(int)).any():
        return "the test images' true classes differ from the snapshot's"
    differ = int((plain["predicted"] != theirs["predicted"].astype(int)).sum())
    return f"{differ} of {len(theirs)} predictions differ from the snapshot's" if differ else ""


def add_to_snapshot(set_name: str = "stem_jv2d", profile: str = "paper", models=NETWORKS, log=print) -> dict:
    """Score every network of the reported snapshot whose weights are here on the eight copies of
    each test image, and write the rows into the snapshot (``snapshots.PER_COPY``, recorded in its
    ``meta.json`` under ``per_copy_kept`` with each training's configuration key).

    Args:
        set_name: the paper's image set (``stem_jv2d``, ``stem_c2db``).
        profile: the profile the snapshot was run at.
        models: the networks to score, among ``NETWORKS``.
        log: callable that prints a line.

    Returns:
        {"written": [(seed, model)], "left out": [(seed, model, why)]}.

    Raises:
        ValueError: an unknown set or model, no snapshot of the set and profile, or no network of
            it could be scored (nothing is written then).
    """
    if set_name not in IMAGE_SETS:
        raise ValueError(f"unknown image set {set_name!r}; choose one of {sorted(IMAGE_SETS)}")
    unknown = sorted(set(models) - set(NETWORKS))
    if unknown:
        raise ValueError(f"unknown network(s) {unknown}; choose from {NETWORKS}")
    found = snapshots.kept(set_name, profile)
    if found is None:
        raise ValueError(f"no committed snapshot of {set_name} at the {profile} profile in "
                         f"{paths.relative(paths.SNAPSHOTS)}")
    # the code this process runs, read at its start; the snapshot's own files do not count as a change
    commit = git_commit(ignore=("reports/snapshots",))
    runs = sorted((int(r["seed"]), r["model"], r.get("config_key")) for r in found.meta.get("runs", [])
                  if r.get("model") in models)
    frames, records, left_out = [], [], []
    for seed, model, key in runs:
        sd = stem_studies.load_slot(IMAGE_SETS[set_name].slot,
                                    dataclasses.replace(get_profile(profile), seed=seed), set_name)
        why = ""
        if stem_studies.network_setup(sd, "classify", model)[0].key() != key:
            why = "its configuration here is not the snapshot's"
        elif not stem_studies.network_trained(sd, "classify", model):
            why = "its weights are not in the data folder"
        else:
            net = stem_studies.fit_network(sd, "classify", model, log=log)    # loads; never trains
            copies = copy_predictions(sd, net)
            committed = found.predictions[(found.predictions["seed"] == seed) & (found.predictions["model"] == model)]
            differ = matches_snapshot(copies, committed)
            if differ:
                why = f"refused: {differ}"
            else:
                frames.append(copies.assign(model=model, seed=seed)[COLUMNS])
                records.append({"seed": seed, "model": model, "config_key": key, "commit": commit})
        if why:
            left_out.append((seed, model, why))
        log(f"seed {seed} {model}: {f'left out ({why})' if why else 'eight copies scored'}")
    if not frames:
        raise ValueError(f"no network of {paths.relative(found.folder)} could be scored: "
                         + "; ".join(f"seed {s} {m}: {why}" for s, m, why in left_out))
    table = pd.concat(frames, ignore_index=True).sort_values(["model", "seed", "id", "copy"], kind="stable")
    storage.write_text(found.folder / snapshots.PER_COPY, table.to_csv(index=False, lineterminator="\n"))
    meta = dict(found.meta, per_copy_kept=records)
    storage.write_text(found.folder / "meta.json", json.dumps(meta, indent=1, sort_keys=True) + "\n")
    return {"written": [(r["seed"], r["model"]) for r in records], "left out": left_out}


def main(argv=None) -> int:
    """Command line: ``python -m lattice_utils.studies.symmetric_copies --set stem_jv2d --profile paper``.

    Args:
        argv: the arguments (None: the command line's).

    Returns:
        0 when rows were written, 2 when nothing could be (the message says why).
    """
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", default="stem_jv2d", choices=sorted(IMAGE_SETS))
    ap.add_argument("--profile", default="paper")
    ap.add_argument("--models", nargs="+", default=list(NETWORKS), choices=NETWORKS)
    args = ap.parse_args(argv)
    try:
        done = add_to_snapshot(args.set, args.profile, tuple(args.models))
    except ValueError as exc:
        print(f"symmetric_copies: {exc}", file=sys.stderr)
        return 2
    print(f"written: {len(done['written'])} trainings; left out: {len(done['left out'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
