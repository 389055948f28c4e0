"""The scan distortion of an image, measured instead of assumed, and lattices corrected for it.

Model: an image shows the sample through a linear map D of the image frame (x along the fast
scan, y = rows along the slow scan): a vector r of the sample appears as D r. Mis-calibrated or
non-orthogonal scan coils and a constant drift during the frame all act this way to first order
(Ophus, Ciston & Nelson, Ultramicroscopy 162, 1-9, 2016, correct the non-linear rest). Write
D = S R (polar decomposition): the rotation R cannot be told from the sample's orientation, so
what is measured is the symmetric S, and in a lattice's terms only the metric Q = (S S^T)^-1:
a basis A (rows, image frame) of a sample basis T satisfies A Q A^T = T T^T.

Three measurements, each with its uncertainty from draws of the lattices' own covariances:

- ``from_grains``: two or more grains of one material at different orientations in one frame
  carry the same S; fitting one S and one sample metric to all of them is a linear
  least-squares problem. Grains cannot tell a scale error from the material's size, so the
  scale is fixed by the usual scan model: the fast axis is calibrated and drift or a slow-scan
  error act along the slow axis (D upper triangular with D_xx = 1, ``scan_factors``). One grain,
  or grains whose orientations differ by a symmetry of the lattice, cannot separate the scan
  from the material (``NotMeasurable``).
- ``from_reference``: a frame of a known lattice (graphene, or any a, b, gamma) taken with the
  same settings fixes S completely, scale included (the pixel size's calibration).
- ``from_orthogonal_pair``: two frames of one area, scanned at 0 and 90 degrees, under a
  constant drift: frame 0 shows D0 = I + u e_y^T (position shifted by u per unit of slow-scan
  y), frame 90 turned back shows D90 = I + w e_x^T; the map from one frame's lattice to the
  other's gives u and w in closed form.

``correct_basis`` removes a measured S from a fitted reciprocal basis and its covariance, so the
corrected lattice and its class come from the same fit as the measured ones
(``fft_lattice.lattice_from_basis``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from itertools import product

import numpy as np

from .lattice2d import anisotropy, reduced_cell

__all__ = ["NotMeasurable", "ScanDistortion", "UNIMODULAR", "MATERIALS", "DEGENERATE_CONDITION",
           "GRAIN_RESIDUAL_LIMIT", "MAX_ANISOTROPY", "MAX_DISTORTION_ERR", "MAX_SCALE_ERROR", "N_DRAWS",
           "metric_from_cell", "right_handed", "basis_draws", "symmetric_root", "scan_factors",
           "fast_axis_calibrated", "from_grains", "from_reference", "from_orthogonal_pair", "correct_basis"]


class NotMeasurable(ValueError):
    """The inputs cannot separate the scan distortion from the material (the message says why)."""


# integer changes of basis with entries -1..1 and determinant +1: every re-labelling between two
# reduced bases of one lattice (right-handed) is among them
UNIMODULAR = tuple(np.array(m, float).reshape(2, 2) for m in product((-1, 0, 1), repeat=4)
                   if round(m[0] * m[3] - m[1] * m[2]) == 1)
# reference lattices for ``--material`` (a, b in Å, gamma in degrees; room-temperature literature
# values of the monolayers)
MATERIALS = {"graphene": (2.46, 2.46, 120.0), "hbn": (2.504, 2.504, 120.0), "mos2": (3.16, 3.16, 120.0),
             "ws2": (3.153, 3.153, 120.0), "mose2": (3.288, 3.288, 120.0), "wse2": (3.282, 3.282, 120.0)}
# the second-smallest singular value of the grains' (normalised) equations over the largest:
# below this, a second null direction (one orientation, up to the lattice's symmetry) leaves the
# distortion undetermined
DEGENERATE_CONDITION = 1e-2
# largest misfit (relative, %) of the grains' corrected cells: more, and they are not one lattice
# under one linear distortion
GRAIN_RESIDUAL_LIMIT = 1.0
# larger distortions are not a scan's: the grains are not one lattice
MAX_ANISOTROPY = 0.2
# a distortion measured less precisely than this (standard deviation of the anisotropy) says
# nothing a class could use
MAX_DISTORTION_ERR = 0.02
# a reference frame whose pixel size is further off than this shows another material (or the
# pixel size given for it is wrong)
MAX_SCALE_ERROR = 0.1
N_DRAWS = 200


@dataclass
class ScanDistortion:
    """A measured scan distortion: S (sample -> image frame, symmetric) and draws of it.

    Attributes:
        matrix: 2 x 2 S, acting on (x, y) vectors in Å (x fast scan, y = rows slow scan).
        draws: [n, 2, 2] draws of S from the measurements' uncertainties.
        source: "grains", "calibration" or "orthogonal pair".
        detail: what it was measured from, for people.
        residual_pct: grains: largest relative misfit (%) of the corrected grains' cells (0 for
            the other sources, which have no redundancy).
        drift: orthogonal pair: {"u": frame 0's shift per unit y, "w": frame 90's per unit x};
            empty otherwise.
        notes: remarks for people.
    """
    matrix: np.ndarray
    draws: np.ndarray
    source: str
    detail: str = ""
    residual_pct: float = 0.0
    drift: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)

    @property
    def anisotropy(self) -> float:
        """s_max / s_min - 1 of S (a fraction; 0.04 = 4 %)."""
        return anisotropy(self.matrix)

    @property
    def anisotropy_err(self) -> float:
        """Standard deviation of the anisotropy over the draws (a fraction)."""
        return float(np.std([anisotropy(d) for d in self.draws]))

    @property
    def scale(self) -> float:
        """sqrt(det S): the pixel size's error as a factor (1 when only the shape is measured)."""
        return float(np.sqrt(np.linalg.det(self.matrix)))

    @property
    def stretch_axis_deg(self) -> float:
        """Direction (degrees from x, 0-180) along which S stretches most."""
        w, v = np.linalg.eigh(self.matrix)
        return float(np.degrees(np.arctan2(v[1, -1], v[0, -1])) % 180.0)

    def factors(self) -> dict:
        """The scan model's factors (``scan_factors``) with their standard deviations over the draws:
        fast and slow axis scale and shear, each as a change in % (fast 0 when taken as calibrated)."""
        central = np.array(scan_factors(self.matrix)) - [1.0, 1.0, 0.0]
        spread = np.std([scan_factors(d) for d in self.draws], axis=0)
        return {f"{k}_pct": float(100 * v) for k, v in zip(("fast_axis", "slow_axis", "shear"), central)} | \
            {f"{k}_err_pct": float(100 * v) for k, v in zip(("fast_axis", "slow_axis", "shear"), spread)}

    def as_dict(self) -> dict:
        """JSON-ready: matrix and its errors, anisotropy (%), stretch axis (degrees), scale, the
        scan model's factors (``factors``), the source and what it was measured from."""
        return {"source": self.source, "detail": self.detail, **self.factors(),
                "matrix": self.matrix.tolist(), "matrix_err": self.draws.std(axis=0).tolist(),
                "anisotropy_pct": 100 * self.anisotropy, "anisotropy_err_pct": 100 * self.anisotropy_err,
                "stretch_axis_deg": self.stretch_axis_deg, "scale": self.scale,
                "scale_err": float(np.std(np.sqrt(np.linalg.det(self.draws)))),
                "residual_pct": self.residual_pct, "drift": {k: list(map(float, v)) for k, v in self.drift.items()},
                "notes": list(self.notes)}

    def summary(self) -> str:
        """One line: the scan model's factors with their errors, the anisotropy, and the source."""
        f = self.factors()
        fast = ("fast axis taken as calibrated" if self.source == "grains" else
                f"fast axis {f['fast_axis_pct']:+.2f} ± {f['fast_axis_err_pct']:.2f} %")
        return (f"scan distortion measured from {self.detail or self.source}: slow axis {f['slow_axis_pct']:+.2f} ± "
                f"{f['slow_axis_err_pct']:.2f} %, shear {f['shear_pct']:+.2f} ± {f['shear_err_pct']:.2f} %, {fast} "
                f"(anisotropy {100 * self.anisotropy:.2f} ± {100 * self.anisotropy_err:.2f} %)")


