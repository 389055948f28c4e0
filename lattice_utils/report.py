"""Tables: written as CSV + Markdown under ``reports/tables/``, paper values beside ours.

Paper values are data (``lattice_utils/paper_values/*.csv``, each row naming the table
it comes from); nothing here types a number.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import paths
from .storage import write_text


def paper_values(name: str) -> pd.DataFrame:
    return pd.read_csv(paths.PAPER_VALUES / f"{name}.csv")


def to_markdown(df: pd.DataFrame, floatfmt: str = "{:.3g}") -> str:
    def cell(v):
        if isinstance(v, (float, np.floating)):
            return "" if np.isnan(v) else floatfmt.format(v)
        return str(v)

    cols = [str(c) for c in df.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for row in df.itertuples(index=False):
        lines.append("| " + " | ".join(cell(v) for v in row) + " |")
    return "\n".join(lines) + "\n"


def write_table(df: pd.DataFrame, name: str, title: str, notes: str = "") -> pd.DataFrame:
    """``reports/tables/<name>.csv`` and ``.md`` (atomic, byte-stable across reruns)."""
    paths.ensure(paths.TABLES)
    write_text(paths.TABLES / f"{name}.csv", df.to_csv(index=False, lineterminator="\n"))
    md = f"# {title}\n\n" + to_markdown(df) + (f"\n{notes.strip()}\n" if notes else "")
    write_text(paths.TABLES / f"{name}.md", md)
    return df


def table_s3(splits: dict[str, pd.DataFrame], profile: str, source: str) -> pd.DataFrame:
    """Class counts per split, ours beside the paper's Table S3."""
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
                             "profile": profile, "data_source": source})
    out = pd.DataFrame(rows)
    tot = out["ours"].groupby([out.dataset, out.split]).transform("sum")
    ptot = out["paper"].groupby([out.dataset, out.split]).transform("sum")
    out["ours_share"] = (out["ours"] / tot).round(4)
    out["paper_share"] = (out["paper"] / ptot).round(4)
    return out
