"""Notebook 08's measured scan distortion: frames rendered from atoms under a known distortion,
the distortion measured from grains, a reference frame and an orthogonal pair, and the lattice
after removing it; the table's rows and the panels it draws (onto matplotlib axes passed in)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..lattice import grains, scan_correction
from ..lattice.fft_lattice import LatticeEstimate
from ..lattice.lattice2d import CLASS_NAMES, reduced_cell
from ..lattice.scan_distortion import ScanDistortion, scan_factors
from ..simulate import hard_cases as hc

__all__ = ["Measured", "measure_all", "rows", "draw"]

GRAPHENE_CELL = (2.46, 2.46, 120.0)


@dataclass
class Measured:
    """One measurement: the frame, the material, the rendered and measured distortion, and the
    frame's answer (with its corrected lattice).

    Attributes:
        name: what was measured from what.
        image: the frame analysed (float [y, x]).
        pixel_size: Å per pixel.
        layer: the material.
        rendered: the 2 x 2 distortion the frame was rendered with.
        distortion: the measured ``ScanDistortion``.
        answer: the frame's answer, its ``corrected`` lattice filled.
        grain_map: the frame's grain map and its stride (px), for the figure.
    """
    name: str
    image: np.ndarray
    pixel_size: float
    layer: hc.Layer
    rendered: np.ndarray
    distortion: ScanDistortion
    answer: LatticeEstimate
    grain_map: tuple


def measure_all(size: int = 512) -> list[Measured]:
    """Every measurement of notebook 08's section 3, in order.

    Args:
        size: frame side (px).

    Returns:
        Measured: two and three grains; a graphene reference calibrating a MoS2 and a near-square
        rectangular frame (b/a = 1.02); an orthogonal pair.
    """
    out = []
    for rotations in ((3.0, 24.0), (3.0, 14.0, 40.0)):
        case = hc.distorted_grains(rotations, size=size)
        res = grains.analyse_image(case.image, case.pixel_size, name=case.name)
        if res.distortion is None:
            raise RuntimeError(f"{case.name}: no distortion measured ({res.distortion_note})")
        out.append(Measured(f"{len(rotations)} grains", case.image, case.pixel_size, hc.GRAPHENE, case.distortion,
                            res.distortion, res.answer, (res.grain_map, res.stride_px)))
    for sample in (hc.MOS2, hc.near_square(1.02)):
        ref, smp = hc.reference_and_sample(sample, size=size)
        dist, _ = scan_correction.calibrate(ref.image, ref.pixel_size, GRAPHENE_CELL, name="graphene reference")
        res = grains.with_distortion(grains.analyse_image(smp.image, smp.pixel_size), dist)
        out.append(Measured(f"graphene reference -> {sample.name}", smp.image, smp.pixel_size, sample,
                            smp.distortion, dist, res.answer, (res.grain_map, res.stride_px)))
    frame_0, frame_90 = hc.orthogonal_pair(size=size)
    pair = scan_correction.analyse_orthogonal_pair(frame_0.image, frame_90, frame_0.pixel_size)
    out.append(Measured("orthogonal pair", frame_0.image, frame_0.pixel_size, hc.MOS2, frame_0.distortion,
                        pair.distortion, pair.analysis.answer, (pair.analysis.grain_map, pair.analysis.stride_px)))
    return out


def rows(measured: list[Measured]) -> pd.DataFrame:
    """The table: per measurement, the rendered and measured slow-axis and shear changes (%), the
    strict class in the image, and the corrected lattice and class against the material's.

    Args:
        measured: ``measure_all``'s list.

    Returns:
        One row per measurement (lengths in Å, angles in degrees, changes in %).
    """
    out = []
    for m in measured:
        f = m.distortion.factors()
        # the factors read D D^T only: those of D's symmetric part, what a measurement can see
        fast, slow, shear = scan_factors(m.rendered)
        if m.distortion.source == "grains":
            # grains see the shape only: the rendered distortion with its fast axis taken as exact
            slow, shear = slow / fast, shear / fast
        a, b, gamma = reduced_cell(np.array(m.layer.a_vec), np.array(m.layer.b_vec))[:3]
        c = m.answer.corrected
        out.append({"measured from": m.name, "source": m.distortion.source,
                    "slow axis rendered (%)": round(100 * (slow - 1), 2),
                    "slow axis measured (%)": round(f["slow_axis_pct"], 2),
                    "± (%)": round(f["slow_axis_err_pct"], 2),
                    "shear rendered (%)": round(100 * shear, 2), "shear measured (%)": round(f["shear_pct"], 2),
                    "shear ± (%)": round(f["shear_err_pct"], 2),
                    "strict class in the image": m.answer.class_name,
                    "material": m.layer.name, "true a": round(a, 3), "corrected a": round(c["a"], 3),
                    "true b": round(b, 3), "corrected b": round(c["b"], 3),
                    "true γ": round(gamma, 2), "corrected γ": round(c["gamma"], 2),
                    "true class": CLASS_NAMES[m.layer.label], "corrected class": c["class_name"]})
    return pd.DataFrame(out)


def draw(axes, measured: list[Measured], show_grain_map) -> None:
    """One panel per measurement: the frame and its grains, titled with the strict and the
    corrected class.

    Args:
        axes: one matplotlib axes per measurement.
        measured: ``measure_all``'s list.
        show_grain_map: the project's grain-map drawer (``repro.plots.show_grain_map``).
    """
    for ax, m in zip(axes, measured):
        gmap, stride = m.grain_map
        c = m.answer.corrected
        show_grain_map(ax, m.image, m.pixel_size, gmap, stride,
                       f"{m.name}\nimage: {m.answer.class_name}\ncorrected: {c['class_name']}")
        ax.tick_params(labelsize=6)
        ax.title.set_fontsize(7)
