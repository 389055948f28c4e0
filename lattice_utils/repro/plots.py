"""One ``save_figure`` helper and the plotting functions the notebooks share."""
from __future__ import annotations

import io
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from PIL import Image

from ..core import paths
from ..core.storage import write_text
from ..lattice import fft_lattice
from . import verdicts

__all__ = ["NOTEBOOK_FIGURE_PX", "light_png_bytes", "show_in_notebook", "save_figure", "show_image",
           "image_and_spectrum", "lattice_histograms", "parity_plots", "matrix_plot",
           "error_histograms", "loss_curves", "show_grain_map", "grains_title", "grain_map_figure", "seed_spread",
           "training_curves", "accuracy_beside_references"]

NOTEBOOK_FIGURE_PX = 900      # longest side of the copy of a figure an executed notebook shows (px)


def light_png_bytes(src: Path, max_px: int) -> bytes:
    """A light copy of a figure: at most ``max_px`` on its longest side, 256 colours (plots and
    greyscale images lose nothing a reader sees), deterministic bytes.

    Args:
        src: the figure's PNG.
        max_px: the longest side of the copy (px).

    Returns:
        The copy's PNG bytes.
    """
    with Image.open(src) as im:
        im = im.convert("RGB")
        im.thumbnail((max_px, max_px), Image.LANCZOS)
        light = im.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    png = io.BytesIO()
    light.save(png, format="PNG", optimize=True)
    return png.getvalue()


def show_in_notebook(png: Path, max_px: int = NOTEBOOK_FIGURE_PX) -> bool:
    """Show a saved figure in the notebook being executed, so that its executed copy (``reports/executed/``,
    published under ``docs/notebooks/``) carries the figure a reader would see.

    Only under a non-interactive backend (``./run_all.sh`` sets Agg): an interactive one (JupyterLab's
    inline backend) shows the figure itself, and the copy would show it twice.

    Args:
        png: the figure's PNG.
        max_px: the longest side of the copy shown (px).

    Returns:
        Whether the figure was shown (False outside a Jupyter kernel or under an interactive backend).
    """
    if matplotlib.get_backend().lower() != "agg":
        return False
    # IPython only where a kernel runs the code: the package imports without it
    try:
        from IPython import get_ipython
        from IPython.display import Image as ShownImage
        from IPython.display import display
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None or type(shell).__name__ != "ZMQInteractiveShell":
        return False
    display(ShownImage(data=light_png_bytes(png, max_px), format="png"))
    return True


def save_figure(fig, name: str, caption: str | None = None, dpi: int = 150, tight_layout: bool = True):
    """Write ``figures/<name>.png`` and ``.pdf`` (fixed metadata, so reruns give the
    same PDF bytes); an optional caption goes to ``figures/<name>.txt``. The layout is
    tightened first unless the figure lays itself out (``constrained_layout``). In a notebook that
    ``./run_all.sh`` executes, a light copy is shown in the cell's output (``show_in_notebook``).

    Args:
        fig: the matplotlib figure.
        name: the file name without extension.
        caption: the caption text; None or "" writes no caption file.
        dpi: the PNG's resolution (dots per inch; the PDF is vector).
        tight_layout: tighten the layout first.

    Returns:
        The path of the PNG, ``figures/<name>.png``.
    """
    if tight_layout and not fig.get_constrained_layout():
        fig.tight_layout()
    paths.ensure(paths.FIGURES)
    fig.savefig(paths.FIGURES / f"{name}.png", dpi=dpi, bbox_inches="tight",
                metadata={"Software": None})
    fig.savefig(paths.FIGURES / f"{name}.pdf", bbox_inches="tight",
                metadata={"CreationDate": None, "Producer": None, "Creator": None})
    if caption:
        write_text(paths.FIGURES / f"{name}.txt", caption.strip() + "\n")
    show_in_notebook(paths.FIGURES / f"{name}.png")
    return paths.FIGURES / f"{name}.png"


def show_image(ax, image, px_scale: float, title: str | None = None, scalebar: float = 5.0):
    """A STEM image (row = y) in its physical orientation, with a scale bar of ``scalebar`` Å.

    Args:
        ax: the matplotlib axes.
        image: the image, [H, W] (row 0 at the bottom), drawn in grey on its own value range.
        px_scale: the pixel size, Å per pixel.
        title: the panel's title; None for none.
        scalebar: the scale bar's length, Å.
    """
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


