"""Is the gap to the XRD paper scale? Model-4 and the reference feature classifier trained on 4,
16, 64 and the paper's about 160 structures per space group, all 20 axes, one fixed test set.

One PyXtal corpus of ``TEST_PER_GROUP + VAL_PER_GROUP + max(sizes)`` structures requested per
space group (the profile's generator settings otherwise; its abandoned attempts recorded) is split
by each structure's index within its requested group: the first ``TEST_PER_GROUP`` are the test
set for every size, the next ``VAL_PER_GROUP`` the validation set, and a size of n trains on the
next n. Every training is cached and resumes after an interruption; every finished (size, seed,
classifier) row is stored as it arrives, so a run stopped part-way resumes where it stopped.

The curve takes longer than a session on two cores, and a machine that does not keep its files loses
those rows with it. ``--snapshot`` therefore also writes every finished row, with the content key of
the corpus it was scored on, to ``reports/snapshots/xrd-learning-curve-<profile>-<settings key>.json``
of the checkout, which is committed: a later run on another machine rebuilds the same corpus (its PyXtal
attempts are pinned by ``timeout_ledger.json``), finds the committed rows for that corpus and
settings, and trains only what is missing. Notebook 10 reads the local rows, else the committed ones.

    python -m lattice_utils.xrd.learning_curve --profile quick --plan      # sizes, patterns, time
    python -m lattice_utils.xrd.learning_curve --profile quick --snapshot  # run (resumes); commit the rows
    python -m lattice_utils.xrd.learning_curve --profile quick --snapshot --skip-unfinished   # rows only
"""
from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import sys
import time

import numpy as np
import pandas as pd

from ..core import paths, storage
from ..core.provenance import git_commit
from ..core.profiles import Profile, get_profile
from . import zone_axes
from .corpus import load_structures, requested_groups
from .model import make_config, train_xrd
from .patterns import build_patterns, pattern_dir
from .simulate import CU_KA
from .studies import majority_rate, profile_images, scores, symmetry_baseline

__all__ = ["SIZES", "TEST_PER_GROUP", "VAL_PER_GROUP", "SEEDS", "AXES", "RATES", "curve_profile", "assign_split",
           "plan", "run", "stored", "snapshot_path", "committed_rows", "rows_of", "write_snapshot", "draw",
           "main"]

SIZES = (4, 16, 64, 160)          # training structures requested per space group; 160: the paper's scale
TEST_PER_GROUP = 20
VAL_PER_GROUP = 5
SEEDS = {4: (0,), 16: (0,), 64: (0, 1), 160: (0, 1)}   # two seeds at the two largest sizes
AXES = zone_axes.AXES_20
# measured on this project's 2-core machine (2026-12-02, quick settings, 2 workers): the curve's own
# corpus (42,545 structures in 49 min, other jobs running part of the time; the 3,680 of the quick
# corpus took 97 s on an idle machine), patterns per second (24 axes), training images per second of
# model-4 (48 px polar, width 8)
RATES = {"structures_per_s": 42545 / 2940, "patterns_per_s": 3680 * 24 / 42, "train_images_per_s": 1400.0}
VERSION = 1
COLUMNS = ["per group", "seed", "classifier", "train patterns", "test patterns", "system weighted %",
           "system balanced %", "system top-3 %", "group weighted %", "group top-3 %", "majority %", "seconds"]


def curve_profile(profile: Profile, sizes=SIZES) -> Profile:
    """The profile whose corpus holds the test, validation and largest training set per group.

    Args:
        profile: the run profile (generator and network settings).
        sizes: the training sizes per group.

    Returns:
        ``profile`` with ``xrd.per_group = TEST_PER_GROUP + VAL_PER_GROUP + max(sizes)``.
    """
    return dataclasses.replace(profile, xrd=dataclasses.replace(
        profile.xrd, per_group=TEST_PER_GROUP + VAL_PER_GROUP + max(sizes)))


