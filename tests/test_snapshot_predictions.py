"""The per-image predictions of the paper-settings snapshot: the committed snapshot's accuracies follow
from them, and the notebook sections that read them (notebooks 02 and 05, the report's "beyond the
paper" section) run on a snapshot of known content."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import nbformat
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import f1_score, precision_score, recall_score

from lattice_utils.core import paths, storage
from lattice_utils.learn import training
from lattice_utils.repro import outputs, prediction_stats, reproduction
from lattice_utils.studies import snapshots, symmetric_copies

NETWORKS = ("densenet121", "googlenet")


def test_the_committed_snapshots_accuracies_follow_from_its_predictions():
    """Recomputed from the kept predictions of every training: Table S1's accuracy and weighted F1
    per seed and model, and Table 2's per-class precision and recall per seed."""
    kept = snapshots.kept("stem_jv2d", "paper")
    assert kept is not None, "no committed paper-settings snapshot of STEM-JV2D"
    listed = set(kept.meta.get("predictions_kept", []))
    if not listed:
        pytest.skip(f"{kept.folder.name} predates per-image predictions (its retraining is under way)")
    s1 = snapshots.read_snapshot_table(kept.folder / "table_s1_per_seed.csv")
    # every training in the snapshot keeps its predictions, and the networks their symmetric averages
    assert listed == {f"seed {s} {m}" for s, m in zip(s1["seed"], s1["model"])}
    assert set(kept.meta["symmetric_average_kept"]) == {k for k in listed if not k.endswith(" mlp")}
    acc = prediction_stats.accuracy_per_run(kept.predictions)
    for r in s1.to_dict("records"):
        sub = kept.predictions[(kept.predictions["seed"] == r["seed"]) & (kept.predictions["model"] == r["model"])]
        ours = acc[(acc["seed"] == r["seed"]) & (acc["model"] == r["model"])]
        assert len(sub) == r["n"] and ours["accuracy_pct"].iloc[0] == pytest.approx(r["accuracy_pct"], abs=1e-9)
        assert f1_score(sub["true"], sub["predicted"], average="weighted") == pytest.approx(r["f1_weighted"], abs=1e-4)
    t2 = snapshots.read_snapshot_table(kept.folder / "table_2_per_seed.csv")
    for r in t2[t2["class"].astype(str).str.fullmatch(r"\d")].to_dict("records"):
        sub = kept.predictions[(kept.predictions["seed"] == r["seed"]) & (kept.predictions["model"] == "densenet121")]
        c = int(r["class"])
        if np.isfinite(r["recall"]):
            assert recall_score(sub["true"] == c, sub["predicted"] == c) == pytest.approx(r["recall"], abs=1e-4)
        if np.isfinite(r["precision"]):
            assert precision_score(sub["true"] == c, sub["predicted"] == c, zero_division=0) == \
                pytest.approx(r["precision"], abs=1e-4)
    # the outputs drawn from them are then expected of every run
    assert outputs.expected_outputs()["05_bravais_classification.ipynb"]["tables"]


