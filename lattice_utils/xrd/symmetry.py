"""Crystal systems, centrosymmetry, enantiomorphic pairs and lattice centring of the 230 space
groups, derived from the symmetry operations in spglib's database (not from printed lists: the
list that the XRD paper prints as its centrosymmetric groups is the non-centrosymmetric one)."""
from __future__ import annotations

from functools import lru_cache

import numpy as np

__all__ = ["CRYSTAL_SYSTEMS", "CUBIC", "ENANTIOMORPHIC_PAIRS", "crystal_system", "crystal_systems", "rotations",
           "is_centrosymmetric", "centrosymmetric_groups", "is_sohncke", "international_symbol", "point_group",
           "centring", "enantiomorphic_pairs"]

CRYSTAL_SYSTEMS = ("triclinic", "monoclinic", "orthorhombic", "tetragonal", "trigonal",
                   "hexagonal", "cubic")
CUBIC = CRYSTAL_SYSTEMS.index("cubic")                # 6: the index of the cubic system
_FIRST_GROUP = (1, 3, 16, 75, 143, 168, 195)          # first space group of each system

# the 11 enantiomorphic pairs (International Tables A, section 3.1): a chiral structure and its
# mirror image; Friedel's law makes their diffraction patterns identical. enantiomorphic_pairs()
# derives them from the symbols, and the tests check the two agree
ENANTIOMORPHIC_PAIRS = ((76, 78), (91, 95), (92, 96), (144, 145), (151, 153), (152, 154),
                        (169, 170), (171, 172), (178, 179), (180, 181), (212, 213))


def crystal_system(space_group: int) -> int:
    """The crystal system of a space group: its index into ``CRYSTAL_SYSTEMS``.

    Args:
        space_group: space-group number 1-230.

    Returns:
        0 (triclinic) .. 6 (cubic).

    Raises:
        ValueError: for a number outside 1-230.
    """
    sg = int(space_group)
    if not 1 <= sg <= 230:
        raise ValueError(f"space group number must be 1-230, got {space_group}")
    return int(np.searchsorted(_FIRST_GROUP, sg, side="right") - 1)


def crystal_systems(space_groups) -> np.ndarray:
    """The crystal systems of many space groups at once (vectorised ``crystal_system``).

    Args:
        space_groups: array-like of space-group numbers 1-230, any shape.

    Returns:
        Int array of the same shape: indices into ``CRYSTAL_SYSTEMS`` (0 triclinic .. 6 cubic).

    Raises:
        ValueError: when a number lies outside 1-230.
    """
    sg = np.asarray(space_groups)
    if sg.size and (sg.min() < 1 or sg.max() > 230):
        raise ValueError("space group numbers must be 1-230")
    return np.searchsorted(_FIRST_GROUP, sg, side="right") - 1


@lru_cache(maxsize=1)
def _standard_settings() -> dict:
    """Space-group number -> (Hall number of its first, standard setting, spglib type)."""
    import warnings

    import spglib
    out = {}
    for hall in range(1, 531):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            t = spglib.get_spacegroup_type(hall)
        num = t.number if hasattr(t, "number") else t["number"]
        out.setdefault(num, (hall, t))
    return out


def _setting(space_group: int):
    """(Hall number, spglib's type) of a space group's standard setting; ValueError outside 1-230."""
    settings = _standard_settings()
    if int(space_group) not in settings:
        raise ValueError(f"space group number must be 1-230, got {space_group}")
    return settings[int(space_group)]


@lru_cache(maxsize=None)
def rotations(space_group: int) -> np.ndarray:
    """The rotation parts of a space group's symmetry operations (spglib's database, cached).

    Taken from the group's first, standard setting, in the basis of its conventional cell; a
    centred group lists each rotation once per centring translation.

    Args:
        space_group: space-group number 1-230.

    Returns:
        Int array [n_operations, 3, 3] of the rotation matrices.

    Raises:
        ValueError: for a number outside 1-230.
    """
    import warnings

    import spglib
    hall, _ = _setting(space_group)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ops = spglib.get_symmetry_from_database(hall)
    return np.asarray(ops["rotations"])


def is_centrosymmetric(space_group: int) -> bool:
    """Whether a space group is centrosymmetric.

    Args:
        space_group: space-group number 1-230.

    Returns:
        True when the group contains the inversion (-1 among its rotation parts).
    """
    return bool(any(np.array_equal(r, -np.eye(3, dtype=int)) for r in rotations(space_group)))


@lru_cache(maxsize=1)
def centrosymmetric_groups() -> tuple:
    """The centrosymmetric space groups, from their operations (``is_centrosymmetric``).

    Returns:
        The 92 space-group numbers with the inversion, ascending.
    """
    return tuple(n for n in range(1, 231) if is_centrosymmetric(n))


def is_sohncke(space_group: int) -> bool:
    """Whether a space group is a Sohncke group: only proper rotations (det +1), the groups a
    chiral crystal can have.

    Args:
        space_group: space-group number 1-230.

    Returns:
        True when every rotation part has determinant +1.
    """
    return bool(all(round(np.linalg.det(r)) == 1 for r in rotations(space_group)))


def international_symbol(space_group: int) -> str:
    """The short Hermann-Mauguin symbol of a space group's standard setting, as spglib writes it.

    Args:
        space_group: space-group number 1-230.

    Returns:
        The symbol, e.g. ``"P2_1/c"`` for 14.

    Raises:
        ValueError: for a number outside 1-230.
    """
    _, t = _setting(space_group)
    return t.international_short if hasattr(t, "international_short") else t["international_short"]


def point_group(space_group: int) -> str:
    """The international symbol of a space group's point group (crystal class).

    Args:
        space_group: space-group number 1-230.

    Returns:
        The symbol, e.g. ``"2/m"`` for 14.

    Raises:
        ValueError: for a number outside 1-230.
    """
    _, t = _setting(space_group)
    return t.pointgroup_international if hasattr(t, "pointgroup_international") \
        else t["pointgroup_international"]


def centring(space_group: int) -> str:
    """Lattice centring letter of the Hermann-Mauguin symbol: P, A, B, C, I, F or R.

    Args:
        space_group: space-group number 1-230.

    Returns:
        The letter.

    Raises:
        ValueError: for a number outside 1-230.
    """
    return international_symbol(space_group)[0]


_SCREW_MIRROR = {"3_1": "3_2", "3_2": "3_1", "4_1": "4_3", "4_3": "4_1", "6_1": "6_5",
                 "6_5": "6_1", "6_2": "6_4", "6_4": "6_2"}


def enantiomorphic_pairs() -> tuple:
    """Sohncke groups whose mirror image (screw n_m -> n_(n-m)) is another space group.

    Derived from the symbols; the tests check it against ``ENANTIOMORPHIC_PAIRS``.

    Returns:
        The enantiomorphic pairs as sorted ``(smaller, larger)`` space-group numbers, ascending.
    """
    import re
    by_symbol = {international_symbol(n): n for n in range(1, 231)}
    pairs = set()
    for n in range(1, 231):
        if not is_sohncke(n):
            continue
        mirror = re.sub(r"[346]_[1-5]", lambda m: _SCREW_MIRROR.get(m.group(0), m.group(0)),
                        international_symbol(n))
        other = by_symbol.get(mirror)
        if other is not None and other != n:
            pairs.add(tuple(sorted((n, other))))
    return tuple(sorted(pairs))
