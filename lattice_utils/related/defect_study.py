"""Notebook 16 as a few functions joining the specimen (``defect_specimen``) and the analysis
(``defects``): the finder's training set, training the defect finder, surveying simulated images
with it, and the class-average stacks of isolated defects from its detections."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..core.profiles import Profile
from . import defect_specimen as S
from . import defects as D
from .unet import predict_proba, train_segmenter
from .wse2 import CONTENTS, DEFECTS

HALF = 40                      # window half-width in pixels (8.3 Å at 20.74 pm)
MAX_STACK = 437                # the document's largest stack (defect-free 2Se)
CLASS_WEIGHTS = (1, 4, 2, 4, 4)


def conditions(profile: Profile) -> S.Conditions:
    R = profile.related
    return S.Conditions(dose=R.defect_dose, jitter_px=R.defect_jitter_px)


def train_finder(profile: Profile, force: bool = False, log=print):
    R = profile.related
    X, Y = training_set(R.defect_train_crops, R.defect_crop_px, profile.seed, conditions(profile))
    return train_segmenter(f"defects-{profile.name}", X, Y, len(CONTENTS), epochs=R.defect_epochs,
                           base=R.unet_base, class_weights=CLASS_WEIGHTS, seed=profile.seed,
                           force=force, log=log)


@dataclass
class Survey:
    specimens: list
    images: list
    found: list                # one DataFrame of detections per image
    scores: pd.DataFrame       # summed over images


def survey(net, profile: Profile) -> Survey:
    """The test images (seeds apart from training), their detections and the summed scores."""
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
    ``max_stack`` per class, in survey order."""
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
    training recipe)."""
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
