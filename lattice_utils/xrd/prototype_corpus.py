"""Real structure types for the XRD studies: the AFLOW prototypes, decorated with other elements.

A PyXtal random crystal puts random elements on random Wyckoff positions; a real crystal is one of
a few hundred structure types. Each of the 288 AFLOW prototypes that ship with pymatgen is
decorated the way the 2D stand-in decorates its monolayer prototypes
(``lattice_utils.data.prototypes``): every distinct element is replaced, one to one, by an element
of similar electronegativity and covalent radius; the cell is rescaled by the ratio of the
covalent-radius sums over the prototype's nearest-neighbour bonds; a small strain changes the
conventional cell's lengths only where the crystal system leaves them free (a = b = c stays so in
a cubic cell), so the symmetry is kept. A decoration is kept only when spglib finds the
prototype's own space group and no two atoms come closer than the prototype's own closest pair
allows (relative to the radius sums). Every draw is a function of (seed, prototype, index): no
clock, no search.

``split_by_prototype`` keeps every decoration of a prototype in the split of the prototype
itself, so a test on held-out prototypes never sees their structure type in training.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from ..data.prototypes import covalent_radii
from .corpus import ELEMENTS, MIN_DISTANCE, aflow_prototypes, conventional_cell, crystal_of, record, spglib_group
from .simulate import Crystal, CrystalError
from .symmetry import crystal_system

__all__ = ["MAX_ELECTRONEGATIVITY_STEP", "MAX_RADIUS_STEP", "STRAIN", "substitutes", "bond_ratios",
           "decorate_prototype", "prototype_corpus", "split_by_prototype"]

MAX_ELECTRONEGATIVITY_STEP = 0.5   # Pauling units: a substitute's electronegativity lies this close
MAX_RADIUS_STEP = 0.25             # relative: and its covalent radius this close
STRAIN = 0.02                      # relative sd of each free cell length after rescaling
# crystal systems 0-6 (triclinic .. cubic) -> which of the conventional a, b, c share one factor
_TIED = {0: (0, 1, 2), 1: (0, 1, 2), 2: (0, 1, 2), 3: (0, 0, 1), 4: (0, 0, 1), 5: (0, 0, 1), 6: (0, 0, 0)}


@lru_cache(maxsize=None)
def _electronegativity(element: str) -> float:
    from pymatgen.core import Element
    x = Element(element).X
    return float(x) if x is not None and np.isfinite(x) else np.nan


def substitutes(element: str, pool=ELEMENTS) -> list[str]:
    """The elements that may replace ``element`` in a decoration (itself excluded).

    Args:
        element: the prototype's element symbol.
        pool: the candidate elements.

    Returns:
        Symbols of ``pool`` within ``MAX_ELECTRONEGATIVITY_STEP`` in electronegativity and
        ``MAX_RADIUS_STEP`` (relative) in covalent radius, sorted; empty when the element has no
        electronegativity or radius (noble gases) or nothing is close enough.
    """
    radii = covalent_radii()
    x0, r0 = _electronegativity(element), radii.get(element, np.nan)
    if not (np.isfinite(x0) and np.isfinite(r0)):
        return []
    out = []
    for e in pool:
        if e == element or e not in radii:
            continue
        x = _electronegativity(e)
        if np.isfinite(x) and abs(x - x0) <= MAX_ELECTRONEGATIVITY_STEP \
                and abs(radii[e] - r0) <= MAX_RADIUS_STEP * r0:
            out.append(e)
    return sorted(out)


def _neighbour_table(crystal: Crystal):
    """For each atom: its nearest neighbour's index and their distance (periodic images, Å)."""
    lat = np.asarray(crystal.lattice, float)
    frac = np.asarray(crystal.frac, float)
    shifts = np.array([(i, j, k) for i in (-1, 0, 1) for j in (-1, 0, 1) for k in (-1, 0, 1)], float)
    d = frac[None, :, :] - frac[:, None, :]
    d -= np.round(d)
    cart = (d[:, :, None, :] + shifts[None, None]) @ lat            # [n, n, 27, 3]
    dist = np.linalg.norm(cart, axis=-1)
    n = len(frac)
    dist[np.arange(n), np.arange(n), 13] = np.inf                      # shift (0, 0, 0) of an atom to itself
    best = dist.min(axis=2)
    j = best.argmin(axis=1)
    return j, best[np.arange(n), j]


def bond_ratios(crystal: Crystal) -> np.ndarray:
    """Each atom's nearest-neighbour distance over the two atoms' covalent-radius sum.

    Args:
        crystal: the structure (species need covalent radii).

    Returns:
        [n] ratios (1 for a bond at the sum of the radii).
    """
    return _ratios(crystal.species, *_neighbour_table(crystal))


def _ratios(species, j, d) -> np.ndarray:
    radii = covalent_radii()
    sp = list(species)
    return np.array([d[i] / (radii[sp[i]] + radii[sp[j[i]]]) for i in range(len(sp))])


def _strained(crystal: Crystal, system: int, rng: np.random.Generator) -> Crystal:
    from pymatgen.core import Lattice
    tied = _TIED[system]
    factors = 1 + STRAIN * rng.standard_normal(3)
    f = np.array([factors[t] for t in tied])
    lat = Lattice(crystal.lattice)
    new = Lattice.from_parameters(lat.a * f[0], lat.b * f[1], lat.c * f[2], *lat.angles)
    return Crystal(new.matrix, crystal.frac, list(crystal.species), crystal.name)


