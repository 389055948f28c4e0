"""Benchmark records and the performance page written from them."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from lattice_utils.core import paths
from lattice_utils.repro import benchmark_results as B
from lattice_utils.repro import publish


def test_a_record_round_trips_into_the_page(scratch_dirs):
    table = pd.DataFrame({"path": ["reference", "ours"], "images/s": [10.0, 25.5], "ratio": [1.0, 2.55]})
    path = B.record("stem", {"Throughput": table}, notes=["one core"],
                    argv=["benchmarks/bench_stem.py", "--structures", "48"])
    rec = json.loads(path.read_text())
    assert rec["command"] == ".venv/bin/python benchmarks/bench_stem.py --structures 48"
    assert rec["machine"]["cpus"] >= 1 and rec["tables"]["Throughput"]["rows"][1] == ["ours", 25.5, 2.55]
    page = B.performance_page(B.load_records())
    assert "## STEM simulation throughput and memory" in page
    assert "`.venv/bin/python benchmarks/bench_stem.py --structures 48` on" in page
    assert "| ours | 25.5 | 2.55 |" in page and "* one core" in page
    # the benchmarks without a record are listed, not invented
    assert "## Not measured in this snapshot" in page and "* Memory of `predict`" in page
    written = B.write_page(docs=scratch_dirs / "docs")
    assert written.read_text() == page
    assert (scratch_dirs / "docs" / "benchmarks" / "stem.json").exists()


def test_a_rerun_replaces_its_own_section_only(scratch_dirs):
    """A machine that kept none of the other records: its page keeps their committed sections."""
    docs = scratch_dirs / "docs"
    B.record("stem", {"Throughput": [{"path": "ours", "images/s": 25.5}]}, argv=["benchmarks/bench_stem.py"])
    B.record("xrd", {"Patterns": [{"ms": 4.0}]}, argv=["benchmarks/bench_xrd.py"])
    B.write_page(docs=docs)
    for f in paths.BENCHMARKS.glob("*.json"):         # the next session's machine
        f.unlink()
    B.record("xrd", {"Patterns": [{"ms": 3.0}]}, argv=["benchmarks/bench_xrd.py"])
    page = B.write_page(docs=docs).read_text()
    assert "| ours | 25.5 |" in page and "| 3 |" in page and "| 4 |" not in page
    assert json.loads((docs / "benchmarks" / "xrd.json").read_text())["tables"]["Patterns"]["rows"] == [[3.0]]


@pytest.mark.bad_input
def test_bad_records_and_names_are_refused(scratch_dirs, capsys, monkeypatch):
    monkeypatch.setattr(paths, "DOCS", scratch_dirs / "docs")       # never the checkout's page
    with pytest.raises(ValueError, match="unknown benchmark 'nope'"):
        B.record("nope", {})
    assert publish.main(["--benchmarks"]) == 2
    assert "holds no benchmark record: run the scripts in benchmarks/ first" in capsys.readouterr().err
    paths.ensure(paths.BENCHMARKS)
    (paths.BENCHMARKS / "xrd.json").write_text('{"command": "x"}')
    with pytest.raises(ValueError, match=r"reports/benchmarks/xrd.json is not a benchmark record"):
        B.load_records()


def test_a_stale_local_record_never_replaces_a_newer_committed_one(scratch_dirs):
    docs = scratch_dirs / "docs"
    B.record("xrd", {"Patterns": [{"ms": 3.0}]}, argv=["benchmarks/bench_xrd.py"])
    B.write_page(docs=docs)
    committed = docs / "benchmarks" / "xrd.json"
    newer = json.loads(committed.read_text()) | {"date": "2999-01-01"}
    committed.write_text(json.dumps(newer))
    page = B.write_page(docs=docs).read_text()       # this machine's record is older than the committed one
    assert "on 2999-01-01" in page and json.loads(committed.read_text())["date"] == "2999-01-01"
