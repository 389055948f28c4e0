"""The results page (notebook 99) and its publication into docs/ and README.md."""
from __future__ import annotations

import io
import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from lattice_utils.core import paths
from lattice_utils.repro import outputs, plots, publish

NB01 = "01_dataset_generation.ipynb"


def _table_md(title: str, rows: int) -> str:
    lines = [f"# {title}", "", "| k | v | profile | data_source |", "|---|---|---|---|"]
    lines += [f"| {i} | {i * i} | quick | offline |" for i in range(rows)]
    return "\n".join(lines) + "\n\nProfile quick; a note.\n"


@pytest.fixture
def run_outputs(tmp_path):
    """Tables and figures of notebook 01 as a run leaves them, and one timing row."""
    tables, figures = tmp_path / "tables", tmp_path / "figures"
    tables.mkdir(), figures.mkdir()
    for name in outputs.CLAIMS[NB01]:
        if outputs.is_table(name):
            (tables / f"{name}.md").write_text(_table_md(f"Title of {name}", 30))
            (tables / f"{name}.csv").write_text("k,v,profile,data_source\n0,0,quick,offline\n")
        elif name not in outputs.NEEDS_PAPER_DATA:
            rng = np.random.default_rng(0)
            Image.fromarray(rng.integers(0, 255, (1800, 2400, 3), dtype=np.uint8)).save(figures / f"{name}.png")
    executed = tmp_path / "executed"
    executed.mkdir()
    papermill = {"duration": 231.7, "end_time": "2026-11-29T10:00:00.5+00:00", "exception": None,
                 "parameters": {"profile": "quick"}}
    cells = [{"cell_type": "markdown", "metadata": {}, "source": "See [the references](../docs/references.md#x)."},
             {"cell_type": "code", "metadata": {}, "execution_count": 1, "source": "1 + 1",
              "outputs": [{"output_type": "display_data", "metadata": {}, "data": {"image/png": "iVBORw0KGgo="}}]}]
    (executed / NB01).write_text(json.dumps({"cells": cells, "metadata": {"papermill": papermill}}))
    failed = dict(papermill, exception=True)       # a failed run gives no time
    (executed / "02_model_selection.ipynb").write_text(json.dumps({"cells": [], "metadata": {"papermill": failed}}))
    return tables, figures, executed


def test_page_shows_each_notebooks_figures_and_tables_and_says_what_is_missing(run_outputs, tmp_path):
    tables, figures, executed = run_outputs
    site = tmp_path / "site"
    (site / "figures").mkdir(parents=True)
    (site / "figures" / "stale.png").write_bytes(b"from an older run")
    (executed / "01_dataset_generation.commit").write_text("abc1234\n")    # as run_all.sh records it
    out = publish.build(tables, figures, paths.NOTEBOOKS, executed, site, "# Results")
    page = (site / "results.md").read_text()
    assert page.startswith("# Results")
    assert '<a id="nb-01"></a>' in page and "last run took 232 s, on 2026-11-29; [executed" in page
    assert "profile quick; data: offline; last run" in page
    assert page.count("last run took") == 1
    assert "![fig1_example_images](figures/fig1_example_images.png)" in page
    # a table is shown up to TABLE_ROWS rows and linked whole
    assert ("*first 12 of 30 rows; whole table: "
            "[tables/table_s3_class_counts.md](tables/table_s3_class_counts.md)*") in page
    assert "| 11 | 121 |" in page and "| 12 | 144 |" not in page.split("table_s3_class_counts")[1].split("**")[0]
    assert ((site / "tables" / "table_s3_class_counts.md").read_text()
            == (tables / "table_s3_class_counts.md").read_text())
    # every other notebook wrote nothing here: all its outputs are named as missing
    assert "fig3_parity_standard_subset" in out["missing"] and "## Not in this run" in page
    assert "fig1_paper_image_sets" not in out["missing"]          # needs the paper's file: absent by design
    assert not (site / "figures" / "stale.png").exists()
    with Image.open(site / "figures" / "fig1_example_images.png") as im:
        assert max(im.size) == publish.LIGHT_PX and im.mode == "P"
    assert out["figures"] == 2 and out["tables"] == 6
    # the executed notebook, with its outputs, a first cell naming its run, and links that hold from docs/notebooks/
    assert "[executed, with its outputs](notebooks/01_dataset_generation.ipynb)" in page and out["notebooks"] == 1
    copy = json.loads((site / "notebooks" / NB01).read_text())
    banner = copy["cells"][0]["source"]
    assert "profile quick; data: offline; last run took 232 s, on 2026-11-29; commit abc1234." in banner
    # a run that left no record of its commit names none (never the commit of a later run of others)
    for record in ("", "abc1234\nsomething else", "x" * 200):
        (executed / "01_dataset_generation.commit").write_text(record)
        publish.build(tables, figures, paths.NOTEBOOKS, executed, site, "# Results")
        banner = json.loads((site / "notebooks" / NB01).read_text())["cells"][0]["source"]
        assert "last run took 232 s, on 2026-11-29." in banner and "commit" not in banner
    (executed / "01_dataset_generation.commit").unlink()
    assert publish.last_run(executed, NB01)["commit"] is None
    assert copy["cells"][1]["source"] == "See [the references](../references.md#x)."
    assert copy["cells"][2]["outputs"][0]["data"]["image/png"] == "iVBORw0KGgo="
    assert not (site / "notebooks" / "02_model_selection.ipynb").exists()     # its run failed: no copy


