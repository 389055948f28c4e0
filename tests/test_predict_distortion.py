"""predict with a measured scan distortion: grains, --calibrate / --calibration, --orthogonal-pair,
from the command line and from predict_image, and the exit-2 messages for mismatched inputs."""
import json

import numpy as np
import pytest

from lattice_utils import predict
from lattice_utils.data import calibration
from lattice_utils.simulate import hard_cases as hc

bad_input = pytest.mark.bad_input


def run(argv, capsys):
    code = predict.main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def frames(tmp_path_factory):
    """A graphene reference and a MoS2 sample under one scan distortion (pixel size 2 % off)."""
    d = tmp_path_factory.mktemp("frames")
    ref, smp = hc.reference_and_sample(hc.MOS2, size=384)
    for name, case in (("reference", ref), ("sample", smp)):
        np.save(d / f"{name}.npy", case.image)
        (d / f"{name}.json").write_text(json.dumps({"pixel_size_A": 0.1}))
    np.save(d / "coarse.npy", smp.image)
    (d / "coarse.json").write_text(json.dumps({"pixel_size_A": 0.12}))
    np.save(d / "cropped.npy", smp.image[:256, :256])
    (d / "cropped.json").write_text(json.dumps({"pixel_size_A": 0.1}))
    return d


@pytest.mark.slow
def test_calibrate_then_apply_from_the_command_line(frames, capsys, monkeypatch):
    monkeypatch.chdir(frames)
    code, out, err = run(["--calibrate", "reference.npy", "--material", "graphene"], capsys)
    assert code == 0, err
    assert "calibration written to reference.npy.calibration.json" in out
    first = (frames / "reference.npy.calibration.json").read_bytes()
    # the same reference gives the same bytes; an existing file needs --force
    code, _, err = run(["--calibrate", "reference.npy", "--material", "graphene"], capsys)
    assert code == 2 and "exists" in err
    assert run(["--calibrate", "reference.npy", "--cell", "2.46,2.46,120", "--force"], capsys)[0] == 0
    doc = json.loads((frames / "reference.npy.calibration.json").read_text())
    assert json.loads(first)["matrix"] == doc["matrix"]
    assert doc["distortion"]["slow_axis_pct"] == pytest.approx(100 * (1.02 * 1.04 - 1), abs=0.3)

    code, out, err = run(["sample.npy", "--calibration", "reference.npy.calibration.json", "--json"], capsys)
    assert code == 0, err
    res = json.loads(out)
    assert res["schema_version"] == predict.SCHEMA_VERSION == 6
    fft = res["fft"]
    assert fft["label"] != 0 and fft["corrected"]["label"] == 0
    assert fft["corrected"]["a"] == pytest.approx(3.16, rel=0.01) and fft["corrected"]["source"] == "calibration"
    assert fft["scan_distortion"]["source"] == "calibration"
    code, out, _ = run(["sample.npy", "--calibration", "reference.npy.calibration.json"], capsys)
    assert "after removing the scan distortion measured from calibration reference.npy.calibration.json" in out


@bad_input
@pytest.mark.slow
def test_a_calibration_of_another_scan_geometry_is_refused_naming_both(frames, capsys, monkeypatch):
    monkeypatch.chdir(frames)
    assert run(["--calibrate", "reference.npy", "--material", "graphene", "--output", "cal.json"], capsys)[0] == 0
    code, _, err = run(["coarse.npy", "--calibration", "cal.json"], capsys)
    assert code == 2 and "0.1 Å/px" in err and "0.12 Å/px" in err and "coarse.npy" in err
    code, _, err = run(["cropped.npy", "--calibration", "cal.json"], capsys)
    assert code == 2 and "384 x 384" in err and "256 x 256" in err



BAD_REQUESTS = [
    (["--calibrate", "reference.npy"], "a material (--material) or a cell"),
    (["--calibrate", "reference.npy", "--material", "graphene", "--cell", "2.46,2.46,120"], "one of them"),
    (["--calibrate", "reference.npy", "--material", "unobtainium"], "known materials are"),
    (["--calibrate", "reference.npy", "--cell", "2.46,120"], "give A,B,GAMMA"),
    (["--calibrate", "reference.npy", "--cell", "2.46,-1,120"], "positive lengths"),
    (["--calibrate", "reference.npy", "--cell", "2.46,2.46,nan"], "positive lengths"),
    (["--calibrate", "reference.npy", "sample.npy", "--material", "graphene"], "takes no other image"),
    (["--calibrate", "missing.npy", "--material", "graphene", "--output", "new.json"], "missing.npy"),
    (["sample.npy", "--calibration", "nothing.json"], "no such calibration file"),
    (["sample.npy", "--orthogonal-pair"], "IMAGE_0 IMAGE_90"),
    (["sample.npy", "reference.npy"], "give one image"),
    (["sample.npy", "--calibration", "c.json", "--method", "cnn"], "use method fft or both"),
]


@bad_input
@pytest.mark.parametrize("argv, words", BAD_REQUESTS, ids=[" ".join(a) for a, _ in BAD_REQUESTS])
def test_a_bad_calibration_request_exits_2_with_a_message(frames, capsys, monkeypatch, argv, words):
    monkeypatch.chdir(frames)
    code, _, err = run(argv, capsys)
    assert code == 2 and words in err, err
    assert not (frames / "new.json").exists()


GOOD_FILE = {"format": calibration.FORMAT, "version": 1, "matrix": [[1.0, 0.01], [0.01, 1.03]],
             "matrix_cov": np.eye(3).tolist(), "pixel_size_A": 0.1, "shape": [384, 384], "reference": "r.npy"}
