"""a, b, gamma and the Bravais class of a user's image, by the FFT estimator, a trained CNN, or
both. The paper cropped and rotated its experimental images by hand; ``prepare_for_model``
does it from the image: resample to the training pixel size, rotate so that a lattice
vector lies along x (the orientation of the training images), crop the training field of
view, normalise as in training.

    python -m lattice_utils predict IMAGE [--pixel-size A] [--method fft|cnn|both]
                                          [--model PATH] [--json] [--grain-map PNG [--force]]
                                          [--calibration FILE]
    python -m lattice_utils predict IMAGE_0 IMAGE_90 --orthogonal-pair [--json]
    python -m lattice_utils predict --calibrate REFERENCE (--material NAME | --cell A,B,GAMMA)
                                    [--output FILE [--force]]

The FFT method analyses the image in windows and reports a lattice per grain
(``grains.analyse_image``); its answer is the largest grain when it covers a fifth of the image,
else the whole-image fit when that is reliable (``answer_source`` says which). The strict class is
the headline; a lattice's ``corrected`` cell and class are those after removing a *measured*
scan distortion (from two or more grains of the frame, a calibration file, or an orthogonal scan
pair; ``scan_distortion`` says which), and absent when none was measured: no class is widened by
a fixed allowance. ``--json`` prints strict JSON
(``null`` where a value is missing, never NaN) carrying ``schema_version``; the Python API
``predict_image`` returns the same dict.

Exit codes: 0 the image was analysed (the result may say that no lattice was found); 2 the input
was refused (no such file, unreadable or unsupported, no or implausible pixel size, an image no
method can use: not 2D, smaller than 16 px, constant, more than 25 % NaN; bad weights); 3 an
unexpected error (``LATTICE_DEBUG=1`` shows the traceback).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import ndimage

from .core import paths, storage
from .core.profiles import STEM_IMAGE_PX, STEM_PX_SCALE
from .core.storage import strict
from .data.calibration import (
    Calibration,
    calibration_document,
    check_applies,
    read_calibration,
    write_calibration,
)
from .data.real_images import (PIXEL_SIZE_AGREEMENT, ExperimentalImage, ImageReadError, NoPixelSizeError, read_image,
                               with_pixel_size)
from .lattice import fft_lattice, grains, scan_correction
from .lattice.scan_distortion import MATERIALS
from .lattice.lattice2d import CLASS_NAMES
from .learn.metrics import PARAMETERS, REDUCED_PARAMETERS   # no torch: numpy and pandas only
from .simulate.stem import normalise, to_uint8

__all__ = ["TRAIN_PIXEL_SIZE", "TRAIN_IMAGE_PX", "MAX_UPSAMPLING", "SCHEMA_VERSION", "CNN_RANGE_SD", "DEFAULT_SLOT",
           "GRAIN_MAP_SOFTWARE", "Prepared", "prepare_for_model", "cnn_support", "answer_cell", "default_model",
           "predict_image", "check_grain_map_path", "save_grain_map", "parse_cell", "reference_cell",
           "calibrate_image", "main"]

TRAIN_PIXEL_SIZE = STEM_PX_SCALE   # Å per pixel of the simulated training images
TRAIN_IMAGE_PX = STEM_IMAGE_PX     # their size: a 25.6 Å field of view
# an image upsampled more than this holds less detail than the model's training images showed
MAX_UPSAMPLING = 2.0
# 1: flat fft result; 2: the fft result is the largest grain, with "grains" and "whole_image",
# the distortion-aware class, null instead of NaN; 3: "cnn" carries the model's field_of_view_A;
# 4: "fft" carries answer_source (a grain or the whole-image fit); "cnn" carries supported and
# support, and a classifier's class_name; 5: the class allowing a fixed 3 % distortion is gone:
# each lattice carries "corrected" (null, or its cell and class after removing a measured scan
# distortion), "fft" carries "scan_distortion" (null or the measurement) and
# "scan_distortion_note" (why none was measured), and an orthogonal pair "on_corrected_image";
# 6: a regressor's "cnn" answer carries "cell": "reduced" (a network trained on Gauss-reduced cells)
# or "database" (trained on the cells as the database stored them, the paper's convention)
SCHEMA_VERSION = 6


@dataclass
class Prepared:
    """A real image made like the training images (``prepare_for_model``), and what was done to it.

    Attributes:
        image: uint8 [size, size] crop at the target pixel size, a lattice vector along x (by
            default [256, 256] at 0.1 Å/px).
        rotation_deg: rotation applied (degrees, counter-clockwise, y up).
        zoom: resampling factor applied (input pixel size / target pixel size; > 1 upsamples).
        notes: what was done to the input.
        lattice: the FFT estimate that set the rotation (None when not rotated).
    """
    image: np.ndarray              # uint8 [256, 256] at 0.1 Å/px, a lattice vector along x
    rotation_deg: float            # applied rotation (counter-clockwise, y up)
    zoom: float                    # resampling factor applied
    notes: list = field(default_factory=list)
    lattice: fft_lattice.LatticeEstimate | None = None   # the FFT estimate that set the rotation


def prepare_for_model(img: ExperimentalImage, pixel_size: float = TRAIN_PIXEL_SIZE,
                      size: int = TRAIN_IMAGE_PX, rotate: bool = True) -> Prepared:
    """Resample, rotate and crop a real image the way the training images were made.

    NaN/inf pixels are filled and outlying intensities clipped first (as the FFT path does); the
    rotation is the FFT estimator's orientation, found on the image at its own pixel size. An
    image smaller than the field of view is padded by reflection.

    Args:
        img: the image and its pixel size (Å per pixel).
        pixel_size: target pixel size (Å per pixel): the training images'.
        size: side of the crop (px): the training images'.
        rotate: rotate so that a lattice vector lies along x.

    Returns:
        The ``Prepared`` image, min-max normalised to uint8, with the rotation, zoom and notes.
    """
    notes = []
    # as the FFT path does: a dead or hot pixel must not set the grey scale of the network's input
    # (one pixel at 50x the maximum turns the normalised crop black)
    data, n_bad = fft_lattice.fill_bad_pixels(np.asarray(img.data, float))
    if n_bad:
        notes.append(f"{n_bad} NaN/inf pixels ({100 * n_bad / data.size:.2f} %) filled with the mean of "
                     "their neighbours")
    data, n_clipped = fft_lattice.suppress_outliers(data)
    if n_clipped:
        notes.append(f"{n_clipped} pixels ({100 * n_clipped / data.size:.2f} %) of outlying intensity "
                     "clipped (hot pixels, dopants, contamination)")
    zoom = img.pixel_size / pixel_size
    rotation = 0.0
    est = None
    if rotate:
        # the orientation does not change with the scale: found on the image as it is (the
        # estimator itself keeps to MAX_FFT_PX), before anything is resampled
        est = fft_lattice.estimate_lattice(data, img.pixel_size)
        if est.label >= 0 and np.isfinite(est.orientation_deg):
            rotation = est.orientation_deg
        else:
            notes.append(f"no lattice orientation found ({est.reason}); not rotated")
    # cut the part that ends up in the crop (its diagonal, for any rotation, plus a margin)
    # before resampling: memory stays that of a few crops for any image and pixel size
    need = int(np.ceil(size * pixel_size / img.pixel_size * np.sqrt(2))) + 8
    ny, nx = data.shape
    y0, x0 = max(0, (ny - need) // 2), max(0, (nx - need) // 2)
    data = data[y0:y0 + need, x0:x0 + need]
    if zoom < 1:   # downsampling: low-pass first so the lattice does not alias
        data = ndimage.gaussian_filter(data, sigma=0.5 / zoom)
    data = ndimage.zoom(data, zoom, order=1)
    if rotation:
        data = ndimage.rotate(data, rotation, reshape=False, order=1, mode="reflect")
    ny, nx = data.shape
    if min(ny, nx) < size:
        notes.append(f"image covers {min(ny, nx) * pixel_size:.1f} Å, less than the "
                     f"{size * pixel_size:.1f} Å field of view of training; padded by reflection")
        py, px_ = max(0, size - ny), max(0, size - nx)
        data = np.pad(data, ((py // 2, py - py // 2), (px_ // 2, px_ - px_ // 2)), mode="reflect")
        ny, nx = data.shape
    y0, x0 = (ny - size) // 2, (nx - size) // 2
    crop = data[y0:y0 + size, x0:x0 + size]
    return Prepared(to_uint8(normalise(crop)), float(rotation), float(zoom), notes, est)


def _cnn(img: ExperimentalImage, model_path: Path) -> dict:
    """The network's answer on ``img``, resampled to the field of view the model was trained on
    (recorded in its file; files written before that were all trained on the simulated images)."""
    # torch loads only when a network is asked for: the FFT estimator answers without it
    from .learn import training

    model = training.load_weights(model_path)
    field = model.field_A
    notes = []
    if field is None:
        field = TRAIN_PIXEL_SIZE * TRAIN_IMAGE_PX
        notes.append(f"the model file does not record the field of view of its training images; "
                     f"assumed {field:.4g} Å, that of the simulated images")
    prepared = prepare_for_model(img, pixel_size=field / TRAIN_IMAGE_PX)
    if prepared.zoom > MAX_UPSAMPLING:
        notes.append(f"the image was upsampled {prepared.zoom:.1f}x to the model's "
                     f"{field / TRAIN_IMAGE_PX:.4g} Å/px: it holds less detail than the training "
                     "images, so expect a less certain answer")
    inputs = training.Inputs(training.resize_images(prepared.image[None], model.config.input_px),
                             "user-image", model.config.input_px, field_A=field)
    out = model.predict(inputs, [0])[0]
    if model.config.task == "classify":
        label = int(np.argmax(out))
        answer = {"label": label, "class_name": CLASS_NAMES[label] if label < len(CLASS_NAMES) else str(label)}
    else:
        answer = {k: float(v) for k, v in zip(model.config.targets, out)}
    supported, support = cnn_support(prepared.lattice, answer, model)
    if model.config.task == "regress":
        answer = answer_cell(answer)
    return {"field_of_view_A": field, "rotation_deg": prepared.rotation_deg, "zoom": prepared.zoom,
            "notes": prepared.notes + notes, **answer, "supported": supported, "support": support}


def answer_cell(answer: dict) -> dict:
    """A regressor's answer under the names a, b, gamma, with the cell convention it was trained on.

    Args:
        answer: {target: value} (``metrics.PARAMETERS`` or ``metrics.REDUCED_PARAMETERS`` names; Å, degrees).

    Returns:
        {"a", "b", "gamma" (those answered), "cell"}: "reduced" for a network trained on
        Gauss-reduced cells (a <= b, 90 <= gamma <= 120, the lattice the FFT estimator reports),
        "database" for one trained on the cells as its database stored them (the paper's tables).
    """
    reduced = dict(zip(REDUCED_PARAMETERS, PARAMETERS))
    if set(answer) <= set(reduced):
        return {**{reduced[k]: v for k, v in answer.items()}, "cell": "reduced"}
    return {**answer, "cell": "database"}


# a regressed value this many training standard deviations from the training mean lies outside
# what the network has seen
CNN_RANGE_SD = 4.0


def cnn_support(lattice, answer: dict, model) -> tuple[bool, str]:
    """Whether the image supports the network's answer, and why: a network answers on any input,
    pure noise included, so the answer stands only where the FFT estimator finds a reliable
    lattice in the same image and a regressed value lies within the range of the training targets.

    Args:
        lattice: the FFT estimate on the same image (``Prepared.lattice``), or None.
        answer: the network's answer: {target: value} of a regressor (a, b in Å, gamma in
            degrees), or {"label", "class_name"} of a classifier.
        model: the loaded network (``training.load_weights``): its config (task, targets) and
            training-target means and standard deviations are read.

    Returns:
        (supported, why): a bool and a sentence saying why. A regressed value more than
        ``CNN_RANGE_SD`` standard deviations from the training mean is not supported.
    """
    if lattice is None or lattice.label < 0 or not lattice.reliable:
        reason = "no lattice found" if lattice is None else (lattice.reason or "not reliable")
        return False, (f"not supported: the FFT estimator finds no reliable lattice in the image ({reason}); "
                       "a network answers on any input, noise included")
    if model.config.task == "regress":
        for k, mean, sd in zip(model.config.targets, model.target_mean, model.target_std):
            if abs(answer[k] - mean) > CNN_RANGE_SD * sd:
                return False, (f"not supported: {k} = {answer[k]:.4g} lies more than {CNN_RANGE_SD:g} sd from "
                               f"the mean of the training targets ({mean:.4g} ± {sd:.3g})")
    return True, "supported: the FFT estimator finds a reliable lattice in the same image"


# the C2DB slot (2H/1T TMDs and relatives) is the closest of the three to the materials
# imaged in practice; the largest profile trained is preferred, real databases over offline
DEFAULT_SLOT = "c2db"


def default_model() -> Path:
    """The named default for ``--method cnn``: the C2DB-slot DenseNet121 a/b/gamma regressor, from
    the paper profile if trained, else quick, else smoke (real databases before offline ones); within
    each, the one trained on reduced cells (``train_models --cell reduced``) before notebook 04's.

    Returns:
        The path of its ``final.pt``.

    Raises:
        FileNotFoundError: no such regressor is trained; the message says how to train one.
    """
    # torch loads only when a network is asked for: the FFT estimator answers without it
    from .learn import training
    reg = training.registered_models()
    for profile in ("paper", "quick", "smoke"):
        # within one profile, the network trained on reduced cells (from either source) answers in
        # the cell the FFT estimator reports; the notebooks' one in the database's convention
        for targets in ("a_reduced-b_reduced-gamma_reduced", "a-b-gamma"):
            for source in ("jarvis", "offline"):
                name = f"{profile}/{source}/{DEFAULT_SLOT}/densenet121-regress-{targets}"
                if name in reg:
                    return reg[name] / "final.pt"
    raise FileNotFoundError(
        "no trained C2DB-slot DenseNet regressor in data/models/: run notebook 04 "
        "(./run_all.sh --only 04) or `python -m lattice_utils.studies.train_models --slot c2db "
        "--task regress --cell reduced`, or give --model PATH")


_INTERNAL = ("a_vec", "b_vec", "basis_cov")


def _lattice_fields(est: fft_lattice.LatticeEstimate) -> dict:
    fields = {k: v for k, v in est.as_dict().items() if k not in _INTERNAL}
    if fields.get("corrected"):
        fields["corrected"] = {k: v for k, v in fields["corrected"].items() if k not in _INTERNAL}
    return fields


def _fft_fields(analysis: grains.GrainAnalysis) -> dict:
    answer = analysis.answer
    return {**_lattice_fields(answer), "answer_source": analysis.answer_source,
            "grains": [{**_lattice_fields(g.lattice), "area_share": g.area_share,
                        "n_windows": g.n_windows, "source": g.source,
                        "window_spread": g.window_spread} for g in analysis.grains],
            "whole_image": _lattice_fields(analysis.whole),
            "window_px": analysis.window_px, "stride_px": analysis.stride_px,
            "windows": analysis.n_windows,
            "windows_with_lattice": analysis.n_windows_with_lattice,
            "scan_distortion": analysis.distortion.as_dict() if analysis.distortion else None,
            "scan_distortion_note": analysis.distortion_note,
            "analysis_notes": analysis.notes}


def _image(image, pixel_size: float | None) -> ExperimentalImage:
    # one validation for every entry point: an image built in Python is checked as a file is, and a
    # pixel size given replaces the image's as it replaces a file's calibration (with a note)
    if not isinstance(image, ExperimentalImage):
        return read_image(image, pixel_size)
    return with_pixel_size(image, pixel_size)


def _second_frame(image, pixel_size: float | None, first: ExperimentalImage) -> ExperimentalImage:
    # the frame at 90 degrees keeps its own calibration, so that a pair recorded at two pixel sizes
    # is refused; only a file that carries none takes the first frame's
    if pixel_size is not None or isinstance(image, ExperimentalImage):
        return _image(image, pixel_size)
    try:
        return read_image(image)
    except NoPixelSizeError:
        other = read_image(image, first.pixel_size)
        other.notes.append(f"no pixel size of its own: {first.name}'s {first.pixel_size:.4g} Å taken")
        return other


def predict_image(image, pixel_size: float | None = None, method: str = "fft",
                  model: str | Path | None = None, with_map: bool = False,
                  calibration=None, orthogonal_to=None) -> dict:
    """Lattice of one image (a path or an ExperimentalImage), as a JSON-ready dict (strict: None
    where a value is missing).

    ``fft``: the image's answer (``answer_source``), with every grain under ``grains`` and the
    whole-image fit under ``whole_image``. ``cnn``: the network's answer on the image prepared
    like its training images (``prepare_for_model``), with whether the image supports it.

    Args:
        image: a file path, or an ``ExperimentalImage`` (checked as a file is).
        pixel_size: pixel size (Å per pixel) of the image (and of ``orthogonal_to``), replacing
            what a file, its sidecar .json or an ``ExperimentalImage`` says (with a note); None to
            read it from the file or its sidecar.
        method: "fft", "cnn" or "both".
        model: trained weights (``final.pt``) for cnn/both; None for ``default_model()``.
        with_map: add the grain map (grain index per stride cell, -1 for none) for plotting.
        calibration: a scan calibration (a file path or a ``calibration.Calibration``) measured
            with this image's pixel size and frame size; its distortion is removed from every
            lattice (``corrected``), replacing any the grains measured.
        orthogonal_to: the frame scanned at 90 degrees of the same area, as recorded (a path or
            an ``ExperimentalImage``, at the same pixel size: its own, or the first frame's where
            the file carries none): the pair's measured drift is removed
            (``scan_correction.analyse_orthogonal_pair``) and the lattice measured again on the
            corrected frame (``on_corrected_image``).

    Returns:
        dict with schema_version (``SCHEMA_VERSION``), image, pixel_size_A (Å per pixel), shape
        ([H, W] px), notes, and "fft" and/or "cnn": lengths in Å, angles in degrees, distortions
        in %, area shares as fractions.

    Raises:
        ImageReadError: the file or image is refused (missing, unreadable, unsupported, no or
            implausible pixel size).
        ValueError: an unknown method, or an image no method can use (not 2D, too small,
            constant, mostly NaN).
        FileNotFoundError: cnn/both without ``model`` and no default model trained, or no file
            at ``model``.
        storage.StoredFileError: ``model`` is not a usable weights file (an ``OSError``).
        CalibrationError: a calibration file that is unusable or measured with another pixel
            size or frame size (a ``ValueError``).
        NotMeasurable: an orthogonal pair that shows no reliable lattice or not one lattice (a
            ``ValueError``).
    """
    if method not in ("fft", "cnn", "both"):
        raise ValueError(f"method must be fft, cnn or both, not {method!r}")
    if (calibration is not None or orthogonal_to is not None) and method == "cnn":
        raise ValueError("a calibration or an orthogonal pair corrects the FFT lattice: use method fft or both")
    if calibration is not None and orthogonal_to is not None:
        raise ValueError("give a calibration or an orthogonal pair, not both")
    img = _image(image, pixel_size)
    if calibration is not None:
        cal = calibration if isinstance(calibration, Calibration) else read_calibration(calibration)
        check_applies(cal, img)
    if method == "cnn":
        # every method refuses the same images, with the same words (the grain analysis of the
        # fft method runs this check itself)
        fft_lattice.validate_image(img.data, img.pixel_size, img.name)
    result = {"schema_version": SCHEMA_VERSION, "image": img.name, "pixel_size_A": img.pixel_size,
              "shape": list(img.data.shape), "notes": list(img.notes)}
    if method in ("fft", "both"):
        extra = {}
        if orthogonal_to is not None:
            other = _second_frame(orthogonal_to, pixel_size, img)
            result["notes"] += [f"{other.name}: {n}" for n in other.notes]
            if abs(other.pixel_size / img.pixel_size - 1) > PIXEL_SIZE_AGREEMENT:
                raise ValueError(f"{other.name} is at {other.pixel_size:g} Å/px, {img.name} at "
                                 f"{img.pixel_size:g} Å/px: not an orthogonal pair of one area")
            pair = scan_correction.analyse_orthogonal_pair(img.data, other.data, img.pixel_size,
                                                           (img.name, other.name))
            analysis = pair.analysis
            extra = {"on_corrected_image": _lattice_fields(pair.on_corrected_image.answer),
                     "frame_90": _lattice_fields(pair.frame_90.answer)}
        else:
            analysis = grains.analyse_image(img.data, img.pixel_size, name=img.name)
        if calibration is not None:
            if analysis.distortion is not None:
                analysis.notes.append(f"the grains' own measurement, replaced by the calibration: "
                                      f"{analysis.distortion.summary()}")
            analysis = grains.with_distortion(analysis, cal.distortion())
        result["fft"] = {**_fft_fields(analysis), **extra}
        if with_map:
            result["fft"]["grain_map"] = analysis.grain_map.tolist()
    if method in ("cnn", "both"):
        path = Path(model) if model else default_model()
        result["cnn"] = {"model": paths.relative(path), **_cnn(img, path)}
    return strict(result)


def parse_cell(text: str) -> tuple[float, float, float]:
    """``--cell A,B,GAMMA`` as (a, b, gamma) (Å, Å, degrees).

    Args:
        text: three comma-separated numbers.

    Returns:
        The cell.

    Raises:
        ValueError: not three finite numbers with a, b > 0 and 0 < gamma < 180.
    """
    try:
        a, b, g = (float(x) for x in text.split(","))
    except ValueError:
        raise ValueError(f"--cell {text!r}: give A,B,GAMMA, e.g. 2.46,2.46,120") from None
    if not (np.isfinite([a, b, g]).all() and a > 0 and b > 0 and 0 < g < 180):
        raise ValueError(f"--cell {text!r}: a and b must be positive lengths in Å and gamma an angle in (0, 180)°")
    return a, b, g


def reference_cell(cell: tuple | None, material: str | None) -> tuple:
    """The reference lattice from a cell or a material name, exactly one of them.

    Args:
        cell: (a, b, gamma) (Å, Å, degrees), or None.
        material: a name in ``scan_distortion.MATERIALS`` (any case), or None.

    Returns:
        (a, b, gamma).

    Raises:
        ValueError: neither or both given, or an unknown material.
    """
    if (cell is None) == (material is None):
        raise ValueError("give the reference's lattice: a material (--material) or a cell (--cell), one of them")
    if material is None:
        return tuple(cell)
    if material.lower() not in MATERIALS:
        raise ValueError(f"--material {material!r}: known materials are {', '.join(sorted(MATERIALS))}; "
                         "for another, give --cell A,B,GAMMA")
    return MATERIALS[material.lower()]


def calibrate_image(reference, cell: tuple | None = None, material: str | None = None,
                    pixel_size: float | None = None) -> dict:
    """The scan calibration of a reference frame of known lattice, as a calibration document.

    Args:
        reference: the reference frame (a file path or an ``ExperimentalImage``).
        cell: its (a, b, gamma) (Å, Å, degrees); or
        material: a name in ``scan_distortion.MATERIALS`` (graphene, hbn, mos2, ws2, mose2, wse2).
        pixel_size: the pixel size (Å per pixel), replacing what the file, its sidecar or an
            ``ExperimentalImage`` says (with a note); None to read it.

    Returns:
        The document (``calibration.calibration_document``) to write with
        ``calibration.write_calibration``.

    Raises:
        ValueError: neither or both of cell and material, an unknown material, a refused image,
            or a frame that does not show the reference lattice (``NotMeasurable``).
    """
    cell = reference_cell(cell, material)
    img = _image(reference, pixel_size)
    dist, _ = scan_correction.calibrate(img.data, img.pixel_size, cell, name=img.name)
    sha = storage.file_sha256(reference, 64) if not isinstance(reference, ExperimentalImage) else ""
    return calibration_document(dist, img, cell, material, sha)


# the PNG text chunk every grain map carries: an existing file without it is not replaced
GRAIN_MAP_SOFTWARE = "lattice_utils predict --grain-map"


def _png_texts(path: Path) -> dict:
    """The text chunks a PNG file carries before its image data ({} for anything that is not a
    PNG); the image itself is not decoded."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            return {k: v for k, v in im.info.items() if isinstance(v, str)} if im.format == "PNG" else {}
    except (UnidentifiedImageError, OSError, ValueError):
        return {}


