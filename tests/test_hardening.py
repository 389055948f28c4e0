"""Bad inputs and faults: every one is refused with a message that names the file,
repaired, or rebuilt, never run, never silently reused and never a traceback from a command.

Each case carries the ``bad_input`` marker; the reliability page (docs/reliability.md) gives their count
(``test_reliability_page_states_the_count_of_bad_input_cases`` keeps it true)."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
import zipfile

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import hexagonal, train_tiny
from test_fft_lattice import image_of
from test_structures import fixture_records, jarvis_atoms

from lattice_utils import predict
from lattice_utils.core import paths, storage
from lattice_utils.core.profiles import get_profile
from lattice_utils.data import datasets, structures
from lattice_utils.lattice import fft_lattice
from lattice_utils.learn import training
from lattice_utils.simulate.stem import StemParams

bad_input = pytest.mark.bad_input


def run_predict(*argv) -> tuple[int, str, str]:
    """``python -m lattice_utils predict`` in this process: exit code, stdout, stderr."""
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = predict.main([str(a) for a in argv])
    return rc, out.getvalue(), err.getvalue()


@pytest.fixture
def lattice_npy(tmp_path, graphene):
    f = tmp_path / "graphene.npy"
    np.save(f, image_of(graphene))
    return f


@pytest.fixture
def tiny_weights(scratch_dirs):
    """A real weights file of this repository (1-epoch small CNN regressor)."""
    return train_tiny().path


# ------------------------------------------------------------------ 1. files that could run code

class _RunsCode:
    """Unpickling this calls os.system: the payload of a malicious weights file."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def _evil_file(path, marker, protocol=None):
    obj = {"config": {}, "model": _RunsCode(marker)}
    if protocol:      # a plain pickle, not torch's zip format
        import pickle
        path.write_bytes(pickle.dumps(obj, protocol=protocol))
    else:
        torch.save(obj, path)
    return path


@pytest.mark.slow
@bad_input
@pytest.mark.parametrize("protocol", [None, 2, 5], ids=["torch-zip", "pickle-2", "pickle-5"])
def test_malicious_weights_file_runs_nothing_from_the_command_line(tmp_path, lattice_npy, protocol):
    marker = tmp_path / "code-ran"
    evil = _evil_file(tmp_path / "evil.pt", marker, protocol)
    out = subprocess.run([sys.executable, "-m", "lattice_utils", "predict", str(lattice_npy),
                          "--pixel-size", "0.1", "--method", "cnn", "--model", str(evil)],
                         capture_output=True, text=True, cwd=paths.ROOT, timeout=180)
    assert out.returncode == 2 and "Traceback" not in out.stderr and "Warning" not in out.stderr
    # torch's safe unpickler reaches the os.system reference, or stops earlier at an opcode it
    # does not take (pickle protocol 5): refused either way
    expect = ("not a readable torch file" if protocol == 5
              else "evil.pt holds objects other than tensors and plain data (posix.system)")
    assert expect in out.stderr, out.stderr
    assert not marker.exists(), "unpickling the weights file ran its code"


@bad_input
@pytest.mark.parametrize("where", ["final", "checkpoint", "xrd", "unet"])
def test_malicious_cached_model_files_run_nothing(scratch_dirs, tmp_path, where, capsys):
    """A planted cache file is moved aside and rebuilt, and its code never runs."""
    from lattice_utils.related import unet
    from lattice_utils.xrd import model as xrd_model

    marker = tmp_path / "code-ran"
    logs = []
    if where in ("final", "checkpoint"):
        rng = np.random.default_rng(0)
        inputs = training.Inputs(rng.integers(0, 255, (8, 16, 16), dtype=np.uint8), "r", 16)
        y = rng.normal(size=(8, 1))
        cfg = training.TrainConfig("regress", "small_cnn", ("a",), training.data_key(inputs, np.arange(8), y),
                                   input_px=16, epochs=1, precision="fp32", channels_last=False)
        target = cfg.directory() / ("final.pt" if where == "final" else "checkpoint.pt")
        paths.ensure(target.parent)
        _evil_file(target, marker)
        trained = training.train(cfg, inputs, np.arange(8), y, log=logs.append)
        assert trained.history and not marker.exists()
    elif where == "xrd":
        cfg = xrd_model.XrdConfig(name="t", data_key="k", image_shape=(16, 16), width=4, hidden=8,
                                  epochs=1, batch_size=4, lr=1e-3, precision="fp32")
        target = paths.ensure(cfg.directory()) / "final.pt"
        _evil_file(target, marker)
        imgs = np.random.default_rng(0).integers(0, 255, (8, 16, 16), dtype=np.uint8)
        xrd_model.train_xrd(cfg, imgs, np.arange(1, 9), log=logs.append)
        assert not marker.exists()
        logs.append(capsys.readouterr().out)
    else:
        imgs = np.random.default_rng(0).random((4, 1, 16, 16)).astype(np.float32)
        labels = np.zeros((4, 16, 16), dtype=np.int64)
        unet.train_segmenter("t", imgs, labels, 2, epochs=1, base=4, depth=1, log=logs.append)
        target = next(paths.MODELS.glob("resunet-t-*/final.pt"))
        _evil_file(target, marker)
        unet.train_segmenter("t", imgs, labels, 2, epochs=1, base=4, depth=1, log=logs.append)
        assert not marker.exists()
    assert target.with_name(target.name + ".corrupt").exists()
    assert any("holds objects other than tensors" in str(m) for m in logs)


