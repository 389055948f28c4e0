"""ADF-STEM images by the convolution approximation (paper section 2.1).

I(r) = sum_i Z_i^1.7 delta(r - r_i)  (x)  PSF(r), with jarvis-tools' STEMConv probe
(Gaussian width 0.5 A + 0.5 x Lorentzian of width 0.5 A), 256 x 256 pixels at 0.1 A/px
(2.56 nm field of view), min-max normalised.

Array convention used everywhere in this repository: ``image[row, col]`` with
row = Cartesian y and col = Cartesian x, so ``imshow(image, origin="lower")`` shows the
layer as seen down -z with a along +x. (STEMConv itself returns ``[x, y]``.)
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ..core.profiles import STEM_IMAGE_PX, STEM_PX_SCALE

__all__ = ["MAX_STEM_ATOMS", "MAX_STEM_GRID_PX", "StemInputError", "StemParams", "check_stem_size",
           "simulate_stem_image", "normalise", "to_uint8"]

# STEMConv tiles the cell (3 x the cells that span the field, in a and in b) before it draws: a
# 2.46 Å cell of 2 atoms at the paper's 25.6 Å field is about 2,200 atoms, a 20-atom 6 Å cell at
# twice that field about 15,000. A cell that asks for more than a million (about 50 MB) is no
# crystal (one atom in a 0.01 Å cell asks for 59 million, 2.6 GiB) and is refused before any
# atom is placed.
MAX_STEM_ATOMS = 1_000_000
# side of the padded grid the probe is convolved on (the image plus 5 Å of margin each side):
# 356 px at the paper's settings
MAX_STEM_GRID_PX = 4096


class StemInputError(ValueError):
    """A structure or setting the simulation refuses; the message names it and says why."""


@dataclass(frozen=True)
class StemParams:
    """Settings of the ADF-STEM simulation (jarvis-tools' ``STEMConv``); the paper's by default.

    Attributes:
        image_px: side of the square image (px).
        px_scale: pixel size (Å per pixel).
        power_factor: exponent of the atomic number: an atom's intensity ~ Z^power_factor.
        gaussian_width: standard deviation of the probe's Gaussian (Å).
        lorentzian_width: full width at half maximum of the probe's Lorentzian (Å); STEMConv
            evaluates the probe out to 4 times this radius.
        intensity_ratio: the Lorentzian's peak height relative to the Gaussian's.
        eps: margin (Å) beyond the field of view within which atoms are still drawn.
    """
    image_px: int = STEM_IMAGE_PX
    px_scale: float = STEM_PX_SCALE   # A / pixel
    power_factor: float = 1.7
    gaussian_width: float = 0.5
    lorentzian_width: float = 0.5
    intensity_ratio: float = 0.5
    eps: float = 0.6

    def as_dict(self) -> dict:
        """The settings as a plain dict (e.g. for a cache key or a record)."""
        return asdict(self)


def check_stem_size(atoms, params: StemParams, name: str = "") -> int:
    """The number of atoms STEMConv would place for ``atoms`` at ``params``; ``StemInputError``
    naming the structure when that, or the padded image grid, exceeds the bounds above.

    Args:
        atoms: a jarvis ``Atoms`` (its in-plane lattice vectors in Å and its elements are read).
        params: the simulation settings.
        name: the structure's name, for the error messages.

    Returns:
        The number of atoms STEMConv would tile (3 x the cells that span the field, in a and b).

    Raises:
        StemInputError: a non-positive pixel or image size, a padded grid larger than
            ``MAX_STEM_GRID_PX``, in-plane lattice vectors of zero or non-finite length, or more
            than ``MAX_STEM_ATOMS`` atoms.
    """
    who = f"{name}: " if name else ""
    px, n_px = float(params.px_scale), int(params.image_px)
    if not (np.isfinite(px) and px > 0) or n_px < 1:
        raise StemInputError(f"{who}pixel size {params.px_scale!r} Å and image size {params.image_px!r} px "
                             "must be positive")
    grid = n_px + 2 * int(np.ceil(5 / px))
    if grid > MAX_STEM_GRID_PX:
        raise StemInputError(f"{who}{n_px} px at {px:g} Å/px needs a {grid} x {grid} px grid, more "
                             f"than {MAX_STEM_GRID_PX}; not simulated")
    ab = np.linalg.norm(np.asarray(atoms.lattice_mat, dtype=float)[:2], axis=1)
    if not (np.all(np.isfinite(ab)) and np.all(ab > 0)):
        raise StemInputError(f"{who}in-plane lattice vectors of length {ab[0]:.3g} and {ab[1]:.3g} Å")
    view = px * (n_px - 1)
    cells = np.floor(view / ab) + 1                   # as STEMConv counts them
    n = float(9 * cells[0] * cells[1] * len(atoms.elements))
    if n > MAX_STEM_ATOMS:
        raise StemInputError(f"{who}a {ab[0]:.3g} x {ab[1]:.3g} Å cell of {len(atoms.elements)} atom(s) "
                             f"would be tiled into {n:.3g} atoms to fill the {view:.3g} Å field, more "
                             f"than {MAX_STEM_ATOMS:,}; not simulated")
    return int(n)


def simulate_stem_image(atoms, params: StemParams = StemParams(), rot: float = 0.0,
                        shift=(0.0, 0.0), name: str = "") -> np.ndarray:
    """Simulated ADF-STEM image of an oriented layer (jarvis ``Atoms``, a x b along z), float64
    normalised to [0, 1], indexed ``[y, x]``.

    Args:
        atoms: the oriented layer (jarvis ``Atoms``, a x b along z; ``lattice2d.orient_layer``).
        params: the simulation settings.
        rot: rotation of the lattice in the field of view (degrees), as STEMConv does it.
        shift: (dx, dy) translation of the lattice in the field of view (Å), as STEMConv does it.
        name: the structure's name, for the error messages.

    Returns:
        float64 [image_px, image_px] image, min-max normalised to [0, 1], indexed ``[y, x]``.

    Raises:
        StemInputError: naming ``name``, for a cell that would be tiled into more than
            ``MAX_STEM_ATOMS`` atoms or settings ``check_stem_size`` refuses; checked before any atom
            is placed.
    """
    from jarvis.analysis.stem.convolution_apprx import STEMConv

    check_stem_size(atoms, params, name)
    conv = STEMConv(
        output_size=[params.image_px, params.image_px],
        power_factor=params.power_factor,
        gaussian_width=params.gaussian_width,
        lorentzian_width=params.lorentzian_width,
        intensity_ratio=params.intensity_ratio,
    )
    raw = conv.simulate_surface(atoms, px_scale=params.px_scale, eps=params.eps,
                                rot=rot, shift=list(shift))[0]
    return normalise(raw.T)


def normalise(image: np.ndarray) -> np.ndarray:
    """Min-max to [0, 1]; a flat image becomes zeros rather than NaN.

    Args:
        image: array of any shape and real dtype.

    Returns:
        float64 array of the same shape in [0, 1]; all zeros when the image is flat or its minimum
        or maximum is not finite.
    """
    img = np.asarray(image, dtype=np.float64)
    lo, hi = float(img.min()), float(img.max())
    if not np.isfinite(lo) or not np.isfinite(hi) or hi - lo <= 0:
        return np.zeros_like(img)
    return (img - lo) / (hi - lo)


def to_uint8(image: np.ndarray) -> np.ndarray:
    """An image in [0, 1] as 8-bit grey levels: rounded x 255, clipped to 0-255.

    Args:
        image: float array in [0, 1] (values outside are clipped), any shape.

    Returns:
        uint8 array of the same shape.
    """
    return np.clip(np.rint(np.asarray(image) * 255.0), 0, 255).astype(np.uint8)