def check_grain_map_path(path, image_path, force: bool = False) -> Path:
    """The path a grain map may be written to, or ``ValueError``: never the input image, never
    an existing file that is not a grain map of this command (unless ``force``), always a PNG name.

    Args:
        path: the requested grain-map file.
        image_path: the input image's file.
        force: replace an existing regular file even if it is not a grain map of this command.

    Returns:
        ``path`` as a ``Path``.

    Raises:
        ValueError: the name does not end in .png, is the input image, exists and is not a
            regular file, exists and is not a grain map of this command (without ``force``), or its
            folder does not exist.
    """
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ValueError(f"--grain-map {path}: the map is a PNG, give a file name ending in .png")
    if path.exists() or path.is_symlink():
        if Path(image_path).exists() and path.exists() and path.resolve() == Path(image_path).resolve():
            raise ValueError(f"--grain-map {path} is the input image itself: give another file name")
        if not path.is_file():
            raise ValueError(f"--grain-map {path} exists and is not a regular file")
        if not force and _png_texts(path).get("Software") != GRAIN_MAP_SOFTWARE:
            raise ValueError(f"--grain-map {path} exists and is not a grain map written by this command: "
                             "not replaced (give another name, or --force to replace it)")
    if not path.parent.is_dir():
        raise ValueError(f"--grain-map {path}: no folder {path.parent}")
    return path


