"""2D structure sources, normalised into one table.

Columns of every corpus table: ``id, formula, elements, band_gap, atoms`` (jarvis
``Atoms`` dict of the oriented cell), ``a, b, gamma`` (stored cell), ``label`` (the
paper's jarvis rule), ``canon_a, canon_b, canon_gamma, canon_label, canon_mult``
(reduced primitive cell), ``source`` and, offline, ``layer_group``.

Sources
* ``jarvis``: JV2D (``dft_2d``), C2DB (``c2db``), Alex-PBE (``alex_pbe_2d_all``)
  through jarvis-tools' figshare loader, zip kept in ``data/raw/``.
* ``offline``: random 2D crystals from PyXtal over the 80 layer groups (module
  ``offline_corpus``), sized and class-balanced like the paper's Table S3.
"""
from __future__ import annotations

import math
import shutil
import tempfile
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from . import paths
from .lattice2d import (CanonicalCell, StructureError, canonical_cell, lattice_params_2d, orient_layer,
                        paper_label, projected_canonical_cell)

# dataset slot -> jarvis-tools dataset name and its record keys
JARVIS_DATASETS = {
    "jv2d": {"name": "dft_2d", "id": "jid", "gap": "optb88vdw_bandgap"},
    "c2db": {"name": "c2db", "id": "id", "gap": "gap"},
    "alex": {"name": "alex_pbe_2d_all", "id": "mat_id", "gap": "band_gap_ind"},
}
COLUMNS = ["id", "formula", "elements", "band_gap", "atoms", "a", "b", "gamma", "label",
           "canon_a", "canon_b", "canon_gamma", "canon_label", "canon_mult", "source"]


class DataUnavailableError(RuntimeError):
    """No network and no file placed by hand."""


class CorruptFileError(RuntimeError):
    """A cached download that cannot be read."""


# ---------------------------------------------------------------- one record

def _valid_symbols() -> frozenset:
    from pymatgen.core.periodic_table import Element

    return frozenset(e.symbol for e in Element)


_SYMBOLS = None


def normalise_record(rid: str, atoms_dict: dict, source: str, band_gap=np.nan,
                     formula: str | None = None, extra: dict | None = None) -> dict:
    """Validate, orient (a x b along z) and label one structure. Raises
    ``StructureError`` with the reason for a record that cannot be used."""
    global _SYMBOLS
    from jarvis.core.atoms import Atoms

    if _SYMBOLS is None:
        _SYMBOLS = _valid_symbols()
    if not isinstance(atoms_dict, dict):
        raise StructureError("no structure")
    elements = list(atoms_dict.get("elements") or [])
    coords = np.asarray(atoms_dict.get("coords") or [], dtype=float)
    lattice = np.asarray(atoms_dict.get("lattice_mat") or [], dtype=float)
    if len(elements) == 0 or coords.size == 0:
        raise StructureError("no atoms")
    if lattice.shape != (3, 3):
        raise StructureError(f"lattice has shape {lattice.shape}, expected (3, 3)")
    if coords.shape != (len(elements), 3):
        raise StructureError(f"{len(elements)} elements but coordinates of shape {coords.shape}")
    unknown = sorted({e for e in elements if e not in _SYMBOLS})
    if unknown:
        raise StructureError(f"unknown element(s) {', '.join(map(str, unknown))}")
    if not (np.all(np.isfinite(coords)) and np.all(np.isfinite(lattice))):
        raise StructureError("non-finite coordinates or lattice")
    frac = coords if not atoms_dict.get("cartesian") else np.linalg.solve(lattice.T, coords.T).T
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
        "canon_label": canon.label, "canon_mult": canon.multiplicity,
        "source": source,
    }
    if extra:
        row.update(extra)
    return row


def projected_cell(atoms_dict: dict) -> CanonicalCell:
    """Reduced cell of a normalised record (the ``atoms`` column) projected along z: the
    lattice its image shows, which can be smaller than the crystal's."""
    from jarvis.core.atoms import Atoms

    at = Atoms.from_dict(atoms_dict)
    return projected_canonical_cell(np.array(at.lattice_mat), np.array(at.cart_coords), at.elements)


