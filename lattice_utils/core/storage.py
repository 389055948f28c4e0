"""Atomic writes and content keys: an interrupted run never leaves a half-written file
under its final name, so a rerun resumes from whatever is complete."""
from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
import os
import tempfile
import warnings
import zlib
from pathlib import Path

import numpy as np

from . import paths

try:
    import fcntl
except ImportError:     # not POSIX
    fcntl = None

__all__ = ["StoredFileError", "locked", "write_bytes", "write_text", "write_json", "read_json", "read_json_object",
           "quarantine", "save_npy", "load_npy_checked", "checksum", "save_torch", "load_torch", "content_key",
           "array_key", "file_sha256", "summary_path", "build_in_parts", "write_corpus", "strict"]


# os.umask can only be read by setting it: done once, at import, before this process starts
# threads that create files (setting it later could race with them)
_UMASK = os.umask(0o022)
os.umask(_UMASK)


def _mode_for(path: Path) -> int:
    """The mode a plain ``open(path, "w")`` gives a new file (0o666 less the umask), keeping the
    execute bits of the file it replaces (a script stays runnable). mkstemp's 0o600 would leave
    README.md, docs/ and every output readable by their owner alone."""
    try:
        keep = os.stat(path).st_mode & 0o111
    except OSError:
        keep = 0
    return (0o666 | keep) & ~_UMASK


def _atomic(path: Path, write) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix="." + path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fchmod(fh.fileno(), _mode_for(path))
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


@contextlib.contextmanager
def locked(path):
    """Context manager: hold an exclusive lock on ``<name>.lock`` beside ``path`` while the block
    runs, so that a read-modify-write of ``path`` by several processes at once loses no one's
    change. Readers need no lock: every write replaces the file whole. Off POSIX (no ``fcntl``) the
    block runs unlocked.

    Args:
        path: the file guarded (its folder is created if missing; the lock file is left in place).

    Yields:
        Nothing; the lock is held until the block ends.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a") as fh:
        if fcntl is not None:       # no fcntl off POSIX: unlocked, as before
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            if fcntl is not None:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def write_bytes(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically: a temporary file beside it, synced, then renamed.

    The folder is created if missing; the new file gets the mode a plain ``open(path, "w")`` would
    give it, keeping the execute bits of a file it replaces.

    Args:
        path: destination file.
        data: the bytes to write.

    Returns:
        ``path`` as a ``Path``.
    """
    return _atomic(path, lambda fh: fh.write(data))


def write_text(path, text: str) -> Path:
    """Write ``text`` as UTF-8 to ``path`` atomically (``write_bytes``).

    Args:
        path: destination file.
        text: the text to write.

    Returns:
        ``path`` as a ``Path``.
    """
    return write_bytes(path, text.encode("utf-8"))


def write_json(path, obj, gz: bool = False) -> Path:
    """Write ``obj`` as compact JSON with sorted keys to ``path`` atomically, optionally gzipped.

    The gzip header carries no time stamp (mtime 0), so the same content gives the same bytes.

    Args:
        path: destination file.
        obj: a JSON-serialisable object.
        gz: gzip the JSON.

    Returns:
        ``path`` as a ``Path``.
    """
    data = json.dumps(obj, sort_keys=True, separators=(",", ":")).encode("utf-8")
    # mtime=0: the same content gives the same bytes
    return write_bytes(path, gzip.compress(data, mtime=0) if gz else data)


class StoredFileError(OSError):
    """A stored file that cannot be used (truncated, corrupt, of the wrong kind); the message
    names the file and says why."""


def read_json(path):
    """Parse a (possibly gzipped) JSON file; gzip is recognised by its magic bytes.

    Args:
        path: the file.

    Returns:
        The parsed JSON value.

    Raises:
        FileNotFoundError: the file is missing.
        StoredFileError: naming the file, when it is truncated, not gzip or not JSON.
    """
    path = Path(path)
    raw = path.read_bytes()
    try:
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        return json.loads(raw)
    except (EOFError, OSError, zlib.error, ValueError) as exc:   # JSONDecodeError is a ValueError
        raise StoredFileError(f"{_name(path)} is truncated or not JSON "
                              f"({type(exc).__name__}: {exc})") from None