def save_grain_map(result: dict, image: ExperimentalImage, path) -> Path:
    """The image beside its grain map as a PNG (needs ``predict_image(..., with_map=True)``),
    written atomically and marked as a grain map (``GRAIN_MAP_SOFTWARE``).

    Args:
        result: ``predict_image``'s result, with ``fft.grain_map``.
        image: the analysed image (data and pixel size in Å per pixel).
        path: the PNG file (check it first with ``check_grain_map_path``).

    Returns:
        ``path`` as a ``Path``.
    """
    import io

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # matplotlib loads only when a figure is asked for
    from .repro import plots

    f = result["fft"]
    fig = plots.grain_map_figure(image.data, image.pixel_size, np.array(f["grain_map"]), f["stride_px"],
                                 f["grains"], image.name)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=120, metadata={"Software": GRAIN_MAP_SOFTWARE})
    plt.close(fig)
    return storage.write_bytes(path, buf.getvalue())


def _estimate_from(fields: dict) -> fft_lattice.LatticeEstimate:
    """A LatticeEstimate back from its strict-JSON fields (None -> NaN) for printing."""
    names = {f.name for f in dataclasses.fields(fft_lattice.LatticeEstimate)}
    kw = {k: (float("nan") if v is None and k != "corrected" else v) for k, v in fields.items() if k in names}
    return fft_lattice.LatticeEstimate(**kw)