def assign_split(table: pd.DataFrame, size: int) -> pd.DataFrame:
    """The table with ``split``: test, val, train (the first ``size`` after them) or "" (unused).

    Args:
        table: the corpus (ids ``pyxtal-GGG-IIII``; IIII is the index within the requested group).
        size: training structures per requested group.

    Returns:
        A copy with a ``split`` column.
    """
    index = table["id"].str.rsplit("-", n=1).str[1].astype(int).to_numpy()
    split = np.full(len(table), "", dtype=object)
    split[index < TEST_PER_GROUP] = "test"
    split[(index >= TEST_PER_GROUP) & (index < TEST_PER_GROUP + VAL_PER_GROUP)] = "val"
    start = TEST_PER_GROUP + VAL_PER_GROUP
    split[(index >= start) & (index < start + size)] = "train"
    out = table.copy()
    out["split"] = split
    return out


def plan(profile: Profile, sizes=SIZES) -> pd.DataFrame:
    """What the curve builds and trains, with a time estimate from ``RATES`` (scaled to the workers).

    Args:
        profile: the run profile.
        sizes: the training sizes per group.

    Returns:
        One row per step (``step``, ``count``, ``hours``).
    """
    cp = curve_profile(profile, sizes)
    groups = len(requested_groups(cp))
    structures = groups * cp.xrd.per_group
    worker_scale = 2 / max(cp.workers, 1)
    rows = [{"step": f"PyXtal corpus, {cp.xrd.per_group} per group x {groups} groups", "count": structures,
             "hours": structures / RATES["structures_per_s"] * worker_scale / 3600},
            {"step": f"patterns along {len(AXES)} axes", "count": structures * len(AXES),
             "hours": structures * len(AXES) / RATES["patterns_per_s"] * worker_scale / 3600}]
    for n in sizes:
        images = groups * n * len(AXES)
        for seed in SEEDS.get(n, (0,)):
            rows.append({"step": f"model-4, {n} per group, seed {seed} ({cp.xrd.epochs} epochs)",
                         "count": images,
                         "hours": images * cp.xrd.epochs / RATES["train_images_per_s"] / 3600})
    out = pd.DataFrame(rows)
    out.loc[len(out)] = {"step": "total", "count": np.nan, "hours": out["hours"].sum()}
    return out


def _results_path(cp: Profile, sizes) -> "paths.Path":
    key = storage.content_key(VERSION, dataclasses.asdict(cp.xrd), cp.seed, list(sizes), SEEDS,
                              TEST_PER_GROUP, VAL_PER_GROUP)
    return paths.DATA / "xrd" / f"learning-curve-{cp.name}-{key}.json"


def _row(size, seed, classifier, n_train, s, majority):
    return {"per group": size, "seed": seed, "classifier": classifier, "train patterns": n_train,
            "test patterns": s["n"], "system weighted %": s["system weighted %"],
            "system balanced %": s["system balanced %"], "system top-3 %": s["system top-3 %"],
            "group weighted %": s.get("group weighted %", np.nan), "group top-3 %": s.get("group top-3 %", np.nan),
            "majority %": 100 * majority}


def snapshot_path(profile: Profile, sizes=SIZES) -> "paths.Path":
    """The committed rows of a profile's curve at these settings (the key in the name: a curve of
    other sizes or settings never replaces it).

    Args:
        profile: the run profile.
        sizes: the training sizes per group.

    Returns:
        ``reports/snapshots/xrd-learning-curve-<profile>-<settings key>.json`` of the checkout.
    """
    return paths.SNAPSHOTS / f"xrd-{_results_path(curve_profile(profile, sizes), sizes).stem}.json"


_ROW_KEYS = {"per group", "seed", "classifier"}


def _read_snapshot(profile: Profile, sizes) -> dict | None:
    path = snapshot_path(profile, sizes)
    if not path.exists():
        return None
    try:
        snap = storage.read_json_object(path, "learning-curve snapshot")
    except storage.StoredFileError as exc:
        raise ValueError(str(exc)) from exc
    rows = snap.get("rows")
    if not isinstance(snap.get("key"), str) or not isinstance(rows, list) or \
            not all(isinstance(r, dict) and _ROW_KEYS <= set(r) for r in rows):
        raise ValueError(f"{paths.relative(path)} is not a learning-curve snapshot: it needs a \"key\" and "
                         f"\"rows\" with {sorted(_ROW_KEYS)} in every row; restore it from git")
    return snap


