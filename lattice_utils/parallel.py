"""One way to fan work out over processes, used by every batch build."""
from __future__ import annotations

import multiprocessing as mp
import signal
import threading
from contextlib import contextmanager

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


class AttemptTimeout(Exception):
    """An attempt ran past its ``time_limit``."""


@contextmanager
def time_limit(seconds: float):
    """Raise ``AttemptTimeout`` inside the block after ``seconds`` (SIGALRM). Only in a process's
    main thread, where batch tasks run; elsewhere, or for ``seconds <= 0``, there is no limit."""
    if seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_alarm(signum, frame):
        raise AttemptTimeout()

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def progress(total, desc):
    """The text progress bar of every batch build (no ipywidgets needed, readable in logs)."""
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="it", mininterval=2.0)
