"""The reproduction report's comparisons: status rules, reasons, the README splice."""
from __future__ import annotations

import pandas as pd
import pytest

from lattice_utils.core import paths
from lattice_utils.repro import reproduction as R
from lattice_utils.studies import snapshots as S


def test_status_rules():
    assert R.Check("001", "x", 0.5, 0.55, "slope", "16", "t").status() == "matches"
    assert R.Check("001", "x", 0.5, 0.65, "slope", "16", "t").status() == "differs"
    assert R.Check("003", "x", 99, 99.5, "accuracy %", "18", "t", at_least=True).status() == "matches"
    assert R.Check("003", "x", 99, 90, "accuracy %", "18", "t", at_least=True).status() == "differs"
    assert R.Check("000", "x", 0.5, 0.5, "MAE", "04", "t", reason="offline corpus").status() == "not comparable"
    assert R.Check("000", "x", float("nan"), 0.5, "MAE", "04", "t").status() == "not comparable"


def test_checks_read_the_tables_and_say_why(scratch_dirs):
    tmp_path = paths.TABLES
    tmp_path.mkdir(parents=True)
    pd.DataFrame([{"dataset": "jv2d", "subset": "full", "subset_title": "Full test set", "parameter": "a", "n": 5,
                   "MAE": 0.70, "paper_MAE": 0.69, "RMSE": 1.3, "paper_RMSE": 1.31, "profile": "paper",
                   "data_source": "jarvis"},
                  {"dataset": "c2db", "subset": "full", "subset_title": "Full test set", "parameter": "a", "n": 5,
                   "MAE": 1.2, "paper_MAE": 0.5, "RMSE": 2.0, "paper_RMSE": 1.0, "profile": "quick",
                   "data_source": "offline"},
                  {"dataset": "c2db", "subset": "baseline", "subset_title": "Baseline (training mean)",
                   "parameter": "b", "n": 5, "MAE": 0.9, "paper_MAE": 1.0, "RMSE": 1.3, "paper_RMSE": 1.29,
                   "profile": "quick", "data_source": "offline"}]).to_csv(
        tmp_path / "table_1_regression.csv", index=False)
    pd.DataFrame([{"measure": "nearest-neighbour mean (deg)", "ours": 13.03, "paper": 13.03}]).to_csv(
        tmp_path / "table_09_axis_coverage.csv", index=False)
    t = R.checks()
    jv = t[t["item"].str.contains("JV2D")]
    assert set(jv["status"]) == {"matches"}
    c2 = t[t["item"].str.contains("C2DB")]
    assert set(c2["status"]) == {"not comparable"}
    assert "offline prototype stand-in instead of C2DB" in c2["reason"].iloc[0]
    net = c2[c2["item"].str.contains("Full test set")]["reason"].iloc[0]
    base = c2[c2["item"].str.contains("Baseline")]["reason"].iloc[0]
    assert "scaled networks" in net
    # the baseline has no network in it: its reason names the data, never the networks
    assert "property of the data" in base and "networks" not in base
    assert t[t["item"].str.contains("nearest-neighbour")]["status"].iloc[0] == "matches"


def test_the_paper_splits_class_counts_are_a_comparison_without_training(scratch_dirs):
    paths.TABLES.mkdir(parents=True)
    pd.DataFrame([{"dataset": "jv2d", "split": "train", "class": 0, "paper": 367, "ours": 367, "paper_share": 0.4272,
                   "ours_share": 0.4272, "profile": "quick", "data_source": "stem_jv2d"},
                  {"dataset": "jv2d", "split": "test", "class": 2, "paper": 65, "ours": 66, "paper_share": 0.3023,
                   "ours_share": 0.3041, "profile": "quick", "data_source": "stem_jv2d"},
                  {"dataset": "c2db", "split": "train", "class": 0, "paper": 1262, "ours": 400, "paper_share": 0.30,
                   "ours_share": 0.30, "profile": "quick", "data_source": "offline"}]).to_csv(
        paths.TABLES / "table_s3_class_counts.csv", index=False)
    t = R.checks().set_index("item")
    jv_train = t.loc["Table S3 · JV2D train · class 0 · count"]
    jv_test = t.loc["Table S3 · JV2D test · class 2 · count"]
    # the quick profile trained nothing that these counts depend on: the split is the paper's own
    assert jv_train["comparison"] == jv_test["comparison"] == "paper data, no training"
    # one image more than the paper is a difference: compared as counts, not as shares within 0.02
    assert jv_train["status"] == "matches" and jv_test["status"] == "differs"
    c2 = t.loc["Table S3 · C2DB train · class 0 · count"]
    assert c2["comparison"] == "stand-in" and c2["status"] == "not comparable"


