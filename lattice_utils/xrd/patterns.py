"""Memory-bounded storage of zone-axis patterns: spot lists, rendered to images on demand.

A rendered 321 x 322 pattern is 103 kB; the paper's million patterns would be 103 GB. A pattern
is stored instead as its spots (x, y in 1/Å and I/I_max, float16: about 1 kB), in chunk files
of ``CHUNK`` patterns, and rendered when needed (well under a millisecond at 64 px, about 1 ms
at 321 px). A pattern set is built once per (structures, axes, settings) and cached; the build
writes one chunk at a time, atomically, and resumes after an interruption.

Training images of one subset are rendered once into a memory-mapped uint8 array when they fit
under the profile's ``cache_limit_gb``; otherwise the data loader renders every batch.
"""
from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from ..core import parallel, paths, storage
from ..core.profiles import Profile
from .corpus import crystal_of
from .simulate import CU_KA, render_input, zone_axis_pattern
from .zone_axes import label

__all__ = ["CHUNK", "PatternSet", "LazyImages", "pattern_dir", "build_patterns"]

CHUNK = 4096
PATTERN_VERSION = 1
RENDER_VERSION = 1      # of simulate.render_input: the image caches are keyed by it


def simulate_structure(args):
    """All axes of one structure: list of (xy float16 [m, 2], intensity float16 [m])."""
    row, axes, wavelength, lorentz = args
    c = crystal_of(row)
    out = []
    for ax in axes:
        p = zone_axis_pattern(c, ax, wavelength, lorentz)
        out.append((p.xy.astype(np.float16), p.intensity.astype(np.float16)))
    return out