def test_the_committed_per_copy_classes_give_the_snapshots_accuracies_on_the_unturned_copy():
    """Every training the meta lists has all eight copies of every test image, and its copy 0 (the
    image as it is) scores exactly its Table S1 accuracy."""
    kept = snapshots.kept("stem_jv2d", "paper")
    if kept is None or not len(kept.per_copy):
        pytest.skip("the committed snapshot keeps no per-copy classes")
    s1 = snapshots.read_snapshot_table(kept.folder / "table_s1_per_seed.csv").set_index(["seed", "model"])
    listed = {(r["seed"], r["model"]) for r in kept.meta["per_copy_kept"]}
    assert listed == set(zip(kept.per_copy["seed"], kept.per_copy["model"]))
    for (seed, model), rows in kept.per_copy.groupby(["seed", "model"]):
        assert rows.groupby("copy")["id"].nunique().tolist() == [s1.loc[(seed, model), "n"]] * 8
        plain = rows[rows["copy"] == 0].set_index("id")
        accuracy = 100 * (plain["true"] == plain["predicted"]).mean()
        assert accuracy == pytest.approx(s1.loc[(seed, model), "accuracy_pct"])
        # image by image: the guard symmetric_copies applied before writing them
        theirs = kept.predictions[(kept.predictions["seed"] == seed) & (kept.predictions["model"] == model)]
        theirs = theirs.set_index("id").loc[plain.index]
        assert (theirs["predicted"].astype(int) == plain["predicted"]).all()
        assert (theirs["true"].astype(int) == plain["true"]).all()
        if "p0" in rows:
            # the eight copies' probabilities average to what the snapshot keeps as the symmetric average
            probabilities = ["p0", "p1", "p2", "p3", "p4"]
            mean = rows.groupby("id")[probabilities].mean()
            sym = kept.symmetric[(kept.symmetric["seed"] == seed) & (kept.symmetric["model"] == model)]
            sym = sym.set_index("id").loc[mean.index, probabilities]
            assert np.abs(mean.to_numpy() - sym.to_numpy()).max() < 1e-5


def test_the_snapshot_in_progress_keeps_predictions_that_give_its_accuracies():
    """The newest committed snapshot, complete or not (a retraining commits it seed by seed): every
    training it lists as kept has its test predictions, and they give its Table S1 row."""
    found = snapshots.newest_snapshots().get(("stem_jv2d", "paper"))
    assert found is not None, "no committed paper-settings snapshot of STEM-JV2D"
    folder, meta = found
    listed = set(meta.get("predictions_kept", []))
    if not listed:
        pytest.skip(f"{folder.name} predates per-image predictions")
    preds = snapshots.read_kept(folder, snapshots.PREDICTIONS)
    symmetric = snapshots.read_kept(folder, snapshots.SYMMETRIC)
    s1 = snapshots.read_snapshot_table(folder / "table_s1_per_seed.csv")
    acc = prediction_stats.accuracy_per_run(preds)
    for r in s1.to_dict("records"):
        if f"seed {r['seed']} {r['model']}" not in listed:
            continue
        ours = acc[(acc["seed"] == r["seed"]) & (acc["model"] == r["model"])]
        assert len(ours) == 1 and ours["n"].iloc[0] == r["n"], (r["seed"], r["model"])
        assert ours["accuracy_pct"].iloc[0] == pytest.approx(r["accuracy_pct"], abs=1e-9)
    # the symmetric averages: the same test images, one row each, probabilities that sum to one
    for key in meta.get("symmetric_average_kept", []):
        _, seed, model = key.split()
        a = preds[(preds["seed"] == int(seed)) & (preds["model"] == model)]
        b = symmetric[(symmetric["seed"] == int(seed)) & (symmetric["model"] == model)]
        assert sorted(a["id"]) == sorted(b["id"]) and b["id"].is_unique, key
        probs = b[[c for c in b if c.startswith("p") and c[1:].isdigit()]].to_numpy()
        assert np.allclose(probs.sum(axis=1), 1, atol=1e-4), key


