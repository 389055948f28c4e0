"""The published pages of a run: the results page and what ``./run_all.sh publish`` copies.

Notebook 99 builds the results page into ``reports/site/`` (git-ignored): every figure and table each
notebook wrote, in notebook order, with the notebook's profile, data source and run time, light
copies of the figures, and each executed notebook with its outputs, so that a reader sees the
results without running anything. The page links figures as ``figures/<name>.png`` and tables as
``tables/<name>.md``, paths that hold in both places.

``python -m lattice_utils.repro.publish`` (``./run_all.sh publish``) copies that folder into
``docs/`` and the headline table into ``README.md``. This is the only step that changes tracked
files; a plain ``./run_all.sh`` leaves the checkout clean. Run it after a complete run, then commit
``docs/`` and ``README.md``; ``./run_all.sh publish --benchmarks`` writes ``docs/performance.md``
from the benchmark records instead. A smoke run or a run that lacks some notebook's outputs is
refused (the committed snapshot would mix runs); ``--allow-missing`` publishes a partial run anyway
and the page says what is missing.
"""
from __future__ import annotations

import argparse
import csv
import json
import posixpath
import re
import shutil
import sys
from pathlib import Path

from ..core import paths
from ..core.storage import write_bytes, write_text
from . import outputs
from .benchmark_results import write_page
from .package_map import write_module_list
from .plots import light_png_bytes
from .reproduction import splice, template

__all__ = ["LIGHT_PX", "FIGURE_BUDGET", "NOTEBOOK_BUDGET", "TABLE_ROWS", "light_png", "relink", "executed_copy",
           "table_excerpt", "notebook_title", "last_run", "run_commit", "page_header", "build", "portable", "PAGES",
           "FOLDERS", "PublishError", "read_run", "publish", "replace_docs", "main"]

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
    ok = text and len(text) <= 80 and text.isprintable()     # isprintable: no newline either
    return text if ok else None


def _profile_and_source(tables: Path, names) -> tuple[str, str]:
    """The profiles and data sources stamped on the notebook's tables (each distinct value once,
    in order of appearance, joined by ", ")."""
    profiles, sources = {}, {}
    for name in names:
        p = tables / f"{name}.csv"
        if not (outputs.is_table(name) and p.exists()):
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
    optional = outputs.NEEDS_PAPER_DATA | outputs.NEEDS_SEPARATE_RUN | (
        set() if outputs.kept_predictions_committed() else outputs.NEEDS_KEPT_PREDICTIONS)
    for nb, claims in outputs.CLAIMS.items():
        names = [n for n in claims if n not in outputs.REPORT_OUTPUTS]
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
            if outputs.is_table(name):
                src = tables / f"{name}.md"
                if not src.exists():
                    if name not in optional:
                        missing.append(name)
                    continue
                md = src.read_text()
                write_text(site_tabs / f"{name}.md", md)
                body += [f"Reproduces: {', '.join(outputs.cite(i) for i in item.split(', '))}.", "",
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
                         f"*`{name}`; reproduces: {', '.join(outputs.cite(i) for i in item.split(', '))}.*", ""]
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


PAGES = ("results.md", "reproduction.md")
FOLDERS = ("figures", "tables", "notebooks")


class PublishError(ValueError):
    """A run that cannot be published; the message says why and what to do."""


def read_run(site: Path) -> dict:
    """The run's facts that notebook 99 wrote (``run.json``), checked for what publish needs.

    Args:
        site: the site folder (``reports/site``).

    Returns:
        ``run.json`` as a dict, with at least ``profile``, ``commit`` and ``missing``.

    Raises:
        PublishError: ``run.json`` is missing, not JSON or lacks a key, or a page or folder that
            publish copies is missing.
    """
    meta = site / "run.json"
    if not meta.exists():
        raise PublishError(f"{paths.relative(site)} holds no run.json: run the notebooks and notebook 99 "
                           "first (./run_all.sh, or ./run_all.sh --only 99 after a run)")
    try:
        run = json.loads(meta.read_text())
    except json.JSONDecodeError as exc:
        raise PublishError(f"{paths.relative(meta)} is not valid JSON ({exc}); rerun notebook 99") from exc
    if not isinstance(run, dict) or not {"profile", "commit", "missing"} <= set(run):
        raise PublishError(f"{paths.relative(meta)} lacks profile, commit or missing; rerun notebook 99")
    # every page and folder publish copies, checked before docs/ is touched
    for name in PAGES + ("headline.md",):
        if not (site / name).is_file():
            raise PublishError(f"{paths.relative(site / name)} is missing; rerun notebook 99")
    for folder in FOLDERS:
        if not (site / folder).is_dir():
            raise PublishError(f"{paths.relative(site / folder)} is missing (the site is incomplete); "
                               "rerun notebook 99")
    return run


