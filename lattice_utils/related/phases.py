"""The candidate crystal phases of notebook 17 (Zhu et al., HRTEM nanoparticles): their
structures, the zone axes the specimen draws, and the d-spacings and plane families the analysis
matches measured spots against."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Phase:
    name: str
    system: str
    spacegroup: str
    lattice: tuple           # (a, c) or (a,) or (a, b, c)
    species: tuple
    coords: tuple

    def structure(self):
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


PHASES = {
    "Au": Phase("Au", "cubic", "Fm-3m", (4.078,), ("Au",), ((0, 0, 0),)),
    "CeO2": Phase("CeO2", "cubic", "Fm-3m", (5.411,), ("Ce", "O"), ((0, 0, 0), (0.25, 0.25, 0.25))),
    "ZnO": Phase("ZnO", "hexagonal", "P6_3mc", (3.250, 5.207), ("Zn", "O"), ((1 / 3, 2 / 3, 0), (1 / 3, 2 / 3, 0.382))),
    "TiO2 (rutile)": Phase("TiO2 (rutile)", "tetragonal", "P4_2/mnm", (4.594, 2.959), ("Ti", "O"),
                           ((0, 0, 0), (0.3053, 0.3053, 0))),
    "Cu2O": Phase("Cu2O", "cubic", "Pn-3m", (4.269,), ("O", "Cu"), ((0, 0, 0), (0.25, 0.25, 0.25))),
}
ZONES = {"cubic": ((0, 0, 1), (0, 1, 1), (1, 1, 1)), "hexagonal": ((0, 0, 1), (1, 0, 0), (1, 1, 0)),
         "tetragonal": ((0, 0, 1), (1, 0, 0), (1, 1, 0), (1, 1, 1)), "orthorhombic": ((0, 0, 1), (1, 0, 0), (0, 1, 0))}


@lru_cache(maxsize=None)
def candidate_spacings(name: str, d_min: float = 1.0, rel_intensity: float = 1.0) -> pd.DataFrame:
    """d-spacings (Å) with Miller indices of ``name``, from pymatgen's XRDCalculator (reflections
    with a powder intensity above ``rel_intensity`` % of the strongest, d >= ``d_min``)."""
    from pymatgen.analysis.diffraction.xrd import XRDCalculator
    two_theta_max = float(np.degrees(2 * np.arcsin(1.5406 / (2 * d_min))))
    pat = XRDCalculator().get_pattern(phase_structure(name), two_theta_range=(5, two_theta_max))
    rows = [{"d": d, "hkl": tuple(h["hkl"][-3:]) if len(h["hkl"]) == 3 else (h["hkl"][0], h["hkl"][1], h["hkl"][3]),
             "intensity": i} for d, hs, i in zip(pat.d_hkls, pat.hkls, pat.y) for h in hs[:1] if i >= rel_intensity]
    return pd.DataFrame(rows)


@lru_cache(maxsize=None)
def phase_structure(name: str):
    return PHASES[name].structure()


def plane_family(phase: str, d: float, tol: float = 0.01, max_index: int = 6) -> np.ndarray:
    """Every (h k l) of ``phase`` with spacing within a relative ``tol`` of ``d`` Å [n, 3]."""
    st = phase_structure(phase)
    r = np.arange(-max_index, max_index + 1)
    hkl = np.stack(np.meshgrid(r, r, r, indexing="ij"), -1).reshape(-1, 3)
    hkl = hkl[np.any(hkl != 0, axis=1)]
    dd = 1 / np.linalg.norm(hkl @ st.lattice.reciprocal_lattice_crystallographic.matrix, axis=1)
    return hkl[np.abs(dd / d - 1) < tol]
