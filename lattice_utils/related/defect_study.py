"""Notebook 16 as a few functions joining the specimen (``defect_specimen``) and the analysis
(``defects``): the finder's training set, training the defect finder, surveying simulated images
with it, and the class-average stacks of isolated defects from its detections; then the tables
measured on them (W-W spacings, precision against the number of windows summed, displacement
fields against the truth) and the displacement figure's panels."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..core.profiles import Profile
from . import defect_specimen as S
from . import defects as D
from .unet import predict_proba, train_segmenter
from .wse2 import A_WSE2, CONTENTS, DEFECTS

__all__ = ["HALF", "MAX_STACK", "conditions", "train_finder", "Survey", "survey", "class_stacks", "training_set",
           "ww_spacing_pm", "single_window_spacings", "bootstrap_spacings", "ww_spacing_table", "precision_vs_n",
           "scaling_slopes", "displacement_table", "draw_displacement_maps"]

HALF = 40                      # window half-width in pixels (8.3 Å at 20.74 pm)
MAX_STACK = 437                # the document's largest stack (defect-free 2Se)
CLASS_WEIGHTS = (1, 4, 2, 4, 4)   # cross-entropy weight of each class of CONTENTS


def conditions(profile: Profile) -> S.Conditions:
    """The acquisition conditions of ``profile``: its dose and scan jitter, the rest as default.

    Args:
        profile: the run profile (``related.defect_dose`` counts, ``related.defect_jitter_px`` px).

    Returns:
        The ``defect_specimen.Conditions``.
    """
    R = profile.related
    return S.Conditions(dose=R.defect_dose, jitter_px=R.defect_jitter_px)


def train_finder(profile: Profile, force: bool = False, log=print):
    """Train (or load the cached) defect finder: a ResUNet over the five ``CONTENTS`` classes,
    on the profile's training set (``training_set``), rare classes weighted up.

    Args:
        profile: the run profile (its ``related`` sizes, epochs and seed).
        force: train again even when cached weights exist.
        log: function called with each progress line.

    Returns:
        The trained ``unet.ResUNet`` (on the CPU, in eval mode).
    """
    R = profile.related
    X, Y = training_set(R.defect_train_crops, R.defect_crop_px, profile.seed, conditions(profile))
    return train_segmenter(f"defects-{profile.name}", X, Y, len(CONTENTS), epochs=R.defect_epochs,
                           base=R.unet_base, class_weights=CLASS_WEIGHTS, seed=profile.seed,
                           force=force, log=log)


@dataclass
class Survey:
    """The test images of notebook 16 and what the defect finder found in them.

    Attributes:
        specimens: the ``defect_specimen.Specimen`` of each image (the truth).
        images: the recorded images, float32 [H, W] in counts.
        found: one DataFrame of detections per image (``x``, ``y`` in Å, ``class``, ``score``).
        scores: the detection scores per defect class summed over the images (columns as
            ``defect_specimen.score_detections``).
    """
    specimens: list
    images: list
    found: list                # one DataFrame of detections per image
    scores: pd.DataFrame       # summed over images


def survey(net, profile: Profile) -> Survey:
    """The test images (seeds apart from training), their detections and the summed scores.

    Args:
        net: the trained defect finder (``train_finder``).
        profile: the run profile (number and size of the images, dose, jitter, seed).

    Returns:
        The ``Survey``; its precision, recall, balanced accuracy and F1 are fractions in [0, 1]
        computed from the summed counts.
    """
    R = profile.related
    specs, imgs, found, scores = [], [], [], []
    for i in range(R.defect_images):
        spec = S.make_specimen((R.defect_image_px,) * 2, seed=10_000 + profile.seed + i)
        img = S.acquire(spec, conditions(profile), seed=20_000 + profile.seed + i)
        f = D.detect(predict_proba(net, D.standardise(img)), spec.px)
        specs.append(spec), imgs.append(img), found.append(f)
        scores.append(S.score_detections(f, spec))
    s = pd.concat(scores).groupby("class", sort=False)[["true", "TP", "FP", "FN", "TN"]].sum().reset_index()
    s["precision"] = s.TP / (s.TP + s.FP).replace(0, np.nan)
    s["recall"] = s.TP / (s.TP + s.FN).replace(0, np.nan)
    s["balanced accuracy"] = (s.recall + s.TN / (s.TN + s.FP)) / 2
    s["F1"] = 2 * s.precision * s.recall / (s.precision + s.recall)
    return Survey(specs, imgs, found, s)


def class_stacks(sv: Survey, half: int = HALF, max_stack: int = MAX_STACK) -> dict:
    """Windows around isolated detections of each class (no other detection within 6.6 Å), and
    around defect-free chalcogen sites (2Se) equally far from every detection; at most
    ``max_stack`` per class, in survey order.

    Args:
        sv: the survey.
        half: window half-width (pixels).
        max_stack: largest number of windows per class.

    Returns:
        dict from each class of ``CONTENTS`` to its float32 windows [n, 2 half + 1, 2 half + 1]
        (image counts), n = 0 where none was found.
    """
    stacks = {c: [] for c in CONTENTS}
    for spec, img, f in zip(sv.specimens, sv.images, sv.found):
        det = f[["x", "y"]].to_numpy()
        for c in DEFECTS:
            pts = f.loc[f["class"] == c, ["x", "y"]].to_numpy()
            pts = pts[D.isolated(pts, det)]
            stacks[c].append(D.cut_windows(img, pts, spec.px, half)[0])
        # a defect-free site: a chalcogen lattice site with no detection on it or within the
        # isolation distance (the lattice is what an atom finder gives; no ground truth used)
        pts = spec.x_ideal[D.isolated(spec.x_ideal, det)]
        stacks["2Se"].append(D.cut_windows(img, pts, spec.px, half)[0])
    size = 2 * half + 1
    return {c: (np.concatenate(v)[:max_stack] if v else np.zeros((0, size, size), np.float32))
            for c, v in stacks.items()}


def training_set(n: int, size: int, seed: int, cond: S.Conditions = S.Conditions(),
                 defect_rate: float = 0.03) -> tuple[np.ndarray, np.ndarray]:
    """(images [n, 1, size, size] float32, labels [n, size, size]) of small random specimens.
    Each defect class is drawn at ``defect_rate`` of the sites so that rare classes are seen;
    the dose, jitter, contamination and pixel size vary around ``cond`` (as the document's
    training recipe).

    The pixel size varies by +-7 % around ``defect_specimen.PIXEL``, the dose by a factor 0.5-2,
    jitter and contamination by a factor 0-2.

    Args:
        n: number of crops.
        size: crop side (pixels).
        seed: seed of the random draws.
        cond: the conditions varied about.
        defect_rate: share of the sites of each vacancy class (SV, DV); the Te fraction is
            1.2 sqrt(``defect_rate`` / 2), which makes about 0.7 ``defect_rate`` of the columns 2Te.

    Returns:
        (standardised images, float32 [n, 1, size, size]; labels, int64 [n, size, size] of indices
        into ``CONTENTS``).
    """
    rng = np.random.default_rng(seed)
    X = np.empty((n, 1, size, size), np.float32)
    Y = np.empty((n, size, size), np.int64)
    for k in range(n):
        s = int(rng.integers(1 << 31))
        px = S.PIXEL * rng.uniform(0.93, 1.07)
        spec = S.make_specimen((size, size), px, s, te_fraction=np.sqrt(defect_rate / 2) * 1.2,
                               sv=defect_rate, dv=defect_rate)
        c = S.Conditions(dose=cond.dose * rng.uniform(0.5, 2.0), jitter_px=cond.jitter_px * rng.uniform(0, 2),
                         contamination=cond.contamination * rng.uniform(0, 2), read_noise=cond.read_noise,
                         probe=cond.probe)
        X[k, 0] = D.standardise(S.acquire(spec, c, s + 1))
        Y[k] = S.label_map(spec)
    return X, Y


# ------------------------------------------------------------------ the tables of notebook 16

def ww_spacing_pm(window: np.ndarray, px: float, half: int) -> float:
    """Mean W-W spacing (pm) of the W triangle around the central chalcogen site of a window.

    Args:
        window: an image [2 half + 1, 2 half + 1] centred on a chalcogen site.
        px: pixel size (Å per pixel).
        half: window half-width (pixels).

    Returns:
        The spacing in pm (``defects.nearest_ww_spacing`` x 100); NaN when a column fit fails.
    """
    return 100 * D.nearest_ww_spacing(window, px, half)


def single_window_spacings(stacks: dict, px: float, half: int, classes=("2Se", "SeTe"),
                           max_windows: int = 200) -> dict:
    """W-W spacings (pm) of single windows, the first ``max_windows`` of each of ``classes``.

    Args:
        stacks: class name -> windows [n, 2 half + 1, 2 half + 1] (``class_stacks``).
        px: pixel size (Å per pixel).
        half: window half-width (pixels).
        classes: the classes measured.
        max_windows: largest number of windows measured per class.

    Returns:
        dict class -> float array of the spacings (pm), one per window (NaN where a fit fails).
    """
    return {c: np.array([ww_spacing_pm(w, px, half) for w in stacks[c][:max_windows]]) for c in classes}


def bootstrap_spacings(aligned: dict, px: float, half: int, resamples: int, seed: int) -> dict:
    """Bootstrapped W-W spacings (pm) of the class averages: the spacing of the mean of each of
    ``resamples`` resamples of every class's aligned stack (one resample when it holds one window).

    Args:
        aligned: class name -> aligned windows [n, 2 half + 1, 2 half + 1], classes in ``CONTENTS``
            order.
        px: pixel size (Å per pixel).
        half: window half-width (pixels).
        resamples: number of bootstrap resamples M.
        seed: seed of the resampling (the same for every class).

    Returns:
        dict class -> float array [M] of spacings (pm), for the classes of ``CONTENTS`` in ``aligned``.
    """
    def measure(image):
        return ww_spacing_pm(image, px, half)

    return {c: D.bootstrap(aligned[c], measure, resamples if len(aligned[c]) > 1 else 1, seed=seed)
            for c in CONTENTS if c in aligned}


def ww_spacing_table(stacks: dict, single: dict, boot: dict, document) -> pd.DataFrame:
    """The W-W spacing table (document Fig. 3): per class the true spacing, the single-window and
    class-average (bootstrap) spacings, the strain against the 2Se average, and the document's values.

    Args:
        stacks: class name -> windows (``class_stacks``): their numbers.
        single: class name -> single-window spacings (pm), from ``single_window_spacings``.
        boot: class name -> bootstrapped average spacings (pm), from ``bootstrap_spacings``.
        document: the document's values by key (``ww_single_<class>``, ``ww_single_<class>_sd``,
            ``ww_avg_<class>``, ``ww_avg_<class>_sd`` for 2Se and SeTe, ``strain_<class>`` for the
            defects; pm and %), e.g. a pandas Series.

    Returns:
        DataFrame, one row per class of ``CONTENTS``: spacings in pm, strains in %; NaN or missing
        where a class has no windows.
    """
    rows = []
    for c in CONTENTS:
        truth = 100 * A_WSE2 * (1 + S.STRAIN[c])
        row = {"class": c, "true W-W (pm)": truth, "windows": len(stacks[c])}
        if c in single:
            row.update({"single mean (pm)": np.nanmean(single[c]), "single std (pm)": np.nanstd(single[c]),
                        "document single mean (pm)": document[f"ww_single_{c}"],
                        "document single std (pm)": document[f"ww_single_{c}_sd"]})
        if c in boot:
            row.update({"average mean (pm)": np.nanmean(boot[c]), "bootstrap std (pm)": np.nanstd(boot[c])})
        if c in ("2Se", "SeTe"):
            row["document average mean (pm)"] = document[f"ww_avg_{c}"]
            row["document bootstrap std (pm)"] = document[f"ww_avg_{c}_sd"]
        if c != "2Se":
            row["strain (%)"] = (100 * (np.nanmean(boot[c]) / np.nanmean(boot["2Se"]) - 1)
                                 if c in boot and "2Se" in boot else np.nan)
            row["true strain (%)"] = 100 * S.STRAIN[c]
            row["document strain (%)"] = document[f"strain_{c}"]
        rows.append(row)
    return pd.DataFrame(rows)


def precision_vs_n(reference: np.ndarray, px: float, half: int, rng: np.random.Generator, n_sizes: int = 9,
                   repeats: int = 3) -> pd.DataFrame:
    """Precision and SNR of averages of N windows drawn from one aligned stack (document Fig. 3c).

    N runs over ``n_sizes`` geometrically spaced values from 1 to the stack's size (repeats dropped);
    each N is drawn ``repeats`` times without replacement and the results are averaged.

    Args:
        reference: aligned windows [n, 2 half + 1, 2 half + 1] (the defect-free 2Se stack).
        px: pixel size (Å per pixel).
        half: window half-width (pixels).
        rng: the random generator the windows are drawn with.
        n_sizes: number of geometrically spaced N tried.
        repeats: draws per N.

    Returns:
        DataFrame, one row per N: ``N``, ``precision (pm)`` (standard deviation of the W-W spacings
        within 5 Å of the centre), ``SNR`` (``defects.snr``), ``SNR gain`` (SNR over that of the
        smallest N).
    """
    steps = np.unique(np.geomspace(1, len(reference), n_sizes).astype(int))
    rows = []
    for n_sum in steps:
        for _ in range(repeats):
            pick = rng.choice(len(reference), n_sum, replace=False)
            avg = reference[pick].mean(0)
            rows.append({"N": int(n_sum), "precision (pm)": 100 * np.std(D.ww_spacings(avg, px, half)),
                         "SNR": D.snr(avg, px, half)})
    scaling = pd.DataFrame(rows).groupby("N").mean().reset_index()
    scaling["SNR gain"] = scaling["SNR"] / scaling["SNR"].iloc[0]
    return scaling


def scaling_slopes(scaling: pd.DataFrame, document) -> pd.DataFrame:
    """Log-log slopes of precision and SNR gain against N, and the precision gain from one window
    to the largest stack, beside the document's values.

    Args:
        scaling: the table of ``precision_vs_n``.
        document: the document's values by key (``precision_slope``, ``snr_slope``,
            ``precision_gain_437``), e.g. a pandas Series.

    Returns:
        DataFrame with columns ``quantity``, ``fitted log-log slope`` (for the last row the gain, no
        unit), ``document``.
    """
    return pd.DataFrame([
        {"quantity": "precision", "fitted log-log slope": D.fit_slope(scaling.N, scaling["precision (pm)"]),
         "document": document["precision_slope"]},
        {"quantity": "SNR gain", "fitted log-log slope": D.fit_slope(scaling.N, scaling["SNR gain"]),
         "document": document["snr_slope"]},
        {"quantity": f"precision gain at N = {int(scaling.N.iloc[-1])}",
         "fitted log-log slope": scaling["precision (pm)"].iloc[0] / scaling["precision (pm)"].iloc[-1],
         "document": document["precision_gain_437"]}])


def _rms(a: np.ndarray, b: np.ndarray) -> float:
    """Root-mean-square difference, NaN ignored."""
    return float(np.sqrt(np.nanmean((a - b) ** 2)))


def displacement_table(average: dict, stacks: dict, px: float, half: int, radius: float = 6.0,
                       extent: float = 5.0, step: float = 0.1) -> tuple[pd.DataFrame, dict]:
    """Displacement fields of the defect class averages against the ground truth and a 2D Eshelby
    fit (document Figs. 4-5).

    Per defect class with at least two windows: the column displacements against the 2Se average,
    the true displacements at the same columns, the fitted Eshelby field and the dilation maps of
    all three. A class with fewer windows keeps a row with a note.

    Args:
        average: class name -> class average [2 half + 1, 2 half + 1] (must hold "2Se").
        stacks: class name -> windows (``class_stacks``): their numbers.
        px: pixel size (Å per pixel).
        half: window half-width (pixels).
        radius: radius around the defect whose columns are fitted (Å).
        extent: half-width of the dilation maps (Å).
        step: grid spacing of the dilation maps (Å).

    Returns:
        (DataFrame, one row per defect class: ``windows``, ``RMS displacement error (pm)``,
        ``largest true displacement (pm)``, ``C fitted (Å²)``, ``C true (Å²)``, the dilation RMS
        errors (%); dict class -> (column displacements DataFrame, true displacements [n, 2] Å,
        Eshelby-fit displacements [n, 2] Å, dict of dilation maps "measured", "truth",
        "Eshelby fit")).
    """
    rows, fields = [], {}
    for c in DEFECTS:
        if c not in average or len(stacks[c]) < 2:
            # said in the table, not dropped from it: a small specimen (smoke) finds too few windows
            rows.append({"class": c, "windows": len(stacks.get(c, [])), "C true (Å²)": S.FIELDS[c].C,
                         "note": "fewer than 2 windows: no class average"})
            continue
        columns = D.column_displacements(average[c], average["2Se"], px, half, radius=radius)
        xy, u = columns[["x", "y"]].to_numpy(), columns[["ux", "uy"]].to_numpy()
        truth = S.true_displacements(xy, c)
        strength = D.fit_eshelby(xy, u)
        fit = xy / np.hypot(*xy.T)[:, None] ** 2 * strength
        maps = {k: D.dilation_map(xy, v, extent, step) for k, v in (("measured", u), ("truth", truth),
                                                                   ("Eshelby fit", fit))}
        fields[c] = (columns, truth, fit, maps)
        rows.append({"class": c, "windows": len(stacks[c]),
                     "RMS displacement error (pm)": 100 * _rms(u, truth),
                     "largest true displacement (pm)": 100 * np.abs(truth).max(),
                     "C fitted (Å²)": strength, "C true (Å²)": S.FIELDS[c].C,
                     "dilation RMS, measured vs truth (%)": 100 * _rms(maps["measured"], maps["truth"]),
                     "dilation RMS, Eshelby fit vs truth (%)": 100 * _rms(maps["Eshelby fit"], maps["truth"])})
    return pd.DataFrame(rows), fields


def draw_displacement_maps(axes, cls: str, average: np.ndarray, field: tuple, px: float, half: int,
                           magnification: float, extent: float = 5.0):
    """Draw one defect class's column of the displacement figure: the class average with the
    measured (yellow) and true (cyan) displacement vectors, then the measured, true and Eshelby-fit
    dilation maps on a common colour scale.

    Args:
        axes: four matplotlib axes, top to bottom.
        cls: the class's name (for the titles).
        average: the class average [2 half + 1, 2 half + 1].
        field: the class's entry of ``displacement_table``'s fields.
        px: pixel size (Å per pixel).
        half: window half-width (pixels).
        magnification: factor the displacement vectors are drawn magnified by.
        extent: half-width of the dilation maps (Å).

    Returns:
        The image of the last dilation map (for a colour bar).
    """
    columns, truth, _, maps = field
    axes[0].imshow(average, cmap="gray", origin="lower")
    x0, y0 = columns.x / px + half, columns.y / px + half
    axes[0].quiver(x0, y0, columns.ux * magnification / px, columns.uy * magnification / px, color="yellow",
                   angles="xy", scale_units="xy", scale=1, label="measured")
    axes[0].quiver(x0, y0, truth[:, 0] * magnification / px, truth[:, 1] * magnification / px, color="cyan",
                   angles="xy", scale_units="xy", scale=1, alpha=0.6, label="truth")
    axes[0].set_title(f"{cls}: displacement x{magnification}", fontsize=8)
    axes[0].axis("off")
    lim = np.nanmax(np.abs(maps["truth"])) or 1
    for row, key in enumerate(("measured", "truth", "Eshelby fit"), start=1):
        image = axes[row].imshow(maps[key], cmap="RdBu_r", vmin=-lim, vmax=lim, origin="lower",
                                 extent=(-extent, extent, -extent, extent))
        axes[row].set_title(f"{cls}: dilation, {key}", fontsize=8)
        axes[row].set_xlabel("x (Å)", fontsize=7)
        axes[row].set_ylabel("y (Å)", fontsize=7)
    return image