def publish(site: Path, docs: Path, readme: Path, allow_missing: bool = False) -> dict:
    """Copy the site into ``docs`` (figures and tables replaced as a whole) and splice the
    headline into ``readme``.

    Args:
        site: the site folder notebook 99 wrote.
        docs: the ``docs/`` folder.
        readme: ``README.md``.
        allow_missing: publish a run that lacks some declared outputs.

    Returns:
        The run's facts (``read_run``).

    Raises:
        PublishError: the site is incomplete, the run is a smoke run, or it lacks declared outputs
            and ``allow_missing`` is False.
        ValueError: the README lacks the headline markers (checked before anything moves).
    """
    run = read_run(site)
    if run["profile"] == "smoke":
        raise PublishError("this is a smoke run (tiny sizes, meaningless numbers): publish a quick or paper run")
    if run["missing"] and not allow_missing:
        raise PublishError(f"the run lacks {len(run['missing'])} declared outputs ({', '.join(run['missing'][:6])}"
                           f"{' ...' if len(run['missing']) > 6 else ''}): run every notebook, or pass "
                           "--allow-missing to publish it as it is")
    text = readme.read_text()
    new_readme = splice(text, (site / "headline.md").read_text(), "headline")   # fails before anything moves
    replace_docs(site, docs)
    write_text(readme, new_readme)
    return run


def replace_docs(site: Path, docs: Path) -> None:
    """``docs`` with the site's folders and pages in place of its own, swapped in whole: the new
    folder is built beside it (a copy of ``docs`` with the site's parts) and renamed into place,
    so a failure while copying leaves ``docs`` as it was.

    Args:
        site: the site folder (its ``figures/``, ``tables/`` and pages).
        docs: the ``docs/`` folder (created when absent).
    """
    new = docs.with_name(f".{docs.name}.publish-new")
    old = docs.with_name(f".{docs.name}.publish-old")
    if old.exists():
        # an earlier publish stopped between its two renames: its docs/ is the old one
        if docs.exists():
            shutil.rmtree(old)
        else:
            old.rename(docs)
    shutil.rmtree(new, ignore_errors=True)
    replaced = set(FOLDERS + PAGES)
    try:
        if docs.exists():
            # only the top level's site parts are left out: a figures/ further down is docs' own
            shutil.copytree(docs, new, symlinks=True,
                            ignore=lambda d, names: [n for n in names if n in replaced and Path(d) == docs])
        else:
            new.mkdir(parents=True)
        for folder in FOLDERS:
            shutil.copytree(site / folder, new / folder)
        for name in PAGES:
            write_text(new / name, (site / name).read_text())
    except BaseException:
        shutil.rmtree(new, ignore_errors=True)
        raise
    if docs.exists():
        docs.rename(old)
    new.rename(docs)
    shutil.rmtree(old, ignore_errors=True)


def main(argv=None) -> int:
    """``./run_all.sh publish``: publish the last run, or with ``--benchmarks`` the performance page.

    Args:
        argv: the command-line arguments, without the program name; None reads ``sys.argv``.

    Returns:
        The exit status: 0 when published, 2 when refused or a file could not be written (the
        reason on stderr).
    """
    parser = argparse.ArgumentParser(prog="./run_all.sh publish", description=__doc__.split("\n\n")[0])
    parser.add_argument("--allow-missing", action="store_true",
                        help="publish a run that lacks some notebooks' outputs")
    parser.add_argument("--benchmarks", action="store_true",
                        help="only write docs/performance.md from the records of benchmarks/ (reports/benchmarks/)")
    args = parser.parse_args(argv)
    if args.benchmarks:
        try:
            page = write_page()
        except ValueError as exc:
            print(f"publish: {exc}", file=sys.stderr)
            return 2
        print(f"wrote {paths.relative(page)} from {paths.relative(paths.BENCHMARKS)}. "
              "Review with git diff, then commit.")
        return 0
    try:
        run = publish(paths.SITE, paths.DOCS, paths.ROOT / "README.md", args.allow_missing)
    except ValueError as exc:       # PublishError, or a README without the headline markers
        print(f"publish: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:          # a full disk, a folder not writable: a message, not a traceback
        print(f"publish: {exc}", file=sys.stderr)
        return 2
    write_module_list()       # the design page's module list follows the code, not the run
    n_fig = len(list((paths.DOCS / "figures").glob("*.png")))
    size = sum(p.stat().st_size for p in (paths.DOCS / "figures").glob("*.png"))
    print(f"published the {run['profile']} run of commit {run['commit']}: {n_fig} figures ({size / 1e6:.1f} MB), "
          f"docs/results.md, docs/reproduction.md, README.md headline. Review with git diff, then commit.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