def image_and_spectrum(ax_image, ax_spectrum, image, px_scale: float, title: str, spectrum_title: str):
    """An image above its power spectrum: the central half of the spectrum (up to a quarter of the
    sampling frequency, 1 / (4 px_scale) in 1/Å), log10, arbitrary units.

    Args:
        ax_image: the axes of the image.
        ax_spectrum: the axes of its spectrum.
        image: the image, [H, W] (any numeric type; the spectrum is taken in float).
        px_scale: its pixel size (Å per pixel), for the scale bar.
        title: the image's title.
        spectrum_title: the spectrum's title.
    """
    show_image(ax_image, image, px_scale, title)
    spec, n = fft_lattice.power_spectrum(image.astype(float))
    ax_spectrum.imshow(np.log10(spec[n // 4: 3 * n // 4, n // 4: 3 * n // 4] + 1e-9), cmap="magma", origin="lower")
    ax_spectrum.set_title(spectrum_title, fontsize=7)
    ax_spectrum.set_xticks([])
    ax_spectrum.set_yticks([])


def lattice_histograms(axes, table, title: str, bins: int = 40):
    """Three panels: counts of a, b (Å) and γ (°).

    Args:
        axes: three matplotlib axes.
        table: records with ``a``, ``b`` (Å) and ``gamma`` (degrees).
        title: the start of each panel's title (the dataset).
        bins: histogram bins per panel.
    """
    for ax, col, unit in zip(axes, ("a", "b", "gamma"), ("Å", "Å", "°")):
        ax.hist(table[col], bins=bins, color="tab:blue", alpha=0.85)
        ax.set_xlabel(f"{'γ' if col == 'gamma' else col} ({unit})")
        ax.set_ylabel("count")
        ax.set_title(f"{title}: {'γ' if col == 'gamma' else col}", fontsize=9)


SYMBOL = {"a": "a", "b": "b", "gamma": "γ"}
UNIT = {"a": "Å", "b": "Å", "gamma": "°"}


def parity_plots(axes, y_true, y_pred, title: str, parameters=("a", "b", "gamma"), s: float = 6):
    """True vs predicted, one panel per parameter, with the y = x line (Figures 3 and S1).

    Each panel also prints the MAE and the number of points.

    Args:
        axes: one matplotlib axes per parameter.
        y_true: true values, [n, n_parameters] (a, b in Å, gamma in degrees).
        y_pred: predicted values, same shape and units.
        title: the start of each panel's title.
        parameters: the columns' parameters, in order (``a``, ``b``, ``gamma``).
        s: marker size (points²).
    """
    y_true, y_pred = np.atleast_2d(y_true), np.atleast_2d(y_pred)
    for k, (ax, p) in enumerate(zip(axes, parameters)):
        t, q = y_true[:, k], y_pred[:, k]
        ax.scatter(t, q, s=s, alpha=0.5, color="tab:blue", edgecolors="none")
        if len(t):
            lo, hi = float(min(t.min(), q.min())), float(max(t.max(), q.max()))
            ax.plot([lo, hi], [lo, hi], "r:", lw=1)
            mae = np.mean(np.abs(t - q))
            ax.text(0.04, 0.93, f"MAE {mae:.2f} {UNIT[p]}\nn = {len(t)}", transform=ax.transAxes,
                    va="top", fontsize=7)
        ax.set_xlabel(f"true {SYMBOL[p]} ({UNIT[p]})")
        ax.set_ylabel(f"predicted {SYMBOL[p]} ({UNIT[p]})")
        ax.set_title(f"{title}: {SYMBOL[p]}", fontsize=9)


def matrix_plot(ax, matrix, labels, title: str, xlabel="predicted", ylabel="true", fmt="{}",
                colorbar: str | None = None, vmax: float | None = None):
    """A confusion matrix with its values (counts, or per cent with ``fmt="{:.0f}"``) in the
    cells; empty (NaN) rows stay blank. ``colorbar``: its label (with units), drawn beside the
    matrix; ``vmax``: the top of the colour scale (100 for row percentages, so that two matrices
    share one scale).

    Args:
        ax: the matplotlib axes.
        matrix: [n, n] values, rows the true class (NaN: blank).
        labels: the n tick labels (for the Bravais classes, ``lattice2d.CLASS_SHORT``).
        title: the panel's title.
        xlabel: the x axis label.
        ylabel: the y axis label.
        fmt: the ``str.format`` template of a cell's value.
        colorbar: the colour bar's label, with units; None draws none.
        vmax: the top of the colour scale; None: the largest value.
    """
    m = np.asarray(matrix, dtype=float)
    top = vmax if vmax is not None else (np.nanmax(m) if np.isfinite(m).any() else 1)
    image = ax.imshow(np.nan_to_num(m), cmap="Blues", vmin=0, vmax=top)
    if colorbar:
        ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04).set_label(colorbar)
    for (i, j), v in np.ndenumerate(m):
        if np.isfinite(v):
            ax.text(j, i, fmt.format(v), ha="center", va="center", fontsize=7,
                    color="white" if v > top / 2 else "black")
    ax.set_xticks(range(len(labels)), labels, fontsize=7)
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)


def error_histograms(axes, y_true, y_pred, title: str, parameters=("a", "b", "gamma"), bins=30):
    """Histograms of predicted - actual per parameter (Figures S4-S6).

    Args:
        axes: one matplotlib axes per parameter.
        y_true: true values, [n, n_parameters] (a, b in Å, gamma in degrees).
        y_pred: predicted values, same shape and units.
        title: the start of each panel's title.
        parameters: the columns' parameters, in order (``a``, ``b``, ``gamma``).
        bins: histogram bins per panel.
    """
    y_true, y_pred = np.atleast_2d(y_true), np.atleast_2d(y_pred)
    for k, (ax, p) in enumerate(zip(axes, parameters)):
        err = y_pred[:, k] - y_true[:, k]
        if len(err):
            ax.hist(err, bins=bins, color="tab:orange", alpha=0.85)
        else:
            ax.text(0.5, 0.5, "n = 0", transform=ax.transAxes, ha="center")
        ax.set_xlabel(f"error in {SYMBOL[p]} ({UNIT[p]})")
        ax.set_ylabel("count")
        ax.set_title(f"{title}: {SYMBOL[p]} (n = {len(err)})", fontsize=8)


def loss_curves(ax, history, title: str, ylabel: str = "training loss"):
    """Training loss per epoch for each model in a history frame (Figure S3); ``ylabel`` names
    the loss and its unit ("MSE of standardised a, b, γ (no unit)").

    Args:
        ax: the matplotlib axes.
        history: a history frame (``stem_studies.history_frame``): ``model``, ``epoch``, ``loss``.
        title: the panel's title.
        ylabel: the y axis label: the loss and its unit.
    """
    for name, h in history.groupby("model", sort=False):
        ax.plot(h["epoch"], h["loss"], marker="o", ms=3, label=name)
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)


