"""Notebook 17: lattice spacings and interplanar angles from the FFT spots of moving image
windows (the HRTEM nanoparticle document, 002), with phases matched against candidate d-spacings.

Conversion (002, ESI-2): a spot l pixels from the centre of a d-pixel FFT of an image sampled at
p Å per pixel lies at spatial frequency q = l / (d p) (1/Å); the lattice spacing is 1/q. (The
document calls q itself the spacing; see docs/deviations.md#deviation-29.)"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy import ndimage

from ..fft_lattice import parabola_offset
from ..grains import window_origins
from .columns import Z_POWER, Probe, render_columns

PIXEL_002 = 0.16765363      # Å per pixel: the document's example (256 px <-> 1/0.016765363 nm^-1)


# ------------------------------------------------------------------ interplanar angles

def _hkl(h) -> np.ndarray:
    h = np.asarray(h, dtype=float)
    if h.shape != (3,) or not np.any(h):
        raise ValueError(f"a plane needs three Miller indices, not all zero; got {h.tolist()}")
    return h


def angle_general(lattice_matrix, hkl1, hkl2) -> float:
    """Angle (degrees) between planes (h1 k1 l1) and (h2 k2 l2) from the reciprocal metric
    tensor G* = (A A^T)^-1 of any cell (rows of A: a, b, c)."""
    A = np.asarray(lattice_matrix, dtype=float)
    Gs = np.linalg.inv(A @ A.T)
    h1, h2 = _hkl(hkl1), _hkl(hkl2)
    c = h1 @ Gs @ h2 / np.sqrt((h1 @ Gs @ h1) * (h2 @ Gs @ h2))
    return float(np.degrees(np.arccos(np.clip(c, -1, 1))))


def angle_cubic(hkl1, hkl2) -> float:                       # 002 eq. (3)
    h1, h2 = _hkl(hkl1), _hkl(hkl2)
    return float(np.degrees(np.arccos(np.clip(h1 @ h2 / np.sqrt((h1 @ h1) * (h2 @ h2)), -1, 1))))


def angle_orthorhombic(a, b, c, hkl1, hkl2) -> float:       # 002 eq. (2)
    w = np.array([1 / a ** 2, 1 / b ** 2, 1 / c ** 2])
    h1, h2 = _hkl(hkl1), _hkl(hkl2)
    return float(np.degrees(np.arccos(np.clip((w * h1 * h2).sum() / np.sqrt((w * h1 * h1).sum() * (w * h2 * h2).sum()), -1, 1))))


def angle_tetragonal(a, c, hkl1, hkl2) -> float:            # 002 eq. (5)
    return angle_orthorhombic(a, a, c, hkl1, hkl2)


def angle_hexagonal(a, c, hkl1, hkl2) -> float:             # 002 eq. (4)
    (h1, k1, l1), (h2, k2, l2) = _hkl(hkl1), _hkl(hkl2)
    r = 3 * a ** 2 / (4 * c ** 2)
    num = h1 * h2 + k1 * k2 + 0.5 * (h1 * k2 + h2 * k1) + r * l1 * l2
    den = np.sqrt((h1 ** 2 + k1 ** 2 + h1 * k1 + r * l1 ** 2) * (h2 ** 2 + k2 ** 2 + h2 * k2 + r * l2 ** 2))
    return float(np.degrees(np.arccos(np.clip(num / den, -1, 1))))


def spacing_from_pixels(l_px, fft_px: int, pixel: float) -> np.ndarray:
    """Lattice spacing (Å) of a spot ``l_px`` pixels from the centre of an ``fft_px`` FFT of an
    image sampled at ``pixel`` Å: 1 / q with q = l / (d p)."""
    l_px = np.asarray(l_px, dtype=float)
    if fft_px <= 0 or pixel <= 0:
        raise ValueError(f"FFT size and pixel size must be positive, got {fft_px} and {pixel}")
    with np.errstate(divide="ignore"):
        return fft_px * pixel / l_px


# ------------------------------------------------------------------ phases

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


def match_phase(spacings, candidates=None, tol: float = 0.03) -> pd.DataFrame:
    """Score each candidate phase by how many of the measured ``spacings`` (Å) lie within a
    relative ``tol`` of one of its d-spacings; best first. Columns: phase, matched, share,
    mean relative error."""
    spacings = np.asarray(spacings, dtype=float)
    spacings = spacings[np.isfinite(spacings)]
    rows = []
    for name in candidates or PHASES:
        d = candidate_spacings(name)["d"].to_numpy()
        if len(spacings) == 0 or len(d) == 0:
            rows.append({"phase": name, "matched": 0, "share": 0.0, "error": np.nan})
            continue
        rel = np.abs(spacings[:, None] / d[None, :] - 1).min(1)
        ok = rel < tol
        rows.append({"phase": name, "matched": int(ok.sum()), "share": float(ok.mean()),
                     "error": float(rel[ok].mean()) if ok.any() else np.nan})
    return pd.DataFrame(rows).sort_values(["matched", "error"], ascending=[False, True]).reset_index(drop=True)


# ------------------------------------------------------------------ specimen

def _rotation_to_z(v: np.ndarray) -> np.ndarray:
    """Rotation matrix taking unit vector v to +z."""
    v = v / np.linalg.norm(v)
    z = np.array([0.0, 0.0, 1.0])
    c = float(v @ z)
    if c > 1 - 1e-12:
        return np.eye(3)
    if c < -1 + 1e-12:
        return np.diag([1.0, -1.0, -1.0])
    k = np.cross(v, z)
    s = np.linalg.norm(k)
    k /= s
    K = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + s * K + (1 - c) * K @ K


@dataclass
class Particle:
    phase: str
    zone: tuple
    centre: tuple            # Å
    radius: float            # Å
    rotation: float          # in-plane, degrees
    frame: np.ndarray        # 3 x 3: rotation of the cell into the image frame (beam along z)


def particle_atoms(p: Particle) -> tuple[np.ndarray, np.ndarray]:
    """Projected positions (Å, image frame) and ADF weights (Z^1.7) of a spherical particle."""
    st = phase_structure(p.phase)
    A = st.lattice.matrix
    R = p.radius
    n = np.ceil(R / np.min(st.lattice.abc) * 2 + 2).astype(int)
    ijk = np.stack(np.meshgrid(*[np.arange(-n, n + 1)] * 3, indexing="ij"), -1).reshape(-1, 3)
    frac = st.frac_coords[None, :, :] + ijk[:, None, :]
    cart = (frac.reshape(-1, 3) @ A) @ p.frame.T
    z = np.tile(np.array([s.specie.Z for s in st]), len(ijk))
    keep = np.linalg.norm(cart, axis=1) < R
    return cart[keep, :2] + np.asarray(p.centre), z[keep].astype(float) ** Z_POWER


def make_particle(phase: str, zone, centre, radius: float, rotation: float) -> Particle:
    st = phase_structure(phase)
    beam = np.asarray(zone, float) @ st.lattice.matrix
    rot = _rotation_to_z(beam)
    t = np.radians(rotation)
    inplane = np.array([[np.cos(t), -np.sin(t), 0], [np.sin(t), np.cos(t), 0], [0, 0, 1]])
    return Particle(phase, tuple(int(v) for v in zone), tuple(centre), radius, rotation, inplane @ rot)


@lru_cache(maxsize=None)
def phase_structure(name: str):
    return PHASES[name].structure()


def zone_spots(p: Particle, d_min: float = 1.0, rel: float = 0.02) -> pd.DataFrame:
    """The particle's reflections in its zone (h u + k v + l w = 0), with |F|^2 above ``rel`` of
    the strongest: Miller indices, spacing d (Å), and the in-plane reciprocal vector (1/Å)."""
    hkl, g, d, I = _zone_reflections(p.phase, p.zone, d_min, rel)
    gi = g @ p.frame.T
    return pd.DataFrame({"h": hkl[:, 0], "k": hkl[:, 1], "l": hkl[:, 2], "d": d,
                         "gx": gi[:, 0], "gy": gi[:, 1], "intensity": I})


@lru_cache(maxsize=None)
def _zone_reflections(phase: str, zone: tuple, d_min: float, rel: float):
    st = phase_structure(phase)
    u = np.asarray(zone)
    n = int(np.ceil(max(st.lattice.abc) / d_min)) + 1
    hkl = np.stack(np.meshgrid(*[np.arange(-n, n + 1)] * 3, indexing="ij"), -1).reshape(-1, 3)
    hkl = hkl[(hkl @ u == 0) & np.any(hkl != 0, axis=1)]
    B = st.lattice.reciprocal_lattice_crystallographic.matrix      # rows a*, b*, c* (no 2 pi)
    g = hkl @ B
    gn = np.linalg.norm(g, axis=1)
    keep = 1 / gn >= d_min
    hkl, g, gn = hkl[keep], g[keep], gn[keep]
    z = np.array([s.specie.Z for s in st], float)
    phase = np.exp(2j * np.pi * hkl @ st.frac_coords.T)
    F = (phase * z[None, :]).sum(1)               # Z as a stand-in form factor: extinctions right
    I = np.abs(F) ** 2
    sel = I > rel * I.max()
    return hkl[sel], g[sel], 1 / gn[sel], I[sel] / I.max()


@dataclass
class Specimen:
    image: np.ndarray
    pixel: float
    particles: list


def make_specimen(size_px: int, seed: int, pixel: float = PIXEL_002, n_particles: int | None = None,
                  phases=None, dose: float = 40.0, amorphous_density: float = 0.06,
                  probe: Probe = Probe(sigma=0.35, lorentz_ratio=0.0, radius=1.4)) -> Specimen:
    """Spherical nanoparticles of random phase, low-index zone axis and in-plane rotation on an
    amorphous carbon film (random atoms, ``amorphous_density`` per Å^2), convolution-approximation
    image with Poisson noise at ``dose`` counts on the brightest column."""
    rng = np.random.default_rng(seed)
    L = size_px * pixel
    names = list(phases or PHASES)
    n = n_particles if n_particles is not None else max(1, int(round((L / 90) ** 2 * 1.5)))
    parts, xy_all, w_all = [], [], []
    tries = 0
    while len(parts) < n and tries < 200:
        tries += 1
        r = rng.uniform(25, 45)
        c = rng.uniform(r, L - r, 2)
        if any(np.hypot(*(c - q.centre)) < r + q.radius + 5 for q in parts):
            continue
        ph = names[int(rng.integers(len(names)))]
        zones = ZONES[PHASES[ph].system]
        parts.append(make_particle(ph, zones[int(rng.integers(len(zones)))], c, r, rng.uniform(0, 360)))
    for q in parts:
        xy, w = particle_atoms(q)
        xy_all.append(xy)
        w_all.append(w)
    m = rng.poisson(amorphous_density * L * L)
    xy_all.append(rng.uniform(0, L, (m, 2)))
    w_all.append(np.full(m, 6.0 ** Z_POWER))
    img = render_columns(np.concatenate(xy_all), np.concatenate(w_all), (size_px, size_px), pixel, probe)
    img = img / np.percentile(img, 99.9)
    img = rng.poisson(np.clip(img, 0, None) * dose).astype(np.float32)
    return Specimen(img, pixel, parts)


# ------------------------------------------------------------------ windows and spots

def windows(image: np.ndarray, size: int, stride: int | None = None):
    """(row, col, window) of the moving window: top-left corners every ``stride`` pixels."""
    img = np.asarray(image)
    if img.ndim != 2:
        raise ValueError(f"expected a 2D image, got shape {img.shape}")
    # the grid of the grain analysis, without its extra row and column at the edges (the
    # document's windows)
    for r, c in window_origins(img.shape, size, stride or size // 2, cover_edges=False):
        yield r, c, img[r:r + size, c:c + size]


def log_spectrum(window: np.ndarray, crop: int | None = None) -> np.ndarray:
    """log(1 + |FFT|) of a Hann-tapered window, zero frequency at the centre, standardised;
    the central ``crop`` x ``crop`` part when given."""
    w = np.asarray(window, dtype=float)
    w = (w - w.mean()) * np.outer(np.hanning(w.shape[0]), np.hanning(w.shape[1]))
    s = np.log1p(np.abs(np.fft.fftshift(np.fft.fft2(w))))
    if crop:
        c0, c1 = s.shape[0] // 2 - crop // 2, s.shape[1] // 2 - crop // 2
        s = s[c0:c0 + crop, c1:c1 + crop]
    return ((s - s.mean()) / max(s.std(), 1e-9)).astype(np.float32)


def spot_mask(spots: pd.DataFrame, crop: int, fft_px: int, pixel: float, radius: float = 2.0) -> np.ndarray:
    """Target of the spot-binarising network: disks at the reflections' FFT positions."""
    m = np.zeros((crop, crop), np.int64)
    yy, xx = np.mgrid[0:crop, 0:crop]
    c = crop // 2
    for gx, gy in spots[["gx", "gy"]].to_numpy():
        x, y = c + gx * fft_px * pixel, c + gy * fft_px * pixel
        m[np.hypot(xx - x, yy - y) <= radius] = 1
    return m


