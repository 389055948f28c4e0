"""The results page of a run: every figure and table each notebook wrote, in notebook order, with
the notebook's profile, data source and run time, so that a reader sees the results without
running anything.

Notebook 99 builds the page into ``reports/site/`` (git-ignored) with light copies of the
figures; ``python -m lattice_utils.repro.publish`` (``./run_all.sh publish``) copies that folder into
``docs/``. The page links figures as ``figures/<name>.png`` and tables as ``tables/<name>.md``,
paths that hold in both places.
"""
from __future__ import annotations

import csv
import json
import posixpath
import re
from pathlib import Path

from ..core import paths
from ..core.storage import write_bytes, write_text
from . import manifest
from .plots import light_png_bytes
from .reproduction import template

__all__ = ["LIGHT_PX", "FIGURE_BUDGET", "NOTEBOOK_BUDGET", "TABLE_ROWS", "light_png", "relink", "executed_copy",
           "table_excerpt", "notebook_title", "last_run", "run_commit", "page_header", "build", "portable"]

LIGHT_PX = 1000               # longest side of a published figure (px)
FIGURE_BUDGET = 8_000_000     # bytes: all published figures together
NOTEBOOK_BUDGET = 16_000_000  # bytes: all executed notebooks together (their figures are light copies)
TABLE_ROWS = 12               # rows of each table shown on the page (the full table is linked)


def light_png(src: Path, dst: Path, max_px: int = LIGHT_PX) -> int:
    """A web copy of a figure: at most ``max_px`` on its longest side, 256 colours (plots and
    greyscale images lose nothing a reader sees).

    Args:
        src: the figure's PNG.
        dst: where the web copy goes.
        max_px: the longest side of the copy, px.

    Returns:
        The bytes written.
    """
    png = light_png_bytes(src, max_px)
    write_bytes(dst, png)
    return len(png)


def table_excerpt(md: str, name: str, max_rows: int = TABLE_ROWS) -> str:
    """The first ``max_rows`` rows of a table as ``report.write_table`` wrote it (title, markdown
    table, notes), the title as a bold line and a link to the whole table.

    Args:
        md: the table's Markdown file, as written.
        name: the table's name (the link's target, ``tables/<name>.md``).
        max_rows: the rows shown.

    Returns:
        The excerpt as Markdown.
    """
    lines = md.strip().splitlines()
    title = lines[0].lstrip("# ").strip() if lines and lines[0].startswith("#") else name
    table = [ln for ln in lines if ln.startswith("|")]
    notes = [ln for ln in lines[1:] if ln.strip() and not ln.startswith("|")]
    body = table[:2 + max_rows]
    rows = max(len(table) - 2, 0)
    shown = min(rows, max_rows)
    more = ((f"first {shown} of {rows} rows; " if rows > shown else "")
            + f"whole table: [tables/{name}.md](tables/{name}.md)")
    out = [f"**{title}** (`{name}`)", "", *body, "", f"*{more}*"]
    if notes:
        out += ["", *notes]
    return "\n".join(out)


def notebook_title(path: Path) -> str:
    """The first heading of a notebook ("01 · Dataset generation: ...").

    Args:
        path: the notebook (``.ipynb``).

    Returns:
        The text of its first Markdown heading; the file's stem when it has none.
    """
    nb = json.loads(path.read_text())
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "markdown":
            src = "".join(cell.get("source", "")).strip()
            if src.startswith("#"):
                return src.splitlines()[0].lstrip("# ").strip()
    return path.stem


def last_run(executed: Path, notebook: str) -> dict | None:
    """How the notebook's last run went, from the papermill record in its executed copy
    (``reports/executed/<notebook>``) and the commit ``run_all.sh`` recorded beside it
    (``run_commit``); ``None`` without a finished run.

    Args:
        executed: the folder of executed notebooks.
        notebook: the notebook's file name.

    Returns:
        {"seconds": run time (s), "finished": end date "YYYY-MM-DD", "parameters": papermill's
        parameters, "commit": the run's commit or None}, or None when there is no executed copy,
        it is unreadable, or the run failed.
    """
    path = executed / notebook
    if not path.exists():
        return None
    try:
        meta = json.loads(path.read_text()).get("metadata", {}).get("papermill", {})
    except (OSError, json.JSONDecodeError, AttributeError):
        return None
    if meta.get("duration") is None or meta.get("exception"):
        return None
    return {"seconds": float(meta["duration"]), "finished": str(meta.get("end_time", ""))[:10],
            "parameters": meta.get("parameters", {}), "commit": run_commit(executed, notebook)}


