"""Notebook 17 as a few functions joining the specimen (``nanoparticles``) and the analysis
(``fft_windows``): the spot-binarising network and its training windows, the moving-window
survey with both spot finders scored against the true reflections, and phase identification
from spacings and one interplanar angle; the example window of the specimen figure and the
summary of a real image's moving-window spacings."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..core.profiles import Profile
from . import fft_windows as F
from . import nanoparticles as N
from .unet import predict_proba, train_segmenter

__all__ = ["crop_of", "train_binariser", "identify", "survey", "spacing_errors", "summary", "real_image_spacings",
           "real_spacing_summary", "example_window", "score_spots", "survey_windows", "training_windows"]

TRAIN_SEED, TEST_SEED = 50_000, 60_000   # added to the profile's seed: training and test specimens apart
CLASS_WEIGHTS = (1.0, 2.0)               # cross-entropy weights of background and spot pixels


def crop_of(profile: Profile) -> int:
    """Side (pixels) of the central part of each window's spectrum the network sees: half the window.

    Args:
        profile: the run profile (``related.fft_window_px``).

    Returns:
        The crop side in FFT pixels.
    """
    return profile.related.fft_window_px // 2


def train_binariser(profile: Profile, force: bool = False, log=print):
    """Train (or load the cached) spot-binarising network: a two-class ResUNet (background,
    spot) on log spectra of windows of fresh training specimens (``training_windows``).

    Args:
        profile: the run profile (its ``related`` sizes, epochs and seed).
        force: train again even when cached weights exist.
        log: function called with each progress line.

    Returns:
        The trained ``unet.ResUNet`` (on the CPU, in eval mode).
    """
    R = profile.related
    X, Y = training_windows(R.fft_train_windows, R.fft_window_px, crop_of(profile),
                              TRAIN_SEED + profile.seed, image_px=R.fft_image_px)
    return train_segmenter(f"fft-spots-{profile.name}", X, Y, 2, epochs=R.fft_epochs, base=8,
                           class_weights=CLASS_WEIGHTS, seed=profile.seed, force=force, log=log)


def identify(xy: np.ndarray, fft_px: int, pixel: float, tol: float = 0.015) -> dict:
    """Phase of one window from its spots (FFT pixels about the centre): the candidates that
    explain the most spacings within ``tol``; ties broken by how well the angle between the two
    shortest non-collinear spots matches an indexed pair of planes.

    Args:
        xy: spots [n, 2], (x, y) in FFT pixels relative to the centre.
        fft_px: side of the window the FFT is taken of (pixels).
        pixel: pixel size of the image (Å per pixel).
        tol: relative tolerance of a spacing against a d-spacing (0.015: 1.5 %).

    Returns:
        dict: ``phase`` (name, or None when no spacing matches), ``matched`` (spacings explained),
        ``angle`` (measured angle between the two spots, degrees), ``angle_error`` (against the
        indexed planes, degrees), ``hkl1``, ``hkl2`` (the indexed planes); NaN and None where the
        pair could not be indexed.
    """
    xy = np.asarray(xy, float).reshape(-1, 2)
    d = F.spacing_from_pixels(np.hypot(*xy.T), fft_px, pixel) if len(xy) else np.zeros(0)
    table = F.match_phase(d, tol=tol)
    out = {"phase": None, "matched": 0, "angle": np.nan, "angle_error": np.nan, "hkl1": None, "hkl2": None}
    if len(xy) == 0 or table["matched"].iloc[0] == 0:
        return out
    top = table[table["matched"] == table["matched"].iloc[0]]
    pair = F.pair_of_spots(xy)
    out.update(phase=top["phase"].iloc[0], matched=int(top["matched"].iloc[0]))
    if pair is None:
        return out
    v1, v2 = pair
    ang = float(np.degrees(np.arccos(np.clip(v1 @ v2 / np.linalg.norm(v1) / np.linalg.norm(v2), -1, 1))))
    d1, d2 = F.spacing_from_pixels([np.linalg.norm(v1), np.linalg.norm(v2)], fft_px, pixel)
    best = None
    for ph in top["phase"]:
        r = F.index_pair(ph, d1, d2, ang, tol=tol)
        if np.isfinite(r["angle_error"]) and (best is None or r["angle_error"] < best[1]["angle_error"]):
            best = (ph, r)
    if best is not None:
        out.update(phase=best[0], angle=ang, **{k: best[1][k] for k in ("angle_error", "hkl1", "hkl2")})
    return out


def survey(net, profile: Profile, n_specimens: int = 2) -> tuple[list, pd.DataFrame]:
    """Test specimens and one row per (window, finder): spots found, matched, spacing errors,
    the identified phase and the truth.

    The finders are plain peak finding and the network (probability of a spot above 0.5).

    Args:
        net: the trained spot binariser (``train_binariser``).
        profile: the run profile (image and window sizes, seed).
        n_specimens: number of test specimens.

    Returns:
        (the ``nanoparticles.Specimen`` list, DataFrame with one row per window and finder:
        ``specimen``, ``row``, ``col`` (pixels), ``method``, ``true spots``, ``found``,
        ``found matched``, ``true matched``, ``errors_pm`` (array, pm), ``true phase``, ``phase``,
        ``angle``, ``angle error`` (degrees), ``hkl1``, ``hkl2``).
    """
    R = profile.related
    crop = crop_of(profile)
    specs = [N.make_specimen(R.fft_image_px, seed=TEST_SEED + profile.seed + k) for k in range(n_specimens)]
    X, recs = survey_windows(specs, R.fft_window_px, crop)
    rows = []
    for x, rec in zip(X, recs):
        sp = specs[rec["specimen"]]
        found = {"plain peaks": F.peaks_plain(x[0]),
                 "ResUNet": F.peaks_from_mask(predict_proba(net, x[0])[1] > 0.5)}
        for method, xy in found.items():
            sc = score_spots(xy, rec["truth"], R.fft_window_px, sp.pixel)
            ident = identify(xy, R.fft_window_px, sp.pixel)
            rows.append({"specimen": rec["specimen"], "row": rec["row"], "col": rec["col"], "method": method,
                         "true spots": sc["true"], "found": sc["found"], "found matched": sc["found_matched"],
                         "true matched": sc["matched"], "errors_pm": sc["errors_pm"],
                         "true phase": rec["phase"], "phase": ident["phase"], "angle": ident["angle"],
                         "angle error": ident["angle_error"], "hkl1": ident["hkl1"], "hkl2": ident["hkl2"]})
    return specs, pd.DataFrame(rows)


def spacing_errors(rows: pd.DataFrame) -> np.ndarray:
    """Every matched spot's spacing error (pm) over the windows in ``rows``.

    Args:
        rows: rows of ``survey`` (its ``errors_pm`` column).

    Returns:
        float array of the errors (pm, measured minus true), empty if none.
    """
    errs = [e for e in rows["errors_pm"] if len(e)]
    return np.concatenate(errs) if errs else np.zeros(0)


def summary(rows: pd.DataFrame) -> pd.DataFrame:
    """Per finder: spot precision and recall, spacing error (pm), phase accuracy on windows
    that hold a particle, and the share of empty windows with no phase claimed.

    Args:
        rows: rows of ``survey``.

    Returns:
        DataFrame, one row per finder: ``spot finder``, ``windows``, ``windows with a particle``,
        ``spot precision``, ``spot recall`` (fractions 0-1), ``spacing MAE (pm)``,
        ``spacing max error (pm)``, ``phase accuracy (%)``, ``angle error, median (deg)``,
        ``empty windows with no phase claimed (%)``.
    """
    out = []
    for method, g in rows.groupby("method", sort=False):
        err = spacing_errors(g)
        crystal = g[g["true phase"].notna()]
        empty = g[g["true phase"].isna()]
        out.append({"spot finder": method, "windows": len(g), "windows with a particle": len(crystal),
                    "spot precision": g["found matched"].sum() / max(g["found"].sum(), 1),
                    "spot recall": g["true matched"].sum() / max(g["true spots"].sum(), 1),
                    "spacing MAE (pm)": float(np.abs(err).mean()) if len(err) else np.nan,
                    "spacing max error (pm)": float(np.abs(err).max()) if len(err) else np.nan,
                    "phase accuracy (%)": (100 * float((crystal["phase"] == crystal["true phase"]).mean())
                                           if len(crystal) else np.nan),
                    "angle error, median (deg)": (float(np.nanmedian(crystal["angle error"]))
                                                  if crystal["angle error"].notna().any() else np.nan),
                    "empty windows with no phase claimed (%)": (100 * float(empty["phase"].isna().mean())
                                                                if len(empty) else np.nan)})
    return pd.DataFrame(out)


def real_image_spacings(image: np.ndarray, pixel: float, size: int, expected: float) -> pd.DataFrame:
    """Moving-window spacings of a real image: per window, the spacing of the strongest
    first-order family (the shortest spots found by plain peak finding) and its error (pm)
    against ``expected`` Å.

    The spacing is the median of the spots' spacings within 10 % of ``expected``; windows every
    ``size`` // 2 pixels.

    Args:
        image: the image [H, W].
        pixel: pixel size (Å per pixel).
        size: window side (pixels).
        expected: the expected lattice spacing (Å).

    Returns:
        DataFrame, one row per window: ``row``, ``col`` (pixels), ``spots`` (found),
        ``spacing (Å)``, ``error (pm)`` (NaN where no spot is near ``expected``).
    """
    rows = []
    for r, c, w in F.windows(image, size):
        xy = F.peaks_plain(F.log_spectrum(w, size // 2))
        d = F.spacing_from_pixels(np.hypot(*xy.T), size, pixel) if len(xy) else np.zeros(0)
        near = d[np.abs(d / expected - 1) < 0.1]
        rows.append({"row": r, "col": c, "spots": len(xy),
                     "spacing (Å)": float(np.median(near)) if len(near) else np.nan,
                     "error (pm)": 100 * (float(np.median(near)) - expected) if len(near) else np.nan})
    return pd.DataFrame(rows)


def real_spacing_summary(spacings: pd.DataFrame, image_name: str, expected: float) -> pd.DataFrame:
    """One-row summary of a real image's moving-window spacings: how many windows found the
    expected family, the median spacing, its spread across windows and the median error.

    Args:
        spacings: the table of ``real_image_spacings``.
        image_name: the image's name (the ``image`` column).
        expected: the expected spacing, the {100} spacing of the material (Å).

    Returns:
        DataFrame with one row: ``image``, ``windows``, ``windows with {100} spots``,
        ``median spacing (pm)``, ``spread across windows, std (pm)``, ``expected {100} (pm)``,
        ``median error (pm)``.
    """
    ok = spacings["spacing (Å)"].notna()
    return pd.DataFrame([{"image": image_name, "windows": len(spacings), "windows with {100} spots": int(ok.sum()),
                          "median spacing (pm)": 100 * spacings.loc[ok, "spacing (Å)"].median(),
                          "spread across windows, std (pm)": 100 * spacings.loc[ok, "spacing (Å)"].std(),
                          "expected {100} (pm)": 100 * expected,
                          "median error (pm)": spacings.loc[ok, "error (pm)"].median()}])


def example_window(specimen, rows: pd.DataFrame, size: int, crop: int,
                   specimen_index: int = 0) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """The window shown in the specimen figure: of the windows of specimen ``specimen_index`` that
    hold a particle, the one with the most true spots (the first window when none holds one); its
    log spectrum and the spots plain peak finding gives.

    Args:
        specimen: the ``nanoparticles.Specimen`` (number ``specimen_index`` of the survey).
        rows: rows of ``survey``.
        size: window side (pixels).
        crop: side of the central part of the spectrum (FFT pixels), ``crop_of``.
        specimen_index: the specimen's number in ``rows``.

    Returns:
        (the window's row of ``rows`` (its ResUNet row when it holds a particle), the standardised
        log spectrum float32 [crop, crop], the spots [n, 2] as (x, y) in FFT pixels from the centre).
    """
    crystal_rows = rows[(rows.specimen == specimen_index) & rows["true phase"].notna() & (rows.method == "ResUNet")]
    pick = crystal_rows.sort_values("true spots", ascending=False).iloc[0] if len(crystal_rows) else rows.iloc[0]
    window = specimen.image[int(pick["row"]):int(pick["row"]) + size, int(pick["col"]):int(pick["col"]) + size]
    spectrum = F.log_spectrum(window, crop)
    return pick, spectrum, F.peaks_plain(spectrum)


def score_spots(found_xy: np.ndarray, truth: pd.DataFrame, fft_px: int, pixel: float, tol: float = 2.5) -> dict:
    """Match found spots to true reflections (within ``tol`` FFT pixels): counts and the
    spacing errors (pm) of the matches.

    Each found spot is matched to its nearest true reflection.

    Args:
        found_xy: found spots [n, 2], (x, y) in FFT pixels relative to the centre.
        truth: true reflections with ``gx``, ``gy`` (1/Å) and ``d`` (Å) (``nanoparticles.window_truth``).
        fft_px: side of the window the FFT is taken of (pixels).
        pixel: pixel size of the image (Å per pixel).
        tol: largest distance of a match (FFT pixels).

    Returns:
        dict: ``found`` (spots found), ``true`` (reflections), ``matched`` (reflections matched),
        ``found_matched`` (found spots matched), ``errors_pm`` (float array, measured minus true
        spacing of each matched spot, pm).
    """
    tx = truth[["gx", "gy"]].to_numpy() * fft_px * pixel if len(truth) else np.zeros((0, 2))
    found_xy = np.asarray(found_xy, float).reshape(-1, 2)
    if len(found_xy) == 0 or len(tx) == 0:
        return {"found": len(found_xy), "true": len(tx), "matched": 0, "found_matched": 0,
                "errors_pm": np.zeros(0)}
    d = np.hypot(found_xy[:, None, 0] - tx[None, :, 0], found_xy[:, None, 1] - tx[None, :, 1])
    j = d.argmin(1)
    ok = d[np.arange(len(found_xy)), j] < tol
    meas = F.spacing_from_pixels(np.hypot(*found_xy[ok].T), fft_px, pixel)
    err = 100 * (meas - truth["d"].to_numpy()[j[ok]])
    return {"found": len(found_xy), "true": len(tx), "matched": int(len(set(j[ok]))),
            "found_matched": int(ok.sum()), "errors_pm": err}


def survey_windows(specimens, size: int, crop: int, stride: int | None = None) -> tuple[np.ndarray, list]:
    """Standardised log spectra [n, 1, crop, crop] of every moving window of ``specimens`` and a
    record per window (specimen, row, col, true reflections inside the crop).

    A reflection is kept when its spot lies within ``crop`` / 2 - 2 FFT pixels of the centre.

    Args:
        specimens: ``nanoparticles.Specimen`` list.
        size: window side (pixels).
        crop: side of the central part of each spectrum (FFT pixels).
        stride: step between windows (pixels); None: ``size`` // 2.

    Returns:
        (float32 spectra [n, 1, crop, crop], list of n dicts: ``specimen`` (index), ``row``, ``col``
        (pixels), ``truth`` (DataFrame of ``nanoparticles.window_truth``), ``phase`` (the most
        frequent true phase, or None)).
    """
    X, recs = [], []
    for k, sp in enumerate(specimens):
        for r, c, w in F.windows(sp.image, size, stride):
            tr = N.window_truth(sp.particles, r, c, size, sp.pixel)
            tr = tr[tr["d"] >= size * sp.pixel / (crop / 2 - 2)].reset_index(drop=True)
            X.append(F.log_spectrum(w, crop))
            recs.append({"specimen": k, "row": r, "col": c, "truth": tr,
                         "phase": tr["phase"].mode().iloc[0] if len(tr) else None})
    return np.array(X, np.float32).reshape(-1, 1, crop, crop), recs


def training_windows(n: int, size: int, crop: int, seed: int, image_px: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """(spectra, spot masks) of ``n`` windows drawn from fresh training specimens.

    Specimens (seeds ``seed``, ``seed`` + 1, ...) are cut into windows every ``size`` // 2 pixels
    until ``n`` windows are collected.

    Args:
        n: number of windows.
        size: window side (pixels).
        crop: side of the central part of each spectrum (FFT pixels).
        seed: seed of the first specimen.
        image_px: side of each specimen (pixels).

    Returns:
        (float32 spectra [n, 1, crop, crop], int64 spot masks [n, crop, crop]).
    """
    X, Y = [], []
    k = 0
    while len(X) < n:
        sp = N.make_specimen(image_px, seed=seed + k)
        k += 1
        Xs, recs = survey_windows([sp], size, crop, stride=size // 2)
        for x, rec in zip(Xs, recs):
            X.append(x)
            Y.append(N.spot_mask(rec["truth"], crop, size, sp.pixel))
    return np.array(X[:n], np.float32), np.array(Y[:n], np.int64)