def show_grain_map(ax, image, pixel_size: float, grain_map=None, stride_px: int = 1, title: str | None = None):
    """The image in Å (origin lower left, axes labelled x, y in Å) and, when given, its grains coloured
    over it (one colour per grain index of ``grain_map``, a cell per ``stride_px`` px; -1 stays uncoloured).

    Args:
        ax: the matplotlib axes.
        image: the image, [H, W] (row 0 at the bottom); NaN drawn as its mean.
        pixel_size: Å per pixel.
        grain_map: grain index per cell, int [H / stride_px, W / stride_px] (-1: no grain); None
            draws the image alone.
        stride_px: the side of a ``grain_map`` cell, px.
        title: the panel's title; None for none.
    """
    img = np.asarray(image, dtype=float)
    img = np.nan_to_num(img, nan=float(np.nanmean(img)))
    ny, nx = img.shape
    extent = (0, nx * pixel_size, 0, ny * pixel_size)
    ax.imshow(img, cmap="gray", origin="lower", extent=extent)
    if grain_map is not None:
        gm = np.asarray(grain_map, dtype=float)
        gm[gm < 0] = np.nan
        ax.imshow(gm, cmap="tab10", vmin=0, vmax=9, alpha=0.45, origin="lower", interpolation="nearest",
                  extent=(0, gm.shape[1] * stride_px * pixel_size, 0, gm.shape[0] * stride_px * pixel_size))
        ax.set_xlim(0, extent[1])
        ax.set_ylim(0, extent[3])
    ax.set_xlabel("x (Å)")
    ax.set_ylabel("y (Å)")
    if title:
        ax.set_title(title, fontsize=8)


def grains_title(grains: list, most: int = 3) -> str:
    """"grain 0: a = 2.461 Å, 61 %; ..." from grain dicts or ``grains.Grain`` objects.

    Args:
        grains: grains, largest first: dicts with ``a`` (Å) and ``area_share`` (fraction), or
            ``grains.Grain``.
        most: how many grains to name.

    Returns:
        The title; "no grain found" for none.
    """
    parts = []
    for k, g in enumerate(grains[:most]):
        a, share = (g["a"], g["area_share"]) if isinstance(g, dict) else (g.lattice.a, g.area_share)
        parts.append(f"grain {k}: a = {a:.3f} Å, {100 * share:.0f} %")
    return "; ".join(parts) or "no grain found"


def grain_map_figure(image, pixel_size: float, grain_map, stride_px: int, grains: list, title: str = ""):
    """The image (left) and its grains coloured over it (right), with each grain's a and area
    share; ``grain_map`` holds a grain index (-1: none) per ``stride_px`` cell.

    Args:
        image: the image, [H, W] (row 0 at the bottom).
        pixel_size: Å per pixel.
        grain_map: grain index per cell, int [H / stride_px, W / stride_px] (-1: no grain).
        stride_px: the side of a ``grain_map`` cell, px.
        grains: the grains, largest first (as for ``grains_title``).
        title: the left panel's title.

    Returns:
        The matplotlib figure (two panels, 10 x 5 inches).
    """
    fig, ax = plt.subplots(1, 2, figsize=(10, 5))
    show_grain_map(ax[0], image, pixel_size, title=title)
    show_grain_map(ax[1], image, pixel_size, grain_map, stride_px, grains_title(grains))
    ax[1].set_ylabel("")                     # the left panel's y (Å) serves both
    fig.tight_layout()
    return fig


