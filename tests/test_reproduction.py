"""The reproduction report's comparisons: status rules, reasons, the README splice."""
from __future__ import annotations

import pandas as pd
import pytest

from lattice_utils import paths
from lattice_utils import reproduction as R


def test_status_rules():
    assert R.Check("001", "x", 0.5, 0.55, "slope", "16", "t").status() == "matches"
    assert R.Check("001", "x", 0.5, 0.65, "slope", "16", "t").status() == "differs"
    assert R.Check("003", "x", 99, 99.5, "accuracy %", "18", "t", at_least=True).status() == "matches"
    assert R.Check("003", "x", 99, 90, "accuracy %", "18", "t", at_least=True).status() == "differs"
    assert R.Check("000", "x", 0.5, 0.5, "MAE", "04", "t", reason="offline corpus").status() == "not comparable"
    assert R.Check("000", "x", float("nan"), 0.5, "MAE", "04", "t").status() == "not comparable"


def test_checks_read_the_tables_and_say_why(tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "TABLES", tmp_path)
    pd.DataFrame([{"dataset": "jv2d", "subset": "full", "subset_title": "Full test set", "parameter": "a", "n": 5,
                   "MAE": 0.70, "paper_MAE": 0.69, "RMSE": 1.3, "paper_RMSE": 1.31, "profile": "paper",
                   "data_source": "jarvis"},
                  {"dataset": "c2db", "subset": "full", "subset_title": "Full test set", "parameter": "a", "n": 5,
                   "MAE": 1.2, "paper_MAE": 0.5, "RMSE": 2.0, "paper_RMSE": 1.0, "profile": "quick",
                   "data_source": "offline"}]).to_csv(tmp_path / "table_1_regression.csv", index=False)
    pd.DataFrame([{"measure": "nearest-neighbour mean (deg)", "ours": 13.03, "paper": 13.03}]).to_csv(
        tmp_path / "table_09_axis_coverage.csv", index=False)
    t = R.checks()
    jv = t[t["item"].str.contains("JV2D")]
    assert set(jv["status"]) == {"matches"}
    c2 = t[t["item"].str.contains("C2DB")]
    assert set(c2["status"]) == {"not comparable"}
    assert "offline PyXtal corpus instead of C2DB" in c2["reason"].iloc[0]
    assert t[t["item"].str.contains("nearest-neighbour")]["status"].iloc[0] == "matches"


def test_splice_replaces_only_the_marked_block():
    text = "a\n<!-- headline:start -->\nold\n<!-- headline:end -->\nb\n"
    assert R.splice(text, "new", "headline") == "a\n<!-- headline:start -->\nnew\n<!-- headline:end -->\nb\n"
    with pytest.raises(ValueError, match="markers"):
        R.splice("no markers", "new", "headline")
