"""The XRD studies of notebooks 09-13 as small functions: the dataset, the four models, and
their evaluation on stored or freshly simulated patterns."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..core import storage
from ..core.profiles import Profile
from . import zone_axes
from .corpus import crystal_of, load_structures
from .features import feature_matrix, fit_symmetry_baseline
from .model import XrdModel, accuracy_table, make_config, train_xrd
from .patterns import PatternSet, build_patterns
from .simulate import render_input, zone_axis_pattern
from .symmetry import CRYSTAL_SYSTEMS, crystal_systems

ALL_AXES = zone_axes.AXES_20 + zone_axes.UNSEEN       # every pattern set holds these 24 axes


def load_dataset(profile: Profile, source: str = "offline", cif_dir: str | None = None,
                 verbose: bool = True) -> tuple[pd.DataFrame, PatternSet]:
    table = load_structures(profile, source, cif_dir, verbose=verbose)
    return table, build_patterns(table, ALL_AXES, profile, verbose=verbose)


def split_images(ps: PatternSet, axes, split: str, profile: Profile, name: str):
    idx = ps.select(axes, split)
    return idx, ps.images(idx, tuple(profile.xrd.image_shape), profile.xrd.cache_limit_gb,
                          name=f"{name}-{split}", representation=profile.xrd.representation)


def fit_model(name: str, ps: PatternSet, profile: Profile, axes=None, force: bool = False,
              log=print) -> XrdModel:
    """model-1 .. model-4 (the paper's axis sets) trained on the train split (cached)."""
    axes = axes or zone_axes.AXIS_SETS[name]
    tr, X = split_images(ps, axes, "train", profile, name)
    va, V = split_images(ps, axes, "val", profile, name)
    g = ps.meta["space_group"].to_numpy()
    key = storage.content_key(ps.root.name, tr.tolist())
    cfg = make_config(name, profile, key)
    done = (cfg.directory() / "final.pt").exists() and not force
    model = train_xrd(cfg, X, g[tr], V, g[va], force=force, log=log)
    log(f"{name}: {'reused cached' if done else 'trained'} on {len(tr)} patterns "
        f"({len(axes)} axes)")
    return model


def scores(p_sg: np.ndarray, p_cs: np.ndarray, groups) -> dict:
    """The paper's measures for both heads, in per cent."""
    groups = np.asarray(groups)
    sg = accuracy_table(p_sg, groups - 1)
    cs = accuracy_table(p_cs, crystal_systems(groups))
    out = {"n": sg["n"]}
    for tag, t in (("system", cs), ("group", sg)):
        out[f"{tag} weighted %"] = 100 * t["weighted_acc"]
        out[f"{tag} top-3 %"] = 100 * t["top3_acc"]
        out[f"{tag} balanced %"] = 100 * t["balanced_acc"]
    return out


def evaluate(model: XrdModel, ps: PatternSet, axes, split: str = "test", profile: Profile = None,
             name: str = "eval") -> tuple[dict, np.ndarray, np.ndarray, np.ndarray]:
    """(scores, space groups, P(space group), P(crystal system)) on ``axes`` x ``split``."""
    idx, imgs = split_images(ps, axes, split, profile, name)
    p_sg, p_cs = model.predict_proba(imgs)
    g = ps.meta["space_group"].to_numpy()[idx]
    return scores(p_sg, p_cs, g), g, p_sg, p_cs


def majority_rate(groups) -> float:
    """Share of the most common crystal system: what always guessing it would score."""
    cs = crystal_systems(np.asarray(groups))
    return float(np.bincount(cs, minlength=7).max() / max(len(cs), 1))


def system_confusion(p_cs: np.ndarray, groups) -> pd.DataFrame:
    """Row-normalised crystal-system confusion matrix in per cent (rows: truth)."""
    truth = crystal_systems(np.asarray(groups))
    pred = p_cs.argmax(1)
    m = np.zeros((7, 7))
    np.add.at(m, (truth, pred), 1)
    with np.errstate(invalid="ignore"):
        m = 100 * m / m.sum(1, keepdims=True)
    return pd.DataFrame(m, index=CRYSTAL_SYSTEMS, columns=CRYSTAL_SYSTEMS)


def simulate_images(crystals, axis, profile: Profile, rotation_deg=None) -> np.ndarray:
    """Patterns of arbitrary (e.g. perturbed) crystals along one axis, rendered at the
    profile's size; ``rotation_deg``: one in-plane angle per crystal."""
    shape = tuple(profile.xrd.image_shape)
    out = np.empty((len(crystals), *shape), dtype=np.uint8)
    for k, c in enumerate(crystals):
        rot = 0.0 if rotation_deg is None else float(rotation_deg[k])
        p = zone_axis_pattern(c, axis)
        out[k] = render_input(p.xy, p.intensity, shape, p.g_max, profile.xrd.representation, rotation_deg=rot)
    return out


def crystals_of(table: pd.DataFrame) -> list:
    return [crystal_of(r) for r in table.to_dict("records")]


def symmetry_baseline(ps: PatternSet, axes, seed: int = 0) -> tuple[dict, np.ndarray, np.ndarray]:
    """The reference classifier of ``features`` trained on the train split along ``axes`` and
    scored on the test split: (crystal-system scores in %, test space groups, P(system))."""
    g = ps.meta["space_group"].to_numpy()
    tr, te = ps.select(axes, "train"), ps.select(axes, "test")
    clf = fit_symmetry_baseline(feature_matrix(ps, tr), crystal_systems(g[tr]), seed)
    proba = np.zeros((len(te), len(CRYSTAL_SYSTEMS)))
    proba[:, clf.classes_] = clf.predict_proba(feature_matrix(ps, te))
    t = accuracy_table(proba, crystal_systems(g[te]))
    return ({"n": t["n"], "system weighted %": 100 * t["weighted_acc"],
             "system top-3 %": 100 * t["top3_acc"], "system balanced %": 100 * t["balanced_acc"]},
            g[te], proba)
