"""Project-relative paths: the only place that knows where things live.

Every other module and notebook asks this one, so the repository works from any
checkout location and no absolute path is ever written into code or outputs.
"""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# LATTICE_DATA_DIR lets a user keep the (large) generated data on another disk.
DATA = Path(os.environ.get("LATTICE_DATA_DIR", ROOT / "data"))
RAW = DATA / "raw"                 # database downloads / files placed by hand (immutable)
CORPORA = DATA / "corpora"         # normalised structure tables (gzipped JSON)
IMAGES = DATA / "images"           # chunked STEM image stores
INPUTS = DATA / "inputs"           # images resized to a network's input size (memory-mapped)
FEATURES = DATA / "features"       # frozen-backbone features (Clip + MLP)
MODELS = DATA / "models"           # trained weights, checkpoints, histories, predictions
# LATTICE_OUTPUT_DIR redirects figures/ and reports/ (the test suite uses a scratch dir).
OUTPUT = Path(os.environ.get("LATTICE_OUTPUT_DIR", ROOT))
FIGURES = OUTPUT / "figures"
REPORTS = OUTPUT / "reports"
TABLES = REPORTS / "tables"
EXECUTED = REPORTS / "executed"    # papermill outputs
NOTEBOOKS = ROOT / "notebooks"
PAPER_VALUES = ROOT / "lattice_utils" / "paper_values"


def ensure(path: Path) -> Path:
    """Create a directory (and parents) if missing; return it."""
    path.mkdir(parents=True, exist_ok=True)
    return path


def relative(path: Path | str) -> str:
    """Path as written in reports: relative to the repository root when inside it."""
    p = Path(path).resolve()
    try:
        return p.relative_to(ROOT).as_posix()
    except ValueError:
        return p.as_posix()
