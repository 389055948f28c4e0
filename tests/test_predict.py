"""The predict command and the automated preprocessing of real images."""
from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import cell, train_tiny
from test_fft_lattice import image_of

from lattice_utils import predict
from lattice_utils.core import paths
from lattice_utils.data.real_images import ExperimentalImage
from lattice_utils.lattice import fft_lattice
from lattice_utils.learn import training


def test_prepare_rotates_a_lattice_vector_onto_x_and_resamples():
    obl = cell(3.1, 4.3, 103.0, [[0, 0, 0.5], [0.3, 0.6, 0.5]], ["Mo", "S"])
    img = ExperimentalImage(image_of(obl, rot=25.0), 0.08, "sim")   # pretend 0.08 A/px
    prep = predict.prepare_for_model(img)
    assert prep.image.shape == (256, 256) and prep.image.dtype == np.uint8
    assert prep.zoom == pytest.approx(0.8)
    est = fft_lattice.estimate_lattice(prep.image.astype(float), predict.TRAIN_PIXEL_SIZE)
    assert abs(est.orientation_deg) < 1.0
    # 0.08 A/px was a lie of 25 %: lengths come out scaled by 0.8, as they must
    assert est.a == pytest.approx(3.1 * 0.8, abs=0.03)
    assert any("padded" in n for n in prep.notes)          # 256 px * 0.08 < 25.6 A


@pytest.mark.slow
def test_fft_prediction_from_a_file_and_the_command_line(tmp_path, graphene):
    f = tmp_path / "graphene.npy"
    np.save(f, image_of(graphene, rot=12.0))
    res = predict.predict_image(f, pixel_size=0.1)
    assert res["fft"]["a"] == pytest.approx(2.46, abs=0.01) and res["fft"]["label"] == 0
    cmd = [sys.executable, "-m", "lattice_utils", "predict", str(f), "--pixel-size", "0.1", "--json"]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=paths.ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout, parse_constant=lambda c: pytest.fail(f"not strict JSON: {c}"))
    assert res["fft"]["class_name"] == "hexagonal"
    text = subprocess.run(cmd[:-1], capture_output=True, text=True, cwd=paths.ROOT, timeout=120)
    assert "FFT: a = 2.460" in text.stdout


@pytest.mark.slow
def test_command_line_errors_are_messages_not_tracebacks(tmp_path):
    f = tmp_path / "x.npy"
    np.save(f, np.ones((32, 32)))

    def run(*a):
        return subprocess.run([sys.executable, "-m", "lattice_utils", "predict", *a],
                              capture_output=True, text=True, cwd=paths.ROOT, timeout=120)

    out = run(str(f))
    assert out.returncode == 2 and "--pixel-size" in out.stderr and "Traceback" not in out.stderr
    out = run(str(f), "--pixel-size", "-1")
    assert out.returncode == 2 and "accepted range" in out.stderr
    noise = tmp_path / "noise.npy"
    np.save(noise, np.random.default_rng(0).random((128, 128)))
    out = run(str(noise), "--pixel-size", "0.1")
    assert out.returncode == 0 and "no lattice found" in out.stdout
    assert subprocess.run([sys.executable, "-m", "lattice_utils"], capture_output=True,
                          cwd=paths.ROOT).returncode == 2


def test_cnn_path_with_a_trained_weights_file(tmp_path, scratch_dirs, graphene):
    trained = train_tiny(n=16, px=32)
    img = ExperimentalImage(image_of(graphene), 0.1, "graphene")
    res = predict.predict_image(img, method="both", model=trained.path)
    assert set(res["cnn"]) >= {"a", "b", "gamma", "rotation_deg", "model"}
    assert np.isfinite(res["cnn"]["a"])
    # trained before the field of view was recorded: the simulated images' is assumed, and said
    assert res["cnn"]["field_of_view_A"] == pytest.approx(25.6)
    assert res["cnn"]["zoom"] == pytest.approx(1.0)
    assert any("does not record the field of view" in n for n in res["cnn"]["notes"])
    bad = tmp_path / "junk.pt"
    bad.write_bytes(b"junk")
    with pytest.raises(OSError, match="junk.pt"):
        predict.predict_image(img, method="cnn", model=bad)


@pytest.mark.bad_input
def test_cnn_resamples_to_the_field_of_view_the_model_was_trained_on(scratch_dirs, graphene):
    # a model trained on 10 Å fields (the paper's STEM-JV2D images) at 32 px
    trained = train_tiny("classify", px=32, seed=1, field_A=10.0)
    assert trained.field_A == 10.0
    assert training.load_weights(trained.path).field_A == 10.0
    img = ExperimentalImage(image_of(graphene), 0.1, "graphene")
    res = predict.predict_image(img, method="cnn", model=trained.path)["cnn"]
    # 0.1 Å/px onto 10 Å / 256 px: upsampled 2.56 times, and said so
    assert res["field_of_view_A"] == 10.0 and res["zoom"] == pytest.approx(2.56)
    assert any("upsampled 2.6x" in n for n in res["notes"]) and res["label"] in range(5)
    # images of another field of view are refused by the model itself, naming both
    wrong = training.Inputs(np.zeros((1, 32, 32), np.uint8), "wide", 32, field_A=25.6)
    with pytest.raises(ValueError, match=r"25.6 Å field of view .* trained on 10 Å"):
        trained.predict(wrong, [0])


