"""Atomic columns as images and back: the convolution approximation with an analytic probe
(exact at sub-pixel positions, which the picometre studies need), and 2D Gaussian fits.

Array convention as ``stem``: ``image[row, col]``, row = y, col = x; pixel (r, c) is centred
at (c * px, r * px) in Å."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares

__all__ = ["Z_POWER", "Probe", "check_positions", "render_columns", "fit_gaussian", "fit_columns"]

Z_POWER = 1.7      # ADF intensity of an atom ~ Z^1.7 (as stem.StemParams.power_factor)


@dataclass(frozen=True)
class Probe:
    """An analytic ADF-STEM probe: a Gaussian core plus a weak Lorentzian tail, peak 1 + ``lorentz_ratio``.

    Attributes:
        sigma: standard deviation of the Gaussian core (Å).
        lorentz_gamma: width of the Lorentzian tail, its half width at half maximum (Å).
        lorentz_ratio: tail height relative to the core.
        radius: the probe is evaluated out to this distance (Å).
    """
    sigma: float = 0.40          # Å, Gaussian core
    lorentz_gamma: float = 0.5   # Å, tail width
    lorentz_ratio: float = 0.05  # tail height relative to the core
    radius: float = 2.0          # Å, evaluated out to this distance

    def profile(self, d: np.ndarray) -> np.ndarray:
        """Probe intensity at distances ``d`` (Å) from its centre: exp(-d^2 / 2 sigma^2) + ratio x Lorentzian."""
        g2 = self.lorentz_gamma ** 2
        return np.exp(-d ** 2 / (2 * self.sigma ** 2)) + self.lorentz_ratio * g2 / (d ** 2 + g2)


def check_positions(xy, weights=None, name: str = "positions") -> tuple[np.ndarray, np.ndarray | None]:
    """Column positions (and weights) as arrays, checked.

    Args:
        xy: [n, 2] positions (x, y; Å, or pixels where the caller works in pixels).
        weights: n weights (any shape with n values), or None.
        name: what the positions are, for the error messages.

    Returns:
        (xy, weights): float [n, 2] and float [n] (None when ``weights`` is None).

    Raises:
        ValueError: naming ``name``, when ``xy`` is not [n, 2], holds NaN or inf, or the number of
            weights differs from n.
    """
    xy = np.asarray(xy, dtype=float)
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise ValueError(f"{name}: expected an array of shape [n, 2] (x, y in Å), got {xy.shape}")
    if not np.isfinite(xy).all():
        raise ValueError(f"{name}: contains NaN or infinite coordinates")
    if weights is None:
        return xy, None
    w = np.asarray(weights, dtype=float).ravel()
    if len(w) != len(xy):
        raise ValueError(f"{name}: {len(xy)} positions but {len(w)} weights")
    return xy, w


def render_columns(xy, weights, shape, px: float, probe: Probe = Probe(),
                   chunk: int = 4096) -> np.ndarray:
    """Float image [H, W]: sum over columns of weight x probe(|r - r_i|) (no normalisation).

    Pixel (r, c) is centred at (c * px, r * px) Å; each column is evaluated out to
    ``probe.radius`` exactly at its sub-pixel position.

    Args:
        xy: [n, 2] column positions (x, y; Å).
        weights: n column weights (e.g. the summed Z^``Z_POWER`` of the column's atoms).
        shape: (H, W) of the image (px).
        px: pixel size (Å per pixel).
        probe: the probe.
        chunk: columns rendered per vectorised step (memory bound).

    Returns:
        float64 [H, W] image, in units of the weights.

    Raises:
        ValueError: bad positions or weights (``check_positions``).
    """
    xy, w = check_positions(xy, weights)
    H, W = shape
    img = np.zeros(H * W)
    R = int(np.ceil(probe.radius / px))
    off = np.arange(-R, R + 1)
    for s in range(0, len(xy), chunk):
        x, y, ww = xy[s:s + chunk, 0] / px, xy[s:s + chunk, 1] / px, w[s:s + chunk]
        ix = np.rint(x).astype(int)[:, None, None] + off[None, None, :]
        iy = np.rint(y).astype(int)[:, None, None] + off[None, :, None]
        d = np.hypot(ix - x[:, None, None], iy - y[:, None, None]) * px
        val = ww[:, None, None] * probe.profile(d)
        ok = (ix >= 0) & (ix < W) & (iy >= 0) & (iy < H)
        np.add.at(img, (iy * W + ix)[ok], val[ok])
    return img.reshape(H, W)


def fit_gaussian(image: np.ndarray, x0: float, y0: float, half: int = 4) -> tuple[float, float, float]:
    """(x, y, amplitude) of a 2D Gaussian + constant fitted to the (2 half + 1)^2 window around
    the pixel nearest (x0, y0); NaN if the window leaves the image.

    Args:
        image: 2D image [H, W] (rows = y).
        x0: guessed column position along x (px, column index).
        y0: guessed position along y (px, row index).
        half: half-width of the fitted window (px).

    Returns:
        (x, y, amplitude): the fitted centre in pixels (x = column, y = row) and the Gaussian's
        amplitude above the constant, in image intensity units.
    """
    img = np.asarray(image, dtype=float)
    cx, cy = int(round(x0)), int(round(y0))
    if cx - half < 0 or cy - half < 0 or cx + half >= img.shape[1] or cy + half >= img.shape[0]:
        return float("nan"), float("nan"), float("nan")
    win = img[cy - half:cy + half + 1, cx - half:cx + half + 1]
    yy, xx = np.mgrid[-half:half + 1, -half:half + 1]
    lo, hi = float(win.min()), float(win.max())

    def resid(p):
        a, x, y, s, b = p
        return (a * np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * s * s)) + b - win).ravel()

    p0 = [hi - lo, x0 - cx, y0 - cy, half / 2.5, lo]
    fit = least_squares(resid, p0, bounds=([0, -half, -half, 0.3, -np.inf],
                                           [np.inf, half, half, 2.0 * half, np.inf]))
    a, x, y, _, _ = fit.x
    return cx + float(x), cy + float(y), float(a)


def fit_columns(image: np.ndarray, xy_px, half: int = 4) -> np.ndarray:
    """Refined positions [n, 2] (pixels) of the columns near the guesses ``xy_px``.

    Args:
        image: 2D image [H, W] (rows = y).
        xy_px: [n, 2] guessed positions (x, y; px).
        half: half-width of each fitted window (px).

    Returns:
        float [n, 2] refined positions (x, y; px), NaN where a window leaves the image.

    Raises:
        ValueError: bad guesses (``check_positions``).
    """
    xy_px, _ = check_positions(xy_px, name="column guesses")
    return np.array([fit_gaussian(image, x, y, half)[:2] for x, y in xy_px]).reshape(-1, 2)
