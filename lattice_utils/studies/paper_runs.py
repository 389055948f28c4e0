"""The paper's classification studies on the paper's own images, over several seeds, and a
dated snapshot of the results that the reproduction report can show without a rerun.

    python -m lattice_utils.studies.paper_runs --set stem_jv2d [--profile paper] [--seeds 0 1 2]
                                               [--models densenet121 googlenet mlp] [--snapshot]
                                               [--skip-unfinished] [--replace]

Each (seed, model) is trained by ``stem_studies.classification_study`` with the profile's settings (the paper profile:
224 px, 50 epochs, batch 16, Adam, lr 1e-3, constant), cached and resumable, so the command can
be interrupted and run again. ``--snapshot`` writes ``reports/snapshots/<date>-<set>-<profile>/``
of the checkout (``paths.SNAPSHOTS``, wherever LATTICE_OUTPUT_DIR sends the other outputs): the
per-seed Table S1 and Table 2 rows, their mean and spread, and what produced them (commit,
settings, machine, time per training). With ``--snapshot`` the snapshot is rewritten after every
seed, so a run that spans sessions leaves its finished seeds behind at each stop; ``meta.json``
says which seeds were asked for and whether all have finished. Writing a complete snapshot removes
the older folders of the same set and profile (git keeps them); an incomplete one keeps the newest
complete older one, which the report reads until the new one has every seed.

The committed snapshot is also the memory of a run that outlives its machine: each training's
record holds the key of its whole configuration (images, split, settings, precision path, seed),
and a training whose key and per-image predictions are in the newest snapshot is not run again;
its committed rows and predictions are kept, with the commit and day that produced them (one from
a snapshot written before predictions were kept is trained again). A machine with another precision path has
other keys, so its seeds are trained afresh and never averaged with the earlier machine's; and
``--snapshot`` refuses, before training, to replace a snapshot that holds trainings the run would
drop (another precision path, or seeds and models not asked for) unless ``--replace`` is given.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import functools
import json
import os
import platform
import shutil
import time
from collections import Counter

import pandas as pd

from ..core import paths, storage
from ..core.profiles import get_profile
from ..core.provenance import git_commit
from ..data.image_sets import IMAGE_SETS
from ..data.structures import DataUnavailableError
from ..learn.fitting import default_device, resolve_precision
from . import snapshots, stem_studies

__all__ = ["MODELS", "PREDICTION_COLUMNS", "HISTORY_COLUMNS", "Results",
           "run_seeds", "epoch_timing", "spread", "write_snapshot", "parser",
           "main"]

MODELS = ("densenet121", "googlenet", "mlp")


@dataclasses.dataclass
class Results:
    """What a run over seeds gives: Table S1 rows (one per training), Table 2 rows (per class,
    DenseNet121), the training records, every test prediction, the networks' predictions averaged
    over eight symmetric copies of each image (``stem_studies.classification_study(symmetric=True)``)
    and their per-epoch training loss.

    Two ``Results`` add up (``+``): every table is concatenated and the run lists joined.

    Attributes:
        table_s1: Table S1 rows, one per training: dataset, model, model_title, ``accuracy_pct``
            (%), ``f1_macro``, ``f1_weighted`` (fractions), ``n`` (test images), ``data_source``,
            ``seed``.
        table_2: Table 2 rows of DenseNet121, per class and seed: precision, recall, F1
            (fractions), support.
        runs: one record per training: set, seed, model, ``train_seconds`` and ``wall_seconds``
            (s), epochs, median epoch seconds and images/s, and the networks' provenance
            (config_key, precision, commit, date, device).
        predictions: every test prediction (``PREDICTION_COLUMNS``).
        symmetric: the networks' predictions averaged over the eight symmetric copies
            (``PREDICTION_COLUMNS``).
        history: the networks' per-epoch training record (``HISTORY_COLUMNS``).
    """
    table_s1: pd.DataFrame = dataclasses.field(default_factory=pd.DataFrame)
    table_2: pd.DataFrame = dataclasses.field(default_factory=pd.DataFrame)
    runs: list = dataclasses.field(default_factory=list)
    predictions: pd.DataFrame = dataclasses.field(default_factory=pd.DataFrame)
    symmetric: pd.DataFrame = dataclasses.field(default_factory=pd.DataFrame)
    history: pd.DataFrame = dataclasses.field(default_factory=pd.DataFrame)

    def __add__(self, other: "Results") -> "Results":
        """Both results together: tables concatenated, run lists joined."""
        def both(name):
            a, b = getattr(self, name), getattr(other, name)
            return _concat(a, b) if isinstance(a, pd.DataFrame) else a + b

        return Results(**{f.name: both(f.name) for f in dataclasses.fields(self)})


def run_seeds(set_name: str, profile: str = "paper", seeds=(0, 1, 2), models=("densenet121",),
              skip_unfinished: bool = False, log=print) -> Results:
    """Per-seed Table S1 rows (accuracy, F1 per model), Table 2 rows (per class), the training
    records (seconds, epochs), every test prediction (seed, model, image id, true and predicted
    class, class probabilities), the networks' symmetric-copy averages and training curves, each
    training scored by the study of notebooks 02 and 05 (``stem_studies.classification_study``):
    this runner adds only the loop over seeds.
    ``skip_unfinished``: a network whose training has not finished is left out instead of
    trained (the MLP, minutes on a CPU, always runs), so that a snapshot can report the finished
    part of a run while another process trains the rest.

    A network whose identical training (same configuration key) is in the newest committed
    snapshot with its predictions is not trained again: its committed rows are kept.

    Args:
        set_name: the paper's image set (``stem_jv2d``, ``stem_c2db``).
        profile: the profile name (``paper``, ``quick``, ...).
        seeds: the seeds, one training per seed and model.
        models: among ``MODELS`` (``densenet121``, ``googlenet``, ``mlp``).
        skip_unfinished: leave out networks whose training has not finished instead of training them.
        log: callable that prints a line.

    Returns:
        The ``Results`` of every training.

    Raises:
        ValueError: an unknown image set or model, or a seed or model given more than once.
    """
    if set_name not in IMAGE_SETS:
        raise ValueError(f"unknown image set {set_name!r}; choose one of {sorted(IMAGE_SETS)}")
    unknown = sorted(set(models) - set(MODELS))
    if unknown:
        raise ValueError(f"unknown model(s) {unknown}; choose from {MODELS}")
    repeated = repeated_arguments(seeds, models)
    if repeated:
        raise ValueError(repeated)
    _commit_at_start()      # before hours of training, while the checkout is the code that runs
    base = get_profile(profile)
    slot = IMAGE_SETS[set_name].slot
    out = Results()
    for seed in seeds:
        P = dataclasses.replace(base, seed=int(seed))
        sd = stem_studies.load_slot(slot, P, set_name)
        for model in models:
            t0 = time.perf_counter()
            network = model != "mlp"
            if network:
                config_key = stem_studies.network_setup(sd, "classify", model)[0].key()
                earlier = committed_result(set_name, profile, int(seed), model, config_key)
                trained = stem_studies.network_trained(sd, "classify", model)
                # a committed result without its symmetric averages is scored again where the
                # weights are still here (one pass of inference); elsewhere it is kept as it is
                if earlier is not None and (len(earlier.symmetric) or not trained):
                    # the same training's result is committed: kept as it is, with its commit and
                    # day, even where the weights are gone (a session on another machine)
                    run = earlier.runs[0]
                    log(f"seed {seed} {model}: finished at commit {run.get('commit')} on {run.get('date')}; "
                        f"its committed result is kept")
                    out = out + earlier
                    continue
                if skip_unfinished and not trained:
                    log(f"seed {seed} {model}: training not finished, left out")
                    continue
            study = stem_studies.classification_study(sd, model, symmetric=network, log=log)
            net = study.network
            tag = {"seed": int(seed), "model": model}
            out = out + Results(
                pd.DataFrame([{**study.table_s1, "data_source": set_name, "seed": int(seed)}]),
                study.table_2.assign(seed=int(seed)) if model == "densenet121" else pd.DataFrame(),
                [{"set": set_name, **tag,
                  "train_seconds": None if net is None else float(sum(h.get("seconds", 0.0) for h in net.history)),
                  "wall_seconds": round(time.perf_counter() - t0, 1),
                  **({} if net is None else {**epoch_timing(net.history), **provenance(net.config)})}],
                study.predictions.assign(**tag),
                pd.DataFrame() if study.symmetric_predictions is None else study.symmetric_predictions.assign(**tag),
                pd.DataFrame() if net is None else history_rows(net.history).assign(**tag))
    return out


HISTORY_COLUMNS = ["model", "seed", "epoch", "loss", "seconds", "images_per_s"]


def history_rows(history: list) -> pd.DataFrame:
    """One row per epoch of a training's record: epoch, training loss, seconds, images/s."""
    return pd.DataFrame([{c: h.get(c) for c in HISTORY_COLUMNS[2:]} for h in history], columns=HISTORY_COLUMNS[2:])


