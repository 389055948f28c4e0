"""The paper's own STEM image sets: AtomVision's STEM-JV2D and STEM-C2DB.

The paper's Table S1 classifies "Stem_jv2d" and "Stem_c2db": the simulated ADF-STEM image sets
of AtomVision (K. Choudhary et al., J. Chem. Inf. Model. 63, 1708 (2023)), served on figshare as
``stem_jv2d.zip`` (file 31054519) and ``stem_c2db.zip`` (file 31054516). Layout::

    stem_jv2d/train_folder/<class 0-4>/<JARVIS id>.jpg
    stem_jv2d/test_folder/<class 0-4>/<JARVIS id>.jpg

Each JPEG is an RGB 640 x 480 matplotlib figure: a white frame around a square that shows a
15 Å x 15 Å field (100 px at 0.15 Å/px, drawn larger: AtomVision's generation script shows the
central 100 px of a 200 px STEMConv image of a 30 Å supercell; ``simulate.image_set_style``
reproduces it, and the FFT estimator reads graphene's 2.467 Å and MoS2's 3.19 Å off the stored
crops at 15/256 Å/px). ``crop_drawn_square`` finds that square
exactly (deviation 32: the paper does not say how it read these figures); the store keeps it as grey
uint8 at ``IMAGE_PX`` (more than the 100 px of information it
holds), and the paper's preprocessing (resize to the input size, 3 channels, ImageNet
normalisation) follows in ``training`` as for every other image.

``load_image_set(name)`` finds the zip in ``data/raw/`` (a file placed by hand) or downloads it
there with a progress bar; a damaged zip is moved aside and reported, never reused; a zip whose
layout differs says what it holds. The set's own train/test folders are the split.
"""
from __future__ import annotations

import io
import re
import shutil
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..core import paths, storage
from ..simulate import image_set_style
from ..simulate.stem import StemParams
from . import datasets
from .structures import CorruptFileError, DataUnavailableError, check_member_size

__all__ = ["IMAGE_SETS", "SLOT_IMAGE_SET", "CITATION", "IMAGE_PX", "SPLIT_FOLDERS", "MAX_IMAGE_BYTES",
           "MAX_IMAGE_PIXELS", "ImageSet", "LoadedImageSet", "LayoutError", "image_set_path", "missing_message",
           "fetch_image_set", "verify_archive", "index_archive", "crop_drawn_square", "decode_member",
           "load_image_set", "STYLE_VERSION", "build_styled_store"]

IMAGE_PX = 256              # stored size of the cropped square
CROP_VERSION = 1            # bump when the crop or the stored size changes: stores are rebuilt
SPLIT_FOLDERS = {"train": "train_folder", "test": "test_folder"}
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
# Each member is a JPEG of a 640 x 480 figure, 20-60 kB (uncompressed RGB it would be 0.9 MB):
# a member declaring more is not one of the set's images, and is refused before it is read
MAX_IMAGE_BYTES = 16 << 20
# ... and decoded (as float, RGB) only up to 2048 x 2048 pixels, 14 times the figure's area
MAX_IMAGE_PIXELS = 2048 * 2048


@dataclass(frozen=True)
class ImageSet:
    """One of the paper's STEM image sets: where its zip comes from and what it shows.

    Attributes:
        name: the set's name (``stem_jv2d``, ``stem_c2db``).
        slot: the paper's dataset slot it images (``jv2d``, ``c2db``).
        file: the zip's file name in ``data/raw/``.
        url: figshare download URL of the zip.
        field_A: side of the square field of view of every image, in Å.
        citation: the reference to cite for the set.
    """
    name: str
    slot: str               # the paper's dataset slot it images (jv2d, c2db)
    file: str               # the zip's name in data/raw/
    url: str
    field_A: float          # side of the square field of view, Å
    citation: str


CITATION = ("K. Choudhary, R. Gurunathan, B. DeCost, A. Biacchi, AtomVision: A Machine Vision "
            "Library for Atomistic Images, J. Chem. Inf. Model. 63, 1708 (2023)")