def _format(res: dict) -> str:
    lines = [f"{res['image']}: {res['shape'][1]} x {res['shape'][0]} px at {res['pixel_size_A']:.4g} Å/px"]
    lines += [f"  note: {n}" for n in res["notes"]]
    if "fft" in res:
        f = res["fft"]
        est = _estimate_from(f)
        lines.append(f"  FFT: {est.summary()}")
        if f.get("answer_source") == "grain 0" and f["grains"][0]["source"] != "whole image":
            lines.append(f"  answer from: the largest grain, {100 * f['grains'][0]['area_share']:.0f} % of the image")
        elif f.get("answer_source") == "whole image" and f["grains"]:
            lines.append(f"  answer from: the whole-image fit (no grain covers "
                         f"{100 * grains.HEADLINE_MIN_SHARE:.0f} % of the image)")
        lines += [f"  note: {n}" for n in est.notes]
        if len(f["grains"]) > 1 or (f["grains"] and f["grains"][0]["source"] != "whole image"):
            lines.append(f"  grains ({f['windows_with_lattice']} of {f['windows']} windows of "
                         f"{f['window_px']} px with a lattice):")
            for k, g in enumerate(f["grains"]):
                lines.append(f"    {k}: {100 * g['area_share']:.0f} % of the image, orientation "
                             f"{g['orientation_deg']:.1f}°, {g['n_windows']} windows: "
                             f"{_estimate_from(g).summary()}")
        if f.get("on_corrected_image"):
            lines.append(f"  measured again on {res['image']} with the drift removed: "
                         f"{_estimate_from(f['on_corrected_image']).summary()}")
        if not f.get("scan_distortion") and f.get("scan_distortion_note"):
            lines.append(f"  scan distortion not measured: {f['scan_distortion_note']}")
        lines += [f"  note: {n}" for n in f["analysis_notes"]]
    if "cnn" in res:
        c = res["cnn"]
        vals = ", ".join(f"{k} = {c[k]:.3f}" for k in ("a", "b", "gamma") if c.get(k) is not None)
        if c.get("label") is not None:
            vals = ", ".join(v for v in (vals, f"class {c['label']} ({c['class_name']})") if v)
        if c.get("cell"):
            vals += f" ({'reduced cell' if c['cell'] == 'reduced' else 'cell as its database stored it'})"
        lines.append(f"  CNN ({c['model']}; trained on a {c['field_of_view_A']:.4g} Å field; rotated "
                     f"{c['rotation_deg']:.1f}°, zoom {c['zoom']:.3f}): {vals}"
                     + ("" if c.get("supported") else "  [unsupported]"))
        lines.append(f"  {c['support']}")
        lines += [f"  note: {n}" for n in c["notes"]]
    return "\n".join(lines)