def provenance(config) -> dict:
    """What identifies a finished training beyond this machine's cache: the key of its whole
    configuration (images, split, settings, precision, seed), the commit and day it ran, and
    the device. ``committed_result`` finds it again by that key when the weights are gone."""
    return {"config_key": config.key(), "precision": config.precision, "commit": _commit_at_start(),
            "date": dt.date.today().isoformat(), "device": device_name()}


@functools.lru_cache(maxsize=1)
def _commit_at_start() -> str:
    # read once, when the process starts its first run: the code it runs is the code of that
    # commit even if later commits land while a run of many hours goes on; the snapshot rewrites
    # its own files after every seed, and they do not make the code dirty
    return git_commit(ignore=("reports/snapshots",))


def committed_result(set_name: str, profile: str, seed: int, model: str, config_key: str) -> Results | None:
    """The ``Results`` of one training with this configuration key, and its predictions kept, in
    the newest committed snapshot of the set and profile, or None. A result is reused only for the
    identical configuration: a run on another machine with another precision path, or on other
    images, is a different training and is trained again."""
    found = snapshots.newest_snapshots().get((set_name, profile))
    if found is None:
        return None
    folder, meta = found
    run = next((r for r in meta.get("runs", []) if r.get("config_key") == config_key
                and int(r.get("seed", -1)) == seed and r.get("model") == model), None)
    if run is None:
        return None
    if f"seed {seed} {model}" not in meta.get("predictions_kept", []):
        # a snapshot written before per-image predictions were kept: its summary alone cannot give
        # confusion matrices, bootstrap intervals or paired tests, so the training is done again
        return None
    s1 = snapshots.read_snapshot_table(folder / "table_s1_per_seed.csv")
    rows = s1 if s1.empty else s1[(s1["seed"] == seed) & (s1["model"] == model)]
    if len(rows) != 1:
        return None
    t2 = snapshots.read_snapshot_table(folder / "table_2_per_seed.csv") if model == "densenet121" else pd.DataFrame()
    if len(t2):
        t2 = t2[t2["seed"] == seed].reset_index(drop=True)

    def mine(df):
        return df[(df["seed"] == seed) & (df["model"] == model)].reset_index(drop=True) if len(df) else df

    kept = [mine(snapshots.read_kept(folder, name))
            for name in (snapshots.PREDICTIONS, snapshots.SYMMETRIC, snapshots.HISTORY)]
    return Results(rows.reset_index(drop=True), t2, [dict(run)], *kept)


