"""The one registry of the notebooks' outputs and of the papers' numbered items.

For every table and figure: the notebook that writes it, what it is (table, figure, or the report's
own), the papers' numbered items it reproduces, the columns the reproduction report reads from it,
what it needs to be written, and which of its rows the README headline shows. For every numbered
figure and table of the papers: who reproduces it (``CLAIMS``, derived from the registry) or why
none does (``NOT_REPRODUCED``), and how a reader sees the paper's name (``SHORT_NAMES``, ``cite``).
The test suite checks that every numbered item is claimed or listed as not reproduced (with the
reason), and that the smoke run writes every claimed output.

Everything else derives from here: ``CLAIMS``, ``CHECKED`` (which columns ``report.write_table``
insists on), the outputs the smoke run must write (``expected_outputs``), and
``reproduction.HEADLINE``. A paper item is named by its document key and number ("000 Table S1";
``SHORT_NAMES`` says how a reader sees it). A headline row is named by its identity within the
table (``reproduction.Check.key`` without the table's name), never by its label.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..studies import snapshots

__all__ = ["NOTEBOOKS", "NOTEBOOK_FILES", "PAPER_DATA", "KEPT_PREDICTIONS", "SEPARATE_RUN", "Output", "OUTPUTS",
           "BY_NAME", "headline_keys", "CHECKED", "notebook_of", "missing_columns", "DOCUMENTS", "SHORT_NAMES",
           "PAPER_ITEMS", "CLAIMS", "NOT_REPRODUCED", "REPORT_OUTPUTS", "NEEDS_PAPER_DATA", "NEEDS_KEPT_PREDICTIONS",
           "NEEDS_SEPARATE_RUN", "cite", "is_table", "expected_outputs", "kept_predictions_committed",
           "claimed_items", "items_table"]

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
SEPARATE_RUN = "separate run"             # a run outside the notebook chain (the XRD learning curve, the copies)


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
    # from the per-copy classes a separate pass over the snapshot's weights adds (studies.symmetric_copies)
    _table("05", "table_05_symmetric_copies", needs=SEPARATE_RUN),
    _table("05", "table_05_symmetric_copies_by_class", needs=SEPARATE_RUN),
    _table("05", "table_05_symmetric_copies_sides", needs=SEPARATE_RUN),
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


DOCUMENTS = {
    "000": "Predicting lattice parameters from atomic-scale images of 2D materials (main paper)",
    "004": "Crystallographic classification from synthetic 2D X-ray diffraction (XRD paper)",
    "001": "Sub-picometre precision of single-atom defect strain fields (defect class averaging)",
    "002": "Deep learning-assisted analysis of HRTEM images of nanoparticles (ESI)",
    "003": "Divisive hierarchical K-means of 4D-STEM data",
}

# how the report, the README and the notebooks name each paper (docs/references.md): by short title
# and first author where the text gives it, never by the file number the code keys it by
SHORT_NAMES = {
    "000": "Chakrabarty et al. (main paper)",
    "004": "XRD zone-axis paper",
    "001": "defect class averaging (WSe2-2xTe2x)",
    "002": "Zhu et al. (HRTEM nanoparticles)",
    "003": "4D-STEM divisive K-means",
}


def cite(source: str) -> str:
    """A paper value's source as a reader should see it: "000 Table S1" becomes "Chakrabarty et al.
    (main paper), Table S1"; a source that starts with no document key is returned as it is.

    Args:
        source: a paper value's source, "<document key> <item>" ("000 Table S1"), or any text.

    Returns:
        The source with the document's short name (``SHORT_NAMES``) in place of its key; a bare
        key becomes the short name alone.
    """
    key, _, rest = str(source).partition(" ")
    return f"{SHORT_NAMES[key]}, {rest}" if key in SHORT_NAMES and rest else SHORT_NAMES.get(key, str(source))


# every numbered figure and table in the papers' texts (docs/references.md; SI tables of 000 are Table S1-S6)
PAPER_ITEMS = {
    "000": ["Fig. 1", "Fig. 2", "Fig. 3", "Fig. S1", "Fig. S2", "Fig. S3", "Fig. S4", "Fig. S5", "Fig. S6", "Fig. S7",
            "Table 1", "Table 2", "Table S1", "Table S2", "Table S3", "Table S4", "Table S5", "Table S6"],
    "004": ["Fig. 1", "Fig. 2", "Fig. 3", "Fig. 4", "Fig. 5", "Fig. 6", "Fig. 7", "Fig. 8", "Fig. 9", "Fig. 10",
            "Fig. 11", "Fig. 12", "Fig. 13", "Fig. A", "Fig. B", "Fig. C", "Fig. D", "Fig. E", "Fig. F", "Fig. J",
            "Fig. K", "Fig. V", "Table 1", "Table 2", "Table 3", "Table 4", "Table 5", "Table 6", "Table 7",
            "Table 8", "Table C", "Table D"],
    "001": ["Fig. 1", "Fig. 2", "Fig. 3", "Fig. 4", "Fig. 5", "Fig. S1", "Fig. S2", "Fig. S3", "Fig. S4", "Fig. S5",
            "Fig. S6", "Fig. S7", "Fig. S11", "Table S1", "Table S2"],
    "002": ["Fig. S1", "Fig. S2", "Fig. S3", "Fig. S4"],
    "003": ["Fig. 1", "Fig. 2", "Fig. 3", "Fig. 4", "Fig. 5"] + [f"Supplementary Fig. {k}" for k in range(1, 18)]
           + ["Supplementary Table 1"],
}


def _fig(*names):
    return [f"{n}.{ext}" for n in names for ext in ("png", "pdf")]


def _tab(*names):
    return [f"{n}.{ext}" for n in names for ext in ("csv", "md")]


# notebook -> {output name (no extension) -> the paper items it reproduces ("" for our own additions),
# from the one registry of outputs
CLAIMS = {}
for _o in OUTPUTS:
    CLAIMS.setdefault(_o.notebook_file, {})[_o.name] = _o.paper

NOT_REPRODUCED = {
    "004 Fig. 3": "a drawing of the CNN's architecture; the network itself is lattice_utils.xrd.model.XrdCNN",
    "004 Fig. A": "an illustration of how the 230 space groups fall into the seven crystal systems "
                  "(lattice_utils.xrd.symmetry)",
    "004 Fig. E": "model-1's 230 x 230 space-group confusion matrices are not drawn; "
                  "Table 2 gives its space-group accuracy",
    "004 Fig. J": "per-space-group accuracy of models 2-3 on every test set: only model-4 is drawn (Fig. 8)",
    "004 Fig. K": "per-space-group accuracy on the unseen axes is not drawn; Table 4 gives the totals",
    "004 Fig. V": "example pattern pairs of enantiomorphic / centrosymmetric counterparts: "
                  "notebook 11 checks that they are identical",
    "001 Fig. S1": "a drawing of the ResUNet (lattice_utils.related.unet.ResUNet)",
    "001 Fig. S11": "the same ResUNet drawing, cited as Figure S11 in the text",
    "001 Fig. S2": "the training crops are generated in code (defects.training_set), not shown",
    "001 Fig. S3": "training curves of the four FCNs; notebook 16 trains one five-class network and logs its loss",
    "001 Fig. S4": "a drawing of the bootstrap procedure",
    "001 Fig. S6": "strain and rotation components of the SV field: notebook 16 shows the dilation only",
    "001 Fig. S7": "DFT strain fields: no DFT here (the simulated truth stands in)",
    "001 Table S1": "the document's Computem simulation parameters: "
                    "ours are lattice_utils.related.defect_specimen.Conditions",
    "002 Fig. S1": "crystallinity against defocus needs a contrast-transfer model of HRTEM, "
                   "which the convolution images lack",
    "002 Fig. S3": "a drawing of the U-Net (ours: lattice_utils.related.unet.ResUNet)",
    "003 Fig. 3": "the WS2-WSe2 superlattice sample is not simulated (the heterojunction is)",
    "003 Fig. 4": "the silver nanoprism sample is not simulated",
    "003 Supplementary Fig. 6": "mean patterns of the clusters are not drawn",
    "003 Supplementary Fig. 7": "the interface defects of the experimental flake have no counterpart in the simulation",
    "003 Supplementary Fig. 8": "superlattice sample (not simulated)",
    "003 Supplementary Fig. 9": "superlattice sample (not simulated)",
    "003 Supplementary Fig. 10": "superlattice sample (not simulated)",
    "003 Supplementary Fig. 11": "nanoprism sample (not simulated)",
    "003 Supplementary Fig. 12": "nanoprism sample (not simulated)",
    "003 Supplementary Fig. 13": "InGaP/GaAs sample (not simulated)",
    "003 Supplementary Fig. 14": "InGaP/GaAs sample (not simulated)",
    "003 Supplementary Fig. 15": "InGaP/GaAs sample (not simulated)",
    "003 Supplementary Fig. 16": "PCA / UMAP as dimension reduction before clustering: not compared",
}


# notebook 99's own outputs (reports/site/reproduction.md and the table of every comparison): checked on their own
REPORT_OUTPUTS = {o.name for o in OUTPUTS if o.kind == "report"}
# written only when the paper's own data file is in data/raw/ (the smoke run has none)
NEEDS_PAPER_DATA = {o.name for o in OUTPUTS if o.needs == PAPER_DATA}
# written from the committed paper-settings snapshot's per-image predictions (every run writes them
# once the snapshot keeps them: ``kept_predictions_committed``)
NEEDS_KEPT_PREDICTIONS = {o.name for o in OUTPUTS if o.needs == KEPT_PREDICTIONS}
# written once a separate run (the XRD learning curve, the per-copy pass) has finished some of its rows
NEEDS_SEPARATE_RUN = {o.name for o in OUTPUTS if o.needs == SEPARATE_RUN}


def is_table(name: str) -> bool:
    """Whether an output is a table (its kind in the registry; an unregistered name by its prefix).

    Args:
        name: the output's name, without extension.

    Returns:
        True for a table (an unregistered name: one starting ``table_``, ``labels_`` or ``corpus_``).
    """
    if name in BY_NAME:
        return BY_NAME[name].kind == "table"
    return name.startswith(("table_", "labels_", "corpus_"))


def expected_outputs(kept_predictions: bool | None = None) -> dict:
    """notebook -> {"figures": [...files], "tables": [...files]} that the smoke run must write.
    ``kept_predictions`` (default: whether the committed paper-settings snapshot keeps them): the
    outputs drawn from the snapshot's per-image predictions are expected too.

    Notebook 99's own outputs and those that need the paper's data file or a separate run are never
    expected.

    Args:
        kept_predictions: expect the outputs drawn from the snapshot's per-image predictions;
            None: whether the committed paper-settings snapshot keeps them.

    Returns:
        Notebook file name -> {"figures": [``<name>.png``, ``<name>.pdf``, ...], "tables":
        [``<name>.csv``, ``<name>.md``, ...]}.
    """
    if kept_predictions is None:
        kept_predictions = kept_predictions_committed()
    skip = REPORT_OUTPUTS | NEEDS_PAPER_DATA | NEEDS_SEPARATE_RUN | (
        set() if kept_predictions else NEEDS_KEPT_PREDICTIONS)
    out = {}
    for nb, claims in CLAIMS.items():
        names = [n for n in claims if n not in skip]
        out[nb] = {"figures": _fig(*[n for n in names if not is_table(n)]),
                   "tables": _tab(*[n for n in names if is_table(n)])}
    return out


def kept_predictions_committed() -> bool:
    """Whether the reported (newest complete) STEM-JV2D paper-settings snapshot keeps per-image predictions.

    Returns:
        True when that snapshot exists and its ``PREDICTIONS`` file has rows.
    """
    found = snapshots.kept("stem_jv2d", "paper")
    return found is not None and len(found.predictions) > 0


def claimed_items() -> dict:
    """Which outputs reproduce each paper item.

    Returns:
        Paper item ("000 Fig. 1") -> [(notebook file name, output name)].
    """
    out: dict = {}
    for nb, claims in CLAIMS.items():
        for name, items in claims.items():
            for it in filter(None, (s.strip() for s in items.split(","))):
                out.setdefault(it, []).append((nb, name))
    return out


def items_table() -> pd.DataFrame:
    """Every numbered figure and table of the papers, with who reproduces it or why none does.

    Returns:
        One row per item (document key, item, "reproduced by" as "NN output; ...", "not reproduced
        because"), in the papers' order.
    """
    claimed = claimed_items()
    rows = []
    for doc, items in PAPER_ITEMS.items():
        for it in items:
            key = f"{doc} {it}"
            if key in claimed:
                rows.append({"document": doc, "item": it,
                             "reproduced by": "; ".join(f"{nb[:2]} {out}" for nb, out in claimed[key]),
                             "not reproduced because": ""})
            else:
                rows.append({"document": doc, "item": it, "reproduced by": "",
                             "not reproduced because": NOT_REPRODUCED.get(key, "")})
    return pd.DataFrame(rows)
