"""The XRD studies of notebooks 09-13 as small functions: the dataset, the four models, and
their evaluation on stored or freshly simulated patterns; then what the notebooks' cells compute
for their tables (per-group accuracy, centrosymmetry and enantiomorph confusion, the strain,
substitution and depletion studies) and the panels they draw (onto matplotlib axes they pass in)."""
from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

from ..core import storage
from ..core.profiles import Profile
from . import zone_axes
from .corpus import crystal_of, load_structures, spglib_group
from .features import feature_matrix, fit_symmetry_baseline
from .model import XrdModel, accuracy_table, make_config, train_xrd
from .pattern_symmetry import INTENSITY_TOL, LAUE_CLASSES, laue_class, pattern_symmetry
from .patterns import PatternSet, build_patterns
from .perturb import depletion_series, is_depletion_candidate, strained, substituted
from .simulate import Crystal, CrystalError, render_input, render_pattern, zone_axis_pattern
from .symmetry import (
    CRYSTAL_SYSTEMS,
    CUBIC,
    ENANTIOMORPHIC_PAIRS,
    centrosymmetric_groups,
    crystal_systems,
    international_symbol,
)

__all__ = ["ALL_AXES", "IA3D", "STRAINS", "SUBSTITUTION_LEVELS", "DEPLETION_LEVELS", "DEPLETION_AXES",
           "load_dataset", "split_images", "profile_images", "fit_model", "scores", "evaluate", "majority_rate",
           "system_confusion",
           "simulate_images", "crystals_of", "symmetry_baseline", "example_structure", "draw_structure",
           "draw_patterns", "bars_by_crystal_system", "accuracy_per_space_group", "accuracy_by_group_size",
           "centrosymmetry_top_k", "enantiomorph_confusion", "draw_pair_matrix", "score_crystals",
           "predicted_group", "strain_study", "substitution_sample", "substitution_study", "depletion_candidates",
           "depletion_study", "draw_depletion", "laue_rule"]

ALL_AXES = zone_axes.AXES_20 + zone_axes.UNSEEN       # every pattern set holds these 24 axes
IA3D = 230                                            # Ia-3d: the space group of the paper's Figure 2
STRAINS = (-0.10, -0.05, 0.0, 0.05, 0.10)             # isotropic strains of Table 5 (fractions)
SUBSTITUTION_LEVELS = (0.0, 0.01, 0.02, 0.05, 0.10, 0.25, 0.50)   # substituted shares of Table 6
DEPLETION_LEVELS = (0.0, 0.25, 0.50, 0.75, 1.0)       # removed shares of Tables 7-8
DEPLETION_AXES = ("100", "111")                       # the zone axes of Tables 5-8


def load_dataset(profile: Profile, source: str = "offline", cif_dir: str | None = None,
                 verbose: bool = True) -> tuple[pd.DataFrame, PatternSet]:
    """The XRD dataset: the structure table and its patterns along all 24 axes (``ALL_AXES``), cached.

    Args:
        profile: the run profile.
        source: ``"offline"`` (PyXtal random crystals) or ``"cif_dir"``.
        cif_dir: the folder of CIF files, for ``source="cif_dir"``.
        verbose: print progress.

    Returns:
        ``(table, patterns)``: the structure table with its split (``corpus.load_structures``) and
        the ``PatternSet``.
    """
    table = load_structures(profile, source, cif_dir, verbose=verbose)
    return table, build_patterns(table, ALL_AXES, profile, verbose=verbose)


def split_images(ps: PatternSet, axes, split: str, profile: Profile, name: str):
    """The patterns of one split along ``axes``, rendered at the profile's size and representation.

    Args:
        ps: the pattern set.
        axes: the zone axes.
        split: ``"train"``, ``"val"`` or ``"test"``.
        profile: the run profile (its ``xrd`` image shape, representation and cache limit).
        name: a tag for the cached image file.

    Returns:
        ``(indices, images)``: int array [n] of pattern indices and uint8 images [n, H, W] (0-255; a
        memory map or ``LazyImages``).
    """
    idx = ps.select(axes, split)
    return idx, profile_images(ps, idx, profile, f"{name}-{split}")


