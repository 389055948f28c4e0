"""Notebook 08's functions: the analysed part of a large image, and Table S6's rows from stand-in
networks and estimates whose answers are known."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from lattice_utils.studies import experimental


def test_the_central_part_is_the_middle_square_and_a_small_image_stays_whole():
    image = np.arange(10 * 12).reshape(10, 12)
    part = experimental.central_part(image, 4)
    assert part.shape == (4, 4) and part[0, 0] == image[3, 4]
    assert experimental.central_part(image, None) is image
    assert experimental.central_part(image, 12) is image


def _estimate(a, reliable=True):
    return SimpleNamespace(a=a, b=a, gamma=90.0, a_err=0.01, b_err=0.01, gamma_err=0.1, class_name="square",
                           reliable=reliable, reason="" if reliable else "too few peaks")


class _Network:
    config = SimpleNamespace(input_px=16, epochs=3)

    def predict(self, inputs, rows):
        assert inputs.images.shape == (1, 16, 16)
        return np.array([[3.1, 3.2, 91.0]])


def test_table_s6_has_the_reference_each_network_both_estimates_and_the_missing_literature_images():
    image = SimpleNamespace(name="mine", meta={"material": "MoS2", "paper_image": "graphene_ref96",
                                               "reference": {"a": 3.16, "b": 3.16, "gamma": 120, "source": "ICSD"}})
    crop = (np.random.default_rng(0).random((32, 32)) * 255).astype(np.uint8)
    paper = pd.DataFrame({"image": ["graphene_ref96", "fete_tetragonal_ref95"]})
    table = experimental.table_s6([image], {"mine": crop}, {"jv2d": _Network()}, {"mine": _estimate(3.15)}, paper)
    assert list(table.columns) == experimental.TABLE_S6_COLUMNS
    assert list(table["row"]) == ["reference", "DenseNet121 (JV2D slot)", "FFT estimator, the image's answer",
                                  "FFT estimator, 25.6 Å crop", "not available"]
    assert table.iloc[1][["a", "b", "gamma"]].tolist() == [3.1, 3.2, 91.0]
    assert table.iloc[2]["a"] == 3.15 and "class square" in table.iloc[2]["detail"]
    missing = table.iloc[4]
    assert missing["image"] == "fete_tetragonal_ref95" and "CC BY" in missing["detail"]