def scan_factors(S: np.ndarray) -> tuple[float, float, float]:
    """The scan model's factors of S: the upper-triangular D with D D^T = S S^T (so any map with
    the same symmetric part, rotation aside, has the same factors).

    D = [[fast, shear], [0, slow]]: the fast (x) axis scaled by ``fast``, the slow (y) axis by
    ``slow``, and x shifted by ``shear`` per unit of y (the slow axis tilted).

    Args:
        S: 2 x 2 symmetric positive-definite map.

    Returns:
        (fast, slow, shear).
    """
    P = S @ S.T
    slow = float(np.sqrt(P[1, 1]))
    shear = float(P[0, 1] / slow)
    return float(np.sqrt(P[0, 0] - shear * shear)), slow, shear


def fast_axis_calibrated(S: np.ndarray) -> np.ndarray:
    """S scaled so that its scan model's fast axis is exact (``scan_factors(...)[0] == 1``).

    Args:
        S: 2 x 2 symmetric positive-definite map known up to scale.

    Returns:
        The scaled map.
    """
    return S / scan_factors(S)[0]


def metric_from_cell(a: float, b: float, gamma: float) -> np.ndarray:
    """The metric T T^T (Å^2) of the cell a, b (Å), gamma (degrees).

    Args:
        a: first length (Å).
        b: second length (Å).
        gamma: angle between them (degrees).

    Returns:
        2 x 2 float array [[a^2, ab cos gamma], [ab cos gamma, b^2]].
    """
    c = a * b * np.cos(np.radians(gamma))
    return np.array([[a * a, c], [c, b * b]])