def test_splice_replaces_only_the_marked_block():
    text = "a\n<!-- headline:start -->\nold\n<!-- headline:end -->\nb\n"
    assert R.splice(text, "new", "headline") == "a\n<!-- headline:start -->\nnew\n<!-- headline:end -->\nb\n"
    with pytest.raises(ValueError, match="markers"):
        R.splice("no markers", "new", "headline")


def test_seeded_snapshots_give_a_tolerance_from_their_spread(scratch_dirs, monkeypatch):
    from lattice_utils.studies import paper_runs

    per_seed = _per_seed([82.0, 84.0, 83.0])
    t2 = pd.DataFrame([{"dataset": "jv2d", "class": "0", "precision": p, "recall": 0.9, "f1": 0.9, "support": 92,
                        "seed": s} for s, p in enumerate([0.90, 0.92, 0.91])])
    paper_runs.write_snapshot("stem_jv2d", "paper", per_seed, t2, [], date="2026-11-01")
    paper_runs.write_snapshot("stem_jv2d", "quick", per_seed.assign(accuracy_pct=50.0), t2, [], date="2026-11-01")
    t = R.checks()
    s1 = t[t["item"].str.startswith("Table S1 · JV2D · DenseNet121")
           & t["item"].str.contains("accuracy")].set_index("profile")
    # paper 80.65; ours 83.0 +- 1.0 over 3 seeds: the 95 % prediction interval for one more run is
    # 83.0 +- t(2) * 1.0 * sqrt(4/3) = 83.0 +- 4.97, wider than the 3-point margin: inconclusive
    assert s1.loc["paper", "ours"] == pytest.approx(83.0)
    assert s1.loc["paper", "tolerance"] == "95 % prediction interval [78, 88]"
    assert s1.loc["paper", "status"] == "inconclusive" and "wider than the margin" in s1.loc["paper", "reason"]
    assert s1.loc["paper", "comparison"] == "paper data, paper settings"
    assert s1.loc["quick", "status"] == "not comparable"
    assert s1.loc["quick", "comparison"] == "paper data, scaled settings"
    precision = t[t["item"].str.startswith("Table 2 · JV2D · class 0 · precision")]
    assert precision["status"].iloc[0] in ("consistent", "differs", "inconclusive")
    assert R.seed_tolerance(0.0, 3, 100 / 217) == pytest.approx(100 / 217)


def _per_seed(accuracies, title="DenseNet121 (from scratch)", model="densenet121"):
    return pd.DataFrame([{"dataset": "jv2d", "data_source": "stem_jv2d", "seed": s, "model": model,
                          "model_title": title, "accuracy_pct": acc, "f1_macro": 0.7, "f1_weighted": 0.8, "n": 217}
                         for s, acc in enumerate(accuracies)])


def _class_rows(seeds):
    return pd.DataFrame([{"dataset": "jv2d", "class": "0", "precision": 0.9, "recall": 0.9, "f1": 0.9,
                          "support": 92, "seed": s} for s in range(seeds)])


@pytest.mark.parametrize("done, requested, status", [(1, 3, "pending"), (2, 3, "pending"), (1, 1, "pending"),
                                                     (3, 3, "inconclusive"), (3, 3, "differs"), (3, 3, "consistent")])