PREDICTION_COLUMNS = ["model", "seed", "id", "true", "predicted", "p0", "p1", "p2", "p3", "p4"]


def epoch_timing(history: list) -> dict:
    """Epochs and the median epoch's seconds and images/s. The median, not the sum, is what
    a run that was paused or shared the CPU for a while can still tell about the speed.

    Args:
        history: a training's per-epoch records (dicts with ``seconds`` and ``images_per_s``).

    Returns:
        {"epochs": count, "median_epoch_seconds": s (1 decimal), "median_images_per_s": images/s
        (2 decimals)}; a median is None when no epoch records it.
    """
    seconds = [float(h["seconds"]) for h in history if h.get("seconds")]
    rates = [float(h["images_per_s"]) for h in history if h.get("images_per_s")]
    return {"epochs": len(history),
            "median_epoch_seconds": round(float(pd.Series(seconds).median()), 1) if seconds else None,
            "median_images_per_s": round(float(pd.Series(rates).median()), 2) if rates else None}


def spread(per_seed: pd.DataFrame, keys: list, values: list) -> pd.DataFrame:
    """Mean, sample standard deviation and number of seeds of ``values`` per ``keys``.

    Args:
        per_seed: one row per training (seed).
        keys: the columns that group the rows (e.g. dataset, data_source, model).
        values: the columns summarised (e.g. accuracy_pct, f1_macro, f1_weighted).

    Returns:
        One row per group: ``keys``, then ``<value>_mean`` and ``<value>_std`` (ddof 1, NaN for one
        seed; in the values' units) for each value, then ``seeds``.
    """
    g = per_seed.groupby(keys, sort=False)[values]
    out = g.mean().add_suffix("_mean").join(g.std(ddof=1).add_suffix("_std")).join(
        g.size().rename("seeds"))
    return out.reset_index()