def _synthetic_snapshot():
    """A complete paper-settings snapshot of three seeds whose predictions are known."""
    from lattice_utils.studies import paper_runs

    rng = np.random.default_rng(0)
    n = 40
    truth = np.repeat(np.arange(5), n // 5)
    ids = [f"JVASP-{1000 + i}" for i in range(n)]
    preds, sym, hist, s1 = [], [], [], []
    for m_i, model in enumerate(NETWORKS + ("mlp",)):
        for seed in range(3):
            logits = rng.normal(size=(n, 5))
            logits[np.arange(n), truth] += 2.0
            p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
            frame = pd.DataFrame({"model": model, "seed": seed, "id": ids, "true": truth, "predicted": p.argmax(1),
                                  **{f"p{k}": (p[:, k] if model != "mlp" else np.nan) for k in range(5)}})
            preds.append(frame)
            s1.append({"dataset": "jv2d", "model": model, "model_title": model, "data_source": "stem_jv2d",
                       "seed": seed, "n": n, "accuracy_pct": 100 * (frame["true"] == frame["predicted"]).mean(),
                       "f1_macro": 0.5, "f1_weighted": 0.5})
            if model != "mlp":
                q = (p + 0.5 * np.eye(5)[truth]) / 1.5          # the symmetric average: a little better
                sym.append(frame.assign(predicted=q.argmax(1), **{f"p{k}": q[:, k] for k in range(5)}))
                hist.append(pd.DataFrame({"model": model, "seed": seed, "epoch": np.arange(1, 6),
                                          "loss": np.geomspace(1.5, 0.1, 5), "seconds": 30.0, "images_per_s": 25.0}))
    runs = [{"set": "stem_jv2d", "seed": r["seed"], "model": r["model"], "config_key": f"{r['model']}-{r['seed']}"}
            for r in s1]
    paper_runs.write_snapshot("stem_jv2d", "paper", pd.DataFrame(s1), pd.DataFrame(), runs, date="2026-11-01",
                              predictions=pd.concat(preds), symmetric=pd.concat(sym), history=pd.concat(hist))
    folder = paths.SNAPSHOTS / "2026-11-01-stem_jv2d-paper"
    # the per-copy classes: the copies that keep the orientation as trained, the turned ones always wrong
    # (a turned copy is sure of its wrong class: probability 1)
    per_copy = pd.concat([f.assign(copy=k, rotation_deg=deg, mirrored=mirrored,
                                   predicted=f["predicted"] if deg % 180 == 0 else (f["true"] + 1) % 5,
                                   **({} if deg % 180 == 0 else
                                      {f"p{c}": ((f["true"] + 1) % 5 == c).astype(float) for c in range(5)}))
                          for f in preds if f["model"].iloc[0] != "mlp"
                          for k, (deg, mirrored) in enumerate(training.DIHEDRAL_COPIES)])
    per_copy[symmetric_copies.COLUMNS].to_csv(folder / snapshots.PER_COPY, index=False)
    meta = storage.read_json(folder / "meta.json")
    meta["per_copy_kept"] = [dict(r, commit="abc1234") for r in runs if r["model"] != "mlp"]
    storage.write_json(folder / "meta.json", meta)
    return pd.concat(preds), pd.concat(sym)


def _section(notebook: str, first: str, last: str) -> str:
    """The code of a notebook from the cell that contains ``first`` up to the cell that starts with ``last``."""
    cells = nbformat.read(paths.NOTEBOOKS / notebook, as_version=4).cells
    start = next(i for i, c in enumerate(cells) if c.cell_type == "code" and first in c.source)
    end = next(i for i, c in enumerate(cells) if i > start and c.source.startswith(last))
    return "\n".join(c.source for c in cells[start:end] if c.cell_type == "code")


@pytest.mark.slow
def test_the_notebook_sections_on_a_snapshot_of_known_predictions(scratch_dirs):
    import matplotlib.pyplot as plt

    from lattice_utils.lattice.lattice2d import CLASS_SHORT
    from lattice_utils.repro import plots, report, verdicts

    preds, sym = _synthetic_snapshot()
    assert outputs.kept_predictions_committed()
    ns = {"pd": pd, "np": np, "plt": plt, "plots": plots, "report": report, "reproduction": reproduction,
          "snapshots": snapshots, "verdicts": verdicts, "CLASS_SHORT": CLASS_SHORT, "display": lambda *a: None}
    exec(_section("02_model_selection.ipynb", "prediction_stats", "## 3."), ns)
    exec(_section("05_bravais_classification.ipynb", "prediction_stats", "## Summary"), ns)
    plt.close("all")
    for name in outputs.NEEDS_KEPT_PREDICTIONS:
        kind = "tables" if outputs.is_table(name) else "figures"
        suffix = ".csv" if kind == "tables" else ".png"
        assert (getattr(paths, kind.upper()) / f"{name}{suffix}").exists(), name

    # stamped with the snapshot's profile and data, not the notebook's
    mcnemar = pd.read_csv(paths.TABLES / "table_s1_paper_settings_mcnemar.csv")
    assert list(mcnemar["seed"]) == [0, 1, 2] and set(mcnemar["profile"]) == {"paper"}
    assert set(mcnemar["data_source"]) == {"stem_jv2d"}
    expect = prediction_stats.paired_tests(preds, *NETWORKS)
    assert np.allclose(mcnemar["McNemar p"], expect["McNemar p"], rtol=1e-9, atol=0)      # whole, not rounded

    beyond = pd.read_csv(paths.TABLES / "table_05_beyond_the_paper.csv")
    assert len(beyond) == 8 and set(beyond["model"]) == set(NETWORKS)
    d = beyond[beyond["model"] == "densenet121"].set_index("way")
    as_trained = prediction_stats.accuracy_per_run(preds[preds["model"] == "densenet121"])["accuracy_pct"]
    averaged = prediction_stats.accuracy_per_run(sym[sym["model"] == "densenet121"])["accuracy_pct"]
    assert d.loc["as trained (the paper's recipe)", "accuracy_pct"] == pytest.approx(as_trained.mean(), abs=1e-3)
    assert d.loc["eight symmetric copies averaged", "gain_points"] == \
        pytest.approx((averaged.to_numpy() - as_trained.to_numpy()).mean(), abs=1e-3)
    ens = prediction_stats.seed_ensemble(preds, "densenet121")
    assert d.loc["ensemble of the seeds", "accuracy_pct"] == \
        pytest.approx(100 * (ens["true"] == ens["predicted"]).mean(), abs=1e-3)
    assert d.loc["ensemble of the seeds", "interval"] == "one classifier, Clopper-Pearson"

    copies = pd.read_csv(paths.TABLES / "table_05_symmetric_copies.csv")
    assert len(copies) == 2 * 11 and set(copies["profile"]) == {"paper"}
    c = copies[copies["model"] == "densenet121"].set_index("copies")
    assert c.loc["rotated 90 or 270° (turned)", "accuracy_pct"] == 0.0
    assert c.loc["turned minus kept (points)", "accuracy_pct"] == pytest.approx(-as_trained.mean(), abs=1e-3)
    # stamped with the commit of the pass that scored the copies
    assert "commit abc1234." in (paths.TABLES / "table_05_symmetric_copies.md").read_text()
    sides = pd.read_csv(paths.TABLES / "table_05_symmetric_copies_sides.csv")
    assert len(sides) == 2 * 4
    assert (sides.loc[sides["quantity"].str.startswith("probability a turned copy"), "value"] == 100.0).all()
    by_class = pd.read_csv(paths.TABLES / "table_05_symmetric_copies_by_class.csv")
    assert len(by_class) == 2 * 5 * 3 and set(by_class["true_class"]) == set(CLASS_SHORT)
    assert (by_class.loc[by_class["copies"] == "rotated 90 or 270° (turned)", "accuracy_pct"] == 0).all()
    hp = by_class[(by_class["model"] == "densenet121") & (by_class["true_class"] == "hp")].set_index("copies")
    d0 = preds[(preds["model"] == "densenet121") & (preds["true"] == 0)]
    assert hp.loc["rotated 0 or 180° (orientation kept)", "accuracy_pct"] == \
        pytest.approx(100 * (d0["true"] == d0["predicted"]).mean(), abs=1e-3)

    section = reproduction.beyond_section()
    assert "No row here changes a verdict above" in section and "JARVIS-Leaderboard" in section
    assert "83.41" in section and "Chakrabarty et al." in section and "000 Table" not in section
    assert "Each copy scored on its own" in section and "turned minus kept (points)" in section
    assert "copy 3: rotated 90°, mirrored" not in section         # the groups only; the notebook has every copy