def committed_rows(profile: Profile, sizes=SIZES, corpus: str | None = None, log=print) -> list:
    """The committed rows of the curve for these settings (and this corpus, where given).

    Args:
        profile: the run profile.
        sizes: the training sizes per group.
        corpus: the content key of the corpus's pattern set (its folder name); None: not checked.
        log: where the line about a snapshot of other settings or another corpus goes.

    Returns:
        The rows (``run``'s records); [] when there is no snapshot, or it holds other settings or
        another corpus (said through ``log``).

    Raises:
        ValueError: the snapshot is not a curve snapshot (the message names the file and the problem).
    """
    return _usable_rows(_read_snapshot(profile, sizes), profile, sizes, corpus, log)


def _usable_rows(snap: dict | None, profile: Profile, sizes, corpus: str | None, log) -> list:
    # the rows of a snapshot already read, where its settings (and corpus, where given) are this run's
    if snap is None:
        return []
    where = paths.relative(snapshot_path(profile, sizes))
    key = _results_path(curve_profile(profile, sizes), sizes).stem
    if snap["key"] != key:
        log(f"{where} holds the curve of other settings ({snap['key']}, not {key}): not used")
        return []
    if corpus is not None and snap.get("corpus") != corpus:
        log(f"{where} was scored on another corpus ({snap.get('corpus')}, this one is {corpus}): not used")
        return []
    return rows_of(snap)


def _row_id(r: dict) -> tuple:
    return r["per group"], r["seed"], r["classifier"]


def _merged(local: list, committed: list) -> list:
    # a row of both is this machine's; the committed ones add what this machine has not run
    have = {_row_id(r) for r in local}
    return local + [r for r in committed if _row_id(r) not in have]


def rows_of(snap: dict) -> list:
    """A snapshot's rows with null read back as NaN (what a classifier does not predict).

    Args:
        snap: the snapshot as read (its ``rows``).

    Returns:
        The rows, as ``run`` records them.
    """
    return [{k: np.nan if v is None else v for k, v in r.items()} for r in snap["rows"]]


@functools.lru_cache(maxsize=1)
def _commit_at_start() -> str:
    # read once, at the first write: the code this process runs, not whatever lands during its hours
    return git_commit(ignore=("reports/snapshots",))


def write_snapshot(profile: Profile, sizes, rows: list, corpus: str) -> "paths.Path":
    """Write the committed rows (indented: a reviewer reads the diff) with what produced them.

    Args:
        profile: the run profile.
        sizes: the training sizes per group.
        rows: the finished rows.
        corpus: the content key of the corpus's pattern set.

    Returns:
        The snapshot file.
    """
    cp = curve_profile(profile, sizes)
    snap = {"key": _results_path(cp, sizes).stem, "corpus": corpus, "profile": profile.name,
            "sizes": list(sizes), "seeds": {str(n): list(SEEDS.get(n, (0,))) for n in sizes},
            "commit": _commit_at_start(),
            # NaN (what a classifier does not predict) as null: the file is plain JSON for any reader
            "rows": [{k: None if isinstance(v, float) and np.isnan(v) else v for k, v in r.items()}
                     for r in sorted(rows, key=lambda r: (r["classifier"], r["per group"], r["seed"]))]}
    path = snapshot_path(profile, sizes)
    paths.ensure(path.parent)
    storage.write_text(path, json.dumps(snap, indent=1, sort_keys=True, default=float) + "\n")
    return path


