"""What one zone-axis pattern can say about the crystal system: the physics ceiling.

A kinematic zero-order-Laue-zone pattern obeys Friedel's law, so its intensities always carry a
2-fold rotation about the direct beam; beyond that they carry the symmetry of the crystal's Laue
class projected along the axis (rotations about the axis, and mirror lines from mirrors containing
it or 2-fold axes perpendicular to it). The pattern's 2D point group therefore bounds the crystal
systems that can have produced it:

=========  ==============================================================
pattern    crystal systems that can show it along some axis
=========  ==============================================================
2          every system (any crystal along a general axis)
2mm        every system but triclinic
4          tetragonal (4/m along c)
4mm        tetragonal (4/mmm along c), cubic (m-3m along <100>)
6          trigonal (-3 along c), hexagonal (6/m), cubic (m-3 along <111>)
6mm        trigonal (-3m), hexagonal (6/mmm), cubic (m-3m along <111>)
=========  ==============================================================

No classifier that sees one pattern can separate the systems of one row except by the metric of
the net and the intensities' values, so a row with several systems is where the physics, not the
model, limits the accuracy. Everything here works on spot lists (positions in 1/Å about the
direct beam, intensities relative to the strongest): no I/O.

One crystal seen along several axes is bound by every one of its patterns at once: its system is
among those that all its patterns admit (a cubic crystal's 4mm along <100> and 6mm along <111>
leave only cubic). ``crystal_summary`` scores a classifier that way, beyond the paper, which
classifies each pattern alone.

The table above bounds what one pattern admits; read along known axes of the conventional cell,
the patterns say more. Each Laue class predicts, axis by axis, exactly which 2D group its patterns
show (``expected_symmetry``: the operations of the class that keep the beam's line, acting on the
zone); ``laue_class`` picks the class whose predictions the observed patterns bear out (a crystal
shows at least its class's symmetry along every axis, and exactly it unless intensities agree by
accident). Each Laue class belongs to one crystal system, so twenty labelled patterns of a crystal
in its conventional cell decide its system by physics alone, with no training.
"""
from __future__ import annotations

import numbers
from functools import lru_cache

import numpy as np
from scipy.spatial import cKDTree

from .simulate import parse_zone_axis, zone_basis
from .symmetry import CRYSTAL_SYSTEMS, rotations

__all__ = ["PATTERN_GROUPS", "CONSISTENT", "MIN_INTENSITY", "INTENSITY_TOL", "LAUE_CLASSES", "pattern_symmetry",
           "consistent_systems", "expected_symmetry", "contains", "laue_class", "ceiling_summary", "crystal_summary"]

PATTERN_GROUPS = ("2", "2mm", "4", "4mm", "6", "6mm")
_ALL = tuple(range(7))
CONSISTENT = {"2": _ALL, "2mm": _ALL[1:],
              "4": (CRYSTAL_SYSTEMS.index("tetragonal"),),
              "4mm": (CRYSTAL_SYSTEMS.index("tetragonal"), CRYSTAL_SYSTEMS.index("cubic")),
              "6": (CRYSTAL_SYSTEMS.index("trigonal"), CRYSTAL_SYSTEMS.index("hexagonal"),
                    CRYSTAL_SYSTEMS.index("cubic")),
              "6mm": (CRYSTAL_SYSTEMS.index("trigonal"), CRYSTAL_SYSTEMS.index("hexagonal"),
                      CRYSTAL_SYSTEMS.index("cubic"))}
MIN_INTENSITY = 0.01        # spots weaker than this share of the strongest are not compared
POSITION_TOL = 0.004        # relative: a mapped spot lies within this share of its |g| (+ 1e-3 1/Å)
INTENSITY_TOL = 0.05        # relative: and its intensity within this share (+ 0.002)
MATCHED_SHARE = 0.95        # share of the compared intensity that must map onto an equal spot