@bad_input
def test_weights_written_before_plain_types_still_load(tiny_weights):
    """Files of earlier runs hold the target scaling as numpy arrays: read safely, no code."""
    state = torch.load(tiny_weights, weights_only=True)
    state["target_mean"] = np.asarray(state["target_mean"])
    state["target_std"] = np.asarray(state["target_std"])
    torch.save(state, tiny_weights)
    model = training.load_weights(tiny_weights)
    assert model.target_mean.shape == (3,) and model.target_mean.dtype == np.float64


# ------------------------------------------------------------------ 2. resumable stores carry their settings

class _Interrupt(Exception):
    pass


@bad_input
def test_corpus_resumed_with_another_block_size_is_complete(scratch_dirs, monkeypatch):
    from lattice_utils.data import offline_corpus

    prof = get_profile("smoke")
    prof = type(prof)(**{**prof.as_dict(), "corpus_sizes": {"jv2d": 10}, "workers": 1})
    real = offline_corpus.generate_block
    calls = []

    def interrupted(*a, **k):
        if calls:
            raise _Interrupt()
        calls.append(1)
        return real(*a, **k)

    monkeypatch.setattr(offline_corpus, "generate_block", interrupted)
    with pytest.raises(_Interrupt):
        datasets.load_corpus("jv2d", prof, block_size=4, verbose=False)
    monkeypatch.setattr(offline_corpus, "generate_block", real)
    resumed = datasets.load_corpus("jv2d", prof, block_size=512, verbose=False)
    summary = datasets.corpus_summary("jv2d", prof)
    assert summary["requested"] == 10 and len(resumed) + len(summary["skipped"]) == 10
    datasets.corpus_path("jv2d", prof, "offline").unlink()
    clean = datasets.load_corpus("jv2d", prof, block_size=3, verbose=False)
    assert list(clean["id"]) == list(resumed["id"])


@bad_input
def test_cached_corpus_of_another_size_is_rebuilt(scratch_dirs):
    prof = get_profile("smoke")
    prof = type(prof)(**{**prof.as_dict(), "corpus_sizes": {"jv2d": 6}, "workers": 1})
    full = datasets.load_corpus("jv2d", prof, verbose=False)
    path = datasets.corpus_path("jv2d", prof, "offline")
    cached = storage.read_json(path)
    cached["rows"] = cached["rows"][:2]                 # rows lost, name unchanged
    storage.write_json(path, cached, gz=True)
    assert list(datasets.load_corpus("jv2d", prof, verbose=False)["id"]) == list(full["id"])


# ------------------------------------------------------------------ 3-4. jarvis zips and their caches

def _zip(path, records, member=None, compression=zipfile.ZIP_DEFLATED):
    from jarvis.db.figshare import get_db_info

    member = member or get_db_info()["dft_2d"][1]
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=compression) as z:
        z.writestr(member, records if isinstance(records, str) else json.dumps(records))
    return path


def _no_network(*a, **k):
    raise ConnectionError("no network")


