"""The candidate crystal phases of notebook 17 (Zhu et al., HRTEM nanoparticles): their
structures, the zone axes the specimen draws, and the d-spacings and plane families the analysis
matches measured spots against."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

__all__ = ["Phase", "PHASES", "ZONES", "candidate_spacings", "phase_structure", "plane_family"]


@dataclass(frozen=True)
class Phase:
    """A candidate crystal phase: its cell, space group and asymmetric unit.

    Attributes:
        name: the phase's name (a key of ``PHASES``).
        system: crystal system, "cubic", "hexagonal", "tetragonal" (any other value is built as
            orthorhombic).
        spacegroup: Hermann-Mauguin symbol of the space group (pymatgen's spelling, e.g. "P6_3mc").
        lattice: the lattice constants (Å): (a,) cubic, (a, c) hexagonal or tetragonal, (a, b, c)
            orthorhombic.
        species: element symbols of the asymmetric unit.
        coords: fractional coordinates of the asymmetric unit, one triple per species.
    """
    name: str
    system: str
    spacegroup: str
    lattice: tuple           # (a, c) or (a,) or (a, b, c)
    species: tuple
    coords: tuple

    def structure(self):
        """The full pymatgen ``Structure`` of the phase, generated from its space group."""
        from pymatgen.core import Lattice, Structure
        if self.system == "cubic":
            lat = Lattice.cubic(self.lattice[0])
        elif self.system == "hexagonal":
            lat = Lattice.hexagonal(*self.lattice)
        elif self.system == "tetragonal":
            lat = Lattice.tetragonal(*self.lattice)
        else:
            lat = Lattice.orthorhombic(*self.lattice)
        return Structure.from_spacegroup(self.spacegroup, lat, list(self.species), [list(c) for c in self.coords])


# the candidate phases by name (lattice constants in Å)
PHASES = {
    "Au": Phase("Au", "cubic", "Fm-3m", (4.078,), ("Au",), ((0, 0, 0),)),
    "CeO2": Phase("CeO2", "cubic", "Fm-3m", (5.411,), ("Ce", "O"), ((0, 0, 0), (0.25, 0.25, 0.25))),
    "ZnO": Phase("ZnO", "hexagonal", "P6_3mc", (3.250, 5.207), ("Zn", "O"), ((1 / 3, 2 / 3, 0), (1 / 3, 2 / 3, 0.382))),
    "TiO2 (rutile)": Phase("TiO2 (rutile)", "tetragonal", "P4_2/mnm", (4.594, 2.959), ("Ti", "O"),
                           ((0, 0, 0), (0.3053, 0.3053, 0))),
    "Cu2O": Phase("Cu2O", "cubic", "Pn-3m", (4.269,), ("O", "Cu"), ((0, 0, 0), (0.25, 0.25, 0.25))),
}
# the zone axes [u v w] a particle of each crystal system is drawn in
ZONES = {"cubic": ((0, 0, 1), (0, 1, 1), (1, 1, 1)), "hexagonal": ((0, 0, 1), (1, 0, 0), (1, 1, 0)),
         "tetragonal": ((0, 0, 1), (1, 0, 0), (1, 1, 0), (1, 1, 1)), "orthorhombic": ((0, 0, 1), (1, 0, 0), (0, 1, 0))}


@lru_cache(maxsize=None)
def candidate_spacings(name: str, d_min: float = 1.0, rel_intensity: float = 1.0) -> pd.DataFrame:
    """d-spacings (Å) with Miller indices of ``name``, from pymatgen's XRDCalculator (reflections
    with a powder intensity above ``rel_intensity`` % of the strongest, d >= ``d_min``).

    The pattern is computed for Cu K-alpha (1.5406 Å) from 2 theta = 5 degrees up to the angle of
    ``d_min``, so ``d_min`` must exceed half the wavelength (0.77 Å). Of each family only its first
    indices are kept; four-index (h k i l) are written (h k l). Cached: the same DataFrame is
    returned to every caller (do not modify it).

    Args:
        name: the phase, a key of ``PHASES``.
        d_min: smallest d-spacing kept (Å).
        rel_intensity: smallest powder intensity kept, in % of the strongest reflection.

    Returns:
        DataFrame with one row per reflection: ``d`` (Å), ``hkl`` (tuple of three Miller indices),
        ``intensity`` (powder intensity, % of the strongest).

    Raises:
        KeyError: ``name`` is not a key of ``PHASES``.
    """
    from pymatgen.analysis.diffraction.xrd import XRDCalculator
    two_theta_max = float(np.degrees(2 * np.arcsin(1.5406 / (2 * d_min))))
    pat = XRDCalculator().get_pattern(phase_structure(name), two_theta_range=(5, two_theta_max))
    rows = [{"d": d, "hkl": tuple(h["hkl"][-3:]) if len(h["hkl"]) == 3 else (h["hkl"][0], h["hkl"][1], h["hkl"][3]),
             "intensity": i} for d, hs, i in zip(pat.d_hkls, pat.hkls, pat.y) for h in hs[:1] if i >= rel_intensity]
    return pd.DataFrame(rows)


@lru_cache(maxsize=None)
def phase_structure(name: str):
    """The pymatgen ``Structure`` of the candidate phase ``name`` (cached: shared by every caller).

    Args:
        name: the phase, a key of ``PHASES``.

    Returns:
        The pymatgen ``Structure`` (lattice in Å).

    Raises:
        KeyError: ``name`` is not a key of ``PHASES``.
    """
    return PHASES[name].structure()


def plane_family(phase: str, d: float, tol: float = 0.01, max_index: int = 6) -> np.ndarray:
    """Every (h k l) of ``phase`` with spacing within a relative ``tol`` of ``d`` Å [n, 3].

    Args:
        phase: the phase, a key of ``PHASES``.
        d: the d-spacing of the family (Å).
        tol: relative tolerance on the spacing (0.01: 1 %).
        max_index: largest |h|, |k|, |l| tried.

    Returns:
        int array [n, 3] of the Miller indices (h k l) whose spacing 1 / |h a* + k b* + l c*| lies
        within ``tol`` of ``d``.

    Raises:
        KeyError: ``phase`` is not a key of ``PHASES``.
    """
    st = phase_structure(phase)
    r = np.arange(-max_index, max_index + 1)
    hkl = np.stack(np.meshgrid(r, r, r, indexing="ij"), -1).reshape(-1, 3)
    hkl = hkl[np.any(hkl != 0, axis=1)]
    dd = 1 / np.linalg.norm(hkl @ st.lattice.reciprocal_lattice_crystallographic.matrix, axis=1)
    return hkl[np.abs(dd / d - 1) < tol]
