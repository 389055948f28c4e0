"""The one registry of the notebooks' outputs: for every table and figure, the notebook that
writes it, what it is (table, figure, or the report's own), the papers' numbered items it
reproduces, the columns the reproduction report reads from it, what it needs to be written, and
which of its rows the README headline shows.

Everything else derives from here: ``manifest.CLAIMS`` (who reproduces what), ``CHECKED``
(which columns ``report.write_table`` insists on), the outputs the smoke run must write, and
``reproduction.HEADLINE``. A paper item is named by its document key and number ("000 Table S1";
``manifest.SHORT_NAMES`` says how a reader sees it). A headline row is named by its identity
within the table (``reproduction.Check.key`` without the table's name), never by its label.
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["NOTEBOOKS", "NOTEBOOK_FILES", "PAPER_DATA", "KEPT_PREDICTIONS", "SEPARATE_RUN", "Output", "OUTPUTS",
           "BY_NAME", "headline_keys", "CHECKED", "notebook_of", "missing_columns"]

NOTEBOOKS = ("01_dataset_generation", "02_model_selection", "03_multi_vs_single_output", "04_lattice_regression",
             "05_bravais_classification", "06_alex_model_comparison", "07_chemistry_breakdown",
             "08_experimental_inference", "09_xrd_dataset", "10_xrd_zone_axis_models", "11_xrd_symmetry_ambiguity",
             "12_xrd_unseen_zone_axes", "13_xrd_perturbations", "14_physics_baseline", "15_rotation_robustness",
             "16_defect_class_averaging", "17_fft_lattice_spacing", "18_4dstem_hierarchical_clustering",
             "99_reproduction_report")
NOTEBOOK_FILES = {name[:2]: f"{name}.ipynb" for name in NOTEBOOKS}

# what an output needs before a run can write it
PAPER_DATA = "paper data"                 # the paper's own data file in data/raw/ (the smoke run has none)
KEPT_PREDICTIONS = "kept predictions"     # the committed paper-settings snapshot's per-image predictions
SEPARATE_RUN = "separate run"             # a run of hours outside the notebook chain (the XRD learning curve)


@dataclass(frozen=True)
class Output:
    """One table or figure a notebook writes, as the registry declares it.

    Attributes:
        notebook: the notebook's number ("02").
        name: file name without extension, in ``reports/tables/`` or ``figures/``.
        kind: ``table``, ``figure`` or ``report`` (notebook 99's own).
        paper: the paper items it reproduces, "000 Table S1, 000 Fig. 3"; "" beyond the papers.
        checked: the columns the reproduction report reads; () its presence only; None: not read.
        needs: what it needs before a run can write it: "", ``PAPER_DATA``, ``KEPT_PREDICTIONS`` or
            ``SEPARATE_RUN`` (the notebook shows what that run has finished).
        headline: the identities of its rows on the README headline.
        trained: its numbers come from a network trained in the run (one seed).
    """
    notebook: str            # "02"
    name: str                # file name without extension, in reports/tables or figures/
    kind: str                # "table" | "figure" | "report" (notebook 99's own)
    paper: str = ""          # the paper items it reproduces, "000 Table S1, 000 Fig. 3"; "" beyond the papers
    checked: tuple | None = None   # columns the reproduction report reads; () its presence only; None: not read
    needs: str = ""          # "" | PAPER_DATA | KEPT_PREDICTIONS | SEPARATE_RUN
    headline: tuple = ()     # identities of its rows on the README headline
    # its numbers come from a network trained in the run (one seed): another machine with another
    # thread count or precision path trains another network (docs/performance.md)
    trained: bool = False

    @property
    def notebook_file(self) -> str:
        """The notebook's file name ("02_model_selection.ipynb")."""
        return NOTEBOOK_FILES[self.notebook]

    @property
    def items(self) -> tuple:
        """The paper items it reproduces, one string each ("000 Table S1", ...)."""
        return tuple(filter(None, (s.strip() for s in self.paper.split(","))))


def _table(nb, name, paper="", **kw):
    return Output(nb, name, "table", paper, **kw)


def _figure(nb, name, paper="", **kw):
    return Output(nb, name, "figure", paper, **kw)


def _report(nb, name):
    return Output(nb, name, "report")


_REGRESSION = ("parameter", "MAE", "paper_MAE", "RMSE", "paper_RMSE", "profile", "data_source")
_XRD_ACCURACY = ("system weighted %", "group weighted %", "profile")

OUTPUTS = (
    # 01_dataset_generation.ipynb
    _figure("01", "fig1_example_images", "000 Fig. 1"),
    _figure("01", "fig2_lattice_histograms", "000 Fig. 2"),
    _table("01", "table_s3_class_counts", "000 Table S3", checked=("dataset", "split", "class", "ours",
                                                                   "paper", "profile", "data_source")),
    _table("01", "labels_paper_vs_canonical"),
    _figure("01", "fig1_paper_image_sets", "000 Fig. 1", needs=PAPER_DATA),
    _table("01", "corpus_realism"),
    _table("01", "corpus_shortest_distances"),
    _table("01", "table_1_baseline_data", "000 Table 1"),
    _table("01", "labels_symmetry_vs_metric"),
    # 02_model_selection.ipynb
    _figure("02", "table_s1_confusion_matrices", "000 Table S1"),
    _table("02", "table_s1_model_selection", "000 Table S1", checked=("dataset", "model_title", "accuracy_pct",
                                                                      "paper_accuracy_pct", "f1_weighted",
                                                                      "paper_f1", "profile", "data_source"),
           headline=("jv2d|densenet121|accuracy %", "jv2d|googlenet|accuracy %", "jv2d|mlp|accuracy %",
                        "c2db|densenet121|accuracy %"), trained=True),
    _figure("02", "table_s1_paper_settings_seeds", "000 Table S1"),
    _figure("02", "table_s1_paper_settings_training_curves", needs=KEPT_PREDICTIONS),
    _table("02", "table_s1_paper_settings_mcnemar", needs=KEPT_PREDICTIONS),
    _table("02", "table_s1_paper_settings_bootstrap", needs=KEPT_PREDICTIONS),
    # 03_multi_vs_single_output.ipynb
    _figure("03", "table_s2_parity", "000 Table S2"),
    _table("03", "table_s2_multi_vs_single", "000 Table S2", checked=("model", *_REGRESSION), trained=True),
    # 04_lattice_regression.ipynb
    _figure("04", "fig3_parity_standard_subset", "000 Fig. 3"),
    _figure("04", "figs2_gamma_confusion", "000 Fig. S2"),
    _figure("04", "figs3_loss_curves", "000 Fig. S3"),
    _figure("04", "figs4_error_histograms_jv2d", "000 Fig. S4"),
    _figure("04", "figs5_error_histograms_c2db", "000 Fig. S5"),
    _figure("04", "figs6_error_histograms_alex", "000 Fig. S6"),
    _table("04", "table_1_regression", "000 Table 1", checked=("dataset", "subset", "subset_title", *_REGRESSION),
           headline=("jv2d|standard|a|MAE", "c2db|standard|a|MAE", "alex|standard|a|MAE"), trained=True),
    _table("04", "table_1_all_subsets", "000 Table 1"),
    _table("04", "table_1_bar_check"),
    # 05_bravais_classification.ipynb
    _figure("05", "table_2_confusion_matrices", "000 Table 2"),
    _table("05", "table_2_classification", "000 Table 2", checked=("dataset", "class", "precision",
                                                                   "paper_precision", "recall", "paper_recall",
                                                                   "f1", "paper_f1", "profile", "data_source"),
           trained=True),
    _table("05", "table_05_fft_vs_densenet"),
    _table("05", "table_05_transfer", needs=PAPER_DATA),
    _figure("05", "fig05_transfer", needs=PAPER_DATA),
    _figure("05", "table_2_paper_settings_confusion", "000 Table 2", needs=KEPT_PREDICTIONS),
    _table("05", "table_05_beyond_the_paper", needs=KEPT_PREDICTIONS),
    _figure("05", "beyond_the_paper_accuracy", needs=KEPT_PREDICTIONS),
    # 06_alex_model_comparison.ipynb
    _figure("06", "figs1_alex_googlenet_mlp_parity", "000 Fig. S1"),
    _table("06", "table_s4_alex_models", "000 Table S4", checked=("model", "model_title", "subset", *_REGRESSION),
           trained=True),
    # 07_chemistry_breakdown.ipynb
    _table("07", "table_s5_chemistry", "000 Table S5", checked=("dataset", "group", "group_title", "note",
                                                                *_REGRESSION), trained=True),
    # 08_experimental_inference.ipynb
    _figure("08", "figs7_experimental_inputs", "000 Fig. S7"),
    _table("08", "table_s6_experimental", "000 Table S6", checked=()),
    _table("08", "table_s6_paper", "000 Table S6"),
    _table("08", "table_08_real_image_grains"),
    _figure("08", "fig08_real_grain_maps"),
    _table("08", "table_08_hard_cases"),
    _figure("08", "fig08_hard_cases"),
    _table("08", "table_08_measured_distortion"),
    _figure("08", "fig08_measured_distortion"),
    # 09_xrd_dataset.ipynb
    _figure("09", "xrd_fig1_structures_per_space_group", "004 Fig. 1"),
    _figure("09", "xrd_fig2_patterns_of_one_structure", "004 Fig. 2"),
    _figure("09", "xrd_figB_axes_stereographic", "004 Fig. B"),
    _table("09", "table_09_structures", "004 Fig. 1", checked=("crystal system", "total", "paper total",
                                                               "profile", "structure_source")),
    _table("09", "table_09_relabelling"),
    _table("09", "table_09_zone_axes", "004 Table 1"),
    _table("09", "table_09_axis_coverage", "004 Fig. B", checked=("measure", "ours"),
           headline=("axes_nearest_mean",)),
    _table("09", "table_09_pattern_store"),
    # 10_xrd_zone_axis_models.ipynb
    _figure("10", "xrd_fig4_model1_confusion", "004 Fig. 4, 004 Fig. C, 004 Fig. D"),
    _figure("10", "xrd_fig7_model4_confusion", "004 Fig. 7"),
    _figure("10", "xrd_fig8_model4_per_space_group", "004 Fig. 8"),
    _figure("10", "xrd_training_curves"),
    _table("10", "table_xrd_2_model1", "004 Table 2"),
    _table("10", "table_xrd_3_models234", "004 Table 3", checked=("model", "test set", *_XRD_ACCURACY),
           headline=("m4_cs_weighted",), trained=True),
    _table("10", "table_xrd_bar_check"),
    _table("10", "table_xrd_fig7_per_system", "004 Fig. 7", checked=("crystal system", "ours %", "profile"),
           trained=True),
    _table("10", "table_xrd_fig8_by_group_size", "004 Fig. 8"),
    _table("10", "table_xrd_external_aflow"),
    _table("10", "table_10_structure_types", trained=True),
    _figure("10", "fig10_structure_types"),
    _table("10", "table_10_laue_rule"),
    _table("10", "table_10_learning_curve", needs=SEPARATE_RUN),
    _figure("10", "fig10_learning_curve", needs=SEPARATE_RUN),
    # 11_xrd_symmetry_ambiguity.ipynb
    _figure("11", "xrd_fig5_centrosymmetry", "004 Fig. 5"),
    _figure("11", "xrd_fig6_enantiomorphic_pairs", "004 Fig. 6, 004 Fig. F"),
    _table("11", "table_xrd_fig5_centrosymmetry", "004 Fig. 5"),
    _table("11", "table_xrd_fig6_enantiomorphs", "004 Fig. 6, 004 Fig. F"),
    # 12_xrd_unseen_zone_axes.ipynb
    _figure("12", "xrd_fig9_unseen_axes", "004 Fig. 9"),
    _table("12", "table_xrd_d_axis_families", "004 Table D"),
    _table("12", "table_xrd_4_unseen_axes", "004 Table 4"),
    # 13_xrd_perturbations.ipynb
    _figure("13", "xrd_fig10_strain_patterns", "004 Fig. 10"),
    _figure("13", "xrd_fig11_substitution_patterns", "004 Fig. 11"),
    _figure("13", "xrd_fig12_depletion_bcc", "004 Fig. 12"),
    _figure("13", "xrd_fig13_depletion_fcc", "004 Fig. 13"),
    _table("13", "table_xrd_c_rotation", "004 Table C"),
    _table("13", "table_xrd_5_strain", "004 Table 5", checked=("zone axis", "strain %", *_XRD_ACCURACY), trained=True),
    _table("13", "table_xrd_6_substitution", "004 Table 6", checked=("zone axis", "substituted %",
                                                                     "system top-3 %", "group top-3 %",
                                                                     *_XRD_ACCURACY), trained=True),
    _table("13", "table_xrd_7_8_depletion", "004 Table 7, 004 Table 8"),
    # 14_physics_baseline.ipynb
    _figure("14", "fig14_parity_fft_vs_densenet"),
    _figure("14", "fig14_failure_cases"),
    _figure("14", "fig14_degradation"),
    _table("14", "table_14_physics_vs_densenet"),
    _table("14", "table_14_failure_reasons"),
    _table("14", "table_14_degradation"),
    # 15_rotation_robustness.ipynb
    _figure("15", "fig15_rotation_robustness"),
    _table("15", "table_15_robustness"),
    # 16_defect_class_averaging.ipynb
    _figure("16", "defects_fig1_detection", "001 Fig. 1"),
    _figure("16", "defects_fig2_class_averages", "001 Fig. 2"),
    _figure("16", "defects_fig3_ww_distributions", "001 Fig. 3"),
    _figure("16", "defects_fig3c_precision_scaling", "001 Fig. 3, 001 Fig. S5"),
    _figure("16", "defects_fig4_displacement_dilation", "001 Fig. 4, 001 Fig. 5"),
    _figure("16", "defects_fig5_sv_profile", "001 Fig. 5"),
    _table("16", "table_16_defect_detection", "001 Table S2", checked=("class", "precision", "recall",
                                                                       "paper precision", "paper recall",
                                                                       "profile"), trained=True),
    _table("16", "table_16_stacks", "001 Fig. 2"),
    _table("16", "table_16_ww_spacing", "001 Fig. 3", checked=("class", "document average mean (pm)",
                                                               "document bootstrap std (pm)",
                                                               "average mean (pm)", "bootstrap std (pm)",
                                                               "document strain (%)", "strain (%)", "profile"),
           headline=("2Se|average mean (pm)",), trained=True),
    _table("16", "table_16_precision_vs_n", "001 Fig. 3, 001 Fig. S5"),
    _table("16", "table_16_scaling_slopes", "001 Fig. 3", checked=("quantity", "document",
                                                                   "fitted log-log slope", "profile"),
           headline=("precision", "SNR gain"), trained=True),
    _table("16", "table_16_displacements", "001 Fig. 4, 001 Fig. 5"),
    # 17_fft_lattice_spacing.ipynb
    _figure("17", "fft_fig1_specimen_windows", "002 Fig. S4"),
    _figure("17", "fft_fig2_errors_phases"),
    _figure("17", "fft_fig3_mos2_spacing_map", "002 Fig. S2"),
    _table("17", "table_17_interplanar_angles", checked=("cell", "plane 1", "plane 2",
                                                         "document formula (deg)", "metric tensor (deg)")),
    _table("17", "table_17_spots_phases"),
    _table("17", "table_17_mos2_spacing", "002 Fig. S2"),
    # 18_4dstem_hierarchical_clustering.ipynb
    _figure("18", "4dstem_fig1_preprocessing",
            "003 Supplementary Fig. 1, 003 Supplementary Fig. 2, 003 Supplementary Fig. 3"),
    _figure("18", "4dstem_fig2_hierarchy", "003 Fig. 1, 003 Fig. 2"),
    _figure("18", "4dstem_fig3_accuracy", "003 Fig. 2, 003 Supplementary Fig. 17"),
    _figure("18", "4dstem_fig4_virtual_images", "003 Fig. 5"),
    _table("18", "table_18_alignment", "003 Supplementary Fig. 1"),
    _table("18", "table_18_cluster_tree", "003 Fig. 2, 003 Supplementary Fig. 5"),
    _table("18", "table_18_accuracy", "003 Supplementary Table 1", checked=("measure", "ours", "profile"),
           headline=("kmeans_discrete", "kmeans_continuous")),
    _table("18", "table_18_methods", "003 Supplementary Table 1, 003 Supplementary Fig. 4"),
    _table("18", "table_18_virtual_images", "003 Fig. 5"),
    # 99_reproduction_report.ipynb
    _report("99", "reproduction_report"),
    _report("99", "reproduction_checks"),
)
BY_NAME = {o.name: o for o in OUTPUTS}
if len(BY_NAME) != len(OUTPUTS):
    raise RuntimeError("an output name is registered twice")


def headline_keys() -> list[tuple[str, str]]:
    """The rows of the README headline, in notebook order.

    Returns:
        [(document, full row key "table|identity")], the document the first word of the output's
        ``paper`` ("000").

    Raises:
        ValueError: an output with headline rows names no paper item (the message names it).
    """
    unsourced = [o.name for o in OUTPUTS if o.headline and not o.paper.split()]
    if unsourced:
        raise ValueError(f"headline rows need the paper item they reproduce; {unsourced} name none")
    return [(o.paper.split()[0], f"{o.name}|{h}") for o in OUTPUTS for h in o.headline]


# table -> the columns reproduction.checks reads from it (() its presence only). report.write_table refuses
# to write a declared table that lacks one of them, so a renamed column fails where it is written instead of
# silently dropping a comparison from the report
CHECKED = {o.name: o.checked for o in OUTPUTS if o.kind == "table" and o.checked is not None}


def notebook_of(table: str) -> str:
    """The number of the notebook that writes a table (``OUTPUTS``).

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