def read_json_object(path, what: str = "file") -> dict:
    """``read_json`` of a file that must hold a JSON object (a mapping).

    Args:
        path: the file.
        what: what the file is, for the error message ("corpus", "manifest", ...).

    Returns:
        The parsed object.

    Raises:
        FileNotFoundError: the file is missing.
        StoredFileError: the file is unreadable (``read_json``) or holds another JSON value.
    """
    obj = read_json(path)
    if not isinstance(obj, dict):
        raise StoredFileError(f"{_name(path)}: a {what} must be a JSON object "
                              f"({{...}}), this one is a {type(obj).__name__}")
    return obj


def quarantine(path) -> Path:
    """Move a damaged file aside to ``<name>.corrupt`` (replacing an older one) so that it is
    never reused and can still be inspected.

    Args:
        path: the damaged file.

    Returns:
        The new path, ``<name>.corrupt`` beside the old one.
    """
    path = Path(path)
    bad = path.with_name(path.name + ".corrupt")
    os.replace(path, bad)
    return bad


def _name(path) -> str:
    return paths.relative(path)


def save_npy(path, array: np.ndarray) -> Path:
    """Save ``array`` (made C-contiguous) as a ``.npy`` file atomically.

    Args:
        path: destination file.
        array: the array to store, any shape and dtype.

    Returns:
        ``path`` as a ``Path``.
    """
    return _atomic(path, lambda fh: np.save(fh, np.ascontiguousarray(array)))


def load_npy_checked(path, shape_tail: tuple, dtype) -> np.ndarray | None:
    """Memory-map a stored array; ``None`` if missing, truncated or of the wrong shape.

    Args:
        path: the ``.npy`` file.
        shape_tail: the shape every row must have (the array's shape after its first axis).
        dtype: the dtype the array must have.

    Returns:
        The read-only memory map, or None when the file is missing, unreadable, or of another
        dtype or row shape.
    """
    try:
        arr = np.load(path, mmap_mode="r")
    except (OSError, ValueError, EOFError):
        return None
    if arr.dtype != np.dtype(dtype) or tuple(arr.shape[1:]) != tuple(shape_tail):
        return None
    return arr


def checksum(data) -> str:
    """CRC-32 of a bytes-like object or a C-contiguous array (a memory map is read once):
    enough to catch a truncated or overwritten chunk, about 1 GB/s.

    Args:
        data: bytes-like object or numpy array (its raw bytes in C order are summed).

    Returns:
        The checksum as 8 lower-case hex digits.
    """
    if isinstance(data, np.ndarray):
        data = np.ascontiguousarray(data).reshape(-1).view(np.uint8)
    return f"{zlib.crc32(memoryview(data)) & 0xFFFFFFFF:08x}"


# ------------------------------------------------------------------ torch files
# torch.load unpickles: a file handed over by a user (weights, a checkpoint) could run code.
# Every torch file of the repository is written with plain types (dicts, lists, numbers,
# strings, tensors) and read with weights_only=True, which refuses anything else. Numpy arrays
# and torch's version string, which files written before that rule hold, are the allowance
# (rebuilt from their data; no code of the file runs).

def _safe_globals() -> list:
    import torch

    core = getattr(np, "_core", None) or np.core
    # TorchVersion: a str subclass that earlier files hold in their metadata
    items = [core.multiarray._reconstruct, np.ndarray, np.dtype, torch.torch_version.TorchVersion]
    items += [type(np.dtype(t)) for t in ("float64", "float32", "int64", "int32", "uint8", "bool")]
    return items


