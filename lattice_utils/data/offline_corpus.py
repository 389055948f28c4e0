"""Offline stand-in for the paper's three 2D databases: decorated monolayer prototypes.

C2DB and 2DMatPedia grew by decorating known 2D prototypes with other elements; this corpus
does the same (``prototypes``: 22 prototypes with references, covalent-radius cell scaling).
Every structure is a pure function of (slot seed, index): no clock and no external search,
so a corpus is byte-identical on every machine at any load, and a build can stop and resume
anywhere.

The class of each index is drawn from the paper's Table S3 mix. A record is kept only when the
paper's label (jarvis ``get_2d_lattice`` on the stored cell) and the class fixed by the layer's
own symmetry (``lattice2d.symmetry_class``) both give the target, and no two atoms are closer
than ``prototypes.MIN_BOND_RATIO`` of their covalent-radius sum.

* hexagonal, square, rectangular: a prototype of that class, strained within its class
  (hexagonal and square isotropically, rectangular a and b independently);
* centred rectangular: a hexagonal or square prototype sheared into a rhombus (a = b, gamma off
  120 or 90 degrees), as Jahn-Teller halides and monoclinic MX3 layers are; the diagonal
  mirror or in-plane 2-fold axis survives, so the class is centred rectangular by symmetry too;
* oblique: the ReS2-type distorted 1T prototype, or any prototype under a general strain;
  in the Alex-PBE slot 30 % of oblique records are 2x1 supercells of hexagonal or rhombic
  cells stored without reduction, the supercells behind the extra parity-plot slopes the paper
  reports (Fig. 3c);
* the long tail of cell sizes: in each slot a share of records are ordered-substitution
  supercells (one site of a role replaced by another element of its pool), which is how
  Alexandria's prototype decorations reach large primitive cells. Shares and sizes per slot are
  set so that the mean-of-training baseline of the paper's Table 1 (a property of the data
  alone) comes out near the paper's (notebook 01 prints the comparison);
* hexagonal cells are stored at gamma = 120 or at 60 degrees (both conventions occur in the
  databases) in a per-slot share;
* in a per-slot share of records (``layer_groups``), the structure is instead drawn at random in a
  layer group of the target class (``layer_groups.draw_layer``), with the library's chemistry and
  the same rules: variety beyond the prototypes. At share 0 the generator is not touched, so the
  prototype records stay byte-identical.
"""
from __future__ import annotations

import warnings
from collections import Counter
from contextlib import contextmanager

import numpy as np

from ..core import parallel
from ..core.profiles import class_counts
from ..lattice.lattice2d import StructureError, lattice_params_2d
from . import layer_groups, prototypes
from .structures import normalise_record

__all__ = ["GENERATOR_VERSION", "SLOT_SETTINGS", "layer_group_share", "class_sequence", "generate_block",
           "generate_one", "supercell", "supercell_2x1"]

GENERATOR_VERSION = 4   # 4: a share of records drawn in layer groups (0 by default: same records as 3)
SLOT_SEEDS = {"jv2d": 1, "c2db": 2, "alex": 3}
MAX_ATTEMPTS = 40
FAMILY_STREAM = 1_000_003   # the seed-sequence entry of the per-record draw of prototype or layer group

# Per-slot data settings. ``tail``: share of ordered-substitution n x n supercells of hexagonal,
# square and centred cells; ``tail_long_b``: share of 1 x n ones (b longer) of rectangular and
# oblique cells; ``swap_ab``: share of rectangular and oblique cells stored with the longer
# vector as a; ``tail_n``: the
# supercell sizes drawn for them (linear multiplier, a geometric-like mix); ``hex60``: share of
# hexagonal cells stored at 60 degrees; ``stored_supercell``: share of oblique records that are
# 2x1 supercells stored unreduced; ``layer_groups``: share of records drawn in a random layer
# group (``layer_groups.draw_layer``) instead of from a prototype: 0.3 in jv2d, where the transfer
# benchmark measured it (STEM-JV2D test accuracy 0.63-0.64 -> 0.72-0.74 over two seeds, 0.5 no
# better), with ``tail`` 0.15 there (was 0.12) to keep Table 1's baseline within 15 %.
SLOT_SETTINGS = {
    "jv2d": {"tail": 0.15, "tail_long_b": 0.30, "tail_n": (2, 2, 2, 3, 3), "hex60": 0.3,
             "swap_ab": 0.2, "stored_supercell": 0.0, "layer_groups": 0.3},
    "c2db": {"tail": 0.04, "tail_long_b": 0.05, "tail_n": (2, 2, 3), "hex60": 0.0, "swap_ab": 0.5,
             "stored_supercell": 0.0, "layer_groups": 0.0},
    "alex": {"tail": 0.42, "tail_long_b": 0.42, "tail_n": (2, 2, 2, 3, 3, 4, 4, 5), "hex60": 0.2,
             "swap_ab": 0.4, "stored_supercell": 0.3, "layer_groups": 0.0},
}
STRAIN_SD = 0.01            # relative: spread of relaxed lattice constants between functionals
RHOMBIC_SHEAR_DEG = (3.0, 14.0)
OBLIQUE_SHEAR_DEG = (2.0, 10.0)
OBLIQUE_ASPECT = (0.02, 0.10)
RES2_SHARE = 0.3            # oblique records from the ReS2-type prototype