def seed_spread(ax, per_seed, paper: dict, title: str, value: str = "accuracy_pct",
                label: str = "test accuracy (%)"):
    """Each model's seeds (dots), their mean with its 95 % t interval (black bar), the 95 %
    prediction interval for one more run (grey band) and the paper's single run (red diamond):
    what the reproduction report's verdict on Table S1 judges, drawn.

    Args:
        ax: the matplotlib axes.
        per_seed: one row per training: ``model``, ``value``'s column and, optionally,
            ``model_title`` (the tick labels).
        paper: model -> the paper's value, in the unit of ``value``.
        title: the panel's title.
        value: the column drawn (``accuracy_pct``: %).
        label: the y axis label, with its unit.
    """
    models = list(dict.fromkeys(per_seed["model"]))
    rng = np.random.default_rng(0)          # fixed jitter: the figure's bytes do not change
    for x, model in enumerate(models):
        v = per_seed.loc[per_seed["model"] == model, value].to_numpy(float)
        ax.scatter(x + rng.uniform(-0.12, 0.12, len(v)), v, s=18, color="tab:blue", alpha=0.8,
                   label="one seed" if x == 0 else None, zorder=3)
        if len(v) > 1:
            m, s, k = v.mean(), v.std(ddof=1), len(v)
            lo, hi = verdicts.prediction_interval(m, s, k)
            ax.fill_between([x - 0.3, x + 0.3], lo, hi, color="0.85", zorder=1,
                            label="95 % prediction interval, one more run" if x == 0 else None)
            lo, hi = verdicts.mean_interval(m, s, k)
            ax.errorbar(x, m, yerr=[[m - lo], [hi - m]], fmt="o", color="black", capsize=4, zorder=4,
                        label="mean, 95 % t interval" if x == 0 else None)
        if model in paper and np.isfinite(paper[model]):
            ax.scatter([x + 0.22], [paper[model]], marker="D", s=40, color="tab:red", zorder=5,
                       label="paper (one run)" if x == 0 else None)
    titles = dict(zip(per_seed["model"], per_seed.get("model_title", per_seed["model"])))
    ax.set_xticks(range(len(models)), [str(titles[m]).replace(" (", "\n(") for m in models], fontsize=8)
    ax.set_ylabel(label)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, loc="upper right")


def training_curves(ax, history, title: str):
    """Training loss against epoch, one line per seed, on a log scale.

    Args:
        ax: the matplotlib axes.
        history: one model's per-epoch record: ``seed``, ``epoch``, ``loss`` (cross-entropy, mean
            per image).
        title: the panel's title.
    """
    for seed, g in history.groupby("seed"):
        g = g.sort_values("epoch")
        ax.plot(g["epoch"], g["loss"], lw=1, label=f"seed {seed}")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss (cross-entropy, mean per image)")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, ncol=2)


def accuracy_beside_references(ax, rows, references, title: str):
    """Accuracies (%) with their 95 % intervals (``rows``: label, accuracy_pct, low, high), one per
    line, beside reference values drawn as dashed vertical lines (``references``: reference,
    accuracy_pct).

    Args:
        ax: the matplotlib axes.
        rows: ``label``, ``accuracy_pct``, ``low``, ``high`` (%; a missing end draws no bar).
        references: ``reference``, ``accuracy_pct`` (%).
        title: the panel's title.
    """
    y = np.arange(len(rows))[::-1]
    acc = rows["accuracy_pct"].to_numpy(float)
    lo, hi = rows["low"].to_numpy(float), rows["high"].to_numpy(float)
    ax.errorbar(acc, y, xerr=[acc - np.where(np.isfinite(lo), lo, acc), np.where(np.isfinite(hi), hi, acc) - acc],
                fmt="o", color="black", capsize=3, zorder=3)
    colours = ["tab:red", "tab:orange", "tab:purple", "tab:green"]
    for k, r in enumerate(references.to_dict("records")):
        ax.axvline(r["accuracy_pct"], ls="--", lw=1, color=colours[k % len(colours)],
                   label=f"{r['reference']}: {r['accuracy_pct']:g} %")
    ax.set_yticks(y, rows["label"], fontsize=7)
    ax.set_xlabel("test accuracy (%), with its 95 % interval")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=1, frameon=False)