def main(argv=None) -> int:
    """The command line ``python -m lattice_utils predict``: analyse one image and print the result.

    Args:
        argv: the arguments after the command name; None for ``sys.argv[1:]``.

    Returns:
        The exit code: 0 analysed (the result may be "no lattice found"), 2 input refused,
        3 unexpected error (``LATTICE_DEBUG=1`` raises it instead).
    """
    ap = argparse.ArgumentParser(prog="python -m lattice_utils predict",
                                 description="a, b, gamma and the 2D Bravais class of an image",
                                 epilog="exit codes: 0 analysed (the result may be 'no lattice "
                                        "found'); 2 input refused; 3 unexpected error")
    ap.add_argument("image", nargs="*", help="the image; with --orthogonal-pair, IMAGE_0 IMAGE_90")
    ap.add_argument("--pixel-size", type=float, default=None,
                    help="Å per pixel (needed unless the file or a sidecar .json carries it)")
    ap.add_argument("--method", choices=("fft", "cnn", "both"), default="fft")
    ap.add_argument("--model", default=None, help="trained weights (final.pt) for --method cnn/both")
    ap.add_argument("--json", action="store_true", help="print strict JSON (null for missing values)")
    ap.add_argument("--grain-map", default=None, metavar="PNG",
                    help="save the image and its grain map as a PNG (method fft or both); an existing "
                         "file is replaced only if it is a grain map written by this command")
    ap.add_argument("--force", action="store_true", help="with --grain-map or --output: replace any existing "
                                                          "file (never an input image)")
    ap.add_argument("--calibration", default=None, metavar="FILE",
                    help="remove the scan distortion of a calibration file (predict --calibrate) measured "
                         "with this image's pixel size and frame size")
    ap.add_argument("--orthogonal-pair", action="store_true",
                    help="IMAGE_0 IMAGE_90: two frames of one area scanned at 0° and 90° (the second as "
                         "recorded); removes the linear drift")
    ap.add_argument("--calibrate", default=None, metavar="REFERENCE",
                    help="measure the scan distortion on a frame of a known lattice and write a calibration file")
    ap.add_argument("--material", default=None, help=f"with --calibrate: one of {', '.join(sorted(MATERIALS))}")
    ap.add_argument("--cell", default=None, metavar="A,B,GAMMA", help="with --calibrate: the reference's cell "
                                                                        "(Å, Å, degrees)")
    ap.add_argument("--output", default=None, metavar="FILE",
                    help="with --calibrate: the calibration file (default REFERENCE_NAME.calibration.json here)")
    args = ap.parse_args(argv)
    if args.calibrate:
        return _calibrate_command(args)
    wanted = 2 if args.orthogonal_pair else 1
    if len(args.image) != wanted:
        print(f"error: {'--orthogonal-pair takes IMAGE_0 IMAGE_90' if args.orthogonal_pair else 'give one image'} "
              f"({len(args.image)} given)", file=sys.stderr)
        return 2
    args.image, pair = args.image[0], args.image[1:]

    def analyse() -> dict:
        if args.grain_map:
            # before the analysis: a refused name costs nothing
            check_grain_map_path(args.grain_map, args.image, args.force)
        img = read_image(args.image, args.pixel_size)
        res = predict_image(img, pixel_size=args.pixel_size, method=args.method, model=args.model,
                            with_map=bool(args.grain_map) and args.method != "cnn",
                            calibration=args.calibration, orthogonal_to=pair[0] if pair else None)
        if args.grain_map:
            if "fft" not in res:
                raise ValueError("--grain-map needs --method fft or both")
            save_grain_map(res, img, args.grain_map)
            res["fft"].pop("grain_map")
            res["notes"].append(f"grain map written to {args.grain_map}")
        return res

    code, res = _guarded(analyse, f"analysing {args.image}")
    if code:
        return code
    return _print(json.dumps(res, indent=2, allow_nan=False) if args.json else _format(res))