def write_snapshot(set_name: str, profile: str, per_seed_s1: pd.DataFrame, per_seed_t2: pd.DataFrame,
                   runs: list, date: str | None = None, seeds_requested=None, models_requested=None,
                   predictions: pd.DataFrame | None = None, symmetric: pd.DataFrame | None = None,
                   history: pd.DataFrame | None = None) -> str:
    """``reports/snapshots/<date>-<set>-<profile>/``: per-seed and summary tables, meta.json and,
    where given, every test prediction (``snapshots.PREDICTIONS``: a few hundred kB for five seeds of three
    models), from which confusion matrices, bootstrap intervals and paired tests are computed
    without retraining, the networks' symmetric-copy averages (``snapshots.SYMMETRIC``) and their training
    curves (``snapshots.HISTORY``). ``seeds_requested`` and ``models_requested`` (default: those in
    ``per_seed_s1``) let a snapshot written part-way through a run say what is missing
    (``not_done``, ``complete``). Writing it removes the older snapshots of the same set and profile
    (``superseded_snapshots``).

    Args:
        set_name: the paper's image set (``stem_jv2d``, ``stem_c2db``).
        profile: the profile name.
        per_seed_s1: Table S1 rows, one per training (``Results.table_s1``).
        per_seed_t2: Table 2 rows per class and seed (``Results.table_2``); may be empty.
        runs: the training records (``Results.runs``).
        date: the snapshot's date, ISO ``YYYY-MM-DD``; None: today.
        seeds_requested: the seeds the run asks for; None: those in ``per_seed_s1``.
        models_requested: the models the run asks for; None: those in ``per_seed_s1``.
        predictions: every test prediction (``PREDICTION_COLUMNS``), or None.
        symmetric: the symmetric-copy averages (``PREDICTION_COLUMNS``), or None.
        history: the per-epoch training record (``HISTORY_COLUMNS``), or None.

    Returns:
        The snapshot folder, relative to the checkout (``paths.relative``).

    Raises:
        ValueError: the tables or the run records hold a (seed, model) more than once; nothing is
            written.
    """
    twice = snapshots.repeated_training(zip(per_seed_s1.get("seed", []), per_seed_s1.get("model", []))) \
        or snapshots.repeated_training((r.get("seed", -1), r.get("model")) for r in runs)
    if twice:
        # the spread over one training counted as several seeds is a spread of nothing
        raise ValueError(f"the snapshot would hold {twice}: one training counted "
                         "as several seeds; nothing was written")
    date = date or dt.date.today().isoformat()
    done = {(int(r["seed"]), r["model"]) for r in per_seed_s1.to_dict("records")}
    seeds = sorted({int(x) for x in (seeds_requested if seeds_requested is not None else {d[0] for d in done})})
    models = list(models_requested) if models_requested is not None else sorted({d[1] for d in done})
    not_done = [f"seed {sd} {m}" for sd in seeds for m in models if (sd, m) not in done]
    # in the checkout, not under LATTICE_OUTPUT_DIR: it is committed, and the report and the
    # snapshot guard read it there
    out = paths.ensure(paths.SNAPSHOTS / f"{date}-{set_name}-{profile}")
    keys = ["dataset", "data_source", "model"] + (["model_title"] if "model_title" in per_seed_s1 else [])
    s1 = spread(per_seed_s1, keys, ["accuracy_pct", "f1_macro", "f1_weighted"])
    t2 = spread(per_seed_t2, ["dataset", "class"], ["precision", "recall", "f1", "support"]) \
        if len(per_seed_t2) else pd.DataFrame()
    for name, df in (("table_s1_per_seed", per_seed_s1), ("table_s1_summary", s1),
                     ("table_2_per_seed", per_seed_t2), ("table_2_summary", t2)):
        storage.write_text(out / f"{name}.csv", df.to_csv(index=False, lineterminator="\n"))
    kept = {}
    for name, df, columns, order in ((snapshots.PREDICTIONS, predictions, PREDICTION_COLUMNS, "id"),
                                     (snapshots.SYMMETRIC, symmetric, PREDICTION_COLUMNS, "id"),
                                     (snapshots.HISTORY, history, HISTORY_COLUMNS, "epoch")):
        if df is not None and len(df):
            table = df[columns].sort_values(["model", "seed", order], kind="stable")
            storage.write_text(out / name, table.to_csv(index=False, lineterminator="\n"))
            kept[name] = sorted({f"seed {int(sd)} {m}" for sd, m in zip(table["seed"], table["model"])})
        elif (out / name).exists():
            (out / name).unlink()      # an earlier write's, for trainings this one may not hold
    # the per-copy classes are added afterwards by their own pass over these trainings' weights
    # (studies.symmetric_copies); an earlier write's belong to the trainings it held
    (out / snapshots.PER_COPY).unlink(missing_ok=True)
    P = get_profile(profile)
    slot = IMAGE_SETS[set_name].slot
    meta = {"set": set_name, "slot": slot, "profile": profile, "date": date,
            # the code this process runs (read when it started), not whatever landed since
            "commit": _commit_at_start(),
            "seeds_requested": seeds, "models_requested": models,
            "model_titles": {m: stem_studies.model_title(m, P.backbone) for m in models},
            "seeds_done": sorted({d[0] for d in done}), "not_done": not_done, "complete": not not_done,
            "settings": {"input_px": P.input_px, "epochs": P.epochs[slot],
                         "batch_size": P.batch_size, "lr": P.lr_classify, "schedule": P.lr_schedule,
                         "precision": P.precision, "precision_used": resolve_precision(P.precision),
                         "mlp_backbone": P.backbone},
            "machine": {"platform": platform.platform(), "processor": platform.processor(),
                        "cpus": os.cpu_count(), "device": device_name()},
            "runs": runs, "predictions_kept": kept.get(snapshots.PREDICTIONS, []),
            "symmetric_average_kept": kept.get(snapshots.SYMMETRIC, []),
            "history_kept": kept.get(snapshots.HISTORY, [])}
    # indented: the file is committed, and a reviewer reads its diff
    storage.write_text(out / "meta.json", json.dumps(meta, indent=1, sort_keys=True) + "\n")
    for old in superseded_snapshots(out):
        shutil.rmtree(old)
        print(f"removed the older snapshot {paths.relative(old)} (git history keeps it)")
    return paths.relative(out)


