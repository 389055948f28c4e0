"""Publish the last run: copy ``reports/site/`` (written by notebook 99: results page, reproduction
report, light figures, tables) into ``docs/`` and the headline table into ``README.md``.

This is the only step that changes tracked files; a plain ``./run_all.sh`` leaves the checkout
clean. Run it as ``./run_all.sh publish`` after a complete run, then commit ``docs/`` and
``README.md``; ``./run_all.sh publish --benchmarks`` writes ``docs/performance.md`` from the
benchmark records instead. A smoke run or a run that lacks some notebook's outputs is refused (the committed
snapshot would mix runs); ``--allow-missing`` publishes a partial run anyway and the page says
what is missing.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from ..core import paths
from ..core.storage import write_text
from .benchmark_results import write_page
from .package_map import write_module_list
from .reproduction import splice

__all__ = ["PAGES", "FOLDERS", "PublishError", "read_run", "publish", "replace_docs", "main"]

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
