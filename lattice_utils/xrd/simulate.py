"""Kinematic single-crystal X-ray diffraction along a zone axis, rendered as a spot pattern.

As section 2.4 of the XRD paper: Cu K-alpha; the reflections of the zero-order Laue zone of
[uvw] (h u + k v + l w = 0) inside the limiting sphere |g| < 2/lambda; structure factors with
analytic atomic form factors (the coefficients pymatgen ships, the same as its XRDCalculator);
intensity |F|^2 normalised to the strongest reflection (``lorentz=True`` multiplies by the
powder Lorentz-polarisation factor, which the paper writes down for its intensities: it makes
the few lowest-angle spots swamp the rest; docs/deviations.md#deviation-22);
each reflection a filled disk of radius 0.1 x I/I_max (in 1/A), a marker at the direct beam.

The beam runs along the *direct-lattice* vector u a + v b + w c, so every drawn g is
perpendicular to it, in any cell. (The authors' code takes [uvw] as a Cartesian vector, which
differs for non-orthogonal cells: docs/deviations.md#deviation-7.)

Everything is vectorised: the zone's reflections are enumerated on its own 2D integer lattice
(no 3D box), and structure factors are one matrix product per element.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..core.profiles import XRD_PATTERN_SHAPE

__all__ = ["CU_KA", "SPOT_SCALE", "BEAM_RADIUS", "BEAM_LEVEL", "MIN_INTENSITY", "MIN_LATTICE", "MAX_LATTICE",
           "MAX_ZONE_POINTS", "MAX_POWDER_POINTS", "MAX_AXIS_INDEX", "REPRESENTATIONS", "CrystalError", "Crystal",
           "ZonePattern", "scattering_table", "form_factors", "structure_factors", "lorentz_polarization",
           "parse_zone_axis", "zone_basis", "beam_direction", "detector_frame", "zone_reflections",
           "zone_axis_pattern", "render_spots", "render_polar", "render_input", "render_pattern", "render_gaussian",
           "powder_pattern"]

CU_KA = 1.5406            # Å, Cu K-alpha (the paper's wavelength)
SPOT_SCALE = 0.1          # spot radius in 1/Å at I = I_max (the paper's scale factor)
BEAM_RADIUS = 0.02        # 1/Å, radius of the direct-beam marker
BEAM_LEVEL = 0.5          # grey level of the direct-beam marker (the paper draws it red)
MIN_INTENSITY = 1e-3      # reflections weaker than this (of I_max) are not kept: < 1/255 of a pixel
# Lattice vectors outside this range are no crystal's: the shortest real ones are about 2 Å, and
# the longest of inorganic and small-molecule crystals (ICSD, COD) about 100-200 Å (a few long
# SiC polytypes aside). A 20,000 Å cell would make a zone pattern enumerate 3e9 reflections.
MIN_LATTICE = 1.0         # Å
MAX_LATTICE = 500.0       # Å
# Reflections a zone pattern may enumerate (its 2D grid of candidates): a 500 Å cubic cell along
# [100] needs 1.7 million, a 30 Å one 7,000; refused past this, before the grid is allocated
MAX_ZONE_POINTS = 4_000_000
# (h, k, l) candidates of a powder pattern (a 3D box): 4 million is a 85 Å cubic cell to 90° 2θ
MAX_POWDER_POINTS = 4_000_000
# structure factors are summed in blocks of reflections so that the [reflections, sites] phase
# arrays stay under this many entries (32 MB each) whatever the cell
MAX_PHASE_ENTRIES = 4_000_000


class CrystalError(ValueError):
    """A structure the simulator cannot use; the message names it and says why."""


@dataclass(frozen=True)
class Crystal:
    """A periodic crystal structure as the simulator uses it: a cell, its sites and their elements.

    Checked on construction: a finite cell of non-zero volume with lattice vectors of
    ``MIN_LATTICE``-``MAX_LATTICE`` Å, as many species as sites (at least one), finite fractional
    coordinates within 100 of the cell, and an X-ray form factor for every element.

    Attributes:
        lattice: [3, 3] float, rows a, b, c in Å (Cartesian).
        frac: [n, 3] float, fractional coordinates of the sites.
        species: element symbol of each site (a tuple of n strings).
        name: a label for messages and tables (e.g. the structure's id); may be empty.

    Raises:
        CrystalError: when a check fails; the message names the structure and says why.
    """

    lattice: np.ndarray          # [3, 3] rows a, b, c in Å (Cartesian)
    frac: np.ndarray             # [n, 3] fractional coordinates
    species: tuple               # element symbol of each site
    name: str = ""

    def __post_init__(self):
        lat = np.asarray(self.lattice, dtype=float)
        frac = np.asarray(self.frac, dtype=float).reshape(-1, 3)
        object.__setattr__(self, "lattice", lat)
        object.__setattr__(self, "frac", frac)
        object.__setattr__(self, "species", tuple(self.species))
        if lat.shape != (3, 3) or not np.all(np.isfinite(lat)):
            raise CrystalError(f"{self.name or 'structure'}: lattice must be a finite 3 x 3 matrix")
        if abs(np.linalg.det(lat)) < 1e-6:
            raise CrystalError(f"{self.name or 'structure'}: zero cell volume")
        lengths = np.linalg.norm(lat, axis=1)
        if lengths.min() < MIN_LATTICE or lengths.max() > MAX_LATTICE:
            raise CrystalError(f"{self.name or 'structure'}: lattice vectors of "
                               f"{', '.join(f'{x:.4g}' for x in lengths)} Å, outside the "
                               f"{MIN_LATTICE:g}-{MAX_LATTICE:g} Å of real crystals")
        if len(frac) == 0 or len(frac) != len(self.species):
            raise CrystalError(f"{self.name or 'structure'}: {len(frac)} sites but "
                               f"{len(self.species)} species")
        if not np.all(np.isfinite(frac)):
            raise CrystalError(f"{self.name or 'structure'}: non-finite fractional coordinates")
        if np.abs(frac).max() > 100:      # spglib and the site loops assume sane coordinates
            raise CrystalError(f"{self.name or 'structure'}: a fractional coordinate of "
                               f"{np.abs(frac).max():.3g} lies far outside the cell")
        unknown = sorted(set(self.species) - set(scattering_table()))
        if unknown:
            raise CrystalError(f"{self.name or 'structure'}: no X-ray form factor for {unknown}")

    @property
    def reciprocal(self) -> np.ndarray:
        """Rows a*, b*, c* (crystallographic, no 2 pi): a_i . a*_j = delta_ij."""
        return np.linalg.inv(self.lattice).T

    @property
    def volume(self) -> float:
        """Cell volume in Å^3."""
        return float(abs(np.linalg.det(self.lattice)))

    def scaled(self, factor: float) -> "Crystal":
        """Isotropic lattice scaling (fractional coordinates kept).

        Args:
            factor: the factor every lattice vector is multiplied by (dimensionless; 1.05 is 5 %
                expansion).

        Returns:
            A new ``Crystal`` with the scaled cell.
        """
        return Crystal(self.lattice * factor, self.frac, self.species, self.name)

    def with_sites(self, frac, species) -> "Crystal":
        """The same cell (and name) with other sites.

        Args:
            frac: [n, 3] fractional coordinates of the new sites.
            species: element symbol of each new site (n strings).

        Returns:
            A new ``Crystal``.
        """
        return Crystal(self.lattice, frac, species, self.name)

    @classmethod
    def from_structure(cls, structure, name: str = "") -> "Crystal":
        """From a pymatgen Structure; partial occupancies are refused (named).

        Args:
            structure: a ``pymatgen.core.Structure`` with one element, fully occupied, per site.
            name: the crystal's label; its reduced formula when empty.

        Returns:
            The ``Crystal`` of the same cell (Å), fractional coordinates and elements.

        Raises:
            CrystalError: for a partially occupied or mixed site (named with its index), or when
                the structure fails the checks of ``Crystal``.
        """
        name = name or structure.composition.reduced_formula
        species = []
        for i, site in enumerate(structure):
            comp = site.species
            if len(comp) != 1 or abs(sum(comp.values()) - 1) > 1e-6:
                raise CrystalError(f"{name}: partial occupancy at site {i} ({comp})")
            species.append(next(iter(comp)).symbol)
        return cls(structure.lattice.matrix, structure.frac_coords, species, name)

    def to_structure(self):
        """The crystal as a ``pymatgen.core.Structure`` (lattice in Å, fractional coordinates)."""
        from pymatgen.core import Lattice, Structure
        return Structure(Lattice(self.lattice), list(self.species), self.frac)


# ------------------------------------------------------------------ form factors

@lru_cache(maxsize=1)
def scattering_table() -> dict:
    """The X-ray atomic scattering coefficients that ship with pymatgen (read once, cached).

    Returns:
        A dict from element symbol to ``(Z, coefficients)``: the atomic number and a float
        array [k, 2] of rows ``[a_i, b_i]`` (b_i in Å^2) of ``form_factors``.
    """
    import pymatgen.analysis.diffraction.xrd as xrd
    from pymatgen.core import Element
    coeffs = json.loads((Path(xrd.__file__).parent / "atomic_scattering_params.json").read_text())
    return {el: (Element(el).Z, np.asarray(c, dtype=float)) for el, c in coeffs.items()}


def form_factors(elements, s: np.ndarray) -> np.ndarray:
    """Atomic X-ray form factors f(s) = Z - 41.78214 s^2 sum_i a_i exp(-b_i s^2), s = sin(theta)/lambda.

    Args:
        elements: element symbols (a sequence of n_elements strings), each in ``scattering_table()``.
        s: [m] sin(theta)/lambda of the reflections, in 1/Å (|g| / 2).

    Returns:
        Float array [n_elements, m]: f of each element at each s, in electrons.

    Raises:
        KeyError: for an element without coefficients in the table.
    """
    table = scattering_table()
    s2 = np.asarray(s, dtype=float) ** 2
    out = np.empty((len(elements), len(s2)))
    for i, el in enumerate(elements):
        z, c = table[el]
        out[i] = z - 41.78214 * s2 * (c[:, 0][:, None] * np.exp(-c[:, 1][:, None] * s2)).sum(0)
    return out


def structure_factors(crystal: Crystal, hkl: np.ndarray, g_norm: np.ndarray) -> np.ndarray:
    """Kinematic structure factors: complex F(hkl) = sum_j f_j(|g|/2) exp(2 pi i hkl . r_j).

    Summed in blocks of reflections so that the phase arrays stay under ``MAX_PHASE_ENTRIES``
    entries whatever the cell.

    Args:
        crystal: the structure (r_j: its fractional coordinates).
        hkl: [m, 3] Miller indices of the reflections.
        g_norm: [m] their reciprocal-vector lengths |g| = 1/d, in 1/Å.

    Returns:
        Complex array [m]: F of each reflection, in electrons.
    """
    elements = sorted(set(crystal.species))
    onehot = np.zeros((len(crystal.species), len(elements)))
    onehot[np.arange(len(crystal.species)), [elements.index(e) for e in crystal.species]] = 1
    hkl = np.asarray(hkl, dtype=float)
    g_norm = np.asarray(g_norm)
    step = max(1, MAX_PHASE_ENTRIES // len(crystal.species))
    out = []
    for a in range(0, max(len(hkl), 1), step):       # one block for every usual crystal
        phase = 2 * np.pi * (hkl[a:a + step] @ crystal.frac.T)                # [m, n]
        f = form_factors(elements, g_norm[a:a + step] / 2).T                  # [m, n_el]
        out.append(((np.cos(phase) @ onehot) * f).sum(1) + 1j * ((np.sin(phase) @ onehot) * f).sum(1))
    return out[0] if len(out) == 1 else np.concatenate(out)


def lorentz_polarization(g_norm: np.ndarray, wavelength: float = CU_KA) -> np.ndarray:
    """Powder Lorentz-polarisation factor (1 + cos^2 2theta) / (sin^2 theta cos theta), sin theta = lambda |g| / 2.

    Args:
        g_norm: [m] reciprocal-vector lengths |g|, in 1/Å.
        wavelength: X-ray wavelength in Å (Cu K-alpha by default).

    Returns:
        Float array [m] of the (dimensionless) factor; sin theta is clipped into (0, 1).
    """
    sin_t = np.clip(wavelength * np.asarray(g_norm) / 2, 1e-12, 1 - 1e-12)
    theta = np.arcsin(sin_t)
    return (1 + np.cos(2 * theta) ** 2) / (sin_t ** 2 * np.cos(theta))


# ------------------------------------------------------------------ zone axes

MAX_AXIS_INDEX = 50


def parse_zone_axis(axis) -> tuple:
    """[u, v, w] as three integers, not all zero; a clear error otherwise.

    Args:
        axis: the zone axis: a string (``"[1 1 0]"``, ``"1,1,0"``, ``"110"``: three digits written
            together) or three integer-valued numbers.

    Returns:
        The tuple ``(u, v, w)`` of ints.

    Raises:
        ValueError: for anything but three integers, an index beyond ``MAX_AXIS_INDEX`` in
            magnitude, or [000].
    """
    if isinstance(axis, str):
        parts = axis.strip().strip("[]").replace(",", " ").split()
        if len(parts) == 1 and len(parts[0]) == 3 and parts[0].isdigit():
            parts = list(parts[0])                   # "111" -> 1 1 1
        axis = parts
    try:
        vals = [float(x) for x in axis]
    except (TypeError, ValueError):
        raise ValueError(f"zone axis must be three integers [u v w], got {axis!r}") from None
    if len(vals) != 3 or any(not math.isfinite(v) or v != round(v) for v in vals):
        raise ValueError(f"zone axis must be three integers [u v w], got {axis!r}")
    if any(abs(v) > MAX_AXIS_INDEX for v in vals):
        raise ValueError(f"zone axis indices must be at most {MAX_AXIS_INDEX} in magnitude "
                         f"(a pattern along a higher axis holds almost no spots), got {axis!r}")
    uvw = tuple(int(round(v)) for v in vals)
    if uvw == (0, 0, 0):
        raise ValueError("zone axis [000] is not a direction")
    return uvw


def _ext_gcd(a: int, b: int):
    """(g, s, t) with a s + b t = g = gcd(a, b) >= 0."""
    s0, s1, t0, t1 = 1, 0, 0, 1
    while b:
        q, a, b = a // b, b, a % b
        s0, s1, t0, t1 = s1, s0 - q * s1, t1, t0 - q * t1
    return (a, s0, t0) if a >= 0 else (-a, -s0, -t0)


def zone_basis(axis) -> np.ndarray:
    """Two integer vectors spanning every (h, k, l) with h u + k v + l w = 0 (the zone's 2D lattice).

    Args:
        axis: the zone axis [uvw] (anything ``parse_zone_axis`` accepts).

    Returns:
        Int array [2, 3]: the two basis vectors (h, k, l); their cross product is -(u, v, w)
        divided by the indices' greatest common divisor.

    Raises:
        ValueError: for an invalid axis (``parse_zone_axis``).
    """
    u, v, w = parse_zone_axis(axis)
    g0 = math.gcd(math.gcd(u, v), w)
    u, v, w = u // g0, v // g0, w // g0
    if v == 0 and w == 0:
        return np.array([[0, 1, 0], [0, 0, 1]])
    g, s, t = _ext_gcd(v, w)
    # b1 x b2 = -(u, v, w): together they span the whole 2D sublattice
    return np.array([[0, w // g, -v // g], [g, -u * s, -u * t]])


def beam_direction(crystal: Crystal, axis) -> np.ndarray:
    """Unit Cartesian vector along the direct-lattice vector u a + v b + w c (the beam).

    Args:
        crystal: the structure (its lattice, Å).
        axis: the zone axis [uvw] (anything ``parse_zone_axis`` accepts).

    Returns:
        Float array [3]: the unit vector (dimensionless), in the lattice's Cartesian frame.
    """
    t = np.asarray(parse_zone_axis(axis), dtype=float) @ crystal.lattice
    return t / np.linalg.norm(t)


def detector_frame(crystal: Crystal, axis) -> np.ndarray:
    """The detector's orthonormal frame for a zone axis: rows e1, e2, e3.

    e3 runs along the beam, e1 is the projection of Cartesian z onto the detector (x when the
    beam is nearly along z), e2 = e3 x e1.

    Args:
        crystal: the structure (its lattice, Å).
        axis: the zone axis [uvw] (anything ``parse_zone_axis`` accepts).

    Returns:
        Float array [3, 3] of unit row vectors e1, e2, e3 (Cartesian).
    """
    e3 = beam_direction(crystal, axis)
    ref = np.array([0.0, 0.0, 1.0]) if abs(e3[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    e1 = ref - (ref @ e3) * e3
    e1 /= np.linalg.norm(e1)
    return np.array([e1, np.cross(e3, e1), e3])


def zone_reflections(crystal: Crystal, axis, g_max: float = 2 / CU_KA):
    """The reflections of the zero-order Laue zone of [uvw] with 0 < |g| < g_max.

    Enumerated on the zone's own 2D integer lattice, Gauss-reduced first; refused before the
    grid is allocated when it would hold more than ``MAX_ZONE_POINTS`` candidates.

    Args:
        crystal: the structure.
        axis: the zone axis [uvw] (anything ``parse_zone_axis`` accepts).
        g_max: radius of the limiting sphere in 1/Å (2 / lambda for Cu K-alpha by default).

    Returns:
        ``(hkl, g)``: int array [m, 3] of Miller indices and float array [m, 3] of the
        reciprocal vectors, Cartesian, in 1/Å (crystallographic, no 2 pi).

    Raises:
        CrystalError: when the cell is too large for a zone pattern (too many candidates).
        ValueError: for an invalid axis.
    """
    basis = zone_basis(axis)
    G = basis @ crystal.reciprocal                    # [2, 3] Cartesian
    B = basis.copy()
    for _ in range(100):                              # Gauss reduction, integer vectors tracked
        if G[1] @ G[1] < G[0] @ G[0]:
            G, B = G[::-1].copy(), B[::-1].copy()
        mu = round(float(G[0] @ G[1]) / float(G[0] @ G[0]))
        if mu == 0:
            break
        G[1] -= mu * G[0]
        B[1] -= mu * B[0]
    n0, n1 = np.linalg.norm(G, axis=1)
    sin_phi = np.linalg.norm(np.cross(G[0], G[1])) / (n0 * n1)
    m_max, n_max = g_max / (n0 * sin_phi) + 1, g_max / (n1 * sin_phi) + 1
    points = (2 * m_max + 1) * (2 * n_max + 1)
    if not points <= MAX_ZONE_POINTS:          # before the grid exists (NaN refused too)
        raise CrystalError(f"{crystal.name or 'structure'}: zone {list(parse_zone_axis(axis))} would "
                           f"enumerate {points:.3g} reflections, more than {MAX_ZONE_POINTS:,}; the "
                           "cell is too large for a zone pattern")
    m_max, n_max = int(m_max), int(n_max)
    m, n = np.meshgrid(np.arange(-m_max, m_max + 1), np.arange(-n_max, n_max + 1), indexing="ij")
    mn = np.stack([m.ravel(), n.ravel()], 1)
    g = mn @ G
    norm = np.linalg.norm(g, axis=1)
    keep = (norm > 0) & (norm < g_max)
    return mn[keep] @ B, g[keep]


# ------------------------------------------------------------------ patterns

@dataclass
class ZonePattern:
    """The spots of one zone-axis pattern (the output of ``zone_axis_pattern``).

    Attributes:
        xy: [m, 2] float, spot positions on the detector about the direct beam, in 1/Å (x right,
            y up).
        intensity: [m] float, I / I_max of each spot (in (0, 1]).
        hkl: [m, 3] int, Miller indices of each spot.
        axis: the zone axis (u, v, w).
        g_max: radius of the limiting sphere, 2 / lambda, in 1/Å.
    """

    xy: np.ndarray           # [m, 2] spot positions on the detector, 1/Å (x right, y up)
    intensity: np.ndarray    # [m] I / I_max
    hkl: np.ndarray          # [m, 3]
    axis: tuple
    g_max: float


def zone_axis_pattern(crystal: Crystal, axis, wavelength: float = CU_KA, lorentz: bool = False,
                      rotation_deg: float = 0.0, min_intensity: float = MIN_INTENSITY) -> ZonePattern:
    """The spots of ``crystal`` along zone axis ``axis``: positions, normalised intensities.

    Intensities are |F|^2 (per site) of the zero-order-Laue-zone reflections inside the limiting
    sphere, normalised to the strongest; reflections below ``min_intensity`` are dropped.

    Args:
        crystal: the structure.
        axis: the zone axis [uvw] (anything ``parse_zone_axis`` accepts).
        wavelength: X-ray wavelength in Å (Cu K-alpha by default); sets g_max = 2 / wavelength.
        lorentz: multiply the intensities by the powder Lorentz-polarisation factor before
            normalising (off by default: docs/deviations.md#deviation-22).
        rotation_deg: in-plane rotation of the spots about the beam, in degrees (anticlockwise).
        min_intensity: the weakest spot kept, as a fraction of I_max.

    Returns:
        The ``ZonePattern`` (positions in 1/Å, intensities I / I_max); empty when the zone holds
        no reflection.

    Raises:
        CrystalError: when the cell is too large for a zone pattern.
        ValueError: for an invalid axis.
    """
    g_max = 2 / wavelength
    hkl, g = zone_reflections(crystal, axis, g_max)
    frame = detector_frame(crystal, axis)
    if len(hkl) == 0:
        return ZonePattern(np.zeros((0, 2)), np.zeros(0), hkl, parse_zone_axis(axis), g_max)
    norm = np.linalg.norm(g, axis=1)
    F = structure_factors(crystal, hkl, norm)
    inten = (F.real ** 2 + F.imag ** 2) / len(crystal.species)
    if lorentz:
        inten = inten * lorentz_polarization(norm, wavelength)
    top = inten.max()
    inten = inten / top if top > 0 else inten
    keep = inten >= min_intensity
    xy = g[keep] @ frame[:2].T
    if rotation_deg:
        c, s = math.cos(math.radians(rotation_deg)), math.sin(math.radians(rotation_deg))
        xy = xy @ np.array([[c, s], [-s, c]])
    return ZonePattern(xy, inten[keep], hkl[keep], parse_zone_axis(axis), g_max)


def render_spots(xy: np.ndarray, intensity: np.ndarray, shape=XRD_PATTERN_SHAPE, g_max: float = 2 / CU_KA,
                 spot_scale: float = SPOT_SCALE, beam_radius: float = BEAM_RADIUS,
                 rotation_deg: float = 0.0) -> np.ndarray:
    """The detector image of a spot pattern: each spot a filled, anti-aliased disk.

    The image spans [-g_max, g_max] on both axes (row 0 at +g_max); each spot is a disk of
    radius spot_scale * I; spots smaller than a pixel keep their area as grey level; the direct
    beam a disk of grey ``BEAM_LEVEL``.

    Args:
        xy: [m, 2] spot positions about the direct beam, in 1/Å (x right, y up).
        intensity: [m] I / I_max of each spot.
        shape: the image's (H, W) in pixels.
        g_max: half-width of the image in 1/Å (the limiting sphere, 2 / lambda).
        spot_scale: disk radius at I = I_max, in 1/Å.
        beam_radius: radius of the direct-beam marker in 1/Å; 0 draws none.
        rotation_deg: in-plane rotation of the spots, in degrees (anticlockwise).

    Returns:
        uint8 array [H, W], 0-255 (a fully covered pixel of a full spot is 255).
    """
    H, W = shape
    img = np.zeros(H * W, dtype=np.float32)
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    if rotation_deg:
        c, s = math.cos(math.radians(rotation_deg)), math.sin(math.radians(rotation_deg))
        xy = xy @ np.array([[c, s], [-s, c]])
    # continuous pixel coordinates: pixel i covers [i, i + 1)
    px = W / (2 * g_max)
    py = H / (2 * g_max)
    cx = (xy[:, 0] + g_max) * px
    cy = (g_max - xy[:, 1]) * py
    r = spot_scale * np.asarray(intensity, dtype=float) * (px + py) / 2
    small = r < 0.5
    if small.any():                         # sub-pixel spot: its area on its pixel
        ix, iy = np.floor(cx[small]).astype(int), np.floor(cy[small]).astype(int)
        ok = (ix >= 0) & (ix < W) & (iy >= 0) & (iy < H)
        np.maximum.at(img, iy[ok] * W + ix[ok], np.minimum(1.0, np.pi * r[small][ok] ** 2))
    box = np.where(small, 0, np.ceil(r + 0.5).astype(int))    # half-width of each disk's box
    for R in np.unique(box[~small]):
        sel = box == R
        off = np.arange(-R, R + 1)
        ix = np.floor(cx[sel]).astype(int)[:, None, None] + off[None, None, :]
        iy = np.floor(cy[sel]).astype(int)[:, None, None] + off[None, :, None]
        d = np.hypot(ix + 0.5 - cx[sel][:, None, None], iy + 0.5 - cy[sel][:, None, None])
        val = np.clip(r[sel][:, None, None] - d + 0.5, 0, 1)
        ok = (val > 0) & (ix >= 0) & (ix < W) & (iy >= 0) & (iy < H)
        np.maximum.at(img, (iy * W + ix)[ok], val[ok])
    if beam_radius > 0:
        rb = max(beam_radius * (px + py) / 2, 0.5)
        R = int(np.ceil(rb + 0.5))
        x0, y0 = g_max * px, g_max * py
        iy, ix = np.mgrid[int(y0) - R:int(y0) + R + 1, int(x0) - R:int(x0) + R + 1]
        val = np.clip(rb - np.hypot(ix + 0.5 - x0, iy + 0.5 - y0) + 0.5, 0, 1) * BEAM_LEVEL
        ok = (val > 0) & (ix >= 0) & (ix < W) & (iy >= 0) & (iy < H)
        np.maximum.at(img, (iy * W + ix)[ok], val[ok])
    return np.round(img.reshape(H, W) * 255).astype(np.uint8)


def render_polar(xy: np.ndarray, intensity: np.ndarray, shape=(48, 48), g_max: float = 2 / CU_KA,
                 rotation_deg: float = 0.0) -> np.ndarray:
    """The spots in polar coordinates: an image of |g| (rows) against azimuth (columns).

    Row = |g| from 0 (row 0) to g_max, column = azimuth in [0°, 180°) (a spot and its Friedel
    mate share a pixel); each spot on its pixel, the brightest winning. An in-plane rotation
    becomes a circular shift of the columns, and the angles between lattice rows become
    distances along a row.

    Args:
        xy: [m, 2] spot positions about the direct beam, in 1/Å.
        intensity: [m] I / I_max of each spot.
        shape: the image's (H, W) in pixels (H bins of |g|, W bins of azimuth).
        g_max: the |g| of the last row's far edge, in 1/Å.
        rotation_deg: in-plane rotation added to every azimuth, in degrees.

    Returns:
        uint8 array [H, W], 0-255 (I / I_max of the brightest spot on each pixel, x 255).
    """
    H, W = shape
    img = np.zeros(H * W, dtype=np.float32)
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    inten = np.asarray(intensity, dtype=float).ravel()
    if len(xy):
        r = np.hypot(xy[:, 0], xy[:, 1]) / g_max * H
        t = (np.degrees(np.arctan2(xy[:, 1], xy[:, 0])) + rotation_deg) % 180.0 / 180.0 * W
        ir = np.clip(r.astype(int), 0, H - 1)
        it = t.astype(int) % W
        np.maximum.at(img, ir * W + it, inten.astype(np.float32))
    return np.round(np.clip(img.reshape(H, W), 0, 1) * 255).astype(np.uint8)


REPRESENTATIONS = ("cartesian", "polar")


def render_input(xy: np.ndarray, intensity: np.ndarray, shape, g_max: float = 2 / CU_KA,
                 representation: str = "cartesian", rotation_deg: float = 0.0) -> np.ndarray:
    """The network's input image of one pattern: the paper's detector image (``cartesian``) or
    its polar resampling (``polar``, the scaled profiles).

    Args:
        xy: [m, 2] spot positions about the direct beam, in 1/Å.
        intensity: [m] I / I_max of each spot.
        shape: the image's (H, W) in pixels.
        g_max: the limiting sphere's radius in 1/Å (the image's half-width, or the polar image's
            largest |g|).
        representation: ``"cartesian"`` (``render_spots``) or ``"polar"`` (``render_polar``).
        rotation_deg: in-plane rotation of the spots, in degrees.

    Returns:
        uint8 array [H, W], 0-255.

    Raises:
        ValueError: for a representation not in ``REPRESENTATIONS``.
    """
    if representation == "cartesian":
        return render_spots(xy, intensity, shape, g_max, rotation_deg=rotation_deg)
    if representation == "polar":
        return render_polar(xy, intensity, shape, g_max, rotation_deg=rotation_deg)
    raise ValueError(f"unknown pattern representation {representation!r}; choose one of {REPRESENTATIONS}")


def render_pattern(pattern: ZonePattern, shape=XRD_PATTERN_SHAPE, **kw) -> np.ndarray:
    """The detector image of a ``ZonePattern`` (``render_spots`` at the pattern's g_max).

    Args:
        pattern: the spots.
        shape: the image's (H, W) in pixels (the paper's 321 x 322 by default).
        **kw: passed to ``render_spots`` (``spot_scale``, ``beam_radius`` in 1/Å, ``rotation_deg``).

    Returns:
        uint8 array [H, W], 0-255.
    """
    return render_spots(pattern.xy, pattern.intensity, shape, pattern.g_max, **kw)


def render_gaussian(pattern: ZonePattern, shape=XRD_PATTERN_SHAPE, sigma: float = 0.02) -> np.ndarray:
    """The pattern drawn with Gaussian spots (the paper's Fig. 2f style; its models train on the
    disk patterns only).

    Args:
        pattern: the spots.
        shape: the image's (H, W) in pixels, spanning [-g_max, g_max] on both axes.
        sigma: standard deviation of each Gaussian, in 1/Å.

    Returns:
        Float array [H, W]: the sum over reflections of a Gaussian of height I/I_max (overlapping
        spots add, so values may exceed 1); no direct-beam marker.
    """
    H, W = shape
    g = pattern.g_max
    x = (np.arange(W) + 0.5) / W * 2 * g - g
    y = g - (np.arange(H) + 0.5) / H * 2 * g
    gx = np.exp(-(x[None, :] - pattern.xy[:, :1]) ** 2 / (2 * sigma ** 2))     # [m, W]
    gy = np.exp(-(y[None, :] - pattern.xy[:, 1:]) ** 2 / (2 * sigma ** 2))     # [m, H]
    return np.einsum("m,mh,mw->hw", pattern.intensity, gy, gx)


# ------------------------------------------------------------------ 1D powder pattern

def powder_pattern(crystal: Crystal, wavelength: float = CU_KA, two_theta_range=(0.0, 90.0),
                   tol: float = 1e-5):
    """The 1D powder pattern: peak positions in 2θ and intensities scaled to 100.

    The same physics as the zone patterns (checked against pymatgen), with the Lorentz-polarisation
    factor always applied; peaks within ``tol`` degrees are merged, and extinct reflections leave no
    peak (as pymatgen).

    Args:
        crystal: the structure.
        wavelength: X-ray wavelength in Å (Cu K-alpha by default).
        two_theta_range: (lowest, highest) 2θ in degrees.
        tol: peaks closer than this in 2θ (degrees) are merged into one.

    Returns:
        ``(two_theta, intensity)``: float arrays [n] of the peaks' 2θ in degrees, ascending, and
        their intensities scaled so that the strongest is 100.

    Raises:
        CrystalError: when the (h, k, l) box would exceed ``MAX_POWDER_POINTS`` (narrow the range).
    """
    g_max = 2 * math.sin(math.radians(two_theta_range[1] / 2)) / wavelength
    box = np.floor(g_max * np.linalg.norm(crystal.lattice, axis=1))
    points = float(np.prod(2 * box + 1))
    if not points <= MAX_POWDER_POINTS:         # before the (h, k, l) box exists
        raise CrystalError(f"{crystal.name or 'structure'}: a powder pattern to "
                           f"{two_theta_range[1]:g}° 2θ would enumerate {points:.3g} (h, k, l), more "
                           f"than {MAX_POWDER_POINTS:,}; narrow the 2θ range")
    hmax = box.astype(int)
    grids = np.meshgrid(*[np.arange(-m, m + 1) for m in hmax], indexing="ij")
    hkl = np.stack([x.ravel() for x in grids], 1)
    g = np.linalg.norm(hkl @ crystal.reciprocal, axis=1)
    tt = 2 * np.degrees(np.arcsin(np.clip(wavelength * g / 2, 0, 1)))
    keep = (g > 0) & (tt >= two_theta_range[0]) & (tt <= two_theta_range[1])
    hkl, g, tt = hkl[keep], g[keep], tt[keep]
    F = structure_factors(crystal, hkl, g)
    inten = (np.abs(F) ** 2) * lorentz_polarization(g, wavelength)
    order = np.argsort(tt)
    tt, inten = tt[order], inten[order]
    groups = np.concatenate([[0], np.cumsum(np.diff(tt) > tol)])
    peaks = np.bincount(groups, weights=tt) / np.bincount(groups)
    total = np.bincount(groups, weights=inten)
    scaled = 100 * total / total.max()
    keep = scaled > 1e-3                       # as pymatgen: extinct reflections leave no peak
    return peaks[keep], scaled[keep]