def decorate_prototype(row, index: int, seed: int, attempts: int = 8) -> dict | None:
    """One decoration of a prototype, as a corpus row (``corpus.record``).

    Args:
        row: a row of ``corpus.aflow_prototypes()`` (its ``id``, the AFLOW tag or a unique
            variant of it, names the decoration and seeds its draw).
        index: the decoration's number (part of its id ``<tag>-dNN`` and of its random draw).
        seed: the corpus seed.
        attempts: element choices tried before the decoration is given up.

    Returns:
        The row (source ``"aflow-decorated"``, with ``prototype`` = the row's id and ``substitution``
        = "old>new" pairs), or None when no attempt kept the space group and plausible bonds.
    """
    radii = covalent_radii()
    base = crystal_of(row)
    species = list(base.species)
    elements = sorted(set(species))
    if not all(e in radii for e in elements):
        return None
    group = int(row["space_group"])
    try:
        conv = conventional_cell(base, symprec=0.01)
    except CrystalError:    # spglib/pymatgen refuse a few disordered or odd cells: no decoration
        return None
    j, dist = _neighbour_table(conv)
    floor = min(0.8, 0.95 * float(_ratios(conv.species, j, dist).min()))
    tag = str(row["id"])
    for attempt in range(attempts):
        rng = np.random.default_rng([seed, 288_001, *tag.encode(), index, attempt])
        mapping, used = {}, set()
        for e in rng.permutation(elements):
            options = [x for x in substitutes(str(e)) if x not in used and x not in elements]
            new = str(rng.choice(options)) if options else str(e)
            mapping[str(e)] = new
            used.add(new)
        if all(mapping[e] == e for e in elements):
            continue
        new_species = [mapping[e] for e in conv.species]
        old_sum = np.array([radii[conv.species[i]] + radii[conv.species[j[i]]] for i in range(len(j))])
        new_sum = np.array([radii[new_species[i]] + radii[new_species[j[i]]] for i in range(len(j))])
        scale = float(np.median(new_sum / old_sum))
        c = Crystal(np.asarray(conv.lattice) * scale, conv.frac, new_species, f"{tag}-d{index:02d}")
        c = _strained(c, crystal_system(group), rng)
        try:
            if spglib_group(c) != group:
                continue
            jc, d = _neighbour_table(c)
            if _ratios(c.species, jc, d).min() < floor or d.min() < MIN_DISTANCE:
                continue
            return record(c, "aflow-decorated", {"prototype": tag, "substitution": " ".join(
                f"{a}>{b}" for a, b in sorted(mapping.items()) if a != b)})
        except (CrystalError, ValueError):
            continue
    return None


def prototype_corpus(per_prototype: int, seed: int = 0, prototypes: pd.DataFrame | None = None) -> pd.DataFrame:
    """The prototypes themselves and ``per_prototype`` decorations of each.

    Args:
        per_prototype: decorations drawn per prototype (those that fail are left out).
        seed: the corpus seed.
        prototypes: the prototype table; None for ``corpus.aflow_prototypes()``.

    Returns:
        ``corpus.record`` rows with ``prototype`` (the AFLOW tag; a prototype's own row has it too)
        and ``substitution`` ("" for the prototype itself), sorted by prototype then id.
    """
    protos = aflow_prototypes() if prototypes is None else prototypes
    rows, seen = [], {}
    for r in protos.to_dict("records"):
        tag = r["id"]
        # a tag names a structure type; a few have several entries (cotunnite, calcite, ...): each
        # entry gets its own id, and all of them share the tag's split
        seen[tag] = seen.get(tag, 0) + 1
        r = dict(r, id=tag if seen[tag] == 1 else f"{tag}.{seen[tag]}")
        own = {k: r[k] for k in ("id", "space_group", "crystal_system", "n_atoms", "formula", "source",
                                 "lattice", "frac", "species")}
        rows.append({**own, "prototype": tag, "substitution": ""})
        for k in range(per_prototype):
            d = decorate_prototype(r, k, seed)
            if d is not None:
                rows.append(dict(d, prototype=tag))
    return pd.DataFrame(rows).sort_values(["prototype", "id"], kind="stable").reset_index(drop=True)


def split_by_prototype(table: pd.DataFrame, fractions=(0.7, 0.2, 0.1), seed: int = 0) -> pd.Series:
    """Train / val / test by prototype: every decoration shares its prototype's split.

    Args:
        table: rows with a ``prototype`` column.
        fractions: shares of the prototypes in train, val and test (summing to 1).
        seed: the split's seed.

    Returns:
        The split of each row ("train", "val" or "test"), indexed like ``table``.

    Raises:
        ValueError: when the fractions are not three non-negative shares summing to 1.
    """
    f = np.asarray(fractions, float)
    if f.shape != (3,) or (f < 0).any() or not np.isclose(f.sum(), 1):
        raise ValueError(f"fractions must be three non-negative shares summing to 1, got {fractions}")
    tags = np.array(sorted(table["prototype"].unique()))
    order = tags[np.random.default_rng([seed, 288_002]).permutation(len(tags))]
    cut = np.round(np.cumsum(f)[:2] * len(tags)).astype(int)
    which = {t: "train" for t in order[:cut[0]]}
    which.update({t: "val" for t in order[cut[0]:cut[1]]})
    which.update({t: "test" for t in order[cut[1]:]})
    return table["prototype"].map(which).rename("split")
