"""Does model-4 learn crystals or PyXtal? Training on random crystals, on real structure types, or
on both, scored on real structure types it has never seen.

The real test set is the AFLOW prototypes held out by structure type (``prototype_corpus.
split_by_prototype``): no prototype, and none of its decorations, is in training. Three training
mixes, each model-4 (the paper's 20 axes) at the profile's settings:

* ``pyxtal``: the profile's PyXtal corpus (what notebooks 10-13 train on);
* ``prototypes``: the training prototypes and their decorations;
* ``mixture``: both, the PyXtal crystals only for the space groups the training prototypes do not
  cover.

Each is scored on the held-out prototypes themselves (real crystals), on their decorations, on the
other real crystals that ship inside pymatgen (``corpus.package_crystals``; those whose AFLOW type is
among the training prototypes are left out) and on the PyXtal test split, beside the majority-class
rate of each test set. Beside model-4 stand the reference feature classifier (``features``) trained
on the same mix, and the two combined (``model-4 x features``: their crystal-system probabilities
multiplied and renormalised), each with its answer restricted to what the pattern's symmetry admits.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..core import paths, storage
from ..core.profiles import Profile
from . import zone_axes
from .corpus import load_structures, package_crystals
from .model import XrdModel, make_config, train_xrd
from .features import feature_matrix, fit_symmetry_baseline
from .patterns import PatternSet, build_patterns
from .pattern_symmetry import ceiling_summary, crystal_summary, pattern_symmetry
from .prototype_corpus import prototype_corpus, split_by_prototype
from .studies import majority_rate, profile_images, scores, system_confusion
from .symmetry import crystal_systems

__all__ = ["MIXES", "TEST_SETS", "PROTOTYPE_SPLIT", "AXES", "prototype_table", "load_sets", "training_indices",
           "held_out_indices", "train_mix", "train_features", "combine", "CLASSIFIERS", "score_mixes", "PER_PROTOTYPE",
           "draw_mixes"]

MIXES = ("pyxtal", "prototypes", "mixture")
CLASSIFIERS = ("model-4", "features", "model-4 x features")
TEST_SETS = ("held-out prototypes", "their decorations", "other real crystals", "PyXtal test split")
# structure types to train / val / test: a test set of real crystals large enough to score
PROTOTYPE_SPLIT = (0.6, 0.1, 0.3)
AXES = zone_axes.AXES_20
CORPUS_VERSION = 2       # 2: the prototypes themselves in their conventional cells, as their decorations
PER_PROTOTYPE = {"smoke": 1, "quick": 8, "paper": 20}   # decorations per prototype, by profile


def prototype_table(profile: Profile, per_prototype: int, verbose: bool = True) -> pd.DataFrame:
    """The prototypes and their decorations with the split by prototype (cached as JSON).

    Args:
        profile: the run profile (its seed).
        per_prototype: decorations drawn per prototype.
        verbose: say when the table is built.

    Returns:
        ``prototype_corpus.prototype_corpus`` rows with a ``split`` column.
    """
    key = storage.content_key(CORPUS_VERSION, per_prototype, profile.seed, PROTOTYPE_SPLIT)
    path = paths.CORPORA / f"xrd-prototypes-{per_prototype}-{key}.json.gz"
    if path.exists():
        try:
            return pd.DataFrame(storage.read_json_object(path, "prototype corpus")["rows"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            print(f"{paths.relative(path)} is unreadable ({exc}); rebuilding it")
    if verbose:
        print(f"decorating the AFLOW prototypes, {per_prototype} each ...")
    table = prototype_corpus(per_prototype, profile.seed)
    table["split"] = split_by_prototype(table, PROTOTYPE_SPLIT, profile.seed)
    storage.write_json(path, {"rows": table.to_dict("records")}, gz=True)
    return table


def load_sets(profile: Profile, per_prototype: int, verbose: bool = True):
    """Both structure sets and their patterns along the 20 axes.

    Args:
        profile: the run profile.
        per_prototype: decorations per prototype.
        verbose: print progress.

    Returns:
        ``{"pyxtal": (table, PatternSet), "prototypes": (table, PatternSet), "package": (table,
        PatternSet)}``; the package crystals all in the test split, those of a training type left out.
    """
    px = load_structures(profile, verbose=verbose)
    pr = prototype_table(profile, per_prototype, verbose)
    seen = set(pr.loc[pr["split"] != "test", "prototype"])
    pk = package_crystals()
    pk = pk[~pk["aflow_match"].isin(seen)].reset_index(drop=True)
    pk["split"] = "test"
    return {"pyxtal": (px, build_patterns(px, AXES, profile, verbose=verbose)),
            "prototypes": (pr, build_patterns(pr, AXES, profile, verbose=verbose)),
            "package": (pk, build_patterns(pk, AXES, profile, verbose=verbose))}


def training_indices(sets: dict, mix: str, split: str) -> dict:
    """Pattern indices of each set that a mix trains (``split="train"``) or validates on.

    Args:
        sets: ``load_sets``.
        mix: one of ``MIXES``.
        split: ``"train"`` or ``"val"``.

    Returns:
        ``{set name: int array of pattern indices}`` (sets the mix does not use are left out).

    Raises:
        ValueError: for an unknown mix.
    """
    if mix not in MIXES:
        raise ValueError(f"unknown training mix {mix!r}: use one of {', '.join(MIXES)}")
    out = {}
    if mix in ("prototypes", "mixture"):
        out["prototypes"] = sets["prototypes"][1].select(AXES, split)
    if mix in ("pyxtal", "mixture"):
        ps = sets["pyxtal"][1]
        idx = ps.select(AXES, split)
        if mix == "mixture":
            covered = sets["prototypes"][0].query("split == 'train'")["space_group"].unique()
            idx = idx[~np.isin(ps.meta["space_group"].to_numpy()[idx], covered)]
        out["pyxtal"] = idx
    return out


def _images(ps: PatternSet, idx, profile: Profile, name: str) -> np.ndarray:
    return np.asarray(profile_images(ps, idx, profile, name))


def _stack(sets: dict, chosen: dict, profile: Profile, name: str):
    images, groups = [], []
    for set_name, idx in chosen.items():
        ps = sets[set_name][1]
        images.append(_images(ps, idx, profile, name))
        groups.append(ps.meta["space_group"].to_numpy()[idx])
    return np.concatenate(images), np.concatenate(groups)


def train_mix(sets: dict, mix: str, profile: Profile, log=print) -> tuple[XrdModel, int]:
    """Model-4 trained on one mix (cached by the patterns it sees).

    Args:
        sets: ``load_sets``.
        mix: one of ``MIXES``.
        profile: the run profile (the network's settings).
        log: where progress lines go.

    Returns:
        ``(model, number of training patterns)``.
    """
    tr, va = training_indices(sets, mix, "train"), training_indices(sets, mix, "val")
    X, g = _stack(sets, tr, profile, f"mix-{mix}")
    V, gv = _stack(sets, va, profile, f"mix-{mix}")
    key = storage.content_key({k: (sets[k][1].root.name, v.tolist()) for k, v in tr.items()})
    cfg = make_config(f"model-4-{mix}", profile, key)
    return train_xrd(cfg, X, g, V, gv, log=log), len(g)


def train_features(sets: dict, mix: str, seed: int = 0):
    """The reference feature classifier (``features.fit_symmetry_baseline``) on one mix's training patterns.

    Args:
        sets: ``load_sets``.
        mix: one of ``MIXES``.
        seed: the classifier's random state.

    Returns:
        The fitted classifier (crystal systems 0-6).
    """
    tr = training_indices(sets, mix, "train")
    X = np.concatenate([feature_matrix(sets[k][1], v) for k, v in tr.items()])
    g = np.concatenate([sets[k][1].meta["space_group"].to_numpy()[v] for k, v in tr.items()])
    return fit_symmetry_baseline(X, crystal_systems(g), seed)


def _feature_proba(clf, ps: PatternSet, idx) -> np.ndarray:
    proba = np.zeros((len(idx), 7))
    proba[:, clf.classes_] = clf.predict_proba(feature_matrix(ps, idx))
    return proba


def combine(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Two classifiers' probabilities over the same classes multiplied and renormalised (each row).

    Args:
        p: [n, k] probabilities of one classifier.
        q: [n, k] probabilities of the other.

    Returns:
        [n, k] probabilities (rows sum to 1). Probabilities are floored at 1e-12 first, so a class
        one classifier rules out stays far below any class both allow; where the two rule out each
        other's every choice, the floors decide.
    """
    log = np.log(np.clip(p, 1e-12, None)) + np.log(np.clip(q, 1e-12, None))
    w = np.exp(log - log.max(axis=1, keepdims=True))
    return w / w.sum(axis=1, keepdims=True)


def held_out_indices(sets: dict) -> dict:
    """The three test sets (``TEST_SETS``).

    Args:
        sets: ``load_sets``.

    Returns:
        ``{test set: (set name, int array of pattern indices)}``.
    """
    pr_table, pr = sets["prototypes"]
    test = pr.select(AXES, "test")
    own = pr_table["substitution"].to_numpy()[pr.meta["structure"].to_numpy()[test]] == ""
    return {TEST_SETS[0]: ("prototypes", test[own]), TEST_SETS[1]: ("prototypes", test[~own]),
            TEST_SETS[2]: ("package", sets["package"][1].select(AXES, "test")),
            TEST_SETS[3]: ("pyxtal", sets["pyxtal"][1].select(AXES, "test"))}


def score_mixes(sets: dict, profile: Profile, mixes=MIXES, log=print) -> tuple[pd.DataFrame, dict]:
    """Every mix's model-4 on every test set: crystal-system and space-group accuracy.

    Args:
        sets: ``load_sets``.
        profile: the run profile.
        mixes: the training mixes.
        log: where progress lines go.

    Returns:
        ``(table, confusions)``: one row per mix, classifier (``CLASSIFIERS``) and test set
        (``training``, ``classifier``, ``train patterns``,
        ``test set``, ``n``, crystal-system weighted / balanced / top-3 %, space-group weighted %,
        ``majority %``; from ``pattern_symmetry.ceiling_summary``: ``within physics %`` (the most
        probable system the pattern's symmetry admits), ``outside physics %`` (predictions it
        forbids), ``symmetry-only ceiling %`` and ``admitted systems`` (mean count)); beyond the
        paper, one answer per crystal from all its patterns (``pattern_symmetry.crystal_summary``):
        ``crystals``, ``contradicting crystals`` (whose patterns admit no common system: left
        unconstrained), ``per crystal %`` (probabilities summed in log), ``per crystal within physics %``
        (among the systems every one of its patterns admits), ``crystal symmetry-only ceiling %`` and
        ``Laue-class rule per crystal %`` (no classifier: the Laue class its 20 labelled patterns bear
        out, ``pattern_symmetry.laue_class``; the same on every row of a test set);
        space-group accuracy for model-4 only; and ``{(mix, classifier, test set): system_confusion}``.
    """
    tests = held_out_indices(sets)
    symmetries = {name: [pattern_symmetry(*sets[set_name][1].spots(int(i))) for i in idx]
                  for name, (set_name, idx) in tests.items()}
    # physics alone, one answer per crystal from its labelled patterns: the same for every mix
    laue = {name: crystal_summary(sets[set_name][1].meta["structure"].to_numpy()[idx], symmetries[name],
                                  crystal_systems(sets[set_name][1].meta["space_group"].to_numpy()[idx]),
                                  axes=sets[set_name][1].meta["axis"].to_numpy()[idx])["crystal Laue-class rule %"]
            for name, (set_name, idx) in tests.items()}
    rows, confusions = [], {}
    for mix in mixes:
        model, n_train = train_mix(sets, mix, profile, log)
        features = train_features(sets, mix)
        for test_name, (set_name, idx) in tests.items():
            ps = sets[set_name][1]
            p_sg, p_cs = model.predict_proba(_images(ps, idx, profile, "mix-test"))
            q_cs = _feature_proba(features, ps, idx)
            g = ps.meta["space_group"].to_numpy()[idx]
            truth = crystal_systems(g)
            for classifier, p in zip(CLASSIFIERS, (p_cs, q_cs, combine(p_cs, q_cs))):
                s = scores(p_sg, p, g)
                physics = ceiling_summary(symmetries[test_name], truth, p)
                whole = crystal_summary(ps.meta["structure"].to_numpy()[idx], symmetries[test_name], truth, p)
                rows.append({"training": mix, "classifier": classifier, "train patterns": n_train,
                             "test set": test_name, "n": len(idx),
                             "system weighted %": s["system weighted %"], "system balanced %": s["system balanced %"],
                             "system top-3 %": s["system top-3 %"],
                             "group weighted %": s["group weighted %"] if classifier == "model-4" else np.nan,
                             "majority %": 100 * majority_rate(g),
                             "within physics %": physics["classifier within physics %"],
                             "outside physics %": physics["classifier outside physics %"],
                             "symmetry-only ceiling %": physics["symmetry-only ceiling %"],
                             "admitted systems": physics["mean admitted systems"],
                             "crystals": whole["crystals"],
                             "contradicting crystals": whole["crystals with contradicting patterns"],
                             "per crystal %": whole["crystal classifier %"],
                             "per crystal within physics %": whole["crystal classifier within physics %"],
                             "crystal symmetry-only ceiling %": whole["crystal symmetry-only ceiling %"],
                             "Laue-class rule per crystal %": laue[test_name]})
                confusions[(mix, classifier, test_name)] = system_confusion(p, g)
    return pd.DataFrame(rows), confusions


def draw_mixes(ax, table: pd.DataFrame) -> None:
    """Model-4's crystal-system accuracy of each training mix on each test set, grouped bars (per pattern, as
    the paper scores), open circles for one answer per crystal from all its patterns within what
    their symmetry admits, and each test set's majority rate and symmetry-only ceiling as marks.

    Args:
        ax: a matplotlib axis.
        table: ``score_mixes``' table.
    """
    if "classifier" in table:
        table = table[table["classifier"] == CLASSIFIERS[0]]
    tests = [t for t in TEST_SETS if t in set(table["test set"])]
    mixes = [m for m in MIXES if m in set(table["training"])]
    width = 0.8 / max(len(mixes), 1)
    x = np.arange(len(tests))
    for k, mix in enumerate(mixes):
        d = table[table["training"] == mix].set_index("test set").reindex(tests)
        at = x + (k - (len(mixes) - 1) / 2) * width
        ax.bar(at, d["system weighted %"], width, label=f"trained on {mix}", color=f"C{k}")
        if "per crystal within physics %" in d:
            # one answer per crystal from its 20 patterns and their symmetry: beyond the paper's measure
            ax.scatter(at, d["per crystal within physics %"], marker="o", facecolors="none", edgecolors=f"C{k}",
                       zorder=4, label="per crystal, 20 patterns + symmetry" if k == 0 else None)
    ref = table.drop_duplicates("test set").set_index("test set").reindex(tests)
    ax.scatter(x, ref["majority %"], marker="_", s=900, color="k", zorder=3, label="majority class")
    if "symmetry-only ceiling %" in ref:
        ax.scatter(x, ref["symmetry-only ceiling %"], marker="_", s=900, color="C3", zorder=3,
                   label="best rule from the pattern's symmetry alone")
    ax.set_xticks(x, tests)
    ax.set_ylabel("crystal-system accuracy (%)")
    ax.set_ylim(0, 100)
    ax.legend(fontsize=8)
