"""Metrics against scikit-learn and hand-computed cases; empty sets and classes."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    mean_absolute_error,
    mean_squared_error,
    precision_recall_fscore_support,
)

from lattice_utils.learn import metrics


def test_mae_rmse_hand_computed():
    assert metrics.mae([1, 2, 3], [2, 2, 5]) == pytest.approx(1.0)
    assert metrics.rmse([1, 2, 3], [2, 2, 5]) == pytest.approx(np.sqrt(5 / 3))


def test_regression_rows_match_sklearn():
    rng = np.random.default_rng(0)
    y, p = rng.normal(size=(50, 3)), rng.normal(size=(50, 3))
    rows = metrics.regression_rows(y, p)
    for k, row in enumerate(rows):
        assert row["n"] == 50
        assert row["MAE"] == pytest.approx(mean_absolute_error(y[:, k], p[:, k]))
        assert row["RMSE"] == pytest.approx(np.sqrt(mean_squared_error(y[:, k], p[:, k])))


def test_empty_subset_gives_n0_row_not_crash():
    rows = metrics.regression_rows(np.zeros((0, 3)), np.zeros((0, 3)))
    assert [r["n"] for r in rows] == [0, 0, 0]
    assert all(np.isnan(r["MAE"]) and np.isnan(r["RMSE"]) for r in rows)


def test_shape_mismatch_is_refused():
    with pytest.raises(ValueError, match="3 columns"):
        metrics.regression_rows(np.zeros((4, 2)), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="predictions"):
        metrics.regression_rows(np.zeros((4, 3)), np.zeros((3, 3)))


def test_baseline_is_training_mean():
    train = np.array([[2.0, 4.0, 90.0], [4.0, 6.0, 120.0]])
    base = metrics.baseline_prediction(train, 3)
    assert base.shape == (3, 3)
    np.testing.assert_allclose(base[1], [3.0, 5.0, 105.0])


def test_test_subsets_of_section_2_3():
    t = pd.DataFrame({"a": [3.0, 12.0, 4.0, 3.0], "b": [3.0, 3.0, 11.0, 5.0],
                      "gamma": [120.0, 90.0, 60.0, 75.0]})
    assert metrics.subset_mask(t, "standard").tolist() == [True, False, False, False]
    assert metrics.subset_mask(t, "nonstandard_gamma").tolist() == [False, False, False, True]
    assert metrics.subset_mask(t, "a_gt_10").tolist() == [False, True, False, False]
    assert metrics.subset_mask(t, "b_gt_10").tolist() == [False, False, True, False]
    table = metrics.subset_table(t, t[["a", "b", "gamma"]].to_numpy() + 1)
    assert set(table["n"]) == {4, 1}
    assert (table["MAE"] == 1).all()
    with pytest.raises(ValueError, match="unknown test subset"):
        metrics.subset_mask(t, "tiny")


def test_subset_table_empty_subset_is_marked_n0():
    t = pd.DataFrame({"a": [3.0], "b": [3.0], "gamma": [120.0]})
    table = metrics.subset_table(t, [[3, 3, 120]])
    empty = table[table["subset"] == "a_gt_10"]
    assert (empty["n"] == 0).all() and empty["MAE"].isna().all()


def test_classification_table_matches_sklearn():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 5, 300)
    p = np.where(rng.random(300) < 0.7, y, rng.integers(0, 5, 300))
    t = metrics.classification_table(y, p).set_index("class")
    prec, rec, f1, sup = precision_recall_fscore_support(y, p, labels=range(5), zero_division=0)
    for c in range(5):
        assert t.loc[str(c), "precision"] == pytest.approx(prec[c])
        assert t.loc[str(c), "recall"] == pytest.approx(rec[c])
        assert t.loc[str(c), "f1"] == pytest.approx(f1[c])
        assert t.loc[str(c), "support"] == sup[c]
    assert t.loc["accuracy", "f1"] == pytest.approx(accuracy_score(y, p))
    assert t.loc["macro avg", "f1"] == pytest.approx(f1_score(y, p, average="macro"))
    assert t.loc["weighted avg", "f1"] == pytest.approx(f1_score(y, p, average="weighted"))
    assert t.loc["weighted avg", "precision"] == pytest.approx(
        precision_recall_fscore_support(y, p, average="weighted")[0])
    s1 = metrics.accuracy_and_f1(y, p)
    assert s1["accuracy_pct"] == pytest.approx(100 * accuracy_score(y, p))


def test_class_absent_from_test_set_is_nan_and_left_out_of_macro():
    y = np.array([0, 0, 1, 1, 2])
    p = np.array([0, 1, 1, 1, 2])
    t = metrics.classification_table(y, p).set_index("class")
    # hand computed: class 0 P=1 R=.5 F1=2/3; class 1 P=2/3 R=1 F1=.8; class 2 all 1
    assert t.loc["0", "f1"] == pytest.approx(2 / 3)
    assert t.loc["1", "precision"] == pytest.approx(2 / 3)
    assert t.loc["3", "support"] == 0 and np.isnan(t.loc["3", "recall"])
    macro = [i for i in t.index if i.startswith("macro")][0]
    assert "3 classes" in macro
    assert t.loc[macro, "f1"] == pytest.approx((2 / 3 + 0.8 + 1) / 3)
    # scikit-learn over the present labels agrees
    assert t.loc[macro, "f1"] == pytest.approx(f1_score(y, p, labels=[0, 1, 2], average="macro"))


def test_empty_test_set_gives_rows_with_n0():
    t = metrics.classification_table([], [])
    assert (t["support"] == 0).all()
    assert t.set_index("class").loc["accuracy", "f1"] != t.set_index("class").loc["accuracy", "f1"]


def test_out_of_range_labels_are_refused():
    with pytest.raises(ValueError, match="outside"):
        metrics.classification_table([0, 7], [0, 1])


def test_tmd_and_chemistry_groups():
    assert metrics.is_tmd("MoS2") and metrics.is_tmd("WSe2") and metrics.is_tmd("S2Ta")
    assert not metrics.is_tmd("SnS2")          # Sn is not a transition metal
    assert not metrics.is_tmd("MoSSe") and not metrics.is_tmd("TaCl2")
    t = pd.DataFrame({"formula": ["MoS2", "NaCl", "Ge"], "elements": ["Mo S", "Cl Na", "Ge"],
                      "band_gap": [1.8, 5.0, 0.0], "a": [3.2, 4.0, 4.0],
                      "b": [3.2, 4.0, 4.0], "gamma": [120.0, 90.0, 120.0]})
    masks = metrics.chemistry_masks(t)
    assert masks["metals"][0].tolist() == [False, False, True]
    assert masks["chalcogenides"][0].tolist() == [True, False, False]
    assert masks["halides"][0].tolist() == [False, True, False]
    table = metrics.chemistry_table(t, t[["a", "b", "gamma"]].to_numpy())
    assert (table["MAE"].fillna(0) == 0).all()


def test_groups_without_band_gaps_are_marked_not_available():
    t = pd.DataFrame({"formula": ["MoS2"], "elements": ["Mo S"], "band_gap": [np.nan],
                      "a": [3.2], "b": [3.2], "gamma": [120.0]})
    table = metrics.chemistry_table(t, [[3.0, 3.0, 120.0]])
    metals = table[table["group"] == "metals"]
    assert (metals["n"] == 0).all() and metals["note"].str.startswith("not available").all()
    halides = table[table["group"] == "halides"]
    assert (halides["note"] == "empty group").all()


def test_gamma_confusion_snaps_to_60_90_120_and_matches_sklearn():
    from sklearn.metrics import confusion_matrix

    rng = np.random.default_rng(3)
    true = rng.choice([60.0, 90.0, 120.0], 200)
    pred = true + rng.normal(0, 20, 200)
    snapped = metrics.snap_gamma(pred)
    assert set(np.unique(snapped)) <= {60.0, 90.0, 120.0}
    assert metrics.snap_gamma([74.9, 75.1, 104.9, 105.1, -5, 400]).tolist() == [60, 90, 90, 120, 60, 120]
    expect = confusion_matrix(true, snapped, labels=[60.0, 90.0, 120.0])
    np.testing.assert_array_equal(metrics.gamma_confusion(true, pred), expect)
    assert metrics.gamma_confusion([], []).shape == (3, 3)
