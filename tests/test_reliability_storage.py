"""Bad inputs and faults of storage, snapshots and publishing (issue "Reliability, second round"):
every one is refused with a message that names the file, skipped by rule with a warning that
names the folder, or survived without loss; never a traceback from a command.

Each case carries the ``bad_input`` marker (docs/reliability.md counts them)."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from lattice_utils import paths
from lattice_utils import reproduction as R
from lattice_utils.fitting import resolve_precision
from lattice_utils.profiles import get_profile

bad_input = pytest.mark.bad_input


def _per_seed(seeds, model="densenet121", title="DenseNet121 (from scratch)"):
    return pd.DataFrame([{"dataset": "jv2d", "data_source": "stem_jv2d", "seed": s, "model": model,
                          "model_title": title, "accuracy_pct": 80.0 + i, "f1_macro": 0.7, "f1_weighted": 0.8,
                          "n": 217} for i, s in enumerate(seeds)])


def _runs(seeds, model="densenet121"):
    # trained on this machine's precision path: the snapshot guard would reuse them
    here = resolve_precision(get_profile("paper").precision)
    return [{"set": "stem_jv2d", "seed": s, "model": model, "config_key": f"key{s}", "precision": here}
            for s in seeds]


def _snapshot_rows():
    t = R.checks()
    return t[t["table"].str.startswith("snapshots/")] if len(t) else t


# ------------------------------------------------------------------ 3. repeated seeds

@bad_input
def test_repeated_seeds_are_refused_before_anything_trains(scratch_dirs, monkeypatch, capsys):
    from lattice_utils import paper_runs

    trained = []
    monkeypatch.setattr(paper_runs, "run_seeds", lambda *a, **k: trained.append(a) or (pd.DataFrame(), pd.DataFrame(), []))
    assert paper_runs.main(["--seeds", "0", "0", "0", "--snapshot"]) == 2
    assert paper_runs.main(["--seeds", "0", "1", "--models", "mlp", "mlp"]) == 2
    out = capsys.readouterr()
    assert not trained
    assert "seed 0 is given 3 times" in out.out and "model mlp is given 2 times" in out.out
    assert "Traceback" not in out.out + out.err


@bad_input
def test_a_snapshot_is_never_written_with_one_training_twice(scratch_dirs):
    from lattice_utils import paper_runs

    with pytest.raises(ValueError, match="seed 0 densenet121 3 times"):
        paper_runs.write_snapshot("stem_jv2d", "paper", _per_seed([0, 0, 0]), pd.DataFrame(), _runs([0, 0, 0]),
                                  date="2026-11-01")
    assert not (paths.REPORTS / "snapshots").exists() or not any((paths.REPORTS / "snapshots").iterdir())


def _duplicated_snapshot(date="2026-11-01"):
    """The snapshot that ``--seeds 0 0 0 --snapshot`` wrote before it was refused: one training
    three times, its summary "3 seeds, sd 0.00"."""
    from lattice_utils import paper_runs

    paper_runs.write_snapshot("stem_jv2d", "paper", _per_seed([0, 1, 2]), pd.DataFrame(), _runs([0, 1, 2]),
                              date=date)
    folder = (paths.REPORTS / "snapshots") / f"{date}-stem_jv2d-paper"
    s1 = pd.read_csv(folder / "table_s1_per_seed.csv").assign(seed=0, accuracy_pct=80.0)
    (folder / "table_s1_per_seed.csv").write_text(s1.to_csv(index=False))
    summary = pd.read_csv(folder / "table_s1_summary.csv").assign(accuracy_pct_mean=80.0, accuracy_pct_std=0.0)
    (folder / "table_s1_summary.csv").write_text(summary.to_csv(index=False))
    meta = json.loads((folder / "meta.json").read_text())
    meta.update(runs=_runs([0, 0, 0]), seeds_requested=[0], seeds_done=[0])
    (folder / "meta.json").write_text(json.dumps(meta))
    return folder


@bad_input
def test_the_report_refuses_a_snapshot_that_holds_one_training_twice(scratch_dirs):
    folder = _duplicated_snapshot()
    with pytest.warns(UserWarning, match=f"{folder.name}.*seed 0 densenet121 3 times") as seen:
        rows = _snapshot_rows()
    # no row averages the one training with itself: no status, no "3 seeds, sd 0.00"
    assert rows.empty
    assert any(paths.relative(folder) in str(w.message) for w in seen)
    with pytest.warns(UserWarning):
        assert R.newest_snapshots() == {}


@bad_input
def test_the_snapshot_guard_cannot_decide_on_a_snapshot_with_one_training_twice(scratch_dirs, monkeypatch, capsys):
    from lattice_utils import paper_runs

    folder = _duplicated_snapshot()
    monkeypatch.setattr(paper_runs, "run_seeds", lambda *a, **k: pytest.fail("trained"))
    assert paper_runs.main(["--seeds", "0", "1", "2", "--snapshot"]) == 2
    out = capsys.readouterr().out
    assert folder.name in out and "cannot tell which trainings" in out and "--replace" in out
    assert "Traceback" not in out