def test_default_model_is_the_registered_c2db_regressor(scratch_dirs):
    with pytest.raises(FileNotFoundError, match="notebook 04"):
        predict.default_model()
    for name in ("quick/offline/jv2d/densenet121-regress-a-b-gamma",
                 "smoke/offline/c2db/densenet121-regress-a-b-gamma",
                 "quick/offline/c2db/densenet121-regress-a-b-gamma",
                 "quick/offline/c2db/densenet121-regress-a"):
        d = training.paths.MODELS / name.replace("/", "_")
        d.mkdir(parents=True)
        (d / "final.pt").write_bytes(b"x")
        training.register_model(name, d)
    # newest is not the rule: the larger profile of the C2DB slot wins
    assert predict.default_model().parent.name == "quick_offline_c2db_densenet121-regress-a-b-gamma"
    # a registered directory whose weights were deleted is not offered
    (training.paths.MODELS / "quick_offline_c2db_densenet121-regress-a-b-gamma" / "final.pt").unlink()
    assert predict.default_model().parent.name == "smoke_offline_c2db_densenet121-regress-a-b-gamma"


def test_a_network_trained_on_reduced_cells_answers_in_the_reduced_cell(scratch_dirs, graphene):
    """train_models --cell reduced: targets are the Gauss-reduced cell; predict names the convention
    and prefers that network to notebook 04's."""
    import pandas as pd

    from lattice_utils.studies.stem_studies import target_values

    table = pd.DataFrame({"a": [2.46, 5.0], "b": [2.46, 3.0], "gamma": [60.0, 90.0]})
    assert np.allclose(target_values(table, ("a_reduced", "b_reduced", "gamma_reduced")),
                       [[2.46, 2.46, 120.0], [3.0, 5.0, 90.0]])
    assert np.allclose(target_values(table, ("gamma", "a")), [[60.0, 2.46], [90.0, 5.0]])
    with pytest.raises(ValueError, match="all of"):
        target_values(table, ("a", "b_reduced"))
    assert predict.answer_cell({"a_reduced": 2.5, "b_reduced": 2.6, "gamma_reduced": 119.0}) == \
        {"a": 2.5, "b": 2.6, "gamma": 119.0, "cell": "reduced"}
    assert predict.answer_cell({"a": 2.5})["cell"] == "database"
    # a real (tiny) regressor trained on reduced-cell targets
    rng = np.random.default_rng(0)
    inputs = training.Inputs(rng.integers(0, 255, (8, 32, 32), dtype=np.uint8), "rand-reduced", 32)
    y = rng.normal(size=(8, 3)) + [3, 3, 100]
    cfg = training.TrainConfig("regress", "small_cnn", ("a_reduced", "b_reduced", "gamma_reduced"),
                               training.data_key(inputs, np.arange(8), y), input_px=32, epochs=1,
                               precision="fp32", channels_last=False)
    trained = training.train(cfg, inputs, np.arange(8), y, log=lambda *a: None)
    img = ExperimentalImage(image_of(graphene), 0.1, "graphene")
    res = predict.predict_image(img, method="cnn", model=trained.path)["cnn"]
    assert res["cell"] == "reduced" and np.isfinite(res["a"]) and "a_reduced" not in res
    for name in ("quick/offline/c2db/densenet121-regress-a-b-gamma",
                 "quick/offline/c2db/densenet121-regress-a_reduced-b_reduced-gamma_reduced"):
        d = training.paths.MODELS / name.replace("/", "_")
        d.mkdir(parents=True)
        (d / "final.pt").write_bytes(b"x")
        training.register_model(name, d)
    assert predict.default_model().parent.name.endswith("regress-a_reduced-b_reduced-gamma_reduced")


@pytest.mark.bad_input
def test_train_models_cell_reduced_trains_one_regressor_on_reduced_targets(monkeypatch, capsys):
    from lattice_utils.studies import train_models

    seen = []
    monkeypatch.setattr(train_models, "load_slot", lambda *a, **k: object())
    monkeypatch.setattr(train_models, "fit_network", lambda sd, task, arch, targets, **k: seen.append(targets))
    assert train_models.main(["--slot", "c2db", "--task", "regress", "--cell", "reduced", "--targets", "a,gamma"]) == 0
    assert seen == [("a_reduced", "gamma_reduced")]
    for argv in (["--all", "--cell", "reduced"], ["--slot", "c2db", "--task", "classify", "--cell", "reduced"]):
        with pytest.raises(SystemExit) as e:
            train_models.main(argv)
        assert e.value.code == 2
    assert "--cell reduced trains one regressor" in capsys.readouterr().err


@pytest.mark.bad_input
def test_a_pixel_size_given_with_an_image_object_replaces_its_own(graphene):
    # as for a file: the pixel size given wins, and the result says what the image said
    img = ExperimentalImage(image_of(graphene), 0.2, "graphene")
    res = predict.predict_image(img, pixel_size=0.1)
    assert res["pixel_size_A"] == 0.1 and any("the image said 0.2" in n for n in res["notes"])
    assert res["fft"]["a"] == pytest.approx(2.46, abs=0.02)
    # the same image without it is measured at its own (wrong) calibration: twice the spacing
    assert predict.predict_image(img)["fft"]["a"] == pytest.approx(4.92, abs=0.04)
    with pytest.raises(predict.ImageReadError, match="graphene"):
        predict.predict_image(img, pixel_size="0.1")
    with pytest.raises(predict.ImageReadError, match="graphene"):       # a boolean is no pixel size
        predict.predict_image(dataclasses.replace(img, pixel_size=1.0), pixel_size=True)
    # an image object built without a pixel size takes the one given (and says what it had)
    res = predict.predict_image(dataclasses.replace(img, pixel_size=None), pixel_size=0.1)
    assert res["pixel_size_A"] == 0.1 and any("the image said None" in n for n in res["notes"])
    # the same value in another float type is no replacement
    assert not predict.predict_image(dataclasses.replace(img, pixel_size=0.1), pixel_size=np.float64(0.1))["notes"]
