"""One ``save_figure`` helper and the plotting functions the notebooks share."""
from __future__ import annotations


import matplotlib.pyplot as plt
import numpy as np

from . import paths
from .lattice2d import CLASS_SHORT


def save_figure(fig, name: str, caption: str | None = None, dpi: int = 150):
    """Write ``figures/<name>.png`` and ``.pdf`` (fixed metadata, so reruns give the
    same PDF bytes); an optional caption goes to ``figures/<name>.txt``."""
    from .storage import write_text

    paths.ensure(paths.FIGURES)
    fig.savefig(paths.FIGURES / f"{name}.png", dpi=dpi, bbox_inches="tight",
                metadata={"Software": None})
    fig.savefig(paths.FIGURES / f"{name}.pdf", bbox_inches="tight",
                metadata={"CreationDate": None, "Producer": None, "Creator": None})
    if caption:
        write_text(paths.FIGURES / f"{name}.txt", caption.strip() + "\n")
    return paths.FIGURES / f"{name}.png"


def show_image(ax, image, px_scale: float, title: str | None = None, scalebar: float = 5.0):
    """A STEM image (row = y) in its physical orientation, with a scale bar in A."""
    ny, nx = np.asarray(image).shape
    ax.imshow(image, cmap="gray", origin="lower", interpolation="nearest")
    bar = scalebar / px_scale
    ax.plot([0.06 * nx, 0.06 * nx + bar], [0.06 * ny] * 2, color="yellow", lw=3)
    ax.text(0.06 * nx + bar / 2, 0.1 * ny, f"{scalebar:g} Å", color="yellow",
            ha="center", va="bottom", fontsize=7)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=8)


def lattice_histograms(axes, table, title: str, bins: int = 40):
    """Three panels: counts of a, b (A) and gamma (degrees)."""
    for ax, col, unit in zip(axes, ("a", "b", "gamma"), ("Å", "Å", "°")):
        ax.hist(table[col], bins=bins, color="tab:blue", alpha=0.85)
        ax.set_xlabel(f"{'γ' if col == 'gamma' else col} ({unit})")
        ax.set_ylabel("count")
        ax.set_title(f"{title}: {'γ' if col == 'gamma' else col}", fontsize=9)


def class_tick_labels():
    return [f"{i} {s}" for i, s in enumerate(CLASS_SHORT)]