def peaks_plain(spec_img: np.ndarray, k: float = 4.0, r_min: float = 4.0, size: int = 5) -> np.ndarray:
    """Spots by plain peak finding on a standardised log spectrum: local maxima above the
    local background (a wide median) by ``k`` standard deviations, outside radius ``r_min``;
    [n, 2] (x, y) relative to the centre."""
    s = np.asarray(spec_img, float)
    bg = ndimage.median_filter(s, size=15)
    r = s - bg
    thr = k * r.std()
    mx = ndimage.maximum_filter(r, size=size)
    yy, xx = np.nonzero((r == mx) & (r > thr))
    ok = (yy > 0) & (xx > 0) & (yy < s.shape[0] - 1) & (xx < s.shape[1] - 1)
    yy, xx = yy[ok], xx[ok]
    c = s.shape[0] // 2
    xy = np.stack([xx - c + parabola_offset(s[yy, xx - 1], s[yy, xx], s[yy, xx + 1]),
                   yy - c + parabola_offset(s[yy - 1, xx], s[yy, xx], s[yy + 1, xx])], 1)
    return xy[np.hypot(*xy.T) >= r_min] if len(xy) else np.zeros((0, 2))


def peaks_from_mask(mask: np.ndarray, r_min: float = 4.0) -> np.ndarray:
    """Centroids of the binarised spots, (x, y) relative to the centre."""
    lab, n = ndimage.label(np.asarray(mask) > 0)
    if n == 0:
        return np.zeros((0, 2))
    cy, cx = np.array(ndimage.center_of_mass(np.ones_like(lab), lab, np.arange(1, n + 1))).reshape(-1, 2).T
    c = mask.shape[0] // 2
    xy = np.stack([cx - c, cy - c], 1)
    return xy[np.hypot(*xy.T) >= r_min]