def right_handed(A: np.ndarray) -> np.ndarray:
    """The basis (rows) with its second vector negated when it is left-handed (det < 0).

    Args:
        A: 2 x 2 basis, rows the vectors.

    Returns:
        A basis of the same lattice with positive determinant.
    """
    A = np.array(A, float)
    if np.linalg.det(A) < 0:
        A[1] = -A[1]
    return A


def basis_draws(B: np.ndarray, cov: np.ndarray, n: int = N_DRAWS, seed: int = 0) -> np.ndarray:
    """Real-space bases (rows) drawn from a reciprocal basis ``B`` (rows, 1/Å) with covariance
    ``cov`` of vec(B) (index c * 2 + j, as ``fft_lattice`` orders it).

    Args:
        B: 2 x 2 reciprocal basis, rows g1, g2 (1/Å).
        cov: 4 x 4 covariance ((1/Å)^2).
        n: number of draws.
        seed: seed of the draws.

    Returns:
        [n, 2, 2] real bases (Å, rows a, b), each dual to a drawn reciprocal basis.
    """
    cov = np.asarray(cov, float)
    chol = np.linalg.cholesky(cov + 1e-30 * np.eye(4) + 1e-12 * np.trace(cov) * np.eye(4))
    dv = (chol @ np.random.default_rng(seed).standard_normal((4, n))).T.reshape(n, 2, 2)   # (c, j)
    return np.linalg.inv(B[None] + dv.transpose(0, 2, 1)).transpose(0, 2, 1)


def symmetric_root(Q: np.ndarray, inverse: bool = True) -> np.ndarray:
    """Q^(-1/2) (or Q^(1/2)) of a symmetric positive-definite 2 x 2 matrix.

    Args:
        Q: symmetric positive-definite matrix.
        inverse: True for Q^(-1/2), False for Q^(1/2).

    Returns:
        The symmetric root.

    Raises:
        NotMeasurable: Q is not positive definite.
    """
    w, v = np.linalg.eigh((Q + Q.T) / 2)
    if w.min() <= 0:
        raise NotMeasurable("the fitted metric is not positive definite: the inputs do not describe one "
                            "lattice under a linear distortion")
    return (v * (w ** (-0.5 if inverse else 0.5))) @ v.T


def _metric_equations(bases: list, scale: float) -> np.ndarray:
    """Rows of the homogeneous system A Q A^T - G = 0 in (q11, q12, q22, g11, g12, g22 / scale),
    each normalised by the lengths it involves."""
    rows = []
    for A in bases:
        for k, m in ((0, 0), (0, 1), (1, 1)):
            u, v = A[k], A[m]
            g = np.zeros(3)
            g[k + m] = -scale
            rows.append(np.r_[u[0] * v[0], u[0] * v[1] + u[1] * v[0], u[1] * v[1], g]
                        / (np.linalg.norm(u) * np.linalg.norm(v)))
    return np.array(rows)


