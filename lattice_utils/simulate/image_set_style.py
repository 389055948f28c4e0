"""Structures rendered the way AtomVision made the paper's STEM image sets, so that a network
trained on this repository's own structures can be scored on the paper's images.

AtomVision's generation script for STEM-JV2D (atomvision/data/classification/stem_jv2d/
generate_data.py) keeps the atoms within 10 Å of the centre of a 30 Å square supercell, simulates
it with jarvis-tools' ``STEMConv`` at 200 x 200 px (0.15 Å/px; Z^1.4; probe: Gaussian of 0.5 Å
plus half a Lorentzian of 0.5 Å FWHM), shows the central 100 x 100 px (a 15 Å field) with
``imshow(..., interpolation="gaussian", cmap="gray")`` in a default 640 x 480 px matplotlib figure
without axes, and saves it as a JPEG (quality 95, as the files' quantisation tables say). The
displayed array is STEMConv's own [x, y] order. No rotation, shift or noise is applied.

``IMAGE_SET_STEM`` and ``figure_jpeg`` reproduce that here; ``image_sets.decode_member`` then
crops and stores the result exactly as it does the set's own files. Checked on graphene and MoS2
(JVASP-667, JVASP-664): within about 2 grey levels (of 255) RMS of the set's images.
"""
from __future__ import annotations

import io

import numpy as np

from .stem import StemParams, simulate_stem_image

__all__ = ["IMAGE_SET_STEM", "FIELD_A", "JPEG_QUALITY", "figure_jpeg", "render_like_image_set"]

# eps must reach the probe's 2 Å radius, or the field's edges miss their neighbours' intensity
IMAGE_SET_STEM = StemParams(image_px=100, px_scale=0.15, power_factor=1.4, gaussian_width=0.5,
                            lorentzian_width=0.5, intensity_ratio=0.5, eps=2.0)
FIELD_A = IMAGE_SET_STEM.image_px * IMAGE_SET_STEM.px_scale       # 15 Å
JPEG_QUALITY = 95


def figure_jpeg(shown: np.ndarray, quality: int = JPEG_QUALITY) -> bytes:
    """The JPEG bytes of ``shown`` drawn as AtomVision drew its images: a default 6.4 x 4.8 inch
    figure at 100 dpi, ``imshow`` with Gaussian interpolation in grey, tight layout, no axes.

    Args:
        shown: the 2D array as displayed (rows down, columns across).
        quality: JPEG quality.

    Returns:
        The file's bytes.
    """
    # matplotlib only here: the rest of the simulation floor does not need it
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 4.8), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.imshow(np.asarray(shown, dtype=float), interpolation="gaussian", cmap="gray")
    fig.tight_layout()
    ax.axis("off")
    buf = io.BytesIO()
    fig.savefig(buf, format="jpg", pil_kwargs={"quality": int(quality)})
    return buf.getvalue()


def render_like_image_set(atoms, name: str = "") -> bytes:
    """A structure as one of the STEM image sets' JPEG files.

    The layer's own cell is tiled by ``simulate_stem_image`` (the same field and probe as the set's
    30 Å supercell crop, whose central 15 Å are shown), not cut from a 30 Å supercell first.

    Args:
        atoms: the oriented layer (jarvis ``Atoms``, a x b along z; ``lattice2d.orient_layer``).
        name: the structure's name, for the error messages.

    Returns:
        The JPEG bytes (read them with ``image_sets.decode_member``).

    Raises:
        StemInputError: naming ``name``, for a structure the simulation refuses.
    """
    image = simulate_stem_image(atoms, IMAGE_SET_STEM, name=name)     # [y, x]
    return figure_jpeg(image.T)