def test_a_paper_settings_snapshot_gets_a_status_only_when_all_its_seeds_have_finished(
        scratch_dirs, done, requested, status):
    from lattice_utils.studies import paper_runs

    # paper 80.65: seeds spread too wide to tell, tight and far, tight and near
    accuracies = {"differs": [90.0, 90.2, 90.1],
                  "consistent": [80.5, 80.7, 80.6]}.get(status, [82.0, 84.0, 83.0])[:done]
    paper_runs.write_snapshot("stem_jv2d", "paper", _per_seed(accuracies), _class_rows(done), [],
                              date="2026-11-01", seeds_requested=range(requested))
    meta = __import__("json").loads(
        (paths.REPORTS / "snapshots" / "2026-11-01-stem_jv2d-paper" / "meta.json").read_text())
    assert meta["seeds_done"] == list(range(done)) and meta["complete"] == (done == requested)
    t = R.checks()
    row = t[t["item"].str.startswith("Table S1 · JV2D · DenseNet121")].iloc[0]
    assert row["status"] == status and row["comparison"] == "paper data, paper settings"
    if status == "pending":
        assert (f"{done} of {requested} seeds finished" if done < requested else "no spread") in row["reason"]
    assert ("one seed" in row["item"]) == (done == 1)


def test_a_snapshot_without_a_finished_densenet_has_no_table_2_and_still_reports(scratch_dirs):
    from lattice_utils.studies import paper_runs

    mlp = _per_seed([77.0, 79.0, 78.0], title="EfficientNet-Lite0 (ImageNet) + MLP", model="mlp")
    paper_runs.write_snapshot("stem_jv2d", "paper", mlp, pd.DataFrame(), [], date="2026-11-01",
                              models_requested=["densenet121", "mlp"])
    t = R.checks()
    rows = t[t["table"] == "snapshots/2026-11-01-stem_jv2d-paper"]
    assert not t["item"].str.startswith("Table 2 · JV2D · class 0 · f1 (").any()
    mlp_row = rows[rows["item"].str.contains(r"\+ MLP")].iloc[0]
    assert mlp_row["ours"] == pytest.approx(78.0)
    # the DenseNet asked for and not finished shows as a pending row with no value yet
    dense = rows[rows["item"].str.contains("DenseNet121")].iloc[0]
    assert dense["status"] == "pending" and "0 of 3 seeds finished" in dense["reason"] and pd.isna(dense["ours"])


def test_the_headline_prefers_the_paper_settings_row_and_reads_the_snapshot_title(scratch_dirs):
    from lattice_utils.studies import paper_runs

    mlp = _per_seed([83.0, 84.0, 85.0], title="EfficientNet-Lite0 (ImageNet) + MLP", model="mlp")
    paper_runs.write_snapshot("stem_jv2d", "paper", pd.concat([_per_seed([80.0, 81.0, 82.0]), mlp]), _class_rows(3),
                              [], date="2026-11-01")
    t = R.checks()
    # a quick-run row of the same item listed first, as the notebooks' rows are
    quick = t[t["item"].str.startswith("Table S1 · JV2D · DenseNet121")].iloc[[0]].assign(
        item="Table S1 · JV2D · DenseNet121 (from scratch) · accuracy %", comparison="paper data, scaled settings",
        profile="quick")
    head = R.headline(pd.concat([quick, t], ignore_index=True))
    dense = head[head["item"].str.contains("DenseNet121") & head["item"].str.contains("JV2D")]
    assert len(dense) == 1 and dense["profile"].iloc[0] == "paper" and dense["ours"].iloc[0] == pytest.approx(81.0)
    mlp_rows = head[head["item"].str.contains(r"\+ MLP")]
    assert list(mlp_rows["item"].str.split(" · ").str[2]) == ["EfficientNet-Lite0 (ImageNet) + MLP"]
    assert mlp_rows["paper"].iloc[0] == pytest.approx(83.41)
    # the paper's MLP reads CLIP features; ours another backbone: the paper's data, not its settings
    assert mlp_rows["comparison"].iloc[0] == "paper data, other settings"
    assert mlp_rows["status"].iloc[0] == "not comparable" and "CLIP" in mlp_rows["reason"].iloc[0]


def test_every_table_the_report_reads_is_declared_with_its_notebook():
    from lattice_utils.repro import outputs

    for name in outputs.CHECKED:
        assert outputs.is_table(name) and outputs.notebook_of(name).isdigit(), name
    assert outputs.notebook_of("table_1_regression") == "04"
    with pytest.raises(KeyError, match="no notebook declares"):
        outputs.notebook_of("table_nobody_writes")


