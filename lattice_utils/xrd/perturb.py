"""Perturbed crystals for notebook 13: isotropic strain, random substitution, and depletion
towards b.c.c. or f.c.c. (sections 3.4-3.6 of the XRD paper). Each function returns a new
``Crystal``; randomness comes only from the ``rng`` passed in."""
from __future__ import annotations

import numpy as np

from .corpus import ELEMENTS
from .simulate import Crystal, CrystalError
from .symmetry import centring

__all__ = ["KEY_SITES", "MIN_ATOMS", "TARGET_CENTRING", "strained", "substituted", "key_site_mask",
           "is_depletion_candidate", "depleted", "depletion_series", "mirrored"]

KEY_SITES = {
    "bcc": np.array([[0, 0, 0], [0.5, 0.5, 0.5]]),
    "fcc": np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]]),
}
MIN_ATOMS = {"bcc": 6, "fcc": 8}           # the paper's minimum cell contents
TARGET_CENTRING = {"bcc": "I", "fcc": "F"}


def strained(crystal: Crystal, strain: float) -> Crystal:
    """Isotropic lattice scaling by (1 + strain); fractional coordinates kept.

    Args:
        crystal: the structure.
        strain: the strain as a fraction (dimensionless): -0.1 compresses every lattice vector by
            10 %, 0.05 stretches it by 5 %.

    Returns:
        The strained ``Crystal``.

    Raises:
        ValueError: for a strain outside (-0.5, 1.0) (such as a percentage given by mistake).
    """
    if not -0.5 < strain < 1.0:
        raise ValueError(f"strain must be a fraction such as -0.1 or 0.05, got {strain}")
    return crystal.scaled(1.0 + strain)


def substituted(crystal: Crystal, fraction: float, rng) -> Crystal:
    """Replace ``fraction`` of the atoms (rounded, chosen at random) by random elements different
    from the one they replace, drawn from ``corpus.ELEMENTS`` (the paper: "the periodic table").

    Args:
        crystal: the structure.
        fraction: share of the sites to substitute, in [0, 1].
        rng: a ``numpy.random.Generator``, the only source of randomness.

    Returns:
        The substituted ``Crystal`` (same cell and sites).

    Raises:
        ValueError: for a fraction outside [0, 1].
    """
    if not 0 <= fraction <= 1:
        raise ValueError(f"substitution fraction must be in [0, 1], got {fraction}")
    species = list(crystal.species)
    n = int(round(fraction * len(species)))
    for i in rng.choice(len(species), n, replace=False):
        choices = [e for e in ELEMENTS if e != species[i]]
        species[i] = str(rng.choice(choices))
    return crystal.with_sites(crystal.frac, species)


def key_site_mask(crystal: Crystal, target: str, tol: float = 1e-3) -> np.ndarray:
    """Atoms on the b.c.c. or f.c.c. sites of the cubic cell.

    Args:
        crystal: the structure (a conventional cubic cell).
        target: ``"bcc"`` or ``"fcc"`` (a key of ``KEY_SITES``).
        tol: largest difference in fractional coordinates (per axis, modulo 1) to a key site.

    Returns:
        Bool array [n]: True for each site on a key site.

    Raises:
        KeyError: for a target other than ``"bcc"`` or ``"fcc"``.
    """
    d = crystal.frac[:, None, :] - KEY_SITES[target][None, :, :]
    d -= np.round(d)
    return (np.abs(d) < tol).all(axis=2).any(axis=1)


def is_depletion_candidate(crystal: Crystal, space_group: int, target: str) -> bool:
    """Whether a structure can be depleted towards b.c.c. or f.c.c. (notebook 13).

    A candidate is a cubic structure of the target's centring (I for b.c.c., F for f.c.c.) with one
    species on every key site, atoms elsewhere too, and the paper's minimum size (``MIN_ATOMS``).

    Args:
        crystal: the structure.
        space_group: its space-group number, 1-230.
        target: ``"bcc"`` or ``"fcc"``.

    Returns:
        True for a candidate.
    """
    if not 195 <= space_group <= 230 or centring(space_group) != TARGET_CENTRING[target]:
        return False
    key = key_site_mask(crystal, target)
    on = {tuple(np.round(f % 1, 3)) for f in crystal.frac[key]}
    sp = {s for s, k in zip(crystal.species, key) if k}
    return (len(on) == len(KEY_SITES[target]) and len(sp) == 1 and (~key).any()
            and len(crystal.species) >= MIN_ATOMS[target])


def depleted(crystal: Crystal, target: str, fraction: float, rng) -> Crystal:
    """Remove ``fraction`` of the atoms that are not on the key sites (chosen at random, no
    relaxation, as the paper); at 1.0 only the b.c.c. or f.c.c. lattice is left.

    Args:
        crystal: the structure (a depletion candidate: ``is_depletion_candidate``).
        target: ``"bcc"`` or ``"fcc"``.
        fraction: share of the off-key-site atoms to remove (rounded), in [0, 1].
        rng: a ``numpy.random.Generator``, the only source of randomness.

    Returns:
        The depleted ``Crystal`` (same cell, fewer sites).

    Raises:
        ValueError: for a fraction outside [0, 1].
        CrystalError: when no atom lies on the target's key sites.
    """
    if not 0 <= fraction <= 1:
        raise ValueError(f"depletion fraction must be in [0, 1], got {fraction}")
    key = key_site_mask(crystal, target)
    if not key.any():
        raise CrystalError(f"{crystal.name}: no atom on the {target} sites")
    others = np.flatnonzero(~key)
    drop = rng.choice(others, int(round(fraction * len(others))), replace=False)
    keep = np.setdiff1d(np.arange(len(crystal.species)), drop)
    return crystal.with_sites(crystal.frac[keep], [crystal.species[i] for i in keep])


def depletion_series(crystal: Crystal, target: str, fractions, rng) -> list:
    """One crystal depleted step by step towards b.c.c. or f.c.c.: ``depleted`` at each fraction.

    The steps draw from one ``rng`` in order, so a series is a function of the generator's seed; a
    fraction of 0 gives the crystal itself and draws nothing.

    Args:
        crystal: the structure (a depletion candidate: ``is_depletion_candidate``).
        target: ``"bcc"`` or ``"fcc"``.
        fractions: the shares of the off-key-site atoms to remove, each in [0, 1].
        rng: a ``numpy.random.Generator``, the only source of randomness.

    Returns:
        A list of ``Crystal``, one per fraction, in their order.

    Raises:
        ValueError: for a fraction outside [0, 1].
        CrystalError: when no atom lies on the target's key sites.
    """
    return [depleted(crystal, target, f, rng) if f > 0 else crystal for f in fractions]


def mirrored(crystal: Crystal) -> Crystal:
    """The mirror image (inversion of every coordinate): a chiral structure's enantiomorph.

    Args:
        crystal: the structure.

    Returns:
        The inverted ``Crystal`` (fractional coordinates -r modulo 1, same cell and species).
    """
    return crystal.with_sites((-crystal.frac) % 1.0, crystal.species)