def device_name() -> str:
    """"cpu", or the name of the GPU the trainings ran on."""
    import torch

    device = default_device()
    return torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"


def superseded_snapshots(newest) -> list:
    """Snapshot folders of the same set and profile as ``newest`` that are older: a run that spans
    days would otherwise leave one stale folder per day. While ``newest`` is incomplete, the newest
    complete older one stays: the report reads it (``snapshots.reported_snapshots``) until the run
    in progress has every seed."""
    meta = storage.read_json(newest / "meta.json")
    good, damaged = snapshots.scan_snapshots()
    same = [(d, other) for d, other in good
            if d.name < newest.name and (other["set"], other["profile"]) == (meta["set"], meta["profile"])]
    complete = [d for d, other in same if other.get("complete")]
    kept = {complete[-1]} if complete and not meta.get("complete") else set()
    # a damaged folder has no readable set and profile: its name says them (<date>-<set>-<profile>)
    return [d for d, _ in same if d not in kept] + \
        [d for d, _ in damaged if d.name < newest.name and d.name.endswith(f"-{meta['set']}-{meta['profile']}")]


def repeated_arguments(seeds, models) -> str:
    """The message for a seed or model asked for more than once, or '': a repeated seed is one
    training counted as several, a spread of nothing."""
    for what, values in (("seed", [int(s) for s in seeds]), ("model", list(models))):
        counts = Counter(values)
        twice = [f"{what} {v} is given {n} times" for v, n in counts.items() if n > 1]
        if twice:
            return (f"{'; '.join(twice)} in --{what}s: each {what} is one training, so a repeated one "
                    f"would be counted as several; give each {what} once")
    return ""