def window_truth(parts, r: int, c: int, size: int, pixel: float, min_cover: float = 0.25) -> pd.DataFrame:
    """Reflections of every particle covering at least ``min_cover`` of the window."""
    rows = []
    y0, x0 = r * pixel, c * pixel
    L = size * pixel
    g = np.linspace(0, L, 24)
    X, Y = np.meshgrid(x0 + g, y0 + g)
    for k, p in enumerate(parts):
        cover = (np.hypot(X - p.centre[0], Y - p.centre[1]) < p.radius).mean()
        if cover >= min_cover:
            z = zone_spots(p)
            z["particle"], z["phase"] = k, p.phase
            rows.append(z)
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=["h", "k", "l", "d", "gx", "gy", "intensity", "particle", "phase"])


def score_spots(found_xy: np.ndarray, truth: pd.DataFrame, fft_px: int, pixel: float, tol: float = 2.5) -> dict:
    """Match found spots to true reflections (within ``tol`` FFT pixels): counts and the
    spacing errors (pm) of the matches."""
    tx = truth[["gx", "gy"]].to_numpy() * fft_px * pixel if len(truth) else np.zeros((0, 2))
    found_xy = np.asarray(found_xy, float).reshape(-1, 2)
    if len(found_xy) == 0 or len(tx) == 0:
        return {"found": len(found_xy), "true": len(tx), "matched": 0, "found_matched": 0,
                "errors_pm": np.zeros(0)}
    d = np.hypot(found_xy[:, None, 0] - tx[None, :, 0], found_xy[:, None, 1] - tx[None, :, 1])
    j = d.argmin(1)
    ok = d[np.arange(len(found_xy)), j] < tol
    meas = spacing_from_pixels(np.hypot(*found_xy[ok].T), fft_px, pixel)
    err = 100 * (meas - truth["d"].to_numpy()[j[ok]])
    return {"found": len(found_xy), "true": len(tx), "matched": int(len(set(j[ok]))),
            "found_matched": int(ok.sum()), "errors_pm": err}