class PatternSet:
    """Patterns of a structure table along a list of axes, read from a folder written by
    ``build_patterns``; ``meta`` has one row per pattern.

    Attributes:
        root: the pattern folder (``index.json`` and the chunk files).
        meta: DataFrame, one row per pattern: ``structure`` (row of the structure table), ``id``,
            ``axis`` (label ``"[uvw]"``), ``space_group``, ``crystal_system``, ``split`` and
            ``chunk_slot`` (where the pattern is stored).
        g_max: radius of the limiting sphere, 2 / lambda, in 1/Å.
        n_chunks: number of chunk files.
    """

    def __init__(self, root: Path):
        self.root = Path(root)
        info = storage.read_json_object(self.root / "index.json", "pattern index")
        self.meta = pd.DataFrame(info["meta"])
        self.g_max = float(info["g_max"])
        self.n_chunks = int(info["n_chunks"])
        self._slots = self.meta["chunk_slot"].to_numpy()

    def __len__(self) -> int:
        return len(self.meta)

    @lru_cache(maxsize=2)
    def _chunk(self, c: int):
        path = self.root / f"chunk-{c:05d}.npz"
        try:     # an .npz is a zip: reading a member checks its CRC
            with np.load(path) as z:
                return z["offsets"], z["xy"], z["intensity"]
        except Exception as exc:
            raise storage.StoredFileError(f"{paths.relative(path)} is missing or damaged "
                                          f"({type(exc).__name__}: {exc}); rerun build_patterns "
                                          "to regenerate it") from None

    def spots(self, i: int):
        """The spots of pattern ``i``: (xy float [m, 2] in 1/Å, I / I_max float [m]).

        Raises ``storage.StoredFileError`` when its chunk file is missing or damaged.
        """
        slot = int(self._slots[i])
        off, xy, inten = self._chunk(slot // CHUNK)
        j = slot % CHUNK
        return xy[off[j]:off[j + 1]].astype(float), inten[off[j]:off[j + 1]].astype(float)

    def render(self, indices, shape, rotation_deg=None, representation: str = "cartesian") -> np.ndarray:
        """Render patterns as images: uint8 [n, H, W], 0-255.

        Args:
            indices: [n] pattern indices.
            shape: the images' (H, W) in pixels.
            rotation_deg: one in-plane rotation angle per pattern, in degrees; None for none.
            representation: cartesian (the detector image) or polar (``simulate.render_polar``).
        """
        indices = np.asarray(indices, dtype=int)
        out = np.empty((len(indices), *shape), dtype=np.uint8)
        for k, i in enumerate(indices):
            xy, inten = self.spots(int(i))
            rot = 0.0 if rotation_deg is None else float(rotation_deg[k])
            out[k] = render_input(xy, inten, shape, self.g_max, representation, rotation_deg=rot)
        return out

    def select(self, axes=None, split=None) -> np.ndarray:
        """Indices (int array, ascending) of the patterns along ``axes`` (any zone-axis form) in
        ``split`` (train, val or test); None selects all of either."""
        m = np.ones(len(self.meta), dtype=bool)
        if axes is not None:
            m &= self.meta["axis"].isin([label(a) for a in axes]).to_numpy()
        if split is not None:
            m &= (self.meta["split"] == split).to_numpy()
        return np.flatnonzero(m)

    def images(self, indices, shape, cache_limit_gb: float = 4.0, name: str = "",
               representation: str = "cartesian"):
        """Rendered images of ``indices``: a cached memory map when it fits under the limit,
        else a lazy view that renders on access (``LazyImages``).

        Args:
            indices: [n] pattern indices.
            shape: the images' (H, W) in pixels.
            cache_limit_gb: the largest image array cached on disk, in GB (1e9 bytes).
            name: a tag in the cache file's name.
            representation: cartesian (the detector image) or polar (``simulate.render_polar``).

        Returns:
            uint8 images [n, H, W], 0-255: a read-only memory map, or a ``LazyImages``.
        """
        indices = np.asarray(indices, dtype=int)
        size = len(indices) * shape[0] * shape[1]
        if size > cache_limit_gb * 1e9:
            return LazyImages(self, indices, shape, representation)
        key = storage.content_key(self.root.name, indices.tolist(), list(shape), RENDER_VERSION)
        tag = "" if representation == "cartesian" else f"{representation}-"
        path = self.root / f"images-{name}-{tag}{shape[0]}x{shape[1]}-{key}.npy"
        cached = storage.load_npy_checked(path, tuple(shape), np.uint8)
        if cached is not None and len(cached) == len(indices):
            return cached
        arr = np.empty((len(indices), *shape), dtype=np.uint8)
        for s in range(0, len(indices), 2048):
            arr[s:s + 2048] = self.render(indices[s:s + 2048], shape, representation=representation)
        storage.save_npy(path, arr)
        return np.load(path, mmap_mode="r")


def _readable_npz(path: Path) -> bool:
    try:
        with np.load(path) as z:
            for k in z.files:
                z[k]
        return True
    except Exception:
        return False


class LazyImages:
    """Images rendered on access; indexable like an array of shape [n, H, W] (uint8, 0-255).

    Args:
        patterns: the ``PatternSet`` holding them.
        indices: [n] pattern indices.
        shape: the images' (H, W) in pixels.
        representation: cartesian (the detector image) or polar (``simulate.render_polar``).
    """

    def __init__(self, patterns: PatternSet, indices: np.ndarray, shape, representation: str = "cartesian"):
        self.patterns, self.indices, self.shape_hw = patterns, indices, tuple(shape)
        self.representation = representation

    def __len__(self):
        return len(self.indices)

    @property
    def shape(self):
        """(n, H, W), as an array's."""
        return (len(self.indices), *self.shape_hw)

    def __getitem__(self, k):
        sel = self.indices[k]
        if np.ndim(sel) == 0:
            return self.patterns.render([int(sel)], self.shape_hw, representation=self.representation)[0]
        return self.patterns.render(sel, self.shape_hw, representation=self.representation)


def pattern_dir(table: pd.DataFrame, axes, profile: Profile, wavelength: float, lorentz: bool,
                tag: str = "") -> Path:
    """The folder of a pattern set, named by the profile and a content key of what it holds.

    Args:
        table: the structure table (its ``id``, ``space_group`` and, where present, ``lattice``,
            ``frac`` and ``species`` enter the key).
        axes: the zone axes.
        profile: the run profile (its name).
        wavelength: X-ray wavelength in Å.
        lorentz: whether the Lorentz-polarisation factor is applied.
        tag: any further distinguishing text.

    Returns:
        The path ``paths.DATA / "xrd" / "patterns-<profile>-<key>"``.
    """
    # the structures themselves, not only their ids: a corpus rebuilt with another structure under
    # one id (an attempt abandoned for time on one machine, finished on another) is another set
    content = [table[c].tolist() for c in ("lattice", "frac", "species") if c in table]
    key = storage.content_key(PATTERN_VERSION, table["id"].tolist(), table["space_group"].tolist(),
                              [label(a) for a in axes], wavelength, lorentz, tag, content)
    return paths.DATA / "xrd" / f"patterns-{profile.name}-{key}"


def build_patterns(table: pd.DataFrame, axes, profile: Profile, wavelength: float = CU_KA,
                   lorentz: bool = False, force: bool = False, verbose: bool = True) -> PatternSet:
    """Patterns of every structure of ``table`` along every axis, structure-major (cached).

    Simulated in parallel and written one chunk file at a time; an interrupted build resumes,
    and damaged chunk files are rebuilt.

    Args:
        table: the structure table (``record`` rows with ``split``).
        axes: the zone axes.
        profile: the run profile (its name and workers).
        wavelength: X-ray wavelength in Å (Cu K-alpha by default).
        lorentz: apply the Lorentz-polarisation factor (``simulate.zone_axis_pattern``).
        force: simulate every chunk again even when stored.
        verbose: show a progress bar.

    Returns:
        The ``PatternSet``.
    """
    root = pattern_dir(table, axes, profile, wavelength, lorentz)
    if (root / "index.json").exists() and not force:
        try:
            patterns = PatternSet(root)
            for c in range(patterns.n_chunks):
                patterns._chunk(c)
            # the split is a label, not simulated: it comes from the table (a new split of the
            # same structures reuses the patterns, never the split stored with them)
            patterns.meta["split"] = np.repeat(table["split"].to_numpy(), len(axes))
            return patterns
        except (OSError, KeyError, TypeError, ValueError) as exc:
            print(f"{exc}; rebuilding the damaged part")
            for path in root.glob("chunk-*.npz"):
                if not _readable_npz(path):
                    path.unlink()
    paths.ensure(root)
    labels = [label(a) for a in axes]
    n_ax = len(axes)
    meta = pd.DataFrame({
        "structure": np.repeat(np.arange(len(table)), n_ax),
        "id": np.repeat(table["id"].to_numpy(), n_ax),
        "axis": np.tile(labels, len(table)),
        "space_group": np.repeat(table["space_group"].to_numpy(), n_ax),
        "crystal_system": np.repeat(table["crystal_system"].to_numpy(), n_ax),
        "split": np.repeat(table["split"].to_numpy(), n_ax),
    })
    per_chunk = CHUNK // n_ax            # whole structures per chunk file
    assert per_chunk >= 1, "more axes than a chunk holds"
    rows = table.to_dict("records")
    starts = list(range(0, len(rows), per_chunk))
    todo = [c for c in range(len(starts)) if force or not (root / f"chunk-{c:05d}.npz").exists()]
    bar = None
    if verbose:
        bar = parallel.progress(len(rows), "XRD patterns")
        bar.update(len(rows) - sum(len(rows[starts[c]:starts[c] + per_chunk]) for c in todo))
    # one pool for the whole build; a chunk is written as soon as its structures are done
    tasks = [(r, tuple(axes), wavelength, lorentz)
             for c in todo for r in rows[starts[c]:starts[c] + per_chunk]]
    results = parallel.imap(simulate_structure, tasks, profile.workers, chunksize=8)
    for c in todo:
        xys, ins = [], []
        for _ in rows[starts[c]:starts[c] + per_chunk]:
            for xy, inten in next(results):
                xys.append(xy)
                ins.append(inten)
            if bar is not None:
                bar.update(1)
        offsets = np.concatenate([[0], np.cumsum([len(i) for i in ins])]).astype(np.int64)
        # pad so that every chunk indexes its patterns 0 .. CHUNK - 1
        offsets = np.concatenate([offsets, np.full(CHUNK - len(ins), offsets[-1])])
        buf = io.BytesIO()
        np.savez(buf, offsets=offsets, xy=np.concatenate(xys), intensity=np.concatenate(ins))
        storage.write_bytes(root / f"chunk-{c:05d}.npz", buf.getvalue())
    results.close()
    n_chunks = len(starts)
    if bar is not None:
        bar.close()
    # patterns are indexed by chunk: structure-major order, per_chunk structures per chunk
    meta["chunk_slot"] = (meta["structure"] // per_chunk) * CHUNK + \
        (meta["structure"] % per_chunk) * n_ax + np.tile(np.arange(n_ax), len(table))
    storage.write_json(root / "index.json", {"meta": meta.to_dict("list"), "g_max": 2 / wavelength,
                                            "n_chunks": n_chunks, "axes": labels})
    return PatternSet(root)