def _solve_grains(bases: list) -> tuple[np.ndarray, np.ndarray]:
    """(S with det 1, singular values of the normalised system) for re-indexed bases."""
    scale = float(np.mean([np.sum(A[0] ** 2) for A in bases]))
    _, sv, vt = np.linalg.svd(_metric_equations(bases, scale))
    x = vt[-1]
    Q = np.array([[x[0], x[1]], [x[1], x[2]]])
    if Q[0, 0] < 0:
        Q = -Q
    det = np.linalg.det(Q)
    if det <= 0:
        raise NotMeasurable("the grains' cells fit no positive-definite distortion: they are not one "
                            "lattice under one linear distortion")
    return fast_axis_calibrated(symmetric_root(Q / np.sqrt(det))), sv


def _corrected_cells(bases: list, S: np.ndarray) -> np.ndarray:
    """(a, b, gamma) of each basis after removing S."""
    Si = np.linalg.inv(S)
    return np.array([reduced_cell(*(A @ Si.T))[:3] for A in bases])


def _misfit_pct(cells: np.ndarray) -> float:
    """Largest relative spread (%) of a, b and the cell's shape (gamma as an arc on b) over cells."""
    a, b, g = cells.T
    arc = np.radians(g) * b
    return float(100 * max(np.ptp(a) / a.mean(), np.ptp(b) / b.mean(), np.ptp(arc) / arc.mean()))


def from_grains(bases: list, covs: list, n_draws: int = N_DRAWS, seed: int = 0) -> ScanDistortion:
    """The scan distortion's shape that makes the grains of one frame congruent.

    Args:
        bases: each grain's real-space basis (2 x 2, rows a, b in Å, image frame).
        covs: each grain's 4 x 4 covariance of its reciprocal basis (``LatticeEstimate.basis_cov``).
        n_draws: draws for the uncertainty.
        seed: seed of the draws.

    Returns:
        The ``ScanDistortion`` (source "grains", the fast axis taken as calibrated, residual_pct
        the corrected grains' largest misfit).

    Raises:
        NotMeasurable: fewer than two grains; orientations that differ by a symmetry of the
            lattice (no second view of the distortion); grains that no single distortion makes
            congruent (``GRAIN_RESIDUAL_LIMIT``).
    """
    if len(bases) < 2:
        raise NotMeasurable("one grain alone cannot separate the scan distortion from the material's own "
                            "cell: it takes two grains at different orientations, a reference frame "
                            "(--calibration) or an orthogonal scan pair")
    As = [right_handed(A) for A in bases]
    # each grain re-labelled onto grain 0's basis. Two grains fit exactly under almost any
    # re-labelling (each gives its own distortion), so the choice rests on the distortion being
    # small: the smallest one wins; a re-labelling under which the pair is one view of the
    # lattice admits no distortion at all and wins outright
    chosen = [np.eye(2)]
    for A in As[1:]:
        best = None
        for M in UNIMODULAR:
            try:
                S, sv = _solve_grains([As[0], M @ A])
            except NotMeasurable:
                continue
            score = 0.0 if sv[-2] < DEGENERATE_CONDITION * sv[0] else anisotropy(S)
            if best is None or score < best[0]:
                best = (score, M)
        if best is None:
            raise NotMeasurable("the grains' cells fit no positive-definite distortion: they are not one "
                                "lattice under one linear distortion")
        chosen.append(best[1])
    indexed = [M @ A for M, A in zip(chosen, As)]
    S, sv = _solve_grains(indexed)
    if sv[-2] < DEGENERATE_CONDITION * sv[0]:
        raise NotMeasurable("the grains' orientations differ only by a symmetry of their lattice: they see "
                            "the distortion from one direction and cannot separate it from the material")
    if anisotropy(S) > MAX_ANISOTROPY:
        raise NotMeasurable(f"making the grains congruent takes a {100 * anisotropy(S):.0f} % distortion, more "
                            f"than any scan distortion ({100 * MAX_ANISOTROPY:.0f} %): they are not one lattice "
                            "(other materials, or one seen along other directions)")
    central = _corrected_cells(indexed, S)
    misfit = _misfit_pct(central)
    # draws: each grain's basis from its own covariance, re-labelled the same way
    per_grain = [np.einsum("jk,nkc->njc", M, np.array([right_handed(a) for a in
                                                         basis_draws(np.linalg.inv(A).T, cov, n_draws, seed + i)]))
                 for i, (M, A, cov) in enumerate(zip(chosen, bases, covs))]
    draws = []
    for n in range(n_draws):
        try:
            draws.append(_solve_grains([d[n] for d in per_grain])[0])
        except NotMeasurable:
            continue
    draws = np.array(draws) if draws else S[None]
    # the misfit the grains' own errors allow: twice the largest change of a corrected cell
    # over the draws (95th percentile)
    change = [np.max(np.abs(_corrected_cells([d[n] for d in per_grain], S) - central) / central)
              for n in range(min(n_draws, 50))]
    noise = float(2 * 100 * np.percentile(change, 95))
    if misfit > max(GRAIN_RESIDUAL_LIMIT, 2 * noise):
        raise NotMeasurable(f"after the best common correction the grains' cells still differ by {misfit:.1f} %: "
                            "they are not one lattice (other materials, or one seen along other directions) "
                            "under one linear distortion")
    found = ScanDistortion(S, draws, "grains", f"{len(bases)} grains in the frame", misfit)
    if found.anisotropy_err > MAX_DISTORTION_ERR:
        raise NotMeasurable(f"the grains' orientations are too close (up to the symmetry of their lattice) to "
                            f"measure the distortion: {100 * found.anisotropy:.1f} ± "
                            f"{100 * found.anisotropy_err:.1f} %")
    if len(bases) == 2:
        found.notes.append("two grains determine the distortion exactly, with nothing left to test that they "
                           "are one material: a third grain or a reference frame would")
    return found