IMAGE_SETS = {
    "stem_jv2d": ImageSet("stem_jv2d", "jv2d", "stem_jv2d.zip",
                          "https://figshare.com/ndownloader/files/31054519", image_set_style.FIELD_A, CITATION),
    # STEM-C2DB's generation script is not published: taken to be STEM-JV2D's (same paper, same
    # figure layout); not measured here
    "stem_c2db": ImageSet("stem_c2db", "c2db", "stem_c2db.zip",
                          "https://figshare.com/ndownloader/files/31054516", image_set_style.FIELD_A, CITATION),
}
SLOT_IMAGE_SET = {s.slot: s.name for s in IMAGE_SETS.values()}


class LayoutError(ValueError):
    """An intact zip whose folders are not those of an AtomVision image set."""


def image_set_path(name: str) -> Path:
    """Where the zip of an image set goes: ``data/raw/<file>``.

    Args:
        name: image set name, ``stem_jv2d`` or ``stem_c2db``.

    Returns:
        The zip's path (the file may not exist).

    Raises:
        ValueError: ``name`` is not one of ``IMAGE_SETS``.
    """
    return paths.RAW / _info(name).file


def _info(name: str) -> ImageSet:
    try:
        return IMAGE_SETS[name]
    except KeyError:
        raise ValueError(f"unknown image set {name!r}; choose one of {sorted(IMAGE_SETS)}") from None


def missing_message(name: str) -> str:
    """The message for an image set that is neither in ``data/raw/`` nor downloadable.

    Args:
        name: image set name, ``stem_jv2d`` or ``stem_c2db``.

    Returns:
        Text naming the file, its URL, where to place it, and the offline alternative.

    Raises:
        ValueError: ``name`` is not one of ``IMAGE_SETS``.
    """
    info = _info(name)
    return (f"The paper's image set {name} is not in {paths.relative(paths.RAW)}/ and cannot be "
            f"downloaded here. Place the file {info.file} (AtomVision, {info.url}) at "
            f"{paths.relative(image_set_path(name))}, or run with the offline stand-in "
            "(data_source='offline'; ./run_all.sh --data offline).")


# ------------------------------------------------------------------ the archive

def verify_archive(path: Path) -> None:
    """Check that ``path`` is a whole zip of plausible image members.

    Every member's CRC is tested; a member that declares more than ``MAX_IMAGE_BYTES`` or
    inflates like a zip bomb is refused on the zip's directory, before anything is inflated.

    Args:
        path: the zip file.

    Raises:
        CorruptFileError: naming the file, when it is not a readable zip, a member fails its CRC,
            or a member is too large.
    """
    try:
        with zipfile.ZipFile(path) as z:
            for info in z.infolist():
                check_member_size(path, info, MAX_IMAGE_BYTES)
            bad = z.testzip()
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError) as exc:
        raise CorruptFileError(f"{paths.relative(path)} is not a readable zip ({type(exc).__name__}: "
                               f"{exc}); it was probably cut off during download") from None
    if bad is not None:
        raise CorruptFileError(f"{paths.relative(path)}: member {bad} fails its CRC check")


def index_archive(path: Path) -> pd.DataFrame:
    """The images of an AtomVision zip, one row each, with the set's own labels and split.

    Args:
        path: the zip file (checked beforehand by ``verify_archive``).

    Returns:
        Columns ``id`` (file stem: the JARVIS id), ``label`` (class folder 0-4), ``split``
        (train/test) and ``member`` (its name in the zip), sorted by split (train first), label, id.

    Raises:
        LayoutError: says what the zip holds when it has no train and test class folders, and
            names the ids when an id is in two class folders or in both splits.
    """
    with zipfile.ZipFile(path) as z:
        names = [n for n in z.namelist() if not n.endswith("/")]
    pattern = re.compile(r"^(?:.*/)?(train_folder|test_folder)/([0-4])/([^/]+)$")
    rows, others = [], []
    for n in names:
        m = pattern.match(n)
        if m and Path(n).suffix.lower() in IMAGE_SUFFIXES:
            split = "train" if m.group(1) == "train_folder" else "test"
            rows.append({"id": Path(m.group(3)).stem, "label": int(m.group(2)), "split": split,
                         "member": n})
        else:
            others.append(n)
    table = pd.DataFrame(rows, columns=["id", "label", "split", "member"])
    found = sorted({"/".join(n.split("/")[:-1]) or "(top level)" for n in names})
    missing = [f for s, f in SPLIT_FOLDERS.items() if not (table["split"] == s).any()]
    if missing:
        raise LayoutError(f"{paths.relative(path)} has no images in {' or '.join(missing)}/<class 0-4>/ "
                          f"(expected <set>/train_folder/<class>/<id>.jpg and <set>/test_folder/...). "
                          f"It holds {len(names)} files in: {', '.join(found[:8])}"
                          + (" ..." if len(found) > 8 else ""))
    dup = table[table.duplicated(["split", "id"], keep=False)]
    if len(dup):
        raise LayoutError(f"{paths.relative(path)}: image {dup['id'].iloc[0]} appears in two class "
                          f"folders of {dup['split'].iloc[0]}_folder")
    _refuse_ids_in_both_splits(path, table)
    order = table.assign(s=table["split"].map({"train": 0, "test": 1}))
    return order.sort_values(["s", "label", "id"]).drop(columns="s").reset_index(drop=True)


