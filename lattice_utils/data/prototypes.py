"""Monolayers built the way C2DB and 2DMatPedia grew: known 2D prototypes decorated with
chemically compatible elements, the cell set from bond lengths.

The library (``monolayer_prototypes.json``, with its references) covers the five Bravais
classes and the chemistry of the paper's Table S5. For a decoration the cell starts from the
prototype's listed example that shares most elements with it and is rescaled by the ratio of
covalent-radius sums (Cordero et al. 2008, as shipped with pymatgen) over the prototype's bonds.
Everything is a pure function of a NumPy generator: no clock, no external search.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

__all__ = ["LIBRARY", "VACUUM_C", "MIN_BOND_RATIO", "Prototype", "load_library", "covalent_radii", "pick", "decorate",
           "build", "cell_matrix", "implausible_bonds"]

LIBRARY = Path(__file__).with_name("monolayer_prototypes.json")
VACUUM_C = 25.0     # Å, the stored c length (orient_layer resets it anyway)
# a distance below this fraction of the two atoms' covalent-radius sum is implausible; real
# monolayer bonds sit at 0.88-1.05 of the sum (Mo-S 0.93, C-C 0.97, Pb-O 1.08)
MIN_BOND_RATIO = 0.8


@dataclass(frozen=True)
class Prototype:
    """A known 2D prototype of the library: its sites, the elements each role may take, and
    the examples its cell is scaled from.

    Attributes:
        name: the prototype's name.
        bravais_class: its 2D Bravais class, 0-4 (hexagonal, square, rectangular, centred
            rectangular, oblique).
        roles: role -> tuple of elements it may take.
        sites: ``(role, x, y, z)`` per site: x, y fractional, z in Å for the first example.
        examples: dicts of real compounds: ``elements`` (role -> element), ``a``, ``b`` in Å and
            ``gamma`` in degrees (``b`` and ``gamma`` optional).
        bonds: ``(role, role)`` pairs whose bond lengths set the cell.
        pairs: allowed (role A, role X) element pairs, when the pools are not free.
        restrict: role -> element -> {other role: allowed elements}, or None.
        reference: where the prototype is described.
        weight: relative frequency within its class (flat layers are rare: 1 % of real ones).
    """
    name: str
    bravais_class: int
    roles: dict          # role -> tuple of elements
    sites: tuple         # (role, x, y, z in Å for the first example)
    examples: tuple      # dicts: elements (role -> element), a, b, gamma
    bonds: tuple         # (role, role) pairs whose bond lengths set the cell
    pairs: tuple = ()    # allowed (role A, role X) element pairs, when the pools are not free
    restrict: dict | None = None
    reference: str = ""
    weight: float = 1.0  # relative frequency within its class (flat layers are rare: 1 % of real ones)


@lru_cache(maxsize=1)
def covalent_radii() -> dict:
    """Covalent radii of the elements (Cordero et al. 2008, as shipped with pymatgen).

    Returns:
        Element symbol -> covalent radius in Å.
    """
    from pymatgen.analysis.molecule_structure_comparator import CovalentRadius

    return dict(CovalentRadius.radius)


@lru_cache(maxsize=1)
def load_library(path: Path = LIBRARY) -> tuple:
    """The prototypes of the library, checked (and cached).

    Every role has elements with a tabulated radius, every example names an element for every
    role, every class 0-4 except centred rectangular has one (centred rectangular cells come
    from distorting hexagonal and square ones).

    Args:
        path: the library's JSON file.

    Returns:
        Tuple of ``Prototype``, in the file's order.

    Raises:
        ValueError: a check fails; the message names the file and the prototype.
    """
    path = Path(path)
    raw = json.loads(path.read_text())
    radii = covalent_radii()
    out = []
    for p in raw["prototypes"]:
        roles = {r: tuple(els) for r, els in p["roles"].items()}
        for r, els in roles.items():
            missing = [e for e in els if e not in radii]
            if missing:
                raise ValueError(f"{path.name}: prototype {p['name']!r}, role {r}: no covalent radius for {missing}")
        for e in p["examples"]:
            if set(e["elements"]) != set(roles):
                raise ValueError(f"{path.name}: prototype {p['name']!r}: example {e} does not name every role")
        if {s[0] for s in p["sites"]} != set(roles):
            raise ValueError(f"{path.name}: prototype {p['name']!r}: sites and roles disagree")
        out.append(Prototype(p["name"], int(p["bravais_class"]), roles,
                             tuple((s[0], float(s[1]), float(s[2]), float(s[3])) for s in p["sites"]),
                             tuple(p["examples"]), tuple(tuple(b) for b in p["bonds"]),
                             tuple(tuple(x) for x in p.get("pairs", ())), p.get("restrict"),
                             p.get("reference", ""), float(p.get("weight", 1.0))))
    classes = {p.bravais_class for p in out}
    if not {0, 1, 2, 4} <= classes:
        raise ValueError(f"{path.name}: prototypes cover classes {sorted(classes)}, need 0, 1, 2 and 4")
    return tuple(out)


def pick(protos, rng):
    """One prototype of ``protos``, drawn by weight.

    Args:
        protos: sequence of ``Prototype`` to draw from.
        rng: NumPy random generator.

    Returns:
        The drawn ``Prototype``.
    """
    w = np.array([p.weight for p in protos], float)
    return protos[int(rng.choice(len(protos), p=w / w.sum()))]


def _allowed(proto: Prototype, role: str, element: str, chosen: dict) -> bool:
    if element in chosen.values():
        return False
    for other, el in chosen.items():
        rule = (proto.restrict or {}).get(other, {}).get(el, {})
        if role in rule and element not in rule[role]:
            return False
        rule = (proto.restrict or {}).get(role, {}).get(element, {})
        if other in rule and el not in rule[other]:
            return False
    # Janus prototypes: the lighter chalcogen on top (X lighter than Y)
    if role == "Y" and "X" in chosen and proto.bonds == (("M", "X"), ("M", "Y")) and "T" not in proto.roles:
        radii = covalent_radii()
        if radii[element] <= radii[chosen["X"]]:
            return False
    return True


def decorate(proto: Prototype, rng: np.random.Generator) -> dict:
    """Elements for every role, respecting the prototype's pairs and rules.

    Args:
        proto: the prototype to decorate.
        rng: NumPy random generator.

    Returns:
        Role -> element symbol.
    """
    if proto.pairs:
        a, x = proto.pairs[int(rng.integers(len(proto.pairs)))]
        roles = list(proto.roles)
        return {roles[0]: a, roles[1]: x}
    chosen = {}
    for role, pool in proto.roles.items():
        options = [e for e in pool if _allowed(proto, role, e, chosen)]
        if not options:
            options = list(pool)
        chosen[role] = options[int(rng.integers(len(options)))]
    return chosen


def _nearest_example(proto: Prototype, elements: dict) -> dict:
    """The example sharing most elements with ``elements``; among equals, the one whose bonds
    need the smallest rescaling."""
    return max(proto.examples, key=lambda e: (sum(e["elements"][r] == el for r, el in elements.items()),
                                              -abs(np.log(bond_scale(proto, elements, e)))))


def bond_scale(proto: Prototype, elements: dict, example: dict) -> float:
    """Mean ratio of covalent-radius sums over the prototype's bonds: new over example."""
    radii = covalent_radii()
    ratios = [(radii[elements[r1]] + radii[elements[r2]]) /
              (radii[example["elements"][r1]] + radii[example["elements"][r2]]) for r1, r2 in proto.bonds]
    return float(np.mean(ratios))


