"""The reproduction report: every number of the papers that a notebook puts beside ours, in one
table, with the difference and a status: for seeded rows on the paper's data at its settings,
consistent / differs / inconclusive by their intervals (``verdicts``, ``LEGEND``); for every other
row matches / differs within a stated tolerance; not comparable, with the reason; pending, a
paper-settings run that has not finished all its seeds. Read from the tables the notebooks wrote (``reports/tables``);
nothing here computes a result or types a number."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..core import paths
from ..core.profiles import PROFILES, get_profile
from ..studies.snapshots import read_snapshot_table, reported_snapshots
from . import outputs, report, verdicts

__all__ = ["TOL", "STATUS_ORDER", "LEGEND", "ONE_RUN", "NO_TRAINING", "HEADLINE", "Check", "main_paper_checks",
           "xrd_checks", "related_checks", "seed_tolerance", "snapshot_checks", "checks", "runs_of", "summary",
           "headline", "headline_missing", "snapshot_run_times", "run_time_sentence", "beyond_references",
           "beyond_section", "to_markdown", "splice", "TEMPLATES", "template", "named", "REPORT_COLUMNS",
           "report_page", "headline_page"]

SLOT = {"jv2d": "JV2D", "c2db": "C2DB", "alex": "Alex-PBE"}
SUBSET_WORDS = {"full": "full test set", "standard": "standard subset", "baseline": "baseline (training mean)"}
# tolerances: how close counts as reproduced, per kind of quantity
TOL = {"MAE": 0.05, "RMSE": 0.1, "accuracy %": 3.0, "fraction": 0.03, "share": 0.02, "degrees": 0.01,
       "slope": 0.1, "pm": 0.5, "strain %": 0.3, "count": 0.0, "ratio": 3.0}


# the report's summary columns, in this order
STATUS_ORDER = ["consistent", "matches", "inconclusive", "differs", "not comparable", "pending"]
# the report's prose lives in templates/ (Markdown with {placeholders}), not in Python strings
TEMPLATES = Path(__file__).with_name("templates")


def template(name: str) -> str:
    """One of the report's templates (``lattice_utils/repro/templates/<name>``), unfilled.

    Args:
        name: the template's file name ("reproduction.md").

    Returns:
        Its text, with ``{placeholders}`` for ``str.format``.
    """
    return (TEMPLATES / name).read_text()


LEGEND = template("legend.md").strip().format(accuracy_margin=verdicts.MARGIN["accuracy %"],
                                              fraction_margin=verdicts.MARGIN["fraction"])


# Table S1's F1: the paper does not name the average; its DenseNet121 value (0.81) lies with our
# weighted F1, not the macro one
S1_F1 = "F1 (weighted average; the paper does not name the average)"


@dataclass
class Check:
    """One paper value beside ours: a row of the reproduction report.

    Attributes:
        document: the paper's document key ("000", "004", ...).
        item: what the row is, in words ("Table S1 · JV2D · DenseNet121 · accuracy %").
        paper: the paper's value, in the unit ``kind`` names.
        ours: our value, same unit (NaN: none).
        kind: the kind of quantity, a ``TOL`` key (``MAE``, ``accuracy %``, ``pm``, ...).
        notebook: the notebook that writes ``table`` ("" for a declared table: filled in by
            ``checks``).
        table: the table the row is read from.
        profile: the profile of our value.
        source: the data source of our value.
        reason: why the row is not comparable ("" when it is).
        at_least: the paper states a lower bound ("> 99 %").
        tol: this row's tolerance (from the spread over seeds), else ``TOL[kind]``.
        pending: comparable, but the run behind it has not finished (``reason`` says how far).
        comparison: the kind of comparison, when not the one profile and source imply.
        interval: seeded rows: our mean's t interval (low, high).
        prediction: seeded rows: the prediction interval for one more run (what the paper's single
            run is judged against).
        paper_interval: the paper's own binomial interval, where it is a rate of a known count.
        n_test: the test images a rate is measured on.
        scale: the rate's unit: 1 for a fraction, 100 for a percentage.
        key: the row's identity, "table|what": the same quantity from a notebook's table and from
            a snapshot share it; the headline selects by it.
        runs: seeded rows: "5 seeds"; else from the registry (``runs_of``).
    """
    document: str
    item: str
    paper: float
    ours: float
    kind: str                 # a TOL key
    notebook: str             # "" for a declared table: outputs.notebook_of(table) fills it in
    table: str
    profile: str = ""
    source: str = ""
    reason: str = ""          # set: not comparable, and why
    at_least: bool = False    # the paper states a lower bound ("> 99 %")
    tol: float | None = None  # a tolerance of this row (from the spread over seeds), else TOL[kind]
    pending: bool = False     # comparable, but the run behind it has not finished (reason: how far)
    comparison: str = ""      # the kind of comparison, when not the one profile and source imply
    # seeded rows: our mean's interval, the prediction interval for one more run (what the paper's
    # single run is judged against, ``verdicts``), the paper's own binomial interval where it is a
    # rate of a known count, and the test images a rate is measured on (its unit: ``scale``)
    interval: tuple | None = None
    prediction: tuple | None = None
    paper_interval: tuple | None = None
    n_test: int | None = None
    scale: float = 1.0
    # the row's identity, "table|what" (e.g. "table_s1_model_selection|jv2d|densenet121|accuracy %"):
    # the same quantity from a notebook's table and from a snapshot share it; the headline selects by it
    key: str = ""
    runs: str = ""            # seeded rows: "5 seeds"; else from the registry (``runs_of``)

    @property
    def tolerance(self) -> float:
        """The row's tolerance: ``tol``, else ``TOL[kind]`` (in the unit of ``paper``)."""
        return TOL[self.kind] if self.tol is None else self.tol

    def verdict(self) -> tuple[str, str]:
        """(status, why) of a row judged by intervals (``verdicts.verdict``)."""
        return verdicts.verdict(self.paper, self.prediction, verdicts.MARGIN[self.kind], self.n_test, self.scale)

    def status(self) -> str:
        """The row's status: pending, not comparable, a verdict by intervals, or matches / differs."""
        if self.pending:
            return "pending"
        if self.reason:
            return "not comparable"
        if not (np.isfinite(self.paper) and np.isfinite(self.ours)):
            return "not comparable"
        if self.prediction is not None:
            return self.verdict()[0]
        tol = self.tolerance
        if self.at_least:
            return "matches" if self.ours >= self.paper - tol else "differs"
        return "matches" if abs(self.ours - self.paper) <= tol else "differs"