def _refuse_ids_in_both_splits(path: Path, table: pd.DataFrame) -> None:
    """``LayoutError`` when an image id is in both train_folder and test_folder: with two labels
    the set contradicts itself; with one, the test images were seen in training (a leak that
    inflates every test score)."""
    train = table[table["split"] == "train"].set_index("id")["label"]
    test = table[table["split"] == "test"].set_index("id")["label"]
    both = sorted(set(train.index) & set(test.index))
    if not both:
        return
    clash = [i for i in both if train[i] != test[i]]
    where = f"{paths.relative(path)}: train_folder/ and test_folder/"
    if clash:
        shown = ", ".join(f"{i} (class {train[i]} in train, {test[i]} in test)" for i in clash[:5])
        raise LayoutError(f"{where} both hold {len(clash)} image id(s) under different classes, "
                          f"e.g. {shown}{' ...' if len(clash) > 5 else ''}; the set contradicts "
                          "itself")
    raise LayoutError(f"{where} both hold {len(both)} image id(s), e.g. "
                      f"{', '.join(both[:5])}{' ...' if len(both) > 5 else ''}; test images seen "
                      "in training would inflate every test score")


def fetch_image_set(name: str, download: bool = True) -> Path:
    """The zip of an image set in ``data/raw/``, downloaded there first when missing.

    The download shows a progress bar and is atomic. A damaged zip is moved aside to
    ``*.corrupt`` and fetched again.

    Args:
        name: image set name, ``stem_jv2d`` or ``stem_c2db``.
        download: fetch a missing or damaged zip; without it such a zip raises.

    Returns:
        Path of the verified zip.

    Raises:
        ValueError: ``name`` is not one of ``IMAGE_SETS``.
        DataUnavailableError: no usable zip and the download is off or fails (no network): names
            the file, the folder and the URL.
        CorruptFileError: the downloaded zip is damaged (it is not kept).
    """
    info = _info(name)
    path = image_set_path(name)
    moved = ""
    if path.exists():
        try:
            verify_archive(path)
            return path
        except CorruptFileError as exc:
            bad = storage.quarantine(path)
            moved = f" ({paths.relative(path)} was damaged and is now {paths.relative(bad)})"
            print(f"WARNING: {exc}. Moved it to {paths.relative(bad)}.")
    if not download:
        raise DataUnavailableError(missing_message(name) + moved)
    paths.ensure(path.parent)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=".download-"))
    try:
        try:
            _download(info.url, tmp / info.file)
        except Exception as exc:    # no network, HTTP error, ...
            raise DataUnavailableError(f"{missing_message(name)}{moved} (download failed: "
                                       f"{type(exc).__name__})") from None
        verify_archive(tmp / info.file)          # a damaged download is not kept
        (tmp / info.file).replace(path)
        return path
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _download(url: str, dest: Path, timeout: float = 30.0) -> None:
    import urllib.request

    from tqdm import tqdm

    with urllib.request.urlopen(url, timeout=timeout) as r, open(dest, "wb") as fh:
        total = int(r.headers.get("Content-Length") or 0) or None
        with tqdm(total=total, unit="B", unit_scale=True, desc=dest.name, mininterval=1.0) as bar:
            for block in iter(lambda: r.read(1 << 20), b""):
                fh.write(block)
                bar.update(len(block))


# ------------------------------------------------------------------ the images