@contextmanager
def layer_group_share(slot: str, share: float):
    """Within the block, the records of ``slot`` come from a layer group in a share ``share``
    (the transfer benchmark's variable); the corpus cache key sees it through ``SLOT_SETTINGS``.

    Args:
        slot: dataset slot, ``jv2d``, ``c2db`` or ``alex``.
        share: share of records, 0-1.

    Raises:
        ValueError: ``share`` is not a number in 0-1.
    """
    if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0.0 <= share <= 1.0:
        raise ValueError(f"layer-group share must be a number in 0-1, got {share!r}")
    before = SLOT_SETTINGS[slot]["layer_groups"]
    SLOT_SETTINGS[slot]["layer_groups"] = float(share)
    try:
        yield
    finally:
        SLOT_SETTINGS[slot]["layer_groups"] = before


def class_sequence(slot: str, n: int, seed: int) -> np.ndarray:
    """Target Bravais class of every index of a slot's corpus: Table S3 proportions, seeded order.

    Args:
        slot: dataset slot, ``jv2d``, ``c2db`` or ``alex``.
        n: number of structures of the corpus.
        seed: the profile's seed (combined with the slot's own).

    Returns:
        int [n], classes 0-4 (hexagonal, square, rectangular, centred rectangular, oblique) in
        the counts of ``profiles.class_counts``, permuted deterministically.
    """
    seq = np.repeat(np.arange(5), class_counts(n, slot))
    return np.random.default_rng([seed, SLOT_SEEDS[slot], 7]).permutation(seq)


def supercell(lat, frac, species, matrix):
    """Supercell of a layer with in-plane vectors ``matrix`` (c is kept).

    Args:
        lat: lattice matrix [3, 3], rows a, b, c in Å.
        frac: fractional coordinates [N, 3].
        species: element symbol of each of the N atoms.
        matrix: 2x2 integers, the new a and b as rows in units of the old a, b.

    Returns:
        ``(lattice [3, 3] in Å, fractional coordinates [n N, 3] with x, y in [0, 1), species)``,
        where n = |det matrix|.

    Raises:
        StructureError: the supercell does not hold n N atoms.
    """
    lat = np.asarray(lat, float)
    frac = np.asarray(frac, float)
    m = np.asarray(matrix, int)
    n = int(round(abs(np.linalg.det(m))))
    new = lat.copy()
    new[:2] = m @ lat[:2]
    span = int(np.abs(m).sum())
    cells = [(i, j) for i in range(-span, span + 1) for j in range(-span, span + 1)]
    inv = np.linalg.inv(m.T.astype(float))
    out_f, out_s = [], []
    for i, j in cells:
        f2 = (frac[:, :2] + (i, j)) @ inv.T
        inside = np.all((f2 > -1e-9) & (f2 < 1 - 1e-9), axis=1)
        for k in np.flatnonzero(inside):
            out_f.append([f2[k, 0], f2[k, 1], frac[k, 2]])
            out_s.append(species[k])
    if len(out_f) != n * len(frac):
        raise StructureError(f"supercell {m.tolist()} holds {len(out_f)} atoms, expected {n * len(frac)}")
    return new, np.mod(np.array(out_f), [1, 1, np.inf]), out_s


def supercell_2x1(lat, frac, species):
    """The 2 x 1 supercell of a layer (a doubled, b kept).

    Args:
        lat: lattice matrix [3, 3], rows a, b, c in Å.
        frac: fractional coordinates [N, 3].
        species: element symbol of each of the N atoms.

    Returns:
        ``(lattice [3, 3] in Å, fractional coordinates [2 N, 3], species)``, as ``supercell``.
    """
    return supercell(lat, frac, species, [[2, 0], [0, 1]])


def _swap_ab(lat, frac):
    a, b, gamma = lattice_params_2d(lat)
    frac = np.asarray(frac, float)[:, [1, 0, 2]].copy()
    frac[:, 2] = 1.0 - frac[:, 2]      # exchanging a and b flips a x b: flip z to keep a right-handed cell
    return prototypes.cell_matrix(b, a, gamma, float(np.asarray(lat)[2, 2])), frac