def from_reference(basis: np.ndarray, cov: np.ndarray, cell: tuple, n_draws: int = N_DRAWS,
                   seed: int = 0, detail: str = "") -> ScanDistortion:
    """The scan distortion (scale included) from a frame of a lattice of known cell.

    Args:
        basis: the measured real-space basis (2 x 2, rows in Å at the nominal pixel size).
        cov: its 4 x 4 reciprocal-basis covariance (``LatticeEstimate.basis_cov``).
        cell: the reference's true (a, b, gamma) (Å, Å, degrees).
        n_draws: draws for the uncertainty.
        seed: seed of the draws.
        detail: what the reference is, for people.

    Returns:
        The ``ScanDistortion`` (source "calibration"; its scale corrects the nominal pixel size).

    Raises:
        NotMeasurable: the cell is not a valid cell, or the measured lattice is not it under a
            plausible distortion (``MAX_ANISOTROPY``) and pixel-size error (``MAX_SCALE_ERROR``).
    """
    a, b, gamma = (float(x) for x in cell)
    if not (a > 0 and b > 0 and 0 < gamma < 180):
        raise NotMeasurable(f"the reference cell a = {a}, b = {b} Å, γ = {gamma}° is not a cell")
    ra, rb, rg, u, v = reduced_cell(*(np.array([[a, 0.0], [b * np.cos(np.radians(gamma)),
                                                            b * np.sin(np.radians(gamma))]])))
    G = right_handed(np.array([u, v]))
    G = G @ G.T
    A = right_handed(basis)

    def solve(A, M=None):
        options = [M] if M is not None else UNIMODULAR
        best = None
        for m in options:
            Ainv = np.linalg.inv(A)
            S = symmetric_root(Ainv @ m @ G @ m.T @ Ainv.T)
            if best is None or anisotropy(S) < anisotropy(best[0]):
                best = (S, m)
        return best

    S, M = solve(A)
    scale = np.sqrt(np.linalg.det(S))
    if anisotropy(S) > MAX_ANISOTROPY or abs(scale - 1) > MAX_SCALE_ERROR:
        raise NotMeasurable(f"the reference frame's lattice is not the given cell (a = {ra:.3f}, b = {rb:.3f} Å, "
                            f"γ = {rg:.1f}°) under a plausible distortion (it would take {100 * anisotropy(S):.0f} % "
                            f"of distortion and a pixel size {100 * abs(scale - 1):.0f} % off): another material, "
                            "or another magnification")
    draws = np.array([solve(right_handed(d), M)[0] for d in basis_draws(np.linalg.inv(basis).T, cov, n_draws, seed)])
    return ScanDistortion(S, draws, "calibration", detail)