def records_to_table(records, dataset: str, source: str = "jarvis", verbose: bool = True):
    """Normalise raw jarvis-format records; bad ones are skipped with id and reason.
    Returns ``(table, skipped)`` where ``skipped`` is a list of ``(id, reason)``."""
    keys = JARVIS_DATASETS[dataset]
    rows, skipped = [], []
    for k, rec in enumerate(records):
        rid = rec.get(keys["id"], f"record-{k}") if isinstance(rec, dict) else f"record-{k}"
        try:
            rows.append(normalise_record(rid, rec.get("atoms"), source,
                                         band_gap=rec.get(keys["gap"], np.nan),
                                         formula=rec.get("formula")))
        except (StructureError, ValueError, TypeError, KeyError, AttributeError) as exc:
            skipped.append((str(rid), f"{type(exc).__name__}: {exc}"))
    table = pd.DataFrame(rows, columns=COLUMNS if not rows else None)
    if verbose:
        print_skip_summary(dataset, len(records), skipped)
    return table, skipped


def print_skip_summary(name: str, n_in: int, skipped) -> None:
    print(f"{name}: {n_in - len(skipped)} of {n_in} records kept, {len(skipped)} skipped")
    reasons = Counter(r.split(":", 1)[-1].strip() for _, r in skipped)
    for reason, n in reasons.most_common():
        example = next(i for i, r in skipped if r.endswith(reason))
        print(f"  {n:6d} x {reason}   (e.g. {example})")


# ---------------------------------------------------------------- jarvis-tools loader

def jarvis_zip_path(dataset: str, store_dir: Path | None = None) -> Path:
    from jarvis.db.figshare import get_db_info

    name = JARVIS_DATASETS[dataset]["name"]
    return Path(store_dir or paths.RAW) / (get_db_info()[name][1] + ".zip")


def check_zip(path: Path) -> None:
    """Raise ``CorruptFileError`` naming the file if it is not a readable zip."""
    try:
        with zipfile.ZipFile(path) as z:
            bad = z.testzip()
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise CorruptFileError(f"{paths.relative(path)} is not a readable zip ({exc}); "
                               "it was probably cut off during download") from None
    if bad is not None:
        raise CorruptFileError(f"{paths.relative(path)}: member {bad} fails its CRC check")


def load_jarvis_records(dataset: str, store_dir: Path | None = None) -> list[dict]:
    """Raw records of a paper database. A zip placed in ``data/raw/`` is used as is;
    otherwise it is downloaded there (atomically). A corrupt zip is moved aside to
    ``*.corrupt`` and reported, never silently reused."""
    import json

    from jarvis.db.figshare import get_db_info, get_request_data

    name = JARVIS_DATASETS[dataset]["name"]
    url, js_tag = get_db_info()[name][:2]
    path = jarvis_zip_path(dataset, store_dir)
    if path.exists():
        try:
            check_zip(path)
        except CorruptFileError as exc:
            bad = path.with_suffix(path.suffix + ".corrupt")
            path.replace(bad)
            print(f"WARNING: {exc}. Moved it to {paths.relative(bad)}; fetching a fresh copy.")
    if not path.exists():
        paths.ensure(path.parent)
        tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=".download-"))
        try:
            get_request_data(js_tag=js_tag, url=url, store_dir=str(tmp))
            check_zip(tmp / path.name)
            (tmp / path.name).replace(path)
        except CorruptFileError:
            raise
        except Exception as exc:  # no network, HTTP error, ...
            raise DataUnavailableError(
                f"Cannot obtain the {name!r} database ({type(exc).__name__}). Place the file "
                f"{path.name} (jarvis-tools figshare dataset {name!r}) at "
                f"{paths.relative(path)} and run again, or use the offline default "
                "data_source='offline' (PyXtal corpus).") from None
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    with zipfile.ZipFile(path) as z:
        return json.loads(z.read(js_tag))


def load_jarvis_table(dataset: str, store_dir: Path | None = None):
    return records_to_table(load_jarvis_records(dataset, store_dir), dataset)
