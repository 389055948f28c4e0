"""2D structure sources, normalised into one table.

Columns of every corpus table: ``id, formula, elements, band_gap, atoms`` (jarvis
``Atoms`` dict of the oriented cell), ``a, b, gamma`` (stored cell), ``label`` (the
paper's jarvis rule), ``canon_a, canon_b, canon_gamma, canon_mult`` (reduced primitive
cell), ``canon_label`` (the class the layer's symmetry fixes, ``lattice2d.symmetry_class``),
``metric_label`` (the class of the reduced cell's metric at 0.5 % / 0.5 degree, a cross-check),
``source`` and, offline, ``prototype``.

Sources
* ``jarvis``: JV2D (``dft_2d``), C2DB (``c2db``), Alex-PBE (``alex_pbe_2d_all``)
  through jarvis-tools' figshare loader, zip kept in ``data/raw/``.
* ``offline``: decorated monolayer prototypes (modules ``prototypes``, ``offline_corpus``),
  sized and class-balanced like the paper's Table S3.
"""
from __future__ import annotations

import json
import math
import re
import shutil
import tempfile
import zipfile
import zlib
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from ..core import paths, storage
from ..lattice.lattice2d import (
    CanonicalCell,
    StructureError,
    canonical_cell,
    lattice_params_2d,
    orient_layer,
    paper_label,
    projected_canonical_cell,
    symmetry_class,
)

__all__ = ["JARVIS_DATASETS", "NORMALISE_VERSION", "COLUMNS", "MAX_MEMBER_BYTES", "DataUnavailableError",
           "CorruptFileError", "normalise_record", "closest_sites", "projected_cell", "records_to_table",
           "jarvis_zip_path", "check_member_size", "read_jarvis_zip", "load_jarvis_records", "load_jarvis_table"]

# dataset slot -> jarvis-tools dataset name and its record keys
JARVIS_DATASETS = {
    "jv2d": {"name": "dft_2d", "id": "jid", "gap": "optb88vdw_bandgap"},
    "c2db": {"name": "c2db", "id": "id", "gap": "gap"},
    "alex": {"name": "alex_pbe_2d_all", "id": "mat_id", "gap": "band_gap_ind"},
}
# bump when normalise_record keeps or rejects records differently: cached tables are rebuilt
NORMALISE_VERSION = 3
# NORMALISE_VERSION stays: the rules on the shortest lattice vector and on an atom's own periodic
# images below only refuse cells under 1 Å, which no real 2D record has; a cached table that held
# one would still be refused at imaging (stem.MAX_STEM_ATOMS), never simulated
MIN_SITE_DISTANCE = 0.5    # Å: closer sites (or an atom and its own periodic image) are one atom
                           # written twice or a corrupt cell (H2, the shortest bond, is 0.74 Å)
MAX_FRAC = 10.0            # |fractional coordinate| beyond this is a corrupt record, not a crystal
MIN_CELL = 1.0             # Å: shortest lattice vector accepted (real ones are 2 Å or more)
MAX_CELL = 1000.0          # Å: longest lattice vector accepted (2D records: a few nm in plane,
                           # c is the layer and its vacuum)
# The declared (uncompressed) size of a zip member, checked before it is read: the JV2D and C2DB
# members hold 1.1k and 3.5k records (tens of MB); Alex-PBE 2D's about 200k records of 1-2 kB
# (a few hundred MB, estimated: not measured here). 1 GiB keeps that one with room to spare and
# refuses a small file that would inflate without bound (zipfile never inflates past the
# declared size, so the check bounds memory).
MAX_MEMBER_BYTES = 1 << 30
# Real members compress 1-2x (images) to about 10x (JSON); deflate's ceiling is about 1000x, where
# zip bombs sit. Checked only for members over MIN_RATIO_CHECK_BYTES (a tiny member may compress
# far better than its size says).
MAX_COMPRESSION_RATIO = 100
MIN_RATIO_CHECK_BYTES = 1 << 20
COLUMNS = ["id", "formula", "elements", "band_gap", "atoms", "a", "b", "gamma", "label",
           "canon_a", "canon_b", "canon_gamma", "canon_label", "canon_mult", "metric_label", "source"]


class DataUnavailableError(RuntimeError):
    """No network and no file placed by hand."""


class CorruptFileError(RuntimeError):
    """A cached download that cannot be read."""


# ---------------------------------------------------------------- one record