# supercells that keep each class when one site on a high-symmetry axis is substituted
TAIL_MATRICES = {
    0: {2: [[2, 0], [0, 2]], 3: [[3, 0], [0, 3]], 4: [[4, 0], [0, 4]], 5: [[5, 0], [0, 5]], 6: [[6, 0], [0, 6]]},
    1: {2: [[2, 0], [0, 2]], 3: [[3, 0], [0, 3]], 4: [[4, 0], [0, 4]], 5: [[5, 0], [0, 5]], 6: [[6, 0], [0, 6]]},
    3: {2: [[2, 0], [0, 2]], 3: [[3, 0], [0, 3]], 4: [[4, 0], [0, 4]], 5: [[5, 0], [0, 5]], 6: [[6, 0], [0, 6]]},
}


def _tail_matrix(target: int, n: int) -> list:
    if target in TAIL_MATRICES:
        return TAIL_MATRICES[target][n]
    return [[1, 0], [0, n]]     # rectangular and oblique: a longer b (a <= b, as stored)


def _substitute_one(proto, elements, species, rng):
    """Replace the first atom of one role by another element of that role's pool."""
    roles = [r for r, pool in proto.roles.items() if len(pool) > 1]
    if not roles:
        raise StructureError("no role with a second element to substitute")
    role = roles[int(rng.integers(len(roles)))]
    options = [e for e in proto.roles[role] if e not in elements.values()]
    if not options:
        raise StructureError("no free element to substitute")
    new = options[int(rng.integers(len(options)))]
    first = species.index(elements[role])
    species = list(species)
    species[first] = new
    return species


def _draw(slot: str, target: int, rng):
    """(lattice, frac, species, meta) of one candidate for class ``target``."""
    settings = SLOT_SETTINGS[slot]
    lib = prototypes.load_library()
    stored_2x1 = target == 4 and rng.random() < settings["stored_supercell"]
    base = int(rng.choice([0, 3])) if stored_2x1 else target
    if base == 3:
        source = int(rng.choice([0, 1]))
    elif base == 4:
        source = 4 if rng.random() < RES2_SHARE else int(rng.choice([0, 1, 2]))
    else:
        source = base
    proto = prototypes.pick([p for p in lib if p.bravais_class == source], rng)
    elements = prototypes.decorate(proto, rng)
    lat, frac, species, (a, b, gamma) = prototypes.build(proto, elements)
    strain = np.exp(rng.normal(0.0, STRAIN_SD, 2))
    if base in (0, 1, 3):
        a = b = a * strain[0]
    else:
        a, b = a * strain[0], b * strain[1]
    if base == 3:
        lo, hi = RHOMBIC_SHEAR_DEG
        gamma = gamma + rng.choice([-1, 1]) * rng.uniform(lo, hi)
    elif base == 4 and source != 4:
        lo, hi = OBLIQUE_ASPECT
        b = b * (1 + rng.choice([-1, 1]) * rng.uniform(lo, hi))
        lo, hi = OBLIQUE_SHEAR_DEG
        gamma = gamma + rng.choice([-1, 1]) * rng.uniform(lo, hi)
    lat = prototypes.cell_matrix(a, b, gamma, float(np.asarray(lat)[2, 2]))
    tail = None
    share = settings["tail"] if base in TAIL_MATRICES else settings["tail_long_b"]
    if not stored_2x1 and rng.random() < share:
        n = int(rng.choice(settings["tail_n"]))
        tail = _tail_matrix(base, n)
        lat, frac, species = supercell(lat, frac, species, tail)
        species = _substitute_one(proto, elements, species, rng)
    if stored_2x1:
        lat, frac, species = supercell_2x1(lat, frac, species)
    elif base in (2, 4) and rng.random() < settings["swap_ab"]:
        # the same layer stored with a and b exchanged (a x b kept along +z by mirroring x)
        lat, frac = _swap_ab(lat, frac)
    if base == 0 and not stored_2x1 and rng.random() < settings["hex60"]:
        # the same lattice stored with b' = a + b (gamma 60)
        cart = frac @ lat
        lat = lat.copy()
        lat[1] = lat[0] + lat[1]
        frac = np.linalg.solve(lat.T, cart.T).T
        frac[:, :2] = np.mod(frac[:, :2], 1.0)
    meta = {"prototype": proto.name, "supercell": bool(stored_2x1),
            "tail_supercell": None if tail is None else str(tail)}
    return lat, frac, species, meta


