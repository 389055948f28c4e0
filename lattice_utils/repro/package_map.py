"""The module list of ``docs/design.md``, written from the subpackages' own docstrings, so the page
cannot drift from the code: ``python -m lattice_utils.repro.package_map`` rewrites it (``./run_all.sh
publish`` does too) and a test fails while it is stale."""
from __future__ import annotations

import importlib
import re
import sys

from ..core import paths
from ..core.storage import write_text
from .reproduction import splice

__all__ = ["DESIGN", "MARKER", "module_list", "write_module_list"]

DESIGN = paths.DOCS / "design.md"
MARKER = "modules"


def _markdown(docstring: str) -> str:
    """RST double backticks as Markdown code spans."""
    return re.sub(r"``([^`]+)``", r"`\1`", docstring.strip())


def module_list() -> str:
    """The package's floors from the top down, each with its docstring (what it holds, a line per
    module), then the top-level modules; in the order of ``lattice_utils.__all__``.

    Returns:
        The list as Markdown (RST double backticks turned into code spans): the package's summary,
        then a ``###`` section per subpackage (its whole docstring) and per top-level module (its
        docstring's first paragraph).
    """
    package = importlib.import_module("lattice_utils")
    parts = [_markdown(package.__doc__).split("\n\n")[0]]
    for name in package.__all__:
        module = importlib.import_module(f"lattice_utils.{name}")
        doc = _markdown(module.__doc__ or "")
        if hasattr(module, "__path__"):
            parts.append(f"### `lattice_utils/{name}/`\n\n{doc}")
        else:
            parts.append(f"### `lattice_utils/{name}.py`\n\n{doc.split(chr(10) + chr(10))[0]}")
    return "\n\n".join(parts)


def write_module_list() -> bool:
    """Rewrite the list in ``docs/design.md`` (between its ``modules`` markers).

    Returns:
        True when the page changed (and was written), False when it was already current.

    Raises:
        ValueError: the page lacks the markers.
    """
    text = DESIGN.read_text()
    new = splice(text, module_list(), MARKER)
    if new != text:
        write_text(DESIGN, new)
    return new != text


if __name__ == "__main__":
    changed = write_module_list()
    print(f"{paths.relative(DESIGN)}: module list {'rewritten' if changed else 'already current'}")
    sys.exit(0)