def cell_matrix(a: float, b: float, gamma: float, c: float = VACUUM_C) -> np.ndarray:
    """Lattice matrix of a layer: a along x, b in the xy plane at ``gamma`` from a, c along z.

    Args:
        a: length of a, in Å.
        b: length of b, in Å.
        gamma: angle between a and b, in degrees.
        c: length of c (layer and vacuum), in Å.

    Returns:
        float [3, 3], rows a, b, c in Å.
    """
    g = np.radians(gamma)
    return np.array([[a, 0.0, 0.0], [b * np.cos(g), b * np.sin(g), 0.0], [0.0, 0.0, c]])


def build(proto: Prototype, elements: dict) -> tuple[np.ndarray, np.ndarray, list, tuple]:
    """The unstrained layer of a prototype decorated with ``elements``.

    The cell is the prototype's example sharing most elements with ``elements``, rescaled by the
    mean ratio of covalent-radius sums over the prototype's bonds; heights scale with it.

    Args:
        proto: the prototype.
        elements: role -> element symbol (``decorate``).

    Returns:
        ``(lattice [3, 3] in Å, fractional coordinates [N, 3], species, (a, b in Å, gamma in
        degrees))``.
    """
    first, example = proto.examples[0], _nearest_example(proto, elements)
    default_gamma = {0: 120.0, 1: 90.0, 2: 90.0}.get(proto.bravais_class, 90.0)
    a = float(example["a"])
    b = float(example.get("b", a))
    gamma = float(example.get("gamma", default_gamma))
    s = bond_scale(proto, elements, example)
    z_scale = s * a / float(first["a"])
    a, b = a * s, b * s
    lat = cell_matrix(a, b, gamma)
    frac = np.array([[x, y, 0.5 + z * z_scale / VACUUM_C] for _, x, y, z in proto.sites])
    frac[:, :2] = np.mod(frac[:, :2], 1.0)
    species = [elements[r] for r, *_ in proto.sites]
    return lat, frac, species, (a, b, gamma)


def implausible_bonds(lat, frac, species, ratio: float = MIN_BOND_RATIO) -> list:
    """Atom pairs closer than ``ratio`` x their covalent-radius sum (in-plane periodic images included).

    Args:
        lat: lattice matrix [3, 3], rows a, b, c in Å.
        frac: fractional coordinates [N, 3].
        species: element symbol of each of the N atoms.
        ratio: the shortest plausible distance, as a fraction of the covalent-radius sum.

    Returns:
        ``[(e1, e2, d, sum)]``, one per offending pair: the elements, their distance and
        their covalent-radius sum, both in Å (empty when every distance is plausible).
    """
    radii = covalent_radii()
    frac = np.asarray(frac, float)
    lat = np.asarray(lat, float)
    bad = []
    shifts = np.array([(i, j, 0) for i in (-1, 0, 1) for j in (-1, 0, 1)], float)
    for i in range(len(frac)):
        for j in range(i, len(frac)):
            d = frac[j] - frac[i]
            d[:2] -= np.round(d[:2])
            dist = np.linalg.norm((d + shifts) @ lat, axis=1)
            if i == j:
                dist = dist[np.any(shifts != 0, axis=1)]
            r = radii[species[i]] + radii[species[j]]
            if dist.min() < ratio * r:
                bad.append((species[i], species[j], float(dist.min()), r))
    return bad
