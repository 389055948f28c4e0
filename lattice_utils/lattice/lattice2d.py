"""2D lattice geometry: orientation, a / b / gamma, and the two Bravais labels.

Labels (the paper's numbering): 0 hexagonal (hp), 1 square (tp), 2 rectangular (op),
3 centred rectangular / rhombus (oc), 4 oblique / parallelogram (mp).

* ``paper_label``: jarvis-tools' ``get_2d_lattice`` on the stored cell, exactly as the
  paper derives it (a, b rounded to 0.01 A, gamma to 0.01 degree). A 2x1 supercell of
  graphene is "parallelogram" by this rule.
* ``canonical_cell``: the reduced primitive 2D cell (pure translations found from the
  atoms, Gauss reduction, tolerance-based class). Insensitive to supercells, a/b swaps
  and 60 vs 120 degrees, the ambiguities the paper names as a limitation.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["CLASS_NAMES", "CLASS_SHORT", "STANDARD_GAMMAS", "SYMPREC",
           "StructureError", "CanonicalCell", "orient_layer", "lattice_params_2d", "paper_label", "is_standard_gamma",
           "gauss_reduce", "reduced_cell", "reduced_cells", "reduced_parameters", "orientation_deg", "bravais_class_2d",
           "anisotropy", "class_distortions", "canonical_cell", "projected_canonical_cell", "symmetry_class"]

CLASS_NAMES = ("hexagonal", "square", "rectangular", "centred rectangular", "oblique")
CLASS_SHORT = ("hp", "tp", "op", "oc", "mp")
STANDARD_GAMMAS = (60.0, 90.0, 120.0)


class StructureError(ValueError):
    """A structure that cannot be used (no atoms, zero-area cell, NaN coordinates...)."""


# ---------------------------------------------------------------- orientation

def orient_layer(lattice_mat, frac_coords, vacuum: float = 15.0):
    """Rotate a layer so that a lies along x and a x b along +z, c perpendicular.

    The layer is made contiguous along c first (an atom wrapped across the c boundary
    is moved by the full c vector, which is a true lattice translation), then c is
    replaced by a vector along z of length (layer thickness + ``vacuum``), the layer
    centred in it (``vacuum / 2`` below its lowest atom).

    Args:
        lattice_mat: 3 x 3 cell, rows a, b, c (Å).
        frac_coords: [n, 3] fractional coordinates of the atoms.
        vacuum: vacuum added to the layer's thickness along c (Å).

    Returns:
        ``(lattice_mat, cart_coords)`` of the oriented cell: the 3 x 3 cell (Å, rows a, b, c with
        a along x, b in the xy plane, c along z) and the [n, 3] Cartesian coordinates (Å).

    Raises:
        StructureError: no atoms, non-finite lattice or coordinates, or a zero-area in-plane cell.
    """
    lat = np.asarray(lattice_mat, dtype=float)
    f = np.array(frac_coords, dtype=float)
    if f.ndim != 2 or f.shape[0] == 0:
        raise StructureError("structure has no atoms")
    if not (np.all(np.isfinite(lat)) and np.all(np.isfinite(f))):
        raise StructureError("non-finite lattice or coordinates")
    a, b, c = lat
    normal = np.cross(a, b)
    area = np.linalg.norm(normal)
    if area < 1e-6 or np.linalg.norm(a) < 1e-6:
        raise StructureError("zero-area in-plane cell")
    normal /= area
    # contiguous along c: put the largest empty gap of fractional c at the boundary
    fc = np.mod(f[:, 2], 1.0)
    order = np.sort(fc)
    gaps = np.diff(np.concatenate([order, [order[0] + 1.0]]))
    start = order[(np.argmax(gaps) + 1) % len(order)]
    f[:, 2] = np.mod(fc - start, 1.0) + start
    cart = f @ lat
    x = a / np.linalg.norm(a)
    y = np.cross(normal, x)
    rot = np.vstack([x, y, normal])          # rows: new axes in old coordinates
    cart = cart @ rot.T
    a_new, b_new = np.array([np.linalg.norm(a), 0.0, 0.0]), rot @ b
    b_new[2] = 0.0                            # exact zeros (they are ~1e-16)
    z = cart[:, 2]
    thickness = float(z.max() - z.min())
    c_len = thickness + vacuum
    cart[:, 2] = z - z.min() + vacuum / 2.0
    new_lat = np.array([a_new, b_new, [0.0, 0.0, c_len]])
    return new_lat, cart


# ---------------------------------------------------------------- parameters

def lattice_params_2d(lattice_mat) -> tuple[float, float, float]:
    """(a, b, gamma in degrees) of the first two lattice vectors.

    Args:
        lattice_mat: cell with the lattice vectors as rows (Å); only the first two are read.

    Returns:
        (a, b, gamma): the lengths of the first two vectors (Å) and the angle between them
        (degrees), as the cell stores them (no reduction).
    """
    lat = np.asarray(lattice_mat, dtype=float)
    a, b = np.linalg.norm(lat[0]), np.linalg.norm(lat[1])
    cosg = np.clip(np.dot(lat[0], lat[1]) / (a * b), -1.0, 1.0)
    return float(a), float(b), float(np.degrees(np.arccos(cosg)))


def paper_label(atoms) -> int:
    """The paper's label: jarvis-tools' ``get_2d_lattice`` on the stored cell.

    a and b are compared after rounding to 0.01 Å and gamma to 0.01 degree, so a supercell or an
    a/b swap can change the label (see the module docstring).

    Args:
        atoms: a jarvis ``Atoms``, or its dict (with ``abc`` and ``angles``).

    Returns:
        The label 0-4 (hexagonal, square, rectangular, centred rectangular, oblique).
    """
    from jarvis.core.lattice import get_2d_lattice

    d = atoms if isinstance(atoms, dict) and "abc" in atoms else atoms.to_dict()
    return int(get_2d_lattice(d)[1])


def is_standard_gamma(gamma, tol: float = 0.5):
    """gamma within ``tol`` degrees of 60, 90 or 120 (the paper's standard subset).

    Args:
        gamma: angle or array of angles (degrees).
        tol: tolerance (degrees).

    Returns:
        Boolean (array of the shape of ``gamma``): True where gamma is standard.
    """
    g = np.asarray(gamma, dtype=float)
    return np.any(np.abs(g[..., None] - np.array(STANDARD_GAMMAS)) <= tol, axis=-1)


# ---------------------------------------------------------------- canonical cell

def gauss_reduce(u, v, max_iter: int = 100):
    """Lagrange-Gauss reduction of a 2D basis: |u| <= |v|, |u.v| <= |u|^2 / 2,
    and u.v <= 0 (obtuse convention, so a hexagonal cell has gamma = 120).

    Args:
        u: first basis vector (any length unit; real or reciprocal space).
        v: second basis vector, same unit.
        max_iter: reduction steps at most.

    Returns:
        (u, v): the reduced basis of the same lattice, as float arrays in the input's unit.
    """
    u, v = np.asarray(u, float), np.asarray(v, float)
    for _ in range(max_iter):
        if np.dot(u, u) > np.dot(v, v):
            u, v = v, u
        m = np.round(np.dot(u, v) / np.dot(u, u))
        if m == 0:
            break
        v = v - m * u
    if np.dot(u, u) > np.dot(v, v):
        u, v = v, u
    if np.dot(u, v) > 0:
        v = -v
    return u, v


def reduced_cell(u, v):
    """(a, b, gamma, u, v) of the Gauss-reduced basis of the 2D lattice spanned by u and v.

    Args:
        u: first basis vector (Å, x y).
        v: second basis vector (Å, x y).

    Returns:
        (a, b, gamma, u, v): the reduced lengths (Å; a <= b), the angle between them (degrees,
        90 <= gamma <= 120) and the reduced basis vectors (Å).
    """
    u, v = gauss_reduce(u, v)
    a, b = float(np.linalg.norm(u)), float(np.linalg.norm(v))
    gamma = float(np.degrees(np.arccos(np.clip(np.dot(u, v) / (a * b), -1, 1))))
    return a, b, gamma, u, v


def reduced_cells(bases, max_iter: int = 100):
    """(a, b, gamma) of the Gauss-reduced cell of many 2D lattices at once: ``reduced_cell`` for
    each basis, the same steps applied to all of them as arrays.

    Args:
        bases: array [n, 2, 2]; rows u, v of each basis (Å, x y).
        max_iter: reduction steps at most.

    Returns:
        (a, b, gamma): arrays [n] of the reduced lengths (Å; a <= b) and angles (degrees,
        90 <= gamma <= 120).
    """
    bases = np.asarray(bases, float)
    u, v = bases[:, 0].copy(), bases[:, 1].copy()
    done = np.zeros(len(bases), dtype=bool)
    for _ in range(max_iter):
        live = ~done
        swap = live & ((u * u).sum(1) > (v * v).sum(1))
        u[swap], v[swap] = v[swap].copy(), u[swap].copy()
        m = np.where(live, np.round((u * v).sum(1) / (u * u).sum(1)), 0.0)
        done |= live & (m == 0)
        if done.all():
            break
        v = v - m[:, None] * u
    swap = (u * u).sum(1) > (v * v).sum(1)
    u[swap], v[swap] = v[swap].copy(), u[swap].copy()
    v[(u * v).sum(1) > 0] *= -1
    a, b = np.sqrt((u * u).sum(1)), np.sqrt((v * v).sum(1))
    gamma = np.degrees(np.arccos(np.clip((u * v).sum(1) / (a * b), -1, 1)))
    return a, b, gamma


def reduced_parameters(a, b, gamma):
    """(a, b, gamma) of the Gauss-reduced cell of the 2D lattices with cell lengths ``a``, ``b`` and
    angle ``gamma``: one canonical description of each lattice (a <= b, 90 <= gamma <= 120), so that
    a hexagonal cell stored at 60 degrees and one stored at 120 degrees give the same numbers.

    Args:
        a: cell length(s) (Å), scalar or array.
        b: cell length(s) (Å), same shape.
        gamma: cell angle(s) (degrees, 0-180), same shape.

    Returns:
        (a, b, gamma): float arrays of the input's shape: the reduced lengths (Å) and angle (degrees).
    """
    a, b, g = np.broadcast_arrays(*(np.asarray(x, float) for x in (a, b, gamma)))
    t = np.radians(g.ravel())
    bases = np.stack([np.stack([a.ravel(), np.zeros(a.size)], 1),
                      np.stack([b.ravel() * np.cos(t), b.ravel() * np.sin(t)], 1)], 1)
    return tuple(x.reshape(a.shape) for x in reduced_cells(bases))


def orientation_deg(u, v, rel_tol: float = 1e-3) -> float:
    """Angle from the x axis (degrees, counter-clockwise) of the lattice vector closest to x among
    the shortest ones (lengths within ``rel_tol`` of the shortest) of a reduced basis u, v.

    Args:
        u: the shorter vector of a reduced basis (x, y; any length unit).
        v: the other vector, same unit.
        rel_tol: relative tolerance on the lengths for a vector to count among the shortest.

    Returns:
        The angle (degrees, in (-180, 180]; the closest to 0 among the candidates).
    """
    a = np.linalg.norm(u)
    shortest = [w for w in (u, -u, v, -v, u + v, -u - v, u - v, v - u)
                if np.linalg.norm(w) <= a * (1 + rel_tol)]
    along_x = min(shortest, key=lambda w: abs(np.arctan2(w[1], w[0])))
    return float(np.degrees(np.arctan2(along_x[1], along_x[0])))


def bravais_class_2d(a: float, b: float, gamma: float,
                     len_tol: float = 5e-3, ang_tol: float = 0.5) -> int:
    """Bravais class of a Gauss-reduced 2D cell (a <= b, 90 <= gamma <= 120).

    Centred rectangular shows up either as a rhombic reduced cell (a = b) or as b projecting
    onto a by exactly a/2.

    Args:
        a: shorter cell length (Å).
        b: longer cell length (Å).
        gamma: angle between them (degrees).
        len_tol: relative tolerance on lengths.
        ang_tol: tolerance on angles (degrees).

    Returns:
        The class 0-4: 0 hexagonal, 1 square, 2 rectangular, 3 centred rectangular, 4 oblique.
    """
    equal = abs(a - b) <= len_tol * max(a, b)
    right = abs(gamma - 90.0) <= ang_tol
    if equal and (abs(gamma - 120.0) <= ang_tol or abs(gamma - 60.0) <= ang_tol):
        return 0
    if equal and right:
        return 1
    if right:
        return 2
    half = abs(abs(b * np.cos(np.radians(gamma))) - a / 2.0) <= len_tol * a + b * np.radians(ang_tol) / 2
    if equal or half:
        return 3
    return 4


# ---------------------------------------------------------------- distortion

def _basis(a: float, b: float, gamma: float) -> np.ndarray:
    g = np.radians(gamma)
    return np.array([[a, 0.0], [b * np.cos(g), b * np.sin(g)]])


def anisotropy(F: np.ndarray) -> float:
    """s_max / s_min - 1 of a 2 x 2 map: the strain that is not a rotation or a change of scale.

    Args:
        F: 2 x 2 matrix.

    Returns:
        The anisotropy (a fraction; 0 for a rotation times a scale).
    """
    s = np.linalg.svd(F, compute_uv=False)
    return float(s[0] / s[1] - 1.0)


def _anisotropy(measured: np.ndarray, ideal: np.ndarray) -> float:
    """The anisotropy of the map taking the ideal basis to the measured one (0 when the two are
    similar)."""
    return anisotropy(measured.T @ np.linalg.inv(ideal.T))


def class_distortions(a: float, b: float, gamma: float, classes=(0, 1, 2, 3, 4)) -> dict:
    """For each Bravais class (0-4), the smallest anisotropic strain (a fraction, scale and
    rotation free) that turns the reduced cell (a, b, gamma) into a lattice of that class.

    Hexagonal and square have no free shape; rectangular keeps the ratio b/a free, centred
    rectangular is either a rhombus (a = b, any angle) or a cell whose b projects onto a by a/2,
    with the free parameter fitted. 0 for oblique. Distorted graphene at a = 2.43, b = 2.47,
    gamma = 118.9 is 2.9 % from hexagonal.

    Args:
        a: reduced cell length a (Å).
        b: reduced cell length b (Å).
        gamma: angle between them (degrees).
        classes: the classes (0-4) to compute.

    Returns:
        {class: distortion}, each a fraction (sigma_max / sigma_min - 1 of the map from the ideal
        cell; 0.029 = 2.9 %); NaN for every class when a, b or gamma is not finite or a length is
        not positive.
    """
    if not (np.isfinite(a) and np.isfinite(b) and np.isfinite(gamma)) or min(a, b) <= 0:
        return {k: float("nan") for k in classes}
    # Each distortion in closed form, not by minimisation: for a map taking an ideal cell of metric H
    # to the measured one of metric G, (s_max / s_min + s_min / s_max + 2) = tr(H^-1 G)^2 / det(H^-1 G),
    # and over each class's free parameter that ratio has a single minimum with a closed form.
    c, s = np.cos(np.radians(gamma)), np.sin(np.radians(gamma))
    g11, g22, g12 = a * a, b * b, a * b * c
    det = g11 * g22 - g12 * g12
    M = _basis(a, b, gamma)
    out = {}
    for k in classes:
        if k == 0:
            out[0] = _anisotropy(M, _basis(1.0, 1.0, 120.0 if gamma >= 90.0 else 60.0))
        elif k == 1:
            out[1] = _anisotropy(M, _basis(1.0, 1.0, 90.0))
        elif k == 2:
            # free b/a: the best ratio is b/a itself, leaving only the angle's departure from 90 degrees
            out[2] = float((1.0 + abs(c)) / s - 1.0)
        elif k == 3:
            # a rhombus (a' = b', free angle; best cos = 2 g12 / (g11 + g22)) or a cell whose b projects
            # onto a by a/2 (free length; best (b'/a')^2 = K / g11 + 1/2)
            rhombus = ((g11 + g22) ** 2 - 4 * g12 * g12) / det
            k_half = g22 - abs(g12)
            half = (4 * g11 * k_half + g11 * g11) / det
            out[3] = _ratio_minus_one(min(rhombus, half))
        else:
            out[4] = 0.0
    return out


def _ratio_minus_one(x: float) -> float:
    """s_max / s_min - 1 from x = (s_max / s_min + s_min / s_max + 2), which is at least 4."""
    x = max(float(x), 4.0)
    return float((np.sqrt(x) + np.sqrt(x - 4.0)) / 2.0 - 1.0)


@dataclass(frozen=True)
class CanonicalCell:
    """The reduced primitive 2D cell of a layer and its Bravais class.

    Attributes:
        a: shorter cell length (Å).
        b: longer cell length (Å).
        gamma: angle between a and b (degrees, 90-120 by the Gauss reduction).
        label: Bravais class 0-4 (``bravais_class_2d``).
        multiplicity: stored-cell area / primitive area (2 for a 2x1 supercell).
    """
    a: float
    b: float
    gamma: float
    label: int
    multiplicity: int   # stored-cell area / primitive area (2 for a 2x1 supercell)


def _pure_translations(lat2, frac, species, z, site_tol):
    """In-plane translations (fractional, in the stored 2D cell) that map the layer onto
    itself; always contains (0, 0)."""
    species = np.asarray(species)
    counts = {s: int(np.sum(species == s)) for s in np.unique(species)}
    ref = min(counts, key=lambda s: (counts[s], str(s)))
    i0 = int(np.flatnonzero(species == ref)[0])
    found = [np.zeros(2)]
    for j in np.flatnonzero(species == ref):
        if j == i0 or abs(z[j] - z[i0]) > site_tol:
            continue
        t = np.mod(frac[j] - frac[i0], 1.0)
        shifted = np.mod(frac + t, 1.0)
        ok = True
        for s in counts:
            sel = species == s
            d = shifted[sel][:, None, :] - frac[sel][None, :, :]
            d -= np.round(d)
            dist = np.linalg.norm(d @ lat2, axis=-1)
            dz = np.abs(z[sel][:, None] - z[sel][None, :])
            if not np.all(np.any((dist <= site_tol) & (dz <= site_tol), axis=1)):
                ok = False
                break
        if ok:
            found.append(t)
    return np.array(found)


def canonical_cell(lattice_mat, cart_coords, species, site_tol: float = 0.1,
                   len_tol: float = 5e-3, ang_tol: float = 0.5) -> CanonicalCell:
    """Reduced primitive 2D cell of an oriented layer (a x b along z) and its class.

    Args:
        lattice_mat: 3 x 3 cell of the oriented layer (Å), as ``orient_layer`` returns it.
        cart_coords: [n, 3] Cartesian coordinates of the atoms (Å).
        species: the n element symbols (or atomic numbers).
        site_tol: distance (Å) within which a translated atom matches one of its species, in
            plane and in height.
        len_tol: relative length tolerance of the class (``bravais_class_2d``).
        ang_tol: angle tolerance of the class (degrees).

    Returns:
        The ``CanonicalCell`` (a, b in Å, gamma in degrees, class, multiplicity).

    Raises:
        StructureError: a zero-area in-plane cell.
    """
    lat = np.asarray(lattice_mat, float)
    lat2 = lat[:2, :2]
    if abs(np.linalg.det(lat2)) < 1e-6:
        raise StructureError("zero-area in-plane cell")
    cart = np.asarray(cart_coords, float)
    frac = np.mod(np.linalg.solve(lat2.T, cart[:, :2].T).T, 1.0)
    trans = _pure_translations(lat2, frac, species, cart[:, 2], site_tol)
    u, v = _primitive_basis(lat2, trans)
    a, b = float(np.linalg.norm(u)), float(np.linalg.norm(v))
    gamma = float(np.degrees(np.arccos(np.clip(np.dot(u, v) / (a * b), -1, 1))))
    mult = int(round(abs(np.linalg.det(lat2)) / abs(u[0] * v[1] - u[1] * v[0])))
    return CanonicalCell(a, b, gamma, bravais_class_2d(a, b, gamma, len_tol, ang_tol), mult)


def _primitive_basis(lat2, trans):
    """Basis of the lattice generated by the cell vectors and the translations ``trans``
    (fractional). Its index is n = len(trans), so its cell area is |det| / n: take the
    shortest non-zero vector (always primitive), then the shortest partner spanning that
    area; such a pair is a basis. Candidates are enumerated in the reduced stored cell,
    where every vector no longer than the cell itself has small integer coordinates."""
    u0, v0 = gauss_reduce(lat2[0], lat2[1])
    red = np.array([u0, v0])
    t_cart = np.asarray(trans, float) @ lat2
    t_red = np.mod(np.linalg.solve(red.T, t_cart.T).T, 1.0)
    grid = np.array([(i, j) for i in range(-3, 4) for j in range(-3, 4)], float)
    cand = (t_red[:, None, :] + grid[None, :, :]).reshape(-1, 2) @ red
    length = np.linalg.norm(cand, axis=1)
    cand, length = cand[length > 1e-6], length[length > 1e-6]
    cand = cand[np.argsort(length, kind="stable")]
    target = abs(np.linalg.det(lat2)) / len(trans)
    u = cand[0]
    for v in cand[1:]:
        if abs(abs(u[0] * v[1] - u[1] * v[0]) - target) <= 1e-3 * target:
            return gauss_reduce(u, v)
    return gauss_reduce(u0, v0)  # unreachable for a consistent translation set


def projected_canonical_cell(lattice_mat, cart_coords, species, site_tol: float = 0.1,
                             len_tol: float = 5e-3, ang_tol: float = 0.5) -> CanonicalCell:
    """Reduced primitive cell of the layer projected along z: what an image can show. Atoms of
    one species at different heights can make the projection repeat on a smaller cell.

    Args:
        lattice_mat: 3 x 3 cell of the oriented layer (Å).
        cart_coords: [n, 3] Cartesian coordinates of the atoms (Å); their heights are ignored.
        species: the n element symbols (or atomic numbers).
        site_tol: distance (Å) within which a translated atom matches one of its species.
        len_tol: relative length tolerance of the class.
        ang_tol: angle tolerance of the class (degrees).

    Returns:
        The ``CanonicalCell`` of the projection.

    Raises:
        StructureError: a zero-area in-plane cell.
    """
    cart = np.array(cart_coords, dtype=float)
    cart[:, 2] = 0.0
    return canonical_cell(lattice_mat, cart, species, site_tol, len_tol, ang_tol)


# ---------------------------------------------------------------- class from symmetry

SYMPREC = 0.01   # Å, spglib's position tolerance (pymatgen's default), for relaxed DFT cells


def _point_operations_2d(lattice_mat, cart_coords, species, symprec: float):
    """In-plane 2x2 Cartesian parts of the layer's point operations (a layer operation maps
    the normal to +-itself, so its in-plane block is orthogonal): an operation that flips z
    acts in the plane as a rotation or reflection like any other."""
    import spglib
    import spglib.error

    lat = np.asarray(lattice_mat, float)
    cart = np.asarray(cart_coords, float)
    frac = np.linalg.solve(lat.T, cart.T).T
    _, numbers = np.unique(np.asarray(species, dtype=str), return_inverse=True)
    spglib.error.OLD_ERROR_HANDLING = False    # errors raised, not returned as None (and no warning)
    try:
        sym = spglib.get_symmetry((lat, frac, numbers), symprec=symprec)
    except spglib.error.SpglibError as exc:
        raise StructureError(f"spglib found no symmetry operations ({exc})") from None
    pure = [np.mod(t[:2], 1.0) for r, t in zip(sym["rotations"], sym["translations"])
            if np.array_equal(r, np.eye(3, dtype=int)) and abs(t[2] - round(t[2])) < 1e-3]
    ops = []
    for r in sym["rotations"]:
        rc = lat.T @ r @ np.linalg.inv(lat.T)        # fractional -> Cartesian
        if abs(abs(rc[2, 2]) - 1.0) > 1e-3:
            continue                                 # tilts the layer: not a layer operation
        m = rc[:2, :2]
        if not any(np.allclose(m, o, atol=1e-3) for o in ops):
            ops.append(m)
    return ops, np.array(pure)


def symmetry_class(lattice_mat, cart_coords, species, symprec: float = SYMPREC) -> int:
    """2D Bravais class (0-4) fixed by the layer's own point symmetry, not by its metric.

    The lattice system follows from the in-plane point operations: a 3- or 6-fold axis
    normal to the layer makes it hexagonal, a 4-fold square, any in-plane reflection
    (a mirror containing the normal, or a 2-fold axis in the plane) rectangular; the
    reflection's own axes then decide primitive (op) or centred (oc): the shortest lattice
    vectors along and across the mirror line span the primitive cell (op) or twice it (oc).
    Otherwise oblique. A cell whose a and b agree to 0.25 % without a 4-fold axis is
    rectangular here, whatever the metric says.

    Args:
        lattice_mat: 3 x 3 cell of the oriented layer (Å).
        cart_coords: [n, 3] Cartesian coordinates of the atoms (Å).
        species: the n element symbols.
        symprec: spglib's position tolerance (Å).

    Returns:
        The class 0-4.

    Raises:
        StructureError: spglib finds no symmetry operations.
    """
    lat = np.asarray(lattice_mat, float)
    cart = np.asarray(cart_coords, float)
    species = np.asarray(species, dtype=str)
    ops, pure = _point_operations_2d(lat, cart, species, symprec)
    if len(pure) > 1:
        # a stored supercell keeps only the operations that map the supercell onto itself
        # (a 2x1 graphene cell loses its 3-fold axis): redo it on the primitive cell
        u, v = _primitive_basis(lat[:2, :2], pure)
        lat = np.array([[u[0], u[1], 0.0], [v[0], v[1], 0.0], lat[2]])
        frac = np.linalg.solve(lat.T, cart.T).T
        frac[:, :2] = np.mod(frac[:, :2], 1.0)
        keep = []
        for i in range(len(frac)):
            d = frac[keep] - frac[i]
            d[:, :2] -= np.round(d[:, :2])
            near = np.linalg.norm(d @ lat, axis=1) < 2 * symprec
            if not np.any(near & (species[keep] == species[i])):
                keep.append(i)
        cart, species = frac[keep] @ lat, species[keep]
        ops, pure = _point_operations_2d(lat, cart, species, symprec)
    orders = [int(round(2 * np.pi / np.arccos(np.clip(np.trace(m) / 2, -1, 1))))
              for m in ops if np.linalg.det(m) > 0 and not np.allclose(m, np.eye(2), atol=1e-3)]
    if any(n in (3, 6) for n in orders):
        return 0
    if 4 in orders:
        return 1
    mirrors = [m for m in ops if np.linalg.det(m) < 0]
    if not mirrors:
        return 4
    m = mirrors[0]
    lat2 = lat[:2, :2]
    # the layer's lattice: the stored cell's plus its pure translations (a stored supercell
    # or conventional centred cell has more than one)
    cells = np.array([(i, j) for i in range(-4, 5) for j in range(-4, 5)], float)
    grid = (cells[None, :, :] + pure[:, None, :]).reshape(-1, 2) @ lat2
    image = grid @ m.T
    tol = 1e-3 * np.abs(lat2).max()
    along = grid[np.all(np.abs(image - grid) <= tol, axis=1)]    # on the mirror line
    across = grid[np.all(np.abs(image + grid) <= tol, axis=1)]   # perpendicular to it
    shortest = [min((w for w in vs if np.linalg.norm(w) > 1e-6), key=np.linalg.norm)
                for vs in (along, across)]
    area = abs(np.linalg.det(lat2)) / len(pure)
    spanned = abs(shortest[0][0] * shortest[1][1] - shortest[0][1] * shortest[1][0])
    return 2 if spanned < 1.5 * area else 3
