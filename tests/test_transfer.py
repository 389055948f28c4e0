"""The transfer benchmark's pieces: structures drawn like the paper's image set into a store, and
the scores (accuracy, per-class recall, confusion) against hand counts and scikit-learn."""
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import confusion_matrix, recall_score

from lattice_utils.data import image_sets
from lattice_utils.data.structures import normalise_record
from lattice_utils.lattice.fft_lattice import estimate_lattice
from lattice_utils.studies import transfer


@pytest.mark.slow
def test_a_styled_store_holds_the_structures_as_the_set_shows_them(scratch_dirs, graphene, mos2, fese):
    recs = [normalise_record(name, rec, "test") for name, rec in
            (("graphene", graphene), ("mos2", mos2), ("fese", fese))]
    table = pd.DataFrame({"id": [r["id"] for r in recs], "atoms": [r["atoms"] for r in recs]})
    store = image_sets.build_styled_store("jv2d", table, chunk_size=2, verbose=False)
    assert len(store) == 3 and not store.failed
    assert store[0].shape == (image_sets.IMAGE_PX, image_sets.IMAGE_PX) and store[0].dtype == np.uint8
    px = store.params.px_scale
    assert px == pytest.approx(15.0 / image_sets.IMAGE_PX)
    for i, (a, label) in enumerate(((2.46, 0), (3.16, 0), (3.77 / np.sqrt(2), 1))):
        est = estimate_lattice(store[i].astype(float), px)
        assert est.label == label and est.a == pytest.approx(a, rel=0.01), est.summary()
    # the same table is the same store; other elements on the same cell are another
    assert image_sets.build_styled_store("jv2d", table, chunk_size=2, verbose=False).root == store.root
    other = table.copy()
    other.at[0, "atoms"] = {**table.at[0, "atoms"], "elements": ["B", "N"]}
    assert image_sets.build_styled_store("jv2d", other.iloc[:1], chunk_size=2, verbose=False).root != \
        image_sets.build_styled_store("jv2d", table.iloc[:1], chunk_size=2, verbose=False).root


def test_transfer_scores_match_hand_counts_and_scikit_learn():
    truth = np.array([0, 0, 0, 1, 1, 2, 3, 4, 4, 4])
    pred = np.array([0, 0, 1, 1, -1, 2, 0, 4, 4, 3])
    table = transfer.transfer_rows(truth, {"m": pred}).iloc[0]
    assert table["accuracy"] == pytest.approx(6 / 10)
    recalls = recall_score(truth, np.where(pred < 0, 9, pred), labels=[0, 1, 2, 3, 4], average=None,
                           zero_division=0)
    assert [table[f"recall_{s}"] for s in ("hp", "tp", "op", "oc", "mp")] == pytest.approx(recalls)
    cm = transfer.confusions(truth, {"m": pred})["m"]
    assert cm.shape == (5, 6) and cm[1, 5] == 1 and cm.sum() == 10
    assert np.array_equal(cm[:, :5], confusion_matrix(truth, pred, labels=[0, 1, 2, 3, 4]))
    assert np.isnan(transfer.transfer_rows(np.array([0, 0]), {"m": np.array([0, 1])}).iloc[0]["recall_tp"])
