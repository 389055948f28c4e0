"""a, b, gamma and the Bravais class of a user's image, by the FFT estimator, a trained CNN, or
both. The paper cropped and rotated its experimental images by hand; ``prepare_for_model``
does it from the image: resample to the training pixel size, rotate so that a lattice
vector lies along x (the orientation of the training images), crop the training field of
view, normalise as in training.

    python -m lattice_utils predict IMAGE [--pixel-size A] [--method fft|cnn|both]
                                          [--model PATH] [--json]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import ndimage

from . import fft_lattice, paths
from .experimental import ExperimentalImage, ImageReadError, read_image
from .stem import normalise, to_uint8

TRAIN_PIXEL_SIZE = 0.1     # Å per pixel of the simulated training images
TRAIN_IMAGE_PX = 256       # their size: a 25.6 Å field of view


@dataclass
class Prepared:
    image: np.ndarray              # uint8 [256, 256] at 0.1 Å/px, a lattice vector along x
    rotation_deg: float            # applied rotation (counter-clockwise, y up)
    zoom: float                    # resampling factor applied
    notes: list = field(default_factory=list)


def prepare_for_model(img: ExperimentalImage, pixel_size: float = TRAIN_PIXEL_SIZE,
                      size: int = TRAIN_IMAGE_PX, rotate: bool = True) -> Prepared:
    """Resample, rotate and crop a real image the way the training images were made."""
    notes = []
    data = np.nan_to_num(np.asarray(img.data, float), nan=float(np.nanmean(img.data)))
    zoom = img.pixel_size / pixel_size
    if zoom < 1:   # downsampling: low-pass first so the lattice does not alias
        data = ndimage.gaussian_filter(data, sigma=0.5 / zoom)
    data = ndimage.zoom(data, zoom, order=1)
    rotation = 0.0
    if rotate:
        est = fft_lattice.estimate_lattice(data, pixel_size)
        if est.label >= 0 and np.isfinite(est.orientation_deg):
            rotation = est.orientation_deg
            data = ndimage.rotate(data, rotation, reshape=False, order=1, mode="reflect")
        else:
            notes.append(f"no lattice orientation found ({est.reason}); not rotated")
    ny, nx = data.shape
    if min(ny, nx) < size:
        notes.append(f"image covers {min(ny, nx) * pixel_size:.1f} Å, less than the "
                     f"{size * pixel_size:.1f} Å field of view of training; padded by reflection")
        py, px_ = max(0, size - ny), max(0, size - nx)
        data = np.pad(data, ((py // 2, py - py // 2), (px_ // 2, px_ - px_ // 2)), mode="reflect")
        ny, nx = data.shape
    y0, x0 = (ny - size) // 2, (nx - size) // 2
    crop = data[y0:y0 + size, x0:x0 + size]
    return Prepared(to_uint8(normalise(crop)), float(rotation), float(zoom), notes)


def _cnn(prepared: Prepared, model_path: Path) -> dict:
    from . import training

    model = training.load_weights(model_path)
    inputs = training.Inputs(training.resize_images(prepared.image[None], model.config.input_px),
                             "user-image", model.config.input_px)
    out = model.predict(inputs, [0])[0]
    if model.config.task == "classify":
        return {"label": int(np.argmax(out))}
    return {k: float(v) for k, v in zip(model.config.targets, out)}


# the C2DB slot (2H/1T TMDs and relatives) is the closest of the three to the materials
# imaged in practice; the largest profile trained is preferred, real databases over offline
DEFAULT_SLOT = "c2db"


def default_model() -> Path:
    """The named default for ``--method cnn``: the C2DB-slot DenseNet121 a/b/gamma regressor of
    notebook 04, from the paper profile if trained, else quick, else smoke."""
    from . import training
    reg = training.registered_models()
    for profile in ("paper", "quick", "smoke"):
        for source in ("jarvis", "offline"):
            name = f"{profile}/{source}/{DEFAULT_SLOT}/densenet121-regress-a-b-gamma"
            if name in reg:
                return reg[name] / "final.pt"
    raise FileNotFoundError(
        "no trained C2DB-slot DenseNet regressor in data/models/: run notebook 04 "
        "(./run_all.sh --only 04) or `python -m lattice_utils.train_models --slot c2db "
        "--task regress`, or give --model PATH")


def predict_image(image, pixel_size: float | None = None, method: str = "fft",
                  model: str | Path | None = None) -> dict:
    """Lattice of one image (a path or an ExperimentalImage). Returns a JSON-ready dict."""
    if method not in ("fft", "cnn", "both"):
        raise ValueError(f"method must be fft, cnn or both, not {method!r}")
    img = image if isinstance(image, ExperimentalImage) else read_image(image, pixel_size)
    result = {"image": img.name, "pixel_size_A": img.pixel_size, "shape": list(img.data.shape),
              "notes": list(img.notes)}
    if method in ("fft", "both"):
        est = fft_lattice.estimate_lattice(img.data, img.pixel_size)
        result["fft"] = {k: v for k, v in est.as_dict().items() if k not in ("a_vec", "b_vec")}
    if method in ("cnn", "both"):
        prepared = prepare_for_model(img)
        path = Path(model) if model else default_model()
        result["cnn"] = {"model": paths.relative(path), "rotation_deg": prepared.rotation_deg,
                         "zoom": prepared.zoom, "notes": prepared.notes, **_cnn(prepared, path)}
    return result


def _format(res: dict) -> str:
    lines = [f"{res['image']}: {res['shape'][1]} x {res['shape'][0]} px at {res['pixel_size_A']:.4g} Å/px"]
    lines += [f"  note: {n}" for n in res["notes"]]
    if "fft" in res:
        f = res["fft"]
        est = fft_lattice.LatticeEstimate(**f)
        lines.append(f"  FFT: {est.summary()}")
        lines += [f"  note: {n}" for n in est.notes]
    if "cnn" in res:
        c = res["cnn"]
        vals = ", ".join(f"{k} = {c[k]:.3f}" for k in ("a", "b", "gamma") if k in c)
        lines.append(f"  CNN ({c['model']}; rotated {c['rotation_deg']:.1f}°, zoom {c['zoom']:.3f}): {vals}")
        lines += [f"  note: {n}" for n in c["notes"]]
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m lattice_utils predict",
                                 description="a, b, gamma and the 2D Bravais class of an image")
    ap.add_argument("image")
    ap.add_argument("--pixel-size", type=float, default=None,
                    help="Å per pixel (needed unless the file or a sidecar .json carries it)")
    ap.add_argument("--method", choices=("fft", "cnn", "both"), default="fft")
    ap.add_argument("--model", default=None, help="trained weights (final.pt) for --method cnn/both")
    ap.add_argument("--json", action="store_true", help="print JSON instead of text")
    args = ap.parse_args(argv)
    try:
        res = predict_image(args.image, args.pixel_size, args.method, args.model)
    except (ImageReadError, OSError, ValueError) as exc:   # FileNotFoundError is an OSError
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:   # a command prints a message, never a traceback
        if os.environ.get("LATTICE_DEBUG"):
            raise
        print(f"error: unexpected {type(exc).__name__} while analysing {args.image}: {exc} "
              "(set LATTICE_DEBUG=1 to see where; please report it)", file=sys.stderr)
        return 3
    print(json.dumps(res, indent=2, default=float) if args.json else _format(res))
    return 0
