"""The eight symmetric copies scored one by one and added to a snapshot: the rows, the guard that the
weights are the snapshot's own, and the reader that keeps only the rows of the trainings it records."""
from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from conftest import oriented_classifier
from lattice_utils.core import paths
from lattice_utils.learn import training
from lattice_utils.studies import snapshots, stem_studies
from lattice_utils.studies import symmetric_copies as sc


def _slot(n=6):
    rng = np.random.default_rng(3)
    images = rng.integers(0, 256, size=(n + 2, 8, 8), dtype=np.uint8)
    test = pd.DataFrame({"id": [f"{i:04d}" for i in range(n)], "label": rng.integers(0, 5, n)})
    inputs = training.Inputs(images, "k", 8)
    return SimpleNamespace(test=test, inputs=lambda px: inputs, rows=lambda split: np.arange(2, n + 2))


def _net():
    cfg = training.TrainConfig("classify", "small_cnn", ("label",), "k", input_px=8, channels_last=False)
    return training.TrainedModel(cfg, oriented_classifier(), [], None, None, None, {})


def test_copy_predictions_give_eight_rows_per_image_and_copy_zero_is_the_plain_prediction():
    sd, net = _slot(), _net()
    rows = sc.copy_predictions(sd, net)
    assert len(rows) == 8 * 6 and sorted(rows["copy"].unique()) == list(range(8))
    assert set(zip(rows["copy"], rows["rotation_deg"], rows["mirrored"])) == {
        (k, d, m) for k, (d, m) in enumerate(training.DIHEDRAL_COPIES)}
    plain = net.predict(sd.inputs(8), sd.rows("test")).argmax(axis=1)
    assert rows[rows["copy"] == 0]["predicted"].tolist() == plain.tolist()
    assert rows[rows["copy"] == 0]["true"].tolist() == sd.test["label"].tolist()
    # the network is not invariant: some copy of some image is classed otherwise
    assert rows.groupby("id")["predicted"].nunique().max() > 1


def test_matches_snapshot_names_what_differs():
    copies = pd.DataFrame({"id": ["a", "b", "c"], "copy": 0, "true": [1, 1, 0], "predicted": [1, 2, 3]})
    same = pd.DataFrame({"id": ["c", "a", "b"], "true": [0, 1, 1], "predicted": [3, 1, 2]})
    assert sc.matches_snapshot(copies, same) == ""
    differs = sc.matches_snapshot(copies, same.assign(predicted=[3, 1, 4]))
    assert differs == "1 of 3 predictions differ from the snapshot's"
    assert "the test images differ" in sc.matches_snapshot(copies, same.iloc[:2])
    assert "the test images differ" in sc.matches_snapshot(copies, same.iloc[:0])
    assert sc.matches_snapshot(copies, same.assign(true=[0, 1, 2])) == \
        "the test images' true classes differ from the snapshot's"
    assert sc.matches_snapshot(copies, pd.concat([same, same.iloc[:1]])) == "an image is predicted twice"
    assert sc.matches_snapshot(pd.concat([copies, copies.iloc[:1]]), same) == "an image is predicted twice"


def test_the_reader_keeps_only_rows_of_recorded_trainings_with_the_snapshot_configuration():
    per_copy = pd.DataFrame({"model": ["densenet121", "densenet121", "googlenet"], "seed": [0, 1, 0],
                             "id": "a", "copy": 0})
    meta = {"runs": [{"seed": 0, "model": "densenet121", "config_key": "k0"},
                     {"seed": 1, "model": "densenet121", "config_key": "k1-new"},
                     {"seed": 0, "model": "googlenet", "config_key": "g0"}],
            "per_copy_kept": [{"seed": 0, "model": "densenet121", "config_key": "k0"},
                              {"seed": 1, "model": "densenet121", "config_key": "k1-old"}]}
    kept = snapshots.per_copy_of_runs(per_copy, meta)
    assert kept[["seed", "model"]].values.tolist() == [[0, "densenet121"]]
    assert snapshots.per_copy_of_runs(per_copy, {"runs": meta["runs"]}).empty   # a snapshot written again
    assert snapshots.per_copy_of_runs(per_copy.iloc[:0], meta).empty