def _valid_symbols() -> frozenset:
    from pymatgen.core.periodic_table import Element

    return frozenset(e.symbol for e in Element)


_SYMBOLS = None
_SITE_LABEL = re.compile(r"^([A-Z][a-z]?)(\d+)$")


def element_of(label) -> str | None:
    """The element of a site label: ``Cr`` for ``Cr``, and for numbered labels such as ``Cr1``,
    ``Cr2`` (two magnetic sublattices, as some databases write them); None if there is none."""
    global _SYMBOLS
    if _SYMBOLS is None:
        _SYMBOLS = _valid_symbols()
    label = str(label)
    if label in _SYMBOLS:
        return label
    m = _SITE_LABEL.match(label)
    return m.group(1) if m and m.group(1) in _SYMBOLS else None


def closest_sites(lattice: np.ndarray, frac: np.ndarray) -> tuple[float, int, int]:
    """Shortest distance between two sites, periodic images included.

    An atom and its own image count too: then both sites are that atom. Memory stays bounded
    (the sites are compared in blocks).

    Args:
        lattice: lattice matrix [3, 3], rows a, b, c in Å.
        frac: fractional coordinates [N, 3].

    Returns:
        ``(distance in Å, i, j)``: the shortest distance and the indices of the two sites.
    """
    n = len(frac)
    step = max(1, (1 << 20) // max(n, 1))      # rows per block: [step, n, 3] stays ~24 MB
    best, pair = np.inf, (0, 0)
    for s in np.array(np.meshgrid(*[[-1, 0, 1]] * 3)).reshape(3, -1).T:
        for a in range(0, n, step):
            d = frac[a:a + step, None, :] - frac[None, :, :]
            d -= np.round(d)
            dist = np.linalg.norm((d + s) @ lattice, axis=-1)
            if not s.any():
                rows = np.arange(len(dist))
                dist[rows, rows + a] = np.inf
            k = int(np.argmin(dist))
            if dist.flat[k] < best:
                i, j = divmod(k, n)
                best, pair = float(dist.flat[k]), (i + a, j)
    return best, int(pair[0]), int(pair[1])


def _symmetry_or_metric(lat, cart, elements, metric: int) -> int:
    """The class the layer's symmetry fixes; the metric class where spglib finds no operations
    (a real record is labelled, never dropped, for want of a symmetry search)."""
    try:
        return symmetry_class(lat, cart, elements)
    except StructureError:
        return metric


def normalise_record(rid: str, atoms_dict: dict, source: str, band_gap=np.nan,
                     formula: str | None = None, extra: dict | None = None) -> dict:
    """Validate, orient (a x b along z) and label one structure: one row of a corpus table.

    Refused: no atoms, a malformed or non-finite cell, unknown elements, lattice vectors outside
    ``MIN_CELL``-``MAX_CELL`` Å, fractional coordinates beyond ``MAX_FRAC``, or two sites (or an
    atom and its own periodic image) closer than ``MIN_SITE_DISTANCE`` Å.

    Args:
        rid: the record's id.
        atoms_dict: jarvis ``Atoms`` dict: ``lattice_mat`` (Å), ``coords``, ``elements`` (symbols
            or numbered site labels such as ``Cr1``) and ``cartesian``.
        source: the data source written into the row (``jarvis``, ``offline-prototype`` ...).
        band_gap: band gap in eV; NaN (or anything not numeric) when unknown.
        formula: the formula to keep; None for the reduced formula of the atoms.
        extra: further columns to add to the row.

    Returns:
        The row: the keys of ``COLUMNS`` (``a``, ``b``, ``canon_a``, ``canon_b`` in Å, ``gamma``,
        ``canon_gamma`` in degrees, labels 0-4, ``atoms`` the oriented cell) plus ``extra``.

    Raises:
        StructureError: with the reason for a record that cannot be used.
    """
    from jarvis.core.atoms import Atoms

    if not isinstance(atoms_dict, dict):
        raise StructureError("no structure")
    labels = list(atoms_dict.get("elements") or [])
    coords = np.asarray(atoms_dict.get("coords") or [], dtype=float)
    lattice = np.asarray(atoms_dict.get("lattice_mat") or [], dtype=float)
    if len(labels) == 0 or coords.size == 0:
        raise StructureError("no atoms")
    if lattice.shape != (3, 3):
        raise StructureError(f"lattice has shape {lattice.shape}, expected (3, 3)")
    if coords.shape != (len(labels), 3):
        raise StructureError(f"{len(labels)} elements but coordinates of shape {coords.shape}")
    elements = [element_of(e) for e in labels]
    unknown = sorted({str(e) for e, el in zip(labels, elements) if el is None})
    if unknown:
        raise StructureError(f"unknown element(s) {', '.join(unknown)}")
    if not (np.all(np.isfinite(coords)) and np.all(np.isfinite(lattice))):
        raise StructureError("non-finite coordinates or lattice")
    lengths = np.linalg.norm(lattice, axis=1)
    if lengths.max() > MAX_CELL or lengths.min() < MIN_CELL:
        raise StructureError(f"absurd lattice (vector lengths {', '.join(f'{x:.3g}' for x in lengths)} Å, "
                             f"outside {MIN_CELL:g}-{MAX_CELL:g} Å)")
    frac = coords if not atoms_dict.get("cartesian") else np.linalg.solve(lattice.T, coords.T).T
    if not np.all(np.abs(frac) <= MAX_FRAC):
        raise StructureError(f"coordinates far outside the cell (fractional coordinate "
                             f"{np.abs(frac).max():.3g})")
    # a lone atom too: its periodic images are atoms as well, and a cell far smaller than an
    # atom would make the image simulation tile millions of copies
    dmin, i, j = closest_sites(lattice, frac)
    if dmin < MIN_SITE_DISTANCE:
        if i == j:
            raise StructureError(f"atom {i} ({elements[i]}) is {dmin:.3g} Å from its own periodic "
                                 f"image (at least {MIN_SITE_DISTANCE:g} Å in a real crystal)")
        raise StructureError(f"duplicate sites: atoms {i} ({elements[i]}) and {j} "
                             f"({elements[j]}) are {dmin:.2f} Å apart")
    lat, cart = orient_layer(lattice, frac)
    atoms = Atoms(lattice_mat=lat, coords=cart, elements=elements, cartesian=True)
    a, b, gamma = lattice_params_2d(lat)
    canon = canonical_cell(lat, cart, elements)
    gap = pd.to_numeric(pd.Series([band_gap]), errors="coerce").iloc[0]
    row = {
        "id": str(rid),
        "formula": formula or atoms.composition.reduced_formula,
        "elements": " ".join(sorted(set(elements))),
        "band_gap": float(gap) if gap is not None else math.nan,
        "atoms": atoms.to_dict(),
        "a": a, "b": b, "gamma": gamma,
        "label": paper_label(atoms),
        "canon_a": canon.a, "canon_b": canon.b, "canon_gamma": canon.gamma,
        "canon_label": _symmetry_or_metric(lat, cart, elements, canon.label), "canon_mult": canon.multiplicity,
        "metric_label": canon.label,
        "source": source,
    }
    if extra:
        row.update(extra)
    return row


def projected_cell(atoms_dict: dict) -> CanonicalCell:
    """Reduced cell of a normalised record projected along z: the lattice its image shows.

    That lattice can be smaller than the crystal's (atoms of one species at different heights).

    Args:
        atoms_dict: the record's ``atoms`` column (jarvis ``Atoms`` dict of the oriented cell).

    Returns:
        The projected cell: ``a``, ``b`` in Å, ``gamma`` in degrees, its Bravais class and its
        multiplicity.
    """
    from jarvis.core.atoms import Atoms

    at = Atoms.from_dict(atoms_dict)
    return projected_canonical_cell(np.array(at.lattice_mat), np.array(at.cart_coords), at.elements)


def records_to_table(records, dataset: str, source: str = "jarvis", verbose: bool = True):
    """Normalise raw jarvis-format records into a corpus table; bad ones are skipped with id and reason.

    Site labels numbered by the database (``Cr1``, ``Cr2``) are read as their element; the ids
    of such records are in ``table.attrs["relabelled"]``.

    Args:
        records: the database's records (dicts), as ``load_jarvis_records`` returns them.
        dataset: dataset slot whose keys they use, ``jv2d``, ``c2db`` or ``alex``.
        source: the data source written into every row.
        verbose: print how many were kept and why the others were skipped.

    Returns:
        ``(table, skipped)``: one row per kept record (``normalise_record``; the ``COLUMNS`` when
        empty), and a list of ``(id, reason)``.

    Raises:
        KeyError: ``dataset`` is not one of ``JARVIS_DATASETS``.
    """
    keys = JARVIS_DATASETS[dataset]
    rows, skipped, relabelled = [], [], []
    for k, rec in enumerate(records):
        rid = rec.get(keys["id"], f"record-{k}") if isinstance(rec, dict) else f"record-{k}"
        try:
            if not isinstance(rec, dict):
                raise StructureError(f"a record must be a JSON object, not a {type(rec).__name__}")
            rows.append(normalise_record(rid, rec.get("atoms"), source,
                                         band_gap=rec.get(keys["gap"], np.nan),
                                         formula=rec.get("formula")))
            labels = sorted({str(e) for e in rec["atoms"]["elements"]} - _SYMBOLS)
            if labels:
                relabelled.append((str(rid), labels))
        except (StructureError, ValueError, TypeError, KeyError, AttributeError) as exc:
            skipped.append((str(rid), f"{type(exc).__name__}: {exc}"))
    table = pd.DataFrame(rows, columns=COLUMNS if not rows else None)
    table.attrs["relabelled"] = relabelled
    if verbose:
        print_skip_summary(dataset, len(records), skipped)
        if relabelled:
            rid, labels = relabelled[0]
            print(f"  {len(relabelled)} kept record(s) name sites with numbered labels, read as "
                  f"their element (e.g. {rid}: {', '.join(labels)} -> "
                  f"{', '.join(sorted({element_of(x) for x in labels}))})")
    return table, skipped


def print_skip_summary(name: str, n_in: int, skipped) -> None:
    print(f"{name}: {n_in - len(skipped)} of {n_in} records kept, {len(skipped)} skipped")
    reasons = Counter(r.split(":", 1)[-1].strip() for _, r in skipped)
    for reason, n in reasons.most_common():
        example = next(i for i, r in skipped if r.endswith(reason))
        print(f"  {n:6d} x {reason}   (e.g. {example})")


# ---------------------------------------------------------------- jarvis-tools loader

def jarvis_zip_path(dataset: str, store_dir: Path | None = None) -> Path:
    """Where the jarvis-tools zip of a paper database goes.

    Args:
        dataset: dataset slot, ``jv2d``, ``c2db`` or ``alex``.
        store_dir: folder of the zip; None for ``data/raw/``.

    Returns:
        The zip's path, named as jarvis-tools names it (the file may not exist).

    Raises:
        KeyError: ``dataset`` is not one of ``JARVIS_DATASETS``.
    """
    from jarvis.db.figshare import get_db_info

    name = JARVIS_DATASETS[dataset]["name"]
    return Path(store_dir or paths.RAW) / (get_db_info()[name][1] + ".zip")


def check_member_size(path: Path, info: zipfile.ZipInfo, max_bytes: int | None = None) -> None:
    """Refuse a zip member too large to be real, on the zip's directory, before anything is read.

    Args:
        path: the zip file, for the message.
        info: the member's entry in the zip's directory.
        max_bytes: largest uncompressed size accepted, in bytes; None for ``MAX_MEMBER_BYTES``.

    Raises:
        CorruptFileError: naming the zip and the member when the member declares more than
            ``max_bytes`` uncompressed, or (above ``MIN_RATIO_CHECK_BYTES``) inflates more than
            ``MAX_COMPRESSION_RATIO`` times.
    """
    limit = MAX_MEMBER_BYTES if max_bytes is None else max_bytes
    where = paths.relative(path)
    if info.file_size > limit:
        raise CorruptFileError(f"{where}: member {info.filename} declares {info.file_size:,} bytes "
                               f"uncompressed, more than the {limit:,} any real file of this kind "
                               "holds; it was not read")
    if info.file_size > MIN_RATIO_CHECK_BYTES \
            and info.file_size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1):
        raise CorruptFileError(f"{where}: member {info.filename} inflates {info.compress_size:,} bytes "
                               f"to {info.file_size:,} (more than {MAX_COMPRESSION_RATIO}x, which no "
                               "real file of this kind does); it was not read")