# Laue class -> (a space group of it in spglib's standard setting, its crystal system), lowest first;
# trigonal in hexagonal axes, where -3m has two orientations (R-3m is -3m1's)
LAUE_CLASSES = {"-1": (2, 0), "2/m": (10, 1), "mmm": (47, 2), "4/m": (83, 3), "4/mmm": (123, 3),
                "-3": (147, 4), "-3m1": (164, 4), "-31m": (162, 4), "6/m": (175, 5), "6/mmm": (191, 5),
                "m-3": (200, 6), "m-3m": (221, 6)}
# each pattern group and the groups inside it
_SUBGROUPS = {"2": {"2"}, "2mm": {"2", "2mm"}, "4": {"2", "4"}, "4mm": {"2", "2mm", "4", "4mm"},
              "6": {"2", "6"}, "6mm": {"2", "2mm", "6", "6mm"}}


def _holds(xy: np.ndarray, inten: np.ndarray, op: np.ndarray, tree: cKDTree, intensity_tol: float) -> bool:
    mapped = xy @ op.T
    radius = POSITION_TOL * np.linalg.norm(xy, axis=1) + 1e-3
    dist, j = tree.query(mapped, k=1)
    ok = (dist <= radius) & (np.abs(inten[j] - inten) <= intensity_tol * np.maximum(inten[j], inten) + 0.002)
    return float(inten[ok].sum()) >= MATCHED_SHARE * float(inten.sum())


def _rotation(deg: float) -> np.ndarray:
    t = np.deg2rad(deg)
    return np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])


def _mirror(theta: float) -> np.ndarray:
    c, s = np.cos(2 * theta), np.sin(2 * theta)
    return np.array([[c, s], [s, -c]])


def pattern_symmetry(xy, intensity, n_directions: int = 12, intensity_tol: float = INTENSITY_TOL) -> str:
    """The 2D point group of a zone-axis pattern's intensities (one of ``PATTERN_GROUPS``).

    Rotations by 60 and 90 degrees about the direct beam are tested, and mirror lines along and
    perpendicular to the directions of the ``n_directions`` shortest spots (a mirror line of a
    pattern always runs along a row of its net).

    Args:
        xy: [m, 2] spot positions about the direct beam, in 1/Å.
        intensity: [m] intensities relative to the strongest (0-1).
        n_directions: how many of the shortest spots give candidate mirror directions.
        intensity_tol: the relative difference two intensities may show and still count as equal
            (``INTENSITY_TOL`` for noise-free patterns; widen it to the noise of measured ones).

    Returns:
        ``"2"``, ``"2mm"``, ``"4"``, ``"4mm"``, ``"6"`` or ``"6mm"``; ``"2"`` for fewer than two
        spots above ``MIN_INTENSITY``.

    Raises:
        ValueError: when ``xy`` is not [m, 2], the intensities do not match it, or ``intensity_tol`` is
            not a positive number.
    """
    if isinstance(intensity_tol, bool) or not isinstance(intensity_tol, numbers.Real) or \
            not (np.isfinite(intensity_tol) and intensity_tol > 0):
        raise ValueError(f"intensity_tol must be a positive number, got {intensity_tol!r}")
    xy = np.asarray(xy, float)
    inten = np.asarray(intensity, float)
    if xy.ndim != 2 or xy.shape[1] != 2 or inten.shape != (len(xy),):
        raise ValueError(f"spots must be xy [m, 2] with m intensities, got {xy.shape} and {inten.shape}")
    keep = inten >= MIN_INTENSITY * (inten.max() if len(inten) else 1)
    xy, inten = xy[keep], inten[keep]
    if len(xy) < 2:
        return "2"
    tree = cKDTree(xy)
    rotation = ("6" if _holds(xy, inten, _rotation(60), tree, intensity_tol)
                else "4" if _holds(xy, inten, _rotation(90), tree, intensity_tol) else "2")
    order = np.argsort(np.linalg.norm(xy, axis=1))[:n_directions]
    angles = np.unique(np.round(np.mod(np.arctan2(xy[order, 1], xy[order, 0]), np.pi), 6))
    candidates = np.concatenate([angles, np.mod(angles + np.pi / 2, np.pi)])
    mirrored = any(_holds(xy, inten, _mirror(t), tree, intensity_tol) for t in candidates)
    return rotation + ("mm" if mirrored else "")


