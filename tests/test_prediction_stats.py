"""What the kept per-image predictions give: accuracies, confusion matrices summed over seeds,
bootstrap intervals, McNemar, the seed ensemble and the symmetric-copy average, against
scikit-learn and scipy and on hand-made cases."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats
from sklearn.metrics import accuracy_score, confusion_matrix

from conftest import oriented_classifier
from lattice_utils.learn import training
from lattice_utils.repro import prediction_stats as ps
from lattice_utils.repro import verdicts

bad_input = pytest.mark.bad_input


def _predictions(seed=0, n=60, models=("densenet121", "googlenet"), seeds=(0, 1, 2)):
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 5, n)
    rows = []
    for m_i, model in enumerate(models):
        for s in seeds:
            logits = rng.normal(size=(n, 5))
            logits[np.arange(n), truth] += 1.5 + 0.5 * m_i
            p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
            rows.append(pd.DataFrame({"model": model, "seed": s, "id": [f"img{i:03d}" for i in range(n)],
                                      "true": truth, "predicted": p.argmax(axis=1),
                                      **{f"p{k}": p[:, k] for k in range(5)}}))
    return pd.concat(rows, ignore_index=True)


def test_accuracies_per_training_agree_with_scikit_learn():
    preds = _predictions()
    acc = ps.accuracy_per_run(preds)
    assert len(acc) == 6 and (acc["n"] == 60).all()
    for r in acc.itertuples():
        sub = preds[(preds["model"] == r.model) & (preds["seed"] == r.seed)]
        assert r.accuracy_pct == pytest.approx(100 * accuracy_score(sub["true"], sub["predicted"]))


def test_the_confusion_matrix_over_seeds_is_the_sum_of_scikit_learns_per_seed():
    preds = _predictions()
    counts = ps.confusion_over_seeds(preds, "googlenet")
    expect = sum(confusion_matrix(g["true"], g["predicted"], labels=range(5))
                 for _, g in preds[preds["model"] == "googlenet"].groupby("seed"))
    assert (counts == expect).all() and counts.sum() == 3 * 60
    # each row sums to seeds x that class's test images, so the normalised diagonal is the recall
    truth = preds[(preds["model"] == "googlenet") & (preds["seed"] == 0)]["true"]
    assert (counts.sum(axis=1) == 3 * np.bincount(truth, minlength=5)).all()
    norm = ps.row_normalised(counts)
    assert np.allclose(norm.sum(axis=1), 1.0)


def test_a_class_without_test_images_is_a_row_of_nan_not_of_zeros():
    norm = ps.row_normalised(np.array([[3, 1], [0, 0]]))
    assert norm[0].tolist() == [0.75, 0.25] and np.isnan(norm[1]).all()


@pytest.mark.parametrize("b, c", [(0, 0), (10, 0), (3, 7), (12, 12), (1, 30)])
def test_mcnemars_exact_p_value_is_scipys_binomial_test(b, c):
    a = np.array([True] * b + [False] * c + [True] * 20 + [False] * 5)
    other = np.array([False] * b + [True] * c + [True] * 20 + [False] * 5)
    out = ps.mcnemar_exact(a, other)
    assert (out["only_a"], out["only_b"]) == (b, c)
    expect = 1.0 if b + c == 0 else stats.binomtest(min(b, c), b + c, 0.5).pvalue
    assert out["p_value"] == pytest.approx(expect, rel=1e-9)


def test_mcnemar_by_hand():
    # 10 images only A got right, none only B: p = 2 / 2^10
    out = ps.mcnemar_exact([1] * 10 + [0] * 3, [0] * 10 + [0] * 3)
    assert out["p_value"] == pytest.approx(2 / 1024)


def test_paired_tests_per_seed_pair_the_same_images():
    preds = _predictions()
    # shuffle one network's rows: the pairing is by image id, not by row order
    preds = pd.concat([preds[preds["model"] == "densenet121"],
                       preds[preds["model"] == "googlenet"].sample(frac=1.0, random_state=1)])
    table = ps.paired_tests(preds, "densenet121", "googlenet")
    assert list(table["seed"]) == [0, 1, 2] and (table["n"] == 60).all()
    for r in table.to_dict("records"):
        a = preds[(preds["model"] == "densenet121") & (preds["seed"] == r["seed"])].set_index("id")
        b = preds[(preds["model"] == "googlenet") & (preds["seed"] == r["seed"])].set_index("id").loc[a.index]
        ok_a, ok_b = a["true"] == a["predicted"], b["true"] == b["predicted"]
        assert r["only densenet121"] == int((ok_a & ~ok_b).sum()) and r["only googlenet"] == int((~ok_a & ok_b).sum())
        assert r["densenet121 accuracy %"] == pytest.approx(100 * ok_a.mean())


def test_the_bootstrap_interval_holds_the_mean_and_matches_the_binomial_spread():
    preds = _predictions(n=400, seeds=(0,))
    out = ps.bootstrap_accuracy(preds, "densenet121", n_boot=4000, seed=0)
    acc = ps.accuracy_per_run(preds).query("model == 'densenet121'")["accuracy_pct"].iloc[0]
    assert out["accuracy_pct"] == pytest.approx(acc) and out["low"] < acc < out["high"]
    # one seed: the percentile interval is close to the normal one of a binomial rate
    p = acc / 100
    half = 1.96 * 100 * np.sqrt(p * (1 - p) / 400)
    assert (out["high"] - out["low"]) / 2 == pytest.approx(half, rel=0.1)
    assert ps.bootstrap_accuracy(preds, "densenet121", n_boot=4000, seed=0) == out      # seeded
    perfect = preds.assign(predicted=preds["true"])
    hit = ps.bootstrap_accuracy(perfect, "densenet121", n_boot=200)
    assert hit["low"] == hit["high"] == hit["accuracy_pct"] == 100.0


def test_the_seed_ensemble_averages_probabilities_not_votes():
    # two seeds vote class 0 weakly, one votes class 1 strongly: the mean probability picks 1
    p = {0: [0.45, 0.40, 0.05, 0.05, 0.05], 1: [0.45, 0.40, 0.05, 0.05, 0.05], 2: [0.0, 0.96, 0.02, 0.01, 0.01]}
    preds = pd.DataFrame([{"model": "m", "seed": s, "id": "x", "true": 1, "predicted": int(np.argmax(v)),
                           **{f"p{k}": v[k] for k in range(5)}} for s, v in p.items()])
    out = ps.seed_ensemble(preds, "m")
    assert out[["id", "true", "predicted", "seeds"]].values.tolist() == [["x", 1, 1, 3]]


def test_one_classifiers_accuracy_carries_its_clopper_pearson_interval():
    out = ps.single_accuracy([0, 1, 2, 3, 4, 0, 1], [0, 1, 2, 3, 0, 0, 0])
    lo, hi = verdicts.clopper_pearson(5, 7)
    assert (out["n"], out["correct"]) == (7, 5)
    assert out["low"] == pytest.approx(100 * lo) and out["high"] == pytest.approx(100 * hi)


@bad_input
def test_predictions_that_cannot_be_summed_are_refused_by_name():
    preds = _predictions(n=10)
    with pytest.raises(ValueError, match="img000 is predicted twice by densenet121 seed 0"):
        ps.accuracy_per_run(pd.concat([preds, preds.iloc[:1]]))
    with pytest.raises(ValueError, match=r"lack the column\(s\) \['predicted'\]"):
        ps.confusion_over_seeds(preds.drop(columns="predicted"), "densenet121")
    with pytest.raises(ValueError, match="no predictions of 'resnet'"):
        ps.confusion_over_seeds(preds, "resnet")
    uneven = preds.drop(index=preds[(preds["model"] == "densenet121") & (preds["seed"] == 1)].index[:2])
    with pytest.raises(ValueError, match="did not predict the same test images"):
        ps.bootstrap_accuracy(uneven, "densenet121")
    with pytest.raises(ValueError, match="same images"):
        ps.mcnemar_exact([1, 0, 1], [1, 0])
    with pytest.raises(ValueError, match="no class probabilities of 'mlp'"):
        ps.seed_ensemble(preds[preds["model"] == "densenet121"]
                         .assign(model="mlp", **{f"p{k}": np.nan for k in range(5)}), "mlp")


# ------------------------------------------------------------------ the eight symmetric copies

def test_the_eight_copies_are_the_symmetries_of_the_square():
    x = torch.arange(16, dtype=torch.float32).view(1, 1, 4, 4)
    copies = [c for c in training.dihedral_copies(x)]
    keys = {tuple(c.flatten().tolist()) for c in copies}
    assert len(copies) == 8 and len(keys) == 8             # an asymmetric image has eight distinct copies
    for c in copies:                                         # a group: the copies of a copy are the same eight
        assert {tuple(d.flatten().tolist()) for d in training.dihedral_copies(c)} == keys
    with pytest.raises(ValueError, match="square"):
        next(training.dihedral_copies(torch.zeros(1, 1, 4, 6)))


def test_the_symmetric_average_does_not_change_when_the_image_is_rotated_or_mirrored():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(3, 8, 8), dtype=np.uint8)
    turned = np.stack([np.rot90(images, 1, axes=(1, 2)), images[:, :, ::-1]])
    cfg = training.TrainConfig("classify", "small_cnn", ("label",), "k", input_px=8, channels_last=False)
    model = training.TrainedModel(cfg, oriented_classifier(), [], None, None, None, {})

    def probs(imgs):
        return model.symmetric_probabilities(training.Inputs(np.ascontiguousarray(imgs), "k", 8), np.arange(len(imgs)))

    base = probs(images)
    assert np.allclose(base.sum(axis=1), 1.0)
    for t in turned:
        assert np.allclose(probs(t), base, atol=1e-6)
    # the plain prediction does depend on the orientation: the average is what removed it
    plain = model.predict(training.Inputs(images, "k", 8), np.arange(3))
    plain_turned = model.predict(training.Inputs(np.ascontiguousarray(turned[0]), "k", 8), np.arange(3))
    assert not np.allclose(plain, plain_turned)
    regressor = training.TrainedModel(dataclasses_replace(cfg, task="regress", targets=("a",)), oriented_classifier(),
                                      [], np.zeros(1), np.ones(1), None, {})
    with pytest.raises(ValueError, match="a rotation by 90° swaps a and b"):
        regressor.symmetric_probabilities(training.Inputs(images, "k", 8), np.arange(3))


def test_the_copies_probabilities_are_the_terms_of_the_symmetric_average():
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, size=(5, 8, 8), dtype=np.uint8)
    cfg = training.TrainConfig("classify", "small_cnn", ("label",), "k", input_px=8, channels_last=False)
    model = training.TrainedModel(cfg, oriented_classifier(), [], None, None, None, {})
    inputs, rows = training.Inputs(images, "k", 8), np.array([4, 0, 2])
    per_copy = model.copy_probabilities(inputs, rows, batch_size=2)
    assert per_copy.shape == (8, 3, 5) and np.allclose(per_copy.sum(axis=2), 1.0)
    # the same float32 sum in the same order: the average's bytes, not only its value
    total = per_copy[0].astype(np.float32)
    for p in per_copy[1:]:
        total = total + p.astype(np.float32)
    assert np.array_equal((total / np.float32(8.0)).astype(np.float64), model.symmetric_probabilities(inputs, rows, 2))
    # copy k is the network on the k-th image of dihedral_copies, as DIHEDRAL_COPIES names it
    x = training.to_network_input(images[rows], False)
    for k, (copy, (degrees, mirrored)) in enumerate(zip(training.dihedral_copies(x), training.DIHEDRAL_COPIES)):
        expect = torch.rot90(x, degrees // 90, dims=(2, 3))
        expect = torch.flip(expect, dims=(3,)) if mirrored else expect
        assert torch.equal(copy, expect)
        assert np.allclose(per_copy[k], torch.softmax(oriented_classifier()(copy), dim=1).detach().numpy(), atol=1e-6)
    assert model.copy_probabilities(inputs, np.array([], dtype=int)).shape == (8, 0, 5)


def dataclasses_replace(cfg, **kw):
    import dataclasses

    return dataclasses.replace(cfg, **kw)


def test_the_improvements_table_against_scipy_and_scikit_learn():
    preds = _predictions()
    # the symmetric-copy averages: the same networks with their probabilities nudged toward the truth
    sym = preds.copy()
    cols = [f"p{k}" for k in range(5)]
    probs = sym[cols].to_numpy().copy()
    probs[np.arange(len(sym)), sym["true"].to_numpy()] += 0.15
    sym[cols] = probs / probs.sum(axis=1, keepdims=True)
    sym["predicted"] = sym[cols].to_numpy().argmax(axis=1)
    table = ps.improvements(preds, sym, "googlenet").set_index("way")
    g = preds[preds["model"] == "googlenet"]
    per_seed = np.array([100 * accuracy_score(d["true"], d["predicted"]) for _, d in g.groupby("seed")])
    plain = table.loc["as trained (the paper's recipe)"]
    half = stats.t.ppf(0.975, 2) * per_seed.std(ddof=1) / np.sqrt(3)
    assert plain["accuracy_pct"] == pytest.approx(per_seed.mean())
    assert (plain["low"], plain["high"]) == pytest.approx((per_seed.mean() - half, min(per_seed.mean() + half, 100)))
    assert plain["seeds"] == 3 and plain["n"] == 60
    gs = sym[sym["model"] == "googlenet"]
    averaged = np.array([100 * accuracy_score(d["true"], d["predicted"]) for _, d in gs.groupby("seed")])
    assert table.loc["eight symmetric copies averaged", "gain_points"] == pytest.approx((averaged - per_seed).mean())
    # the ensemble: the class of the highest probability averaged over the seeds, image by image
    mean = g.groupby("id")[cols].mean()
    truth = g.groupby("id")["true"].first().loc[mean.index]
    ens = table.loc["ensemble of the seeds"]
    assert ens["accuracy_pct"] == pytest.approx(100 * accuracy_score(truth, mean.to_numpy().argmax(axis=1)))
    assert ens["interval"] == "one classifier, Clopper-Pearson" and ens["low"] <= ens["accuracy_pct"] <= ens["high"]
    assert "ensemble of the seeds, eight copies averaged" in table.index
    # without the symmetric averages their rows are left out; a model without predictions is named
    assert list(ps.improvements(preds, pd.DataFrame(), "googlenet")["way"]) == [
        "as trained (the paper's recipe)", "ensemble of the seeds"]
    with pytest.raises(ValueError, match="no test predictions of 'mlp'"):
        ps.improvements(preds, sym, "mlp")


def _per_copy(hits):
    """A per-copy table where seed s gets the first hits[s][copy] of 10 images right on each copy."""
    rows = []
    for seed, per_copy_hits in enumerate(hits):
        for copy, (degrees, mirrored) in enumerate(training.DIHEDRAL_COPIES):
            for i in range(10):
                rows.append({"model": "densenet121", "seed": seed, "id": f"{i:04d}", "true": 1, "copy": copy,
                             "rotation_deg": degrees, "mirrored": mirrored,
                             "predicted": 1 if i < per_copy_hits[copy] else 2})
    return pd.DataFrame(rows)


def test_copy_accuracy_against_a_hand_count_and_scipy():
    # copies in DIHEDRAL_COPIES' order: 0°, 0° mirrored, 90°, 90° m, 180°, 180° m, 270°, 270° m
    hits = [[9, 9, 5, 6, 8, 9, 5, 4], [10, 8, 6, 6, 9, 9, 4, 5], [8, 9, 7, 5, 9, 8, 6, 5]]
    table = ps.copy_accuracy(_per_copy(hits), "densenet121").set_index("copies")
    assert len(table) == 11 and (table["n"] == 10).all() and (table["seeds"] == 3).all()
    assert table.loc["copy 2: rotated 90°", "accuracy_pct"] == pytest.approx(100 * (5 + 6 + 7) / 30)
    assert table.loc["copy 7: rotated 270°, mirrored", "accuracy_pct"] == pytest.approx(100 * (4 + 5 + 5) / 30)
    kept = np.array([np.mean([h[0], h[1], h[4], h[5]]) * 10 for h in hits])
    turned = np.array([np.mean([h[2], h[3], h[6], h[7]]) * 10 for h in hits])
    diff = turned - kept
    row = table.loc["turned minus kept (points)"]
    half = stats.t.ppf(0.975, 2) * diff.std(ddof=1) / np.sqrt(3)
    assert row["accuracy_pct"] == pytest.approx(diff.mean())
    assert (row["low"], row["high"]) == pytest.approx((diff.mean() - half, diff.mean() + half))
    assert table.loc["rotated 0 or 180° (orientation kept)", "accuracy_pct"] == pytest.approx(kept.mean())
    assert table.loc["rotated 90 or 270° (turned)", "high"] <= 100.0
    # one true class: only its images count (here images 0-4 are class 0, 5-9 class 3)
    mixed = _per_copy(hits)
    mixed.loc[mixed["id"] >= "0005", "true"] = 3
    mixed.loc[(mixed["id"] >= "0005") & (mixed["predicted"] == 1), "predicted"] = 3
    mixed.loc[mixed["id"] < "0005", "true"] = 0
    mixed.loc[(mixed["id"] < "0005") & (mixed["predicted"] == 1), "predicted"] = 0
    only = ps.copy_accuracy(mixed, "densenet121", true_class=3).set_index("copies")
    # seed s gets images 5..hits-1 right on a copy: max(hits - 5, 0) of 5
    expect = np.mean([max(h[2] - 5, 0) / 5 for h in hits]) * 100
    assert only.loc["copy 2: rotated 90°", "accuracy_pct"] == pytest.approx(expect) and (only["n"] == 5).all()


def test_copy_accuracy_refuses_what_it_cannot_score():
    table = _per_copy([[9] * 8, [8] * 8])
    with pytest.raises(ValueError, match="lack the column"):
        ps.copy_accuracy(table.drop(columns="rotation_deg"), "densenet121")
    with pytest.raises(ValueError, match="no per-copy predictions of 'googlenet'"):
        ps.copy_accuracy(table, "googlenet")
    with pytest.raises(ValueError, match="predicted twice"):
        ps.copy_accuracy(pd.concat([table, table.iloc[:1]]), "densenet121")
    with pytest.raises(ValueError, match="seed 1 lacks a copy of some image"):
        ps.copy_accuracy(table[~((table["seed"] == 1) & (table["copy"] == 7))], "densenet121")
    with pytest.raises(ValueError, match="seed 1 lacks a copy of some image"):      # one image, one copy
        ps.copy_accuracy(table[~((table["seed"] == 1) & (table["copy"] == 7) & (table["id"] == "0003"))],
                         "densenet121")
    with pytest.raises(ValueError, match="scored different test images"):
        ps.copy_accuracy(table[~((table["seed"] == 1) & (table["id"] == "0003"))], "densenet121")
    with pytest.raises(ValueError, match="no test image of class 4"):
        ps.copy_accuracy(table, "densenet121", true_class=4)
    one_seed = ps.copy_accuracy(table[table["seed"] == 0], "densenet121")
    assert one_seed["low"].isna().all() and (one_seed["seeds"] == 1).all()



def test_copy_disagreements_on_known_probabilities():
    # kept copies: 0.9 on the true class; turned copies of the first `wrong[seed]` images: 0.5 on another
    wrong, rows = [2, 1, 2], []
    for seed, w in enumerate(wrong):
        for i in range(4):
            for copy, (degrees, mirrored) in enumerate(training.DIHEDRAL_COPIES):
                turned_wrong = degrees % 180 != 0 and i < w
                p = np.full(5, 0.125 if turned_wrong else 0.025)
                p[2 if turned_wrong else 1] = 0.5 if turned_wrong else 0.9
                rows.append({"model": "googlenet", "seed": seed, "id": f"{i}", "true": 1, "copy": copy,
                             "rotation_deg": degrees, "mirrored": mirrored, "predicted": int(p.argmax()),
                             **{f"p{k}": p[k] for k in range(5)}})
    table = ps.copy_disagreements(pd.DataFrame(rows), "googlenet").set_index("quantity")["value"]
    assert table.iloc[0] == pytest.approx(5 / 3)                  # images whose two sides disagree
    assert table.iloc[1] == pytest.approx(100.0)                   # 0.9 + 0.125 beats 0.025 + 0.5: the kept side
    assert table.iloc[2] == pytest.approx(90.0)
    assert table.iloc[3] == pytest.approx(np.mean([70.0, 80.0, 70.0]))
    with pytest.raises(ValueError, match="keep no class probabilities"):
        ps.copy_disagreements(pd.DataFrame(rows).drop(columns="p4"), "googlenet")