@pytest.mark.bad_input
def test_a_checked_table_with_a_renamed_column_is_refused_where_it_is_written(scratch_dirs):
    from lattice_utils.repro import report

    ok = pd.DataFrame({"measure": ["x"], "ours": [1.0], "document": [2.0], "profile": ["smoke"]})
    report.write_table(ok, "table_18_accuracy", "t")
    with pytest.raises(ValueError, match=r"table_18_accuracy lacks the columns \['ours'\]"):
        report.write_table(ok.rename(columns={"ours": "ours %"}), "table_18_accuracy", "t")
    report.write_table(ok.rename(columns={"ours": "ours %"}), "table_not_read_by_the_report", "t")


def test_a_notebook_run_stamps_profile_source_and_commit_once(scratch_dirs):
    from lattice_utils.core import paths
    from lattice_utils.repro import report

    run = report.NotebookRun("05", "smoke", {"jv2d": "stem_jv2d", "c2db": "offline"}, commit="abc1234")
    df = pd.DataFrame({"dataset": ["jv2d", "c2db", "c2db"], "data_source": [None, None, "stem_c2db"],
                       "class": ["0", "1", "2"]})
    stamped = run.stamp(df)
    assert stamped["profile"].tolist() == ["smoke"] * 3
    # a slot's source comes from the dict; a row that names its own source keeps it
    assert stamped["data_source"].tolist() == ["stem_jv2d", "offline", "stem_c2db"]
    assert "profile" not in df.columns            # the caller's frame is left alone
    run.write_table(df.assign(precision=1.0, paper_precision=1.0, recall=1.0, paper_recall=1.0, f1=1.0,
                              paper_f1=1.0), "table_2_classification", "Table 2", notes="Classes 0-4.")
    md = (paths.TABLES / "table_2_classification.md").read_text()
    assert md.rstrip().endswith("*Notebook 05, profile smoke; data source jv2d: stem_jv2d, c2db: offline, "
                                "commit abc1234.*")
    assert "Classes 0-4." in md
    xrd = report.NotebookRun("10", "quick", "offline", "structure_source", commit="x")
    assert (xrd.stamp(pd.DataFrame({"a": [1]}))[["profile", "structure_source"]].values.tolist()
            == [["quick", "offline"]])
    assert "data_source" not in report.NotebookRun("16", "quick", commit="x").stamp(pd.DataFrame({"a": [1]}))


def test_a_notebook_run_captions_its_figures(scratch_dirs):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lattice_utils.core import paths
    from lattice_utils.repro import report

    fig = plt.figure()
    report.NotebookRun("04", "quick", "offline", commit="abc").save_figure(fig, "f", "Figure 3: parity. ")
    plt.close(fig)
    assert (paths.FIGURES / "f.txt").read_text() == \
        "Figure 3: parity. Notebook 04, profile quick; data source offline, commit abc.\n"


@pytest.mark.bad_input
def test_a_notebook_run_refuses_rows_of_another_profile_and_tables_of_another_notebook(scratch_dirs):
    from lattice_utils.repro import report

    run = report.NotebookRun("04", "quick", "offline", commit="x")
    with pytest.raises(ValueError, match=r"runs the quick profile, but rows of this table say \['smoke'\]"):
        run.stamp(pd.DataFrame({"profile": ["smoke"]}))
    with pytest.raises(ValueError, match="table table_2_classification belongs to notebook 05"):
        run.write_table(pd.DataFrame({"a": [1]}), "table_2_classification", "t")
    with pytest.raises(ValueError, match="needs a 'dataset' column"):
        report.NotebookRun("02", "quick", {"jv2d": "offline"}, commit="x").stamp(pd.DataFrame({"a": [1]}))


@pytest.mark.bad_input
def test_paper_quote_reads_the_paper_values_as_printed():
    from lattice_utils.repro import report

    assert report.paper_quote("xrd", "[100] at -10 %: {strain_100_m10_cs} / {strain_100_m10_sg} %") == \
        "[100] at -10 %: 94.35 / 76.60 %"
    assert report.paper_quote("xrd", "{cifs_total:,.0f} CIFs, {unseen_cs_low:.0f}-{unseen_cs_high:.0f} %") == \
        "52,191 CIFs, 60-65 %"
    with pytest.raises(KeyError, match="'strain_100_m20_cs' is not a key of lattice_utils/paper_values/xrd.csv"):
        report.paper_quote("xrd", "{strain_100_m20_cs}")