def damaged_snapshot_refused(set_name: str, profile: str) -> str:
    """The message when a snapshot folder of this set and profile cannot be read, so the snapshot
    guard cannot tell which trainings it holds, or ''."""
    damaged = [why for d, why in snapshots.damaged_snapshots() if d.name.endswith(f"-{set_name}-{profile}")]
    if not damaged:
        return ""
    return (f"error: {damaged[0]}. The snapshot guard cannot tell which trainings this snapshot holds, so "
            "it does not write over it: restore the folder from git, run without --snapshot, or add "
            "--replace to replace it (git history keeps it).")


def _run_id(run: dict) -> tuple:
    # the MLP is refitted in seconds and has no key: it is the same training by seed alone
    return int(run.get("seed", -1)), run.get("model"), run.get("config_key")


def trainings_replaced(set_name: str, profile: str, runs=None, seeds=None, models=None) -> tuple:
    """(folder, [run records]) of the trainings in the newest snapshot of the set and profile
    that a new snapshot would drop. Given ``runs``: those whose configuration key is not among
    them. Given ``seeds`` and ``models`` instead (before any training): those of other seeds or
    models, and those trained on another precision path than this machine's, which this machine
    cannot reproduce and would train afresh. (None, []) when there is no snapshot to replace."""
    found = snapshots.newest_snapshots().get((set_name, profile))
    if found is None:
        return None, []
    folder, meta = found
    committed = meta.get("runs", [])
    if runs is not None:
        have = {_run_id(r) for r in runs}
        return folder, [r for r in committed if _run_id(r) not in have]
    here = resolve_precision(get_profile(profile).precision)
    return folder, [r for r in committed
                    if int(r.get("seed", -1)) not in set(seeds) or r.get("model") not in set(models)
                    or r.get("precision", here) != here]


def replacement_refused(folder, dropped: list, profile: str) -> str:
    """The message of a snapshot that is not replaced without ``--replace``."""
    here = resolve_precision(get_profile(profile).precision)
    listed = "; ".join(f"seed {r.get('seed')} {r.get('model')}"
                       + (f" ({r['precision']}, {r.get('date')}, commit {r.get('commit')})"
                          if r.get("precision") else "")
                       for r in dropped[:6]) + (f"; and {len(dropped) - 6} more" if len(dropped) > 6 else "")
    return (f"error: {paths.relative(folder)} holds {len(dropped)} training(s) that this run would drop from it: "
            f"{listed}. This machine trains in {here}; a training on another precision path, or of a seed "
            f"or model not asked for here, is not reused. Ask for the same seeds and models, run without "
            f"--snapshot, or add --replace to replace that snapshot (git history keeps it).")


