"""The --plan estimate: sizes follow the profile, the paper profile costs more than quick."""
from __future__ import annotations

import subprocess
import sys

from lattice_utils.core import paths
from lattice_utils.repro.plan import plan


def test_plan_rows_follow_the_profiles():
    quick, paper = plan("quick", 2), plan("paper", 2)
    assert [r["notebooks"] for r in quick] == [r["notebooks"] for r in paper]
    assert all(r["cpu_h"] > 0 and r["gpu_h"] > 0 for r in paper)
    assert sum(r["cpu_h"] for r in paper) > 100 * sum(r["cpu_h"] for r in quick)
    assert "115,000 crystals" in paper[2]["work"] and "137,832" in paper[0]["work"]
    # more cores, less time
    assert sum(r["cpu_h"] for r in plan("paper", 32)) < sum(r["cpu_h"] for r in paper)


def test_plan_command_prints_a_table_and_runs_nothing():
    out = subprocess.run([sys.executable, "-m", "lattice_utils.repro.plan", "--profile", "paper", "--cpu-cores", "4"],
                         capture_output=True, text=True, cwd=paths.ROOT, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "| total |" in out.stdout and "ASSUMED" in out.stdout


def test_notebook_estimates_take_the_last_run_at_that_profile_else_the_plan(tmp_path):
    import json

    from lattice_utils.repro.plan import _group_numbers, notebook_estimates

    assert _group_numbers("02-08, 14-15") == {"02", "03", "04", "05", "06", "07", "08", "14", "15"}
    record = {"duration": 123.4, "exception": None, "parameters": {"profile": "quick"}}
    (tmp_path / "09_xrd_dataset.ipynb").write_text(json.dumps({"metadata": {"papermill": record}}))
    (tmp_path / "10_x.ipynb").write_text(json.dumps({"metadata": {"papermill": dict(record, exception=True)}}))
    est = notebook_estimates("quick", ["notebooks/09_xrd_dataset.ipynb", "10_x.ipynb", "12_y.ipynb"], tmp_path, 2)
    assert est["09_xrd_dataset.ipynb"] == (123.4, "last run")
    # a failed run is no estimate; 10-13 share their plan row evenly
    assert est["10_x.ipynb"][1] == "plan" and est["10_x.ipynb"][0] == est["12_y.ipynb"][0] > 0
    assert notebook_estimates("smoke", ["09_xrd_dataset.ipynb"], tmp_path, 2)["09_xrd_dataset.ipynb"][1] == "plan"
