"""Corpora, splits and chunked STEM image stores, all cached and resumable.

* ``load_corpus(slot, profile, source)``: the normalised structure table of one dataset
  slot, built in blocks (each written atomically) and cached by its settings.
* ``per_class_split``: the paper's 80/20 train/test split as AtomVision makes it, each class
  sending ceil(0.2 n) of its n members to the test set, seeded (``with_split``);
  ``stratified_split``: scikit-learn's stratified split, which misses the paper's counts by one.
* ``build_image_store`` / ``ImageStore``: uint8 images in chunk files of
  ``chunk_size`` images, each written atomically; a manifest marks a complete store.
  Memory stays bounded by (workers x one chunk) whatever the dataset size.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from ..core import parallel, paths, storage
from ..core.profiles import Profile
from ..simulate.stem import StemParams, simulate_stem_image, to_uint8
from . import offline_corpus
from .prototypes import LIBRARY
from .structures import COLUMNS, NORMALISE_VERSION, jarvis_zip_path, load_jarvis_table

__all__ = ["load_corpus", "corpus_path", "corpus_summary", "jarvis_corpus_path", "per_class_split", "stratified_split",
           "with_split", "TRANSFORM_COLUMNS", "build_image_store", "build_store", "chunk_images", "store_dir",
           "IMAGED_FIELDS", "imaged_atoms", "ImageStore", "resize_images"]

STORE_VERSION = 1


# ---------------------------------------------------------------- corpora

def corpus_path(slot: str, profile: Profile, source: str) -> Path:
    """The cache file of one slot's offline corpus, named by everything the corpus depends on.

    The content key covers the source, the slot, its size and seed, the generator and
    normalisation code versions, the slot's settings and the prototype library's bytes (nothing
    depends on time), so a changed input never returns the table of another.

    Args:
        slot: dataset slot, ``jv2d``, ``c2db`` or ``alex``.
        profile: run profile; its ``corpus_sizes[slot]`` (number of structures) and ``seed`` are used.
        source: data source named in the file (``offline``).

    Returns:
        ``data/corpora/<source>-<slot>-n<n>-s<seed>-<key>.json.gz`` (the file may not exist yet).

    Raises:
        KeyError: ``slot`` has no corpus size in ``profile`` or no offline settings.
    """
    n = profile.corpus_sizes[slot]
    # every input of the stand-in: generator and labelling code versions, the per-slot settings
    # and the prototype library's bytes (nothing depends on time)
    key = storage.content_key(source, slot, n, profile.seed, offline_corpus.GENERATOR_VERSION, NORMALISE_VERSION,
                              sorted(offline_corpus.SLOT_SETTINGS[slot].items()), storage.file_sha256(LIBRARY))
    return paths.CORPORA / f"{source}-{slot}-n{n}-s{profile.seed}-{key}.json.gz"


def load_corpus(slot: str, profile: Profile, source: str = "offline", force: bool = False,
                block_size: int = 512, verbose: bool = True) -> pd.DataFrame:
    """The structure table of one dataset slot (``jv2d``, ``c2db``, ``alex``).

    Offline, the corpus is generated in blocks of ``block_size`` structures (each part written
    atomically, so an interrupted build resumes) and cached by ``corpus_path``; an unreadable
    or mismatched cache is rebuilt. From ``jarvis`` it is the paper's whole database, cached by
    ``jarvis_corpus_path`` (``profile``, ``block_size`` and ``verbose`` are then not used).

    Args:
        slot: dataset slot, ``jv2d``, ``c2db`` or ``alex``.
        profile: run profile: structures per slot (``corpus_sizes``), ``seed`` and ``workers``.
        source: ``offline`` (the prototype stand-in) or ``jarvis`` (the paper's database).
        force: rebuild even when a cached table exists.
        block_size: structures per block (part file) of an offline build.
        verbose: show a progress bar and print the generation summary.

    Returns:
        One row per kept structure: the columns of ``structures.COLUMNS`` (``a``, ``b`` in Å,
        ``gamma`` in degrees, ``label`` the Bravais class 0-4) in that order, then extra columns
        sorted by name.

    Raises:
        ValueError: ``source`` is neither ``offline`` nor ``jarvis``.
        RuntimeError: the blocks of an offline build do not account for every requested structure.
        structures.DataUnavailableError: ``jarvis``, with no database zip and no network.
    """
    if source == "jarvis":
        return _load_jarvis_corpus(slot, force)
    if source != "offline":
        raise ValueError(f"unknown data source {source!r}: use 'offline' or 'jarvis'")

    path = corpus_path(slot, profile, source)
    n = profile.corpus_sizes[slot]
    if path.exists() and not force:
        try:
            cached = storage.read_json_object(path, "corpus")
            summary = cached["summary"]
            if summary.get("requested") != n or summary.get("kept") != len(cached["rows"]):
                raise ValueError(f"it holds {len(cached['rows'])} rows of "
                                 f"{summary.get('requested')} requested, not of {n}")
            if not storage.summary_path(path).exists():
                storage.write_json(storage.summary_path(path), summary)
            return _table(cached["rows"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            print(f"{paths.relative(path)} is unreadable ({exc}); rebuilding it")
    targets = offline_corpus.class_sequence(slot, n, profile.seed)
    # the block size is in each part's name: parts of another block size are rebuilt
    spans = {f"block-{a:07d}-{min(a + block_size, n):07d}.json.gz": (a, min(a + block_size, n))
             for a in range(0, n, block_size)}
    bar = parallel.progress(n, f"{slot} structures") if verbose else None

    def build(todo):
        for name in todo:
            idx = np.arange(*spans[name])
            r, s, rej = offline_corpus.generate_block(slot, idx, targets[idx], profile.seed, workers=profile.workers)
            if bar is not None:
                bar.update(len(idx))
            yield name, {"rows": r, "skipped": s, "rejected": rej}

    blocks, parts = storage.build_in_parts(path, {k: b - a for k, (a, b) in spans.items()}, build, force, bar)
    if bar is not None:
        bar.close()
    rows = [r for b in blocks for r in b["rows"]]
    skipped = [tuple(x) for b in blocks for x in b["skipped"]]
    rejected = sum((Counter(b["rejected"]) for b in blocks), Counter())
    if len(rows) + len(skipped) != n:    # every requested structure is a row or a skip
        raise RuntimeError(f"{paths.relative(path)}: {len(rows)} rows and {len(skipped)} skipped "
                           f"for {n} requested; delete {paths.relative(parts)} and rerun")
    rows = _table(rows).to_dict("records")   # same column order fresh or from cache
    summary = {"requested": n, "kept": len(rows), "skipped": skipped,
               "rejected_attempts": dict(sorted(rejected.items()))}
    storage.write_corpus(path, rows, summary, parts)
    if verbose:
        print(f"{slot}: {len(rows)} of {n} structures generated, {len(skipped)} skipped; "
              f"rejected attempts: {dict(rejected)}")
    return _table(rows)


def corpus_summary(slot: str, profile: Profile, source: str = "offline") -> dict:
    """What the build of an offline corpus kept, skipped and rejected (its ``.summary.json``).

    Args:
        slot: dataset slot, ``jv2d``, ``c2db`` or ``alex``.
        profile: run profile the corpus was built with (``corpus_sizes``, ``seed``).
        source: data source; only ``offline`` corpora have a summary.

    Returns:
        ``requested``, ``kept``, ``skipped`` (``[id, reason]`` pairs) and ``rejected_attempts``
        (reason -> count); an empty dict for any other source.

    Raises:
        FileNotFoundError: the corpus has not been built (``load_corpus`` writes the summary).
        storage.StoredFileError: the summary file is truncated or not JSON.
    """
    if source != "offline":
        return {}
    return storage.read_json(storage.summary_path(corpus_path(slot, profile, source)))


def jarvis_corpus_path(slot: str) -> Path | None:
    """The cached table of a jarvis zip, named by the zip's content (SHA-256) and the version of
    the normalisation: a replaced or damaged zip never returns the table of another.

    Args:
        slot: dataset slot, ``jv2d``, ``c2db`` or ``alex``.

    Returns:
        ``data/corpora/jarvis-<slot>-<sha256, 16 hex digits>-v<version>.json.gz``, or None while no
        zip file is in ``data/raw/``.
    """
    zip_path = jarvis_zip_path(slot)
    if not zip_path.is_file():     # a folder named like the zip is no zip (the loader says so)
        return None
    return paths.CORPORA / (f"jarvis-{slot}-{storage.file_sha256(zip_path, 16)}"
                            f"-v{NORMALISE_VERSION}.json.gz")


def _load_jarvis_corpus(slot: str, force: bool) -> pd.DataFrame:
    path = jarvis_corpus_path(slot)
    if path is not None and path.exists() and not force:
        try:
            return _table(storage.read_json_object(path, "corpus")["rows"])
        except (OSError, KeyError, TypeError, ValueError) as exc:   # truncated: rebuilt
            print(f"{paths.relative(path)} is unreadable ({exc}); rebuilding it")
    table, skipped = load_jarvis_table(slot)      # downloads, or quarantines a damaged zip
    path = jarvis_corpus_path(slot)               # the zip now in place
    storage.write_json(path, {"rows": table.to_dict("records"),
                              "summary": {"kept": len(table), "skipped": skipped,
                                          "relabelled": table.attrs.get("relabelled", []),
                                          "zip": path.name.split("-")[2]}}, gz=True)
    return table


def _table(rows) -> pd.DataFrame:
    """Rows -> DataFrame with a fixed column order (the standard columns, then extras)."""
    df = pd.DataFrame(rows).reset_index(drop=True)
    extra = sorted(c for c in df.columns if c not in COLUMNS)
    return df[[c for c in COLUMNS if c in df.columns] + extra]


# ---------------------------------------------------------------- split

def stratified_split(labels, test_fraction: float = 0.2, seed: int = 0) -> np.ndarray:
    """Boolean ``is_test`` mask by scikit-learn's stratified split (``train_test_split``).

    It rounds the test size of the whole set and then shares it out, missing some classes'
    counts by one against the paper's per-class rule (``per_class_split``); classes with a
    single member, which it refuses, go to training.

    Args:
        labels: class label of every sample, shape [N].
        test_fraction: share of the samples sent to the test set (0-1).
        seed: ``random_state`` of the split.

    Returns:
        bool [N], True for a test sample.
    """
    from sklearn.model_selection import train_test_split

    labels = np.asarray(labels)
    idx = np.arange(len(labels))
    counts = Counter(labels.tolist())
    ok = np.array([counts[x] >= 2 for x in labels.tolist()])
    is_test = np.zeros(len(labels), dtype=bool)
    if ok.sum() >= 2:
        _, test = train_test_split(idx[ok], test_size=test_fraction, random_state=seed,
                                   stratify=labels[ok])
        is_test[test] = True
    return is_test


def per_class_split(labels, test_fraction: float = 0.2, seed: int = 0) -> np.ndarray:
    """Boolean ``is_test`` mask by the paper's per-class 80/20 rule.

    Each class sends ceil(``test_fraction`` n) of its n members to the test set, drawn by a
    seeded permutation (a class of one stays in training). This is the rule of AtomVision's
    splits: it gives the paper's Table S3 test counts of C2DB (316/148/144/63/34) and Alex-PBE
    (5715/1792/14579/3513/1970) exactly, and the STEM-JV2D zip's (92/35/66/7/17; the paper
    prints 65 and 16 for classes 2 and 4), where scikit-learn's stratified split misses some
    classes by one.

    Args:
        labels: class label of every sample, shape [N].
        test_fraction: share of each class sent to the test set (0-1).
        seed: seed of the permutations (one generator, classes in sorted order).

    Returns:
        bool [N], True for a test sample.
    """
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    is_test = np.zeros(len(labels), dtype=bool)
    for cls in sorted(set(labels.tolist()), key=str):
        members = np.flatnonzero(labels == cls)
        if len(members) < 2:
            continue
        k = int(np.ceil(test_fraction * len(members) - 1e-9))
        is_test[rng.permutation(members)[:k]] = True
    return is_test


def with_split(table: pd.DataFrame, profile: Profile) -> pd.DataFrame:
    """The table with a ``split`` column (train/test) by ``per_class_split``.

    Args:
        table: corpus table with a ``label`` column (Bravais class).
        profile: run profile; its ``test_fraction`` and ``seed`` set the split.

    Returns:
        A copy of ``table`` with ``split`` set to ``"train"`` or ``"test"`` on every row.
    """
    out = table.copy()
    out["split"] = np.where(per_class_split(out["label"], profile.test_fraction, profile.seed),
                            "test", "train")
    return out


# ---------------------------------------------------------------- image stores

# Optional per-record columns that change how a record is imaged (robustness studies):
# rotation of the lattice in degrees, shift in A, and the pixel size in A.
TRANSFORM_COLUMNS = ("rot", "shift_x", "shift_y", "px_scale")


def _transforms(table: pd.DataFrame, params: StemParams) -> list | None:
    if not any(c in table.columns for c in TRANSFORM_COLUMNS):
        return None
    default = {"rot": 0.0, "shift_x": 0.0, "shift_y": 0.0, "px_scale": params.px_scale}
    cols = {c: (table[c].to_numpy(float) if c in table.columns else np.full(len(table), v))
            for c, v in default.items()}
    return [tuple(float(cols[c][i]) for c in TRANSFORM_COLUMNS) for i in range(len(table))]


IMAGED_FIELDS = ("lattice_mat", "coords", "elements", "cartesian")


def imaged_atoms(atoms) -> list:
    """What of each structure a STEM image depends on, for a cache key: the cell, the coordinates
    (and whether they are Cartesian) and the element of every site (the contrast is Z-dependent);
    not the derived ``abc``, ``angles`` or ``props`` of the atoms dict.

    Args:
        atoms: the ``atoms`` dicts of a corpus table, in row order.

    Returns:
        [{field: value}] with the ``IMAGED_FIELDS`` each dict has.
    """
    return [{k: r[k] for k in IMAGED_FIELDS if k in r} for r in atoms]


def store_dir(slot: str, table: pd.DataFrame, params: StemParams, chunk_size: int) -> Path:
    """The folder of the image store of ``table``, named by the content of everything imaged.

    The key covers the ids, what of every structure is imaged (``imaged_atoms``: cell,
    coordinates, elements), the simulation parameters, the chunk size, the store version and the
    per-record ``TRANSFORM_COLUMNS`` where present.

    Args:
        slot: dataset slot (the folder name's prefix).
        table: corpus table with ``id`` and ``atoms`` columns.
        params: STEM simulation parameters (image size in px, pixel size in Å per pixel, ...).
        chunk_size: images per chunk file.

    Returns:
        ``data/images/<slot>-<N>-<key>`` (the folder may not exist yet).
    """
    extra = _transforms(table, params)
    key = storage.content_key(list(table["id"]), imaged_atoms(table["atoms"]), params.as_dict(),
                              chunk_size, STORE_VERSION, *([extra] if extra else []))
    return paths.IMAGES / f"{slot}-{len(table)}-{key}"


def chunk_images(ids: list, px: int, draw) -> tuple[np.ndarray, list]:
    """The images of one chunk: ``draw(k)`` makes image ``k``; one that fails is left blank
    (zeros) and reported, and the chunk is kept.

    Args:
        ids: the records' ids, in chunk order.
        px: side of every image (px).
        draw: k -> uint8 [px, px] image of record k.

    Returns:
        (uint8 [n, px, px], failed [(id, reason)]).
    """
    images = np.zeros((len(ids), px, px), dtype=np.uint8)
    failed = []
    for k, rid in enumerate(ids):
        try:
            images[k] = draw(k)
        except Exception as exc:  # keep the chunk; report the record
            failed.append((rid, f"{type(exc).__name__}: {exc}"))
    return images, failed


def _simulate_chunk(payload):
    """Images of one chunk of structures: (uint8 [n, px, px], failed [(id, reason)])."""
    from jarvis.core.atoms import Atoms

    ids, atoms_dicts, params, transforms = payload
    params = StemParams(**params)

    def draw(k):
        if transforms is None:
            return to_uint8(simulate_stem_image(Atoms.from_dict(atoms_dicts[k]), params))
        rot, sx, sy, px = transforms[k]
        p = StemParams(**{**params.as_dict(), "px_scale": px})
        return to_uint8(simulate_stem_image(Atoms.from_dict(atoms_dicts[k]), p, rot=rot, shift=(sx, sy)))

    return chunk_images(ids, params.image_px, draw)


def _write_chunk(args):
    """Run a chunk maker and store its images atomically: (path, failed, checksum)."""
    make_chunk, path, payload = args
    images, failed = make_chunk(payload)
    storage.save_npy(path, images)
    return str(path), failed, storage.checksum(images)


def build_image_store(slot: str, table: pd.DataFrame, params: StemParams = StemParams(),
                      chunk_size: int = 256, workers: int = 2, force: bool = False,
                      verbose: bool = True) -> "ImageStore":
    """Simulate every structure of ``table`` into a chunked uint8 store (resumable).

    A record whose simulation fails is left blank (zeros) and listed in the store's ``failed``.

    Args:
        slot: dataset slot (names the store folder and the progress bar).
        table: corpus table with ``id`` and ``atoms`` columns, and optionally the per-record
            ``TRANSFORM_COLUMNS`` (rotation in degrees, shift in Å, pixel size in Å per pixel).
        params: STEM simulation parameters (image size in px, pixel size in Å per pixel, ...).
        chunk_size: images per chunk file.
        workers: processes that simulate chunks.
        force: simulate every chunk again even when a whole one is stored.
        verbose: show a progress bar and report failed records.

    Returns:
        The store at ``store_dir(slot, table, params, chunk_size)``: uint8 [params.image_px,
        params.image_px] images, row ``i`` for ``table`` row ``i``.
    """
    root = store_dir(slot, table, params, chunk_size)
    ids, atoms = list(table["id"]), list(table["atoms"])
    transforms = _transforms(table, params)
    payloads = [(ids[s:s + chunk_size], atoms[s:s + chunk_size], params.as_dict(),
                 None if transforms is None else transforms[s:s + chunk_size])
                for s in range(0, len(ids), chunk_size)]
    return build_store(root, slot, ids, params, chunk_size, _simulate_chunk, payloads, workers,
                       force, verbose)


def build_store(root: Path, name: str, ids: list, params: StemParams, chunk_size: int, make_chunk,
                payloads: list, workers: int = 2, force: bool = False,
                verbose: bool = True) -> "ImageStore":
    """A chunked uint8 image store at ``root`` (resumable, checksummed).

    Chunk ``c`` holds the images ``make_chunk(payloads[c])`` returns as ``(uint8 [n, px, px],
    failed)``. Chunks that are present, whole and match the manifest's checksum are kept; the
    rest are made, in ``workers`` processes (``make_chunk`` must be a module-level function). A
    manifest whose ids or chunk size differ describes another store, which is rebuilt.

    Args:
        root: the store's folder.
        name: the store's name in the manifest (``slot``) and on the progress bar.
        ids: record id of every image, in row order.
        params: simulation parameters kept in the manifest; ``params.image_px`` is the side (px) of
            every stored image.
        chunk_size: images per chunk file.
        make_chunk: module-level function, payload -> ``(uint8 [n, px, px], [(id, reason)])``.
        payloads: one payload per chunk, in chunk order.
        workers: processes that make chunks.
        force: make every chunk again, ignoring stored chunks and manifest.
        verbose: show a progress bar and report failed images.

    Returns:
        The store, its manifest written.
    """
    manifest = root / "manifest.json"
    n = len(ids)
    old = None if force else _read_manifest(manifest)
    if old is not None and (old.get("n"), old.get("chunk_size"), old.get("ids")) != (n, chunk_size, ids):
        print(f"{paths.relative(manifest)} describes another store; rebuilding it")
        old = None
    if old is not None and len(old.get("checksums") or []) == -(-n // chunk_size):
        store = ImageStore(root)
        bad = store.bad_chunks()
        if not bad:
            return store
        print(f"{paths.relative(root)}: chunk(s) {', '.join(map(str, bad))} missing, truncated or "
              "failing their checksum; rebuilding those")
    paths.ensure(root)
    stored = list((old or {}).get("checksums") or [])
    checksums, tasks = [], []
    for c, start in enumerate(range(0, n, chunk_size)):
        path = root / f"chunk-{c:05d}.npy"
        size = min(chunk_size, n - start)
        arr = None if force else storage.load_npy_checked(path, (params.image_px, params.image_px), np.uint8)
        if arr is not None and len(arr) == size:
            crc = storage.checksum(arr)
            # kept if it matches the manifest; a chunk of an interrupted build (no manifest
            # yet) was written atomically and is whole
            if c >= len(stored) or stored[c] == crc:
                checksums.append(crc)
                continue
        checksums.append(None)
        tasks.append((make_chunk, str(path), payloads[c]))
    failed = []
    bar = parallel.progress(len(tasks), f"{name} image chunks") if verbose and tasks else None
    for path, f, crc in parallel.imap(_write_chunk, tasks, workers, ordered=False):
        failed += f
        checksums[int(Path(path).stem.split("-")[1])] = crc
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    old_failed = (old or {}).get("failed", [])
    storage.write_json(manifest, {
        "slot": name, "n": n, "chunk_size": chunk_size, "params": params.as_dict(),
        "ids": ids, "failed": sorted({tuple(x) for x in old_failed + failed}),
        "version": STORE_VERSION, "checksums": checksums})
    if failed and verbose:
        print(f"{name}: {len(failed)} images failed and are blank, e.g. {failed[0]}")
    return ImageStore(root)


def _read_manifest(path: Path) -> dict | None:
    """A store's manifest, or None when it is missing or unreadable (then rebuilt)."""
    if not path.exists():
        return None
    try:
        return storage.read_json_object(path, "store manifest")
    except OSError as exc:
        print(f"{exc}; rebuilding it")
        return None


class ImageStore:
    """Read side of a chunked store: ``store[i]`` is the uint8 image of row ``i``.

    Opening reads the manifest only; each chunk is memory-mapped and checked (shape, CRC-32) on
    its first read. ``storage.StoredFileError`` names a manifest that is not one, or a chunk that
    is missing, truncated or fails its checksum.

    Attributes:
        root: the store's folder.
        n: number of images.
        chunk_size: images per chunk file.
        ids: record id of every image, in row order.
        params: the ``StemParams`` of the images (side ``image_px`` in px, ``px_scale`` in Å per pixel).
        failed: ``(id, reason)`` of the images that could not be made (left blank).
        checksums: CRC-32 of each chunk (None where a store predates checksums).
    """

    def __init__(self, root: Path):
        self.root = Path(root)
        manifest = self.root / "manifest.json"
        meta = storage.read_json_object(manifest, "store manifest")
        try:
            self.n, self.chunk_size = int(meta["n"]), int(meta["chunk_size"])
            self.ids = meta["ids"]
            self.params = StemParams(**meta["params"])
        except (KeyError, TypeError, ValueError) as exc:
            raise storage.StoredFileError(f"{paths.relative(manifest)} is not a store manifest "
                                          f"({type(exc).__name__}: {exc})") from None
        self.failed = [tuple(x) for x in meta.get("failed", [])]
        # CRC-32 of each chunk's images; checked on the first read of a chunk (stores written
        # before checksums have none and are checked for shape only)
        self.checksums = list(meta.get("checksums") or [None] * self.n_chunks())
        self._chunks: dict[int, np.ndarray] = {}

    def __len__(self) -> int:
        return self.n

    def _load(self, c: int) -> tuple[np.ndarray | None, str]:
        """Chunk ``c`` memory-mapped and checked, or None and what is wrong with it."""
        arr = storage.load_npy_checked(self.root / f"chunk-{c:05d}.npy",
                                       (self.params.image_px,) * 2, np.uint8)
        expect = min(self.chunk_size, self.n - c * self.chunk_size)
        if arr is None or arr.shape[0] != expect:
            return None, "is missing or truncated"
        want = self.checksums[c] if c < len(self.checksums) else None
        if want is not None and storage.checksum(arr) != want:
            return None, "fails its checksum (the file was changed or damaged)"
        return arr, ""

    def _chunk(self, c: int) -> np.ndarray:
        if c not in self._chunks:
            arr, problem = self._load(c)
            if arr is None:
                raise storage.StoredFileError(f"{paths.relative(self.root)}/chunk-{c:05d}.npy "
                                              f"{problem}; rerun the build to regenerate it")
            self._chunks[c] = arr
        return self._chunks[c]

    def chunk(self, c: int) -> np.ndarray:
        """The images of chunk ``c`` (rows ``c * chunk_size`` onwards), memory-mapped."""
        return self._chunk(c)

    def __getitem__(self, i: int) -> np.ndarray:
        if not -self.n <= i < self.n:
            raise IndexError(i)
        i %= self.n
        return np.asarray(self._chunk(i // self.chunk_size)[i % self.chunk_size])

    def n_chunks(self) -> int:
        """Number of chunk files of the store."""
        return (self.n + self.chunk_size - 1) // self.chunk_size

    def bad_chunks(self) -> list[int]:
        """Chunks missing, truncated or failing their checksum (every chunk is read once;
        those that pass are kept open, so reading them later costs nothing more)."""
        self._chunks.clear()
        bad = []
        for c in range(self.n_chunks()):
            arr, _ = self._load(c)
            if arr is None:
                bad.append(c)
            else:
                self._chunks[c] = arr
        return bad

    def verify(self) -> bool:
        """True when every chunk is present, with the expected shape and checksum."""
        return not self.bad_chunks()


def resize_images(images: np.ndarray, px: int) -> np.ndarray:
    """Resize images to ``px`` x ``px``, antialiased bilinear (the field of view is kept).

    The one resizing of every network input: the image stores at training, a paper image set's
    JPEGs, and a user's image at prediction.

    Args:
        images: uint8 [N, H, W] (a read-only memory map is fine: it is copied).
        px: side of the output images, in pixels.

    Returns:
        uint8 [N, px, px] (rounded and clipped to 0-255; unchanged when already that size).
    """
    # torch here only: the data layer imports without it, and only resizing needs it
    import torch
    import torch.nn.functional as F

    x = torch.from_numpy(np.array(images, dtype=np.uint8)).float()[:, None]   # a copy: stores are read-only maps
    if x.shape[-1] != px or x.shape[-2] != px:
        x = F.interpolate(x, size=(px, px), mode="bilinear", antialias=True, align_corners=False)
    return x[:, 0].round_().clamp_(0, 255).to(torch.uint8).numpy()
