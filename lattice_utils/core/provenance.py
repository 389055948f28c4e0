"""Where a result came from: the commit of the checkout that wrote it."""
from __future__ import annotations

import subprocess

from . import paths

__all__ = ["git_commit"]


def git_commit(ignore: tuple = ()) -> str:
    """The checkout's short commit, saying so when tracked files have uncommitted changes
    (outside the folders in ``ignore``: a writer's own earlier outputs do not make its code dirty).

    Args:
        ignore: paths (relative to the checkout) whose changes do not count.

    Returns:
        The short commit hash ("unknown" when git names none), followed by " with uncommitted
        changes" when tracked files differ; "unknown (no git)" when git cannot run or takes more
        than 10 s.
    """
    exclude = [f":(exclude){p}" for p in ignore]
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=paths.ROOT, capture_output=True,
                              text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".", *exclude],
                               cwd=paths.ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown (no git)"
    return (head or "unknown") + (" with uncommitted changes" if dirty else "")