def crop_drawn_square(image: np.ndarray, white: float = 245.0) -> np.ndarray:
    """The square field a matplotlib figure draws inside its white frame.

    Columns and rows of the square are those where most pixels are not white (the frame is
    white; the field is dark with bright atoms); JPEG ringing at the edges is below that share.

    Args:
        image: the figure, RGB(A) [H, W, 3 or 4] or grey [H, W], on a 0-255 scale or on 0-1
            (a maximum of at most 1 is read as 0-1).
        white: grey level on the 0-255 scale from which a pixel counts as the white frame.

    Returns:
        Grey float [n, n] on a 0-255 scale.

    Raises:
        ValueError: the image is not 2D or RGB, is all white, or frames no square of 16 px or more.
    """
    img = np.asarray(image, dtype=float)
    if img.ndim == 3:
        img = img[..., :3].mean(axis=-1)
    if img.ndim != 2:
        raise ValueError(f"expected an RGB or grey image, got shape {np.shape(image)}")
    if img.max() <= 1.0:
        img = img * 255.0
    dark = img < white
    spans = []
    for profile in (dark.mean(axis=1), dark.mean(axis=0)):      # rows, columns
        inside = profile > 0.5 * profile.max() if profile.max() > 0 else profile > 1
        runs = _runs(inside)
        if not runs:
            raise ValueError("no framed field found (the image is white)")
        spans.append(max(runs, key=lambda r: r[1] - r[0]))
    (r0, r1), (c0, c1) = spans
    h, w = r1 - r0, c1 - c0
    if abs(h - w) > max(2, 0.02 * max(h, w)) or min(h, w) < 16:
        raise ValueError(f"the framed field is {w} x {h} px, not a square")
    n = min(h, w)
    r0 += (h - n) // 2
    c0 += (w - n) // 2
    return img[r0:r0 + n, c0:c0 + n]


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) of each run of True."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)))


def decode_member(data: bytes, px: int = IMAGE_PX) -> np.ndarray:
    """Decode one image of the set into the drawn square, grey and resized.

    Args:
        data: the bytes of one JPEG or PNG member.
        px: side of the output image, in pixels.

    Returns:
        uint8 [px, px] (by ``crop_drawn_square`` and ``datasets.resize_images``).

    Raises:
        ValueError: the image declares more than ``MAX_IMAGE_PIXELS`` (not decoded) or frames
            no square.
    """
    import matplotlib.image
    from PIL import Image


    with Image.open(io.BytesIO(data)) as probe:      # reads the header only
        w, h = probe.size
    if w * h > MAX_IMAGE_PIXELS:
        raise ValueError(f"the image is {w} x {h} pixels, more than the {MAX_IMAGE_PIXELS:,} "
                         "of any image of the set; not decoded")
    square = crop_drawn_square(matplotlib.image.imread(io.BytesIO(data), format="jpg"))
    return datasets.resize_images(np.clip(np.round(square), 0, 255).astype(np.uint8)[None], px)[0]


def _decode_chunk(payload):
    zip_path, members, px = payload
    with zipfile.ZipFile(zip_path) as z:
        def draw(k):
            check_member_size(zip_path, z.getinfo(members[k]), MAX_IMAGE_BYTES)
            return decode_member(z.read(members[k]), px)

        return datasets.chunk_images([Path(m).stem for m in members], px, draw)


@dataclass
class LoadedImageSet:
    """A paper image set ready for training: its images in a store and its table.

    Attributes:
        info: the set's description (``ImageSet``).
        table: ``id``, ``label``, ``split``, ``member``, one row per image (``index_archive``).
        store: uint8 [IMAGE_PX, IMAGE_PX] images, row ``i`` for ``table`` row ``i``.
        zip_sha256: the zip's SHA-256, first 16 hex digits.
    """
    info: ImageSet
    table: pd.DataFrame     # id, label, split, member (+ the paper's Table S3 is in profiles)
    store: datasets.ImageStore
    zip_sha256: str

    @property
    def pixel_size(self) -> float:
        """Å per pixel of the stored images."""
        return self.info.field_A / self.store.params.image_px