def run_commit(executed: Path, notebook: str) -> str | None:
    """The commit the notebook's last finished run executed, as ``run_all.sh`` records it beside the
    executed copy (``reports/executed/<notebook stem>.commit``).

    Args:
        executed: the folder of executed notebooks.
        notebook: the notebook's file name.

    Returns:
        The recorded commit (a short hash, perhaps followed by "with uncommitted changes"), or None
        when there is no record or it is not one short line of text.
    """
    path = executed / f"{Path(notebook).stem}.commit"
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    ok = text and len(text) <= 80 and "\n" not in text and text.isprintable()
    return text if ok else None


def _profile_and_source(tables: Path, names) -> tuple[str, str]:
    """The profiles and data sources stamped on the notebook's tables (each distinct value once,
    in order of appearance, joined by ", ")."""
    profiles, sources = {}, {}
    for name in names:
        p = tables / f"{name}.csv"
        if not (manifest.is_table(name) and p.exists()):
            continue
        with p.open(newline="") as fh:
            for row in csv.DictReader(fh):
                profiles.setdefault(row.get("profile") or "", None)
                sources.setdefault(row.get("data_source") or row.get("structure_source") or "", None)
    return ", ".join(filter(None, profiles)), ", ".join(filter(None, sources))


_LINK = re.compile(r"(\]\()(?!https?:|mailto:|#|/)([^)\s]+)(\))")


def relink(markdown: str, source_dir: str, target_dir: str) -> str:
    """Markdown whose relative links, written for a file in ``source_dir``, point at the same files
    from ``target_dir`` (both relative to the checkout's root).

    Args:
        markdown: the text.
        source_dir: the folder the links were written for ("notebooks").
        target_dir: the folder the text moves to ("docs/notebooks").

    Returns:
        The text with each relative link rewritten; absolute links and anchors stay.
    """
    def moved(m):
        path, _, anchor = m.group(2).partition("#")
        new = posixpath.relpath(posixpath.normpath(posixpath.join(source_dir, path)), target_dir)
        return f"{m.group(1)}{new}{'#' + anchor if anchor else ''}{m.group(3)}"
    return _LINK.sub(moved, markdown)


def portable(text: str, roots: dict | None = None) -> str:
    """``text`` with the run's absolute folders written as a reader can use them: the checkout's
    own as relative paths, a data or output folder outside it as ``$LATTICE_DATA_DIR`` or
    ``$LATTICE_OUTPUT_DIR`` (what a run's log prints names the machine it ran on otherwise).

    Args:
        text: any text (an executed notebook's JSON).
        roots: {placeholder: absolute folder}; None for this run's (``paths``).

    Returns:
        The text with every such folder replaced, the longest first.
    """
    if roots is None:
        roots = {"$LATTICE_DATA_DIR": paths.DATA, "$LATTICE_OUTPUT_DIR": paths.OUTPUT, "": paths.ROOT}
    for name, folder in sorted(roots.items(), key=lambda kv: -len(str(kv[1]))):
        folder = str(Path(folder).resolve())
        text = text.replace(folder + "/", f"{name}/" if name else "").replace(folder, name or ".")
    return text


