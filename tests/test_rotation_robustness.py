"""Notebook 15's scoring on known answers: a method that names the other vector a, or answers
180 - gamma, is not charged; an image without an answer is counted apart."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lattice_utils.studies import rotation_robustness as rr


def test_gamma_folds_to_the_larger_of_the_two_angles():
    assert rr.folded_gamma(np.array([60.0, 120.0, 90.0])).tolist() == [120.0, 120.0, 90.0]


def test_swapped_vectors_and_the_supplementary_angle_cost_nothing_and_a_missing_answer_is_counted_apart():
    evalset = pd.DataFrame({"canon_a": [3.0, 3.0, 4.0], "canon_b": [5.0, 5.0, 4.0],
                            "canon_gamma": [100.0, 100.0, 90.0], "condition": ["rotation"] * 3,
                            "rotation": [0, 0, 30], "true_px": [0.1] * 3})
    exact_but_swapped = np.array([[5.0, 3.0, 80.0], [3.0, 5.0, 100.0], [4.0, 4.0, 90.0]])
    off = np.array([[3.5, 5.0, 100.0], [np.nan, np.nan, np.nan], [4.0, 4.2, 95.0]])
    table = rr.robustness_table(evalset, {"exact": exact_but_swapped, "off": off})
    exact = table[table.method == "exact"]
    assert exact["MAE shorter (Å)"].tolist() == [0.0, 0.0] and exact["MAE γ folded (°)"].tolist() == [0.0, 0.0]
    first = table[(table.method == "off") & (table.rotation_deg == 0)].iloc[0]
    assert first.n == 1 and first.n_without_result == 1 and first["MAE shorter (Å)"] == pytest.approx(0.5)
    second = table[(table.method == "off") & (table.rotation_deg == 30)].iloc[0]
    assert second["MAE longer (Å)"] == pytest.approx(0.2) and second["MAE γ folded (°)"] == pytest.approx(5.0)