def load_image_set(name: str, download: bool = True, workers: int = 1, chunk_size: int = 256,
                   force: bool = False, verbose: bool = True) -> LoadedImageSet:
    """The images of a paper image set in a chunked store, with their table.

    The store is built once, keyed by the zip's content; see the module docstring. Images that
    cannot be decoded are blank in the store and listed in its ``failed``.

    Args:
        name: image set name, ``stem_jv2d`` or ``stem_c2db``.
        download: fetch the zip when it is missing or damaged.
        workers: processes that decode chunks.
        chunk_size: images per chunk file.
        force: decode every image again even when a store exists.
        verbose: show a progress bar and report images that could not be read.

    Returns:
        The loaded set; its images show ``info.field_A`` (15 Å) at ``pixel_size`` Å per pixel.

    Raises:
        ValueError: ``name`` is not one of ``IMAGE_SETS``.
        DataUnavailableError: no zip in ``data/raw/`` and none can be downloaded.
        CorruptFileError: the downloaded zip is damaged.
        LayoutError: the zip is not laid out as an AtomVision image set.
    """
    info = _info(name)
    path = fetch_image_set(name, download)
    table = index_archive(path)
    sha = storage.file_sha256(path, 16)
    params = StemParams(image_px=IMAGE_PX, px_scale=info.field_A / IMAGE_PX)
    # the field of view is in the key: a store records its pixel size, which the estimator and predict read
    root = paths.IMAGES / f"{name}-{len(table)}-{storage.content_key(sha, CROP_VERSION, chunk_size, info.field_A)}"
    members = table["member"].tolist()
    payloads = [(str(path), members[s:s + chunk_size], IMAGE_PX) for s in range(0, len(table), chunk_size)]
    store = datasets.build_store(root, name, table["id"].tolist(), params, chunk_size, _decode_chunk,
                                 payloads, workers=workers, force=force, verbose=verbose)
    if store.failed and verbose:
        print(f"{name}: {len(store.failed)} images could not be read: stored blank and listed in "
              f"store.failed, which the studies leave out; e.g. {store.failed[0]}")
    return LoadedImageSet(info, table, store, sha)


# bump when the way structures are drawn like a set changes: styled stores are rebuilt
STYLE_VERSION = 1


def _render_chunk(payload):
    """Structures of one chunk drawn like the image set and read back through the set's own crop:
    (uint8 [n, px, px], failed [(id, reason)])."""
    from jarvis.core.atoms import Atoms     # jarvis only in the worker processes that draw

    ids, atoms_dicts, px = payload
    return datasets.chunk_images(ids, px, lambda k: decode_member(
        image_set_style.render_like_image_set(Atoms.from_dict(atoms_dicts[k]), ids[k]), px))


def build_styled_store(slot: str, table: pd.DataFrame, name: str = "stem_jv2d", chunk_size: int = 256,
                       workers: int = 1, force: bool = False, verbose: bool = True) -> datasets.ImageStore:
    """The structures of ``table`` drawn the way the image set ``name`` was made
    (``simulate.image_set_style``) and stored through the set's own crop (``decode_member``), so
    that a network trained on them sees what it would see on the set.

    Args:
        slot: dataset slot (names the store folder).
        table: corpus table with ``id`` and ``atoms`` (oriented layers) columns.
        name: the image set whose drawing is copied (``IMAGE_SETS``).
        chunk_size: images per chunk file.
        workers: processes that draw chunks.
        force: draw every chunk again even when a whole one is stored.
        verbose: show a progress bar and report failed records.

    Returns:
        The store: uint8 [``IMAGE_PX``, ``IMAGE_PX``] images of the set's field of view, row ``i``
        for ``table`` row ``i``; a record that cannot be drawn is blank and listed in ``failed``.
    """
    info = _info(name)
    params = StemParams(image_px=IMAGE_PX, px_scale=info.field_A / IMAGE_PX)
    ids, atoms = list(table["id"]), list(table["atoms"])
    key = storage.content_key(ids, datasets.imaged_atoms(atoms), image_set_style.IMAGE_SET_STEM.as_dict(),
                              image_set_style.JPEG_QUALITY, CROP_VERSION, STYLE_VERSION, chunk_size)
    root = paths.IMAGES / f"{slot}-like-{name}-{len(table)}-{key}"
    payloads = [(ids[s:s + chunk_size], atoms[s:s + chunk_size], IMAGE_PX) for s in range(0, len(ids), chunk_size)]
    return datasets.build_store(root, f"{slot} like {name}", ids, params, chunk_size, _render_chunk, payloads,
                                workers=workers, force=force, verbose=verbose)
