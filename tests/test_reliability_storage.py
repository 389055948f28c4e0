"""Bad inputs and faults of storage, snapshots and publishing (issue "Reliability, second round"):
every one is refused with a message that names the file, skipped by rule with a warning that
names the folder, or survived without loss; never a traceback from a command.

Each case carries the ``bad_input`` marker (docs/reliability.md counts them)."""
from __future__ import annotations

import json
import os
import subprocess

import pandas as pd
import pytest

from lattice_utils.core import paths
from lattice_utils.core.profiles import get_profile
from lattice_utils.learn.fitting import resolve_precision
from lattice_utils.repro import reproduction as R
from lattice_utils.studies import snapshots as S

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
    from lattice_utils.studies import paper_runs

    trained = []
    monkeypatch.setattr(paper_runs, "run_seeds", lambda *a, **k: trained.append(a) or paper_runs.Results())
    assert paper_runs.main(["--seeds", "0", "0", "0", "--snapshot"]) == 2
    assert paper_runs.main(["--seeds", "0", "1", "--models", "mlp", "mlp"]) == 2
    out = capsys.readouterr()
    assert not trained
    assert "seed 0 is given 3 times" in out.out and "model mlp is given 2 times" in out.out
    assert "Traceback" not in out.out + out.err


@bad_input
def test_a_snapshot_is_never_written_with_one_training_twice(scratch_dirs):
    from lattice_utils.studies import paper_runs

    with pytest.raises(ValueError, match="seed 0 densenet121 3 times"):
        paper_runs.write_snapshot("stem_jv2d", "paper", _per_seed([0, 0, 0]), pd.DataFrame(), _runs([0, 0, 0]),
                                  date="2026-11-01")
    assert not (paths.REPORTS / "snapshots").exists() or not any((paths.REPORTS / "snapshots").iterdir())


def _duplicated_snapshot(date="2026-11-01"):
    """The snapshot that ``--seeds 0 0 0 --snapshot`` wrote before it was refused: one training
    three times, its summary "3 seeds, sd 0.00"."""
    from lattice_utils.studies import paper_runs

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
        assert S.newest_snapshots() == {}


@bad_input
def test_the_snapshot_guard_cannot_decide_on_a_snapshot_with_one_training_twice(scratch_dirs, monkeypatch, capsys):
    from lattice_utils.studies import paper_runs

    folder = _duplicated_snapshot()
    monkeypatch.setattr(paper_runs, "run_seeds", lambda *a, **k: pytest.fail("trained"))
    assert paper_runs.main(["--seeds", "0", "1", "2", "--snapshot"]) == 2
    out = capsys.readouterr().out
    assert folder.name in out and "cannot tell which trainings" in out and "--replace" in out
    assert "Traceback" not in out


# ------------------------------------------------------------------ 13. concurrent registrations

def _register_many(models_dir, prefix, n, start):
    from pathlib import Path

    from lattice_utils.learn import training

    paths.MODELS = Path(models_dir)      # a forked child: the parent's scratch dirs, made explicit
    start.wait()
    for i in range(n):
        training.register_model(f"{prefix}/{i:03d}", paths.MODELS / prefix / f"{i:03d}")


@bad_input
def test_models_registered_by_several_processes_at_once_all_survive(scratch_dirs):
    import multiprocessing

    from lattice_utils.core import storage

    ctx = multiprocessing.get_context("fork")
    start = ctx.Event()
    procs = [ctx.Process(target=_register_many, args=(paths.MODELS, f"p{k}", 120, start)) for k in range(4)]
    for p in procs:
        p.start()
    start.set()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0] * 4
    reg = storage.read_json_object(paths.MODELS / "registry.json")
    assert len(reg) == 480 and reg["p3/119"] == "p3/119"


# ------------------------------------------------------------------ 14. publish of an incomplete site