def _snapshot(folder, predictions):
    folder.mkdir(parents=True)
    runs = [{"seed": 0, "model": "densenet121", "config_key": "right"},
            {"seed": 1, "model": "densenet121", "config_key": "right"},
            {"seed": 2, "model": "densenet121", "config_key": "right"},
            {"seed": 0, "model": "googlenet", "config_key": "old"}]
    meta = {"set": "stem_jv2d", "profile": "paper", "runs": runs, "seeds_requested": [0, 1, 2],
            "seeds_done": [0, 1, 2], "models_requested": ["densenet121", "googlenet"], "complete": True}
    (folder / "meta.json").write_text(json.dumps(meta))
    pd.DataFrame({"dataset": "jv2d", "model": [r["model"] for r in runs], "seed": [r["seed"] for r in runs],
                  "accuracy_pct": 50.0, "n": 6}).to_csv(folder / "table_s1_per_seed.csv", index=False)
    predictions.to_csv(folder / snapshots.PREDICTIONS, index=False)


def test_add_to_snapshot_writes_the_rows_it_can_and_says_why_it_left_the_others_out(scratch_dirs, monkeypatch):
    sd, net = _slot(), _net()
    plain = net.predict(sd.inputs(8), sd.rows("test")).argmax(axis=1)
    frame = lambda seed, model, pred: pd.DataFrame({"model": model, "seed": seed, "id": sd.test["id"],  # noqa: E731
                                                    "true": sd.test["label"], "predicted": pred})
    wrong = plain.copy()
    wrong[0] = (wrong[0] + 1) % 5
    predictions = pd.concat([frame(0, "densenet121", plain), frame(1, "densenet121", wrong),
                             frame(0, "googlenet", plain)])
    folder = paths.SNAPSHOTS / "2026-01-01-stem_jv2d-paper"
    _snapshot(folder, predictions)
    trained = {0: True, 1: True, 2: False}
    monkeypatch.setattr(stem_studies, "load_slot",
                        lambda slot, profile, source: SimpleNamespace(**vars(sd), seed=profile.seed))
    monkeypatch.setattr(stem_studies, "network_setup",
                        lambda s, task, model: (SimpleNamespace(key=lambda: "right" if model == "densenet121"
                                                                else "new"),))
    monkeypatch.setattr(stem_studies, "network_trained", lambda s, task, model: trained[s.seed])
    monkeypatch.setattr(stem_studies, "fit_network", lambda *a, **k: net)
    lines = []
    done = sc.add_to_snapshot("stem_jv2d", "paper", log=lines.append)
    assert done["written"] == [(0, "densenet121")]
    why = {(s, m): w for s, m, w in done["left out"]}
    assert why == {(1, "densenet121"): "refused: 1 of 6 predictions differ from the snapshot's",
                   (2, "densenet121"): "its weights are not in the data folder",
                   (0, "googlenet"): "its configuration here is not the snapshot's"}
    assert any("seed 0 densenet121: eight copies scored" in line for line in lines)
    kept = snapshots.kept("stem_jv2d", "paper")
    assert len(kept.per_copy) == 8 * 6 and set(kept.per_copy["seed"]) == {0}
    assert kept.meta["per_copy_kept"][0]["config_key"] == "right"
    assert list(kept.per_copy.columns) == sc.COLUMNS


def test_add_to_snapshot_refuses_without_a_snapshot_or_with_nothing_to_score(scratch_dirs, monkeypatch, capsys):
    with pytest.raises(ValueError, match="unknown image set"):
        sc.add_to_snapshot("nope")
    with pytest.raises(ValueError, match="unknown network"):
        sc.add_to_snapshot("stem_jv2d", models=("mlp",))
    with pytest.raises(ValueError, match="no committed snapshot of stem_jv2d at the paper profile"):
        sc.add_to_snapshot("stem_jv2d", "paper")
    assert sc.main(["--set", "stem_jv2d"]) == 2
    assert "symmetric_copies: no committed snapshot" in capsys.readouterr().err


def test_a_snapshot_written_again_drops_the_per_copy_classes_of_its_earlier_trainings(scratch_dirs):
    from lattice_utils.studies import paper_runs

    s1 = pd.DataFrame({"dataset": "jv2d", "model": "densenet121", "model_title": "d", "data_source": "stem_jv2d",
                       "seed": [0], "n": 6, "accuracy_pct": 50.0, "f1_macro": 0.5, "f1_weighted": 0.5})
    runs = [{"set": "stem_jv2d", "seed": 0, "model": "densenet121", "config_key": "k"}]
    paper_runs.write_snapshot("stem_jv2d", "paper", s1, pd.DataFrame(), runs, date="2026-11-02")
    stale = paths.SNAPSHOTS / "2026-11-02-stem_jv2d-paper" / snapshots.PER_COPY
    stale.write_text(",".join(sc.COLUMNS) + "\n")
    paper_runs.write_snapshot("stem_jv2d", "paper", s1, pd.DataFrame(), runs, date="2026-11-02")
    assert not stale.exists()
