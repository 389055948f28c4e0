"""Notebook 14's functions on inputs with known answers: the comparison table scores an exact
network at zero error and the estimator at the error it was given; the degradation sweep finds the
lattice of a clean square lattice and nothing on a blank image."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lattice_utils.studies import physics_baseline as pb


def _test_table():
    return pd.DataFrame({"a": [3.0, 4.0, 12.0], "b": [3.0, 4.0, 12.0], "gamma": [90.0, 120.0, 75.0],
                         "canon_a": [3.0, 4.0, 12.0], "canon_b": [3.0, 4.0, 12.0],
                         "canon_gamma": [90.0, 120.0, 105.0], "proj_a": [3.0, 4.0, 6.0],
                         "proj_b": [3.0, 4.0, 6.0], "proj_gamma": [90.0, 120.0, 105.0]})


def test_an_exact_network_scores_zero_and_the_estimator_its_given_error():
    test = _test_table()
    network = test[["a", "b", "gamma"]].to_numpy(float)
    estimate = pd.DataFrame({"a": [3.1, 4.1, 6.1], "b": [3.0, 4.0, 6.0], "gamma": [90.0, 120.0, 105.0],
                             "label": [0, 1, -1], "reliable": [True, False, False]})
    table = pb.estimator_vs_network({"jv2d": (test, network, estimate)})
    assert list(table.columns) == pb.COMPARISON_COLUMNS
    dense = table[table.method == "DenseNet121"]
    assert (dense.MAE.dropna() == 0).all() and set(dense.subset) == set(pb.metrics.TEST_SUBSETS)
    full = table[(table.subset == "full") & (table.method == "FFT estimator") & (table.parameter == "a")]
    found = full[(full.truth == "crystal (reduced cell)") & (full.used == "found")].iloc[0]
    assert found.n == 2 and found.MAE == pytest.approx(0.1)          # the third image found no lattice
    reliable = full[(full.truth == "projection (reduced cell)") & (full.used == "reliable")].iloc[0]
    assert reliable.n == 1 and reliable.MAE == pytest.approx(0.1)


def _square_lattice(a=3.0, px=0.1, n=256):
    y, x = np.mgrid[0:n, 0:n] * px
    image = np.cos(2 * np.pi * x / a) + np.cos(2 * np.pi * y / a)
    return (image - image.min()) / np.ptp(image)


def test_the_sweep_finds_a_clean_lattice_and_nothing_on_a_blank_image():
    truth = pd.DataFrame({"proj_a": [3.0], "proj_b": [3.0], "proj_gamma": [90.0]})
    levels = [("none", 0, lambda im: im), ("blank", 1, lambda im: np.zeros_like(im))]
    table = pb.degradation_table([_square_lattice()], truth, levels, px_scale=0.1)
    clean, blank = table.iloc[0], table.iloc[1]
    assert clean["found %"] == 100 and clean["MAE a"] < 0.05 and clean["MAE gamma"] < 0.5
    assert blank["found %"] == 0 and np.isnan(blank["MAE a"])


def test_the_levels_sweep_dose_stretch_and_drift_in_order():
    levels = pb.degradation_levels(np.random.default_rng(0))
    assert [(k, v) for k, v, _ in levels] == [(k, v) for k, vs in pb.DEGRADATIONS.items() for v in vs]
    image = _square_lattice(n=64)
    for _, _, fn in levels:
        assert fn(image).shape == image.shape