def read_jarvis_zip(path: Path, member: str) -> list[dict]:
    """The records in member ``member`` of a jarvis-tools zip.

    Args:
        path: the zip file.
        member: name of the JSON member holding the records.

    Returns:
        The member's JSON list (at least one element is a record dict).

    Raises:
        CorruptFileError: naming the file for every kind of damage: not a zip, cut off, a
            deflate stream or CRC that fails, the member missing or inflating beyond any real
            file (``check_member_size``), not JSON, JSON nested too deeply to parse, or JSON that
            is not a non-empty list of records.
    """
    where = paths.relative(path)
    try:
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
            if member not in names:
                raise CorruptFileError(f"{where} has no member {member!r} (it holds "
                                       f"{', '.join(names[:5]) or 'nothing'}); it is not the "
                                       "expected jarvis-tools file")
            check_member_size(path, z.getinfo(member))
            raw = z.read(member)      # checks the CRC of what it inflates
    except CorruptFileError:
        raise
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, NotImplementedError) as exc:
        raise CorruptFileError(f"{where} is not a readable zip ({type(exc).__name__}: {exc}); "
                               "it was probably cut off or damaged during download") from None
    try:
        records = json.loads(raw)
    except RecursionError:     # [[[[...: a real database is a flat list of records
        raise CorruptFileError(f"{where}: member {member} is JSON nested too deeply to be a "
                               "jarvis-tools dataset") from None
    except ValueError as exc:
        raise CorruptFileError(f"{where}: member {member} is not valid JSON ({exc})") from None
    if not isinstance(records, list):
        raise CorruptFileError(f"{where}: member {member} holds a JSON {type(records).__name__}, "
                               "not the list of records of a jarvis-tools dataset")
    # an empty list, or one without a single record, is no database: used as one, it would stand
    # for the paper's data with no rows
    if not any(isinstance(r, dict) for r in records):
        what = "an empty list" if not records else f"a list of {len(records)} non-records"
        raise CorruptFileError(f"{where}: member {member} holds {what}, not the records of a "
                               "jarvis-tools dataset")
    return records