def survey_windows(specimens, size: int, crop: int, stride: int | None = None) -> tuple[np.ndarray, list]:
    """Standardised log spectra [n, 1, crop, crop] of every moving window of ``specimens`` and a
    record per window (specimen, row, col, true reflections inside the crop)."""
    X, recs = [], []
    for k, sp in enumerate(specimens):
        for r, c, w in windows(sp.image, size, stride):
            tr = window_truth(sp.particles, r, c, size, sp.pixel)
            tr = tr[tr["d"] >= size * sp.pixel / (crop / 2 - 2)].reset_index(drop=True)
            X.append(log_spectrum(w, crop))
            recs.append({"specimen": k, "row": r, "col": c, "truth": tr,
                         "phase": tr["phase"].mode().iloc[0] if len(tr) else None})
    return np.array(X, np.float32).reshape(-1, 1, crop, crop), recs


def training_windows(n: int, size: int, crop: int, seed: int, image_px: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """(spectra, spot masks) of ``n`` windows drawn from fresh training specimens."""
    X, Y = [], []
    k = 0
    while len(X) < n:
        sp = make_specimen(image_px, seed=seed + k)
        k += 1
        Xs, recs = survey_windows([sp], size, crop, stride=size // 2)
        for x, rec in zip(Xs, recs):
            X.append(x)
            Y.append(spot_mask(rec["truth"], crop, size, sp.pixel))
    return np.array(X[:n], np.float32), np.array(Y[:n], np.int64)


def plane_family(phase: str, d: float, tol: float = 0.01, max_index: int = 6) -> np.ndarray:
    """Every (h k l) of ``phase`` with spacing within a relative ``tol`` of ``d`` Å [n, 3]."""
    st = phase_structure(phase)
    r = np.arange(-max_index, max_index + 1)
    hkl = np.stack(np.meshgrid(r, r, r, indexing="ij"), -1).reshape(-1, 3)
    hkl = hkl[np.any(hkl != 0, axis=1)]
    dd = 1 / np.linalg.norm(hkl @ st.lattice.reciprocal_lattice_crystallographic.matrix, axis=1)
    return hkl[np.abs(dd / d - 1) < tol]


def index_pair(phase: str, d1: float, d2: float, angle: float, tol: float = 0.03) -> dict:
    """Index two measured spots (spacings d1, d2 in Å, angle between them in degrees) against
    ``phase``: the pair of planes from the nearest d-spacing families whose interplanar angle
    (metric tensor) is closest to ``angle``."""
    cand = candidate_spacings(phase)["d"].to_numpy()
    if len(cand) == 0:
        return {"hkl1": None, "hkl2": None, "angle_theory": np.nan, "angle_error": np.nan}
    A = phase_structure(phase).lattice.matrix
    fam = []
    for d in (d1, d2):
        k = np.argmin(np.abs(cand / d - 1))
        if abs(cand[k] / d - 1) > tol:
            return {"hkl1": None, "hkl2": None, "angle_theory": np.nan, "angle_error": np.nan}
        fam.append(plane_family(phase, cand[k]))
    best = (np.inf, None, None, np.nan)
    for h1 in fam[0][:48]:
        for h2 in fam[1][:48]:
            if np.all(np.cross(h1, h2) == 0):
                continue
            t = angle_general(A, h1, h2)
            e = abs(t - angle)
            if e < best[0]:
                best = (e, tuple(int(v) for v in h1), tuple(int(v) for v in h2), t)
    return {"hkl1": best[1], "hkl2": best[2], "angle_theory": best[3], "angle_error": best[0]}


def pair_of_spots(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """The two shortest non-collinear spot vectors (FFT pixels), or None."""
    xy = np.asarray(xy, float).reshape(-1, 2)
    if len(xy) < 2:
        return None
    o = np.argsort(np.hypot(*xy.T))
    v1 = xy[o[0]]
    for k in o[1:]:
        v = xy[k]
        s = abs(v1[0] * v[1] - v1[1] * v[0]) / (np.linalg.norm(v1) * np.linalg.norm(v))
        if s > 0.2:
            return v1, v
    return None
