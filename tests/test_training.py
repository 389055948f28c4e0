"""Training: caching by configuration, refusal of foreign checkpoints, exact resume, DDP."""
from __future__ import annotations

import dataclasses
import importlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from lattice_utils.learn import training


def stripes(n: int = 48, px: int = 16, seed: int = 0):
    """Images of vertical stripes whose period is the regression target."""
    rng = np.random.default_rng(seed)
    period = rng.uniform(3, 8, n)
    x = np.arange(px)
    img = 127.5 * (1 + np.cos(2 * np.pi * x[None, None, :] / period[:, None, None]))
    img = np.broadcast_to(img, (n, px, px)) + rng.normal(0, 5, (n, px, px))
    images = np.clip(img, 0, 255).astype(np.uint8)
    return training.Inputs(images, f"stripes-{n}-{px}-{seed}", px), period


def config_for(inputs, rows, y, **kw):
    base = dict(task="regress", arch="small_cnn", targets=("a",), input_px=inputs.px,
                epochs=3, batch_size=8, lr=3e-3, precision="fp32", channels_last=False)
    base.update(kw)
    return training.TrainConfig(data_key=training.data_key(inputs, rows, y), **base)


@pytest.fixture
def models_dir(scratch_dirs):
    return training.paths.MODELS


def test_training_learns_and_is_cached(models_dir):
    inputs, period = stripes()
    rows = np.arange(len(period))
    cfg = config_for(inputs, rows, period[:, None], epochs=6)
    trained = training.train(cfg, inputs, rows, period[:, None], log=lambda *_: None)
    assert [h["epoch"] for h in trained.history] == list(range(1, 7))
    assert trained.history[-1]["loss"] < trained.history[0]["loss"]
    assert (cfg.directory() / "final.pt").exists()
    assert not (cfg.directory() / "checkpoint.pt").exists()
    pred = trained.predict(inputs, rows)
    assert pred.shape == (len(rows), 1)
    again = training.train(cfg, inputs, rows, period[:, None], log=lambda *_: None)
    np.testing.assert_array_equal(again.predict(inputs, rows), pred)


def test_other_configuration_is_refused(models_dir):
    inputs, period = stripes()
    rows = np.arange(len(period))
    cfg = config_for(inputs, rows, period[:, None], epochs=1)
    trained = training.train(cfg, inputs, rows, period[:, None], log=lambda *_: None)
    other = dataclasses.replace(cfg, lr=1e-4)
    with pytest.raises(training.ConfigMismatchError, match="lr: file has 0.003, asked for 0.0001"):
        training.load_trained(trained.path, other)
    # a foreign checkpoint placed where this configuration resumes is refused too
    ckpt = other.directory() / "checkpoint.pt"
    ckpt.parent.mkdir(parents=True)
    ckpt.write_bytes(trained.path.read_bytes())
    with pytest.raises(training.ConfigMismatchError, match="refusing"):
        training.train(other, inputs, rows, period[:, None], log=lambda *_: None)


def test_corrupt_weights_file_is_named(models_dir, tmp_path):
    inputs, period = stripes()
    rows = np.arange(len(period))
    cfg = config_for(inputs, rows, period[:, None], epochs=1)
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(OSError, match="bad.pt is not a readable torch file"):
        training.load_trained(bad, cfg)


def test_data_key_must_match(models_dir):
    inputs, period = stripes()
    rows = np.arange(len(period))
    cfg = config_for(inputs, rows, period[:, None])
    with pytest.raises(training.ConfigMismatchError, match="data_key"):
        training.train(cfg, inputs, rows[:-1], period[:-1, None], log=lambda *_: None)


