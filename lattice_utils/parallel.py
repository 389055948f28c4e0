"""One way to fan work out over processes, used by every batch build."""
from __future__ import annotations

import multiprocessing as mp

MAX_WORKERS = 16  # each worker holds ~0.2 GB (jarvis, pymatgen, PyXtal): caps the peak RSS


def resolve_workers(workers: int) -> int:
    """0 means all cores, at most ``MAX_WORKERS``."""
    return workers or min(mp.cpu_count(), MAX_WORKERS)


def imap(func, tasks, workers: int = 1, ordered: bool = True, chunksize: int = 1):
    """Yield ``func(task)`` for every task: inline for one worker, otherwise in spawned
    processes (spawn, not fork: safe after torch or OpenMP are loaded). The pool is
    always closed, also when the consumer stops early."""
    tasks = list(tasks)
    workers = min(resolve_workers(workers), max(len(tasks), 1))
    if workers <= 1:
        yield from map(func, tasks)
        return
    with mp.get_context("spawn").Pool(workers) as pool:
        run = pool.imap if ordered else pool.imap_unordered
        yield from run(func, tasks, chunksize=chunksize)