def executed_copy(src: Path, dst: Path, facts: str) -> int:
    """The executed notebook as a reader on the web sees it: its outputs and figures, a first cell
    saying which run produced them, links that hold from ``docs/notebooks/``, and no absolute path
    of the machine it ran on (``portable``).

    Args:
        src: the executed notebook (``reports/executed/<notebook>``).
        dst: where the copy goes (``<site>/notebooks/<notebook>``).
        facts: the run's profile, data source, commit and run time, one Markdown sentence.

    Returns:
        The bytes written.
    """
    nb = json.loads(src.read_text())
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "markdown":
            text = "".join(cell.get("source", ""))
            cell["source"] = relink(text, "notebooks", "docs/notebooks")
    banner = (f"**Executed copy** of [`notebooks/{src.name}`](../../notebooks/{src.name}), with the outputs and "
              f"figures of one run: {facts} The notebook itself is kept without outputs; `./run_all.sh` "
              "regenerates this copy, `./run_all.sh publish` puts it here.")
    nb["cells"] = [{"cell_type": "markdown", "id": "executed-copy", "metadata": {}, "source": banner}] + nb["cells"]
    text = portable(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    write_text(dst, text)
    return len(text.encode())


def page_header(profile: str, commit: str) -> str:
    """The results page's opening (``templates/results.md``).

    Args:
        profile: the profile of the run.
        commit: the commit of the report's run.

    Returns:
        The opening's Markdown.
    """
    return template("results.md").format(profile=profile, commit=commit, light_px=LIGHT_PX)


def build(tables: Path, figures: Path, notebooks: Path, executed: Path, site: Path, header: str,
          budget: int = FIGURE_BUDGET, notebook_budget: int = NOTEBOOK_BUDGET) -> dict:
    """Write ``site/results.md``, ``site/figures/*.png`` (light copies) and ``site/tables/*.md``.

    Outputs a run may lack by design (those needing the paper's data file, or the snapshot's kept
    predictions before it keeps them) are not counted missing.

    Args:
        tables: the folder of the notebooks' tables (``reports/tables``).
        figures: the folder of their figures.
        notebooks: the folder of the notebooks (for their titles).
        executed: the folder of executed notebooks (for their run times).
        site: where the page goes; its ``figures/`` and ``tables/`` are emptied first.
        header: the page's opening Markdown.
        budget: the most bytes all light figures may take.
        notebook_budget: the most bytes all executed notebooks may take.

    Returns:
        {"figures": n, "figure_bytes": b, "tables": n, "notebooks": n, "notebook_bytes": b,
        "missing": [declared outputs not written]}. Each executed notebook of ``executed`` is copied
        to ``site/notebooks/`` (``executed_copy``), linked from its section of the page.

    Raises:
        ValueError: the light figures take more than ``budget`` bytes, or the executed notebooks
            more than ``notebook_budget``.
    """
    site_figs, site_tabs, site_nbs = site / "figures", site / "tables", site / "notebooks"
    for d in (site_figs, site_tabs, site_nbs):
        d.mkdir(parents=True, exist_ok=True)
        for old in d.iterdir():            # a figure or table that a run no longer writes must not linger
            old.unlink()
    parts = [header.strip(), ""]
    toc, body, missing = [], [], []
    n_fig = n_tab = n_nb = total = nb_bytes = 0
    # absent by design: without the paper's file, before the snapshot keeps per-image predictions, or
    # before a separate run has finished
    optional = manifest.NEEDS_PAPER_DATA | manifest.NEEDS_SEPARATE_RUN | (
        set() if manifest.kept_predictions_committed() else manifest.NEEDS_KEPT_PREDICTIONS)
    for nb, claims in manifest.CLAIMS.items():
        names = [n for n in claims if n not in manifest.REPORT_OUTPUTS]
        if not names:
            continue
        num = nb[:2]
        title = notebook_title(notebooks / nb) if (notebooks / nb).exists() else nb
        profile, source = _profile_and_source(tables, names)
        run = last_run(executed, nb)
        facts = [f"notebook [`{nb}`](../notebooks/{nb})"]
        if profile:
            facts.append(f"profile {profile}" + (f"; data: {source}" if source else ""))
        if run:
            facts.append(f"last run took {run['seconds']:.0f} s, on {run['finished']}")
            # the commit of this notebook's own run (published pages may gather runs of several
            # commits); none is named where the run left no record
            run_facts = "; ".join(facts[1:] + ([f"commit {run['commit']}"] if run["commit"] else [])) + "."
            nb_bytes += executed_copy(executed / nb, site_nbs / nb, run_facts)
            n_nb += 1
            facts.append(f"[executed, with its outputs](notebooks/{nb})")
        toc.append(f"- [{title}](#nb-{num})")
        body += [f'<a id="nb-{num}"></a>', "", f"## {title}", "", "; ".join(facts) + ".", ""]
        for name in names:
            item = claims[name] or "beyond the paper"
            if manifest.is_table(name):
                src = tables / f"{name}.md"
                if not src.exists():
                    if name not in optional:
                        missing.append(name)
                    continue
                md = src.read_text()
                write_text(site_tabs / f"{name}.md", md)
                body += [f"Reproduces: {', '.join(manifest.cite(i) for i in item.split(', '))}.", "",
                         table_excerpt(md, name), ""]
                n_tab += 1
            else:
                src = figures / f"{name}.png"
                if not src.exists():
                    if name not in optional:
                        missing.append(name)
                    continue
                total += light_png(src, site_figs / f"{name}.png")
                body += [f"![{name}](figures/{name}.png)", "",
                         f"*`{name}`; reproduces: {', '.join(manifest.cite(i) for i in item.split(', '))}.*", ""]
                n_fig += 1
    if total > budget:
        raise ValueError(f"the light figures take {total / 1e6:.1f} MB, over the {budget / 1e6:.1f} MB budget")
    if nb_bytes > notebook_budget:
        raise ValueError(f"the executed notebooks take {nb_bytes / 1e6:.1f} MB, over the "
                         f"{notebook_budget / 1e6:.1f} MB budget")
    if missing:
        body += ["## Not in this run", "",
                 "Outputs that the notebooks declare but this run did not write: "
                 + ", ".join(f"`{m}`" for m in missing) + ".", ""]
    page = "\n".join(parts + ["## Contents", ""] + toc + [""] + body)
    write_text(site / "results.md", page.rstrip() + "\n")
    return {"figures": n_fig, "figure_bytes": total, "tables": n_tab, "notebooks": n_nb, "notebook_bytes": nb_bytes,
            "missing": missing}