def test_interrupted_run_resumes_to_the_same_weights(models_dir, monkeypatch):
    inputs, period = stripes()
    rows = np.arange(len(period))
    y = period[:, None]
    cfg = config_for(inputs, rows, y, epochs=4, lr_schedule="cosine")
    reference = training.train(cfg, inputs, rows, y, log=lambda *_: None).predict(inputs, rows)
    (cfg.directory() / "final.pt").unlink()

    calls = {"n": 0}
    real_save = training.storage.save_torch

    def crash_after_two_epochs(path, obj):
        real_save(path, obj)
        if path.name == "checkpoint.pt":
            calls["n"] += 1
            if calls["n"] == 2:
                raise KeyboardInterrupt

    monkeypatch.setattr(training.storage, "save_torch", crash_after_two_epochs)
    with pytest.raises(KeyboardInterrupt):
        training.train(cfg, inputs, rows, y, log=lambda *_: None)
    monkeypatch.setattr(training.storage, "save_torch", real_save)
    messages = []
    resumed = training.train(cfg, inputs, rows, y, log=messages.append)
    assert any("resuming" in m and "after epoch 2" in m for m in messages)
    assert len(resumed.history) == 4
    np.testing.assert_allclose(resumed.predict(inputs, rows), reference, rtol=1e-6, atol=1e-6)


def test_classification_labels_are_checked(models_dir):
    inputs, period = stripes()
    rows = np.arange(len(period))
    labels = np.full(len(rows), 7)
    cfg = config_for(inputs, rows, labels, task="classify", targets=("label",))
    with pytest.raises(ValueError, match="outside 0..4"):
        training.train(cfg, inputs, rows, labels, log=lambda *_: None)


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="task"):
        training.TrainConfig("cluster", "small_cnn", ("a",), "k")
    with pytest.raises(ValueError, match="resolve"):
        training.TrainConfig("regress", "small_cnn", ("a",), "k", precision="auto")
    assert training.resolve_precision("auto", torch.device("cpu")) in ("fp32", "bf16")


def test_resize_keeps_field_of_view():
    img = np.zeros((1, 64, 64), np.uint8)
    img[0, :, :32] = 255
    small = training.resize_images(img, 16)
    assert small.shape == (1, 16, 16)
    assert small[0, :, :7].min() == 255 and small[0, :, 9:].max() == 0


@pytest.mark.slow
def test_two_process_ddp_agrees_with_one_process(tmp_path):
    """torchrun with two gloo processes on CPU gives the weights of one process (BN-free net:
    the global batch is split across processes and gradients are averaged)."""
    script = Path(__file__).with_name("ddp_worker.py")
    outs = {}
    for nproc in (1, 2):
        out = tmp_path / f"pred{nproc}.npy"
        env = dict(os.environ, LATTICE_DATA_DIR=str(tmp_path / f"data{nproc}"), OMP_NUM_THREADS="1")
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               f"--nproc-per-node={nproc}", str(script), str(out)]
        res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
        assert res.returncode == 0, res.stderr[-3000:]
        outs[nproc] = np.load(out)
    np.testing.assert_allclose(outs[2], outs[1], rtol=1e-4, atol=1e-4)
    assert not np.allclose(outs[1], outs[1].mean())   # the network learned something


def test_module_reloads_cleanly():
    # module state must not leak into cache keys: a key made before a reload is the key after it
    args = dict(task="regress", arch="densenet121", targets=("a", "b", "gamma"), data_key="k")
    before = training.TrainConfig(**args).key()
    reloaded = importlib.reload(training)
    assert reloaded.TrainConfig(**args).key() == before


def test_epoch_inputs_feed_a_different_image_set_each_epoch(models_dir):
    a, period = stripes(n=24, seed=0)
    b, _ = stripes(n=24, seed=0)
    b = training.Inputs(255 - b.images, "inverted", b.px)
    both = training.EpochInputs([a, b])
    assert both.for_epoch(0) is a and both.for_epoch(3) is b and len(both) == 24
    rows = np.arange(24)
    cfg = config_for(both, rows, period[:, None], epochs=2)
    trained = training.train(cfg, both, rows, period[:, None], log=lambda *_: None)
    single = training.train(config_for(a, rows, period[:, None], epochs=2), a, rows,
                            period[:, None], log=lambda *_: None)
    assert not np.allclose(trained.predict(a, rows), single.predict(a, rows))
    with pytest.raises(ValueError, match="same rows"):
        training.EpochInputs([a, training.Inputs(a.images[:5], "short", a.px)])
