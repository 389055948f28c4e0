"""Train the networks of notebooks 02-07 from the command line, e.g. on a GPU machine before
running the notebooks (which then find every model in the cache):

    python -m lattice_utils.train_models --profile quick --slot jv2d --task regress
    torchrun --nproc-per-node 4 -m lattice_utils.train_models --profile paper --all

Under torchrun every process runs this same command; training is data-parallel (DDP, NCCL on
GPU, gloo on CPU) with the global batch of the profile split across the processes.
"""
from __future__ import annotations

import argparse
import os

from .profiles import DATASETS, get_profile
from .stem_studies import NETWORKS, fit_network, load_slot


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--profile", default="quick")
    ap.add_argument("--data-source", default="offline")
    ap.add_argument("--all", action="store_true", help="every network of notebooks 02-07")
    ap.add_argument("--slot", choices=DATASETS)
    ap.add_argument("--task", choices=("classify", "regress"))
    ap.add_argument("--arch", default="densenet121", choices=("densenet121", "googlenet"))
    ap.add_argument("--targets", default="a,b,gamma", help="regression targets, comma-separated")
    ap.add_argument("--force", action="store_true")
    args = ap.parse_args(argv)
    if not args.all and not (args.slot and args.task):
        ap.error("give --all, or --slot and --task")
    P = get_profile(args.profile)
    jobs = ([(s, t, a, tg) for _, s, t, a, tg in NETWORKS] if args.all
            else [(args.slot, args.task, args.arch, tuple(args.targets.split(",")))])
    rank = int(os.environ.get("RANK", 0))
    log = print if rank == 0 else (lambda *a, **k: None)
    slots = {}
    for slot, task, arch, targets in jobs:
        if slot not in slots:
            # rank 0 builds missing data first; the others then find it in the cache
            slots[slot] = load_slot(slot, P, args.data_source, verbose=rank == 0)
        fit_network(slots[slot], task, arch, targets, force=args.force, log=log)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