BAD_FILES = [({"format": "other"}, "not a lattice_utils scan calibration"),
             ({"version": 2}, "of version 1"),
             ({"matrix": [[1.0, 0.5], [0.0, 1.0]]}, "not symmetric"),
             ({"matrix": [[1.0, 0.0], [0.0, -1.0]]}, "not symmetric positive definite"),
             ({"matrix": [[1.0, 0.0], [0.0, 1.5]]}, "beyond any scan distortion"),
             ({"matrix": "identity"}, "not a 2 x 2"),
             ({"matrix": [[1.0, None], [None, 1.0]]}, "not a 2 x 2"),
             ({"matrix_cov": (-np.eye(3)).tolist()}, "not a covariance"),
             ({"pixel_size_A": "0.1"}, "pixel_size_A"),
             ({"pixel_size_A": 50.0}, "pixel_size_A"),
             ({"shape": [384]}, "shape"),
             ({"shape": [True, 384]}, "shape"),
             ({"reference": 7}, "reference"),
             ("{not json", "not JSON"),
             ("[1, 2]", "JSON object")]


@bad_input
@pytest.mark.parametrize("change, words", BAD_FILES, ids=[str(c)[:40] for c, _ in BAD_FILES])
def test_a_bad_calibration_file_exits_2_naming_it(frames, capsys, monkeypatch, tmp_path, change, words):
    monkeypatch.chdir(frames)
    f = tmp_path / "bad.json"
    f.write_text(change if isinstance(change, str) else json.dumps({**GOOD_FILE, **change}))
    code, _, err = run(["sample.npy", "--calibration", str(f)], capsys)
    assert code == 2 and "bad.json" in err and words in err, err


@pytest.mark.slow
def test_an_orthogonal_pair_from_the_command_line_and_the_api(tmp_path, capsys):
    frame_0, frame_90 = hc.orthogonal_pair(size=384)
    np.save(tmp_path / "f0.npy", frame_0.image)
    np.save(tmp_path / "f90.npy", frame_90)
    code, out, err = run([str(tmp_path / "f0.npy"), str(tmp_path / "f90.npy"), "--orthogonal-pair",
                          "--pixel-size", "0.1", "--json"], capsys)
    assert code == 0, err
    fft = json.loads(out)["fft"]
    assert fft["scan_distortion"]["source"] == "orthogonal pair"
    assert fft["scan_distortion"]["drift"]["u"] == pytest.approx([0.01, 0.03], abs=0.003)
    assert fft["label"] != 0 and fft["corrected"]["label"] == 0
    assert fft["on_corrected_image"]["label"] == 0


@bad_input
@pytest.mark.slow
def test_an_orthogonal_pair_that_is_not_one_area_exits_2(tmp_path, capsys):
    frame_0, frame_90 = hc.orthogonal_pair(size=256)
    np.save(tmp_path / "f0.npy", frame_0.image)
    np.save(tmp_path / "other.npy", frame_90[:, :200])
    code, _, err = run([str(tmp_path / "f0.npy"), str(tmp_path / "other.npy"), "--orthogonal-pair",
                        "--pixel-size", "0.1"], capsys)
    assert code == 2 and "not the shape" in err and "other.npy" in err
    np.save(tmp_path / "mos2.npy", np.rot90(hc.one_frame(hc.near_square(1.3), size=256).image, -1))
    code, _, err = run([str(tmp_path / "f0.npy"), str(tmp_path / "mos2.npy"), "--orthogonal-pair",
                        "--pixel-size", "0.1"], capsys)
    assert code == 2 and "do not show the same lattice" in err
    with pytest.raises(ValueError, match="not both"):
        predict.predict_image(tmp_path / "f0.npy", 0.1, calibration="c.json", orthogonal_to=tmp_path / "other.npy")


@pytest.mark.slow
def test_grains_measure_the_distortion_in_predict(tmp_path):
    case = hc.distorted_grains((3.0, 24.0))
    np.save(tmp_path / "gb.npy", case.image)
    fft = predict.predict_image(tmp_path / "gb.npy", 0.1)["fft"]
    assert fft["scan_distortion"]["source"] == "grains"
    assert all(g["corrected"]["label"] == 0 and g["label"] != 0 for g in fft["grains"])
    one = hc.one_frame(hc.MOS2, hc.SLOW_SCAN)
    np.save(tmp_path / "one.npy", one.image)
    fft = predict.predict_image(tmp_path / "one.npy", 0.1)["fft"]
    assert fft["scan_distortion"] is None and fft["corrected"] is None
    assert "one grain alone" in fft["scan_distortion_note"]


@bad_input
def test_the_frame_at_90_degrees_keeps_its_own_calibration(tmp_path):
    frame = np.random.default_rng(0).random((64, 64))
    np.save(tmp_path / "f0.npy", frame)
    np.save(tmp_path / "f90.npy", frame.T)
    (tmp_path / "f0.npy.json").write_text('{"pixel_size_A": 0.1}')
    (tmp_path / "f90.npy.json").write_text('{"pixel_size_A": 0.2}')
    # two calibrations are two areas (or a mislabelled file): refused before any analysis
    with pytest.raises(ValueError, match=r"f90.npy is at 0.2 Å/px.*not an orthogonal pair"):
        predict.predict_image(tmp_path / "f0.npy", orthogonal_to=tmp_path / "f90.npy")
    # one given for the pair replaces both files' (as on the command line's --pixel-size)
    np.save(tmp_path / "short.npy", frame[:, :40])
    with pytest.raises(ValueError, match="not the shape"):
        predict.predict_image(tmp_path / "f0.npy", 0.1, orthogonal_to=tmp_path / "short.npy")
    # a frame that carries none takes the first frame's: it is read, and refused for its shape only
    with pytest.raises(ValueError, match="not the shape"):
        predict.predict_image(tmp_path / "f0.npy", orthogonal_to=tmp_path / "short.npy")
