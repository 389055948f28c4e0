"""Benchmark results as data. Each script in ``benchmarks/`` ends with ``record(...)``: its tables,
with the command that produced them, the date, the commit and the machine, in
``reports/benchmarks/<name>.json`` (git-ignored). ``write_page`` copies them into
``docs/benchmarks/`` (committed: a machine that does not keep its files between sessions would
otherwise have to rerun every benchmark to change one section) and writes ``docs/performance.md``
from that folder (``./run_all.sh publish --benchmarks``), so no figure on that page is typed by
hand: to check one, rerun the command printed above its table.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import platform
import shlex
import sys
from pathlib import Path

import pandas as pd

from ..core import paths
from ..core.storage import strict, write_text
from .report import git_commit, to_markdown

__all__ = ["SECTIONS", "record", "load_records", "performance_page", "write_page"]

# page order; what each measures, in words only (the numbers come from the records)
SECTIONS = {
    "integrity": ("What the integrity checks cost",
                  "Reading an image store with each chunk's CRC-32 checked against the manifest, against "
                  "memory-mapping the same bytes unchecked; loading DenseNet121 weights through "
                  "`storage.load_torch` (weights_only plus an allow-list) against `torch.load(weights_only=False)`."),
    "training": ("DenseNet121 training and inference speed",
                 "Images per second at the network's input size on this machine's threads, for the "
                 "precision paths `training` can take; ratios against naive fp32 in the same run. With "
                 "`--accuracy`, the quick JV2D regressor trained in fp32 and in bf16 and scored on the test split."),
    "estimator_speed": ("FFT lattice estimator speed",
                        "One 256 px image through `fft_lattice.estimate_lattice`, and the grain analysis (with "
                        "the scan distortion measured from its grains) of a 2048 px frame, each on one thread "
                        "against the bare FFT and peak search of the same image in the same run."),
    "stem": ("STEM simulation throughput and memory",
             "Images per second on one core: jarvis-tools' STEMConv alone, the repository's "
             "`simulate_stem_image` with its uint8 conversion, and a whole store build with chunked "
             "atomic writes; then the peak memory of a store build with 2 workers at two sizes (it "
             "should not grow with N)."),
    "xrd": ("XRD zone-axis pattern simulation",
            "Milliseconds per pattern (spots and rendering at the paper's 321 x 322 px, one core) "
            "against a direct reference implementation on the same patterns, and the bytes a pattern "
            "takes stored as spots."),
    "fft_lattice": ("The FFT lattice estimator on the simulated test splits",
                    "Speed, the share of test images where a lattice is found and flagged reliable, and "
                    "the MAE of a and b on the standard subset against the crystal's reduced cell and "
                    "against the reduced cell of its projection (which the image shows)."),
    "predict_memory": ("Memory of `predict`",
                       "Peak memory beyond the image of `predict`'s two paths on a large image, each case "
                       "in its own process, against the whole-image references the code used before."),
    "machine_differences": ("Why two machines give different numbers",
                            "The quick JV2D DenseNet121 classifier trained on the paper's STEM-JV2D images "
                            "once per variant, each in its own process: a change of thread count, "
                            "precision or seed moves the result by as much as another seed does."),
}


def machine() -> dict:
    import torch
    return {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(), "torch": str(torch.__version__), "torch_threads": torch.get_num_threads(),
            "python": platform.python_version()}


def record(name: str, tables: dict, notes=(), argv=None) -> Path:
    """Write ``reports/benchmarks/<name>.json``: ``tables`` (title -> DataFrame or list of row
    dicts), free-text ``notes`` (conditions of the run), the command line, date, commit and
    machine. ``name`` must be one of ``SECTIONS``.

    Args:
        name: the benchmark, a ``SECTIONS`` key.
        tables: title -> DataFrame or list of row dicts.
        notes: free-text lines on the conditions of the run.
        argv: the command line (its first item the script); None: ``sys.argv``.

    Returns:
        The path of the record written.

    Raises:
        ValueError: ``name`` is not a ``SECTIONS`` key.
    """
    if name not in SECTIONS:
        raise ValueError(f"unknown benchmark {name!r}; add it to benchmark_results.SECTIONS ({sorted(SECTIONS)})")
    argv = list(sys.argv if argv is None else argv)
    script = Path(argv[0])
    try:
        script = script.resolve().relative_to(paths.ROOT)
    except ValueError:
        pass
    out = {"name": name, "command": ".venv/bin/python " + shlex.join([script.as_posix()] + argv[1:]),
           "date": dt.date.today().isoformat(), "commit": git_commit(), "machine": machine(),
           "notes": list(notes), "tables": {}}
    for title, rows in tables.items():
        df = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
        out["tables"][title] = {"columns": [str(c) for c in df.columns],
                                "rows": strict([list(r) for r in df.itertuples(index=False)])}
    path = paths.ensure(paths.BENCHMARKS) / f"{name}.json"
    write_text(path, json.dumps(out, indent=1, ensure_ascii=False) + "\n")
    return path


def load_records(folder: Path | None = None) -> dict:
    """name -> record of every ``<name>.json`` in ``folder`` whose name is a known section; a
    malformed file is a ``ValueError`` naming it.

    Args:
        folder: the folder of records; None: ``reports/benchmarks/`` (``paths.BENCHMARKS``).

    Returns:
        Section name -> its record (a dict with command, date, commit, machine, tables, notes).

    Raises:
        ValueError: a record is not JSON, lacks a key or holds a table that does not parse.
    """
    folder = paths.BENCHMARKS if folder is None else folder
    out = {}
    for name in SECTIONS:
        path = folder / f"{name}.json"
        if not path.exists():
            continue
        try:
            rec = json.loads(path.read_text())
            if not isinstance(rec, dict) or not {"command", "date", "commit", "machine", "tables"} <= set(rec):
                raise ValueError("it lacks command, date, commit, machine or tables")
            for t in rec["tables"].values():
                pd.DataFrame(t["rows"], columns=t["columns"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{paths.relative(path)} is not a benchmark record ({exc}); rerun its benchmark") from None
        out[name] = rec
    return out


def performance_page(records: dict) -> str:
    """``docs/performance.md`` from the records: one section per benchmark that has one, each with
    its command, date, commit and machine; a benchmark without a record is listed as not run.

    Args:
        records: ``load_records()``.

    Returns:
        The page's Markdown.
    """
    lines = ["# Performance", "",
             "Written by `./run_all.sh publish --benchmarks` from the records the scripts in `benchmarks/` leave in",
             "`reports/benchmarks/`, kept in [benchmarks/](benchmarks/) (a rerun replaces only its own section);",
             "nothing here is typed. Ratios are against a reference measured in the same run.",
             "The run time of every notebook in the last published run is on the [results page](results.md).",
             "Back to the [README](../README.md).", ""]
    missing = [SECTIONS[n][0] for n in SECTIONS if n not in records]
    for name, (title, what) in SECTIONS.items():
        rec = records.get(name)
        if rec is None:
            continue
        m = rec["machine"]
        lines += [f"## {title}", "", what, "",
                  f"`{rec['command']}` on {rec['date']} at commit {rec['commit']}: {m.get('cpus')} CPUs "
                  f"({m.get('processor')}), torch {m.get('torch')}, torch threads: {m.get('torch_threads')}.", ""]
        for t_title, t in rec["tables"].items():
            table = pd.DataFrame(t["rows"], columns=t["columns"])
            lines += [f"**{t_title}**", "", to_markdown(table, floatfmt="{:.4g}").rstrip(), ""]
        lines += [f"* {n}" for n in rec.get("notes", [])]
        if rec.get("notes"):
            lines.append("")
    if missing:
        lines += ["## Not measured in this snapshot", "", *[f"* {t}" for t in missing], ""]
    return "\n".join(lines)


def write_page(docs: Path | None = None, folder: Path | None = None) -> Path:
    """Write ``docs/performance.md`` from the benchmark records (``./run_all.sh publish --benchmarks``).

    The records of this machine (``folder``) are first copied into ``docs/benchmarks/``, which is
    committed (each only when it is not older than the committed one of its benchmark), and the page
    is written from that folder: a benchmark rerun on another day, or on a
    machine that kept none of the other records, replaces its own section and leaves the others as
    they were measured (each section names its date, commit and machine).

    Args:
        docs: the folder the page goes in, with its ``benchmarks/`` records; None: ``docs/`` (``paths.DOCS``).
        folder: the folder of this machine's records; None: ``reports/benchmarks/``.

    Returns:
        The path of the page written.

    Raises:
        ValueError: there is no record in either folder, or a record is malformed (nothing is
            written then).
    """
    docs = paths.DOCS if docs is None else docs
    committed = docs / "benchmarks"
    kept = load_records(committed)
    # a record this machine kept from an earlier day never replaces a newer one measured elsewhere
    new = {n: r for n, r in load_records(folder).items() if n not in kept or r["date"] >= kept[n]["date"]}
    records = {**kept, **new}
    if not records:
        raise ValueError(f"{paths.relative(paths.BENCHMARKS if folder is None else folder)} holds no benchmark "
                         "record: run the scripts in benchmarks/ first")
    for name, rec in new.items():
        write_text(committed / f"{name}.json", json.dumps(rec, indent=1, ensure_ascii=False) + "\n")
    return write_text(docs / "performance.md", performance_page(records))
