"""The specimen of notebook 17 (Zhu et al., HRTEM nanoparticles): spherical nanoparticles of the
candidate phases on an amorphous carbon film, each in a low-index zone axis, imaged in the
convolution approximation; its ground truth, the reflections of every particle and of every
window. The analysis (moving-window FFT, spot finding, phase identification) is
``fft_windows``."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from ..simulate.columns import Z_POWER, Probe, render_columns
from .phases import PHASES, ZONES, phase_structure

__all__ = ["PIXEL_002", "Particle", "particle_atoms", "make_particle", "zone_spots", "Specimen", "make_specimen",
           "spot_mask", "window_truth"]

PIXEL_002 = 0.16765363      # Å per pixel: the document's example (256 px <-> 1/0.016765363 nm^-1)


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
    """One spherical nanoparticle of the specimen.

    Attributes:
        phase: its phase (a key of ``phases.PHASES``).
        zone: the zone axis [u v w] along the beam.
        centre: (x, y) of its centre in the image (Å).
        radius: its radius (Å).
        rotation: in-plane rotation about the beam (degrees).
        frame: 3 x 3 rotation taking the cell's Cartesian frame into the image frame (beam along z).
    """
    phase: str
    zone: tuple
    centre: tuple            # Å
    radius: float            # Å
    rotation: float          # in-plane, degrees
    frame: np.ndarray        # 3 x 3: rotation of the cell into the image frame (beam along z)


def particle_atoms(p: Particle) -> tuple[np.ndarray, np.ndarray]:
    """Projected positions (Å, image frame) and ADF weights (Z^1.7) of a spherical particle.

    Args:
        p: the particle.

    Returns:
        (positions [n, 2], (x, y) in Å in the image; weights [n], Z^1.7 of each atom).
    """
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
    """A particle of ``phase`` seen along ``zone``, turned by ``rotation`` about the beam.

    Args:
        phase: the phase (a key of ``phases.PHASES``).
        zone: the zone axis [u v w] (the direction u a + v b + w c is put along the beam).
        centre: (x, y) of its centre in the image (Å).
        radius: its radius (Å).
        rotation: in-plane rotation about the beam (degrees).

    Returns:
        The ``Particle``.

    Raises:
        KeyError: ``phase`` is not a key of ``phases.PHASES``.
    """
    st = phase_structure(phase)
    beam = np.asarray(zone, float) @ st.lattice.matrix
    rot = _rotation_to_z(beam)
    t = np.radians(rotation)
    inplane = np.array([[np.cos(t), -np.sin(t), 0], [np.sin(t), np.cos(t), 0], [0, 0, 1]])
    return Particle(phase, tuple(int(v) for v in zone), tuple(centre), radius, rotation, inplane @ rot)


def zone_spots(p: Particle, d_min: float = 1.0, rel: float = 0.02) -> pd.DataFrame:
    """The particle's reflections in its zone (h u + k v + l w = 0), with |F|^2 above ``rel`` of
    the strongest: Miller indices, spacing d (Å), and the in-plane reciprocal vector (1/Å).

    |F|^2 is kinematic with Z as the form factor (the extinctions are right, the intensities
    rough); reciprocal vectors carry no factor 2 pi (|g| = 1 / d).

    Args:
        p: the particle.
        d_min: smallest spacing kept (Å).
        rel: smallest |F|^2 kept, as a share of the strongest.

    Returns:
        DataFrame, one row per reflection: ``h``, ``k``, ``l``, ``d`` (Å), ``gx``, ``gy`` (1/Å, in
        the image frame), ``intensity`` (|F|^2 over the strongest's).
    """
    hkl, g, d, intensity = _zone_reflections(p.phase, p.zone, d_min, rel)
    gi = g @ p.frame.T
    return pd.DataFrame({"h": hkl[:, 0], "k": hkl[:, 1], "l": hkl[:, 2], "d": d,
                         "gx": gi[:, 0], "gy": gi[:, 1], "intensity": intensity})


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
    intensity = np.abs(F) ** 2
    sel = intensity > rel * intensity.max()
    return hkl[sel], g[sel], 1 / gn[sel], intensity[sel] / intensity.max()


@dataclass
class Specimen:
    """The simulated nanoparticle image of notebook 17 and its truth.

    Attributes:
        image: float32 [size_px, size_px], counts.
        pixel: pixel size (Å per pixel).
        particles: the ``Particle`` list (the truth).
    """
    image: np.ndarray
    pixel: float
    particles: list


def make_specimen(size_px: int, seed: int, pixel: float = PIXEL_002, n_particles: int | None = None,
                  phases=None, dose: float = 40.0, amorphous_density: float = 0.06,
                  probe: Probe = Probe(sigma=0.35, lorentz_ratio=0.0, radius=1.4)) -> Specimen:
    """Spherical nanoparticles of random phase, low-index zone axis and in-plane rotation on an
    amorphous carbon film (random atoms, ``amorphous_density`` per Å^2), convolution-approximation
    image with Poisson noise at ``dose`` counts on the brightest column.

    Particles have radii of 25-45 Å, lie inside the image and keep 5 Å apart (at most 200
    placements are tried, so fewer may result). The "brightest column" is the image's 99.9th
    percentile, which is scaled to 1 before the noise.

    Args:
        size_px: image side (pixels).
        seed: seed of the random draws.
        pixel: pixel size (Å per pixel).
        n_particles: number of particles; None: about 1.5 per (90 Å)^2 of image, at least one.
        phases: names of the phases drawn from (keys of ``phases.PHASES``); None: all.
        dose: counts at the 99.9th percentile of the clean image.
        amorphous_density: carbon atoms per Å^2 of the film.
        probe: the probe (sizes in Å).

    Returns:
        The ``Specimen``.
    """
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


def spot_mask(spots: pd.DataFrame, crop: int, fft_px: int, pixel: float, radius: float = 2.0) -> np.ndarray:
    """Target of the spot-binarising network: disks at the reflections' FFT positions.

    A reflection g (1/Å) lies g ``fft_px`` ``pixel`` FFT pixels from the centre.

    Args:
        spots: reflections with ``gx``, ``gy`` (1/Å), as ``zone_spots`` or ``window_truth`` give.
        crop: side of the (central crop of the) spectrum (pixels).
        fft_px: side of the window the FFT is taken of (pixels).
        pixel: pixel size of the image (Å per pixel).
        radius: radius of each disk (FFT pixels).

    Returns:
        int64 mask [crop, crop], 1 on the spots, 0 elsewhere.
    """
    m = np.zeros((crop, crop), np.int64)
    yy, xx = np.mgrid[0:crop, 0:crop]
    c = crop // 2
    for gx, gy in spots[["gx", "gy"]].to_numpy():
        x, y = c + gx * fft_px * pixel, c + gy * fft_px * pixel
        m[np.hypot(xx - x, yy - y) <= radius] = 1
    return m


def window_truth(parts, r: int, c: int, size: int, pixel: float, min_cover: float = 0.25) -> pd.DataFrame:
    """Reflections of every particle covering at least ``min_cover`` of the window.

    The cover is the share of a 24 x 24 grid of points over the window that lie inside the
    particle.

    Args:
        parts: the specimen's particles.
        r: the window's top row (pixels).
        c: the window's left column (pixels).
        size: window side (pixels).
        pixel: pixel size (Å per pixel).
        min_cover: smallest share of the window a particle must cover (0-1).

    Returns:
        DataFrame of the reflections (columns of ``zone_spots``, then ``particle``, the particle's
        index, and ``phase``); empty with those columns when no particle covers the window.
    """
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
    return (pd.concat(rows, ignore_index=True) if rows
            else pd.DataFrame(columns=["h", "k", "l", "d", "gx", "gy", "intensity", "particle", "phase"]))