def _guarded(work, doing: str):
    """(0, ``work()``), or (2 or 3, None) after the message a command prints instead of a traceback."""
    try:
        return 0, work()
    except (ImageReadError, OSError, ValueError) as exc:   # FileNotFoundError is an OSError
        print(f"error: {exc}", file=sys.stderr)
        return 2, None
    except Exception as exc:   # a command prints a message, never a traceback
        if os.environ.get("LATTICE_DEBUG"):
            raise
        print(f"error: unexpected {type(exc).__name__} while {doing}: {exc} "
              "(set LATTICE_DEBUG=1 to see where; please report it)", file=sys.stderr)
        return 3, None


def _print(text: str) -> int:
    try:
        print(text)
        sys.stdout.flush()
    except BrokenPipeError:
        # the reader stopped reading (``| head``): not an error of the analysis; stdout is pointed
        # at /dev/null so that Python's own flush at exit does not complain either
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def _calibrate_command(args) -> int:
    """``predict --calibrate REFERENCE``: measure and write a calibration file."""
    if args.image:
        print("error: --calibrate REFERENCE takes no other image (apply the calibration with "
              "predict IMAGE --calibration FILE)", file=sys.stderr)
        return 2
    out = Path(args.output or f"{Path(args.calibrate).name}.calibration.json")

    def calibrate() -> dict:
        cell = parse_cell(args.cell) if args.cell else None
        reference_cell(cell, args.material)
        if out.exists() and (not args.force or out.resolve() == Path(args.calibrate).resolve()):
            raise ValueError(f"{out} exists; give another --output, or --force to replace it "
                             "(never the reference image)")
        doc = calibrate_image(args.calibrate, cell=cell, material=args.material, pixel_size=args.pixel_size)
        write_calibration(out, doc)
        return doc

    code, doc = _guarded(calibrate, f"calibrating on {args.calibrate}")
    if code:
        return code
    d = doc["distortion"]
    return _print(f"{Path(args.calibrate).name}: scan distortion slow axis {d['slow_axis_pct']:+.2f} ± "
                  f"{d['slow_axis_err_pct']:.2f} %, shear {d['shear_pct']:+.2f} ± {d['shear_err_pct']:.2f} %, fast "
                  f"axis {d['fast_axis_pct']:+.2f} ± {d['fast_axis_err_pct']:.2f} %; calibration written to {out}")