def save_torch(path, obj) -> Path:
    """``torch.save`` to ``path`` atomically.

    Write plain types only (dicts, lists, numbers, strings, tensors): ``load_torch`` refuses
    anything else.

    Args:
        path: destination file.
        obj: the object to save.

    Returns:
        ``path`` as a ``Path``.
    """
    import torch

    buf = io.BytesIO()
    torch.save(obj, buf)
    return write_bytes(path, buf.getvalue())


def load_torch(path, map_location="cpu", required: tuple = ()) -> dict:
    """Read a torch file without running code from it (``weights_only=True``); it must hold a
    dict with the ``required`` keys.

    Numpy arrays and torch's version string, which older files of the repository hold, are
    allowed (rebuilt from their data).

    Args:
        path: the torch file.
        map_location: device the tensors are loaded onto (``torch.load``'s ``map_location``).
        required: keys the dict must have.

    Returns:
        The stored dict.

    Raises:
        FileNotFoundError: the file is missing.
        StoredFileError: naming the file and the reason, for anything else: unreadable, holding
            objects other than tensors and plain data, not a dict, or lacking a required key.
    """
    import pickle

    import torch

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{_name(path)}: no such file")
    try:
        with torch.serialization.safe_globals(_safe_globals()), warnings.catch_warnings():
            warnings.simplefilter("ignore")     # torch warns about pickle protocols it then refuses
            state = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        # torch's message: "... WeightsUnpickler error: Unsupported global: GLOBAL posix.system ..."
        detail = " ".join(str(exc).split("WeightsUnpickler error:")[-1].split())
        if "global" not in detail.lower():
            raise StoredFileError(f"{_name(path)} is not a readable torch file ({detail[:160]})") from None
        what = detail.split("GLOBAL", 1)[-1].split()[0] if "GLOBAL" in detail else detail[:80]
        raise StoredFileError(
            f"{_name(path)} holds objects other than tensors and plain data ({what}), so it was "
            "not loaded: loading it could run code it carries") from None
    except Exception as exc:   # truncated zip, not a torch file, ...
        raise StoredFileError(f"{_name(path)} is not a readable torch file "
                              f"({type(exc).__name__}: {str(exc)[:160]})") from None
    if not isinstance(state, dict):
        raise StoredFileError(f"{_name(path)} holds a {type(state).__name__}, not the dict of "
                              "a weights file of this repository")
    missing = [k for k in required if k not in state]
    if missing:
        raise StoredFileError(f"{_name(path)} is not a weights file of this repository "
                              f"(no {', '.join(missing)})")
    return state


def content_key(*parts, length: int = 12) -> str:
    """A short content key: SHA-256 of the JSON (sorted keys; ``str`` for anything else) of each part.

    Used in cache file names, so that a change of any setting gives another file.

    Args:
        *parts: the values the key depends on, in order.
        length: hex digits kept.

    Returns:
        The first ``length`` hex digits of the digest.
    """
    h = hashlib.sha256()
    for p in parts:
        h.update(json.dumps(p, sort_keys=True, default=str).encode("utf-8"))
        h.update(b"\x00")
    return h.hexdigest()[:length]


def array_key(array, length: int = 12) -> str:
    """A short content key of an array: SHA-256 of its shape, dtype and every byte (a part of
    ``content_key`` for values too large to write out as JSON, such as a feature matrix).

    Args:
        array: any array-like.
        length: hex digits kept.

    Returns:
        The first ``length`` hex digits of the digest.
    """
    a = np.asarray(array)
    if a.dtype.hasobject:       # the bytes of an object array are pointers, another key every run
        raise TypeError(f"array_key: an array of Python objects ({a.dtype}) has no content key")
    h = hashlib.sha256(json.dumps([list(a.shape), a.dtype.str]).encode("utf-8"))
    h.update(np.ascontiguousarray(a).reshape(-1).view(np.uint8))     # no copy when contiguous
    return h.hexdigest()[:length]


def file_sha256(path, length: int = 12) -> str:
    """SHA-256 of a file's bytes, read in 1 MiB blocks.

    Args:
        path: the file.
        length: hex digits kept.

    Returns:
        The first ``length`` hex digits of the digest.
    """
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:length]


