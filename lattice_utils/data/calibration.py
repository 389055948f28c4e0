"""Scan calibration files: the scan distortion measured on a reference frame
(``predict --calibrate``), written as JSON, read back with every field checked, and applied only
to images taken with the same pixel size and frame size.

The file holds the symmetric map S (sample -> image, scale included), the covariance of its
three entries (s_xx, s_xy, s_yy) for the uncertainty, the reference's name, SHA-256, cell and
material, and the reference's pixel size and shape (the scan geometry the calibration holds for).
The same inputs give the same bytes.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core import storage
from ..lattice.lattice2d import anisotropy
from ..lattice.scan_distortion import MAX_ANISOTROPY, MAX_SCALE_ERROR, N_DRAWS, ScanDistortion
from .real_images import PIXEL_SIZE_AGREEMENT, ExperimentalImage, ImageReadError, check_pixel_size

__all__ = ["FORMAT", "VERSION", "CalibrationError", "Calibration", "calibration_document", "write_calibration",
           "read_calibration", "check_applies"]

FORMAT = "lattice_utils scan calibration"
VERSION = 1


class CalibrationError(ValueError):
    """A calibration file that cannot be used, or one that does not fit an image (the message
    names the file, and the image where it is about one)."""


@dataclass
class Calibration:
    """A scan calibration read from a file.

    Attributes:
        name: the file's name.
        matrix: S, 2 x 2 (sample -> image, scale included).
        matrix_cov: 3 x 3 covariance of (s_xx, s_xy, s_yy).
        pixel_size: the reference's nominal pixel size (Å per pixel).
        shape: the reference's [H, W] in px.
        reference: the reference image's name.
        detail: what it was measured from, for people.
    """
    name: str
    matrix: np.ndarray
    matrix_cov: np.ndarray
    pixel_size: float
    shape: tuple
    reference: str
    detail: str

    def distortion(self, seed: int = 0) -> ScanDistortion:
        """The calibration as a ``ScanDistortion`` (draws from ``matrix_cov``).

        Args:
            seed: seed of the draws.

        Returns:
            The distortion, source "calibration".
        """
        s = self.matrix
        flat = np.random.default_rng(seed).multivariate_normal([s[0, 0], s[0, 1], s[1, 1]], self.matrix_cov,
                                                               N_DRAWS, check_valid="ignore")
        draws = np.stack([flat[:, [0, 1]], flat[:, [1, 2]]], axis=1)
        return ScanDistortion(s.copy(), draws, "calibration", f"calibration {self.name} ({self.detail})")


def calibration_document(distortion: ScanDistortion, reference: ExperimentalImage, cell: tuple,
                         material: str | None, reference_sha256: str = "") -> dict:
    """The JSON document of a calibration measured on ``reference``.

    Args:
        distortion: the measured distortion (``scan_correction.calibrate``).
        reference: the reference frame.
        cell: its true (a, b, gamma) (Å, Å, degrees).
        material: the material's name, or None for a given cell.
        reference_sha256: the reference file's SHA-256 ("" for an image not from a file).

    Returns:
        A JSON-ready dict.
    """
    d = distortion.draws
    entries = np.stack([d[:, 0, 0], d[:, 0, 1], d[:, 1, 1]], axis=1)
    return {"format": FORMAT, "version": VERSION, "reference": reference.name,
            "reference_sha256": reference_sha256, "material": material, "cell": [float(x) for x in cell],
            "pixel_size_A": float(reference.pixel_size), "shape": [int(x) for x in reference.data.shape],
            "matrix": distortion.matrix.tolist(), "matrix_cov": np.cov(entries.T).tolist(),
            "distortion": storage.strict(distortion.as_dict())}


def write_calibration(path, document: dict) -> Path:
    """Write a calibration document atomically as indented JSON (sorted keys: same inputs, same bytes).

    Args:
        path: the destination.
        document: ``calibration_document``'s dict.

    Returns:
        The path.
    """
    text = json.dumps(document, indent=2, sort_keys=True, allow_nan=False) + "\n"
    return storage.write_text(path, text)


def _matrix(value, shape: tuple, name: str, what: str) -> np.ndarray:
    try:
        arr = np.array(value, dtype=float)
    except (TypeError, ValueError):
        raise CalibrationError(f"{name}: {what} is not a {shape[0]} x {shape[1]} array of numbers") from None
    if arr.shape != shape or not np.all(np.isfinite(arr)):
        raise CalibrationError(f"{name}: {what} is not a {shape[0]} x {shape[1]} array of finite numbers")
    return arr


def read_calibration(path) -> Calibration:
    """Read and check a calibration file.

    Args:
        path: the file.

    Returns:
        The ``Calibration``.

    Raises:
        CalibrationError: naming the file: missing, not JSON, another format or version, or a
            field of the wrong type or out of range (S not symmetric positive definite, or more
            distorted than any scan; a pixel size or shape outside what an image can have).
    """
    path = Path(path)
    name = path.name
    if not path.is_file():
        raise CalibrationError(f"{name}: no such calibration file")
    try:
        doc = storage.read_json_object(path, "calibration")
    except storage.StoredFileError as exc:
        raise CalibrationError(str(exc)) from None
    if doc.get("format") != FORMAT or doc.get("version") != VERSION:
        raise CalibrationError(f"{name}: not a {FORMAT} file of version {VERSION} (written by predict --calibrate)")
    S = _matrix(doc.get("matrix"), (2, 2), name, "matrix")
    cov = _matrix(doc.get("matrix_cov"), (3, 3), name, "matrix_cov")
    if abs(S[0, 1] - S[1, 0]) > 1e-9 or np.linalg.eigvalsh(S).min() <= 0:
        raise CalibrationError(f"{name}: matrix is not symmetric positive definite")
    scale = float(np.sqrt(np.linalg.det(S)))
    if anisotropy(S) > MAX_ANISOTROPY or abs(scale - 1) > MAX_SCALE_ERROR:
        raise CalibrationError(f"{name}: matrix is {100 * anisotropy(S):.0f} % anisotropic with scale {scale:.3f}, "
                               "beyond any scan distortion")
    if np.abs(cov - cov.T).max() > 1e-12 or np.linalg.eigvalsh(cov).min() < -1e-12:
        raise CalibrationError(f"{name}: matrix_cov is not a covariance (symmetric, positive semi-definite)")
    try:
        px = check_pixel_size(doc.get("pixel_size_A"), name, "pixel_size_A")
    except ImageReadError as exc:
        raise CalibrationError(str(exc)) from None
    shape = doc.get("shape")
    if not (isinstance(shape, list) and len(shape) == 2
            and all(isinstance(x, int) and not isinstance(x, bool) and 16 <= x <= 10 ** 5 for x in shape)):
        raise CalibrationError(f"{name}: shape {shape!r} is not [height, width] in pixels")
    reference = doc.get("reference")
    if not isinstance(reference, str):
        raise CalibrationError(f"{name}: reference is not a file name")
    material = doc.get("material")
    cell = doc.get("cell")
    what = material if isinstance(material, str) else "a given cell"
    if isinstance(cell, list) and len(cell) == 3 and all(isinstance(x, (int, float)) for x in cell):
        what += f", a = {cell[0]:g}, b = {cell[1]:g} Å, γ = {cell[2]:g}°"
    return Calibration(name, S, cov, float(px), tuple(shape), reference, f"reference {reference}: {what}")


def check_applies(calibration: Calibration, image: ExperimentalImage) -> None:
    """Refuse a calibration measured with another pixel size or frame size than the image's.

    Args:
        calibration: the calibration.
        image: the image it is to be applied to.

    Raises:
        CalibrationError: naming both files and both values.
    """
    if abs(image.pixel_size / calibration.pixel_size - 1) > PIXEL_SIZE_AGREEMENT:
        raise CalibrationError(f"calibration {calibration.name} was measured at {calibration.pixel_size:g} Å/px "
                               f"(reference {calibration.reference}), image {image.name} is at "
                               f"{image.pixel_size:g} Å/px: the scan geometry differs")
    if tuple(image.data.shape) != tuple(calibration.shape):
        h, w = calibration.shape
        raise CalibrationError(f"calibration {calibration.name} was measured on a {w} x {h} px frame (reference "
                               f"{calibration.reference}), image {image.name} is {image.data.shape[1]} x "
                               f"{image.data.shape[0]} px: the scan geometry differs")
