"""The study helpers and the command-line trainer on the smoke profile (scratch data dir)."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from lattice_utils.core import paths


@pytest.mark.slow
def test_cli_trains_into_the_cache_the_notebooks_read(tmp_path):
    env = dict(os.environ, LATTICE_DATA_DIR=str(tmp_path / "data"))
    cmd = [sys.executable, "-m", "lattice_utils.studies.train_models", "--profile", "smoke",
           "--slot", "jv2d", "--task", "regress"]
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600, cwd=paths.ROOT)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "trained in" in res.stdout
    again = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600, cwd=paths.ROOT)
    assert again.returncode == 0 and "reused cached" in again.stdout
    # what a notebook would ask for is that same file
    code = ("from lattice_utils.studies import stem_studies; from lattice_utils.core.profiles import get_profile; "
            "sd = stem_studies.load_slot('jv2d', get_profile('smoke')); "
            "cfg, *_ = stem_studies.network_setup(sd, 'regress', 'densenet121'); "
            "print((cfg.directory() / 'final.pt').exists())")
    check = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                           timeout=300, cwd=paths.ROOT)
    assert check.stdout.strip().endswith("True"), check.stderr[-2000:]


@pytest.mark.slow
def test_cli_needs_a_job():
    res = subprocess.run([sys.executable, "-m", "lattice_utils.studies.train_models", "--profile", "smoke"],
                         capture_output=True, text=True, cwd=paths.ROOT)
    assert res.returncode == 2 and "--all, or --slot and --task" in res.stderr


def test_network_list_covers_the_notebooks():
    from lattice_utils.studies.stem_studies import NETWORKS

    assert {n for n, *_ in NETWORKS} == {"02", "03", "04", "05", "06"}
    assert len(NETWORKS) == 12          # 4 + 4 + 2 + 1 + 1
    assert len(set(NETWORKS)) == len(NETWORKS)
    assert not np.any([t == "regress" and tg == ("label",) for _, _, t, _, tg in NETWORKS])


def test_mlp_features_stay_inside_the_training_range():
    from lattice_utils.studies.stem_studies import standardised_features

    rng = np.random.default_rng(0)
    train = rng.normal(size=(50, 4))
    train[:, 3] = 0.0
    train[0, 3] = 1e-3                # fires on one training image only
    test = rng.normal(size=(5, 4))
    test[0, 3] = 5.0                  # and strongly on a test image: unclipped, z = 5e3 / std
    x_tr, x_te = standardised_features(train, test)
    assert np.allclose(x_tr.mean(axis=0), 0, atol=1e-9)
    assert np.all(x_te >= x_tr.min(axis=0)) and np.all(x_te <= x_tr.max(axis=0))
    assert x_te[0, 3] == x_tr[:, 3].max()