def _key(*parts) -> str:
    """A row's identity: its table and what distinguishes the row, "|"-joined (empty parts left out)."""
    return "|".join(str(p) for p in parts if p is not None and str(p) not in ("", "nan"))


def _read(name: str) -> pd.DataFrame | None:
    p = paths.TABLES / f"{name}.csv"
    return pd.read_csv(p) if p.exists() else None


def _num(v) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("nan")


def _stand_in(profile: str, source: str, slot: str = "", network: bool = True) -> str:
    """Why a main-paper number cannot be compared like for like, or '' when it can. A row with no
    network in it (``network=False``: the training-mean baseline) depends on the data alone, so the
    profile's scaled networks are no reason; on the offline stand-in it is a test of the stand-in,
    whose spread is built to match the paper's baseline within 15 %."""
    why = []
    if "offline" in str(source).split("+"):
        why.append(f"offline prototype stand-in instead of {SLOT.get(slot, 'the paper databases')}"
                   + ("" if network else " (a property of the data, not of a network: the stand-in is "
                                         "built to come within 15 % of this MAE)"))
    elif str(source) in ("", "nan", "auto"):
        why.append("data source not recorded")
    if profile != "paper" and network:
        why.append(f"{profile} profile (scaled networks and epochs)")
    elif profile != "paper" and slot != "jv2d":
        why.append(f"{profile} profile (a scaled-down corpus and test split)")
    return "; ".join(why)


def main_paper_checks() -> list[Check]:
    """Rows of the main paper (Chakrabarty et al.; document key "000") from the tables its notebooks wrote.

    Tables 1, S2, S4, S5 (MAE and RMSE), Table 2 (precision, recall, F1), Table S1 (accuracy, F1),
    Table S6 (listed, never compared) and Table S3 (class counts); a table not written gives none.

    Returns:
        The ``Check`` rows.
    """
    out = []
    specs = [("table_1_regression", "Table 1", ["MAE", "RMSE"]),
             ("table_s2_multi_vs_single", "Table S2", ["MAE", "RMSE"]),
             ("table_s4_alex_models", "Table S4", ["MAE", "RMSE"]),
             ("table_s5_chemistry", "Table S5", ["MAE", "RMSE"])]
    for name, label, cols in specs:
        t = _read(name)
        if t is None:
            continue
        for r in t.to_dict("records"):
            slot = r.get("dataset", "alex" if name == "table_s4_alex_models" else "jv2d")
            subset = r.get("subset_title") or r.get("group_title") or SUBSET_WORDS.get(r.get("subset"), r.get("subset"))
            where = " · ".join(str(x) for x in (SLOT.get(slot, ""), r.get("model_title") or r.get("model", ""),
                                                subset if isinstance(subset, str) else "", r.get("parameter")) if x)
            for c in cols:
                if np.isfinite(_num(r.get(f"paper_{c}"))):
                    reason = _stand_in(r.get("profile", ""), r.get("data_source", ""), slot,
                                       network=r.get("subset") != "baseline")
                    note = r.get("note")
                    if isinstance(note, str) and note and not np.isfinite(_num(r.get(c))):
                        # what the data source lacks says more than which profile ran
                        reason = note.removeprefix("not available: ")
                    out.append(Check("000", f"{label} · {where} · {c}", _num(r[f"paper_{c}"]), _num(r.get(c)), c, "",
                                     name, r.get("profile", ""), r.get("data_source", ""), reason,
                                     key=_key(name, slot, r.get("model"), r.get("subset") or r.get("group"),
                                              r.get("parameter"), c)))
    t = _read("table_2_classification")
    for r in ([] if t is None else t.to_dict("records")):
        for c in ("precision", "recall", "f1"):
            if np.isfinite(_num(r.get(f"paper_{c}"))):
                out.append(Check("000", f"Table 2 · {SLOT[r['dataset']]} · class {r['class']} · {c}",
                                 _num(r[f"paper_{c}"]), _num(r[c]), "fraction", "", "table_2_classification",
                                 r["profile"], r["data_source"],
                                 _stand_in(r["profile"], r["data_source"], r["dataset"]),
                                 key=_key("table_2_classification", r["dataset"], r["class"], c)))
    t = _read("table_s1_model_selection")
    for r in ([] if t is None else t.to_dict("records")):
        out.append(Check("000", f"Table S1 · {SLOT[r['dataset']]} · {r['model_title']} · accuracy %",
                         _num(r["paper_accuracy_pct"]), _num(r["accuracy_pct"]), "accuracy %", "",
                         "table_s1_model_selection", r["profile"], r["data_source"],
                         _stand_in(r["profile"], r["data_source"], r["dataset"]),
                         key=_key("table_s1_model_selection", r["dataset"], r.get("model"), "accuracy %")))
        if np.isfinite(_num(r.get("paper_f1"))):
            out.append(Check("000", f"Table S1 · {SLOT[r['dataset']]} · {r['model_title']} · {S1_F1}",
                             _num(r["paper_f1"]), _num(r.get("f1_weighted")), "fraction", "",
                             "table_s1_model_selection", r["profile"], r["data_source"],
                             _stand_in(r["profile"], r["data_source"], r["dataset"]),
                             key=_key("table_s1_model_selection", r["dataset"], r.get("model"), "f1")))
    if _read("table_s6_experimental") is not None:
        # the paper's experimental graphene images are not available: its values are listed, never compared
        for r in report.paper_values("table_s6").to_dict("records"):
            if str(r["row"]).startswith("Experiment"):
                continue
            for c in ("a", "b", "gamma"):
                out.append(Check("000", f"Table S6 · {r['image']} · DenseNet121 "
                                 f"({SLOT.get(r['row'], r['row'])} slot) · {c}",
                                 _num(r[c]), float("nan"), "MAE", "", "table_s6_experimental", "", "",
                                 "other images: the paper's experimental graphene images are not published with it; "
                                 "notebook 08 applies the networks to the real images this repository has",
                                 comparison="other images", key=_key("table_s6_experimental", r["image"], r["row"], c)))
    t = _read("table_s3_class_counts")
    for r in ([] if t is None else t.to_dict("records")):
        # a count of the paper's own split: no setting of any profile changes it
        counted = is_paper_data(r["data_source"])
        # counts, not shares: a share within 0.02 would let 66 test images "match" the paper's 65
        out.append(Check("000", f"Table S3 · {SLOT[r['dataset']]} {r['split']} · class {r['class']} · count",
                         _num(r["paper"]), _num(r["ours"]), "count", "", "table_s3_class_counts",
                         r["profile"], r["data_source"],
                         "" if r["data_source"] != "offline" else
                         "the offline corpus draws its classes in the paper's proportions by construction",
                         comparison="paper data, no training" if counted else "",
                         key=_key("table_s3_class_counts", r["dataset"], r["split"], r["class"])))
    return out


