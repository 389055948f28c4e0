"""The XRD learning curve: one fixed test set, nested training sets, resumable rows."""
from __future__ import annotations

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