@bad_input
def test_jarvis_table_cache_follows_the_zip(scratch_dirs, monkeypatch, capsys):
    monkeypatch.setattr("jarvis.db.figshare.get_request_data", _no_network)
    prof = get_profile("smoke")
    zpath = structures.jarvis_zip_path("jv2d")
    recs = fixture_records("jv2d")
    _zip(zpath, recs[:2])
    assert len(datasets.load_corpus("jv2d", prof, "jarvis")) == 2
    more = recs[:2] + [dict(recs[0], jid="id-5"), dict(recs[1], jid="id-6")]
    _zip(zpath, more)                                   # a larger zip replaces it
    assert list(datasets.load_corpus("jv2d", prof, "jarvis")["id"]) == ["id-1", "id-2", "id-5", "id-6"]
    cache = datasets.jarvis_corpus_path("jv2d")
    cache.write_bytes(cache.read_bytes()[:60])          # a truncated cache is rebuilt
    assert len(datasets.load_corpus("jv2d", prof, "jarvis")) == 4
    assert "unreadable" in capsys.readouterr().out
    zpath.write_bytes(zpath.read_bytes()[:80])          # a cut-off zip placed later is checked
    with pytest.raises(structures.DataUnavailableError, match="damaged"):
        datasets.load_corpus("jv2d", prof, "jarvis")
    assert not zpath.exists() and zpath.with_name(zpath.name + ".corrupt").exists()


def _damaged_deflate(path):
    good = _zip(path, fixture_records("jv2d") * 20)
    raw = bytearray(good.read_bytes())
    start = 30 + len(zipfile.ZipFile(good).namelist()[0])       # after the local header
    raw[start + 40:start + 56] = b"\xff" * 16
    path.write_bytes(bytes(raw))


DAMAGE = {
    "cut-off": lambda p: p.write_bytes(_zip(p, fixture_records("jv2d")).read_bytes()[:40]),
    "deflate-data": _damaged_deflate,
    "not-json": lambda p: _zip(p, "[{\"jid\": "),
    "member-missing": lambda p: _zip(p, fixture_records("jv2d"), member="other.json"),
    "object-not-list": lambda p: _zip(p, {"jid": "x", "atoms": {}}),
    "not-a-zip": lambda p: p.write_text("<html>rate limited</html>"),
}


def assert_moved_aside_and_reported(path, store, capsys):
    """Loading the JV2D zip at ``path`` (in ``store``) fails as damaged, says so, and leaves the
    file aside as ``.corrupt``."""
    with pytest.raises(structures.DataUnavailableError, match="damaged"):
        structures.load_jarvis_records("jv2d", store)
    out = capsys.readouterr().out
    assert "WARNING" in out and path.name in out
    assert not path.exists() and path.with_name(path.name + ".corrupt").exists()


@bad_input
@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damaged_zip_is_moved_aside_and_reported(tmp_path, monkeypatch, capsys, damage):
    monkeypatch.setattr("jarvis.db.figshare.get_request_data", _no_network)
    path = structures.jarvis_zip_path("jv2d", tmp_path)
    DAMAGE[damage](path)
    assert_moved_aside_and_reported(path, tmp_path, capsys)


@bad_input
def test_damaged_download_is_not_kept(tmp_path, monkeypatch):
    def download(js_tag, url, store_dir):
        from pathlib import Path
        _zip(Path(store_dir) / structures.jarvis_zip_path("jv2d").name, {"not": "a list"})

    monkeypatch.setattr("jarvis.db.figshare.get_request_data", download)
    with pytest.raises(structures.CorruptFileError, match="not the list of records"):
        structures.load_jarvis_records("jv2d", tmp_path)
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ 5. checksums of stored chunks

@bad_input
def test_overwritten_chunk_bytes_are_caught_and_rebuilt(scratch_dirs, graphene, fese):
    from lattice_utils.data.structures import normalise_record

    params = StemParams(image_px=48)
    table = pd.DataFrame([normalise_record(f"s{i}", s, "t") for i, s in enumerate([graphene, fese] * 2)])
    store = datasets.build_image_store("t", table, params, chunk_size=2, workers=1, verbose=False)
    good = np.array(store[3])
    chunk0, chunk1 = store.root / "chunk-00000.npy", store.root / "chunk-00001.npy"
    before = chunk0.stat().st_mtime_ns
    raw = bytearray(chunk1.read_bytes())
    raw[len(raw) - 3000:len(raw) - 2992] = b"\x07" * 8           # eight bytes, size unchanged
    chunk1.write_bytes(bytes(raw))
    fresh = datasets.ImageStore(store.root)
    assert fresh.bad_chunks() == [1]
    with pytest.raises(storage.StoredFileError, match="chunk-00001.npy fails its checksum"):
        datasets.ImageStore(store.root)[3]
    rebuilt = datasets.build_image_store("t", table, params, chunk_size=2, workers=1, verbose=False)
    assert np.array_equal(rebuilt[3], good) and chunk0.stat().st_mtime_ns == before


