"""Tables: written as CSV + Markdown under ``reports/tables/``, paper values beside ours.

Paper values are data (``lattice_utils/paper_values/*.csv``, each row naming the table
it comes from); nothing here types a number.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import paths, tables
from .storage import write_text


def paper_values(name: str) -> pd.DataFrame:
    return pd.read_csv(paths.PAPER_VALUES / f"{name}.csv")


def to_markdown(df: pd.DataFrame, floatfmt: str = "{:.3g}") -> str:
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
    reproduction report reads must hold the columns ``tables.CHECKED`` declares for it."""
    missing = tables.missing_columns(name, df.columns)
    if missing:
        raise ValueError(f"table {name} lacks the columns {missing}, which the reproduction report reads "
                         "(lattice_utils/tables.py); rename them back or update the declaration and the report")
    paths.ensure(paths.TABLES)
    write_text(paths.TABLES / f"{name}.csv", df.to_csv(index=False, lineterminator="\n"))
    md = f"# {title}\n\n" + to_markdown(df) + (f"\n{notes.strip()}\n" if notes else "")
    write_text(paths.TABLES / f"{name}.md", md)
    return df


def table_s3(splits: dict[str, pd.DataFrame], profile: str, source) -> pd.DataFrame:
    """Class counts per split, ours beside the paper's Table S3; ``source``: one name, or one
    per dataset slot."""
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
                             "profile": profile,
                             "data_source": source[slot] if isinstance(source, dict) else source})
    out = pd.DataFrame(rows)
    tot = out["ours"].groupby([out.dataset, out.split]).transform("sum")
    ptot = out["paper"].groupby([out.dataset, out.split]).transform("sum")
    out["ours_share"] = (out["ours"] / tot).round(4)
    out["paper_share"] = (out["paper"] / ptot).round(4)
    return out


def beside_paper(ours: pd.DataFrame, paper_name: str, keys: list, values: list,
                 profile: str, source) -> pd.DataFrame:
    """Left-join the paper's values (``paper_<column>``) onto our rows by ``keys``, and name the
    profile and data source that produced ours."""
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
    merged["profile"] = profile
    # one source for all rows, or one per dataset slot ({"jv2d": "stem_jv2d", ...})
    merged["data_source"] = merged["dataset"].map(source) if isinstance(source, dict) else source
    return merged
