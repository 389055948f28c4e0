"""Project-relative paths: the only place that knows where things live.

Every other module and notebook asks this one, so the repository works from any
checkout location and no absolute path is ever written into code or outputs.
"""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
PAPER_VALUES = ROOT / "lattice_utils" / "paper_values"
DOCS = ROOT / "docs"               # the committed snapshot of the last published run


def layout(data: Path, output: Path) -> dict[str, Path]:
    """Every generated location, given the data and output roots: the module's constants below
    and the test suite's scratch directories come from this one table."""
    reports = output / "reports"
    return {
        "DATA": data,
        "RAW": data / "raw",                 # database downloads / files placed by hand (immutable)
        "CORPORA": data / "corpora",         # normalised structure tables (gzipped JSON)
        "IMAGES": data / "images",           # chunked STEM image stores
        "INPUTS": data / "inputs",           # images resized to a network's input size (memory-mapped)
        "FEATURES": data / "features",       # frozen-backbone features (Clip + MLP)
        "MODELS": data / "models",           # trained weights, checkpoints, histories, predictions
        "OUTPUT": output,
        "FIGURES": output / "figures",
        "REPORTS": reports,
        "TABLES": reports / "tables",
        "EXECUTED": reports / "executed",    # papermill outputs and logs
        "SITE": reports / "site",            # results page, report and light figures: what publish copies to docs/
        "BENCHMARKS": reports / "benchmarks",  # one record per benchmark script: docs/performance.md is written from them
    }


# LATTICE_DATA_DIR lets a user keep the (large) generated data on another disk;
# LATTICE_OUTPUT_DIR redirects figures/ and reports/ (the notebook smoke runs use a scratch dir).
_LAYOUT = layout(Path(os.environ.get("LATTICE_DATA_DIR", ROOT / "data")),
                 Path(os.environ.get("LATTICE_OUTPUT_DIR", ROOT)))
(DATA, RAW, CORPORA, IMAGES, INPUTS, FEATURES, MODELS,
 OUTPUT, FIGURES, REPORTS, TABLES, EXECUTED, SITE, BENCHMARKS) = _LAYOUT.values()


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