@bad_input
def test_truncated_manifest_is_rebuilt_without_resimulating(scratch_dirs, graphene):
    from lattice_utils.data.structures import normalise_record

    params = StemParams(image_px=48)
    table = pd.DataFrame([normalise_record(f"s{i}", graphene, "t") for i in range(3)])
    store = datasets.build_image_store("t", table, params, chunk_size=2, workers=1, verbose=False)
    manifest = store.root / "manifest.json"
    checksums = storage.read_json(manifest)["checksums"]
    mtimes = [p.stat().st_mtime_ns for p in sorted(store.root.glob("chunk-*.npy"))]
    manifest.write_bytes(manifest.read_bytes()[:50])
    with pytest.raises(storage.StoredFileError, match="manifest.json is truncated or not JSON"):
        datasets.ImageStore(store.root)
    again = datasets.build_image_store("t", table, params, chunk_size=2, workers=1, verbose=False)
    assert again.verify() and storage.read_json(manifest)["checksums"] == checksums
    assert [p.stat().st_mtime_ns for p in sorted(store.root.glob("chunk-*.npy"))] == mtimes


# ------------------------------------------------------------------ 6. the command never shows a traceback

def _weights_with(path, **state):
    torch.save(state, path)
    return path


@bad_input
@pytest.mark.parametrize("case", ["list", "config-not-dict", "unknown-config", "wrong-shapes",
                                  "model-not-tensors", "no-target-scaling", "missing"])
def test_wrong_weight_files_are_messages(tmp_path, lattice_npy, tiny_weights, case):
    good = torch.load(tiny_weights, weights_only=True)
    f = tmp_path / f"{case}.pt"
    if case == "list":
        torch.save([1, 2, 3], f)
    elif case == "config-not-dict":
        _weights_with(f, config=[1], model={})
    elif case == "unknown-config":
        _weights_with(f, config={"colour": "red"}, model={})
    elif case == "wrong-shapes":
        model = {k: torch.zeros(1) for k in good["model"]}
        _weights_with(f, **{**good, "model": model})
    elif case == "model-not-tensors":
        _weights_with(f, **{**good, "model": {"conv.weight": "abc"}})
    elif case == "no-target-scaling":
        _weights_with(f, **{k: v for k, v in good.items() if k != "target_mean"})
    rc, out, err = run_predict(lattice_npy, "--pixel-size", "0.1", "--method", "cnn", "--model", f)
    assert rc == 2 and f.name in err and "Traceback" not in err, err
    if case == "missing":
        assert "no such file" in err and "retrain" not in err


@bad_input
@pytest.mark.parametrize("registry", ["[1, 2]", "{not json", '{"quick/offline/c2db/densenet121-regress-a-b-gamma": 5}',
                                      '{"x": "/etc"}'])
def test_malformed_model_registry_is_named(scratch_dirs, lattice_npy, registry):
    path = paths.ensure(paths.MODELS) / training.REGISTRY
    path.write_text(registry)
    rc, out, err = run_predict(lattice_npy, "--pixel-size", "0.1", "--method", "cnn")
    assert rc == 2 and "registry.json" in err and "Traceback" not in err, err


@bad_input
def test_malformed_registry_is_set_aside_when_a_model_is_registered(scratch_dirs, capsys):
    path = paths.ensure(paths.MODELS) / training.REGISTRY
    path.write_text("[]")
    d = paths.ensure(paths.MODELS / "m")
    training.register_model("name", d)
    assert storage.read_json(path) == {"name": "m"} and path.with_name("registry.json.corrupt").exists()


# ------------------------------------------------------------------ 7. calibration

@bad_input
@pytest.mark.parametrize("sidecar,expect", [
    ("[0.1]", "must be a JSON object"), ('{"pixel_size_A": true}', "is not a number"),
    ('{"pixel_size_A": "0.1"}', "is not a number"), ('{"pixel_size_A": null}', "is not a number"),
    ('{"pixel_size_A": 12.7}', "accepted range"), ('{"pixel_size_A": 0}', "accepted range")])
def test_bad_sidecars_are_messages(lattice_npy, sidecar, expect):
    lattice_npy.with_name(lattice_npy.name + ".json").write_text(sidecar)
    rc, out, err = run_predict(lattice_npy)
    assert rc == 2 and expect in err and "graphene.npy" in err and "Traceback" not in err, err