def consistent_systems(symmetry: str) -> tuple[int, ...]:
    """The crystal systems (indices into ``CRYSTAL_SYSTEMS``) a pattern of this symmetry admits.

    Args:
        symmetry: one of ``PATTERN_GROUPS``.

    Returns:
        The admitted systems, ascending.

    Raises:
        ValueError: for a symmetry outside ``PATTERN_GROUPS``.
    """
    if symmetry not in CONSISTENT:
        raise ValueError(f"unknown pattern symmetry {symmetry!r}: use one of {', '.join(PATTERN_GROUPS)}")
    return CONSISTENT[symmetry]


def contains(observed: str, expected: str) -> bool:
    """Whether a pattern of group ``observed`` shows every operation of group ``expected``.

    Args:
        observed: the group a pattern shows, one of ``PATTERN_GROUPS``.
        expected: the group looked for in it, one of ``PATTERN_GROUPS``.

    Returns:
        True when ``expected`` is a subgroup of ``observed`` (up to orientation: the labels carry none).

    Raises:
        ValueError: for a group outside ``PATTERN_GROUPS``.
    """
    for g in (observed, expected):
        if g not in _SUBGROUPS:
            raise ValueError(f"unknown pattern symmetry {g!r}: use one of {', '.join(PATTERN_GROUPS)}")
    return expected in _SUBGROUPS[observed]


def expected_symmetry(laue: str, axis) -> str:
    """The 2D group of a zero-order-Laue-zone pattern along [uvw] of a crystal of this Laue class,
    the indices in its conventional cell (spglib's standard setting).

    The operations of the class that map the axis onto itself or its opposite act on the zone's
    reflections as a 2D point group (the class holds the inversion, so Friedel's 2-fold is in it).

    Args:
        laue: one of ``LAUE_CLASSES``.
        axis: the zone axis [uvw] (anything ``simulate.parse_zone_axis`` accepts).

    Returns:
        One of ``PATTERN_GROUPS``.

    Raises:
        ValueError: for an unknown class or an invalid axis.
    """
    if laue not in LAUE_CLASSES:
        raise ValueError(f"unknown Laue class {laue!r}: use one of {', '.join(LAUE_CLASSES)}")
    return _expected(laue, tuple(int(x) for x in parse_zone_axis(axis)))


@lru_cache(maxsize=None)
def _expected(laue: str, uvw: tuple) -> str:
    u = np.array(uvw)
    basis = zone_basis(uvw).astype(float)      # [2, 3] rows h k l spanning the zone
    pinv = np.linalg.pinv(basis)
    ops = set()
    for W in rotations(LAUE_CLASSES[laue][0]):
        v = W @ u
        if not (np.array_equal(v, u) or np.array_equal(v, -u)):
            continue
        # x' = W x on directions moves a reflection's indices h to h W^-1; over the whole group the
        # set {h W} is the same, and it stays in the zone because W keeps the axis's line
        M = np.rint(basis @ W @ pinv).astype(int)
        ops.add((M.tobytes(), int(round(np.linalg.det(M)))))
    turns = sum(1 for _, det in ops if det == 1)
    mirrored = any(det == -1 for _, det in ops)
    return {2: "2", 4: "4", 6: "6"}[turns] + ("mm" if mirrored else "")


