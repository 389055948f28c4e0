"""Degrade a simulated image the way real ones are: finite electron dose (Poisson shot noise),
scan distortion (the fast and slow scan axes calibrated differently, and not quite
orthogonal) and drift during the frame (rows shifted progressively)."""
from __future__ import annotations

import numpy as np
from scipy import ndimage

__all__ = ["shot_noise", "scan_distortion", "drift"]


def shot_noise(image: np.ndarray, dose: float, rng: np.random.Generator) -> np.ndarray:
    """Poisson counts with ``dose`` electrons per pixel at the brightest intensity (image in [0, 1]).

    Args:
        image: noiseless image, float [H, W] in [0, 1] (negative values count as 0).
        dose: electrons per pixel at intensity 1.
        rng: the random generator.

    Returns:
        float64 [H, W]: the counts divided by ``dose``, so on the input's intensity scale.

    Raises:
        ValueError: ``dose`` is not positive.
    """
    if dose <= 0:
        raise ValueError(f"dose must be positive, got {dose}")
    return rng.poisson(np.clip(image, 0, None) * dose) / dose


def scan_distortion(image: np.ndarray, stretch: float = 0.0, shear: float = 0.0) -> np.ndarray:
    """y (slow axis) stretched by ``1 + stretch`` and sheared by ``shear`` (x += shear * y),
    about the image centre; both are fractions (0.02 = 2 %).

    Linear interpolation; the image is reflected at its edges.

    Args:
        image: 2D image [H, W] (rows = y).
        stretch: relative stretch of the slow (y) axis.
        shear: shear, x displacement per unit of y.

    Returns:
        The distorted image, [H, W], the input's dtype.
    """
    m = np.array([[1.0 + stretch, 0.0], [shear, 1.0]])     # (y, x) <- (y', x') forward map
    inv = np.linalg.inv(m)
    c = (np.array(image.shape) - 1) / 2.0
    return ndimage.affine_transform(image, inv, offset=c - inv @ c, order=1, mode="reflect")


def drift(image: np.ndarray, total_px: float) -> np.ndarray:
    """Each row shifted along x in proportion to its scan time, ``total_px`` over the frame.

    Row y moves by ``total_px`` y / (H - 1) (the first row stays, the last moves by ``total_px``);
    linear interpolation, reflected at the edges.

    Args:
        image: 2D image [H, W] (rows = y; row 0 is scanned first).
        total_px: shift of the last row along +x (px).

    Returns:
        float64 [H, W] drifted image.
    """
    ny = image.shape[0]
    out = np.empty_like(image, dtype=float)
    for y in range(ny):
        out[y] = ndimage.shift(image[y].astype(float), total_px * y / max(ny - 1, 1), order=1,
                               mode="reflect")
    return out