@bad_input
@pytest.mark.parametrize("value", ["1e6", "1e-9", "inf", "nan", "-0.1"])
def test_absurd_pixel_sizes_are_refused(lattice_npy, value):
    rc, out, err = run_predict(lattice_npy, "--pixel-size", value)
    assert rc == 2 and "accepted range 0.005-5" in err, err


# ------------------------------------------------------------------ 8. XRD inputs

@bad_input
@pytest.mark.parametrize("frac", [[[np.nan, 0, 0]], [[1e300, 0, 0]]], ids=["nan", "huge"])
def test_crystal_with_bad_coordinates_is_refused_before_spglib(frac):
    from lattice_utils.xrd.simulate import Crystal, CrystalError

    code = textwrap.dedent(f"""
        import numpy as np
        from lattice_utils.xrd.simulate import Crystal, CrystalError
        from lattice_utils.xrd import corpus
        try:
            corpus.record(Crystal(np.eye(3) * 4, np.array({frac!r}), ["Na"], "x"), "t")
        except CrystalError as exc:
            print("refused:", exc)
    """).replace("nan", "np.nan")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=paths.ROOT, timeout=120)
    assert out.returncode == 0 and "refused: x:" in out.stdout, out.stderr
    with pytest.raises(CrystalError):
        Crystal(np.eye(3) * 4, np.array(frac), ["Na"], "x")


CIF = """data_NaCl
_symmetry_space_group_name_H-M 'P 1'
_cell_length_a 4.0
_cell_length_b 4.0
_cell_length_c 4.0
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
Na1 Na 0 0 0
Cl1 Cl 0.5 0.5 0.5
"""


@bad_input
def test_cif_folders_empty_all_bad_and_upper_case(tmp_path):
    from lattice_utils.xrd.corpus import read_cif_dir
    from lattice_utils.xrd.simulate import CrystalError

    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("x")
    with pytest.raises(CrystalError, match="holds no \\*.cif file.*\\.txt"):
        read_cif_dir(empty, verbose=False)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "a.cif").write_text("garbage")
    (bad / "b.cif").write_text("")
    with pytest.raises(CrystalError, match="all 2 CIF files were skipped"):
        read_cif_dir(bad, verbose=False)
    upper = tmp_path / "upper"
    upper.mkdir()
    (upper / "NACL.CIF").write_text(CIF)
    table, skipped = read_cif_dir(upper, verbose=False)
    assert list(table["id"]) == ["NACL.CIF"] and table.loc[0, "space_group"] == 221


@bad_input
@pytest.mark.parametrize("axis", [[1e20, 0, 1], [51, 0, 0], "1 0 -999"])
def test_absurd_zone_axes_are_refused(axis):
    from lattice_utils.xrd.simulate import parse_zone_axis

    with pytest.raises(ValueError, match="at most 50"):
        parse_zone_axis(axis)


# ------------------------------------------------------------------ 9. jarvis records

@bad_input
def test_jarvis_records_with_absurd_or_duplicate_sites_and_numbered_labels(capsys):
    g = hexagonal(2.46, [[1 / 3, 2 / 3, 0.5], [2 / 3, 1 / 3, 0.5]], ["C", "C"])
    far = jarvis_atoms(g)
    far["coords"] = [[1e300, 0, 0.5], [2 / 3, 1 / 3, 0.5]]
    dup = jarvis_atoms(hexagonal(2.46, [[1 / 3, 2 / 3, 0.5], [1 / 3, 2 / 3, 0.5], [2 / 3, 1 / 3, 0.5]],
                                 ["C", "C", "C"]))
    wrap = jarvis_atoms(hexagonal(2.46, [[1 / 3, 2 / 3, 0.5], [4 / 3, 2 / 3, 0.5]], ["C", "C"]))
    cri3 = jarvis_atoms(hexagonal(6.9, [[1 / 3, 2 / 3, 0.5], [2 / 3, 1 / 3, 0.5], [0.36, 0, 0.43],
                                        [0, 0.36, 0.43], [0.64, 0.64, 0.43], [0.64, 0, 0.57],
                                        [0, 0.64, 0.57], [0.36, 0.36, 0.57]],
                                  ["Cr1", "Cr2", "I", "I", "I", "I", "I", "I"]))
    recs = [{"jid": "far", "atoms": far}, {"jid": "dup", "atoms": dup}, {"jid": "wrap", "atoms": wrap},
            {"jid": "cri3", "atoms": cri3}, "not a record"]
    table, skipped = structures.records_to_table(recs, "jv2d")
    reasons = dict(skipped)
    assert "far outside the cell" in reasons["far"]
    assert "duplicate sites" in reasons["dup"] and "duplicate sites" in reasons["wrap"]
    assert "must be a JSON object" in reasons["record-4"]
    assert list(table["id"]) == ["cri3"] and table.loc[0, "elements"] == "Cr I"
    assert table.loc[0, "a"] == pytest.approx(6.9)
    out = capsys.readouterr().out
    assert "numbered labels" in out and "Cr1, Cr2 -> Cr" in out


