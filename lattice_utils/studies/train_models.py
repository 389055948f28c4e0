"""Train the networks of notebooks 02-07 from the command line, e.g. on a GPU machine before
running the notebooks (which then find every model in the cache):

    python -m lattice_utils.studies.train_models --profile quick --slot jv2d --task regress
    python -m lattice_utils.studies.train_models --profile quick --slot c2db --task regress --cell reduced
    torchrun --nproc-per-node 4 -m lattice_utils.studies.train_models --profile paper --all

Under torchrun every process runs this same command; training is data-parallel (DDP, NCCL on
GPU, gloo on CPU) with the global batch of the profile split across the processes.
"""
from __future__ import annotations

import argparse
import os
import sys

from ..core.profiles import DATASETS, PROFILES, get_profile
from ..core.storage import StoredFileError
from ..data.image_sets import IMAGE_SETS, LayoutError
from ..data.structures import CorruptFileError, DataUnavailableError
from ..learn.metrics import PARAMETERS, REDUCED_PARAMETERS
from .stem_studies import NETWORKS, fit_network, load_slot

__all__ = ["DATA_SOURCES", "main"]

# what load_slot takes: a data_source request (sources.CHOICES, jarvis meaning paper's loader), or
# one of the paper's image sets
DATA_SOURCES = ("offline", "auto", "paper", "jarvis", *IMAGE_SETS)


def _targets(text: str) -> tuple:
    """``--targets``: regression targets, comma-separated, each one of PARAMETERS, once."""
    names = tuple(t.strip() for t in text.split(","))
    bad = [t for t in names if t not in PARAMETERS]
    if bad or not names:
        raise argparse.ArgumentTypeError(f"unknown target(s) {', '.join(map(repr, bad))}; give one or "
                                         f"more of {', '.join(PARAMETERS)}, comma-separated")
    if len(set(names)) != len(names):
        raise argparse.ArgumentTypeError(f"a target is given twice in {text!r}")
    return names


def main(argv=None) -> int:
    """Train (or find in the cache) the networks asked for on the command line.

    ``--all`` trains every network of notebooks 02-07 (``stem_studies.NETWORKS``); ``--slot`` and
    ``--task`` (with ``--arch`` and ``--targets``) train one. Under torchrun, rank 0 builds missing
    data and logs; every rank trains.

    Args:
        argv: the command-line arguments, without the program name; None reads ``sys.argv``.

    Returns:
        The exit status: 0 when every network is trained or reused, 2 when a data file is missing
        or damaged (one line on stderr, no traceback).

    Raises:
        SystemExit: (status 2, from argparse) for bad arguments: neither ``--all`` nor ``--slot``
            with ``--task``, an unknown choice or target, or a paper image set given with
            ``--all`` or with another slot than its own.
    """
    ap = argparse.ArgumentParser(prog="python -m lattice_utils.studies.train_models",
                                 description=__doc__.split("\n\n")[0])
    ap.add_argument("--profile", default="quick", choices=sorted(PROFILES))
    ap.add_argument("--data-source", default="offline", choices=DATA_SOURCES)
    ap.add_argument("--all", action="store_true", help="every network of notebooks 02-07")
    ap.add_argument("--slot", choices=DATASETS)
    ap.add_argument("--task", choices=("classify", "regress"))
    ap.add_argument("--arch", default="densenet121", choices=("densenet121", "googlenet"))
    ap.add_argument("--targets", default="a,b,gamma", type=_targets,
                    help=f"regression targets, comma-separated ({', '.join(PARAMETERS)})")
    ap.add_argument("--cell", choices=("database", "reduced"), default="database",
                    help="regress the cell as the database stored it (the paper's convention; the notebooks' "
                         "tables), or its Gauss-reduced cell (a <= b, 90 <= gamma <= 120: the physical lattice, "
                         "which predict --method cnn prefers)")
    ap.add_argument("--force", action="store_true")
    args = ap.parse_args(argv)
    if not args.all and not (args.slot and args.task):
        ap.error("give --all, or --slot and --task")
    if args.data_source in IMAGE_SETS:
        # an image set holds the images of one slot: training another slot on it would be wrong
        own = IMAGE_SETS[args.data_source].slot
        if args.all or args.slot != own:
            ap.error(f"--data-source {args.data_source} holds the {own} images: use it with "
                     f"--slot {own}, not {'--all' if args.all else '--slot ' + args.slot}")
    targets = args.targets
    if args.cell == "reduced":
        if args.all or args.task != "regress":
            ap.error("--cell reduced trains one regressor: use it with --slot and --task regress")
        targets = tuple(REDUCED_PARAMETERS[PARAMETERS.index(t)] for t in targets)
    P = get_profile(args.profile)
    jobs = ([(s, t, a, tg) for _, s, t, a, tg in NETWORKS] if args.all
            else [(args.slot, args.task, args.arch, targets)])
    rank = int(os.environ.get("RANK", 0))
    log = print if rank == 0 else (lambda *a, **k: None)
    slots = {}
    try:
        for slot, task, arch, targets in jobs:
            if slot not in slots:
                # rank 0 builds missing data first; the others then find it in the cache
                slots[slot] = load_slot(slot, P, args.data_source, verbose=rank == 0)
            fit_network(slots[slot], task, arch, targets, force=args.force, log=log)
    except (DataUnavailableError, CorruptFileError, LayoutError, StoredFileError) as exc:
        # a missing or damaged data file is the user's to fix: one line, no traceback
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
