"""Tables: written as CSV + Markdown under ``reports/tables/``, paper values beside ours.

Paper values are data (``lattice_utils/paper_values/*.csv``, each row naming the table
it comes from); nothing here types a number.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..core import paths
from ..core.provenance import git_commit
from ..core.storage import write_text
from . import outputs

__all__ = ["paper_values", "paper_quote", "to_markdown", "write_table", "NotebookRun", "table_s3", "beside_paper",
           "git_commit"]


def paper_values(name: str, dtype=None) -> pd.DataFrame:
    """The paper's values of one table: ``lattice_utils/paper_values/<name>.csv``.

    Args:
        name: the file's name without extension ("table_s1", "xrd", ...).
        dtype: passed to ``pandas.read_csv``; ``str`` keeps the values as printed.

    Returns:
        The table, each row naming the paper item it comes from (``source``) the way a reader
        sees it ("Chakrabarty et al. (main paper), Table 1": ``outputs.cite``); the files key
        the papers by document number, which no table, notebook or page shows.
    """
    table = pd.read_csv(paths.PAPER_VALUES / f"{name}.csv", dtype=dtype)
    if "source" in table:
        table["source"] = table["source"].map(lambda v: outputs.cite(v) if isinstance(v, str) else v)
    return table


def paper_quote(name: str, template: str) -> str:
    """``template`` with each ``{key}`` replaced by the paper's value of that key in
    ``paper_values/<name>.csv`` exactly as printed there ("76.60", not 76.6), or formatted by
    ``{key:fmt}``, so that a note quoting the paper reads its numbers from the data. An unknown key
    is a ``KeyError`` naming it and the file.

    Args:
        name: the paper-values file without extension (a table with ``key`` and ``value`` columns).
        template: text with ``{key}`` or ``{key:fmt}`` fields (``fmt`` a format spec, ".1f").

    Returns:
        The text with every field replaced.

    Raises:
        KeyError: a field names a key the file lacks.
    """
    values = paper_values(name, dtype=str).set_index("key")["value"]

    def one(m: re.Match) -> str:
        key, fmt = m.group(1), m.group(2)
        if key not in values.index:
            raise KeyError(f"{key!r} is not a key of lattice_utils/paper_values/{name}.csv")
        return format(float(values[key]), fmt) if fmt else values[key]

    return re.sub(r"\{(\w+)(?::([^}]*))?\}", one, template)


def to_markdown(df: pd.DataFrame, floatfmt: str = "{:.3g}") -> str:
    """A table as Markdown: a header row, then one row per row of ``df``.

    NaN is an empty cell, a whole float of 1000 or more is written as an integer, other floats
    with ``floatfmt``; a literal "|" in a cell is escaped.

    Args:
        df: the table (its index is not written).
        floatfmt: the ``str.format`` template of a float cell.

    Returns:
        The Markdown table, ending in a newline.
    """
    def text(v) -> str:           # a literal | would end the cell
        return str(v).replace("|", "\\|")

    def cell(v):
        if isinstance(v, (float, np.floating)):
            if np.isnan(v):
                return ""
            return str(int(v)) if float(v).is_integer() and abs(v) >= 1000 else floatfmt.format(v)
        return text(v)

    cols = [text(c) for c in df.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for row in df.itertuples(index=False):
        lines.append("| " + " | ".join(cell(v) for v in row) + " |")
    return "\n".join(lines) + "\n"


def write_table(df: pd.DataFrame, name: str, title: str, notes: str = "") -> pd.DataFrame:
    """``reports/tables/<name>.csv`` and ``.md`` (atomic, byte-stable across reruns). A table the
    reproduction report reads must hold the columns ``outputs.CHECKED`` declares for it.

    Args:
        df: the table.
        name: the file name without extension.
        title: the Markdown file's heading.
        notes: text written under the Markdown table ("" for none).

    Returns:
        ``df``, unchanged.

    Raises:
        ValueError: a declared table lacks a column the report reads.
    """
    missing = outputs.missing_columns(name, df.columns)
    if missing:
        raise ValueError(f"table {name} lacks the columns {missing}, which the reproduction report reads "
                         "(lattice_utils/repro/outputs.py); rename them back or update the declaration and the report")
    paths.ensure(paths.TABLES)
    write_text(paths.TABLES / f"{name}.csv", df.to_csv(index=False, lineterminator="\n"))
    md = f"# {title}\n\n" + to_markdown(df) + (f"\n{notes.strip()}\n" if notes else "")
    write_text(paths.TABLES / f"{name}.md", md)
    return df


@dataclass(frozen=True)
class NotebookRun:
    """What produced a notebook's outputs, stamped once on everything it writes: each table gets
    the ``profile`` and data-source columns and a provenance line, each figure caption the same
    line. A notebook builds one after it knows which data it used and writes through it, so no
    table or caption states its profile or source by hand.

    Attributes:
        notebook: the notebook's number ("04").
        profile: the profile it runs (``smoke``, ``quick``, ``paper``).
        source: the data source: one name, or one per dataset slot ({"jv2d": "stem_jv2d"});
            None: not stamped.
        source_column: the column the source goes in: ``data_source`` (the XRD notebooks:
            ``structure_source``).
        commit: the checkout's commit (default: ``git_commit()`` when it is built).
    """
    notebook: str                       # "04"
    profile: str
    source: str | dict | None = None    # one name, or one per dataset slot ({"jv2d": "stem_jv2d"})
    source_column: str = "data_source"  # the XRD notebooks: "structure_source"
    commit: str = field(default_factory=git_commit)

    def stamp(self, df: pd.DataFrame) -> pd.DataFrame:
        """``df`` with the profile and the data source of every row (rows that already name
        their own source keep it; a row of another profile is an error).

        Args:
            df: the table.

        Returns:
            A copy with ``profile`` and the source column set.

        Raises:
            ValueError: a row names another profile, or a per-slot source meets a table without a
                ``dataset`` column.
        """
        out = df.copy()
        if "profile" in out.columns:
            other = sorted(set(out["profile"].dropna().astype(str)) - {self.profile})
            if other:
                raise ValueError(f"notebook {self.notebook} runs the {self.profile} profile, but rows "
                                 f"of this table say {other}")
        out["profile"] = self.profile
        if self.source is not None:
            if isinstance(self.source, dict):
                if "dataset" not in out.columns:
                    raise ValueError("one data source per dataset slot needs a 'dataset' column to "
                                     f"stamp (sources {self.source})")
                col = out["dataset"].map(self.source)
            else:
                col = pd.Series(self.source, index=out.index)
            out[self.source_column] = (out[self.source_column].where(out[self.source_column].notna(), col)
                                       if self.source_column in out.columns else col)
        return out

    def describe(self) -> str:
        """The provenance line ("Notebook 04, profile quick; data source offline, commit abc1234")."""
        src = self.source
        if isinstance(src, dict):
            src = ", ".join(f"{k}: {v}" for k, v in src.items())
        what = "" if src is None else f"; {self.source_column.replace('_', ' ')} {src}"
        return f"Notebook {self.notebook}, profile {self.profile}{what}, commit {self.commit}."

    def write_table(self, df: pd.DataFrame, name: str, title: str, notes: str = "") -> pd.DataFrame:
        """``write_table`` of the stamped table; a table the registry (``outputs``) gives to another notebook
        is refused (the report would credit the wrong notebook).

        Args:
            df: the table.
            name: the file name without extension.
            title: the Markdown file's heading.
            notes: text written under the table, before the provenance line.

        Returns:
            The stamped table, as written.

        Raises:
            ValueError: the table belongs to another notebook, lacks a column the report reads, or
                a row names another profile.
        """
        try:
            owner = outputs.notebook_of(name)
        except KeyError:
            owner = self.notebook
        if owner != self.notebook:
            raise ValueError(f"table {name} belongs to notebook {owner} (lattice_utils/repro/outputs.py), "
                             f"not {self.notebook}")
        line = f"*{self.describe()}*"
        return write_table(self.stamp(df), name, title, f"{notes.strip()}\n\n{line}" if notes.strip() else line)

    def save_figure(self, fig, name: str, caption: str | None = None, dpi: int = 150, tight_layout: bool = True):
        """``plots.save_figure`` with the provenance line appended to the caption.

        Args:
            fig: the matplotlib figure.
            name: the file name without extension.
            caption: the caption ("" or None: the provenance line alone).
            dpi: the PNG's resolution (dots per inch).
            tight_layout: tighten the layout first (unless the figure uses constrained layout).

        Returns:
            The path of the PNG, ``figures/<name>.png``.
        """
        from . import plots  # matplotlib only where a figure is saved, not for every table reader

        text = f"{caption.strip()} {self.describe()}" if caption and caption.strip() else self.describe()
        return plots.save_figure(fig, name, text, dpi, tight_layout)


def table_s3(splits: dict[str, pd.DataFrame], source) -> pd.DataFrame:
    """Class counts per split, ours beside the paper's Table S3; ``source``: one name, or one
    per dataset slot (the split of a paper image set is its own folders, not the notebook's
    structures, so each row names its source).

    Args:
        splits: dataset slot -> its table (``label`` 0-4 and ``split`` columns).
        source: the data source: one name, or a dict with one per dataset slot.

    Returns:
        One row per slot, split and class: ``dataset``, ``split``, ``class``, ``ours``, ``paper``
        (counts), ``data_source``, ``ours_share`` and ``paper_share`` (fractions of the split, 4
        decimals).
    """
    paper = paper_values("table_s3")
    rows = []
    for slot, table in splits.items():
        for split in ("train", "test"):
            sub = table[table["split"] == split]
            for cls in range(5):
                p = paper[(paper.dataset == slot) & (paper.split == split) & (paper["class"] == cls)]
                rows.append({"dataset": slot, "split": split, "class": cls,
                             "ours": int((sub["label"] == cls).sum()),
                             "paper": int(p["count"].iloc[0]),
                             "data_source": source[slot] if isinstance(source, dict) else source})
    out = pd.DataFrame(rows)
    tot = out["ours"].groupby([out.dataset, out.split]).transform("sum")
    ptot = out["paper"].groupby([out.dataset, out.split]).transform("sum")
    out["ours_share"] = (out["ours"] / tot).round(4)
    out["paper_share"] = (out["paper"] / ptot).round(4)
    return out


def beside_paper(ours: pd.DataFrame, paper_name: str, keys: list, values: list) -> pd.DataFrame:
    """Left-join the paper's values (``paper_<column>``) onto our rows by ``keys`` (the notebook's
    ``NotebookRun`` then stamps the profile and data source).

    Args:
        ours: our table.
        paper_name: the paper-values file without extension (``paper_values``).
        keys: the columns that match a row to the paper's (compared as text).
        values: the paper's columns to bring in.

    Returns:
        ``ours`` with ``paper_<value>`` for each value and ``paper_source`` (the paper item, by the
        paper's short name, as ``paper_values`` gives it); NaN where the paper has no such row.
    """
    paper = paper_values(paper_name)
    for k in keys:   # compare keys as text: "0" and 0 are the same class
        paper[k] = paper[k].astype(str)
    ours = ours.copy()
    key_cols = {k: ours[k].astype(str) for k in keys}
    merged = ours.assign(**{f"_{k}": v for k, v in key_cols.items()}).merge(
        paper[keys + values + ["source"]].rename(
            columns={**{v: f"paper_{v}" for v in values}, **{k: f"_{k}" for k in keys},
                     "source": "paper_source"}),
        on=[f"_{k}" for k in keys], how="left")
    merged = merged.drop(columns=[f"_{k}" for k in keys])
    return merged