# ------------------------------------------------------------------ 10. NaN pixels

@bad_input
def test_a_few_nan_pixels_do_not_hide_a_perfect_lattice(graphene):
    img = image_of(graphene)
    assert img.shape == (256, 256)
    rng = np.random.default_rng(0)
    holes = img.copy()
    holes.flat[rng.choice(img.size, 100, replace=False)] = np.nan
    holes[10, 10:14] = np.inf
    est = fft_lattice.estimate_lattice(holes, 0.1)
    assert est.reliable and est.label == 0 and est.a == pytest.approx(2.46, abs=0.01)
    assert "104 NaN/inf pixels (0.16 %) filled" in est.notes[0]
    mostly = img.copy()
    mostly[:, :100] = np.nan
    gone = fft_lattice.estimate_lattice(mostly, 0.1)
    assert gone.label == -1 and "more than the 25 %" in gone.reason


# ------------------------------------------------------------------ 11. run_all.sh arguments

@bad_input
@pytest.mark.parametrize("argv,expect", [
    (["--only"], "option --only needs a value"), (["--from"], "option --from needs a value"),
    (["--only", "--force"], "option --only needs a value"), (["--profile"], "option --profile needs a value"),
    (["--only", "77"], "numbered 01 02"), (["--profile", "huge"], "use smoke, quick or paper"),
    (["--bogus"], "unknown option --bogus")])
def test_run_all_arguments_are_checked_before_anything_runs(argv, expect):
    out = subprocess.run(["bash", "run_all.sh", *argv], capture_output=True, text=True,
                         cwd=paths.ROOT, timeout=60)
    assert out.returncode == 2 and expect in out.stderr, out.stderr
    assert "unbound variable" not in out.stderr and "[run_all]" not in out.stdout


# ------------------------------------------------------------------ 12. workers die with their parent

ORPHAN_SCRIPT = """
import os, sys, time
from lattice_utils.core import parallel

def sleepy(i):
    open(os.path.join(sys.argv[1], f"{os.getpid()}.pid"), "w").close()
    time.sleep(60)
    return i

if __name__ == "__main__":
    for _ in parallel.imap(sleepy, range(4), workers=2):
        pass
"""


@bad_input
def test_pool_workers_exit_when_the_parent_is_killed(tmp_path):
    import psutil

    script = tmp_path / "orphans.py"
    script.write_text(ORPHAN_SCRIPT)
    pids = tmp_path / "pids"
    pids.mkdir()
    env = {**os.environ, "PYTHONPATH": str(paths.ROOT)}
    parent = subprocess.Popen([sys.executable, str(script), str(pids)], env=env)
    deadline = time.time() + 90
    while len(list(pids.iterdir())) < 2 and time.time() < deadline:
        time.sleep(0.2)
    workers = [int(p.stem) for p in pids.iterdir()]
    assert len(workers) == 2, "the pool did not start"
    parent.send_signal(signal.SIGKILL)
    parent.wait()

    def alive(pid):
        try:
            return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False

    deadline = time.time() + 5
    while any(alive(p) for p in workers) and time.time() < deadline:
        time.sleep(0.1)
    left = [p for p in workers if alive(p)]
    for p in left:
        os.kill(p, signal.SIGKILL)
    assert not left, f"workers {left} outlived their killed parent"


# ------------------------------------------------------------------ the reliability page's count

@pytest.mark.slow
def test_reliability_page_states_the_count_of_bad_input_cases():
    out = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-m", "bad_input",
                          "-p", "no:cacheprovider", "tests"], capture_output=True, text=True,
                         cwd=paths.ROOT, timeout=300)
    m = re.search(r"(\d+)/\d+ tests collected", out.stdout)
    assert m, out.stdout[-2000:]
    page = (paths.ROOT / "docs" / "reliability.md").read_text()
    stated = re.search(r"The suite tries (\d+) bad inputs and faults", page)
    assert stated, "docs/reliability.md must say 'The suite tries N bad inputs and faults'"
    assert int(stated.group(1)) == int(m.group(1))