def test_links_move_with_the_notebook_and_absolute_ones_stay():
    text = "[a](../docs/methods.md#fft) [b](https://x.org/y) [c](#here) [d](../README.md) [e](figure.png)"
    assert publish.relink(text, "notebooks", "docs/notebooks") == (
        "[a](../methods.md#fft) [b](https://x.org/y) [c](#here) [d](../../README.md) [e](../../notebooks/figure.png)")


def test_a_figure_is_shown_only_inside_a_kernel(tmp_path):
    png = tmp_path / "f.png"
    Image.fromarray(np.zeros((40, 2000, 3), dtype=np.uint8)).save(png)
    assert plots.show_in_notebook(png) is False           # pytest is no Jupyter kernel
    with Image.open(io.BytesIO(plots.light_png_bytes(png, 900))) as im:
        assert im.size == (900, 18) and im.mode == "P"


def test_figures_over_the_budget_are_refused(run_outputs, tmp_path):
    tables, figures, executed = run_outputs
    with pytest.raises(ValueError, match="light figures take .* over the 0.0 MB budget"):
        publish.build(tables, figures, paths.NOTEBOOKS, executed, tmp_path / "site", "# R", budget=10)
    with pytest.raises(ValueError, match="executed notebooks take .* over the 0.0 MB budget"):
        publish.build(tables, figures, paths.NOTEBOOKS, executed, tmp_path / "site", "# R", notebook_budget=10)


def _site(tmp_path, profile="quick", missing=()):
    site = tmp_path / "site"
    for d in ("figures", "tables", "notebooks"):
        (site / d).mkdir(parents=True, exist_ok=True)
    (site / "figures" / "f.png").write_bytes(b"png")
    (site / "notebooks" / "01_x.ipynb").write_text("{}")
    (site / "tables" / "t.md").write_text("# t\n")
    (site / "results.md").write_text("# Results\n")
    (site / "reproduction.md").write_text("# Reproduction report\n")
    (site / "headline.md").write_text("| new | headline |\n")
    (site / "run.json").write_text(json.dumps({"profile": profile, "commit": "abc", "missing": list(missing)}))
    readme = tmp_path / "README.md"
    readme.write_text("intro\n<!-- headline:start -->\nold\n<!-- headline:end -->\nrest\n")
    return site, tmp_path / "docs", readme


def test_publish_copies_the_site_and_splices_the_headline(tmp_path):
    site, docs, readme = _site(tmp_path)
    (docs / "figures").mkdir(parents=True)
    (docs / "figures" / "gone.png").write_bytes(b"an older run's figure")
    publish.publish(site, docs, readme)
    assert readme.read_text() == "intro\n<!-- headline:start -->\n| new | headline |\n<!-- headline:end -->\nrest\n"
    assert sorted(p.name for p in (docs / "figures").iterdir()) == ["f.png"]
    assert (docs / "results.md").read_text() == "# Results\n" and (docs / "tables" / "t.md").exists()
    assert sorted(p.name for p in docs.iterdir()) == ["figures", "notebooks", "reproduction.md", "results.md", "tables"]


@pytest.mark.bad_input
@pytest.mark.parametrize("case, words", [
    ("no site", "holds no run.json"),
    ("smoke", "smoke run"),
    ("missing outputs", "lacks 2 declared outputs"),
    ("broken run.json", "not valid JSON"),
    ("no markers", "markers <!-- headline:start -->"),
])
def test_publish_refuses_what_would_make_a_mixed_or_empty_snapshot(tmp_path, case, words):
    site, docs, readme = _site(tmp_path, profile="smoke" if case == "smoke" else "quick",
                               missing=["a", "b"] if case == "missing outputs" else ())
    if case == "no site":
        (site / "run.json").unlink()
    if case == "broken run.json":
        (site / "run.json").write_text("{")
    if case == "no markers":
        readme.write_text("no headline here\n")
    before = readme.read_text()
    with pytest.raises(ValueError, match=words):
        publish.publish(site, docs, readme)
    assert readme.read_text() == before and not docs.exists()


def test_publish_allows_a_partial_run_when_asked(tmp_path):
    site, docs, readme = _site(tmp_path, missing=["a"])
    publish.publish(site, docs, readme, allow_missing=True)
    assert (docs / "results.md").exists()


@pytest.mark.bad_input
def test_publish_command_says_what_to_do_without_a_traceback(tmp_path):
    env_code = ("import sys; from pathlib import Path; from lattice_utils.core import paths; "
                "from lattice_utils.repro import publish; "
                f"paths.SITE = Path({str(tmp_path / 'none')!r}); sys.exit(publish.main([]))")
    out = subprocess.run([sys.executable, "-c", env_code], capture_output=True, text=True, cwd=paths.ROOT)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "publish:" in out.stderr and "run the notebooks and notebook 99 first" in out.stderr


def test_executed_copies_name_no_folder_of_the_machine_they_ran_on(tmp_path):
    data, out, repo = "/srv/big-disk/lattice-data", "/scratch/run-7", "/home/me/lattice"
    text = (f'"reused cached {data}/models/m/final.pt", "output_path": "{out}/reports/executed/05.ipynb", '
            f'"{repo}/notebooks/05.ipynb", "{repo}"')
    got = publish.portable(text, {"$LATTICE_DATA_DIR": data, "$LATTICE_OUTPUT_DIR": out, "": repo})
    assert "/srv" not in got and "/scratch" not in got and "/home" not in got
    assert "$LATTICE_DATA_DIR/models/m/final.pt" in got and "$LATTICE_OUTPUT_DIR/reports/executed" in got
    assert '"notebooks/05.ipynb"' in got and got.endswith('"."')
