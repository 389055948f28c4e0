"""Declarations of the tables the reproduction report reads: which notebook writes each, and the
columns the report takes from it.

``report.write_table`` refuses to write a declared table that lacks one of its columns (naming
them), so a renamed column fails where it is written instead of silently dropping a comparison
from the report; the smoke run checks that every declared table gives the report at least one
row. Declarations only: ``report`` and ``reproduction`` import this module; it imports neither.
"""
from __future__ import annotations

from .outputs import BY_NAME, OUTPUTS

__all__ = ["CHECKED", "notebook_of", "missing_columns"]

# table -> the columns reproduction.checks reads from it (() its presence only), from the registry
CHECKED = {o.name: o.checked for o in OUTPUTS if o.kind == "table" and o.checked is not None}


def notebook_of(table: str) -> str:
    """The number of the notebook that writes a table (``outputs.OUTPUTS``).

    Args:
        table: the table's name, without extension.

    Returns:
        The notebook's number ("04").

    Raises:
        KeyError: no notebook declares the table.
    """
    if table not in BY_NAME:
        raise KeyError(f"no notebook declares the table {table!r} (lattice_utils/repro/outputs.py)")
    return BY_NAME[table].notebook


def missing_columns(table: str, columns) -> list[str]:
    """The columns the report reads from ``table`` that ``columns`` lacks ([] if undeclared).

    Args:
        table: the table's name, without extension.
        columns: the columns the table has.

    Returns:
        The missing columns, in ``CHECKED``'s order.
    """
    have = set(columns)
    return [c for c in CHECKED.get(table, ()) if c not in have]
