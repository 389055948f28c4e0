"""Project-relative paths: the only place that knows where things live.

Every other module and notebook asks this one, so the repository works from any
checkout location and no absolute path is ever written into code or outputs.
"""
from __future__ import annotations

import os
from pathlib import Path

__all__ = ["ROOT", "NOTEBOOKS", "PAPER_VALUES", "DOCS", "DATA", "RAW", "CORPORA", "IMAGES", "INPUTS", "FEATURES",
           "MODELS", "OUTPUT", "FIGURES", "REPORTS", "TABLES", "EXECUTED", "SITE", "BENCHMARKS", "SNAPSHOTS",
           "layout", "ensure", "relative"]

ROOT = Path(__file__).resolve().parents[2]      # lattice_utils/core/paths.py -> the checkout
NOTEBOOKS = ROOT / "notebooks"
PAPER_VALUES = ROOT / "lattice_utils" / "paper_values"
DOCS = ROOT / "docs"               # the committed snapshot of the last published run


def layout(data: Path, output: Path, repo: Path | None = None) -> dict[str, Path]:
    """Every generated location, given the data and output roots: the module's constants below
    and the test suite's scratch directories come from this one table.

    Args:
        data: root of the generated data (``LATTICE_DATA_DIR``; ``data/`` of the checkout by
            default).
        output: root of figures and reports (``LATTICE_OUTPUT_DIR``; the checkout by default).
        repo: the checkout whose committed snapshots are read and written; by default (None) the
            output root, so that a scratch layout is a checkout of its own and never touches the
            real snapshots.

    Returns:
        {name: path} for DATA, RAW, CORPORA, IMAGES, INPUTS, FEATURES, MODELS, OUTPUT, FIGURES,
        REPORTS, TABLES, EXECUTED, SITE, BENCHMARKS and SNAPSHOTS, in that order.
    """
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
        # one record per benchmark script: docs/performance.md is written from them
        "BENCHMARKS": reports / "benchmarks",
        # committed results of seeded runs (paper_runs): in the checkout wherever outputs go,
        # because the report and the snapshot guard must read what was committed
        "SNAPSHOTS": (output if repo is None else repo) / "reports" / "snapshots",
    }


def _root_from_environment(name: str, default: Path) -> Path:
    """The folder an environment variable names, made absolute once, against the folder the user
    ran from, and written back: the processes this one starts in another folder (papermill
    starts its kernels in notebooks/) then find the same folder, not one of their own."""
    value = os.environ.get(name)
    if not value:      # unset or empty: the default, as run_all.sh reads ${LATTICE_OUTPUT_DIR:-.}
        return default
    resolved = Path(os.path.abspath(value))
    os.environ[name] = str(resolved)
    return resolved


# LATTICE_DATA_DIR lets a user keep the (large) generated data on another disk;
# LATTICE_OUTPUT_DIR redirects figures/ and reports/ (the notebook smoke runs use a scratch dir).
_LAYOUT = layout(_root_from_environment("LATTICE_DATA_DIR", ROOT / "data"),
                 _root_from_environment("LATTICE_OUTPUT_DIR", ROOT), repo=ROOT)
(DATA, RAW, CORPORA, IMAGES, INPUTS, FEATURES, MODELS,
 OUTPUT, FIGURES, REPORTS, TABLES, EXECUTED, SITE, BENCHMARKS, SNAPSHOTS) = _LAYOUT.values()


def ensure(path: Path) -> Path:
    """Create a directory (and parents) if missing; return it.

    Args:
        path: the directory.

    Returns:
        ``path`` itself.
    """
    path.mkdir(parents=True, exist_ok=True)
    return path


def relative(path: Path | str) -> str:
    """Path as written in reports: relative to the repository root when inside it.

    Args:
        path: any path (resolved first: symbolic links and ``..`` are followed).

    Returns:
        The POSIX path relative to ``ROOT`` when inside the checkout, else the absolute one.
    """
    p = Path(path).resolve()
    try:
        return p.relative_to(ROOT).as_posix()
    except ValueError:
        return p.as_posix()
