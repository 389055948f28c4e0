"""Notebook 08 as functions: the part of a real image that is analysed, and Table S6 (lattice
parameters of real images by the reference, the three networks and the FFT estimator), with the
paper's literature images that this repository cannot hold named with their sources and licences."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..core.profiles import DATASET_TITLES, STEM_PX_SCALE
from ..lattice import fft_lattice
from ..data.datasets import resize_images
from ..learn import training

__all__ = ["FIGURE_S7_LICENCES", "TABLE_S6_COLUMNS", "central_part", "table_s6"]

# where each of the paper's four literature images comes from and what its licence allows (the caption
# of Chakrabarty et al., Fig. S7); none is in this repository
FIGURE_S7_LICENCES = {
    "graphene_ref96": "Graphene, Ref. 96 (Science and Industry Museum web page; image credit Sarah Haigh, University "
                      "of Manchester, and Quentin Ramasse, SuperSTEM): no open licence stated, not redistributable.",
    "graphene_ref97": "Graphene, Ref. 97 (Shin et al., Nat. Commun. 6, 6068, 2015), adapted with permission, "
                      "copyright Springer Nature: not redistributable.",
    "fete_tetragonal_ref95": "Tetragonal FeTe, Ref. 95 (Kang et al., Nat. Commun. 11, 3729, 2020), published under "
                             "CC BY: may be reused with attribution, but no copy reaches this machine.",
    "fete_hexagonal_ref95": "Hexagonal FeTe, Ref. 95 (Kang et al., Nat. Commun. 11, 3729, 2020), published under "
                            "CC BY: may be reused with attribution, but no copy reaches this machine.",
}
TABLE_S6_COLUMNS = ["image", "material", "row", "a", "b", "gamma", "detail"]


def central_part(image: np.ndarray, max_px: int | None) -> np.ndarray:
    """The central ``max_px`` x ``max_px`` pixels of an image (all of it when smaller or ``max_px`` is None).

    Args:
        image: the image, [H, W].
        max_px: the largest side analysed (pixels), or None for the whole image.

    Returns:
        A view of the central square of side ``max_px`` (or of the whole image).
    """
    if max_px is None or max(image.shape) <= max_px:
        return image
    y0, x0 = (image.shape[0] - max_px) // 2, (image.shape[1] - max_px) // 2
    return image[max(y0, 0):max(y0, 0) + max_px, max(x0, 0):max(x0, 0) + max_px]


def _estimate_detail(est) -> str:
    return (f"± {est.a_err:.3f} / {est.b_err:.3f} Å, ± {est.gamma_err:.2f}°; class {est.class_name}"
            + ("" if est.reliable else f"; unreliable: {est.reason}"))


def table_s6(images, crops: dict, models: dict, answers: dict, paper: pd.DataFrame) -> pd.DataFrame:
    """Table S6 for the real images at hand: per image its reference, each network and the FFT estimator.

    Args:
        images: the real images (``real_images.ExperimentalImage``), with their sidecar metadata
            (``material``, ``reference`` a, b in Å and gamma in degrees, ``paper_image``).
        crops: image name -> the 25.6 Å crop fed to the networks (uint8 [px, px] at the training
            images' pixel size, ``predict.prepare_for_model(...).image``).
        models: dataset slot -> the trained DenseNet121 regressor (``training.TrainedModel``).
        answers: image name -> the FFT estimator's answer on the whole image
            (``grains.analyse_image(...).answer``).
        paper: the paper's Table S6 (``report.paper_values("table_s6")``); each of its images not
            placed here gets a row saying where it comes from and what its licence allows.

    Returns:
        Columns ``TABLE_S6_COLUMNS``: a, b (Å) and gamma (degrees) rounded to 3 decimals.
    """
    rows = []
    for im in images:
        material = im.meta.get("material", "")
        ref = im.meta.get("reference", {})
        rows.append({"image": im.name, "material": material, "row": "reference",
                     "a": ref.get("a"), "b": ref.get("b"), "gamma": ref.get("gamma"), "detail": ref.get("source", "")})
        crop = crops[im.name]
        for slot, model in models.items():
            inputs = training.Inputs(resize_images(crop[None], model.config.input_px), "exp",
                                     model.config.input_px)
            a, b, g = model.predict(inputs, [0])[0]
            rows.append({"image": im.name, "material": material, "row": f"DenseNet121 ({DATASET_TITLES[slot]} slot)",
                         "a": a, "b": b, "gamma": g,
                         "detail": f"input {model.config.input_px} px, {model.config.epochs} epochs"})
        crop_estimate = fft_lattice.estimate_lattice(crop.astype(float), STEM_PX_SCALE)
        for label, est in (("FFT estimator, the image's answer", answers[im.name]),
                           ("FFT estimator, 25.6 Å crop", crop_estimate)):
            rows.append({"image": im.name, "material": material, "row": label, "a": est.a, "b": est.b,
                         "gamma": est.gamma, "detail": _estimate_detail(est)})
    ours = pd.DataFrame(rows)
    placed = {im.meta.get("paper_image") for im in images}
    for img_id in paper["image"].unique():
        if img_id not in placed:
            ours = pd.concat([ours, pd.DataFrame([{"image": img_id, "material": "", "row": "not available",
                                                   "detail": f"{FIGURE_S7_LICENCES[img_id]} Place it in "
                                                             "data/experimental/ with its pixel size and "
                                                             f"paper_image = {img_id} in its sidecar"}])],
                             ignore_index=True)
    s6 = ours[TABLE_S6_COLUMNS]
    return s6.assign(**{c: pd.to_numeric(s6[c], errors="coerce").round(3) for c in ("a", "b", "gamma")})
