"""Which data a notebook uses: the paper's own where its file is in ``data/raw/``, else the
offline stand-in, as the user asked.

``data_source`` (a notebook parameter; ``./run_all.sh --data``) is one of

* ``auto`` (default of the smoke and quick profiles): the paper's data for every slot whose file
  is present, the offline stand-in for the others, and a line saying which file would change that;
* ``paper`` (default of the paper profile): the paper's data only; a missing file stops the run
  with a message naming the file, the folder and the URL;
* ``offline``: the offline stand-ins only.

``jarvis``, the name used before, means ``paper``.

Two kinds of paper data exist: the paper's structure databases (JV2D, C2DB, Alex-PBE through
jarvis-tools: ``structure_source``), from which we simulate images, and the paper's own STEM image
sets (STEM-JV2D, STEM-C2DB: ``image_set_for``), which the classification studies use.
"""
from __future__ import annotations

from ..core import paths
from .image_sets import IMAGE_SETS, SLOT_IMAGE_SET, image_set_path, missing_message
from .structures import JARVIS_DATASETS, DataUnavailableError, jarvis_zip_path

__all__ = ["CHOICES", "ALIASES", "normalise", "structure_source", "image_set_for", "paper_files", "file_problem"]

CHOICES = ("auto", "paper", "offline")
ALIASES = {"jarvis": "paper"}


def file_problem(path) -> str:
    """What keeps ``path`` from being a data file to read.

    A folder, a link or device, or an empty file (an interrupted copy) named like the paper's zip
    is not it.

    Args:
        path: the expected data file.

    Returns:
        ``"missing"``, another short description of the problem, or ``""`` when nothing keeps it.
    """
    from pathlib import Path

    path = Path(path)
    if not path.exists():
        return "missing"
    if path.is_dir():
        return "a folder, not a file"
    if not path.is_file():
        return "not a regular file"
    if path.stat().st_size == 0:
        return "empty (0 bytes; an interrupted download or copy?)"
    return ""


def normalise(data_source: str) -> str:
    """The ``data_source`` choice in its current name (``jarvis`` means ``paper``).

    Args:
        data_source: ``auto``, ``paper``, ``offline`` or an alias of ``ALIASES``.

    Returns:
        One of ``CHOICES``.

    Raises:
        ValueError: ``data_source`` is none of them.
    """
    value = ALIASES.get(str(data_source), str(data_source))
    if value not in CHOICES:
        raise ValueError(f"data_source must be one of {', '.join(CHOICES)} (or jarvis, meaning "
                         f"paper), not {data_source!r}")
    return value


def image_set_for(slot: str, data_source: str, log=print) -> str | None:
    """The paper's STEM image set to use for ``slot``, or None for images simulated from a structure table.

    In ``auto`` mode a missing or unusable zip falls back to simulated images, with a line to
    ``log``; in ``paper`` mode a missing one raises, and a damaged one is left to the loader.

    Args:
        slot: dataset slot, ``jv2d``, ``c2db`` or ``alex`` (Alex-PBE has no image set).
        data_source: ``auto``, ``paper`` or ``offline`` (or an alias).
        log: callable that takes the fallback message.

    Returns:
        ``stem_jv2d``, ``stem_c2db`` or None.

    Raises:
        ValueError: ``data_source`` is not a valid choice.
        DataUnavailableError: ``paper`` mode and the zip is not in ``data/raw/``.
    """
    data = normalise(data_source)
    name = SLOT_IMAGE_SET.get(slot)
    if data == "offline" or name is None:
        return None
    problem = file_problem(image_set_path(name))
    if not problem:
        return name
    if data == "paper":
        # the loader names the file, moves a damaged one aside and says what to place where
        if problem == "missing":
            raise DataUnavailableError(missing_message(name))
        return name
    log(f"{slot}: the paper's image set {name} is {_where(problem)} ({image_set_path(name).name}); "
        "using images simulated from the structure table instead")
    return None


def _where(problem: str) -> str:
    return "not in data/raw/" if problem == "missing" else f"{problem} in data/raw/"


def structure_source(slot: str, data_source: str, log=print) -> str:
    """Where the structure table of ``slot`` comes from.

    In ``paper`` mode a missing database is fetched or refused by the jarvis loader itself; in
    ``auto`` mode a missing or unusable zip falls back to the stand-in, with a line to ``log``.

    Args:
        slot: dataset slot, ``jv2d``, ``c2db`` or ``alex``.
        data_source: ``auto``, ``paper`` or ``offline`` (or an alias).
        log: callable that takes the fallback message.

    Returns:
        ``jarvis`` (the paper's database of this slot) or ``offline`` (the prototype stand-in).

    Raises:
        ValueError: ``data_source`` is not a valid choice.
    """
    data = normalise(data_source)
    if data == "offline":
        return "offline"
    problem = file_problem(jarvis_zip_path(slot))
    if data == "paper" or not problem:
        return "jarvis"
    log(f"{slot}: the paper's database file {jarvis_zip_path(slot).name} is {_where(problem)}; "
        "using the offline stand-in")
    return "offline"


def paper_files() -> list[dict]:
    """Each paper data file (the three jarvis databases, the two STEM image sets) and its state.

    Returns:
        One dict per file: ``file`` (name), ``path`` (where it goes), ``present`` (a regular,
        non-empty file), ``problem`` (otherwise what is wrong, see ``file_problem``), ``url``
        and ``use``.
    """
    from jarvis.db.figshare import get_db_info


    out = []
    for slot, spec in JARVIS_DATASETS.items():
        path = jarvis_zip_path(slot)
        problem = file_problem(path)
        out.append({"file": path.name, "path": path, "present": not problem, "problem": problem,
                    "url": get_db_info()[spec["name"]][0],
                    "use": f"the paper's {slot} structure database (images simulated from it)"})
    for name, info in IMAGE_SETS.items():
        path = image_set_path(name)
        problem = file_problem(path)
        out.append({"file": info.file, "path": path, "present": not problem, "problem": problem,
                    "url": info.url,
                    "use": f"the paper's own {info.slot} STEM images (classification, notebooks 01, 02, 05)"})
    return out


def main(argv=None) -> int:
    """``python -m lattice_utils.data.sources [--data auto|paper|offline]``: which paper files are
    in data/raw/ and what the run will use."""
    import argparse


    ap = argparse.ArgumentParser(prog="python -m lattice_utils.data.sources", description=main.__doc__)
    ap.add_argument("--data", default="auto")
    args = ap.parse_args(argv)
    try:
        data = normalise(args.data)
    except ValueError as exc:
        print(f"error: {exc}")
        return 2
    print(f"[data] {data}: " + {"auto": "the paper's files below where present, the offline stand-ins "
                                        "for the rest",
                                "paper": "the paper's files only (a notebook that needs a missing one "
                                         "stops and names it)",
                                "offline": "the offline stand-ins only"}[data])
    if data == "offline":
        return 0
    for f in paper_files():
        if f["present"]:
            print(f"[data]   {f['file']:<32} present: {f['use']}")
        elif f["problem"] == "missing":
            print(f"[data]   {f['file']:<32} missing: place it at {paths.relative(f['path'])} ({f['url']})")
        else:
            print(f"[data]   {f['file']:<32} not usable: {paths.relative(f['path'])} is {f['problem']}; "
                  f"replace it with the file from {f['url']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
