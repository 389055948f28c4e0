"""The XRD learning curve: one fixed test set, nested training sets, resumable rows."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from lattice_utils.core.profiles import get_profile
from lattice_utils.xrd import learning_curve as lc


def _ids(groups, per_group):
    return pd.DataFrame({"id": [f"pyxtal-{g:03d}-{i:04d}" for g in groups for i in range(per_group)]})


def test_the_test_set_is_fixed_and_training_sets_are_nested():
    table = _ids([1, 2, 230], lc.TEST_PER_GROUP + lc.VAL_PER_GROUP + 10)
    small, large = lc.assign_split(table, 3), lc.assign_split(table, 10)
    assert (small["split"] == "test").sum() == 3 * lc.TEST_PER_GROUP
    assert small["split"].eq("test").equals(large["split"].eq("test"))
    assert small["split"].eq("val").equals(large["split"].eq("val"))
    assert (small["split"] == "train").sum() == 9 and (large["split"] == "train").sum() == 30
    assert set(small.index[small["split"] == "train"]) < set(large.index[large["split"] == "train"])
    assert (small["split"] == "").sum() == 21


def test_the_plan_counts_what_the_curve_builds():
    P = get_profile("quick")
    p = lc.plan(P, (4, 160))
    assert p["step"].iloc[0].startswith(f"PyXtal corpus, {lc.TEST_PER_GROUP + lc.VAL_PER_GROUP + 160} per group")
    assert p["count"].iloc[0] == 230 * (lc.TEST_PER_GROUP + lc.VAL_PER_GROUP + 160)
    trainings = p[p["step"].str.startswith("model-4")]
    assert len(trainings) == len(lc.SEEDS[4]) + len(lc.SEEDS[160]) == 3
    assert trainings["count"].max() == 230 * 160 * len(lc.AXES)
    assert p["hours"].iloc[-1] == pytest.approx(p["hours"].iloc[:-1].sum())


def test_bad_arguments_get_a_message_and_exit_code_2(capsys):
    for argv in (["--sizes", "0"], ["--profile", "nonesuch", "--plan"]):
        with pytest.raises(SystemExit) as e:
            lc.main(argv)
        assert e.value.code == 2
    assert "--sizes must be positive" in capsys.readouterr().err


@pytest.mark.slow
def test_a_small_curve_runs_and_resumes(scratch_dirs, monkeypatch):
    monkeypatch.setattr(lc, "TEST_PER_GROUP", 2)
    monkeypatch.setattr(lc, "VAL_PER_GROUP", 1)
    monkeypatch.setattr(lc, "SEEDS", {1: (0,), 2: (0, 1)})
    P = get_profile("smoke")
    out = lc.run(P, (1, 2), log=lambda *_: None)
    assert len(out) == 3 + 2          # model-4: 1 + 2 seeds; features: one per size
    four = out[out["classifier"] == "model-4"]
    assert four["test patterns"].nunique() == 1 and four["system weighted %"].between(0, 100).all()
    n_train = out.groupby("per group")["train patterns"].first()
    assert n_train.loc[1] < n_train.loc[2] <= 2 * n_train.loc[1]
    # a second call trains nothing: every row is stored
    monkeypatch.setattr(lc, "train_xrd", lambda *a, **k: pytest.fail("retrained a finished row"))
    again = lc.run(P, (1, 2), log=lambda *_: None)
    assert again.equals(out)


def _small_curve(monkeypatch):
    monkeypatch.setattr(lc, "TEST_PER_GROUP", 2)
    monkeypatch.setattr(lc, "VAL_PER_GROUP", 1)
    monkeypatch.setattr(lc, "SEEDS", {1: (0,)})
    return get_profile("smoke"), (1,)


@pytest.mark.slow
def test_committed_rows_carry_the_curve_to_a_machine_without_its_files(scratch_dirs, monkeypatch):
    from lattice_utils.core import paths

    P, sizes = _small_curve(monkeypatch)
    out = lc.run(P, sizes, log=lambda *_: None, snapshot=True)
    snap = lc.snapshot_path(P, sizes)
    assert snap.parent == paths.SNAPSHOTS and snap.exists()
    text = snap.read_text()
    assert "NaN" not in text          # plain JSON: what features do not predict is null
    # another machine: the local rows and trained networks are gone, the committed file is not
    for f in (paths.DATA / "xrd").glob("learning-curve-*.json"):
        f.unlink()
    monkeypatch.setattr(lc, "train_xrd", lambda *a, **k: pytest.fail("retrained a committed row"))
    monkeypatch.setattr(lc, "symmetry_baseline", lambda *a, **k: pytest.fail("rescored a committed row"))
    assert lc.stored(P, sizes).equals(out)
    again = lc.run(P, sizes, log=lambda *_: None)
    pd.testing.assert_frame_equal(again, out)
    # rows scored on another corpus are not taken for this one, nor replaced without --replace
    seen = []
    assert lc.committed_rows(P, sizes, corpus="another-corpus", log=seen.append) == []
    assert "another corpus" in seen[0] and snap.name in seen[0]
    doc = json.loads(text)
    snap.write_text(json.dumps(doc | {"corpus": "another-corpus"}))
    with pytest.raises(ValueError, match="another corpus.*--replace"):
        lc.run(P, sizes, log=lambda *_: None, snapshot=True, skip_unfinished=True)
    assert json.loads(snap.read_text())["corpus"] == "another-corpus"
    lc.run(P, sizes, log=lambda *_: None, snapshot=True, skip_unfinished=True, replace=True)
    assert json.loads(snap.read_text())["corpus"] == doc["corpus"]
    # a curve of other sizes is another file: it never replaces this one
    assert lc.snapshot_path(P, (1, 2)) != snap


@pytest.mark.bad_input
@pytest.mark.parametrize("text, words", [
    ('{"key": "x", "rows": [{"seed": 0}]', "truncated or not JSON"),
    ('[1, 2]', "JSON object"),
    ('{"key": "x", "rows": [{"seed": 0}]}', "is not a learning-curve snapshot"),
])
def test_a_damaged_curve_snapshot_is_refused_naming_the_file(scratch_dirs, monkeypatch, capsys, text, words):
    P, sizes = _small_curve(monkeypatch)
    path = lc.snapshot_path(P, sizes)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    with pytest.raises(ValueError, match=path.name) as e:
        lc.stored(P, sizes)
    assert words in str(e.value)
    monkeypatch.setattr(lc, "load_structures", lambda *a, **k: pytest.fail("built a corpus for a damaged snapshot"))
    assert lc.main(["--profile", "smoke", "--sizes", "1", "--skip-unfinished"]) == 2
    err = capsys.readouterr().err
    assert path.name in err and "Traceback" not in err


def test_curve_rows_of_other_settings_are_not_used(scratch_dirs, monkeypatch):
    P, sizes = _small_curve(monkeypatch)
    path = lc.snapshot_path(P, sizes)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"key": "learning-curve-smoke-000000000000", "corpus": "c", '
                    '"rows": [{"per group": 1, "seed": 0, "classifier": "model-4"}]}')
    seen = []
    assert lc.committed_rows(P, sizes, log=seen.append) == [] and "other settings" in seen[0]
    assert lc.stored(P, sizes) is None
