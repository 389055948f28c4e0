"""The committed snapshots of seeded paper-settings runs (``reports/snapshots/``): which folders
can be read, the newest of each set and profile, and what each keeps per image. Written by
``paper_runs``; read by it (to resume and guard), by the notebooks and by the reproduction report."""
from __future__ import annotations

import warnings
from collections import Counter
from dataclasses import dataclass, field

import pandas as pd

from ..core import paths, storage

__all__ = ["HISTORY", "PER_COPY", "PREDICTIONS", "SYMMETRIC", "Kept", "SnapshotWarning", "damaged_snapshots", "kept",
           "newest_snapshots", "per_copy_of_runs", "read_kept", "reported_snapshots", "read_snapshot_table",
           "repeated_training", "scan_snapshots", "snapshot_folders"]


class SnapshotWarning(UserWarning):
    """A snapshot folder that is skipped; the message names the folder and says why."""


def repeated_training(pairs) -> str:
    """The first training counted twice: one seed of one model must appear once.

    Args:
        pairs: (seed, model) of every training in a snapshot or a run.

    Returns:
        "seed S model N times" of the first (seed, model) that occurs more than once, else "".
    """
    counts = Counter((int(seed), str(model)) for seed, model in pairs)
    return next((f"seed {s} {m} {n} times" for (s, m), n in counts.items() if n > 1), "")


# what the readers take from meta.json besides "set" and "profile", by kind
_META_LISTS = ("runs", "seeds_requested", "seeds_done", "models_requested")
_META_DICTS = ("settings", "machine", "model_titles")


def _meta_problem(meta) -> str:
    """What is wrong with a snapshot's meta.json as the readers use it, or ''."""
    if not isinstance(meta, dict):
        return f"must be a JSON object ({{...}}), this one is a {type(meta).__name__}"
    for key in ("set", "profile"):
        if not isinstance(meta.get(key), str) or not meta[key]:
            return f'has no "{key}" (the set and profile it is a snapshot of)'
    for key in _META_LISTS:
        if not isinstance(meta.get(key, []), list):
            return f'"{key}" must be a list, this one is a {type(meta[key]).__name__}'
    if not all(isinstance(r, dict) for r in meta.get("runs", [])):
        return '"runs" must be a list of training records ({...})'
    for key in _META_DICTS:
        if not isinstance(meta.get(key, {}), dict):
            return f'"{key}" must be a JSON object, this one is a {type(meta[key]).__name__}'
    return ""


def _snapshot_problem(folder, meta) -> str:
    """Why a snapshot folder cannot be read as one, or '' when it can."""
    wrong = _meta_problem(meta)
    if wrong:
        return f"{paths.relative(folder / 'meta.json')} {wrong}"
    per_seed = folder / "table_s1_per_seed.csv"
    if not per_seed.exists():
        return f"{paths.relative(folder)} holds no {per_seed.name}"
    s1 = read_snapshot_table(per_seed)
    # one training counted as several seeds would give a spread of 0 and a status that should
    # have waited for a second real seed: the snapshot is not averaged at all
    twice = (repeated_training(zip(s1["seed"], s1["model"])) if {"seed", "model"} <= set(s1) else "") \
        or repeated_training((r.get("seed", -1), r.get("model")) for r in meta.get("runs") or [])
    if twice:
        return (f"{paths.relative(folder)} holds {twice} (one training counted as several seeds); "
                "restore it from git or write it again with paper_runs --snapshot --replace")
    return ""


def scan_snapshots() -> tuple[list, list]:
    """The committed snapshot folders under ``paths.SNAPSHOTS``, sorted into readable and skipped.

    A folder is skipped when its ``meta.json`` is unreadable or malformed, its
    ``table_s1_per_seed.csv`` is missing or damaged, or it counts one training as several seeds.

    Returns:
        ([(folder, meta)] of every readable committed snapshot, oldest first (folders are named by
        date; ``folder`` a ``pathlib.Path``, ``meta`` its ``meta.json`` as a dict),
        [(folder, reason)] of the folders that cannot be read as one, which are skipped).
    """
    root = paths.SNAPSHOTS
    good, skipped = [], []
    for m in sorted(root.glob("*/meta.json")) if root.exists() else []:
        try:
            meta = storage.read_json(m)
            problem = _snapshot_problem(m.parent, meta)
        except storage.StoredFileError as exc:      # names the file: truncated or not JSON
            meta, problem = None, str(exc)
        except (OSError, ValueError, TypeError, KeyError) as exc:   # a damaged CSV or record
            meta, problem = None, f"{paths.relative(m.parent)} cannot be read ({type(exc).__name__}: {exc})"
        if problem:
            skipped.append((m.parent, problem))
        else:
            good.append((m.parent, meta))
    return good, skipped


def damaged_snapshots() -> list:
    """The snapshot folders that ``snapshot_folders`` skips, with the reason.

    Returns:
        [(folder, reason)]: the folder (``pathlib.Path``) and why it cannot be read as a snapshot.
    """
    return scan_snapshots()[1]


def snapshot_folders() -> list:
    """Every committed snapshot that can be read, oldest first.

    Each folder that cannot be read is skipped with a ``SnapshotWarning`` naming it and the reason.

    Returns:
        [(folder, meta)]: the folder (``pathlib.Path``) and its ``meta.json`` as a dict.
    """
    good, skipped = scan_snapshots()
    for _, reason in skipped:
        warnings.warn(f"snapshot skipped: {reason}", SnapshotWarning, stacklevel=2)
    return good


def newest_snapshots() -> dict:
    """The newest committed snapshot of each image set and profile, complete or in progress: the
    one ``paper_runs`` resumes from and guards.

    Returns:
        {(set, profile): (folder, meta)}, e.g. ``("stem_jv2d", "paper")``; unreadable folders are
        skipped with a ``SnapshotWarning``.
    """
    return {(meta["set"], meta["profile"]): (d, meta) for d, meta in snapshot_folders()}


