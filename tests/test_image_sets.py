"""The paper's STEM image sets, on a tiny self-made zip in AtomVision's layout."""
from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest

from lattice_utils.core import paths
from lattice_utils.data import image_sets
from lattice_utils.data.structures import CorruptFileError, DataUnavailableError

bad_input = pytest.mark.bad_input


def lattice_field(n: int = 100, period: float = 12.5, seed: int = 0) -> np.ndarray:
    """A 10 Å field at 0.1 Å/px with Gaussian 'atoms' on a square lattice (0-1)."""
    y, x = np.mgrid[:n, :n]
    rng = np.random.default_rng(seed)
    shift = rng.uniform(0, period, 2)

    def d(u, s):
        return ((u - s + period / 2) % period) - period / 2

    return np.exp(-(d(x, shift[0]) ** 2 + d(y, shift[1]) ** 2) / (2 * 2.0 ** 2))


def matplotlib_jpeg(field: np.ndarray) -> bytes:
    """The way AtomVision drew its images: a 640 x 480 figure, the field as a square in a
    white frame, axes off, saved as JPEG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(6.4, 4.8), dpi=100)
    ax = fig.add_subplot(111)
    ax.imshow(field, cmap="gray", interpolation="bilinear")
    ax.axis("off")
    buf = io.BytesIO()
    fig.savefig(buf, format="jpg")
    plt.close(fig)
    return buf.getvalue()


def write_set(path, counts={"train": (2, 1, 1, 0, 1), "test": (1, 1, 0, 0, 1)}, root="stem_jv2d",
              skip_folder=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    k = 0
    with zipfile.ZipFile(path, "w") as z:
        for split, per_class in counts.items():
            folder = image_sets.SPLIT_FOLDERS[split]
            if folder == skip_folder:
                continue
            for label, n in enumerate(per_class):
                for _ in range(n):
                    k += 1
                    z.writestr(f"{root}/{folder}/{label}/JVASP-{1000 + k}.jpg",
                               matplotlib_jpeg(lattice_field(period=8 + 2 * label, seed=k)))
    return path


def test_crop_finds_the_drawn_square_exactly():
    rgb = np.full((480, 640, 3), 255, np.uint8)
    field = (np.arange(300 * 300).reshape(300, 300) % 200).astype(np.uint8)
    rgb[90:390, 170:470] = field[..., None]
    crop = image_sets.crop_drawn_square(rgb)
    assert crop.shape == (300, 300) and np.array_equal(crop, field.astype(float))


def test_crop_of_a_matplotlib_jpeg_keeps_the_field():
    from lattice_utils.data.datasets import resize_images

    field = lattice_field()
    from PIL import Image
    img = np.asarray(Image.open(io.BytesIO(matplotlib_jpeg(field))))
    assert img.shape == (480, 640, 3)
    crop = image_sets.crop_drawn_square(img)
    assert abs(crop.shape[0] - 370) <= 2                  # the axes' square at 100 dpi
    assert crop.min() < 20 and (crop[:, 0] < 245).mean() > 0.9   # no white frame inside
    small = resize_images(np.round(crop).astype(np.uint8)[None], 100)[0] / 255.0
    assert np.corrcoef(small.ravel(), field.ravel())[0, 1] > 0.97


@bad_input
@pytest.mark.parametrize("image", ["white", "not-square"])
def test_crop_refuses_images_without_a_framed_square(image):
    rgb = np.full((480, 640, 3), 255, np.uint8)
    if image == "not-square":
        rgb[50:150, 100:500] = 0
    with pytest.raises(ValueError, match="framed field|not a square"):
        image_sets.crop_drawn_square(rgb)


def test_loader_reads_split_classes_ids_and_builds_a_store(scratch_dirs):
    path = write_set(image_sets.image_set_path("stem_jv2d"))
    loaded = image_sets.load_image_set("stem_jv2d", download=False, verbose=False)
    t = loaded.table
    assert len(t) == 8 and (t["split"] == "train").sum() == 5
    assert t[t["split"] == "train"]["label"].tolist() == [0, 0, 1, 2, 4]
    assert t["id"].str.match(r"JVASP-\d+$").all()
    assert len(loaded.store) == 8 and loaded.store.verify() and not loaded.store.failed
    assert loaded.pixel_size == pytest.approx(15 / 256)      # the set's 15 Å field
    # the stored image is the drawn field: its lattice period is 8 px of 100 -> 20.5 px of 256
    img = loaded.store[0].astype(float)
    spec = np.abs(np.fft.rfft(img.mean(axis=0) - img.mean()))
    assert np.argmax(spec) == pytest.approx(256 / (8 * 2.56), abs=1)
    again = image_sets.load_image_set("stem_jv2d", download=False, verbose=False)
    assert again.store.root == loaded.store.root      # cached by the zip's content
    write_set(path, counts={"train": (3, 1, 1, 0, 1), "test": (1, 1, 0, 0, 1)})
    changed = image_sets.load_image_set("stem_jv2d", download=False, verbose=False)
    assert changed.store.root != loaded.store.root and len(changed.store) == 9


@bad_input
def test_truncated_zip_is_moved_aside_and_named(scratch_dirs, monkeypatch):
    path = write_set(image_sets.image_set_path("stem_jv2d"))
    path.write_bytes(path.read_bytes()[:2000])
    monkeypatch.setattr(image_sets, "_download", lambda *a, **k: (_ for _ in ()).throw(OSError("offline")))
    with pytest.raises(DataUnavailableError) as err:
        image_sets.load_image_set("stem_jv2d", verbose=False)
    assert "was damaged" in str(err.value) and "31054519" in str(err.value)
    assert not path.exists() and path.with_name("stem_jv2d.zip.corrupt").exists()


@bad_input
def test_zip_without_a_test_folder_says_what_it_holds(scratch_dirs):
    write_set(image_sets.image_set_path("stem_jv2d"), skip_folder="test_folder")
    with pytest.raises(image_sets.LayoutError, match="no images in test_folder.*stem_jv2d/train_folder/0"):
        image_sets.load_image_set("stem_jv2d", download=False, verbose=False)


@bad_input
def test_missing_file_without_network_names_file_folder_and_url(scratch_dirs, monkeypatch):
    monkeypatch.setattr(image_sets, "_download", lambda *a, **k: (_ for _ in ()).throw(OSError("offline")))
    with pytest.raises(DataUnavailableError) as err:
        image_sets.fetch_image_set("stem_c2db")
    msg = str(err.value)
    assert "stem_c2db.zip" in msg and "data/raw" in msg and "figshare.com/ndownloader/files/31054516" in msg
    assert list(paths.RAW.iterdir()) == []            # no partial download left


@bad_input
def test_damaged_download_is_not_kept(scratch_dirs, monkeypatch):
    monkeypatch.setattr(image_sets, "_download", lambda url, dest: dest.write_bytes(b"PK\x03\x04 cut"))
    with pytest.raises(CorruptFileError, match="not a readable zip"):
        image_sets.fetch_image_set("stem_jv2d")
    assert list(paths.RAW.iterdir()) == []


def test_data_source_switch(scratch_dirs, capsys):
    from lattice_utils.data import sources

    assert sources.normalise("jarvis") == "paper"
    with pytest.raises(ValueError, match="auto, paper, offline"):
        sources.normalise("bogus")
    # no file: auto falls back and says so, paper refuses with the file, folder and URL
    assert sources.image_set_for("jv2d", "auto") is None
    assert "stem_jv2d.zip" in capsys.readouterr().out
    with pytest.raises(DataUnavailableError, match="stem_jv2d.zip.*31054519"):
        sources.image_set_for("jv2d", "paper")
    assert sources.structure_source("c2db", "auto") == "offline"
    assert sources.structure_source("c2db", "paper") == "jarvis"
    write_set(image_sets.image_set_path("stem_jv2d"))
    assert sources.image_set_for("jv2d", "auto") == "stem_jv2d"
    assert sources.image_set_for("jv2d", "offline") is None
    assert sources.image_set_for("alex", "paper") is None      # no published Alex-PBE image set
    status = {f["file"]: f["present"] for f in sources.paper_files()}
    assert status["stem_jv2d.zip"] and not status["stem_c2db.zip"]


def test_classification_slot_uses_the_paper_images_with_their_split(scratch_dirs):
    from lattice_utils.core.profiles import get_profile
    from lattice_utils.studies import stem_studies

    write_set(image_sets.image_set_path("stem_jv2d"))
    P = get_profile("smoke")
    sd = stem_studies.classification_slot("jv2d", P, "auto")
    assert sd.source == "stem_jv2d" and sd.slot == "jv2d"
    assert len(sd.rows("train")) == 5 and len(sd.rows("test")) == 3
    assert sd.inputs(P.input_px).images.shape == (8, P.input_px, P.input_px)


@pytest.mark.slow
def test_seeded_runs_on_the_paper_images_and_their_snapshot(scratch_dirs, monkeypatch):
    import pandas as pd

    from lattice_utils.core import storage
    from lattice_utils.core.profiles import get_profile
    from lattice_utils.studies import paper_runs, snapshots

    write_set(image_sets.image_set_path("stem_jv2d"))
    done = paper_runs.run_seeds("stem_jv2d", "smoke", seeds=(0, 1), models=("densenet121",), log=lambda *a: None)
    s1, t2, runs, preds = done.table_s1, done.table_2, done.runs, done.predictions
    # every test prediction is kept, and the accuracies follow from them
    assert len(preds) == s1["n"].sum() and set(preds["seed"]) == {0, 1}
    recomputed = preds.assign(ok=preds["true"] == preds["predicted"]).groupby("seed")["ok"].mean() * 100
    assert list(recomputed.round(6)) == list(s1["accuracy_pct"].round(6))
    assert np.allclose(preds[[f"p{k}" for k in range(5)]].sum(axis=1), 1.0, atol=1e-5)
    assert list(s1["seed"]) == [0, 1] and (s1["n"] == 3).all() and set(s1["data_source"]) == {"stem_jv2d"}
    assert set(s1["model_title"]) == {"DenseNet121 (from scratch)"}
    assert set(t2["seed"]) == {0, 1} and runs[0]["train_seconds"] > 0
    assert runs[0]["epochs"] == get_profile("smoke").epochs["jv2d"] and runs[0]["median_images_per_s"] > 0
    summary = paper_runs.spread(s1, ["dataset", "model"], ["accuracy_pct"])
    assert summary.loc[0, "seeds"] == 2
    assert summary.loc[0, "accuracy_pct_mean"] == pytest.approx(s1["accuracy_pct"].mean())
    assert summary.loc[0, "accuracy_pct_std"] == pytest.approx(s1["accuracy_pct"].std(ddof=1), nan_ok=True)
    # the symmetric-copy averages: the same images, probabilities that sum to one, one per training
    sym = done.symmetric
    assert len(sym) == len(preds) and set(sym["seed"]) == {0, 1} and set(sym["model"]) == {"densenet121"}
    assert np.allclose(sym[[f"p{k}" for k in range(5)]].sum(axis=1), 1.0, atol=1e-5)
    assert (sym["predicted"] == sym[[f"p{k}" for k in range(5)]].to_numpy().argmax(axis=1)).all()
    # the training curve: one row per epoch of each training
    assert len(done.history) == 2 * get_profile("smoke").epochs["jv2d"] and (done.history["loss"] > 0).all()
    where = paper_runs.write_snapshot("stem_jv2d", "smoke", s1, t2, runs, date="2026-01-01", predictions=preds,
                                      symmetric=sym, history=done.history)
    out = paths.REPORTS / "snapshots" / "2026-01-01-stem_jv2d-smoke"
    assert {p.name for p in out.iterdir()} >= {"table_s1_summary.csv", "table_2_per_seed.csv", "meta.json",
                                                snapshots.PREDICTIONS}
    kept = snapshots.read_kept(out, snapshots.PREDICTIONS)
    assert len(kept) == len(preds) and pd.api.types.is_string_dtype(kept["id"])
    assert len(snapshots.read_kept(out, snapshots.SYMMETRIC)) == len(sym)
    assert len(snapshots.read_kept(out, snapshots.HISTORY)) == len(done.history)
    meta = storage.read_json(out / "meta.json")
    assert meta["symmetric_average_kept"] == meta["predictions_kept"] == ["seed 0 densenet121", "seed 1 densenet121"]
    assert meta["settings"]["input_px"] == 32 and meta["complete"] and meta["seeds_done"] == [0, 1]
    assert len(pd.read_csv(out / "table_s1_per_seed.csv")) == 2 and where.endswith("2026-01-01-stem_jv2d-smoke")

    # --skip-unfinished reports what has finished and trains nothing: seed 2 was never trained
    assert paper_runs.main(["--set", "stem_jv2d", "--profile", "smoke", "--seeds", "0", "1", "2",
                            "--skip-unfinished", "--snapshot"]) == 0
    snap = max((paths.REPORTS / "snapshots").glob("*-stem_jv2d-smoke/meta.json"))
    meta = storage.read_json(snap)
    assert meta["not_done"] == ["seed 2 densenet121"] and not meta["complete"] and meta["seeds_done"] == [0, 1]
    assert meta["seeds_requested"] == [0, 1, 2] and meta["models_requested"] == ["densenet121"]
    assert [r["seed"] for r in meta["runs"]] == [0, 1]

    # the command writes the snapshot after every seed, so a run stopped between seeds leaves the
    # finished ones behind, marked incomplete; seed 1, trained by an earlier run, is in it from
    # the first snapshot on, and seed 2 once this run has trained it
    seen = []
    monkeypatch.setattr(paper_runs, "write_snapshot", lambda *a, **k: seen.append((a, k)) or "x")
    assert paper_runs.main(["--set", "stem_jv2d", "--profile", "smoke", "--seeds", "0", "1", "2", "--snapshot"]) == 0
    assert [sorted(a[2]["seed"]) for a, _ in seen] == [[0, 1], [0, 1], [0, 1, 2]]
    assert [len(a[4]) for a, _ in seen] == [2, 2, 3]
    assert all(list(k["seeds_requested"]) == [0, 1, 2] for _, k in seen)


@pytest.mark.slow
def test_a_finished_seed_outlives_the_machine_that_trained_it(scratch_dirs, monkeypatch, capsys):
    """A session on a new machine has none of the earlier weights: the snapshot keeps the
    committed result of each training whose whole configuration is the same, and only that."""
    import shutil

    import pandas as pd

    from lattice_utils.core import storage
    from lattice_utils.learn import fitting
    from lattice_utils.studies import paper_runs, snapshots

    write_set(image_sets.image_set_path("stem_jv2d"))
    argv = ["--set", "stem_jv2d", "--profile", "smoke", "--seeds", "0", "1", "--models", "densenet121", "mlp"]
    assert paper_runs.main(argv + ["--snapshot"]) == 0
    snap = max((paths.REPORTS / "snapshots").glob("*-stem_jv2d-smoke"))
    before = {p.name: p.read_bytes() for p in snap.iterdir() if p.suffix == ".csv"}
    runs = [r for r in storage.read_json(snap / "meta.json")["runs"] if r["model"] == "densenet121"]
    assert [r["seed"] for r in runs] == [0, 1] and all(len(r["config_key"]) >= 12 for r in runs)
    assert {r["precision"] for r in runs} == {fitting.resolve_precision("auto")} and runs[0]["date"]
    assert {snapshots.PREDICTIONS, snapshots.SYMMETRIC, snapshots.HISTORY} <= set(before)

    # a committed result without its symmetric averages (a snapshot written before they were kept)
    # is scored again where the weights are here, without training; the same bytes come back
    meta_bytes = (snap / "meta.json").read_bytes()
    meta = storage.read_json(snap / "meta.json")
    meta["symmetric_average_kept"] = []
    storage.write_json(snap / "meta.json", meta)
    (snap / snapshots.SYMMETRIC).unlink()
    weights = {p: p.stat().st_mtime_ns for p in paths.MODELS.rglob("*.pt")}
    assert paper_runs.main(argv + ["--skip-unfinished", "--snapshot"]) == 0
    assert {p.name: p.read_bytes() for p in snap.iterdir() if p.suffix == ".csv"} == before
    assert {p: p.stat().st_mtime_ns for p in paths.MODELS.rglob("*.pt")} == weights
    assert (storage.read_json(snap / "meta.json")["symmetric_average_kept"]
            == ["seed 0 densenet121", "seed 1 densenet121"])
    (snap / "meta.json").write_bytes(meta_bytes)

    shutil.rmtree(paths.MODELS)                     # the next session's machine
    capsys.readouterr()
    assert paper_runs.main(argv + ["--skip-unfinished", "--snapshot"]) == 0
    assert capsys.readouterr().out.count("its committed result is kept") == 2
    assert {p.name: p.read_bytes() for p in snap.iterdir() if p.suffix == ".csv"} == before
    assert [r for r in storage.read_json(snap / "meta.json")["runs"] if r["model"] == "densenet121"] == runs
    assert not paths.MODELS.exists() or not any(paths.MODELS.glob("densenet121-*"))   # nothing retrained

    # a snapshot of fewer seeds would drop a committed training: refused before any training
    capsys.readouterr()
    assert paper_runs.main(argv[:6] + ["--models", "densenet121", "mlp", "--snapshot"]) == 2
    out = capsys.readouterr().out
    assert "seed 1 densenet121" in out and "--replace" in out and snap.name in out
    assert {p.name: p.read_bytes() for p in snap.iterdir() if p.suffix == ".csv"} == before
    assert paper_runs.main(argv[:6] + ["--models", "densenet121", "mlp"]) == 0     # no snapshot: nothing to guard

    # a committed training whose configuration changed since (here: its key) is not dropped silently
    meta_bytes = (snap / "meta.json").read_bytes()
    changed = storage.read_json(snap / "meta.json")
    second = [r.get("config_key") for r in changed["runs"]].index(runs[1]["config_key"])
    changed["runs"][second]["config_key"] = "0" * 12
    storage.write_json(snap / "meta.json", changed)
    capsys.readouterr()
    assert paper_runs.main(argv + ["--skip-unfinished", "--snapshot"]) == 2
    assert "1 training(s)" in capsys.readouterr().out
    assert {p.name: p.read_bytes() for p in snap.iterdir() if p.suffix == ".csv"} == before
    (snap / "meta.json").write_bytes(meta_bytes)

    # a machine with another precision path runs another training: nothing is carried over, and
    # it refuses to replace the committed snapshot unless asked
    other = "fp16" if fitting.resolve_precision("auto") != "fp16" else "fp32"
    monkeypatch.setattr(fitting, "resolve_precision", lambda *a, **k: other)
    monkeypatch.setattr(paper_runs, "resolve_precision", lambda *a, **k: other)
    capsys.readouterr()
    assert paper_runs.main(argv + ["--skip-unfinished", "--snapshot"]) == 2
    assert f"This machine trains in {other}" in capsys.readouterr().out
    assert (snap / "meta.json").read_bytes() == meta_bytes
    assert paper_runs.main(argv + ["--skip-unfinished", "--snapshot", "--replace"]) == 0
    meta = storage.read_json(snap / "meta.json")
    assert meta["not_done"] == ["seed 0 densenet121", "seed 1 densenet121"]
    assert set(pd.read_csv(snap / "table_s1_per_seed.csv")["model"]) == {"mlp"}


def test_epoch_timing_takes_the_median_so_a_paused_epoch_does_not_count():
    from lattice_utils.studies import paper_runs

    history = [{"seconds": 200.0, "images_per_s": 4.3}, {"seconds": 9000.0, "images_per_s": 0.1},
               {"seconds": 210.0, "images_per_s": 4.1}]
    assert paper_runs.epoch_timing(history) == {"epochs": 3, "median_epoch_seconds": 210.0,
                                                "median_images_per_s": 4.1}
    assert paper_runs.epoch_timing([])["median_epoch_seconds"] is None


@pytest.mark.slow
def test_regression_joins_the_paper_images_to_the_dft_lattice_by_id(scratch_dirs, capsys):
    import json

    from jarvis.db.figshare import get_db_info
    from test_structures import fixture_records

    from lattice_utils.core.profiles import get_profile
    from lattice_utils.data.structures import jarvis_zip_path
    from lattice_utils.studies import stem_studies

    write_set(image_sets.image_set_path("stem_jv2d"))
    P = get_profile("smoke")
    # without the database the regression falls back to simulated images, and says why
    assert stem_studies.regression_slot("jv2d", P, "auto").source == "offline"
    good = fixture_records("jv2d")[:2]           # graphene (a 2.46) and MoS2 (a 3.19)
    recs = [dict(good[(k - 1) % 2], jid=f"JVASP-{1000 + k}") for k in range(1, 8)]   # JVASP-1008 has none
    with zipfile.ZipFile(jarvis_zip_path("jv2d"), "w") as z:
        z.writestr(get_db_info()["dft_2d"][1], json.dumps(recs))
    sd = stem_studies.regression_slot("jv2d", P, "auto")
    assert sd.source == "stem_jv2d+jarvis"
    t = sd.table.set_index("id")
    assert t.loc["JVASP-1001", "a"] == pytest.approx(2.46) and t.loc["JVASP-1002", "a"] == pytest.approx(3.19)
    assert t.loc["JVASP-1008", "split"] == "no structure"
    assert len(sd.rows("train")) + len(sd.rows("test")) == 7
    assert "1 of 8 stem_jv2d images have no record" in capsys.readouterr().out
    cfg, inputs, rows, y = stem_studies.network_setup(sd, "regress", "densenet121")
    assert y.shape == (len(sd.rows("train")), 3) and np.isfinite(y).all()