def profile_images(ps: PatternSet, indices, profile: Profile, name: str):
    """Patterns rendered at the profile's size and representation (cached below its limit).

    Args:
        ps: the pattern set.
        indices: [n] pattern indices.
        profile: the run profile (its ``xrd`` image shape, representation and cache limit).
        name: a tag for the cached image file.

    Returns:
        uint8 images [n, H, W] (0-255; a memory map or ``LazyImages``).
    """
    return ps.images(indices, tuple(profile.xrd.image_shape), profile.xrd.cache_limit_gb, name=name,
                     representation=profile.xrd.representation)


def fit_model(name: str, ps: PatternSet, profile: Profile, axes=None, force: bool = False,
              log=print) -> XrdModel:
    """model-1 .. model-4 (the paper's axis sets) trained on the train split (cached).

    Args:
        name: the model's name; its axes are ``zone_axes.AXIS_SETS[name]`` unless ``axes`` is given.
        ps: the pattern set.
        profile: the run profile.
        axes: the training zone axes; None for the paper's set of ``name``.
        force: train afresh even when the model is cached.
        log: where progress lines go (``print`` by default).

    Returns:
        The trained ``XrdModel`` (validated on the val split).

    Raises:
        KeyError: for a name outside ``AXIS_SETS`` without ``axes``.
    """
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
    """The paper's measures for both heads, in per cent.

    Args:
        p_sg: [n, 230] space-group probabilities.
        p_cs: [n, 7] crystal-system probabilities.
        groups: [n] true space-group numbers 1-230.

    Returns:
        A dict: ``n``, then ``"system weighted %"``, ``"system top-3 %"``, ``"system balanced %"``
        and the same three for ``"group"`` (``model.accuracy_table`` in per cent).
    """
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
    """(scores, space groups, P(space group), P(crystal system)) on ``axes`` x ``split``.

    Args:
        model: the trained model.
        ps: the pattern set.
        axes: the zone axes evaluated.
        split: the split evaluated (``"test"`` by default).
        profile: the run profile (image shape and representation); needed despite its default.
        name: a tag for the cached image file.

    Returns:
        ``(scores, groups, p_sg, p_cs)``: ``scores`` (per cent), the true space groups [n], and the
        probabilities [n, 230] and [n, 7].
    """
    idx, imgs = split_images(ps, axes, split, profile, name)
    p_sg, p_cs = model.predict_proba(imgs)
    g = ps.meta["space_group"].to_numpy()[idx]
    return scores(p_sg, p_cs, g), g, p_sg, p_cs


def majority_rate(groups) -> float:
    """Share of the most common crystal system: what always guessing it would score.

    Args:
        groups: space-group numbers 1-230.

    Returns:
        The share as a fraction in [0, 1] (not per cent); 0 for no groups.
    """
    cs = crystal_systems(np.asarray(groups))
    return float(np.bincount(cs, minlength=7).max() / max(len(cs), 1))


def system_confusion(p_cs: np.ndarray, groups) -> pd.DataFrame:
    """Row-normalised crystal-system confusion matrix in per cent (rows: truth).

    Args:
        p_cs: [n, 7] crystal-system probabilities (the prediction is the most probable).
        groups: [n] true space-group numbers 1-230.

    Returns:
        A 7 x 7 DataFrame indexed and labelled by ``CRYSTAL_SYSTEMS``, each row summing to 100 (NaN
        for a system absent from the truth).
    """
    truth = crystal_systems(np.asarray(groups))
    pred = p_cs.argmax(1)
    m = np.zeros((7, 7))
    np.add.at(m, (truth, pred), 1)
    with np.errstate(invalid="ignore"):
        m = 100 * m / m.sum(1, keepdims=True)
    return pd.DataFrame(m, index=CRYSTAL_SYSTEMS, columns=CRYSTAL_SYSTEMS)


def simulate_images(crystals, axis, profile: Profile, rotation_deg=None) -> np.ndarray:
    """Patterns of arbitrary (e.g. perturbed) crystals along one axis, rendered at the
    profile's size.

    Args:
        crystals: the ``Crystal`` objects.
        axis: the zone axis.
        profile: the run profile (its ``xrd`` image shape and representation).
        rotation_deg: one in-plane angle per crystal, in degrees; None for none.

    Returns:
        uint8 images [n, H, W], 0-255.
    """
    shape = tuple(profile.xrd.image_shape)
    out = np.empty((len(crystals), *shape), dtype=np.uint8)
    for k, c in enumerate(crystals):
        rot = 0.0 if rotation_deg is None else float(rotation_deg[k])
        p = zone_axis_pattern(c, axis)
        out[k] = render_input(p.xy, p.intensity, shape, p.g_max, profile.xrd.representation, rotation_deg=rot)
    return out


