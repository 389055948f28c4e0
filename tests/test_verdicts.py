"""Verdicts with intervals: the interval arithmetic against scipy's own, the three-way
status on hand-made cases, and Table S3 compared as counts."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from lattice_utils.repro import reproduction, verdicts


def test_t_intervals_over_seeds_agree_with_scipy():
    runs = np.array([87.6, 80.2, 77.4, 85.7, 78.8])        # the five DenseNet121 seeds of the snapshot
    m, s, k = runs.mean(), runs.std(ddof=1), len(runs)
    lo, hi = verdicts.mean_interval(m, s, k)
    ref = stats.t.interval(0.95, k - 1, loc=m, scale=stats.sem(runs))
    assert (lo, hi) == pytest.approx(ref, rel=1e-12)
    assert verdicts.t_quantile(5) == pytest.approx(2.7764451, rel=1e-6)     # not the factor 2
    lo, hi = verdicts.prediction_interval(m, s, k)
    assert (hi - lo) / 2 == pytest.approx(stats.t.ppf(0.975, 4) * s * math.sqrt(1 + 1 / 5), rel=1e-12)
    with pytest.raises(ValueError):
        verdicts.mean_interval(m, s, 1)


@pytest.mark.parametrize("k,n", [(2, 7), (0, 7), (7, 7), (178, 217), (50, 100)])
def test_clopper_pearson_agrees_with_scipys_exact_interval(k, n):
    ref = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="exact")
    assert verdicts.clopper_pearson(k, n) == pytest.approx((ref.low, ref.high), abs=1e-12)


def test_a_class_of_seven_test_images_is_known_to_a_wide_interval():
    lo, hi = verdicts.rate_interval(0.29, 7)                  # 2 of 7, as the referee computed
    assert round(lo, 2) == 0.04 and round(hi, 2) == 0.71
    lo, hi = verdicts.rate_interval(80.65, 215, scale=100.0)
    assert lo < 80.65 < hi and hi - lo > 10


@pytest.mark.parametrize("paper,prediction,n,expect", [
    (80.0, (79.0, 81.0), 217, "consistent"),          # inside, narrow, many images
    (90.0, (79.0, 81.0), 217, "differs"),             # outside the prediction interval
    (80.0, (68.0, 95.0), 217, "inconclusive"),        # inside, but the seeds spread 13 points
    (80.0, (79.0, 81.0), 20, "inconclusive"),         # one image moves the rate 5 points
    (81.0, (79.0, 80.8), None, "consistent"),         # a paper that printed 81: anything from 80.5
])
def test_three_way_status(paper, prediction, n, expect):
    assert verdicts.verdict(paper, prediction, 3.0, n, scale=100.0)[0] == expect


def test_the_papers_rounding_is_no_difference():
    # five seeds all at 2/7 = 0.2857 and a paper that printed 0.29: the same number
    assert verdicts.half_unit(0.29) == pytest.approx(0.005) and verdicts.half_unit(80.65) == pytest.approx(0.005)
    status, _ = verdicts.verdict(0.29, (2 / 7, 2 / 7), 0.03, None)
    assert status == "consistent"


@pytest.mark.parametrize("half,shown", [(4.6, "82"), (13.5, "82"), (0.36, "0.8"), (0.14, "0.82"), (0.021, "0.82")])
def test_digits_follow_the_interval(half, shown):
    value = 81.94 if half > 1 else 0.8194
    assert verdicts.fmt(value, half) == shown


def _s3(rows):
    import pandas as pd

    return pd.DataFrame(rows)


def test_table_s3_is_compared_as_counts(monkeypatch):
    # 66 test images where the paper has 65: a share within 0.02 once called that a match
    table = _s3([{"dataset": "jv2d", "split": "test", "class": 2, "ours": 66, "paper": 65,
                  "ours_share": 0.3041, "paper_share": 0.3023, "profile": "quick", "data_source": "stem_jv2d"},
                 {"dataset": "jv2d", "split": "test", "class": 0, "ours": 92, "paper": 92,
                  "ours_share": 0.424, "paper_share": 0.428, "profile": "quick", "data_source": "stem_jv2d"}])
    monkeypatch.setattr(reproduction, "_read", lambda name: table if name == "table_s3_class_counts" else None)
    rows = {c.item: c for c in reproduction.main_paper_checks()}
    two, zero = rows["Table S3 · JV2D test · class 2 · count"], rows["Table S3 · JV2D test · class 0 · count"]
    assert (two.paper, two.ours, two.status()) == (65, 66, "differs")
    assert zero.status() == "matches"


def test_snapshot_rows_carry_intervals_and_a_three_way_status():
    table = reproduction.checks()
    seeded = table[table["table"].str.startswith("snapshots") & (table["comparison"] == "paper data, paper settings")]
    if seeded.empty:
        pytest.skip("no committed paper-settings snapshot")
    assert set(seeded["status"]) <= {"consistent", "differs", "inconclusive", "pending"}
    judged = seeded[seeded["status"] != "pending"]
    assert judged["tolerance"].str.startswith("95 % prediction interval").all()
    assert (judged["ours, 95 % interval"] != "").all() and judged["reason"].str.len().gt(0).all()


def test_the_referees_corrections(scratch_dirs):
    import pandas as pd

    from lattice_utils.core import paths

    paths.TABLES.mkdir(parents=True)
    pd.DataFrame([{"model": "googlenet", "model_title": "GoogLeNet (from scratch)", "subset": s, "parameter": "a",
                   "n": 10, "MAE": 1.0, "paper_MAE": 0.4, "RMSE": 2.0, "paper_RMSE": 1.1, "profile": "quick",
                   "data_source": "offline"} for s in ("full", "standard")]).to_csv(
        paths.TABLES / "table_s4_alex_models.csv", index=False)
    pd.DataFrame([{"dataset": "jv2d", "group": "metals", "group_title": "Metals (Eg ≤ 0.05 eV)", "parameter": "a",
                   "n": 0, "MAE": None, "paper_MAE": 0.53, "RMSE": None, "paper_RMSE": 0.91,
                   "note": "not available: no band gaps in this data source (offline corpus: structures only)",
                   "profile": "quick", "data_source": "offline"}]).to_csv(paths.TABLES / "table_s5_chemistry.csv",
                                                                           index=False)
    pd.DataFrame([{"dataset": "jv2d", "model": "densenet121", "model_title": "DenseNet121 (from scratch)", "n": 217,
                   "accuracy_pct": 80.0, "paper_accuracy_pct": 80.65, "f1_macro": 0.7, "f1_weighted": 0.8,
                   "paper_f1": 0.81, "profile": "quick", "data_source": "stem_jv2d"}]).to_csv(
        paths.TABLES / "table_s1_model_selection.csv", index=False)
    pd.DataFrame([{"image": "x.dm3", "row": "reference", "a": 3.16, "b": 3.16, "gamma": 120.0}]).to_csv(
        paths.TABLES / "table_s6_experimental.csv", index=False)
    pd.DataFrame([{"measure": "nearest-neighbour mean (deg)", "ours": 13.03, "paper": 13.03}]).to_csv(
        paths.TABLES / "table_09_axis_coverage.csv", index=False)
    pd.DataFrame([{"measure": m, "ours": 100.0, "profile": "quick"} for m in ("discrete", "continuous")]).to_csv(
        paths.TABLES / "table_18_accuracy.csv", index=False)
    t = reproduction.checks()
    s4 = t[t["item"].str.startswith("Table S4")]["item"]
    assert s4.str.contains("full test set").any() and s4.str.contains("standard subset").any()
    assert s4.is_unique
    s5 = t[t["item"].str.startswith("Table S5")]
    assert s5["reason"].str.contains("no band gaps").all()
    f1 = t[t["item"].str.contains("Table S1 · JV2D · DenseNet121 .* F1", regex=True)]
    assert len(f1) == 1 and f1["paper"].iloc[0] == 0.81 and f1["ours"].iloc[0] == 0.8
    s6 = t[t["item"].str.startswith("Table S6")]
    assert len(s6) == 36 and set(s6["status"]) == {"not comparable"} and set(s6["comparison"]) == {"other images"}
    assert t[t["item"].str.startswith("Fig. B")]["comparison"].iloc[0] == "analytic"
    results = t[t["item"].str.startswith("Results · accuracy")].set_index("item")
    assert list(results["paper"]) == [99.9, 84.0] and set(results["status"]) == {"not comparable"}


def test_the_summary_counts_accuracy_once_and_separates_the_kinds_of_evidence():
    import pandas as pd

    rows = [("000", "Table S1 · JV2D · DenseNet121 · accuracy %", "paper data, paper settings", "inconclusive",
             "table_s1_model_selection|jv2d|densenet121|accuracy %"),
            ("000", "Table 2 · JV2D · class accuracy · f1", "paper data, paper settings", "inconclusive",
             "table_2_classification|jv2d|accuracy|f1"),
            ("000", "Table 2 · JV2D · class weighted avg · recall", "paper data, paper settings", "inconclusive",
             "table_2_classification|jv2d|weighted avg|recall"),
            ("000", "Table 2 · JV2D · class 0 · recall", "paper data, paper settings", "consistent",
             "table_2_classification|jv2d|0|recall"),
            ("000", "Table S3 · JV2D test · class 2 · count", "paper data, no training", "differs",
             "table_s3_class_counts|jv2d|test|2"),
            ("004", "Fig. B · 20 axes · nearest-neighbour mean angle (deg)", "analytic", "matches",
             "table_09_axis_coverage|axes_nearest_mean")]
    # the repeats of the accuracy are known by their identity (key), not by their labels
    table = pd.DataFrame(rows, columns=["document", "item", "comparison", "status", "key"])
    s = reproduction.summary(table).set_index(["document", "evidence"])
    trained = s.loc[("000", "trained or measured result")]
    assert trained["inconclusive"] == 1 and trained["consistent"] == 1       # accuracy once, not three times
    assert s.loc[("000", "split count"), "differs"] == 1
    assert s.loc[("004", "analytic"), "matches"] == 1
    assert list(s.columns) == reproduction.STATUS_ORDER


def test_one_study_behind_table_s1_and_table_2():
    """The multi-seed runner trains nothing of its own: it calls the study notebooks 02 and 05 call."""
    import ast
    import inspect

    import nbformat

    from lattice_utils.core import paths
    from lattice_utils.studies import paper_runs

    tree = ast.parse(inspect.getsource(paper_runs))
    called = {n.func.attr for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)}
    assert "classification_study" in called
    assert not called & {"fit_network", "fit_mlp", "predict_test", "accuracy_and_f1", "classification_table", "train"}
    for name in ("02_model_selection.ipynb", "05_bravais_classification.ipynb"):
        code = "\n".join(c.source for c in nbformat.read(paths.NOTEBOOKS / name, as_version=4).cells
                         if c.cell_type == "code")
        assert "stem_studies.classification_study(" in code, name
        assert "fit_network(" not in code and "predict_test(" not in code, name


def test_the_seed_spread_figure_draws_the_intervals_the_verdict_uses():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    from lattice_utils.repro import plots

    per_seed = pd.DataFrame({"model": ["densenet121"] * 5 + ["googlenet"] * 5,
                             "model_title": ["DenseNet121 (from scratch)"] * 5 + ["GoogLeNet (from scratch)"] * 5,
                             "accuracy_pct": [87.6, 80.2, 77.4, 85.7, 78.8, 71.9, 78.3, 81.1, 78.8, 79.7]})
    fig, ax = plt.subplots()
    plots.seed_spread(ax, per_seed, {"densenet121": 80.65, "googlenet": 79.72}, "STEM-JV2D, paper settings")
    band = ax.collections[1].get_paths()[0].vertices[:, 1]          # the first model's grey band
    lo, hi = verdicts.prediction_interval(np.mean(per_seed["accuracy_pct"][:5]),
                                          np.std(per_seed["accuracy_pct"][:5], ddof=1), 5)
    assert band.min() == pytest.approx(lo) and band.max() == pytest.approx(hi)
    assert (ax.get_ylabel() == "test accuracy (%)"
            and "paper (one run)" in [t.get_text() for t in ax.get_legend().get_texts()])
    plt.close(fig)


def test_a_value_is_shown_to_the_digits_of_its_interval():
    assert verdicts.with_interval(81.94, (76.4, 87.5)) == "82 [76, 88]"
    assert verdicts.with_interval(0.2857, (0.04, 0.71)) == "0.3 [0.0, 0.7]"
    assert verdicts.with_interval(0.2857, (0.27, 0.30)) == "0.286 [0.270, 0.300]"
    assert verdicts.with_interval(100.0, (100.0, 100.0)) == "100 [100, 100]"
    assert verdicts.with_interval(80.0, None) == "" and verdicts.with_interval(80.0, (np.nan, 1.0)) == ""


def test_a_value_that_rounds_to_zero_shows_no_sign():
    assert verdicts.fmt(-0.3, 5.0) == "0" and verdicts.fmt(-0.04, 0.5) == "0.0"
    assert verdicts.fmt(-0.6, 5.0) == "-1" and verdicts.fmt(0.3, 5.0) == "0"
    assert verdicts.with_interval(-7.2, (-14.3, -0.2)) == "-7 [-14, 0]"
