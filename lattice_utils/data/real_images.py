"""Real microscope images: readers with calibrated pixel sizes, a metadata sidecar, and the
MoS2 ADF-STEM image that ships inside the temul-toolkit wheel.

``read_image(path, pixel_size=None)`` reads ``.dm3``/``.dm4`` and Velox ``.emd`` (calibration from
the file),
TIFF, PNG/JPEG and ``.npy``. Formats without a calibration need a pixel size: the argument, or a
sidecar ``<image>.json`` next to the file::

    {"pixel_size_A": 0.127, "material": "MoS2",
     "reference": {"a": 3.16, "b": 3.16, "gamma": 120, "source": "..."}}

Every problem is an ``ImageReadError`` that names the file and says what to do.
"""
from __future__ import annotations

import dataclasses
import importlib.util
import json
import numbers
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..core import paths

__all__ = ["FORMATS", "UNIT_TO_ANGSTROM", "PIXEL_SIZE_RANGE", "PIXEL_SIZE_AGREEMENT", "MAX_IMAGE_PIXELS",
           "MOS2_CITATION", "MOS2_LITERATURE", "AU_CITATION", "AU_SPACINGS", "ImageReadError", "NoPixelSizeError",
           "ExperimentalImage", "read_image", "check_image", "with_pixel_size", "check_pixel_size",
           "mos2_example", "au_example", "user_images",
           "STO_EXAMPLE", "STO_CITATION", "STO_LITERATURE", "sto_example"]

UNIT_TO_ANGSTROM = {"nm": 10.0, "Å": 1.0, "A": 1.0, "angstrom": 1.0, "pm": 0.01, "µm": 1e4,
                    "um": 1e4}
FORMATS = (".dm3", ".dm4", ".emd", ".tif", ".tiff", ".png", ".jpg", ".jpeg", ".npy")
# accepted calibration, Å per pixel: below 0.005 Å no microscope samples, above 5 Å a pixel is
# wider than half the largest 2D lattice constant the estimator resolves (about 12 Å at 2.5 px
# per period); a value outside is a unit slip (nm or pm given as Å)
PIXEL_SIZE_RANGE = (0.005, 5.0)
# the largest image read: 10,000 x 10,000 px (0.8 GB as float64). Checked on the size a file
# declares, before its pixels are read: a small file may declare a huge image
MAX_IMAGE_PIXELS = 10 ** 8
# a file's calibration and its sidecar's agree when within 0.1 % (rounding in either)
PIXEL_SIZE_AGREEMENT = 1e-3
# a sidecar holds a few numbers and words; anything much larger is not one
MAX_SIDECAR_BYTES = 1 << 20
# finite pixel values beyond these magnitudes overflow the power spectrum (or vanish in it):
# such an image is divided by its largest magnitude, which leaves every lattice as it was
VALUE_RANGE = (1e-100, 1e100)

MOS2_EXAMPLE = "example_data/experimental/example_Se_implanted_MoS2.dm3"
MOS2_CITATION = ("ADF-STEM image of Se-implanted monolayer MoS2, example data of the TEMUL toolkit "
                 "(temul-toolkit 0.1.9 on PyPI, GPL-3.0, file temul/" + MOS2_EXAMPLE + "); TEMUL toolkit: "
                 "E. N. O'Connell et al., doi:10.5281/zenodo.3832142")
AU_EXAMPLE = "example_data/experimental/example_Au_nanoparticle.emd"
AU_CITATION = ("HAADF-STEM image of a Au nanoparticle, example data of the TEMUL toolkit "
               "(temul-toolkit 0.1.9 on PyPI, GPL-3.0, file temul/" + AU_EXAMPLE + "); TEMUL toolkit: "
               "E. N. O'Connell et al., doi:10.5281/zenodo.3832142")
# fcc Au, a = 4.078 Å: the spacings a zone-axis image can show
AU_SPACINGS = {"111": 2.355, "200": 2.039, "220": 1.442}
STO_EXAMPLE = "tests/datasets/test_ADF_cropped.hdf5"
STO_CITATION = ("HAADF-STEM image of SrTiO3 on the [110] zone axis, test data of Atomap (atomap 0.4.2 on PyPI, "
                "GPL-3.0, file atomap/" + STO_EXAMPLE + "); Atomap: M. Nord et al., Adv. Struct. Chem. Imaging "
                "3, 9 (2017)")
# cubic SrTiO3, a = 3.905 Å at room temperature, seen down [110]: a primitive rectangular lattice
# of a / sqrt(2) along [1-10] by a along [001]
STO_LITERATURE = {"a": round(float(3.905 / np.sqrt(2)), 3), "b": 3.905, "gamma": 90.0,
                  "source": "cubic SrTiO3, a = 3.905 Å; [110] projection: a/√2 x a, rectangular"}
