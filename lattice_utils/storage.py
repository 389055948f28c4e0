"""Atomic writes and content keys: an interrupted run never leaves a half-written file
under its final name, so a rerun resumes from whatever is complete."""
from __future__ import annotations

import gzip
import hashlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np


def _atomic(path: Path, write) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix="." + path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def write_bytes(path, data: bytes) -> Path:
    return _atomic(path, lambda fh: fh.write(data))


def write_text(path, text: str) -> Path:
    return write_bytes(path, text.encode("utf-8"))


def write_json(path, obj, gz: bool = False) -> Path:
    data = json.dumps(obj, sort_keys=True, separators=(",", ":")).encode("utf-8")
    # mtime=0: the same content gives the same bytes
    return write_bytes(path, gzip.compress(data, mtime=0) if gz else data)


def read_json(path):
    raw = Path(path).read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return json.loads(raw)


def save_npy(path, array: np.ndarray) -> Path:
    return _atomic(path, lambda fh: np.save(fh, np.ascontiguousarray(array)))


def load_npy_checked(path, shape_tail: tuple, dtype) -> np.ndarray | None:
    """Memory-map a stored array; ``None`` if missing, truncated or of the wrong shape."""
    try:
        arr = np.load(path, mmap_mode="r")
    except (OSError, ValueError, EOFError):
        return None
    if arr.dtype != np.dtype(dtype) or tuple(arr.shape[1:]) != tuple(shape_tail):
        return None
    return arr


def content_key(*parts, length: int = 12) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(json.dumps(p, sort_keys=True, default=str).encode("utf-8"))
        h.update(b"\x00")
    return h.hexdigest()[:length]


def file_sha256(path, length: int = 12) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:length]


def summary_path(path) -> Path:
    """``<name>.summary.json`` beside a ``<name>.json.gz`` corpus."""
    path = Path(path)
    return path.with_name(path.name.replace(".json.gz", ".summary.json"))


def write_corpus(path, rows: list, summary: dict, parts) -> None:
    """The finished corpus (atomic), its summary beside it (so reporting it never re-parses
    every row), and the block files of the build removed."""
    write_json(path, {"rows": rows, "summary": summary}, gz=True)
    write_json(summary_path(path), summary)
    for part in parts.glob("*"):
        part.unlink()
    parts.rmdir()
