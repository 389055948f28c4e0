"""Scan distortion measured on images: from a reference frame, from an orthogonal scan pair, and
an image resampled without it (``scan_distortion`` holds the measurements on lattices).

- ``calibrate``: the grain analysis of a frame of a known lattice (graphene, or a given cell),
  and the distortion that maps that cell onto it, scale included.
- ``analyse_orthogonal_pair``: frames 0 and 90 of one area; frame 90 is turned back
  (``np.rot90``), both are analysed, their lattices give frame 0's linear drift, frame 0's
  lattices carry their corrected cells, and frame 0 is resampled without the drift and analysed
  again: the lattice measured on the corrected image.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from .grains import GrainAnalysis, analyse_image, with_distortion
from .scan_distortion import NotMeasurable, ScanDistortion, from_orthogonal_pair, from_reference

__all__ = ["OrthogonalPair", "calibrate", "undistorted_image", "analyse_orthogonal_pair"]


def _basis_and_cov(analysis: GrainAnalysis, name: str) -> tuple[np.ndarray, np.ndarray]:
    lat = analysis.answer
    if lat is None or lat.label < 0 or not lat.reliable:
        reason = lat.reason if lat is not None else "no lattice"
        raise NotMeasurable(f"{name}: no reliable lattice to measure the distortion from ({reason})")
    return np.array([lat.a_vec, lat.b_vec]), np.array(lat.basis_cov)


def calibrate(image: np.ndarray, pixel_size: float, cell: tuple, name: str = "reference",
              seed: int = 0) -> tuple[ScanDistortion, GrainAnalysis]:
    """The scan distortion of a frame of a known lattice.

    Args:
        image: the reference frame [H, W] (rows = y).
        pixel_size: its nominal pixel size (Å per pixel).
        cell: the reference's (a, b, gamma) (Å, Å, degrees).
        name: the reference's name, for messages and the distortion's ``detail``.
        seed: seed of the sampled errors.

    Returns:
        (the ``ScanDistortion``, source "calibration", scale included; the frame's grain analysis).

    Raises:
        NotMeasurable: the frame shows no reliable lattice, or not the given one.
        ValueError: an image no method can use.
    """
    analysis = analyse_image(image, pixel_size, seed=seed, name=name)
    basis, cov = _basis_and_cov(analysis, name)
    a, b, g = cell
    detail = f"reference {name} (a = {a:g}, b = {b:g} Å, γ = {g:g}°)"
    return from_reference(basis, cov, cell, seed=seed, detail=detail), analysis


def undistorted_image(image: np.ndarray, D: np.ndarray) -> np.ndarray:
    """``image`` resampled so that it shows the sample without the map ``D`` (about the centre).

    Pixels that fall outside the recorded frame are NaN (the estimator fills a few).

    Args:
        image: [H, W] image (rows = y).
        D: 2 x 2 map (x, y) from the sample to the image.

    Returns:
        float64 [H, W] image.
    """
    D = np.asarray(D, float)
    Dyx = D[::-1, ::-1]                      # the same map on (row, column) = (y, x)
    c = (np.array(image.shape, float) - 1) / 2
    return ndimage.affine_transform(np.asarray(image, float), Dyx, offset=c - Dyx @ c, order=3,
                                    mode="constant", cval=np.nan)


@dataclass
class OrthogonalPair:
    """The analysis of frames 0 and 90 of one area.

    Attributes:
        analysis: frame 0's grain analysis, its lattices carrying their cells corrected for the
            measured drift.
        distortion: frame 0's measured distortion (``drift`` holds u and w).
        on_corrected_image: the grain analysis of frame 0 resampled without the drift.
        frame_90: frame 90's grain analysis (turned back).
    """
    analysis: GrainAnalysis
    distortion: ScanDistortion
    on_corrected_image: GrainAnalysis
    frame_90: GrainAnalysis


def analyse_orthogonal_pair(image_0: np.ndarray, image_90: np.ndarray, pixel_size: float,
                            names: tuple = ("frame 0", "frame 90"), seed: int = 0) -> OrthogonalPair:
    """Frame 0's linear drift from two frames of one area scanned at 0 and 90 degrees.

    Args:
        image_0: the frame scanned at 0 degrees [H, W] (slow axis y).
        image_90: the frame scanned at 90 degrees, as recorded (the sample turned by 90 degrees;
            turned back here).
        pixel_size: the pixel size of both (Å per pixel).
        names: the two frames' names, for messages.
        seed: seed of the sampled errors.

    Returns:
        The ``OrthogonalPair``.

    Raises:
        ValueError: frame 90 turned back does not have frame 0's shape (the message names both).
        NotMeasurable: a frame shows no reliable lattice, or the two do not show one lattice.
    """
    turned = np.rot90(np.asarray(image_90))
    if turned.shape != np.shape(image_0):
        raise ValueError(f"{names[1]} ({image_90.shape[1]} x {image_90.shape[0]} px) turned by 90° is not "
                         f"the shape of {names[0]} ({np.shape(image_0)[1]} x {np.shape(image_0)[0]} px): "
                         "not an orthogonal pair of one area")
    a0 = analyse_image(image_0, pixel_size, seed=seed, name=names[0])
    a90 = analyse_image(turned, pixel_size, seed=seed, name=names[1])
    b0, c0 = _basis_and_cov(a0, names[0])
    b90, c90 = _basis_and_cov(a90, names[1])
    dist = from_orthogonal_pair(b0, c0, b90, c90, seed=seed)
    dist.detail = f"orthogonal pair {names[0]} / {names[1]}"
    D0 = np.eye(2) + np.outer(dist.drift["u"], [0.0, 1.0])
    again = analyse_image(undistorted_image(image_0, D0), pixel_size, seed=seed, name=f"{names[0]} corrected")
    return OrthogonalPair(with_distortion(a0, dist, seed), dist, again, a90)