XRD_MAP = {   # xrd.csv key -> (label, table, {column: value} selecting the row, our column)
    "axes_nearest_mean": ("Fig. B · 20 axes · nearest-neighbour mean angle (deg)", "table_09_axis_coverage",
                          {"measure": "nearest-neighbour mean (deg)"}, "ours"),
    "axes_global_mean": ("Fig. B · 20 axes · global mean angle of all pairs (deg)", "table_09_axis_coverage",
                         {"measure": "global mean of all pairs (deg)"}, "ours"),
    "m4_cs_weighted": ("Table 3 · model-4, 20-axis test set · crystal-system weighted accuracy %",
                       "table_xrd_3_models234", {"model": "model-4", "test set": "20 axes"}, "system weighted %"),
    "m4_sg_weighted": ("Table 3 · model-4, 20-axis test set · space-group weighted accuracy %",
                       "table_xrd_3_models234", {"model": "model-4", "test set": "20 axes"}, "group weighted %"),
    "m4_cubic": ("Fig. 7 · model-4 · cubic accuracy %", "table_xrd_fig7_per_system",
                 {"crystal system": "cubic"}, "ours %"),
    "m4_monoclinic": ("Fig. 7 · model-4 · monoclinic accuracy %", "table_xrd_fig7_per_system",
                      {"crystal system": "monoclinic"}, "ours %"),
    "m4_triclinic": ("Fig. 7 · model-4 · triclinic accuracy %", "table_xrd_fig7_per_system",
                     {"crystal system": "triclinic"}, "ours %"),
}
for _pct, _tag in ((0, "0"), (-10, "m10"), (10, "p10")):
    for _t, _col in (("cs", "system weighted %"), ("sg", "group weighted %")):
        XRD_MAP[f"strain_100_{_tag}_{_t}"] = (
            f"Table 5 · [100], strain {_pct:+d} % · {'crystal-system' if _t == 'cs' else 'space-group'} "
            "weighted accuracy %",
            "table_xrd_5_strain", {"zone axis": "[100]", "strain %": _pct}, _col)
for _pct in (0, 1, 50):
    for _t, _col in (("cs", "system weighted %"), ("sg", "group weighted %"), ("cs_top3", "system top-3 %"),
                     ("sg_top3", "group top-3 %")):
        XRD_MAP[f"subst_100_{_pct}_{_t}"] = (
            f"Table 6 · [100], {_pct} % substituted · "
            f"{_col.replace('system', 'crystal-system').replace('group', 'space-group')}",
            "table_xrd_6_substitution", {"zone axis": "[100]", "substituted %": _pct}, _col)


def _xrd_sizes(profile: str) -> str:
    """The scaled XRD settings of a profile, in words (from ``profiles``, never typed)."""
    X = get_profile(profile).xrd
    return (f"{X.per_group} structures per group, about {X.split[0] * X.per_group:.0f} of them in training "
            f"(the paper: about 160 ICSD CIFs), {X.image_shape[0]} x {X.image_shape[1]} px, "
            f"{X.epochs} epoch{'s' if X.epochs != 1 else ''}")


def xrd_checks() -> list[Check]:
    """Rows of the XRD paper (document key "004") from notebooks 09-13's tables (``XRD_MAP``) and the CIF counts.

    Returns:
        The ``Check`` rows (accuracies in %, angles in degrees, counts).
    """
    paper = report.paper_values("xrd").set_index("key")
    out = []
    for key, (label, table, select, ours_col) in XRD_MAP.items():
        t = _read(table)
        if t is None or key not in paper.index:
            continue
        for col, val in select.items():
            t = t[t[col].astype(str) == str(val)]
        if t.empty:
            continue
        r = t.iloc[0]
        prof = str(r.get("profile", "")) if "profile" in t else ""
        geometric = table == "table_09_axis_coverage"
        reason = "" if geometric else ("PyXtal crystals instead of ICSD" + (
            f"; {prof} profile ({_xrd_sizes(prof)})" if prof in PROFILES and prof != "paper" else ""))
        # Fig. B's angles between the 20 zone axes are a geometric identity: an analytic check
        out.append(Check("004", label, _num(paper.loc[key, "value"]), _num(r[ours_col]),
                         "degrees" if geometric else "accuracy %", "", table, prof,
                         "offline" if not geometric else "analytic", reason,
                         key=_key(table, key)))
    t = _read("table_09_structures")
    if t is not None and "paper total" in t:
        for r in t.to_dict("records"):
            if r["crystal system"] == "total" or np.isfinite(_num(r["paper total"])):
                out.append(Check("004", f"section 2.1 · CIFs · {r['crystal system']}", _num(r["paper total"]),
                                 _num(r["total"]), "count", "", "table_09_structures", str(r.get("profile", "")),
                                 str(r.get("structure_source", "")),
                                 "PyXtal crystals, balanced per space group, instead of 52,191 ICSD CIFs",
                                 key=_key("table_09_structures", r["crystal system"])))
    return out