def test_related_checks_read_the_documents_ww_values_as_numbers(scratch_dirs):
    from lattice_utils.repro import report, reproduction

    ww = pd.DataFrame({"class": ["2Se", "SeTe", "SV"], "document average mean (pm)": [329.5, 331.6, None],
                       "document bootstrap std (pm)": [0.3, 0.4, None], "average mean (pm)": [330.1, 331.9, 316.0],
                       "bootstrap std (pm)": [0.2, 0.5, 0.9], "document strain (%)": [None, 0.6, -4.8],
                       "strain (%)": [None, 0.55, -4.2]})
    report.NotebookRun("16", "smoke", commit="x").write_table(ww, "table_16_ww_spacing", "W-W")
    checks = {c.item: c for c in reproduction.related_checks() if c.table == "table_16_ww_spacing"}
    assert checks["Fig. 3b · 2Se · class-average W-W (pm)"].paper == 329.5
    assert checks["Fig. 3b · SeTe · bootstrap std (pm)"].paper == 0.4
    assert checks["Fig. 3b · SeTe · bootstrap std (pm)"].ours == 0.5
    assert not any("· SV · class-average" in k for k in checks)       # no document value, no check
    assert checks["Fig. 3d · SV · local strain (%) (the simulated truth is the document's value)"].paper == -4.8


def test_a_newer_snapshot_replaces_the_older_one_of_its_set_and_profile_only(scratch_dirs):
    from lattice_utils.studies import paper_runs

    root = paths.REPORTS / "snapshots"
    paper_runs.write_snapshot("stem_jv2d", "paper", _per_seed([80.0, 81.0]), pd.DataFrame(), [], date="2026-11-01")
    paper_runs.write_snapshot("stem_jv2d", "quick", _per_seed([70.0, 71.0]), pd.DataFrame(), [], date="2026-11-01")
    # a run that spans two days: the report reads only the newest, so the older folder goes
    paper_runs.write_snapshot("stem_jv2d", "paper", _per_seed([80.0, 81.0, 82.0]), pd.DataFrame(), [],
                              date="2026-11-02")
    assert sorted(p.name for p in root.iterdir()) == ["2026-11-01-stem_jv2d-quick", "2026-11-02-stem_jv2d-paper"]
    # rewriting the same day's folder keeps it
    paper_runs.write_snapshot("stem_jv2d", "paper", _per_seed([80.0, 81.0, 82.0]), pd.DataFrame(), [],
                              date="2026-11-02")
    assert (root / "2026-11-02-stem_jv2d-paper" / "meta.json").exists()
    rows = R.checks()
    assert set(rows[rows["table"].str.startswith("snapshots/")]["table"]) == {
        "snapshots/2026-11-01-stem_jv2d-quick", "snapshots/2026-11-02-stem_jv2d-paper"}


def test_the_run_time_of_a_paper_settings_snapshot_comes_from_its_median_epoch(scratch_dirs):
    from lattice_utils.studies import paper_runs

    runs = [{"set": "stem_jv2d", "seed": s, "model": "densenet121", "train_seconds": 9e9, "wall_seconds": 1.0,
             "epochs": 50, "median_epoch_seconds": sec, "median_images_per_s": 4.0}
            for s, sec in enumerate([210.0, 216.0])]
    runs.append({"set": "stem_jv2d", "seed": 0, "model": "mlp", "train_seconds": None, "wall_seconds": 2.0})
    paper_runs.write_snapshot("stem_jv2d", "paper", _per_seed([80.0, 81.0]), pd.DataFrame(), runs,
                              date="2026-11-01", seeds_requested=[0, 1, 2])
    paper_runs.write_snapshot("stem_jv2d", "quick", _per_seed([70.0, 71.0]), pd.DataFrame(), runs[:1],
                              date="2026-11-01")
    t = R.snapshot_run_times("paper")
    # the MLP has no epochs; the paused run's summed seconds (train_seconds) are not used
    assert list(t["model"]) == ["DenseNet121 (from scratch)"] and t.loc[0, "seeds finished"] == 2
    assert t.loc[0, "epoch (s, median)"] == 213.0 and t.loc[0, "hours per training"] == round(50 * 213 / 3600, 2)
    line = R.run_time_sentence(t)
    assert "DenseNet121 (from scratch) 3.0 h per seed (50 epochs × 3.5 min; 2 seeds finished)" in line
    assert "2026-11-01-stem_jv2d-paper" in line and "quick" not in line and "CPU cores, no GPU" in line
    assert R.run_time_sentence(R.snapshot_run_times("smoke")) == ""