def summary_path(path) -> Path:
    """``<name>.summary.json`` beside a ``<name>.json.gz`` corpus.

    Args:
        path: the corpus file.

    Returns:
        The path of its summary file.
    """
    path = Path(path)
    return path.with_name(path.name.replace(".json.gz", ".summary.json"))


def build_in_parts(path, expected: dict, build, force: bool = False, bar=None):
    """A corpus built block by block so that an interrupted build resumes where it stopped.

    A part file in ``.parts-<corpus>/`` that names this part and this corpus and holds the
    expected number of records is reused; every other block is built, and each block is written
    atomically as it arrives.

    Args:
        path: the corpus file (``<corpus>.json.gz``); the parts folder is made beside it.
        expected: maps each block's part-file name (in corpus order) to the number of records it
            must hold (rows + skipped).
        build: ``build(todo)``, a generator given the missing part names in order that yields
            ``(name, {"rows", "skipped", "rejected"[, "timed_out"]})`` in any order.
        force: rebuild every block, reusing none.
        bar: progress bar (``parallel.progress``) advanced by the count of each reused block, or
            None.

    Returns:
        (the blocks in corpus order, the parts folder for ``write_corpus`` to clear).

    Raises:
        RuntimeError: ``build`` gave no block for some expected part.
    """
    path = Path(path)
    parts = paths.ensure(path.parent / (".parts-" + path.name.replace(".json.gz", "")))
    done = {}
    for name, count in expected.items():
        part = parts / name
        if force or not part.exists():
            continue
        try:
            block = read_json_object(part, "corpus block")
            # a part records what it was built for: another build's part is redone, never read
            # as if it held these records
            if (block.get("part"), block.get("corpus")) == (name, path.name) \
                    and len(block["rows"]) + len(block["skipped"]) == count:
                done[name] = block
                if bar is not None:
                    bar.update(count)
        except (OSError, KeyError, TypeError):
            pass                            # truncated or foreign: rebuilt below
    todo = [name for name in expected if name not in done]
    for name, block in build(todo):
        block = {"part": name, "corpus": path.name, "rows": block["rows"],
                 "skipped": [list(x) for x in block["skipped"]], "rejected": dict(block["rejected"]),
                 "timed_out": dict(block.get("timed_out", {}))}
        write_json(parts / name, block, gz=name.endswith(".gz"))
        done[name] = block
    missing = [name for name in expected if name not in done]
    if missing:
        raise RuntimeError(f"{paths.relative(path)}: the build gave no block for {', '.join(missing[:3])}")
    return [done[name] for name in expected], parts


def write_corpus(path, rows: list, summary: dict, parts) -> None:
    """Write the finished corpus (atomic), its summary beside it (so reporting it never re-parses
    every row), and remove the block files of the build.

    Args:
        path: the corpus file (gzipped JSON ``{"rows", "summary"}``).
        rows: the corpus records.
        summary: the corpus summary, also written to ``summary_path(path)``.
        parts: the parts folder of ``build_in_parts``, emptied and removed.
    """
    write_json(path, {"rows": rows, "summary": summary}, gz=True)
    write_json(summary_path(path), summary)
    for part in parts.glob("*"):
        part.unlink()
    parts.rmdir()


def strict(value):
    """``value`` with every NaN or infinite float replaced by None, numpy scalars and arrays
    made plain: what ``json.dumps(..., allow_nan=False)`` accepts.

    Args:
        value: a nested structure of dicts, lists, tuples, numpy arrays and scalars.

    Returns:
        The same structure of plain Python types: dict keys made ``str``, tuples and arrays made
        lists, numpy booleans, integers and floats made ``bool``, ``int`` and ``float``,
        non-finite floats None; anything else unchanged.
    """
    if isinstance(value, dict):
        return {str(k): strict(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict(v) for v in value]
    if isinstance(value, np.ndarray):
        return strict(value.tolist())
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if np.isfinite(value) else None
    return value