def _concat(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    return pd.concat([a, b], ignore_index=True) if len(a) and len(b) else (a if len(a) else b)


def parser() -> argparse.ArgumentParser:
    """The command line of ``python -m lattice_utils.studies.paper_runs``.

    Returns:
        The parser: ``--set``, ``--profile``, ``--seeds``, ``--models``, ``--snapshot``,
        ``--skip-unfinished``, ``--replace``.
    """
    ap = argparse.ArgumentParser(prog="python -m lattice_utils.studies.paper_runs", description=__doc__.split("\n")[0])
    ap.add_argument("--set", default="stem_jv2d", choices=sorted(IMAGE_SETS))
    ap.add_argument("--profile", default="paper")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--models", nargs="+", default=["densenet121"], choices=MODELS)
    ap.add_argument("--snapshot", action="store_true", help="write reports/snapshots/<date>-<set>-<profile>/")
    ap.add_argument("--skip-unfinished", action="store_true",
                    help="leave out networks whose training has not finished instead of training them "
                         "(a snapshot of the finished part while another process trains)")
    ap.add_argument("--replace", action="store_true",
                    help="with --snapshot: replace the newest snapshot of the set and profile even where "
                         "it holds trainings this run does not (another precision path, seeds or models)")
    return ap


def main(argv=None) -> int:
    """Run the seeds and models asked for, print the summary, and with ``--snapshot`` write it after each seed.

    With ``--snapshot`` and without ``--replace``, a snapshot that cannot be read, or that holds
    trainings this run would drop, is refused before any training.

    Args:
        argv: the command-line arguments, without the program name; None reads ``sys.argv``.

    Returns:
        The exit status: 0 when the run finished (or nothing had finished yet), 2 for a repeated
        seed or model, a refused snapshot, or a missing data file or bad setting (the message is
        printed).

    Raises:
        SystemExit: (status 2, from argparse) for an unknown option, image set or model.
    """
    args = parser().parse_args(argv)
    repeated = repeated_arguments(args.seeds, args.models)
    if repeated:
        print(f"error: {repeated}")
        return 2
    done = Results()
    guarded = args.snapshot and not args.replace
    if guarded:
        refused = damaged_snapshot_refused(args.set, args.profile)
        if refused:
            print(refused)
            return 2
        # refused before hours of training, not after: a machine on another precision path would
        # retrain every seed and, from its first snapshot on, replace the complete committed one
        folder, dropped = trainings_replaced(args.set, args.profile, seeds=args.seeds, models=args.models)
        if dropped:
            print(replacement_refused(folder, dropped, args.profile))
            return 2
    for i, seed in enumerate(args.seeds):
        try:
            this = run_seeds(args.set, args.profile, [seed], args.models, skip_unfinished=args.skip_unfinished)
            # the snapshot holds every finished training of the seeds asked for, those of later
            # seeds too (trained by an earlier run): it never shrinks while a run goes through them
            later = args.seeds[i + 1:] if args.snapshot else []
            ahead = run_seeds(args.set, args.profile, later, args.models, skip_unfinished=True,
                              log=lambda *a: None) if later else Results()
        except (DataUnavailableError, ValueError, OSError) as exc:
            print(f"error: {exc}")
            return 2
        done = done + this
        if args.snapshot and len(done.table_s1) + len(ahead.table_s1):
            every = done + ahead
            folder, dropped = trainings_replaced(args.set, args.profile, runs=every.runs) if guarded else (None, [])
            if dropped:
                # e.g. the settings or the images changed since: other keys, other trainings
                print(replacement_refused(folder, dropped, args.profile))
                return 2
            where = write_snapshot(args.set, args.profile, every.table_s1, every.table_2, every.runs,
                                   seeds_requested=args.seeds, models_requested=args.models,
                                   predictions=every.predictions, symmetric=every.symmetric,
                                   history=every.history)
            print(f"snapshot after seed {seed}:", where)
    s1 = done.table_s1
    if s1.empty:
        print("no training has finished yet: nothing to report")
        return 0
    summary = spread(s1, ["dataset", "data_source", "model"], ["accuracy_pct", "f1_macro", "f1_weighted"])
    print(summary.round(3).to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