MOS2_LITERATURE = {"a": 3.16, "b": 3.16, "gamma": 120.0,
                   "source": "monolayer 2H-MoS2, a = 3.16-3.19 Å in the literature (bulk 3.16 Å)"}


class ImageReadError(ValueError):
    """A real image that cannot be used, with the file and the reason."""


class NoPixelSizeError(ImageReadError):
    """A file that carries no pixel size, and none was given (the one refusal a caller can mend
    by supplying a pixel size of its own, e.g. the other frame's of an orthogonal pair)."""


@dataclass
class ExperimentalImage:
    """A real microscope image with its calibration.

    Attributes:
        data: float64 [y, x] pixel values (any real scale).
        pixel_size: Å per pixel.
        name: file name (no directories: nothing absolute leaks into reports).
        meta: material, reference, source ... (from the file and its sidecar).
        notes: conversions made while reading.
    """
    data: np.ndarray            # float64 [y, x]
    pixel_size: float           # Å per pixel
    name: str                   # file name (no directories: nothing absolute leaks into reports)
    meta: dict = field(default_factory=dict)     # material, reference, source ...
    notes: list = field(default_factory=list)    # conversions made while reading

    @property
    def field_of_view(self) -> tuple[float, float]:
        """(width, height) of the image in Å."""
        return self.data.shape[1] * self.pixel_size, self.data.shape[0] * self.pixel_size


def _regular_file(path: Path, what: str) -> None:
    """``ImageReadError`` unless ``path`` is a regular file: a FIFO, a device or a folder would
    block the read forever or fail in the reader."""
    if not path.is_file():
        kind = "a folder" if path.is_dir() else "not a regular file (a pipe, a device or a socket?)"
        raise ImageReadError(f"{path.name}: the {what} is {kind}; give a file")


def _sidecar(path: Path) -> dict:
    side = path.with_suffix(path.suffix + ".json")
    if not (side.exists() or side.is_symlink()):
        side = path.with_suffix(".json")
    if not (side.exists() or side.is_symlink()):
        return {}
    _regular_file(side, "metadata sidecar")
    if side.stat().st_size > MAX_SIDECAR_BYTES:
        raise ImageReadError(f"{side.name}: metadata sidecar of {side.stat().st_size} bytes; a sidecar "
                             f"holds a few values (at most {MAX_SIDECAR_BYTES} bytes)")
    try:
        # utf-8-sig: an editor's byte-order mark is not an error
        meta = json.loads(side.read_bytes().decode("utf-8-sig"))
    except (OSError, ValueError, RecursionError) as exc:   # RecursionError: nested thousands deep
        raise ImageReadError(f"{side.name}: metadata sidecar is not valid JSON "
                             f"({type(exc).__name__}: {str(exc)[:120]})") from None
    if not isinstance(meta, dict):
        raise ImageReadError(f"{side.name}: metadata sidecar must be a JSON object such as "
                             f"{{\"pixel_size_A\": 0.127}}, not a {type(meta).__name__}")
    return meta


def check_pixel_size(value, name: str, origin: str = "given") -> float:
    """Check a pixel size: a number (not a boolean or a string) inside ``PIXEL_SIZE_RANGE``.

    Args:
        value: the pixel size to check, in Å per pixel.
        name: the image's file name, for the message.
        origin: where the value came from, for the message (``given``, the sidecar, the file).

    Returns:
        The pixel size in Å per pixel, as a float.

    Raises:
        ImageReadError: naming the file and where the value came from, when it is not a number
            or lies outside ``PIXEL_SIZE_RANGE``.
    """
    lo, hi = PIXEL_SIZE_RANGE
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ImageReadError(f"{name}: pixel size {value!r} ({origin}) is not a number; give Å "
                             "per pixel, e.g. 0.127")
    try:
        value = float(value)
    except OverflowError:                     # an integer of hundreds of digits
        value = float("inf")
    if not np.isfinite(value) or not lo <= value <= hi:
        raise ImageReadError(f"{name}: pixel size {value:g} Å ({origin}) is outside the accepted "
                             f"range {lo:g}-{hi:g} Å per pixel (a value in nm or pm instead of Å?)")
    return value