def laue_class(symmetries, axes) -> str:
    """The Laue class that one crystal's labelled patterns bear out (physics only, no training).

    The class whose predicted groups (``expected_symmetry``) match the most patterns exactly: the
    crystal's own class matches all of them unless intensities agree by accident on a pattern, or a
    symmetry is missed on one, and another class matches fewer (on model-4's 20 axes any two classes
    differ along one axis at least; -1 and -3, 4/m and 6/m only along [001], m-3 and mmm only along
    [111]). Ties go to the class whose predictions the most
    patterns contain, then to the class later in ``LAUE_CLASSES`` (a higher crystal system, or within one
    system the class with more operations: the crystallographer's rule, the highest symmetry the data bear).

    Args:
        symmetries: the patterns' groups (``pattern_symmetry``), one per axis.
        axes: their zone axes [uvw] in the crystal's conventional cell, as many as ``symmetries``.

    Returns:
        One of ``LAUE_CLASSES``; its crystal system is ``LAUE_CLASSES[name][1]``.

    Raises:
        ValueError: for unequal lengths, no pattern, or an unknown group or axis.
    """
    symmetries, axes = list(symmetries), list(axes)
    if len(symmetries) != len(axes) or not axes:
        raise ValueError(f"one symmetry per axis, at least one: got {len(symmetries)} symmetries for "
                         f"{len(axes)} axes")
    best, best_score = None, None
    for name in LAUE_CLASSES:
        expected = [expected_symmetry(name, a) for a in axes]
        score = (sum(o == e for o, e in zip(symmetries, expected)),
                 sum(contains(o, e) for o, e in zip(symmetries, expected)))
        if best_score is None or score >= best_score:      # a tie goes to the higher class
            best, best_score = name, score
    return best


def ceiling_summary(symmetries, truth, p_cs=None) -> dict:
    """How much of a test set the physics of single patterns decides, and how a classifier fares.

    Args:
        symmetries: [n] pattern symmetries (``pattern_symmetry``).
        truth: [n] true crystal systems, 0-6.
        p_cs: optional [n, 7] crystal-system probabilities of a classifier.

    Returns:
        A dict of per-cent values: ``truth admitted %`` (a check: the true system is among those
        the symmetry admits), ``mean admitted systems`` (a count), ``symmetry-only ceiling %`` (the
        accuracy of the best rule that sees only the symmetry: for each symmetry, the most common
        true system among its patterns, counted on this very set, so an upper bound), and with
        ``p_cs``: ``classifier %``, ``classifier outside physics %`` (predictions the symmetry
        forbids) and ``classifier within physics %`` (its most probable admitted system).
    """
    sym = np.asarray(symmetries, dtype=object)
    truth = np.asarray(truth, int)
    admitted = [consistent_systems(s) for s in sym]
    out = {"n": len(truth),
           "truth admitted %": (100 * float(np.mean([t in a for t, a in zip(truth, admitted)]))
                                if len(truth) else np.nan),
           "mean admitted systems": float(np.mean([len(a) for a in admitted])) if len(truth) else np.nan}
    best = 0
    for s in set(sym):
        m = sym == s
        best += np.bincount(truth[m], minlength=7).max()
    out["symmetry-only ceiling %"] = 100 * best / max(len(truth), 1)
    if p_cs is not None:
        p = np.asarray(p_cs, float)
        pred = p.argmax(1)
        mask = np.zeros_like(p, dtype=bool)
        for i, a in enumerate(admitted):
            mask[i, list(a)] = True
        within = np.where(mask, p, -np.inf).argmax(1)
        out["classifier %"] = 100 * float((pred == truth).mean())
        out["classifier outside physics %"] = 100 * float((~mask[np.arange(len(pred)), pred]).mean())
        out["classifier within physics %"] = 100 * float((within == truth).mean())
    return out