def test_the_paper_run_commands_the_readme_gives_reviewers_are_valid():
    import shlex

    from lattice_utils.studies import paper_runs

    lines = [ln for ln in (paths.ROOT / "README.md").read_text().splitlines()
             if ln.startswith(".venv/bin/python -m lattice_utils.studies.paper_runs")]
    assert {"stem_jv2d", "stem_c2db"} <= {a for ln in lines for a in shlex.split(ln)}
    committed = S.newest_snapshots()
    for ln in lines:
        args = paper_runs.parser().parse_args(shlex.split(ln)[3:])
        assert args.profile == "paper" and args.snapshot and len(set(args.seeds)) >= 3
        # the command reproduces the committed snapshot as a whole, so the snapshot guard does not refuse it
        found = committed.get((args.set, "paper"))
        if found is not None:
            assert set(found[1]["seeds_requested"]) <= set(args.seeds), ln
            assert set(found[1]["models_requested"]) <= set(args.models), ln


def test_the_commit_stamp_names_uncommitted_code_but_not_a_writers_own_outputs(tmp_path, monkeypatch):
    import subprocess

    from lattice_utils.repro import report

    def git(*args):
        subprocess.run(["git", "-c", "user.email=t@t", "-c", "user.name=t", *args], cwd=tmp_path, check=True,
                       capture_output=True)

    (tmp_path / "reports" / "snapshots").mkdir(parents=True)
    (tmp_path / "code.py").write_text("x = 1\n")
    (tmp_path / "reports" / "snapshots" / "meta.json").write_text("{}\n")
    git("init", "-q")
    git("add", ".")
    git("commit", "-qm", "one")
    monkeypatch.setattr(paths, "ROOT", tmp_path)
    assert "uncommitted" not in report.git_commit()
    (tmp_path / "reports" / "snapshots" / "meta.json").write_text('{"seed": 0}\n')
    assert "uncommitted" in report.git_commit()
    assert "uncommitted" not in report.git_commit(ignore=("reports/snapshots",))
    (tmp_path / "code.py").write_text("x = 2\n")
    assert report.git_commit(ignore=("reports/snapshots",)).endswith("with uncommitted changes")


def test_the_headline_selects_rows_by_identity_not_by_their_labels(scratch_dirs):
    from lattice_utils.repro import outputs
    from lattice_utils.studies import paper_runs

    paper_runs.write_snapshot("stem_jv2d", "paper", _per_seed([80.0, 81.0, 82.0]), _class_rows(3), [],
                              date="2026-11-01")
    t = R.checks()
    # the same rows under other words: still found, by the key the registry declares
    head = R.headline(t.assign(item="a label someone reworded"))
    dense = head[head["key"] == "table_s1_model_selection|jv2d|densenet121|accuracy %"]
    assert len(dense) == 1 and dense["ours"].iloc[0] == pytest.approx(81.0)
    assert ("000", "table_s1_model_selection|jv2d|densenet121|accuracy %") in outputs.headline_keys()
    # every other headline row's table was not written here: each is named, none is guessed
    missing = R.headline_missing(t)
    assert "table_s1_model_selection|jv2d|densenet121|accuracy %" not in missing
    assert "table_1_regression|jv2d|standard|a|MAE" in missing and len(missing) == len(R.HEADLINE) - len(head)
    # Table 2's accuracy row and weighted recall are the accuracy again: counted once in the summary
    t2 = pd.DataFrame([{"dataset": "jv2d", "class": c, "precision": 0.9, "recall": 0.9, "f1": 0.9, "support": 5,
                        "seed": s} for s in range(3) for c in ("0", "accuracy", "weighted avg")])
    paper_runs.write_snapshot("stem_jv2d", "paper", _per_seed([80.0, 81.0, 82.0]), t2, [], date="2026-11-01")
    t = R.checks()
    table_2 = t[t["key"].str.startswith("table_2_classification|")]
    assert set(table_2["key"]) >= {"table_2_classification|jv2d|accuracy|f1",
                                   "table_2_classification|jv2d|weighted avg|recall"}
    counted = R.summary(t)[["consistent", "inconclusive", "differs", "pending"]].to_numpy().sum()
    assert counted == len(t[t["status"].isin(["consistent", "inconclusive", "differs", "pending"])]) - 2