def _read_dm(path: Path):
    """DigitalMicrograph (.dm3/.dm4) or Velox (.emd) through RosettaSciIO: the first 2D image and
    its calibration."""
    if path.suffix.lower() == ".emd":
        from rsciio.emd import file_reader
    else:
        from rsciio.digitalmicrograph import file_reader

    # lazily: the shape a file declares is checked before any pixel is read
    signals = file_reader(str(path), lazy=True)
    images = [s for s in signals if len(s["data"].shape) == 2]
    if not images:
        raise ImageReadError(f"{path.name}: no 2D image in this file")
    s = images[0]
    check_declared_size(s["data"].shape, path.name)
    axes = {a.get("name", str(k)): a for k, a in enumerate(s["axes"])}
    scales = []
    for a in s["axes"]:
        unit = str(a.get("units", "")).strip()
        if unit in UNIT_TO_ANGSTROM:
            scales.append(float(a["scale"]) * UNIT_TO_ANGSTROM[unit])
    px = scales[0] if scales else None
    notes = []
    if len(scales) == 2 and abs(scales[0] - scales[1]) > 1e-6 * scales[0]:
        notes.append(f"non-square pixels ({scales[0]:.4g} x {scales[1]:.4g} Å); using x")
    title = s.get("metadata", {}).get("General", {}).get("title", "")
    return np.asarray(s["data"].compute()), px, {"title": title, "axes": list(axes)}, notes


def check_declared_size(shape, name: str) -> None:
    """``ImageReadError`` for an image of more than ``MAX_IMAGE_PIXELS`` pixels, before it is read."""
    n = int(np.prod([int(d) for d in shape], dtype=object))
    if n > MAX_IMAGE_PIXELS:
        raise ImageReadError(f"{name}: declares an image of {' x '.join(str(int(d)) for d in shape)} "
                             f"pixels, more than the {MAX_IMAGE_PIXELS:,} this reader accepts; crop or "
                             "bin it first")


def _declared_shape(path: Path, suffix: str) -> tuple:
    """The image size a TIFF, PNG/JPEG or .npy file declares in its header."""
    if suffix in (".tif", ".tiff"):
        import tifffile

        with tifffile.TiffFile(path) as tif:
            return tuple(tif.series[0].shape) if tif.series else ()
    if suffix == ".npy":
        # a memory map reads the header only (and refuses object arrays, which need pickle)
        return tuple(np.load(path, mmap_mode="r", allow_pickle=False).shape)
    from PIL import Image

    with Image.open(path) as im:
        return (im.size[1], im.size[0])


def _overridden(given: float, own, said: str) -> list[str]:
    # the one rule for a pixel size given over one an image carries: a note when they differ (or
    # when the carried one is not a number), nothing when they agree
    known = isinstance(own, numbers.Real) and not isinstance(own, (bool, np.bool_))
    if known and abs(given - float(own)) <= 1e-9:
        return []
    return [f"pixel size {given} Å given; {said} " + (f"{float(own):.4g} Å" if known else repr(own))]


def with_pixel_size(img: ExperimentalImage, pixel_size: float | None = None) -> ExperimentalImage:
    """An image built in Python, checked as ``read_image`` checks a file, at the pixel size given.

    Args:
        img: the image.
        pixel_size: Å per pixel, replacing the image's own (with a note when they differ, as a
            file's calibration is replaced in ``read_image``); None to keep the image's.

    Returns:
        The checked image (``check_image``).

    Raises:
        ImageReadError: naming the image, when the pixel size given or a check fails.
    """
    if pixel_size is not None:
        pixel_size = check_pixel_size(pixel_size, str(img.name))
        img = dataclasses.replace(img, pixel_size=pixel_size,
                                  notes=[*img.notes, *_overridden(pixel_size, img.pixel_size, "the image said")])
    return check_image(img)


def check_image(img: ExperimentalImage) -> ExperimentalImage:
    """The checks every entry point makes on an image, from a file or built in Python.

    The image must be a 2D array of real numbers (not complex, not objects) of at most
    ``MAX_IMAGE_PIXELS``, with a pixel size inside ``PIXEL_SIZE_RANGE``.

    Args:
        img: the image to check.

    Returns:
        A new ``ExperimentalImage`` with float64 [y, x] data, divided by its largest magnitude
        when that lies outside ``VALUE_RANGE`` (with a note); pixel size in Å per pixel.

    Raises:
        ImageReadError: naming the image, when a check fails.
    """
    name = str(img.name)
    data = np.asarray(img.data)
    if not np.issubdtype(data.dtype, np.number):      # objects and booleans are not numbers either
        raise ImageReadError(f"{name}: pixel type {data.dtype} is not numeric")
    if np.iscomplexobj(data):
        raise ImageReadError(f"{name}: complex pixel values ({data.dtype}); give the magnitude or the "
                             "real part as a real-valued image")
    if data.ndim != 2:
        raise ImageReadError(f"{name}: expected a 2D image, got an array of shape {data.shape}")
    check_declared_size(data.shape, name)
    pixel_size = check_pixel_size(img.pixel_size, name)
    notes = list(img.notes)
    data = data.astype(np.float64, copy=False)
    finite = np.isfinite(data)
    if finite.any():
        # min and max over the finite pixels without copying them (a large image's size again)
        biggest = max(-float(np.min(data, where=finite, initial=np.inf)),
                      float(np.max(data, where=finite, initial=-np.inf)))
        if biggest > 0 and not VALUE_RANGE[0] <= biggest <= VALUE_RANGE[1]:
            data = data / biggest
            notes.append(f"pixel values up to {biggest:.3g} divided by that value (the lattice does "
                         "not depend on the scale; such magnitudes overflow the Fourier transform)")
    return ExperimentalImage(data, pixel_size, name, dict(img.meta), notes)