def run(profile: Profile, sizes=SIZES, log=print, snapshot: bool = False,
        skip_unfinished: bool = False, replace: bool = False) -> pd.DataFrame:
    """Train and score every (size, seed) of the curve; finished rows are reused.

    Args:
        profile: the run profile.
        sizes: training structures per requested group.
        log: where progress lines go.
        snapshot: also write every finished row to the committed snapshot (``snapshot_path``).
        skip_unfinished: train nothing: gather the finished rows (and write them, with ``snapshot``);
            the corpus is still loaded (built, on a machine without it) to check the committed rows.
        replace: with ``snapshot``, replace a committed snapshot scored on another corpus (else refused).

    Returns:
        One row per size, seed and classifier (``model-4``, ``features``): the crystal-system
        weighted, balanced and top-3 accuracy and the space-group weighted and top-3 accuracy on the
        fixed test set (per cent; NaN for what a classifier does not predict), its majority rate,
        and the training and test pattern counts.

    Raises:
        ValueError: the committed snapshot cannot be read as one, or (with ``snapshot`` and without
            ``replace``) was scored on another corpus (the message names the file).
    """
    cp = curve_profile(profile, sizes)
    committed = _read_snapshot(profile, sizes)      # a damaged snapshot stops the run before hours of work
    store = _results_path(cp, sizes)
    done = storage.read_json(store) if store.exists() else []
    table = load_structures(cp, verbose=True)
    splits = assign_split(table, 0)
    corpus = pattern_dir(splits, AXES, cp, CU_KA, False).name      # build_patterns's defaults
    if snapshot and not replace and committed is not None and committed.get("corpus") != corpus:
        raise ValueError(f"{paths.relative(snapshot_path(profile, sizes))} holds rows scored on another corpus "
                         f"({committed.get('corpus')}; this machine's is {corpus}): --snapshot would replace them. "
                         "Find out why the corpus differs (timeout_ledger.json pins it), or add --replace")
    # rows a run on another machine committed for this corpus and these settings
    done = _merged(done, _usable_rows(committed, profile, sizes, corpus, log))
    have = {_row_id(r) for r in done}

    def keep():
        storage.write_json(store, done)
        if snapshot:
            write_snapshot(profile, sizes, done, corpus)

    if snapshot:
        keep()
    if skip_unfinished:
        return _table(done)
    ps = build_patterns(splits, AXES, cp)
    g = ps.meta["space_group"].to_numpy()
    # every size's first seed before any second seed, the largest size (the paper's scale, the point
    # the curve is for) first: a run stopped part-way, or spread over sessions, has the end of the curve
    for n, seed in sorted(((n, s) for n in sizes for s in SEEDS.get(n, (0,))), key=lambda ns: (ns[1] > 0, -ns[0])):
        split = assign_split(table, n)["split"].to_numpy()
        ps.meta["split"] = split[ps.meta["structure"].to_numpy()]
        tr, va, te = ps.select(AXES, "train"), ps.select(AXES, "val"), ps.select(AXES, "test")
        majority = majority_rate(g[te])
        if (n, seed, "model-4") not in have:
            t0 = time.time()
            X = profile_images(ps, tr, cp, f"curve-{n}-train")
            V = profile_images(ps, va, cp, "curve-val")
            key = storage.content_key(ps.root.name, tr.tolist())
            cfg = make_config(f"model-4-curve-{n}", cp, key, seed=seed)
            model = train_xrd(cfg, X, g[tr], V, g[va], log=log)
            p_sg, p_cs = model.predict_proba(profile_images(ps, te, cp, "curve-test"))
            done.append(_row(n, seed, "model-4", len(tr), scores(p_sg, p_cs, g[te]), majority)
                        | {"seconds": time.time() - t0})
            keep()
            log(f"learning curve: {n} per group, seed {seed}: model-4 done")
        if seed == SEEDS.get(n, (0,))[0] and (n, 0, "features") not in have:
            # the reference classifier on this size's train split and the fixed test split
            t0 = time.time()
            done.append(_row(n, 0, "features", len(tr), symmetry_baseline(ps, AXES, 0)[0], majority)
                        | {"seconds": time.time() - t0})
            keep()
    return _table(done)


def _table(rows: list) -> pd.DataFrame:
    return (pd.DataFrame(rows).reindex(columns=COLUMNS).sort_values(["classifier", "per group", "seed"])
            .reset_index(drop=True))