def _site(tmp_path):
    site = tmp_path / "site"
    for d in ("figures", "tables", "notebooks"):
        (site / d).mkdir(parents=True)
    (site / "figures" / "new.png").write_bytes(b"png")
    (site / "tables" / "t.md").write_text("# t\n")
    (site / "notebooks" / "01_x.ipynb").write_text("{}\n")
    for name, text in (("results.md", "# Results\n"), ("reproduction.md", "# Reproduction\n"),
                       ("headline.md", "| new |\n")):
        (site / name).write_text(text)
    (site / "run.json").write_text(json.dumps({"profile": "quick", "commit": "abc", "missing": []}))
    docs = tmp_path / "docs"
    (docs / "figures").mkdir(parents=True)
    for i in range(47):
        (docs / "figures" / f"fig{i}.png").write_bytes(b"old")
    (docs / "tables").mkdir()
    (docs / "tables" / "old.md").write_text("old\n")
    (docs / "results.md").write_text("old results\n")
    (docs / "design.md").write_text("not written by publish\n")
    readme = tmp_path / "README.md"
    readme.write_text("intro\n<!-- headline:start -->\nold\n<!-- headline:end -->\n")
    return site, docs, readme


def _tree(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@bad_input
def test_publish_of_a_site_without_tables_leaves_docs_as_it_was(tmp_path):
    import shutil

    from lattice_utils.repro import publish

    site, docs, readme = _site(tmp_path)
    shutil.rmtree(site / "tables")
    before, readme_before = _tree(docs), readme.read_text()
    with pytest.raises(publish.PublishError, match="site/tables is missing"):
        publish.publish(site, docs, readme)
    assert _tree(docs) == before and len(list((docs / "figures").iterdir())) == 47
    assert readme.read_text() == readme_before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md", "docs", "site"]


@bad_input
def test_publish_that_fails_part_way_through_copying_leaves_docs_as_it_was(tmp_path, monkeypatch):
    import shutil

    from lattice_utils.repro import publish

    site, docs, readme = _site(tmp_path)
    before, readme_before = _tree(docs), readme.read_text()
    copies = []
    real = shutil.copytree

    def copytree(src, dst, *a, **k):     # the disk fills up at the second folder
        copies.append(src)
        if len(copies) == 2:
            raise OSError(28, "No space left on device")
        return real(src, dst, *a, **k)

    monkeypatch.setattr(shutil, "copytree", copytree)
    with pytest.raises(OSError, match="No space"):
        publish.publish(site, docs, readme)
    assert _tree(docs) == before and readme.read_text() == readme_before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md", "docs", "site"]
    monkeypatch.setattr(shutil, "copytree", real)
    publish.publish(site, docs, readme)
    assert sorted(p.name for p in (docs / "figures").iterdir()) == ["new.png"]
    assert (docs / "design.md").read_text() == "not written by publish\n"
    assert (docs / "results.md").read_text() == "# Results\n" and (docs / "tables" / "t.md").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md", "docs", "site"]


@bad_input
def test_publish_command_refuses_an_incomplete_site_without_a_traceback(tmp_path, monkeypatch, capsys):
    import shutil

    from lattice_utils.repro import publish

    site, docs, readme = _site(tmp_path)
    shutil.rmtree(site / "tables")
    monkeypatch.setattr(paths, "SITE", site)
    monkeypatch.setattr(paths, "DOCS", docs)
    monkeypatch.setattr(paths, "ROOT", tmp_path)
    before = _tree(docs)
    assert publish.main([]) == 2
    err = capsys.readouterr().err
    assert "publish: site/tables is missing" in err and _tree(docs) == before


# ------------------------------------------------------------------ 15. file modes

_MODES = """
import os, sys
os.umask(int(sys.argv[1], 8))
from pathlib import Path
import numpy as np
from lattice_utils.core import storage
storage.write_text("a.md", "x")
storage.write_json("b.json", {"a": 1})
storage.save_npy("c.npy", np.zeros(3))
Path("d.sh").write_text("old"); os.chmod("d.sh", 0o755)
storage.write_text("d.sh", "new")              # replaced: still executable
Path("e.md").write_text("old"); os.chmod("e.md", 0o600)
storage.write_text("e.md", "new")              # replaced: the umask's mode, as a new file
print(" ".join(oct(os.stat(f).st_mode & 0o777) for f in ("a.md", "b.json", "c.npy", "d.sh", "e.md")))
"""


@bad_input
@pytest.mark.parametrize("umask, modes", [("022", "0o644 0o644 0o644 0o755 0o644"),
                                          ("027", "0o640 0o640 0o640 0o750 0o640")])
def test_atomic_writes_give_the_mode_of_a_plain_write(tmp_path, umask, modes):
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", _MODES, umask], cwd=tmp_path, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == modes.split()


# ------------------------------------------------------------------ 16. relative data and output dirs

_WHERE = """
import json, os, subprocess, sys
from lattice_utils.core import paths
here = {"output": str(paths.OUTPUT), "data": str(paths.DATA), "env_output": os.environ["LATTICE_OUTPUT_DIR"],
        "env_data": os.environ["LATTICE_DATA_DIR"]}
if sys.argv[1] == "parent":       # a child in another folder, as papermill starts a kernel in notebooks/
    child = subprocess.run([sys.executable, "-c", __doc__, "child"], cwd="sub", capture_output=True, text=True,
                           check=True)
    here["child"] = json.loads(child.stdout)
print(json.dumps(here))
"""


@bad_input
def test_relative_data_and_output_dirs_are_resolved_once_from_where_the_user_ran(tmp_path):
    import os
    import subprocess
    import sys

    ran_from = tmp_path / "ran_from"
    (ran_from / "sub").mkdir(parents=True)
    code = f"{_WHERE!r}\n{_WHERE}"          # the script is its own docstring, for the child to run
    env = dict(os.environ, LATTICE_OUTPUT_DIR="out", LATTICE_DATA_DIR="../data")
    out = subprocess.run([sys.executable, "-c", code, "parent"], cwd=ran_from, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    where = json.loads(out.stdout)
    expected = {"output": str(ran_from / "out"), "data": str(tmp_path / "data"),
                "env_output": str(ran_from / "out"), "env_data": str(tmp_path / "data")}
    assert where.pop("child") == expected and where == expected


# ------------------------------------------------------------------ 17. committed snapshots, outputs elsewhere

@bad_input
def test_the_committed_snapshots_are_read_wherever_the_outputs_go(tmp_path):
    import os
    import subprocess
    import sys

    committed = sorted(m.parent.name for m in (paths.ROOT / "reports" / "snapshots").glob("*/meta.json"))
    assert committed, "the repository holds a committed snapshot"
    code = ("from lattice_utils.core import paths; from lattice_utils.studies import snapshots; "
            "print(paths.relative(paths.SNAPSHOTS)); print(*[d.name for d, _ in snapshots.snapshot_folders()])")
    env = dict(os.environ, LATTICE_OUTPUT_DIR=str(tmp_path / "out"))
    out = subprocess.run([sys.executable, "-c", code], cwd=paths.ROOT, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["reports/snapshots"] + committed


@bad_input
def test_a_snapshot_is_written_where_it_is_read_not_under_the_outputs(scratch_dirs, monkeypatch):
    from lattice_utils.studies import paper_runs

    assert paths.SNAPSHOTS == scratch_dirs / "reports" / "snapshots"      # scratch_dirs isolates them
    repo = scratch_dirs / "checkout" / "reports" / "snapshots"
    monkeypatch.setattr(paths, "SNAPSHOTS", repo)
    where = paper_runs.write_snapshot("stem_jv2d", "paper", _per_seed([0, 1]), pd.DataFrame(), _runs([0, 1]),
                                      date="2026-11-01")
    assert (repo / "2026-11-01-stem_jv2d-paper" / "meta.json").exists() and where.endswith("2026-11-01-stem_jv2d-paper")
    assert not (paths.REPORTS / "snapshots").exists()
    assert set(_snapshot_rows()["table"]) == {"snapshots/2026-11-01-stem_jv2d-paper"}


# ------------------------------------------------------------------ 18. damaged meta.json

DAMAGED_META = {
    "truncated JSON": '{"set": "stem_jv2d", "profile": "pap',
    "a list": '[{"set": "stem_jv2d", "profile": "paper"}]',
    "no set": '{"profile": "paper", "runs": []}',
    "no profile": '{"set": "stem_jv2d", "runs": []}',
    "runs not a list": '{"set": "stem_jv2d", "profile": "paper", "runs": {"seed": 0}}',
}
DAMAGE_WORDS = {"truncated JSON": "truncated or not JSON", "a list": "must be a JSON object",
                "no set": "no \"set\"", "no profile": "no \"profile\"", "runs not a list": "\"runs\" must be a list"}


@bad_input
@pytest.mark.parametrize("case", DAMAGED_META)
def test_a_damaged_snapshot_meta_is_skipped_by_rule_and_named(scratch_dirs, monkeypatch, capsys, case):
    import shutil

    from lattice_utils.studies import paper_runs

    paper_runs.write_snapshot("stem_jv2d", "paper", _per_seed([0, 1, 2]), pd.DataFrame(), _runs([0, 1, 2]),
                              date="2026-11-02")
    good = paths.SNAPSHOTS / "2026-11-02-stem_jv2d-paper"
    bad = paths.SNAPSHOTS / "2026-11-03-stem_jv2d-paper"
    shutil.copytree(good, bad)
    (bad / "meta.json").write_text(DAMAGED_META[case])

    with pytest.warns(S.SnapshotWarning, match=f"{bad.name}.*{DAMAGE_WORDS[case]}"):
        assert [d for d, _ in S.snapshot_folders()] == [good]
    with pytest.warns(S.SnapshotWarning):
        rows = _snapshot_rows()           # notebook 99's reader: the readable snapshot's rows
    assert set(rows["table"]) == {f"snapshots/{good.name}"}

    # the guard cannot tell what the damaged folder holds: refused before anything trains
    monkeypatch.setattr(paper_runs, "run_seeds", lambda *a, **k: pytest.fail("trained"))
    assert paper_runs.main(["--seeds", "0", "1", "2", "--snapshot"]) == 2
    out = capsys.readouterr()
    assert paths.relative(bad) in out.out and DAMAGE_WORDS[case] in out.out and "--replace" in out.out
    assert "Traceback" not in out.out + out.err

    # a newer snapshot (what --replace writes) replaces the damaged folder of its set and profile too
    paper_runs.write_snapshot("stem_jv2d", "paper", _per_seed([0, 1, 2]), pd.DataFrame(), _runs([0, 1, 2]),
                              date="2026-11-04")
    assert sorted(p.name for p in paths.SNAPSHOTS.iterdir()) == ["2026-11-04-stem_jv2d-paper"]


@bad_input
def test_run_all_passes_a_relative_output_dir_on_as_the_folder_under_where_the_user_ran(tmp_path):
    # run_all.sh changes into the checkout and the notebooks run in notebooks/: without resolving
    # first, "rel" would mean the checkout's rel/ here and notebooks/rel/ in the kernels
    out = subprocess.run(["bash", str(paths.ROOT / "run_all.sh"), "--plan", "--profile", "smoke"], cwd=tmp_path,
                         env={**os.environ, "LATTICE_OUTPUT_DIR": "rel-out", "LATTICE_DATA_DIR": "rel-data"},
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert f"Data in {tmp_path / 'rel-data'};" in out.stdout
    assert f"figures and reports in {tmp_path / 'rel-out'}." in out.stdout