def read_image(path, pixel_size: float | None = None) -> ExperimentalImage:
    """Read a real image as float [y, x] with its pixel size in Å (see the module docstring).

    The pixel size is ``pixel_size`` when given (a differing file calibration or sidecar is
    noted), else the sidecar's ``pixel_size_A``, else the file's calibration. Colour images are
    converted to grey (mean of R, G, B).

    Args:
        path: the image file: ``.dm3``/``.dm4``, ``.emd``, TIFF, PNG/JPEG or ``.npy``.
        pixel_size: Å per pixel, overriding the file and the sidecar; None to take it from them.

    Returns:
        The checked image (``check_image``): float64 [y, x], pixel size in Å per pixel, metadata
        from the file and the sidecar, and notes on the conversions made.

    Raises:
        ImageReadError: the file is missing, not a regular file, of another format, unreadable
            or too large; the sidecar is invalid; the file's calibration and the sidecar disagree
            by more than ``PIXEL_SIZE_AGREEMENT``; or a check fails.
        NoPixelSizeError: no pixel size is known (an ``ImageReadError``).
    """
    path = Path(path)
    if not path.exists():
        raise ImageReadError(f"{path}: no such file")
    _regular_file(path, "image")
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ImageReadError(f"{path.name}: unsupported format {suffix!r}; use one of {', '.join(FORMATS)}")
    meta = _sidecar(path)
    notes: list[str] = []
    px_file = None
    try:
        if suffix in (".dm3", ".dm4", ".emd"):
            data, px_file, info, notes = _read_dm(path)
            meta = {**info, **meta}
        else:
            # the size the header declares, before the pixels are read
            check_declared_size(_declared_shape(path, suffix), path.name)
            if suffix in (".tif", ".tiff"):
                import tifffile

                data = tifffile.imread(path)
            elif suffix == ".npy":
                data = np.load(path, allow_pickle=False)
            else:
                import matplotlib.image

                data = matplotlib.image.imread(path)
    except ImageReadError:
        raise
    except Exception as exc:   # the readers raise many types for a damaged or foreign file
        raise ImageReadError(f"{path.name}: cannot be read as {suffix} ({type(exc).__name__}: {exc})") from exc
    data = np.asarray(data)
    if data.ndim == 3 and data.shape[-1] in (3, 4) and np.issubdtype(data.dtype, np.number) \
            and not np.iscomplexobj(data):
        data = data[..., :3].astype(float).mean(axis=-1)
        notes.append("colour image converted to grey (mean of R, G, B)")
    if data.ndim == 2 and np.issubdtype(data.dtype, np.number) and not np.iscomplexobj(data) \
            and not np.all(np.isfinite(data)):
        notes.append(f"{int((~np.isfinite(data)).sum())} NaN/inf pixels")
    side = "pixel_size_A of the sidecar .json"
    if pixel_size is not None:
        pixel_size = check_pixel_size(pixel_size, path.name)
        if px_file is not None:
            notes += _overridden(pixel_size, px_file, "the file says")
        if "pixel_size_A" in meta:
            notes += _overridden(pixel_size, meta["pixel_size_A"], "the sidecar says")
    elif "pixel_size_A" in meta:
        pixel_size = check_pixel_size(meta["pixel_size_A"], path.name, side)
        if px_file is not None and abs(pixel_size / px_file - 1) > PIXEL_SIZE_AGREEMENT:
            # a sidecar written for another file, or for another calibration: neither is trusted
            raise ImageReadError(
                f"{path.name}: the file's calibration says {px_file:.4g} Å per pixel but its sidecar "
                f"says {pixel_size:.4g} Å; remove the one that is wrong, or give --pixel-size to choose")
    elif px_file is not None:
        pixel_size = check_pixel_size(px_file, path.name, "calibration in the file")
    if pixel_size is None:
        raise NoPixelSizeError(
            f"{path.name}: this format carries no pixel size. Give it as pixel_size=... (Å per "
            f"pixel; on the command line --pixel-size) or write {{\"pixel_size_A\": ...}} into "
            f"{path.name}.json next to the image.")
    return check_image(ExperimentalImage(data, pixel_size, path.name, meta, notes))