def crystals_of(table: pd.DataFrame) -> list:
    """The crystals of a structure table, in row order.

    Args:
        table: the structure table (``corpus.record`` rows).

    Returns:
        A list of ``Crystal`` (``corpus.crystal_of`` of each row).
    """
    return [crystal_of(r) for r in table.to_dict("records")]


def laue_rule(tables: dict, axes=zone_axes.AXES_20, intensity_noise: float = 0.0,
              seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each crystal's system from physics alone: the Laue class its patterns along the labelled axes
    bear out (``pattern_symmetry.laue_class``), beside the majority-class rate.

    With ``intensity_noise`` every spot's intensity is multiplied by 1 + noise x N(0, 1) (clipped at
    0, renormalised to the strongest), and two intensities count as equal within
    ``max(INTENSITY_TOL, 3 sqrt 2 x noise)`` of the larger (three standard deviations of the
    difference of two such values), so the rule is tried as an experiment with that noise would use it.

    The axes are indices of each crystal's own cell, so the tables should hold conventional cells
    (``corpus.conventional_cell``), as every real-crystal table of the package does. No training,
    one answer per crystal: a measure beyond the paper's, which classifies each pattern alone.

    Args:
        tables: ``{test set name: structure table (corpus.record rows)}``.
        axes: the zone axes of each crystal's patterns.
        intensity_noise: relative standard deviation of the intensities' noise (0: noise-free).
        seed: the noise's seed.

    Returns:
        ``(summary, misses)``: one summary row per test set (``test set``, ``intensity noise %``,
        ``crystals``, ``Laue-class rule %``, ``majority %``, ``skipped`` (crystals too large for a zone
        pattern)) and one row per
        crystal the rule gets wrong (``test set``, ``id``, ``space group``, ``crystal system``,
        ``Laue class found``, ``system found``).

    Raises:
        ValueError: for a negative or non-finite ``intensity_noise``.
    """
    if isinstance(intensity_noise, bool) or not isinstance(intensity_noise, numbers.Real) or \
            not (np.isfinite(intensity_noise) and intensity_noise >= 0):
        raise ValueError(f"intensity_noise must be a non-negative number, got {intensity_noise!r}")
    tol = max(INTENSITY_TOL, 3 * np.sqrt(2) * intensity_noise)
    rng = np.random.default_rng([seed, 7_230])
    rows, misses = [], []
    for name, table in tables.items():
        truth, found, skipped = [], [], 0
        for r in table.to_dict("records"):
            crystal = crystal_of(r)
            try:
                patterns = [zone_axis_pattern(crystal, a) for a in axes]
            except CrystalError:
                skipped += 1
                continue
            symmetries = []
            for p in patterns:
                inten = p.intensity
                if intensity_noise and len(inten):
                    inten = inten * np.clip(1 + intensity_noise * rng.standard_normal(len(inten)), 0, None)
                    inten = inten / inten.max() if inten.max() > 0 else inten
                # an empty zone (no reflection inside the limiting sphere) shows only Friedel's 2
                symmetries.append(pattern_symmetry(p.xy, inten, intensity_tol=tol) if len(inten) else "2")
            laue = laue_class(symmetries, axes)
            truth.append(int(r["crystal_system"]))
            found.append(LAUE_CLASSES[laue][1])
            if found[-1] != truth[-1]:
                misses.append({"test set": name, "id": r["id"], "space group": int(r["space_group"]),
                               "crystal system": CRYSTAL_SYSTEMS[truth[-1]], "Laue class found": laue,
                               "system found": CRYSTAL_SYSTEMS[found[-1]]})
        truth, found = np.asarray(truth, int), np.asarray(found, int)
        rows.append({"test set": name, "intensity noise %": 100 * intensity_noise, "crystals": len(truth),
                     "Laue-class rule %": 100 * float((truth == found).mean()) if len(truth) else np.nan,
                     "majority %": 100 * np.bincount(truth, minlength=7).max() / len(truth) if len(truth) else np.nan,
                     "skipped": skipped})
    return pd.DataFrame(rows), pd.DataFrame(misses, columns=["test set", "id", "space group", "crystal system",
                                                             "Laue class found", "system found"])


def symmetry_baseline(ps: PatternSet, axes, seed: int = 0) -> tuple[dict, np.ndarray, np.ndarray]:
    """The reference classifier of ``features`` trained on the train split along ``axes`` and
    scored on the test split: (crystal-system scores in %, test space groups, P(system)).

    Args:
        ps: the pattern set.
        axes: the zone axes trained and tested on.
        seed: the classifier's random state.

    Returns:
        ``(scores, groups, proba)``: ``n`` and ``"system weighted %"``, ``"system top-3 %"``,
        ``"system balanced %"`` (per cent); the test space groups [n]; P(crystal system) [n, 7].
    """
    g = ps.meta["space_group"].to_numpy()
    tr, te = ps.select(axes, "train"), ps.select(axes, "test")
    clf = fit_symmetry_baseline(feature_matrix(ps, tr), crystal_systems(g[tr]), seed)
    proba = np.zeros((len(te), len(CRYSTAL_SYSTEMS)))
    proba[:, clf.classes_] = clf.predict_proba(feature_matrix(ps, te))
    t = accuracy_table(proba, crystal_systems(g[te]))
    return ({"n": t["n"], "system weighted %": 100 * t["weighted_acc"],
             "system top-3 %": 100 * t["top3_acc"], "system balanced %": 100 * t["balanced_acc"]},
            g[te], proba)


# ------------------------------------------------------------------ notebook 09: Figure 2

def example_structure(table: pd.DataFrame, space_group: int = IA3D) -> pd.Series:
    """The structure Figure 2 shows: the one with the most atoms in ``space_group`` (the paper's
    Ia-3d), else the cubic one with the most atoms, else any with the most atoms.

    Args:
        table: the structure table (``space_group``, ``crystal_system`` and ``n_atoms`` columns).
        space_group: the space-group number preferred, 1-230.

    Returns:
        The chosen row of ``table``.

    Raises:
        IndexError: when the table is empty.
    """
    cubic = table[table.crystal_system == CUBIC]
    pick = cubic[cubic.space_group == space_group]
    pick = pick if len(pick) else (cubic if len(cubic) else table)
    return pick.sort_values("n_atoms", ascending=False).iloc[0]


def draw_structure(ax, crystal: Crystal, title: str) -> None:
    """Draw a crystal's atoms on a 3D matplotlib axes: one colour per element (legend), no axes box.

    Args:
        ax: a matplotlib axes with ``projection="3d"``.
        crystal: the structure (atoms at their Cartesian positions, Å).
        title: the panel's title.
    """
    cart = crystal.frac @ crystal.lattice
    for element in sorted(set(crystal.species)):
        on = np.array(crystal.species) == element
        ax.scatter(*cart[on].T, s=12, label=element)
    ax.set_title(title, fontsize=8)
    ax.set_axis_off()
    ax.legend(fontsize=6, loc="lower left")


def draw_patterns(axes, crystals, axis_names, titles, fontsize: int = 9) -> None:
    """Draw zone-axis disk patterns (``simulate.render_pattern`` at 321 x 322 px, inverted grey),
    one per matplotlib axes, titled, without ticks.

    Args:
        axes: the matplotlib axes, one per panel.
        crystals: one ``Crystal`` per panel, or one crystal for every panel.
        axis_names: one zone axis per panel, or one axis for every panel.
        titles: one title per panel.
        fontsize: the titles' font size in points.
    """
    n = len(titles)
    crystals = [crystals] * n if isinstance(crystals, Crystal) else crystals
    axis_names = [axis_names] * n if isinstance(axis_names, str) else axis_names
    for ax, crystal, axis_name, title in zip(axes, crystals, axis_names, titles):
        ax.imshow(render_pattern(zone_axis_pattern(crystal, axis_name)), cmap="gray_r")
        ax.set_title(title, fontsize=fontsize)
        ax.set_axis_off()


# ------------------------------------------------------------------ notebook 10: Figure 8

def bars_by_crystal_system(ax, values) -> None:
    """A bar per space group 1-230, coloured by crystal system (tab10 colours, the system named in
    the legend).

    Args:
        ax: a matplotlib axes.
        values: [230] the bar heights of space groups 1-230 (NaN: no bar).
    """
    from matplotlib import cm  # matplotlib only where a figure is drawn

    systems = crystal_systems(np.arange(1, 231))
    for i, name in enumerate(CRYSTAL_SYSTEMS):
        sel = systems == i
        ax.bar(np.arange(1, 231)[sel], np.asarray(values)[sel], width=1.0, color=cm.tab10(i), label=name)


def accuracy_per_space_group(p_group: np.ndarray, groups) -> pd.Series:
    """Top-1 space-group accuracy of each space group's patterns.

    Args:
        p_group: [n, 230] space-group probabilities.
        groups: [n] true space-group numbers 1-230.

    Returns:
        A Series indexed by space group 1-230: accuracy in per cent, NaN for groups without a pattern.
    """
    truth = np.asarray(groups) - 1
    pred = p_group.argmax(1)
    return pd.Series([(pred[truth == k] == k).mean() * 100 if (truth == k).any() else np.nan for k in range(230)],
                     index=range(1, 231))


def accuracy_by_group_size(accuracy: pd.Series, table: pd.DataFrame,
                           edges=(0, 2, 5, 10, 50, 500, 10**6)) -> pd.DataFrame:
    """Mean space-group accuracy of the groups binned by their number of training structures
    (the paper's SI Tables A-B).

    Args:
        accuracy: per-space-group accuracy in per cent, indexed 1-230 (``accuracy_per_space_group``).
        table: the structure table (``space_group`` and ``split`` columns).
        edges: bin edges in training structures per group (bins closed on the right).

    Returns:
        A DataFrame, one row per non-empty bin: ``train structures per group`` (the bin, as text),
        ``space groups`` (count of groups with an accuracy) and ``mean accuracy %``.
    """
    n_train = table[table.split == "train"].groupby("space_group").size().reindex(range(1, 231), fill_value=0)
    by_count = pd.DataFrame({"train structures": n_train, "accuracy %": accuracy}).dropna()
    bins = pd.cut(by_count["train structures"], list(edges), right=True)
    out = by_count.groupby(bins, observed=True)["accuracy %"].agg(["size", "mean"]).reset_index()
    out.columns = ["train structures per group", "space groups", "mean accuracy %"]
    out["train structures per group"] = out["train structures per group"].astype(str)
    return out


# ------------------------------------------------------------------ notebook 11: Figures 5 and 6

def centrosymmetry_top_k(p_group: np.ndarray, groups, ks=(1, 2, 3)) -> tuple[pd.DataFrame, dict]:
    """Centrosymmetric (CS) or not: the truth against the top-k predicted space groups (Fig. 5).

    Within the top k, a pattern counts as right when any of the k groups has the true
    centrosymmetry, else it takes the most probable group's.

    Args:
        p_group: [n, 230] space-group probabilities.
        groups: [n] true space-group numbers 1-230.
        ks: the values of k.

    Returns:
        ``(table, matrices)``: one row per k with the four row percentages (``"CS -> CS %"``,
        ``"CS -> non-CS %"``, ``"non-CS -> CS %"``, ``"non-CS -> non-CS %"``) and the counts ``n CS``,
        ``n non-CS``; and, per k, the 2 x 2 matrix in row per cent (rows: truth CS, non-CS; columns:
        predicted; NaN for a row without patterns).
    """
    centrosymmetric = np.array(centrosymmetric_groups())
    truth_cs = np.isin(groups, centrosymmetric)
    order = np.argsort(-p_group, axis=1) + 1                  # space-group numbers, most probable first
    rows, matrices = [], {}
    for k in ks:
        topk_cs = np.isin(order[:, :k], centrosymmetric)
        hit = (topk_cs == truth_cs[:, None]).any(axis=1)
        pred_cs = np.where(hit, truth_cs, topk_cs[:, 0])
        m = np.zeros((2, 2))
        for i, t in enumerate((True, False)):
            for j, p in enumerate((True, False)):
                m[i, j] = 100 * np.mean(pred_cs[truth_cs == t] == p) if (truth_cs == t).any() else np.nan
        matrices[k] = m
        rows.append({"top-k": k, "CS -> CS %": m[0, 0], "CS -> non-CS %": m[0, 1],
                     "non-CS -> CS %": m[1, 0], "non-CS -> non-CS %": m[1, 1],
                     "n CS": int(truth_cs.sum()), "n non-CS": int((~truth_cs).sum())})
    return pd.DataFrame(rows), matrices


def enantiomorph_confusion(p_group: np.ndarray, groups) -> tuple[pd.DataFrame, dict]:
    """How the top-1 prediction splits the patterns of each enantiomorphic pair (Fig. 6).

    Args:
        p_group: [n, 230] space-group probabilities.
        groups: [n] true space-group numbers 1-230.

    Returns:
        ``(table, matrices)``: one row per pair of ``symmetry.ENANTIOMORPHIC_PAIRS`` (its numbers,
        symbols, patterns ``n`` and six row percentages: first / second member predicted as the first,
        the second or another group); and, per pair ``(first, second)``, the 2 x 3 matrix in row per
        cent (rows: true member; columns: first, second, other; NaN for a member without patterns).
    """
    groups = np.asarray(groups)
    pred = p_group.argmax(1) + 1
    rows, matrices = [], {}
    for x, y in ENANTIOMORPHIC_PAIRS:
        m = np.full((2, 3), np.nan)
        for i, t in enumerate((x, y)):
            sel = groups == t
            if sel.any():
                m[i] = [100 * np.mean(pred[sel] == x), 100 * np.mean(pred[sel] == y),
                        100 * np.mean(~np.isin(pred[sel], [x, y]))]
        rows.append({"pair": f"{x} / {y}",
                     "symbols": f"{international_symbol(x)} / {international_symbol(y)}",
                     "n": int(np.isin(groups, [x, y]).sum()), "first -> first %": m[0, 0],
                     "first -> second %": m[0, 1], "second -> first %": m[1, 0], "second -> second %": m[1, 1],
                     "first -> other %": m[0, 2], "second -> other %": m[1, 2]})
        matrices[(x, y)] = m
    return pd.DataFrame(rows), matrices


def draw_pair_matrix(ax, matrix: np.ndarray, pair) -> None:
    """Draw one enantiomorphic pair's 2 x 3 matrix (``enantiomorph_confusion``): blue 0-100 %, the
    values written in, the members' numbers and symbols as labels and title.

    Args:
        ax: a matplotlib axes.
        matrix: [2, 3] row per cent (NaN: no patterns, drawn as 0 and left blank).
        pair: the two space-group numbers (first, second).
    """
    x, y = pair
    ax.imshow(np.nan_to_num(matrix), cmap="Blues", vmin=0, vmax=100)
    for (i, j), v in np.ndenumerate(matrix):
        ax.text(j, i, "" if np.isnan(v) else f"{v:.0f}", ha="center", va="center", fontsize=7)
    ax.set_xticks(range(3), [str(x), str(y), "other"], fontsize=7)
    ax.set_yticks(range(2), [str(x), str(y)], fontsize=7)
    ax.set_title(f"{international_symbol(x)} / {international_symbol(y)}", fontsize=8)


# ------------------------------------------------------------------ notebook 13: perturbations

def score_crystals(model: XrdModel, crystals, axis, groups, profile: Profile,
                   rotation_deg=None) -> tuple[dict, np.ndarray]:
    """Score a model on freshly simulated patterns of (e.g. perturbed) crystals along one axis.

    Args:
        model: the trained model.
        crystals: the ``Crystal`` objects.
        axis: the zone axis.
        groups: [n] the space-group numbers 1-230 they are scored against.
        profile: the run profile (image shape and representation).
        rotation_deg: one in-plane angle per crystal, in degrees; None for none.

    Returns:
        ``(scores, p_group)``: ``scores`` (per cent) and the space-group probabilities [n, 230].
    """
    p_group, p_system = model.predict_proba(simulate_images(crystals, axis, profile, rotation_deg))
    return scores(p_group, p_system, groups), p_group


def predicted_group(model: XrdModel, crystal: Crystal, axis, profile: Profile) -> int:
    """The most probable space group of one crystal's freshly simulated pattern along ``axis``.

    Args:
        model: the trained model.
        crystal: the structure.
        axis: the zone axis.
        profile: the run profile (image shape and representation).

    Returns:
        The space-group number, 1-230.
    """
    return int(model.predict_proba(simulate_images([crystal], axis, profile))[0].argmax(1)[0] + 1)


def strain_study(model: XrdModel, table: pd.DataFrame, profile: Profile, n: int, strains=STRAINS,
                 axes=DEPLETION_AXES) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The model on isotropically strained cubic structures (the paper's Table 5).

    Args:
        model: the trained model.
        table: the structures to draw from (notebook 13: the training split).
        profile: the run profile (its seed draws the sample).
        n: the most cubic structures used.
        strains: the isotropic strains, as fractions (-0.1: 10 % compression).
        axes: the zone axes.

    Returns:
        ``(cubic, results)``: the cubic structures used (a sample of ``table``), and one row per
        (axis, strain): ``zone axis``, ``strain %`` and the ``scores`` (per cent) against the
        unstrained space group.
    """
    cubic = table[table.crystal_system == CUBIC]
    cubic = cubic.sample(min(n, len(cubic)), random_state=profile.seed)
    crystals = crystals_of(cubic)
    rows = []
    for axis_name in axes:
        for strain in strains:
            result, _ = score_crystals(model, [strained(c, strain) for c in crystals], axis_name,
                                       cubic.space_group.to_numpy(), profile)
            rows.append({"zone axis": zone_axes.label(axis_name), "strain %": round(100 * strain), **result})
    return cubic, pd.DataFrame(rows)


def substitution_sample(table: pd.DataFrame, n: int, seed: int, min_atoms: int = 100,
                        min_sample: int = 20) -> tuple[pd.DataFrame, str]:
    """The structures of the substitution study: a sample of those with at least ``min_atoms`` atoms
    (as the paper), or of the largest when fewer than ``min(n, min_sample)`` have that many.

    Args:
        table: the structures to draw from (notebook 13: the training split; ``n_atoms`` column).
        n: the most structures used.
        seed: the sample's random state.
        min_atoms: the paper's smallest cell, in atoms.
        min_sample: below this many (or ``n``) such structures, the largest are used instead.

    Returns:
        ``(sample, note)``: the sampled rows and a sentence saying which structures they are.
    """
    big = table[table.n_atoms >= min_atoms]
    note = f"structures with >= {min_atoms} atoms, as the paper"
    if len(big) < min(n, min_sample):
        big = table.sort_values("n_atoms", ascending=False).head(min(n, len(table)))
        note = (f"only {int((table.n_atoms >= min_atoms).sum())} training structures have >= {min_atoms} atoms in "
                f"this profile, so the {len(big)} largest are used (>= {int(big.n_atoms.min())} atoms)")
    return big.sample(min(n, len(big)), random_state=seed), note


def substitution_study(model: XrdModel, crystals, groups, profile: Profile, levels=SUBSTITUTION_LEVELS,
                       axes=DEPLETION_AXES) -> tuple[pd.DataFrame, dict]:
    """The model on randomly substituted structures (the paper's Table 6).

    Each level draws its substitutions from its own generator (seeded by the profile's seed and the
    level), the same for every axis.

    Args:
        model: the trained model.
        crystals: the original ``Crystal`` objects.
        groups: [n] their space-group numbers 1-230 (scored against, as the paper).
        profile: the run profile (its seed; image shape and representation).
        levels: the substituted shares of the atoms, each in [0, 1].
        axes: the zone axes.

    Returns:
        ``(results, examples)``: one row per (axis, level): ``zone axis``, ``substituted %``, the
        ``scores`` (per cent) and ``spglib still finds the group %``; and, per level, the first
        substituted crystal.
    """
    rows, examples = [], {}
    for axis_name in axes:
        for level in levels:
            level_rng = np.random.default_rng([profile.seed, 6, int(1000 * level)])
            changed = [substituted(c, level, level_rng) for c in crystals]
            result, _ = score_crystals(model, changed, axis_name, groups, profile)
            kept = np.mean([spglib_group(c) == g for c, g in zip(changed, groups)])
            rows.append({"zone axis": zone_axes.label(axis_name), "substituted %": round(100 * level), **result,
                         "spglib still finds the group %": 100 * kept})
            examples[level] = changed[0]
    return pd.DataFrame(rows), examples


def depletion_candidates(pools, target: str, n: int = 5) -> list:
    """The first ``n`` depletion candidates towards ``target`` (``perturb.is_depletion_candidate``),
    searching the pools in order.

    Args:
        pools: structure tables (``corpus.record`` rows), searched in order.
        target: ``"bcc"`` or ``"fcc"``.
        n: the most candidates returned.

    Returns:
        A list of ``(row, crystal)``: the row as a dict and its ``Crystal``.
    """
    return [(r, c) for pool in pools for r, c in zip(pool.to_dict("records"), crystals_of(pool))
            if is_depletion_candidate(c, r["space_group"], target)][:n]


def depletion_study(model: XrdModel, pools, profile: Profile, levels=DEPLETION_LEVELS,
                    targets=("bcc", "fcc"), n: int = 5) -> tuple[pd.DataFrame, dict]:
    """Depletion towards b.c.c. and f.c.c.: spglib on the 3D structure against the model's space
    group along [100] and [111] (the paper's Tables 7-8).

    Each candidate's series draws from its own generator (seeded by the profile's seed and the
    number of rows before it).

    Args:
        model: the trained model (model-4 in notebook 13; the columns are named for it).
        pools: structure tables searched in order for candidates (``depletion_candidates``).
        profile: the run profile (its seed; image shape and representation).
        levels: the removed shares of the off-key-site atoms, each in [0, 1].
        targets: the paths, ``"bcc"`` and/or ``"fcc"``.
        n: the most candidates per target.

    Returns:
        ``(results, examples)``: one row per (candidate, level): ``path``, ``structure``, ``source``,
        ``formula``, ``depleted %``, ``atoms``, ``spglib (3D)``, ``model-4 [100]``, ``model-4 [111]``
        and ``model cubic [100]`` (the [100] prediction is a cubic group); a single "none" row with a
        note when no candidate exists. And, per target with a candidate, ``(id, crystal)`` of its first.
    """
    rows, examples = [], {}
    for target in targets:
        for r, c in depletion_candidates(pools, target, n):
            series = depletion_series(c, target, levels, np.random.default_rng([profile.seed, 7, len(rows)]))
            for level, d in zip(levels, series):
                pred = {a: predicted_group(model, d, a, profile) for a in DEPLETION_AXES}
                rows.append({"path": f"non-{target} -> {target}", "structure": r["id"], "source": r["source"],
                             "formula": r["formula"], "depleted %": round(100 * level), "atoms": len(d.species),
                             "spglib (3D)": spglib_group(d), "model-4 [100]": pred["100"],
                             "model-4 [111]": pred["111"]})
            examples.setdefault(target, (r["id"], c))
    results = pd.DataFrame(rows)
    if len(results):
        results["model cubic [100]"] = crystal_systems(results["model-4 [100]"].to_numpy()) == CUBIC
    else:
        results = pd.DataFrame([{"path": "none", "structure": "", "note": "no candidate structure in this corpus"}])
    return results, examples


def draw_depletion(axes, crystal: Crystal, target: str, levels, rng) -> None:
    """Draw one crystal's depletion series along [100] (first row) and [111] (second row), each
    panel titled with its level, axis and spglib's space group of the 3D structure.

    Args:
        axes: [2, len(levels)] matplotlib axes.
        crystal: the depletion candidate.
        target: ``"bcc"`` or ``"fcc"``.
        levels: the removed shares of the off-key-site atoms, each in [0, 1].
        rng: a ``numpy.random.Generator`` for the series (``perturb.depletion_series``).
    """
    series = depletion_series(crystal, target, levels, rng)
    for row_axes, axis_name in zip(axes, DEPLETION_AXES):
        titles = [f"{100 * f:.0f} % depleted, {zone_axes.label(axis_name)}, sg {spglib_group(d)}"
                  for f, d in zip(levels, series)]
        draw_patterns(row_axes, series, axis_name, titles, fontsize=7)