def related_checks() -> list[Check]:
    """Rows of the three related-method papers (document keys "001"-"003") from notebooks 16-18's tables.

    Returns:
        The ``Check`` rows (precision and recall as fractions, W-W spacings in pm, strain in %,
        slopes, angles in degrees, accuracies in %).
    """
    out = []
    sim = "simulated specimen with a known truth instead of the document's experimental data"
    t = _read("table_16_defect_detection")
    for r in ([] if t is None else t.to_dict("records")):
        for c in ("precision", "recall"):
            out.append(Check("001", f"SI Table S2 · {r['class']} · {c}", _num(r[f"paper {c}"]), _num(r[c]),
                             "fraction", "", "table_16_defect_detection", r["profile"], "simulated", sim,
                             key=_key("table_16_defect_detection", r["class"], c)))
    t = _read("table_16_ww_spacing")
    for r in ([] if t is None else t.to_dict("records")):
        m, s = _num(r["document average mean (pm)"]), _num(r["document bootstrap std (pm)"])
        if np.isfinite(m):
            out.append(Check("001", f"Fig. 3b · {r['class']} · class-average W-W (pm)", m,
                             _num(r["average mean (pm)"]), "pm", "", "table_16_ww_spacing", r["profile"], "simulated",
                             sim + " (its lattice constant is set to 330 pm)",
                             key=_key("table_16_ww_spacing", r["class"], "average mean (pm)")))
            out.append(Check("001", f"Fig. 3b · {r['class']} · bootstrap std (pm)", s, _num(r["bootstrap std (pm)"]),
                             "pm", "", "table_16_ww_spacing", r["profile"], "simulated", "",
                             key=_key("table_16_ww_spacing", r["class"], "bootstrap std (pm)")))
        if np.isfinite(_num(r.get("document strain (%)"))):
            out.append(Check("001", f"Fig. 3d · {r['class']} · local strain (%) "
                             "(the simulated truth is the document's value)",
                             _num(r["document strain (%)"]), _num(r["strain (%)"]), "strain %", "",
                             "table_16_ww_spacing", r["profile"], "simulated", "",
                             key=_key("table_16_ww_spacing", r["class"], "strain (%)")))
    t = _read("table_16_scaling_slopes")
    for r in ([] if t is None else t.to_dict("records")):
        kind = "ratio" if "gain at" in r["quantity"] else "slope"
        out.append(Check("001", f"Fig. 3c · {r['quantity']}", _num(r["document"]), _num(r["fitted log-log slope"]),
                         kind, "", "table_16_scaling_slopes", r["profile"], "simulated", "",
                         key=_key("table_16_scaling_slopes", r["quantity"])))
    t = _read("table_17_interplanar_angles")
    for r in ([] if t is None else t.to_dict("records")):
        out.append(Check("002", f"ESI-3 · {r['cell']} · {r['plane 1']} vs {r['plane 2']} · "
                         "formula against metric tensor (deg)",
                         _num(r["metric tensor (deg)"]), _num(r["document formula (deg)"]), "degrees", "",
                         "table_17_interplanar_angles", "", "analytic", "",
                         key=_key("table_17_interplanar_angles", r["cell"], r["plane 1"], r["plane 2"])))
    paper = report.paper_values("related").set_index("key")
    t = _read("table_18_accuracy")
    if t is not None:
        rows = {r["measure"].split(" (")[0].split(":")[0]: r for r in t.to_dict("records")}
        for key, label in (("kmeans_discrete", "discrete"), ("kmeans_continuous", "continuous")):
            r = rows.get(label)
            if r is not None:
                # the Discussion's lower bounds are claims about the method, which a simulated scan
                # tests; the Results' values were measured on the document's own specimen
                out.append(Check("003", f"discussion · accuracy on {label} features (%, the text's lower bound)",
                                 _num(paper.loc[key, "value"]), _num(r["ours"]), "accuracy %", "", "table_18_accuracy",
                                 r["profile"], "simulated", "", at_least=True, key=_key("table_18_accuracy", key)))
                out.append(Check("003", f"Results · accuracy on the {label} feature (%)",
                                 _num(paper.loc[f"{key}_table", "value"]), _num(r["ours"]), "accuracy %", "",
                                 "table_18_accuracy", r["profile"], "simulated",
                                 "measured on the document's own WS2-WSe2 specimen against its measured lattice "
                                 "constants and angles; ours on a simulated scan, whose accuracy depends on its "
                                 "own features and noise", key=_key("table_18_accuracy", f"{key}_table")))
    return out


PAPER_SOURCES = {"jarvis", "stem_jv2d", "stem_c2db", "cif_dir"}


def is_paper_data(source: str) -> bool:
    """Whether a data source ("stem_jv2d", or joined ones such as "stem_jv2d+jarvis") is all the paper's own data."""
    return set(str(source).split("+")) <= PAPER_SOURCES


def comparison(profile: str, source: str) -> str:
    """Which kind of comparison a row is: the paper's data at the paper's settings (with "paper
    data, no training", the only kinds a main-paper row may call "matches" or "differs"), the
    paper's data at scaled settings, or a stand-in (offline corpus, simulation, analytic check).
    A row may name its own kind (``Check.comparison``): "paper data, other settings" when one
    setting of the paper could not be had (the reason says which); "paper data, no training"
    for a count of the paper's own split, which no setting changes."""
    if is_paper_data(source):
        return "paper data, paper settings" if profile == "paper" else "paper data, scaled settings"
    return "analytic" if source == "analytic" else "stand-in"


def paper_test_counts(slot: str) -> dict:
    """{class: test images} of the paper's Table S3 for ``slot`` (the n of its per-class rates)."""
    t = report.paper_values("table_s3")
    t = t[(t.dataset == slot) & (t.split == "test")]
    return {str(c): int(n) for c, n in zip(t["class"], t["count"])}


def seed_tolerance(std: float, seeds: int, floor: float) -> float:
    """How far the paper's single run may lie from our mean over ``seeds`` runs and still agree:
    twice the standard deviation of their difference, if both are draws of the same training
    (std * sqrt(1 + 1/seeds)), at least ``floor`` (one test image's worth).

    Args:
        std: the sample standard deviation over the seeds, in the value's unit.
        seeds: the number of seeds.
        floor: the smallest tolerance, in the value's unit.

    Returns:
        The tolerance, in the value's unit.
    """
    return max(2.0 * std * np.sqrt(1.0 + 1.0 / seeds), floor)


