"""Declarations of the tables the reproduction report reads: which notebook writes each, and the
columns the report takes from it.

``report.write_table`` refuses to write a declared table that lacks one of its columns (naming
them), so a renamed column fails where it is written instead of silently dropping a comparison
from the report; the smoke run checks that every declared table gives the report at least one
row. Declarations only: ``report`` and ``reproduction`` import this module; it imports neither.
"""
from __future__ import annotations

from .manifest import CLAIMS

_REGRESSION = ("parameter", "MAE", "paper_MAE", "RMSE", "paper_RMSE", "profile", "data_source")
_XRD_ACCURACY = ("system weighted %", "group weighted %", "profile")

# table -> the columns reproduction.checks reads from it
CHECKED = {
    # main paper (000)
    "table_1_regression": ("dataset", "subset", "subset_title") + _REGRESSION,
    "table_s2_multi_vs_single": ("model",) + _REGRESSION,
    "table_s4_alex_models": ("model", "model_title", "subset") + _REGRESSION,
    "table_s5_chemistry": ("dataset", "group", "group_title", "note") + _REGRESSION,
    "table_2_classification": ("dataset", "class", "precision", "paper_precision", "recall", "paper_recall",
                               "f1", "paper_f1", "profile", "data_source"),
    "table_s1_model_selection": ("dataset", "model_title", "accuracy_pct", "paper_accuracy_pct", "f1_weighted",
                                 "paper_f1", "profile", "data_source"),
    "table_s3_class_counts": ("dataset", "split", "class", "ours", "paper", "profile", "data_source"),
    # its presence only: the paper's Table S6 values are listed beside it as "other images"
    "table_s6_experimental": (),
    # XRD paper (004)
    "table_09_axis_coverage": ("measure", "ours"),
    "table_09_structures": ("crystal system", "total", "paper total", "profile", "structure_source"),
    "table_xrd_3_models234": ("model", "test set") + _XRD_ACCURACY,
    "table_xrd_fig7_per_system": ("crystal system", "ours %", "profile"),
    "table_xrd_5_strain": ("zone axis", "strain %") + _XRD_ACCURACY,
    "table_xrd_6_substitution": ("zone axis", "substituted %", "system top-3 %", "group top-3 %") + _XRD_ACCURACY,
    # related methods (001-003)
    "table_16_defect_detection": ("class", "precision", "recall", "paper precision", "paper recall", "profile"),
    "table_16_ww_spacing": ("class", "document average mean (pm)", "document bootstrap std (pm)",
                            "average mean (pm)", "bootstrap std (pm)",
                            "document strain (%)", "strain (%)", "profile"),
    "table_16_scaling_slopes": ("quantity", "document", "fitted log-log slope", "profile"),
    "table_17_interplanar_angles": ("cell", "plane 1", "plane 2", "document formula (deg)", "metric tensor (deg)"),
    "table_18_accuracy": ("measure", "ours", "profile"),
}


def notebook_of(table: str) -> str:
    """The number ("04") of the notebook that writes ``table`` (``manifest.CLAIMS``)."""
    for nb, claims in CLAIMS.items():
        if table in claims:
            return nb[:2]
    raise KeyError(f"no notebook declares the table {table!r} (lattice_utils/manifest.py)")


def missing_columns(table: str, columns) -> list[str]:
    """The columns the report reads from ``table`` that ``columns`` lacks ([] if undeclared)."""
    have = set(columns)
    return [c for c in CHECKED.get(table, ()) if c not in have]