def crystal_summary(crystal, symmetries, truth, p_cs=None, axes=None) -> dict:
    """One answer per crystal from all its patterns together: the physics (the systems every one of
    its patterns admits) and a classifier's probabilities summed in log over its patterns.

    Args:
        crystal: [n] the crystal each pattern shows (any hashable ids).
        symmetries: [n] pattern symmetries (``pattern_symmetry``).
        truth: [n] true crystal systems, 0-6 (one per crystal, repeated on its patterns).
        p_cs: optional [n, 7] crystal-system probabilities of a classifier, pattern by pattern.
        axes: optional [n] zone axis of each pattern, in the crystal's conventional cell.

    Returns:
        A dict: ``crystals`` (a count), ``crystal truth admitted %`` (a check), ``crystal admitted
        systems`` (mean count), ``crystals with contradicting patterns`` (a count: patterns that
        admit no common system, so that crystal is left unconstrained), ``crystal symmetry-only
        ceiling %`` (for each admitted set the most common true system among its crystals, counted
        on this very set: an upper bound); with
        ``p_cs``: ``crystal classifier %`` (the system of the largest summed log probability) and
        ``crystal classifier within physics %`` (the same among the admitted systems), in per cent;
        with ``axes``: ``crystal Laue-class rule %`` (the system of the Laue class its labelled
        patterns bear out, ``laue_class``: physics alone, no training), in per cent.

    Raises:
        ValueError: when the lengths of the inputs differ.
    """
    crystal = np.asarray(crystal)
    truth = np.asarray(truth, int)
    n = len(crystal)
    if len(symmetries) != n or len(truth) != n or (p_cs is not None and len(p_cs) != n) or \
            (axes is not None and len(axes) != n):
        raise ValueError(f"one crystal id, symmetry, true system and probability row per pattern: got {n} "
                         f"patterns, {len(symmetries)} symmetries, {len(truth)} true systems"
                         + ("" if p_cs is None else f" and {len(p_cs)} probability rows")
                         + ("" if axes is None else f" and {len(axes)} axes"))
    ids, first, which = np.unique(crystal, return_index=True, return_inverse=True)
    admitted = np.ones((len(ids), 7), bool)
    for i, s in enumerate(symmetries):
        row = np.zeros(7, bool)
        row[list(consistent_systems(s))] = True
        admitted[which[i]] &= row
    # patterns of one crystal that admit no common system (a symmetry found that the crystal lacks)
    # constrain nothing: such a crystal keeps every system, and is counted
    contradicted = ~admitted.any(axis=1)
    admitted[contradicted] = True
    true_c = truth[first]
    found = len(ids) > 0
    out = {"crystals": len(ids),
           "crystal truth admitted %": 100 * float(admitted[np.arange(len(ids)), true_c].mean()) if found else np.nan,
           "crystal admitted systems": float(admitted.sum(1).mean()) if found else np.nan,
           "crystals with contradicting patterns": int(contradicted.sum())}
    best = 0
    keys = [tuple(a) for a in admitted]
    for key in set(keys):
        m = np.array([k == key for k in keys])
        best += np.bincount(true_c[m], minlength=7).max()
    out["crystal symmetry-only ceiling %"] = 100 * best / max(len(ids), 1)
    if axes is not None:
        symmetries, axes = list(symmetries), list(axes)
        # each crystal's patterns, in one pass over the patterns
        patterns = np.split(np.argsort(which, kind="stable"), np.cumsum(np.bincount(which))[:-1]) if found else []
        rule = np.array([LAUE_CLASSES[laue_class([symmetries[i] for i in own], [axes[i] for i in own])][1]
                         for own in patterns], dtype=int)
        out["crystal Laue-class rule %"] = 100 * float((rule == true_c).mean()) if found else np.nan
    if p_cs is not None:
        logp = np.zeros((len(ids), 7))
        np.add.at(logp, which, np.log(np.clip(np.asarray(p_cs, float), 1e-12, None)))
        out["crystal classifier %"] = 100 * float((logp.argmax(1) == true_c).mean())
        within = np.where(admitted, logp, -np.inf).argmax(1)
        out["crystal classifier within physics %"] = 100 * float((within == true_c).mean())
    return out