def snapshot_checks() -> list[Check]:
    """Rows from the committed snapshots of seeded runs on the paper's images
    (``reports/snapshots/<date>-<set>-<profile>/``, written by ``lattice_utils.studies.paper_runs``):
    the reported snapshot per set and profile (the newest complete one; ``snapshots.reported_snapshots``).
    Our value is the mean over seeds; at the paper's settings it carries its intervals and is judged
    by them (``verdicts``), at scaled settings it shows a tolerance from the spread (``seed_tolerance``).
    A paper-settings snapshot written part-way through its run (fewer seeds than asked for, or one) is
    "pending": no status yet.

    Returns:
        The ``Check`` rows: Table S1 accuracy (%) and F1, Table 2 precision, recall and F1 per
        class (fractions), for every snapshot.
    """
    newest = reported_snapshots()
    paper_s1, paper_t2 = report.paper_values("table_s1"), report.paper_values("table_2")
    out = []
    for (set_name, profile), (d, meta) in sorted(newest.items()):
        s1, t2 = read_snapshot_table(d / "table_s1_summary.csv"), read_snapshot_table(d / "table_2_summary.csv")
        n_test = int(pd.read_csv(d / "table_s1_per_seed.csv")["n"].iloc[0])
        requested = len(meta.get("seeds_requested") or meta.get("seeds_done") or [])
        backbone = meta.get("settings", {}).get("mlp_backbone")

        slot_of_set = meta.get("slot")
        paper_n = paper_test_counts(slot_of_set) if slot_of_set else {}

        def check(item, paper, ours, kind, k, std, floor, model="", title="", n=None, paper_n_=None, scale=1.0, key=""):
            reason, pending = _seed_reason(profile, k, requested)
            other = model == "mlp" and backbone != "clip_vit_l14"
            if other:      # not the paper's settings after all: no status, however many seeds
                reason, pending = (f"frozen {title.removesuffix(' + MLP')} features, not the paper's CLIP ViT-L/14 "
                                   "(no CLIP weights on this machine; deviation 13)"
                                   + (f"; {reason}" if reason else "")), False
            seeded = k > 1 and np.isfinite(ours) and np.isfinite(std)
            return Check("000", item, paper, ours, kind, "paper_runs", f"snapshots/{d.name}", profile, set_name,
                         reason, tol=seed_tolerance(std, k, floor) if k > 1 else None, pending=pending,
                         comparison="paper data, other settings" if other else "",
                         interval=verdicts.mean_interval(ours, std, k) if seeded else None,
                         prediction=verdicts.prediction_interval(ours, std, k) if seeded else None,
                         paper_interval=(verdicts.rate_interval(paper, paper_n_, scale)
                                         if paper_n_ and np.isfinite(paper) else None),
                         n_test=n, scale=scale, key=key, runs=f"{k} seed{'' if k == 1 else 's'}")

        # every model asked for; one with no finished seed yet is a row without a value
        finished = {r["model"]: r for r in s1.to_dict("records")}
        for model in meta.get("models_requested") or list(finished):
            r = finished.get(model, {})
            slot = r.get("dataset", meta.get("slot"))
            p = paper_s1[(paper_s1.dataset == slot) & (paper_s1.model == model)]
            if p.empty:
                continue
            title = r["model_title"] if isinstance(r.get("model_title"), str) else \
                meta.get("model_titles", {}).get(model, model)
            k, std = int(r.get("seeds", 0)), _num(r.get("accuracy_pct_std"))
            out.append(check(f"Table S1 · {SLOT[slot]} · {title} · accuracy % "
                             f"({_over_seeds(k, std, 2)}; snapshot {d.name})", _num(p["accuracy_pct"].iloc[0]),
                             _num(r.get("accuracy_pct_mean")), "accuracy %", k, std, 100.0 / n_test, model, title,
                             n=n_test, paper_n_=sum(paper_n.values()) or None, scale=100.0,
                             key=_key("table_s1_model_selection", slot, model, "accuracy %")))
            if "f1" in p and np.isfinite(_num(p["f1"].iloc[0])):
                k, std = int(r.get("seeds", 0)), _num(r.get("f1_weighted_std"))
                out.append(check(f"Table S1 · {SLOT[slot]} · {title} · {S1_F1} "
                                 f"({_over_seeds(k, std, 3)}; snapshot {d.name})", _num(p["f1"].iloc[0]),
                                 _num(r.get("f1_weighted_mean")), "fraction", k, std, 0.01, model, title,
                                 key=_key("table_s1_model_selection", slot, model, "f1")))
        for r in t2.to_dict("records"):
            cls = str(r["class"]).split(" (")[0]
            p = paper_t2[(paper_t2.dataset == r["dataset"]) & (paper_t2["class"].astype(str) == cls)]
            for c in ("precision", "recall", "f1"):
                if p.empty or not np.isfinite(_num(p[c].iloc[0])) or not np.isfinite(_num(r[f"{c}_mean"])):
                    continue
                k, std = int(r["seeds"]), _num(r[f"{c}_std"])
                support = _num(r.get("support_mean"))
                # the paper's recall of a class is a rate over its test images; its precision and F1
                # have other denominators (not published), so no binomial interval for them
                out.append(check(f"Table 2 · {SLOT[r['dataset']]} · class {r['class']} · {c} "
                                 f"({_over_seeds(k, std, 3)}; snapshot {d.name})",
                                 _num(p[c].iloc[0]), _num(r[f"{c}_mean"]), "fraction", k, std, 0.01,
                                 n=int(support) if np.isfinite(support) and cls.isdigit() else None,
                                 paper_n_=paper_n.get(cls) if c == "recall" else None,
                                 key=_key("table_2_classification", r["dataset"], r["class"], c)))
    return out