def generate_one(slot: str, index: int, target: int, seed: int, layer_group_share: float | None = None):
    """One corpus record of class ``target`` for ``index``, from up to ``MAX_ATTEMPTS`` draws.

    Nothing here depends on time: the record is a function of its arguments. A draw is rejected
    when atoms are implausibly close, the record cannot be normalised, the paper's label or the
    symmetry class differs from ``target``, or a cell meant to be primitive is not.

    Args:
        slot: dataset slot, ``jv2d``, ``c2db`` or ``alex`` (its settings and seed).
        index: the record's index in the corpus (its id is ``<slot>-proto-<index>``).
        target: the Bravais class 0-4 to produce.
        seed: the profile's seed.
        layer_group_share: share of records drawn in a layer group; None for the slot's setting
            (``SLOT_SETTINGS``).

    Returns:
        ``(record, rejected)``: the normalised record (``structures.normalise_record``, with
        ``prototype``, ``supercell`` and ``tail_supercell``) or None when every attempt failed,
        and a Counter of the reasons attempts were rejected.
    """
    # the drawing libraries warn on many rejected attempts: silenced here, not for the whole process
    share = SLOT_SETTINGS[slot]["layer_groups"] if layer_group_share is None else float(layer_group_share)
    # the family is drawn once per record from its own stream, so that the share is one of records
    # (a layer-group draw is rejected far more often than a prototype one); at share 0 nothing is
    # drawn and the prototype records stay byte-identical
    family = [seed, SLOT_SEEDS[slot], index, FAMILY_STREAM]
    in_layer_group = share > 0 and np.random.default_rng(family).random() < share
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rejected = Counter()
        for attempt in range(MAX_ATTEMPTS):
            rng = np.random.default_rng([seed, SLOT_SEEDS[slot], index, attempt])
            try:
                # a layer-group record falls back on a prototype after half the attempts, so that a
                # hard composition costs no record
                if in_layer_group and attempt < MAX_ATTEMPTS // 2:
                    lat, frac, species, meta = layer_groups.draw_layer(target, rng)
                else:
                    lat, frac, species, meta = _draw(slot, target, rng)
            except StructureError as exc:
                rejected[str(exc).split(":")[0]] += 1
                continue
            if prototypes.implausible_bonds(lat, frac, species):
                rejected["atoms closer than 0.8 x their covalent-radius sum"] += 1
                continue
            atoms = {"lattice_mat": np.asarray(lat).tolist(), "coords": np.asarray(frac).tolist(),
                     "elements": list(species), "cartesian": False}
            try:
                row = normalise_record(f"{slot}-proto-{index:06d}", atoms, "offline-prototype", extra=meta)
            except StructureError as exc:
                rejected[f"StructureError: {exc}"] += 1
                continue
            if row["label"] != target:
                rejected["paper label differs from target class"] += 1
                continue
            expected = (0, 3) if meta["supercell"] else (target,)
            if row["canon_label"] not in expected:
                rejected["symmetry class differs from target class"] += 1
                continue
            if row["canon_mult"] > 1 and not meta["supercell"]:
                rejected["stored cell is not primitive"] += 1
                continue
            return row, rejected
        return None, rejected


def _task(args):
    slot, index, target, seed, share = args
    row, rejected = generate_one(slot, index, target, seed, share)
    return index, row, rejected


def generate_block(slot: str, indices, targets, seed: int, workers: int = 1, progress=None):
    """Corpus records for a block of indices, by ``generate_one``.

    Runs in ``workers`` spawned processes (0 = all cores, at most ``parallel.MAX_WORKERS``);
    the result does not depend on ``workers``.

    Args:
        slot: dataset slot, ``jv2d``, ``c2db`` or ``alex``.
        indices: corpus indices of the block.
        targets: the Bravais class 0-4 of each index.
        seed: the profile's seed.
        workers: processes to use (0 = all cores).
        progress: progress bar to advance by one per index, or None.

    Returns:
        ``(rows, skipped, rejected)``: the records for ``indices`` (in order), the skipped
        ``(id, reason)`` and a Counter of rejected attempts.
    """
    # the settings are read here and sent along: a spawned worker imports the module afresh
    share = SLOT_SETTINGS[slot]["layer_groups"]
    tasks = [(slot, int(i), int(t), seed, share) for i, t in zip(indices, targets)]
    rows, skipped, rejected = [], [], Counter()
    for index, row, rej in parallel.imap(_task, tasks, workers, ordered=True, chunksize=8):
        rejected.update(rej)
        if row is None:
            skipped.append((f"{slot}-proto-{index:06d}",
                            f"no valid structure in {MAX_ATTEMPTS} attempts"))
        else:
            rows.append(row)
        if progress is not None:
            progress.update(1)
    return rows, skipped, rejected
