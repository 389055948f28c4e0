"""Smoke run of the notebook chain (profile smoke) in scratch data/output directories.

Two runs from scratch must give byte-identical tables."""
from __future__ import annotations

import filecmp
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from lattice_utils.core import paths
from lattice_utils.repro.outputs import expected_outputs

NOTEBOOKS = sorted(paths.NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
EXPECTED = expected_outputs()        # the registry: lattice_utils/repro/outputs.py


def run_chain(out_dir):
    env = dict(os.environ, LATTICE_DATA_DIR=str(out_dir / "data"),
               LATTICE_OUTPUT_DIR=str(out_dir), MPLBACKEND="Agg")
    executed = out_dir / "reports" / "executed"          # where run_all.sh puts them: the results page reads them
    executed.mkdir(parents=True, exist_ok=True)
    for nb in NOTEBOOKS:
        cmd = [sys.executable, "-m", "papermill", str(nb), str(executed / nb.name),
               "--cwd", str(paths.NOTEBOOKS), "-p", "profile", "smoke", "--no-progress-bar"]
        res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
        assert res.returncode == 0, f"{nb.name} failed:\n{res.stderr[-4000:]}"


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    first, second = tmp_path_factory.mktemp("run1"), tmp_path_factory.mktemp("run2")
    run_chain(first)
    run_chain(second)
    return first, second


@pytest.mark.slow
def test_every_notebook_has_a_parameters_cell():
    import nbformat

    for nb in NOTEBOOKS:
        cells = nbformat.read(nb, as_version=4).cells
        tagged = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
        assert len(tagged) == 1, nb.name
        assert "profile" in tagged[0].source


def test_every_notebook_cell_has_an_id():
    """nbformat 4.5 cells carry ids; a cell added without one makes nbformat warn now and, it says,
    fail in a later version."""
    import json

    for nb in NOTEBOOKS:
        cells = json.loads(nb.read_text())["cells"]
        missing = [i for i, c in enumerate(cells) if not c.get("id")]
        assert not missing, f"{nb.name}: cells {missing} have no id"


def test_every_lattice_utils_name_a_notebook_uses_exists():
    """Catches a renamed or moved function in seconds, before the smoke chain reaches the notebook
    that calls it (every ``module.name`` of an imported lattice_utils module, and every name
    imported from one)."""
    import ast
    import importlib

    import nbformat

    missing = []
    for nb in NOTEBOOKS:
        code = "\n".join(c.source for c in nbformat.read(nb, as_version=4).cells if c.cell_type == "code")
        tree = ast.parse("\n".join(line for line in code.splitlines() if not line.lstrip().startswith(("%", "!"))))
        modules = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("lattice_utils"):
                parent = importlib.import_module(node.module)
                for alias in node.names:
                    try:
                        modules[alias.asname or alias.name] = importlib.import_module(f"{node.module}.{alias.name}")
                    except ModuleNotFoundError:
                        if not hasattr(parent, alias.name):
                            missing.append(f"{nb.name}: {node.module}.{alias.name}")
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in modules
                    and not hasattr(modules[node.value.id], node.attr)):
                missing.append(f"{nb.name}: {node.value.id}.{node.attr}")
    assert not missing, missing


@pytest.mark.slow
def test_smoke_chain_writes_every_claimed_output(two_runs):
    first, _ = two_runs
    for nb, outputs in EXPECTED.items():
        for f in outputs["figures"]:
            assert (first / "figures" / f).stat().st_size > 0, (nb, f)
        for f in outputs["tables"]:
            table = first / "reports" / "tables" / f
            assert table.stat().st_size > 0, (nb, f)
            if table.suffix == ".csv":      # a header-only CSV is no table
                assert len(pd.read_csv(table)) > 0, (nb, f)
    site = first / "reports" / "site"
    report = (site / "reproduction.md").read_text()
    assert "| document |" in report and "profile smoke" in report
    # every table the report reads gave it at least one row (a renamed column or a changed
    # label would drop them silently)
    from lattice_utils.repro import outputs
    checked = set(pd.read_csv(first / "reports" / "tables" / "reproduction_checks.csv")["table"])
    assert set(outputs.CHECKED) <= checked, sorted(set(outputs.CHECKED) - checked)
    # rows of checks from every document, not only the always-present items table; each paper by
    # its short name, never by the file number the code keys it by
    from lattice_utils.repro import outputs, reproduction
    checks = pd.read_csv(first / "reports" / "tables" / "reproduction_checks.csv", dtype={"document": str})
    assert set(checks["document"]) == set(outputs.SHORT_NAMES), set(checks["document"])
    assert all(f"## {name}: " in report for name in outputs.SHORT_NAMES.values())
    assert not re.findall(r"^\| 00\d \|", report, flags=re.M)
    # every headline entry found its row (a renamed item would drop it from the front page silently)
    headline = (site / "headline.md").read_text()
    assert len(re.findall(r"^\| (?!document|---)", headline, flags=re.M)) == len(reproduction.HEADLINE)
    # the results page shows every declared figure and table of the run, and misses none
    run = json.loads((site / "run.json").read_text())
    assert run["profile"] == "smoke" and run["missing"] == []
    page = (site / "results.md").read_text()
    assert page.count("last run took") == len(EXPECTED) - 1      # every notebook but 99, which is running
    declared = [n for o in EXPECTED.values() for n in o["figures"] + o["tables"]]
    for name in {Path(f).stem for f in declared}:
        assert f"`{name}`" in page, name
    assert len(list((site / "figures").glob("*.png"))) == len({Path(f).stem for o in EXPECTED.values()
                                                               for f in o["figures"]})


@pytest.mark.slow
def test_two_smoke_runs_give_byte_identical_tables(two_runs):
    first, second = two_runs
    t1, t2 = first / "reports" / "tables", second / "reports" / "tables"
    names = sorted(p.name for p in t1.iterdir())
    assert names and names == sorted(p.name for p in t2.iterdir())
    match, mismatch, errors = filecmp.cmpfiles(t1, t2, names, shallow=False)
    assert not mismatch and not errors, mismatch


def test_every_notebook_claims_its_outputs():
    """The registry above covers exactly the notebooks in notebooks/."""
    assert sorted(EXPECTED) == [nb.name for nb in NOTEBOOKS]


# the longest code cell a notebook may hold (lines of code, not counting blank and comment lines):
# logic that computes a reported number lives in a tested function, a cell shows what it does
MAX_CELL_LINES = 24


def test_no_notebook_cell_grows_past_a_screen():
    import nbformat

    long = []
    for nb in NOTEBOOKS:
        for i, cell in enumerate(nbformat.read(nb, as_version=4).cells):
            code = [ln for ln in cell.source.splitlines() if ln.strip() and not ln.strip().startswith("#")]
            if cell.cell_type == "code" and len(code) > MAX_CELL_LINES:
                long.append(f"{nb.name} cell {i}: {len(code)} lines")
    assert not long, "cells longer than a screen (move their logic into a tested function):\n" + "\n".join(long)