def snapshot_run_times(profile: str = "paper") -> pd.DataFrame:
    """How long each network of the reported ``profile`` snapshots took on the machine that ran it,
    per training: epochs x the median epoch's seconds (the median, because a run paused for
    other work or resumed across sessions has a sum of epoch times that includes the pauses).

    Args:
        profile: the snapshots' profile.

    Returns:
        One row per snapshot and model: ``snapshot``, ``set``, ``model`` (its title), ``seeds
        finished``, ``epochs``, ``epoch (s, median)``, ``images/s (median)``, ``hours per
        training``, ``input px``, ``batch``, ``precision``, ``cpus``, ``device``.
    """
    rows = []
    for (set_name, prof), (d, meta) in sorted(reported_snapshots().items()):
        if prof != profile:
            continue
        settings, machine = meta.get("settings", {}), meta.get("machine", {})
        runs = pd.DataFrame([r for r in meta.get("runs", []) if r.get("median_epoch_seconds")])
        for model, g in runs.groupby("model", sort=False) if len(runs) else []:
            epoch_s = float(g["median_epoch_seconds"].median())
            epochs = int(g["epochs"].max())
            rows.append({"snapshot": d.name, "set": set_name,
                         "model": meta.get("model_titles", {}).get(model, model),
                         "seeds finished": len(g), "epochs": epochs, "epoch (s, median)": epoch_s,
                         "images/s (median)": float(g["median_images_per_s"].median()),
                         "hours per training": round(epochs * epoch_s / 3600, 2),
                         "input px": settings.get("input_px"), "batch": settings.get("batch_size"),
                         "precision": settings.get("precision_used"), "cpus": machine.get("cpus"),
                         "device": machine.get("device", "")})
    return pd.DataFrame(rows)


def run_time_sentence(times: pd.DataFrame) -> str:
    """The front page's line on what a paper-settings training cost, from ``snapshot_run_times``.

    Args:
        times: ``snapshot_run_times()``.

    Returns:
        The sentence (hours per seed, epochs, minutes per epoch, machine); '' for no snapshot.
    """
    clauses = []
    for name, g in times.groupby("snapshot", sort=True) if len(times) else []:
        r = g.iloc[0]
        machine = {"cpu": f"{r['cpus']} CPU cores, no GPU", "": f"{r['cpus']} CPU cores"}.get(r["device"], r["device"])
        models = "; ".join(f"{m['model']} {m['hours per training']:.1f} h per seed ({m['epochs']} epochs × "
                           f"{m['epoch (s, median)'] / 60:.1f} min; "
                           f"{m['seeds finished']} seed{'s' if m['seeds finished'] != 1 else ''} finished)"
                           for m in g.to_dict("records"))
        clauses.append(f"{name} ({r['input px']} px, batch {r['batch']}, {r['precision']} on {machine}): {models}")
    return ("Paper-settings trainings on the paper's images, " + "; ".join(clauses) + ".") if clauses else ""


# the networks as the paper names them
PAPER_MODEL_NAMES = {"mlp": "Clip + MLP", "densenet121": "DenseNet121", "googlenet": "GoogLeNet"}


def beyond_references(dataset: str = "jv2d") -> pd.DataFrame:
    """What the "beyond the paper" accuracies stand beside: the paper's best Table S1 accuracy and
    its Table 2 accuracy on ``dataset``, and the JARVIS-Leaderboard entry for the same task
    (``paper_values/leaderboard.csv``), each with its source.

    Args:
        dataset: the dataset slot (``jv2d``, ``c2db``).

    Returns:
        One row per reference: ``reference``, ``accuracy_pct`` (%), ``source``.
    """
    s1 = report.paper_values("table_s1").query("dataset == @dataset")
    best = s1.loc[s1["accuracy_pct"].idxmax()]
    t2 = report.paper_values("table_2").query("dataset == @dataset and `class` == 'accuracy'")
    board = report.paper_values("leaderboard")
    rows = [{"reference": f"paper's best in Table S1 ({PAPER_MODEL_NAMES[best['model']]})",
             "accuracy_pct": float(best["accuracy_pct"]), "source": best["source"]},
            {"reference": "paper's Table 2 (DenseNet121)", "accuracy_pct": 100.0 * float(t2["f1"].iloc[0]),
             "source": t2["source"].iloc[0]}]
    rows += [{"reference": f"JARVIS-Leaderboard, {r['method']}", "accuracy_pct": 100.0 * float(r["value"]),
              "source": r["source"]} for r in board.to_dict("records")]
    return pd.DataFrame(rows)


def _over_seeds(k: int, std: float, digits: int) -> str:
    return f"mean of {k} seeds, sd {std:.{digits}f}" if k > 1 else "one seed" if k == 1 else "no seed finished"


def _seed_reason(profile: str, seeds: int, requested: int = 0) -> tuple[str, bool]:
    """(reason, pending) of a snapshot row: scaled settings are not comparable; at the paper's
    settings the status waits until every requested seed (and at least two) has finished."""
    if profile != "paper":
        return f"{profile} profile (scaled networks and epochs)", False
    if seeds < requested:
        return (f"{seeds} of {requested} seeds finished; the status waits for all of them "
                "(the tolerance comes from their spread)"), True
    if seeds < 2:
        return "one seed: no spread to set a tolerance; the status waits for a second seed", True
    return "", False


ONE_RUN = "one run"
NO_TRAINING = "no training"


def runs_of(c: Check) -> str:
    """How many trainings stand behind a row that is not from a seeded snapshot: "one run" for a
    number of a network trained in the notebook's run (``outputs.Output.trained``; its baseline
    rows, the training mean, are not), else "no training" (counts, data properties, analytic
    checks, estimators with nothing learned).

    Args:
        c: the row.

    Returns:
        ``ONE_RUN`` or ``NO_TRAINING``.
    """
    o = outputs.BY_NAME.get(c.table)
    if o is not None and o.trained and "|baseline|" not in f"{c.key}|":
        return ONE_RUN
    return NO_TRAINING