def test_every_row_says_how_many_trainings_stand_behind_it(scratch_dirs):
    from lattice_utils.studies import paper_runs

    paper_runs.write_snapshot("stem_jv2d", "paper", _per_seed([80.0, 81.0, 82.0]), _class_rows(3), [],
                              date="2026-11-01")
    t = R.checks()
    assert set(t.loc[t["table"].str.startswith("snapshots/"), "runs"]) == {"3 seeds"}
    one = R.Check("000", "x", 1.0, 1.0, "MAE", "", "table_1_regression", "quick", "offline",
                  key="table_1_regression|jv2d|standard|a|MAE")
    baseline = R.Check("000", "x", 1.0, 1.0, "MAE", "", "table_1_regression", "quick", "offline",
                       key="table_1_regression|jv2d|baseline|a|MAE")
    count = R.Check("000", "x", 1.0, 1.0, "count", "", "table_s3_class_counts", "quick", "stem_jv2d",
                    key="table_s3_class_counts|jv2d|test|0")
    assert [R.runs_of(c) for c in (one, baseline, count)] == [R.ONE_RUN, R.NO_TRAINING, R.NO_TRAINING]
    assert "**one run**" in R.LEGEND and "Why two machines give different numbers" in R.LEGEND


def test_the_report_prose_comes_from_its_templates_filled():
    from lattice_utils.repro import outputs, publish

    table = pd.DataFrame([{"document": "000", "item": "Table S1", "comparison": "stand-in", "runs": "one run",
                           "paper": 80.65, "ours": 70.0, "ours (shown)": "70", "difference": -10.65,
                           "tolerance": 3.0, "ours, 95 % interval": "", "paper, 95 % interval": "",
                           "status": "not comparable", "reason": "stand-in", "profile": "smoke",
                           "data source": "offline", "notebook": "02", "table": "table_s1_model_selection"}])
    items = outputs.items_table()
    assert len(items) == sum(len(v) for v in outputs.PAPER_ITEMS.values())
    unclaimed = items.loc[items["reproduced by"] == "", "not reproduced because"]
    assert set(unclaimed) <= set(outputs.NOT_REPRODUCED.values())
    summary = pd.DataFrame({"document": ["000"], "title": ["t"], "n": [1]})
    page = R.report_page(table, summary, table, items, pd.DataFrame(), "", "smoke", "abc1234")
    assert page.startswith("# Reproduction report\n\nGenerated by [`notebooks/99_reproduction_report.ipynb`]")
    assert "Report run: profile smoke, commit abc1234." in page and R.LEGEND in page
    assert "## Chakrabarty et al. (main paper):" in page and "| 000 |" not in page    # papers by name
    assert "{" not in page.split("## Summary")[0]                                       # every placeholder filled
    block = R.headline_page(table, "Paper-settings trainings took 1 h.", "quick", "abc1234")
    assert block.startswith("Generated by notebook 99 from the quick run (commit abc1234)")
    assert block.endswith("\n\nPaper-settings trainings took 1 h.")
    header = publish.page_header("quick", "abc1234")
    assert "profile **quick**" in header and f"at most {publish.LIGHT_PX} px" in header


def test_a_headline_row_without_its_paper_item_is_named(monkeypatch):
    from lattice_utils.repro import outputs
    bad = outputs.Output("02", "table_unsourced", "table", "", headline=("x",))
    monkeypatch.setattr(outputs, "OUTPUTS", (*outputs.OUTPUTS, bad))
    with pytest.raises(ValueError, match=r"\['table_unsourced'\] name none"):
        outputs.headline_keys()
