"""Monolayers drawn at random in the 80 layer groups, with the chemistry of the prototype
library and the bond rules of the stand-in: variety that 22 prototypes alone cannot show a network.

A layer group fixes the 2D Bravais class of the layer's projection: groups 1-7 leave the plane
oblique, 8-48 rectangular (the nine whose symbol starts with ``c`` centred), 49-64 square and
65-80 hexagonal. One draw picks a group of the wanted class, a composition from a decorated
prototype of the library (Mo with S, not Mo with Ne) times a number of formula units, an
assignment of its atoms to the group's Wyckoff positions (PyXtal's tables), a cell shape and
free coordinates. The whole layer is then scaled so that its shortest contact sits at 0.88-1.0
of the two atoms' covalent-radius sum (the prototypes' bonds sit at 0.88-1.08), which keeps the
close-contact rule by construction; the draw is kept only if the layer is not perfectly flat
(flat ones come from the prototypes, at their real share) and the bonds (at most
``MAX_BOND_RATIO`` of the sum) join every atom into one network that spans the plane in both
directions: a layer, not a gas of atoms or a set of wires.

PyXtal's own random generator is not used: its search is unbounded in time in practice (layer
group 75 with Sc2Se2I2 ran more than 400 s), and a CPU-time limit would make the corpus depend on
the machine. A draw here is a fixed amount of work, a pure function of a NumPy generator.
Centred groups are drawn in their conventional cell and stored in the primitive (rhombic) one,
as the databases store them.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..lattice.lattice2d import StructureError
from . import prototypes

__all__ = ["CENTRED_GROUPS", "MAX_BOND_RATIO", "MAX_ATOMS", "MIN_THICKNESS_A", "MAX_THICKNESS_A",
           "layer_group_class", "groups_of_class", "primitive_of_centred", "contact_ratios", "spans_layer",
           "draw_layer"]

CENTRED_GROUPS = (10, 13, 18, 22, 26, 35, 36, 47, 48)
# every atom of a real monolayer is bonded: its bonds sit within 1.08 x the covalent-radius
# sum at most in the library's prototypes; 1.2 leaves room for strain and ionic bonds
MAX_BOND_RATIO = 1.2
MAX_ATOMS = 12              # per primitive cell: the STEM-JV2D cells hold 1-12 atoms mostly
MAX_THICKNESS_A = 8.0       # Å: the thickest library prototype (Bi2Te3) is 7.6 Å
# Å: perfectly flat layers are 1 % of real monolayers, and the flat prototypes (graphene, h-BN)
# already give them; a layer group with a mirror in the plane would give far more (12 % of the
# records at a share of 0.3)
MIN_THICKNESS_A = 0.1
SHORTEST_CONTACT = (0.88, 1.0)      # the shortest contact after scaling, x the covalent-radius sum
THICKNESS_PER_A = (0.0, 1.2)        # layer thickness before scaling, in units of a
ASPECT = (1.05, 2.0)                # b / a of rectangular and oblique cells
OBLIQUE_GAMMA = (93.0, 118.0)       # degrees
FORMULA_UNITS = (1, 1, 2, 2, 3, 4)
PLACEMENTS = 8              # coordinate draws per Wyckoff assignment before the draw is given up


def layer_group_class(group: int) -> int:
    """The 2D Bravais class (0 hexagonal, 1 square, 2 rectangular, 3 centred rectangular,
    4 oblique) of the in-plane lattice a layer group requires.

    Args:
        group: layer group number, 1-80 (International Tables E).

    Returns:
        The class, 0-4.

    Raises:
        ValueError: ``group`` is not an integer in 1-80.
    """
    if isinstance(group, bool) or not isinstance(group, (int, np.integer)) or not 1 <= group <= 80:
        raise ValueError(f"layer group must be an integer in 1-80, got {group!r}")
    if group <= 7:
        return 4
    if group <= 48:
        return 3 if group in CENTRED_GROUPS else 2
    return 1 if group <= 64 else 0


def groups_of_class(bravais_class: int) -> tuple:
    """The layer groups whose in-plane lattice is of ``bravais_class``.

    Args:
        bravais_class: the 2D Bravais class, 0-4.

    Returns:
        Their numbers, ascending.
    """
    return tuple(g for g in range(1, 81) if layer_group_class(g) == bravais_class)


def primitive_of_centred(lat, frac, species, tol: float = 1e-3):
    """The primitive (rhombic) cell of a layer given in its centred rectangular cell.

    The new vectors are (a + b) / 2 and (-a + b) / 2 of the conventional a, b; of each pair of
    atoms the centring relates, one is kept.

    Args:
        lat: conventional lattice [3, 3], rows a, b, c in Å.
        frac: fractional coordinates [N, 3] in the conventional cell.
        species: element of each atom.
        tol: fractional distance under which two atoms are the same site.

    Returns:
        ``(lattice [3, 3] in Å, fractional coordinates [N / 2, 3], species)``.

    Raises:
        StructureError: the atoms do not come in centring-related pairs.
    """
    lat = np.asarray(lat, float)
    frac = np.asarray(frac, float)
    m = np.array([[0.5, 0.5], [-0.5, 0.5]])
    new = lat.copy()
    new[:2] = m @ lat[:2]
    xy = np.mod(frac[:, :2] @ np.linalg.inv(m), 1.0)
    kept, kept_species = [], []
    for k in range(len(frac)):
        point = np.array([xy[k, 0], xy[k, 1], frac[k, 2]])
        duplicate = False
        for p, s in zip(kept, kept_species):
            d = point - p
            d[:2] -= np.round(d[:2])
            if s == species[k] and np.all(np.abs(d) < tol):
                duplicate = True
                break
        if not duplicate:
            kept.append(point)
            kept_species.append(species[k])
    if 2 * len(kept) != len(frac):
        raise StructureError(f"centred cell of {len(frac)} atoms reduces to {len(kept)}, not half")
    return new, np.array(kept), kept_species


_SHIFTS = np.array([(i, j) for i in (-1, 0, 1) for j in (-1, 0, 1)])


def contact_ratios(lat, frac, species) -> tuple[np.ndarray, np.ndarray]:
    """Distance over covalent-radius sum of every atom pair, for the nine nearest in-plane images.

    Args:
        lat: lattice matrix [3, 3], rows a, b, c in Å (c along the layer normal).
        frac: fractional coordinates [N, 3].
        species: element symbol of each of the N atoms.

    Returns:
        ``(ratios [N, N, 9], cells [N, N, 9, 2])``: ratio[i, j, k] for atom j in the in-plane cell
        ``cells[i, j, k]`` seen from atom i in cell (0, 0); an atom and itself in its own cell
        have ratio inf.
    """
    lat = np.asarray(lat, float)
    frac = np.asarray(frac, float)
    radii = prototypes.covalent_radii()
    r = np.array([radii[s] for s in species])
    d = frac[None, :, :] - frac[:, None, :]                       # [N, N, 3]
    nearest = np.round(d[..., :2])
    d[..., :2] -= nearest
    cells = _SHIFTS[None, None, :, :] - nearest[:, :, None, :].astype(int)    # [N, N, 9, 2]
    vec = d[:, :, None, :].copy().repeat(9, axis=2)
    vec[..., :2] += _SHIFTS[None, None, :, :]
    dist = np.linalg.norm(vec @ lat, axis=-1)
    ratio = dist / (r[:, None] + r[None, :])[..., None]
    own = np.all(_SHIFTS == 0, axis=1)
    ratio[np.arange(len(frac)), np.arange(len(frac)), own.argmax()] = np.inf
    return ratio, cells


def spans_layer(lat, frac, species, ratio: float = MAX_BOND_RATIO) -> bool:
    """Whether the bonds (at most ``ratio`` x the covalent-radius sum) join all atoms into one
    network that is periodic in both in-plane directions.

    Args:
        lat: lattice matrix [3, 3], rows a, b, c in Å.
        frac: fractional coordinates [N, 3].
        species: element symbol of each of the N atoms.
        ratio: the longest bond, as a fraction of the covalent-radius sum.

    Returns:
        True for a connected layer; False for isolated atoms, separate pieces, wires or molecules.
    """
    ratios, cells = contact_ratios(lat, frac, species)
    n = len(species)
    offset = {0: np.zeros(2, int)}
    loops = []
    queue = [0]
    while queue:
        i = queue.pop()
        for j, k in zip(*np.nonzero(ratios[i] <= ratio)):
            reach = offset[i] + cells[i, j, k]
            if j not in offset:
                offset[j] = reach
                queue.append(j)
            else:
                loops.append(reach - offset[j])
    if len(offset) < n or not loops:
        return False
    return np.linalg.matrix_rank(np.array(loops, float)) == 2


@lru_cache(maxsize=80)
def _group(number: int):
    from pyxtal.symmetry import Group

    return Group(number, dim=2)


def _composition(rng) -> dict:
    """Element -> count in one formula unit of a decorated prototype of the library."""
    proto = prototypes.pick(list(prototypes.load_library()), rng)
    elements = prototypes.decorate(proto, rng)
    counts: dict = {}
    for role, *_ in proto.sites:
        counts[elements[role]] = counts.get(elements[role], 0) + 1
    g = int(np.gcd.reduce(list(counts.values())))
    return {e: c // g for e, c in counts.items()}


def _assign_sites(group, counts, rng) -> list:
    """Wyckoff positions for each element (``[["2c", "1a"], ["4d"]]``), drawn one at a time
    among those that still fit; a position without free coordinates is used once at most.

    A bounded draw (at most one step per atom) that may miss an assignment which exists: PyXtal's
    complete enumeration (``list_wyckoff_combinations``) ran for minutes on some rectangular
    groups with 16 atoms.
    """
    sites = [(f"{w.multiplicity}{w.letter}", w.multiplicity, w.get_dof() > 0) for w in group]
    used: set = set()
    assignment = []
    for n in counts:
        chosen, left = [], n
        while left > 0:
            options = [s for s in sites if s[1] <= left and (s[2] or s[0] not in used)]
            if not options:
                raise StructureError("the composition fits no Wyckoff positions of the group")
            label, mult, _ = options[int(rng.integers(len(options)))]
            used.add(label)
            chosen.append(label)
            left -= mult
        assignment.append(chosen)
    return assignment


def _cell_shape(target: int, rng) -> tuple[float, float, float]:
    """(a, b, gamma) of the conventional cell before scaling, a = 1."""
    if target == 0:
        return 1.0, 1.0, 120.0
    if target == 1:
        return 1.0, 1.0, 90.0
    aspect = float(np.exp(rng.uniform(*np.log(ASPECT))))
    if target in (2, 3):
        return 1.0, aspect, 90.0
    return 1.0, aspect, float(rng.uniform(*OBLIQUE_GAMMA))


def _place(group, assignment, species, rng):
    """Fractional x, y and z in units of the thickness (-0.5 to 0.5) of every atom, and its element."""
    positions, names = [], []
    letters = {f"{w.multiplicity}{w.letter}": w for w in group}
    for element, sites in zip(species, assignment):
        for site in sites:
            xyz = np.array([rng.random(), rng.random(), rng.random() - 0.5])
            orbit = letters[site].apply_ops(xyz)
            orbit[:, :2] = np.mod(orbit[:, :2], 1.0)
            positions.extend(orbit)
            names.extend([element] * len(orbit))
    return np.array(positions), names


def draw_layer(target: int, rng):
    """One random monolayer of 2D Bravais class ``target``, or StructureError.

    Args:
        target: the class 0-4 whose layer groups are drawn from.
        rng: NumPy random generator (the draw is a function of its state alone).

    Returns:
        ``(lattice [3, 3] in Å with c along z, fractional coordinates [N, 3], species, meta)``,
        meta with ``prototype`` (``layer group <n> <symbol>``), ``supercell`` False and
        ``tail_supercell`` None, as the prototype records have.

    Raises:
        StructureError: the composition fits no Wyckoff positions of the group, the cell would
            hold too many atoms, or no placement forms a layer.
    """
    number = int(rng.choice(groups_of_class(target)))
    centred = number in CENTRED_GROUPS
    unit = _composition(rng)
    units = int(rng.choice(FORMULA_UNITS)) * (2 if centred else 1)
    species = list(unit)
    counts = [c * units for c in unit.values()]
    if sum(counts) > MAX_ATOMS * (2 if centred else 1):
        raise StructureError("too many atoms for one cell")
    group = _group(number)
    assignment = _assign_sites(group, counts, rng)
    a, b, gamma = _cell_shape(target, rng)
    for _ in range(PLACEMENTS):
        thickness = float(rng.uniform(*THICKNESS_PER_A))
        xyz, names = _place(group, assignment, species, rng)
        lat = prototypes.cell_matrix(a, b, gamma, 1.0)
        frac = np.column_stack([xyz[:, :2], xyz[:, 2] * thickness])     # c = 1: z is in units of a
        shortest = float(contact_ratios(lat, frac, names)[0].min())
        if not np.isfinite(shortest) or shortest < 1e-3:
            continue                                # atoms on top of each other
        scale = float(rng.uniform(*SHORTEST_CONTACT)) / shortest
        height = float(np.ptp(frac[:, 2])) * scale
        if not MIN_THICKNESS_A <= height <= MAX_THICKNESS_A:
            continue
        lat = prototypes.cell_matrix(a * scale, b * scale, gamma, prototypes.VACUUM_C)
        frac = np.column_stack([frac[:, :2], 0.5 + frac[:, 2] * scale / prototypes.VACUUM_C])
        cell_species = names
        if centred:
            lat, frac, cell_species = primitive_of_centred(lat, frac, names)
        if not spans_layer(lat, frac, cell_species):
            continue
        meta = {"prototype": f"layer group {number} {group.symbol}", "supercell": False, "tail_supercell": None}
        return lat, frac, cell_species, meta
    raise StructureError("no placement forms a connected layer")