def checks() -> pd.DataFrame:
    """The reproduction report's table: every paper value beside ours, with its status.

    Returns:
        One row per check: ``document``, ``item``, ``runs``, ``comparison``, ``paper``, ``ours``,
        ``difference`` (ours - paper, in the row's unit), ``tolerance`` (text), ``ours, 95 %
        interval``, ``ours (shown)``, ``paper, 95 % interval``, ``status`` (``STATUS_ORDER``),
        ``reason``, ``profile``, ``data source``, ``notebook``, ``table``, ``key``.
    """
    rows = []
    for c in main_paper_checks() + snapshot_checks() + xrd_checks() + related_checks():
        if c.table in outputs.CHECKED:
            c.notebook = outputs.notebook_of(c.table)     # the registry says who writes it
        status = c.status()
        judged = c.prediction is not None and status in verdicts.STATUSES
        shown = verdicts.with_interval(c.ours, c.interval)
        rows.append({"document": c.document, "item": c.item, "runs": c.runs or runs_of(c),
                     "comparison": c.comparison or comparison(c.profile, c.source),
                     "paper": c.paper, "ours": c.ours,
                     "difference": c.ours - c.paper,
                     "tolerance": (f"{100 * verdicts.LEVEL:.0f} % prediction interval "
                                   f"{verdicts.span(c.prediction, c.interval)}"
                                   if judged else "from the seeds' spread" if c.pending and c.tol is None
                                   else ("≥ paper − " if c.at_least else "± ") + f"{c.tolerance:.3g}"),
                     "ours, 95 % interval": shown,
                     # what the front page prints: the digits an interval supports, else four
                     "ours (shown)": shown or ("" if not np.isfinite(c.ours) else f"{c.ours:.4g}"),
                     "paper, 95 % interval": verdicts.with_interval(c.paper, c.paper_interval),
                     "status": status, "reason": c.verdict()[1] if judged and not c.reason else c.reason,
                     "profile": c.profile, "data source": c.source,
                     "notebook": c.notebook, "table": c.table, "key": c.key})
    return pd.DataFrame(rows)


# Table 2's "accuracy" row and its weighted-average recall are the accuracy again (weighted recall
# is correct predictions over all images): listed, but not counted a second time (row keys end so)
SAME_AS_ACCURACY = ("|accuracy|f1", "|weighted avg|recall")


def evidence(row) -> str:
    """What kind of evidence a row is: a trained result, a count of the paper's own split, or an
    analytic check (a formula or a geometric identity)."""
    if row["comparison"] == "paper data, no training":
        return "split count"
    if row["comparison"] == "analytic":
        return "analytic"
    return "trained or measured result"


def summary(table: pd.DataFrame) -> pd.DataFrame:
    """Rows per document and kind of evidence and status, each physical quantity counted once
    (``SAME_AS_ACCURACY`` rows left out); the report's summary table.

    Args:
        table: ``checks()``.

    Returns:
        One row per document and kind of evidence (``split count``, ``analytic``, ``trained or
        measured result``), with a count per status in ``STATUS_ORDER``.
    """
    repeats = table["key"].str.startswith("table_2_classification|") & table["key"].str.endswith(SAME_AS_ACCURACY)
    counted = table[~repeats].copy()
    counted["evidence"] = counted.apply(evidence, axis=1)
    out = counted.pivot_table(index=["document", "evidence"], columns="status", values="item", aggfunc="count",
                              fill_value=0)
    return out.reindex(columns=STATUS_ORDER, fill_value=0).reset_index()


# (document, row key) in the order the front page lists them, from the registry of outputs
# (``outputs.Output.headline``). Only rows with a number printed in the paper: the Zhu et al. checks
# are analytic (its formulas against the metric tensor, both computed here), so its "paper" column
# would hold our own value.
HEADLINE = outputs.headline_keys()


def headline(table: pd.DataFrame) -> pd.DataFrame:
    """The front page's rows: for each HEADLINE key the check with that identity of the closest
    kind of comparison (the paper's data at its settings first) that has a value. A key that
    matches no row is left out here and named by ``headline_missing`` (the smoke run's test
    fails on it: a renamed row must not drop off the front page unnoticed).

    Args:
        table: ``checks()``.

    Returns:
        The chosen rows of ``table``, in ``HEADLINE`` order.
    """
    rank = {"paper data, paper settings": 0, "paper data, no training": 0, "paper data, other settings": 1,
            "paper data, scaled settings": 2}
    rows = []
    for doc, key in HEADLINE:
        sel = table[(table["document"] == doc) & (table["key"] == key)]
        if sel.empty:
            continue
        # a row with a value before one still waiting for its run
        order = sel["comparison"].map(lambda c: rank.get(c, 3)).to_numpy() + 10 * sel["ours"].isna().to_numpy()
        rows.append(sel.iloc[int(np.argmin(order))])     # argmin: the first of the best kind
    return pd.DataFrame(rows).reset_index(drop=True)


def headline_missing(table: pd.DataFrame) -> list[str]:
    """The HEADLINE keys that match no check of ``table`` (its table was not written, or the row
    changed identity).

    Args:
        table: ``checks()``.

    Returns:
        The missing row keys, in ``HEADLINE`` order.
    """
    have = set(zip(table["document"], table["key"]))
    return [key for doc, key in HEADLINE if (doc, key) not in have]


def to_markdown(df: pd.DataFrame, cols) -> str:
    """The report's tables: ``report.to_markdown`` of the chosen columns, four significant digits.

    Args:
        df: the table.
        cols: the columns, in order.

    Returns:
        The Markdown table.
    """
    return report.to_markdown(df[list(cols)], floatfmt="{:.4g}")


def splice(text: str, block: str, name: str) -> str:
    """Replace what lies between ``<!-- name:start -->`` and ``<!-- name:end -->``.

    Args:
        text: the page (Markdown).
        block: what goes between the markers (stripped).
        name: the markers' name ("headline", "modules").

    Returns:
        The page with the block in place.

    Raises:
        ValueError: a marker is not in ``text``.
    """
    a, b = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    if a not in text or b not in text:
        raise ValueError(f"markers {a} / {b} not found")
    head, rest = text.split(a, 1)
    _, tail = rest.split(b, 1)
    return f"{head}{a}\n{block.strip()}\n{b}{tail}"


BEYOND = "table_05_beyond_the_paper"