def load_jarvis_records(dataset: str, store_dir: Path | None = None) -> list[dict]:
    """Raw records of a paper database.

    A zip placed in ``data/raw/`` is used as is; otherwise it is downloaded there (atomically).
    A damaged zip (see ``read_jarvis_zip``) is moved aside to ``*.corrupt`` and reported, never
    silently reused.

    Args:
        dataset: dataset slot, ``jv2d``, ``c2db`` or ``alex``.
        store_dir: folder of the zip; None for ``data/raw/``.

    Returns:
        The database's records (dicts in jarvis format).

    Raises:
        KeyError: ``dataset`` is not one of ``JARVIS_DATASETS``.
        DataUnavailableError: no usable zip and the download fails (no network); names the
            file, the URL and where to place it.
        CorruptFileError: the downloaded zip is damaged (it is not kept).
    """
    from jarvis.db.figshare import get_db_info, get_request_data

    name = JARVIS_DATASETS[dataset]["name"]
    url, js_tag = get_db_info()[name][:2]
    path = jarvis_zip_path(dataset, store_dir)
    moved = ""
    if path.exists():
        try:
            return read_jarvis_zip(path, js_tag)
        except CorruptFileError as exc:
            bad = storage.quarantine(path)
            moved = f" ({paths.relative(path)} was damaged and is now {paths.relative(bad)})"
            print(f"WARNING: {exc}. Moved it to {paths.relative(bad)}; fetching a fresh copy.")
    paths.ensure(path.parent)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=".download-"))
    try:
        try:
            get_request_data(js_tag=js_tag, url=url, store_dir=str(tmp))
        except Exception as exc:  # no network, HTTP error, ...
            raise DataUnavailableError(
                f"Cannot obtain the {name!r} database ({type(exc).__name__}){moved}. Place the "
                f"file {path.name} (jarvis-tools figshare dataset {name!r}, {url}) at "
                f"{paths.relative(path)} and run again, or use the offline default "
                "data_source='offline' (the prototype stand-in).") from None
        records = read_jarvis_zip(tmp / path.name, js_tag)   # a damaged download is not kept
        (tmp / path.name).replace(path)
        return records
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def load_jarvis_table(dataset: str, store_dir: Path | None = None):
    """The normalised corpus table of a paper database (``load_jarvis_records``, then
    ``records_to_table``).

    Args:
        dataset: dataset slot, ``jv2d``, ``c2db`` or ``alex``.
        store_dir: folder of the zip; None for ``data/raw/``.

    Returns:
        ``(table, skipped)`` as ``records_to_table`` returns them.

    Raises:
        KeyError: ``dataset`` is not one of ``JARVIS_DATASETS``.
        DataUnavailableError: no usable zip and the download fails.
        CorruptFileError: the downloaded zip is damaged.
    """
    return records_to_table(load_jarvis_records(dataset, store_dir), dataset)