def reported_snapshots() -> dict:
    """The snapshot of each image set and profile that the report and the notebooks show: the newest
    complete one, or the newest when none is complete.

    A retraining that spans sessions commits its snapshot after every seed; until it has every seed
    it sits beside the complete snapshot it will replace, so that the front page never falls back
    from five seeds to one while the machine works.

    Returns:
        {(set, profile): (folder, meta)}, as ``newest_snapshots``.
    """
    out = {}
    for d, meta in snapshot_folders():        # oldest first
        key = (meta["set"], meta["profile"])
        if meta.get("complete") or key not in out or not out[key][1].get("complete"):
            out[key] = (d, meta)
    return out


def read_snapshot_table(path, **read_csv) -> pd.DataFrame:
    """A snapshot's CSV; an empty file (no DenseNet has finished, so no Table 2 yet) is an empty table.

    Args:
        path: the CSV file.
        **read_csv: keyword arguments passed on to ``pandas.read_csv``.

    Returns:
        The table; an empty DataFrame for an empty file.
    """
    try:
        return pd.read_csv(path, **read_csv)
    except pd.errors.EmptyDataError:
        return pd.DataFrame()


# what a paper-settings snapshot keeps per image (written by ``paper_runs.write_snapshot``): every test
# prediction, the networks' predictions averaged over the eight symmetric copies of each image, and
# the networks' per-epoch training loss
PREDICTIONS = "predictions_per_image.csv"
SYMMETRIC = "predictions_symmetric_average.csv"
HISTORY = "training_history.csv"
# the class each network gives each of the eight symmetric copies of each test image, added to a
# snapshot by a separate run over its kept weights (``studies.symmetric_copies``)
PER_COPY = "predictions_per_copy.csv"


def read_kept(folder, name: str) -> pd.DataFrame:
    """One of a snapshot's per-image files; empty for a snapshot written before it was kept.

    Args:
        folder: the snapshot folder (``pathlib.Path``).
        name: the file: ``PREDICTIONS``, ``SYMMETRIC``, ``HISTORY`` or ``PER_COPY``.

    Returns:
        The file as a table (``paper_runs.PREDICTION_COLUMNS`` or ``paper_runs.HISTORY_COLUMNS``);
        image ids stay text ("0012" is not 12). An empty DataFrame when the file is absent.
    """
    path = folder / name
    if not path.exists():
        return pd.DataFrame()
    return read_snapshot_table(path, **({} if name == HISTORY else {"dtype": {"id": str}}))


@dataclass
class Kept:
    """The reported snapshot of a set and profile with what it keeps per image.

    Attributes:
        folder: the snapshot folder (``pathlib.Path``).
        meta: its ``meta.json``.
        predictions: every test prediction (``PREDICTIONS``): model, seed, id, true, predicted,
            class probabilities p0-p4.
        symmetric: the networks' predictions averaged over the eight symmetric copies of each
            image (``SYMMETRIC``), same columns.
        history: the networks' per-epoch training record (``HISTORY``): model, seed, epoch, loss,
            seconds, images_per_s.
        per_copy: the class each network gives each symmetric copy of each image (``PER_COPY``):
            model, seed, id, true, copy, rotation_deg, mirrored, predicted (and, where kept, the class
            probabilities p0-p4); empty where not added.
    """
    folder: object
    meta: dict
    predictions: pd.DataFrame
    symmetric: pd.DataFrame
    history: pd.DataFrame
    per_copy: pd.DataFrame = field(default_factory=pd.DataFrame)


def kept(set_name: str = "stem_jv2d", profile: str = "paper") -> Kept | None:
    """The reported snapshot (``reported_snapshots``) of an image set and profile with its per-image files.

    Args:
        set_name: the paper's image set (``stem_jv2d``, ``stem_c2db``).
        profile: the profile the snapshot was run at (``paper``, ``quick``, ...).

    Returns:
        The snapshot as a ``Kept`` (its per-image tables empty where it keeps none), or None
        when there is no readable snapshot of that set and profile.
    """
    found = reported_snapshots().get((set_name, profile))
    if found is None:
        return None
    folder, meta = found
    return Kept(folder, meta, read_kept(folder, PREDICTIONS), read_kept(folder, SYMMETRIC), read_kept(folder, HISTORY),
                per_copy_of_runs(read_kept(folder, PER_COPY), meta))


def per_copy_of_runs(per_copy: pd.DataFrame, meta: dict) -> pd.DataFrame:
    """The per-copy rows of the trainings the snapshot records: those whose (seed, model) ``meta.json``
    lists under ``per_copy_kept`` with the configuration key of its run of that seed and model. A
    snapshot written again by ``paper_runs`` (other trainings, a new ``meta.json``) keeps none.

    Args:
        per_copy: the snapshot's ``PER_COPY`` table (may be empty).
        meta: its ``meta.json``.

    Returns:
        The rows of the trainings that match, in their order.
    """
    if not len(per_copy):
        return per_copy
    runs = {(int(r.get("seed", -1)), r.get("model")): r.get("config_key") for r in meta.get("runs", [])}
    ok = {(int(r["seed"]), r["model"]) for r in meta.get("per_copy_kept", []) or []
          if isinstance(r, dict) and {"seed", "model"} <= set(r) and r.get("config_key") is not None
          and runs.get((int(r["seed"]), r["model"])) == r.get("config_key")}
    keep = [(int(s), m) in ok for s, m in zip(per_copy["seed"], per_copy["model"])]
    return per_copy[keep].reset_index(drop=True)