def beyond_section() -> str:
    """The report's "beyond the paper" section from notebook 05's table (written from the committed
    paper-settings snapshot), or '' before the snapshot keeps per-image predictions. It stands apart
    from the checks: no row of it is a verdict.

    Returns:
        The section's Markdown (the table and, beside it, ``beyond_references("jv2d")``), or ''.
    """
    path = paths.TABLES / f"{BEYOND}.csv"
    if not path.exists():
        return ""
    rows = pd.read_csv(path)
    refs = beyond_references("jv2d")
    shown = rows.assign(**{"gain over as trained (points)": [
        verdicts.with_interval(g, (lo, hi)) if np.isfinite(g) else ""
        for g, lo, hi in zip(rows.get("gain_points", np.nan), rows.get("gain_low", np.nan),
                             rows.get("gain_high", np.nan))]})
    cols = ["model_title", "way", "seeds", "n", "accuracy (shown)", "interval", "gain over as trained (points)"]
    return "\n".join([
        "## Beyond the paper: the same networks, eight symmetric copies and the seed ensemble\n",
        "What the paper-settings networks give on the STEM-JV2D test images when the recipe is changed in ways "
        "physics permits, without retraining (notebook 05): the Bravais class does not change under the image's "
        "rotations by 90° and mirrors, so the class probabilities are averaged over the eight symmetric copies of "
        "each image; and the seeds' probabilities are averaged into one ensemble. Accuracy in per cent with its 95 % "
        "interval: over seeds (Student's t) where each seed is one classifier, over the test images "
        "(Clopper-Pearson) for the one ensemble; the symmetric average's gain is paired seed by seed. A negative "
        "gain means the copies cost accuracy: the paper's recipe trains without augmentation on images drawn with "
        "a lattice vector along x, and four of the eight copies turn it onto y, an orientation no training image "
        "had. **No row here changes a verdict above.**\n",
        to_markdown(shown, cols),
        "Beside:\n",
        to_markdown(refs, ["reference", "accuracy_pct", "source"]),
    ] + _copies_block())


COPIES = "table_05_symmetric_copies"


def _copies_block() -> list[str]:
    """The per-copy test of the orientation explanation (notebook 05's ``COPIES`` table, its group
    rows), or [] where the snapshot keeps no per-copy classes."""
    path = paths.TABLES / f"{COPIES}.csv"
    if not path.exists():
        return []
    rows = pd.read_csv(path)
    groups = rows[~rows["copies"].str.startswith("copy ")]
    return ["Each copy scored on its own (notebook 05, `table_05_symmetric_copies`, every copy in it): the copies "
            "rotated by 0 or 180° keep a lattice vector along x, as the training images have it; those rotated by 90 "
            "or 270° turn it onto y. Accuracy in per cent, mean over seeds with its 95 % t interval; a group's is "
            "the mean of its four copies; the difference, in points, is paired seed by seed.\n",
            to_markdown(groups, ["model_title", "copies", "seeds", "n", "accuracy (shown)"])]


# the columns of each paper's table in the report, in order
REPORT_COLUMNS = ["document", "item", "comparison", "runs", "paper", "ours", "difference", "tolerance",
                  "ours, 95 % interval", "paper, 95 % interval", "status", "reason", "profile", "data source",
                  "notebook", "table"]


def named(df: pd.DataFrame) -> pd.DataFrame:
    """The papers by short name, never by the file number the code keys them by.

    Args:
        df: a table with a ``document`` column of keys ("000"), or without one.

    Returns:
        The table with each key replaced by the paper's short name (``outputs.SHORT_NAMES``).
    """
    return df.assign(document=df["document"].map(outputs.SHORT_NAMES)) if "document" in df else df


def report_page(table: pd.DataFrame, summary_table: pd.DataFrame, head: pd.DataFrame, items: pd.DataFrame,
                run_times: pd.DataFrame, run_time_line: str, profile: str, commit: str) -> str:
    """``docs/reproduction.md``: the template's opening, then the summary, the headline, what goes
    beyond the paper, the paper-settings run times, one table per paper and the papers' numbered items.

    Args:
        table: every check (``checks()``).
        summary_table: ``summary(table)`` with its ``title`` column.
        head: ``headline(table)``.
        items: ``outputs.items_table()``.
        run_times: ``snapshot_run_times("paper")``.
        run_time_line: ``run_time_sentence(run_times)``.
        profile: the profile of the run being reported.
        commit: the commit of the report's run.

    Returns:
        The page's Markdown.
    """
    parts = [template("reproduction.md").format(profile=profile, commit=commit, legend=LEGEND),
             "## Summary\n", to_markdown(named(summary_table), list(summary_table.columns)),
             "## Headline results\n",
             to_markdown(named(head), ["document", "item", "comparison", "runs", "paper", "ours (shown)", "status",
                                       "reason"])]
    beyond = beyond_section()     # apart from the checks: never a verdict
    if beyond:
        parts += [beyond]
    if len(run_times):
        parts += ["## Time of the paper-settings runs\n", run_time_line + "\n",
                  to_markdown(run_times, list(run_times.columns))]
    for doc, title in outputs.DOCUMENTS.items():
        sub = table[table["document"] == doc]
        parts += [f"## {outputs.SHORT_NAMES[doc]}: {title}\n",
                  to_markdown(named(sub), REPORT_COLUMNS) if len(sub) else "No comparison table.\n"]
    parts += ["## Numbered figures and tables of the papers\n", to_markdown(named(items), list(items.columns))]
    return "\n".join(parts)


def headline_page(head: pd.DataFrame, run_time_line: str, profile: str, commit: str) -> str:
    """The README's headline block (``templates/headline.md``): the headline rows and the run-time line.

    Args:
        head: ``headline(checks())``.
        run_time_line: ``run_time_sentence(...)``, or "".
        profile: the profile of the run being reported.
        commit: the commit of the report's run.

    Returns:
        The block's Markdown, spliced into the README by ``publish``.
    """
    rows = to_markdown(named(head), ["document", "item", "runs", "paper", "ours (shown)", "status"])
    return template("headline.md").format(profile=profile, commit=commit, table=rows,
                                          run_time=f"\n\n{run_time_line}" if run_time_line else "")
