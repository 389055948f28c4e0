"""The paper's classification studies on the paper's own images, over several seeds, and a
dated snapshot of the results that the reproduction report can show without a rerun.

    python -m lattice_utils.paper_runs --set stem_jv2d [--profile paper] [--seeds 0 1 2]
                                       [--models densenet121 googlenet mlp] [--snapshot]

Each (seed, model) is trained by ``studies`` with the profile's settings (the paper profile:
224 px, 50 epochs, batch 16, Adam, lr 1e-3, constant), cached and resumable, so the command can
be interrupted and run again. ``--snapshot`` writes ``reports/snapshots/<date>-<set>-<profile>/``:
the per-seed Table S1 and Table 2 rows, their mean and spread, and what produced them (commit,
settings, machine, time per training).
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import os
import platform
import time

import pandas as pd

from . import metrics, paths, report, stem_studies, storage
from .image_sets import IMAGE_SETS
from .profiles import get_profile

MODELS = ("densenet121", "googlenet", "mlp")


def run_seeds(set_name: str, profile: str = "paper", seeds=(0, 1, 2), models=("densenet121",),
              log=print) -> tuple[pd.DataFrame, pd.DataFrame, list]:
    """Per-seed Table S1 rows (accuracy, F1 per model) and Table 2 rows (per class), and the
    training records (seconds, epochs)."""
    if set_name not in IMAGE_SETS:
        raise ValueError(f"unknown image set {set_name!r}; choose one of {sorted(IMAGE_SETS)}")
    unknown = sorted(set(models) - set(MODELS))
    if unknown:
        raise ValueError(f"unknown model(s) {unknown}; choose from {MODELS}")
    base = get_profile(profile)
    slot = IMAGE_SETS[set_name].slot
    s1, t2, runs = [], [], []
    for seed in seeds:
        P = dataclasses.replace(base, seed=int(seed))
        sd = stem_studies.load_slot(slot, P, set_name)
        truth = sd.test["label"].to_numpy()
        for model in models:
            t0 = time.perf_counter()
            if model == "mlp":
                pred = stem_studies.fit_mlp(sd, "classify", log=log).predictions
                seconds = None
            else:
                net = stem_studies.fit_network(sd, "classify", model, log=log)
                pred = stem_studies.predict_test(sd, net)
                seconds = float(sum(h.get("seconds", 0.0) for h in net.history))
            runs.append({"set": set_name, "seed": int(seed), "model": model,
                         "train_seconds": seconds, "wall_seconds": round(time.perf_counter() - t0, 1)})
            s1.append({"dataset": slot, "data_source": set_name, "seed": int(seed), "model": model,
                       **metrics.accuracy_and_f1(truth, pred)})
            if model == "densenet121":
                t2.append(metrics.classification_table(truth, pred, dataset=slot).assign(seed=int(seed)))
    table_2 = pd.concat(t2, ignore_index=True) if t2 else pd.DataFrame()
    return pd.DataFrame(s1), table_2, runs


def spread(per_seed: pd.DataFrame, keys: list, values: list) -> pd.DataFrame:
    """Mean, sample standard deviation and number of seeds of ``values`` per ``keys``."""
    g = per_seed.groupby(keys, sort=False)[values]
    out = g.mean().add_suffix("_mean").join(g.std(ddof=1).add_suffix("_std")).join(
        g.size().rename("seeds"))
    return out.reset_index()


def write_snapshot(set_name: str, profile: str, per_seed_s1: pd.DataFrame, per_seed_t2: pd.DataFrame,
                   runs: list, date: str | None = None) -> str:
    """``reports/snapshots/<date>-<set>-<profile>/``: per-seed and summary tables and meta.json."""
    from .report import git_commit

    date = date or dt.date.today().isoformat()
    out = paths.ensure(paths.REPORTS / "snapshots" / f"{date}-{set_name}-{profile}")
    s1 = spread(per_seed_s1, ["dataset", "data_source", "model"], ["accuracy_pct", "f1_macro", "f1_weighted"])
    t2 = spread(per_seed_t2, ["dataset", "class"], ["precision", "recall", "f1", "support"]) \
        if len(per_seed_t2) else pd.DataFrame()
    for name, df in (("table_s1_per_seed", per_seed_s1), ("table_s1_summary", s1),
                     ("table_2_per_seed", per_seed_t2), ("table_2_summary", t2)):
        storage.write_text(out / f"{name}.csv", df.to_csv(index=False, lineterminator="\n"))
    P = get_profile(profile)
    meta = {"set": set_name, "profile": profile, "date": date, "commit": git_commit(),
            "settings": {"input_px": P.input_px, "epochs": P.epochs[IMAGE_SETS[set_name].slot],
                         "batch_size": P.batch_size, "lr": P.lr_classify, "schedule": P.lr_schedule,
                         "precision": P.precision},
            "machine": {"platform": platform.platform(), "processor": platform.processor(),
                        "cpus": os.cpu_count()},
            "runs": runs}
    storage.write_json(out / "meta.json", meta)
    return paths.relative(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m lattice_utils.paper_runs", description=__doc__.split("\n")[0])
    ap.add_argument("--set", default="stem_jv2d", choices=sorted(IMAGE_SETS))
    ap.add_argument("--profile", default="paper")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--models", nargs="+", default=["densenet121"], choices=MODELS)
    ap.add_argument("--snapshot", action="store_true", help="write reports/snapshots/<date>-<set>-<profile>/")
    args = ap.parse_args(argv)
    from .structures import DataUnavailableError
    try:
        s1, t2, runs = run_seeds(args.set, args.profile, args.seeds, args.models)
    except (DataUnavailableError, ValueError, OSError) as exc:
        print(f"error: {exc}")
        return 2
    summary = spread(s1, ["dataset", "data_source", "model"], ["accuracy_pct", "f1_macro", "f1_weighted"])
    print(report.to_markdown(summary.round(3)))
    if args.snapshot:
        print("snapshot:", write_snapshot(args.set, args.profile, s1, t2, runs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