def stored(profile: Profile, sizes=SIZES) -> pd.DataFrame | None:
    """The rows of the curve that have finished (``run``'s table), without training anything: this
    machine's and the committed ones (``committed_rows``; a row of both from this machine; the corpus
    is not rebuilt to check them: the settings key and the pinned corpus fix it).

    Args:
        profile: the run profile.
        sizes: the training sizes per group the curve was run with.

    Returns:
        The finished rows, or None when none has finished.

    Raises:
        ValueError: the committed snapshot cannot be read as one (the message names the file).
    """
    path = _results_path(curve_profile(profile, sizes), sizes)
    rows = storage.read_json(path) if path.exists() else []
    rows = _merged(rows, committed_rows(profile, sizes, log=lambda *_: None))
    return _table(rows) if rows else None


def draw(axes, table: pd.DataFrame, paper: dict | None = None) -> None:
    """Accuracy against training structures per group: crystal system (left) and space group (right).

    Args:
        axes: two matplotlib axes.
        table: ``run`` or ``stored`` rows.
        paper: optional ``{"system": %, "group": %}``: the paper's model-4, drawn as lines.
    """
    for ax, target in zip(axes, ("system", "group")):
        for clf, marker in (("model-4", "o"), ("features", "s")):
            d = table[table["classifier"] == clf]
            col = f"{target} weighted %"
            if d.empty or d[col].isna().all():
                continue
            ax.plot(d["per group"], d[col], marker, alpha=0.5, color="C0" if clf == "model-4" else "C1")
            mean = d.groupby("per group")[col].mean()
            ax.plot(mean.index, mean.to_numpy(), "-", color="C0" if clf == "model-4" else "C1",
                    label=f"{clf} (weighted; points: seeds)")
        if target == "system":
            maj = table.groupby("per group")["majority %"].first()
            ax.plot(maj.index, maj.to_numpy(), "k:", label="majority class")
        if paper and target in paper:
            ax.axhline(paper[target], color="C3", ls="--", label=f"paper, model-4 on ICSD ({paper[target]:g} %)")
        ax.set_xscale("log", base=2)
        ax.set_xlabel("training structures per space group")
        ax.set_ylabel(f"{'crystal-system' if target == 'system' else 'space-group'} accuracy (%)")
        ax.set_ylim(0, 100)
        ax.legend(fontsize=8)


def main(argv=None) -> int:
    """The command line: ``--profile NAME [--sizes N ...] [--plan]``.

    Args:
        argv: the arguments (None: ``sys.argv[1:]``).

    Returns:
        The exit code: 0; 2 for a committed snapshot that cannot be read (bad arguments exit with 2
        and a message naming the argument).
    """
    parser = argparse.ArgumentParser(prog="python -m lattice_utils.xrd.learning_curve",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--plan", action="store_true", help="print what would run and the time estimate")
    parser.add_argument("--snapshot", action="store_true",
                        help="also write every finished row to reports/snapshots/xrd-learning-curve-<profile>-"
                             "<key>.json (commit it: a later run on another machine trains only what is missing)")
    parser.add_argument("--skip-unfinished", action="store_true",
                        help="train nothing: print (and with --snapshot write) the finished rows (the corpus "
                             "is still loaded, or built on a machine without it, to check the committed rows)")
    parser.add_argument("--replace", action="store_true",
                        help="with --snapshot: replace committed rows that were scored on another corpus")
    args = parser.parse_args(argv)
    if any(n < 1 for n in args.sizes):
        parser.error(f"--sizes must be positive structure counts per group, got {args.sizes}")
    try:
        profile = get_profile(args.profile)
    except (KeyError, ValueError) as exc:
        parser.error(str(exc))
    if args.plan:
        print(plan(profile, tuple(args.sizes)).to_string(index=False, float_format=lambda x: f"{x:.2f}"))
        return 0
    try:
        out = run(profile, tuple(args.sizes), snapshot=args.snapshot, skip_unfinished=args.skip_unfinished,
                  replace=args.replace)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(out.round(1).to_string(index=False) if len(out) else "no row of the curve has finished yet")
    print(json.dumps({"results": paths.relative(_results_path(curve_profile(profile, tuple(args.sizes)),
                                                              tuple(args.sizes)))}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