def from_orthogonal_pair(basis_0: np.ndarray, cov_0: np.ndarray, basis_90: np.ndarray, cov_90: np.ndarray,
                         n_draws: int = N_DRAWS, seed: int = 0) -> ScanDistortion:
    """Frame 0's linear drift from the lattices of two frames of one area scanned at 0 and 90
    degrees (frame 90 already turned back to frame 0's orientation).

    Args:
        basis_0: frame 0's real-space basis (2 x 2, rows, Å).
        cov_0: its 4 x 4 reciprocal-basis covariance.
        basis_90: frame 90's (turned back), any basis of the same lattice.
        cov_90: its covariance.
        n_draws: draws for the uncertainty.
        seed: seed of the draws.

    Returns:
        The ``ScanDistortion`` of frame 0 (source "orthogonal pair"): ``matrix`` the symmetric
        part of D0 = I + u e_y^T, ``drift`` u (frame 0) and w (frame 90, slow axis x).

    Raises:
        NotMeasurable: the two frames do not show one lattice (no re-labelling brings them within
            25 %).
    """
    A0 = right_handed(basis_0)
    A90 = right_handed(basis_90)
    M = min(UNIMODULAR, key=lambda m: np.linalg.norm(m @ A90 - A0))
    if np.linalg.norm(M @ A90 - A0) > 0.25 * np.linalg.norm(A0):
        raise NotMeasurable("the two frames do not show the same lattice in the same orientation (is the "
                            "second frame the same area, scanned at 90°?)")

    def solve(A0, A90):
        # P maps frame 0's vectors onto frame 90's: P = D90 D0^-1 with D0 = I + u e_y^T, D90 = I + w e_x^T
        P = (M @ A90).T @ np.linalg.inv(A0.T)
        u = np.linalg.solve(P, [0.0, 1.0]) - [0.0, 1.0]
        w = P[:, 0] - [1.0, 0.0]
        D0 = np.eye(2) + np.outer(u, [0.0, 1.0])
        return symmetric_root(D0 @ D0.T, inverse=False), u, w

    S, u, w = solve(A0, A90)
    d0 = basis_draws(np.linalg.inv(basis_0).T, cov_0, n_draws, seed)
    d90 = basis_draws(np.linalg.inv(basis_90).T, cov_90, n_draws, seed + 1)
    solved = [solve(right_handed(x), right_handed(y)) for x, y in zip(d0, d90)]
    draws = np.array([s for s, _, _ in solved])
    notes = []
    if np.linalg.norm(u) > 0 and abs(np.linalg.norm(u) - np.linalg.norm(w)) > 3 * float(np.std(
            [np.linalg.norm(du) for _, du, _ in solved[:50]])) + 1e-3:
        notes.append(f"the drifts of the two frames differ in size (|u| = {np.linalg.norm(u):.4f}, |w| = "
                     f"{np.linalg.norm(w):.4f}): the drift changed between the frames, or the distortion is "
                     "not only drift")
    return ScanDistortion(S, draws, "orthogonal pair", "two frames scanned at 0° and 90°", 0.0,
                          {"u": u, "w": w}, notes)


def correct_basis(B: np.ndarray, cov: np.ndarray, distortion: ScanDistortion) -> tuple[np.ndarray, np.ndarray]:
    """A reciprocal basis and its covariance with the scan distortion removed.

    A sample vector r appears as S r, so its reciprocal vectors appear as S^-T g: the corrected
    reciprocal basis (rows) is B S. The covariance adds the spread of B S over the distortion's
    draws.

    Args:
        B: 2 x 2 reciprocal basis, rows (1/Å).
        cov: 4 x 4 covariance of vec(B), index c * 2 + j ((1/Å)^2).
        distortion: the measured distortion.

    Returns:
        (B S, its 4 x 4 covariance).
    """
    S = distortion.matrix
    T = np.kron(S.T, np.eye(2))
    spread = np.array([(B @ d).T.reshape(4) for d in distortion.draws])    # vec index c * 2 + j
    extra = np.cov(spread.T) if len(spread) > 1 else np.zeros((4, 4))
    return B @ S, T @ np.asarray(cov, float) @ T.T + extra
