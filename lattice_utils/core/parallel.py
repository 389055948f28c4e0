"""One way to fan work out over processes, used by every batch build."""
from __future__ import annotations

import multiprocessing as mp
import os
import signal
import threading
import time
from contextlib import contextmanager

__all__ = ["MAX_WORKERS", "TIME_LIMIT_CLOCK", "AttemptTimeout", "resolve_workers", "imap", "time_limit", "progress"]

MAX_WORKERS = 16  # each worker holds ~0.2 GB (jarvis, pymatgen, PyXtal): caps the peak RSS


def resolve_workers(workers: int) -> int:
    """The number of worker processes a ``workers`` setting asks for: 0 means all cores, at most
    ``MAX_WORKERS``.

    Args:
        workers: processes asked for; 0 for all cores (capped at ``MAX_WORKERS``).

    Returns:
        The number of processes: ``workers`` itself when it is not 0.
    """
    return workers or min(mp.cpu_count(), MAX_WORKERS)


def imap(func, tasks, workers: int = 1, ordered: bool = True, chunksize: int = 1):
    """Yield ``func(task)`` for every task: inline for one worker, otherwise in spawned
    processes (spawn, not fork: safe after torch or OpenMP are loaded).

    The pool is always closed, also when the consumer stops early. Never more processes than
    tasks; each worker ends when this process dies (``exit_with_parent``).

    Args:
        func: the function applied to each task; picklable (a module-level function) when
            ``workers`` > 1.
        tasks: iterable of task arguments, each passed to ``func`` as its single argument (read
            into a list first).
        workers: processes (``resolve_workers``: 0 for all cores, at most ``MAX_WORKERS``).
        ordered: results in task order; ``False`` yields each as it finishes.
        chunksize: tasks handed to a worker at a time.

    Yields:
        ``func(task)`` for each task, in task order when ``ordered``.
    """
    tasks = list(tasks)
    workers = min(resolve_workers(workers), max(len(tasks), 1))
    if workers <= 1:
        yield from map(func, tasks)
        return
    with mp.get_context("spawn").Pool(workers, initializer=exit_with_parent,
                                      initargs=(os.getpid(),)) as pool:
        run = pool.imap if ordered else pool.imap_unordered
        yield from run(func, tasks, chunksize=chunksize)


def exit_with_parent(parent_pid: int, poll_s: float = 0.2) -> None:
    """Pool initializer: end this worker as soon as its parent is gone. A parent killed with
    SIGKILL cannot close its pool, and orphaned workers would go on computing and writing.
    Linux delivers SIGKILL on the parent's death (prctl PR_SET_PDEATHSIG); a watchdog thread
    that notices the re-parenting covers other systems and the race before prctl."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)          # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):
        pass

    def watch():
        while os.getppid() == parent_pid:
            time.sleep(poll_s)
        os._exit(1)

    if os.getppid() != parent_pid:
        os._exit(1)
    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


# what ``time_limit`` counts; part of the cache key of every corpus built under a limit
TIME_LIMIT_CLOCK = "cpu"


class AttemptTimeout(Exception):
    """An attempt ran past its ``time_limit``."""


@contextmanager
def time_limit(seconds: float):
    """Context manager: raise ``AttemptTimeout`` inside the block once it has used ``seconds`` of
    CPU time (ITIMER_PROF/SIGPROF).

    CPU time, not wall time: on a busy machine an attempt is slower by the clock but not in CPU
    seconds, so which attempts are abandoned, and so which structures a corpus holds, does not
    depend on the load (a wall-clock limit made two runs of the same build differ). Only in a
    process's main thread, where batch tasks run; elsewhere, or for ``seconds <= 0``, there is no
    limit. ``TIME_LIMIT_CLOCK`` names the clock.

    Args:
        seconds: CPU time the block may use (s); <= 0 for no limit.

    Yields:
        Nothing; the block runs under the limit, and the timer and the previous SIGPROF handler
        are restored when it ends.

    Raises:
        AttemptTimeout: inside the block, when it has used ``seconds`` of CPU time.
    """
    if seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_expiry(signum, frame):
        raise AttemptTimeout()

    old = signal.signal(signal.SIGPROF, on_expiry)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, old)


def progress(total, desc):
    """The text progress bar of every batch build (no ipywidgets needed, readable in logs).

    Args:
        total: number of items the bar counts to.
        desc: label printed before the bar.

    Returns:
        A ``tqdm`` bar (unit "it", refreshed at most every 2 s); the caller calls ``update`` and
        ``close``.
    """
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="it", mininterval=2.0)