def temul_example_path(relative: str = MOS2_EXAMPLE, package: str = "temul") -> Path:
    """A file of an installed package (temul-toolkit by default), found without importing it
    (importing temul or atomap loads hyperspy, which is slow and not needed here).

    Args:
        relative: the file's path inside the package.
        package: the package's import name.

    Returns:
        The file's path.

    Raises:
        ImageReadError: the package is not installed or lacks the file.
    """
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ImageReadError(f"{package} is not installed (it is pinned in requirements.txt): it provides the "
                             "example image")
    path = Path(list(spec.submodule_search_locations)[0]) / relative
    if not path.exists():
        raise ImageReadError(f"{relative} is missing from the installed {package}; reinstall it")
    return path


def mos2_example() -> ExperimentalImage:
    """The real monolayer MoS2 ADF-STEM image of temul-toolkit (1024 x 1024 px, 0.127 Å/px).

    Returns:
        The image, its ``meta`` holding ``material``, ``citation`` and ``reference`` (literature
        a, b in Å and gamma in degrees).

    Raises:
        ImageReadError: temul-toolkit is not installed or lacks the file.
    """
    img = read_image(temul_example_path())
    img.meta.update({"material": "MoS2 (monolayer, Se-implanted)", "citation": MOS2_CITATION,
                     "reference": MOS2_LITERATURE})
    return img


def au_example() -> ExperimentalImage:
    """The real Au nanoparticle HAADF image of temul-toolkit (2048 x 2048 px, 0.075 Å/px).

    Returns:
        The image, its ``meta`` holding ``material``, ``citation`` and ``spacings`` (fcc Au plane
        spacings in Å, ``AU_SPACINGS``).

    Raises:
        ImageReadError: temul-toolkit is not installed or lacks the file.
    """
    img = read_image(temul_example_path(AU_EXAMPLE))
    img.meta.update({"material": "Au nanoparticle (fcc, a = 4.078 Å)", "citation": AU_CITATION,
                     "spacings": AU_SPACINGS})
    return img


def sto_example() -> ExperimentalImage:
    """The real SrTiO3 [110] HAADF-STEM image of Atomap's test data (400 x 380 px, 0.0933 Å/px).

    The file (HyperSpy HDF5) stores its scale without a unit; it is nm (Atomap's own tests use it
    so, and the lattice it gives is SrTiO3's within 0.4 %).

    Returns:
        The image, its ``meta`` holding ``material``, ``citation`` and ``reference`` (the [110]
        projection's a, b in Å and gamma in degrees).

    Raises:
        ImageReadError: atomap is not installed, lacks the file, or the file is not as expected.
    """
    import h5py     # only here: no other reader needs HDF5

    path = temul_example_path(STO_EXAMPLE, "atomap")
    try:
        with h5py.File(path, "r") as h5:
            node = h5["Experiments/__unnamed__"]
            data = np.asarray(node["data"][()], dtype=np.float64)
            scales = [float(node[f"axis-{k}"].attrs["scale"]) for k in (0, 1)]
    except (OSError, KeyError) as exc:
        raise ImageReadError(f"{path.name}: not the HyperSpy file Atomap ships ({exc})") from None
    if data.ndim != 2 or abs(scales[0] / scales[1] - 1) > PIXEL_SIZE_AGREEMENT:
        raise ImageReadError(f"{path.name}: expected one 2D image with square pixels")
    pixel_size = check_pixel_size(10.0 * scales[0], path.name, "the file's scale in nm")
    return check_image(ExperimentalImage(
        data, pixel_size, path.name,
        {"material": "SrTiO3 [110] (HAADF)", "citation": STO_CITATION, "reference": STO_LITERATURE},
        ["the file's scale carries no unit: read as nm (as Atomap's tests use it)"]))


def user_images(folder: Path | None = None) -> list[Path]:
    """Images placed in ``data/experimental/`` (each with an optional ``.json`` sidecar).

    Args:
        folder: the folder to list; None for ``data/experimental/``.

    Returns:
        Sorted paths of the files with a suffix of ``FORMATS`` (empty when the folder is missing).
    """
    folder = Path(folder) if folder else paths.DATA / "experimental"
    if not folder.exists():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in FORMATS)
