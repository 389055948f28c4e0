"""Which notebook reproduces which numbered figure and table of the papers, and the outputs each
notebook writes. The test suite checks that every numbered item of the papers is claimed or
listed as not reproduced (with the reason), and that the smoke run writes every claimed output."""
from __future__ import annotations

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
    (main paper), Table S1"; a source that starts with no document key is returned as it is."""
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


# notebook -> {output name (no extension) -> the paper items it reproduces ("" for our own additions)}
CLAIMS = {
    "01_dataset_generation.ipynb": {
        "fig1_example_images": "000 Fig. 1", "fig2_lattice_histograms": "000 Fig. 2",
        "table_s3_class_counts": "000 Table S3", "labels_paper_vs_canonical": "",
        "fig1_paper_image_sets": "000 Fig. 1", "corpus_realism": "", "corpus_shortest_distances": "",
        "table_1_baseline_data": "000 Table 1", "labels_symmetry_vs_metric": ""},
    "02_model_selection.ipynb": {"table_s1_confusion_matrices": "000 Table S1", "table_s1_model_selection": "000 Table S1",
                                 "table_s1_paper_settings_seeds": "000 Table S1",
                                 "table_s1_paper_settings_training_curves": "", "table_s1_paper_settings_mcnemar": "",
                                 "table_s1_paper_settings_bootstrap": ""},
    "03_multi_vs_single_output.ipynb": {"table_s2_parity": "000 Table S2", "table_s2_multi_vs_single": "000 Table S2"},
    "04_lattice_regression.ipynb": {
        "fig3_parity_standard_subset": "000 Fig. 3", "figs2_gamma_confusion": "000 Fig. S2", "figs3_loss_curves": "000 Fig. S3",
        "figs4_error_histograms_jv2d": "000 Fig. S4", "figs5_error_histograms_c2db": "000 Fig. S5",
        "figs6_error_histograms_alex": "000 Fig. S6", "table_1_regression": "000 Table 1", "table_1_all_subsets": "000 Table 1",
        "table_1_bar_check": ""},
    "05_bravais_classification.ipynb": {"table_2_confusion_matrices": "000 Table 2", "table_2_classification": "000 Table 2",
                                        "table_05_fft_vs_densenet": "", "table_2_paper_settings_confusion": "000 Table 2",
                                        "table_05_beyond_the_paper": "", "beyond_the_paper_accuracy": ""},
    "06_alex_model_comparison.ipynb": {"figs1_alex_googlenet_mlp_parity": "000 Fig. S1", "table_s4_alex_models": "000 Table S4"},
    "07_chemistry_breakdown.ipynb": {"table_s5_chemistry": "000 Table S5"},
    "08_experimental_inference.ipynb": {"figs7_experimental_inputs": "000 Fig. S7", "table_s6_experimental": "000 Table S6",
                                        "table_s6_paper": "000 Table S6", "table_08_real_image_grains": "",
                                        "fig08_real_grain_maps": "", "table_08_hard_cases": "",
                                        "fig08_hard_cases": ""},
    "09_xrd_dataset.ipynb": {
        "xrd_fig1_structures_per_space_group": "004 Fig. 1", "xrd_fig2_patterns_of_one_structure": "004 Fig. 2",
        "xrd_figB_axes_stereographic": "004 Fig. B", "table_09_structures": "004 Fig. 1", "table_09_relabelling": "",
        "table_09_zone_axes": "004 Table 1", "table_09_axis_coverage": "004 Fig. B", "table_09_pattern_store": ""},
    "10_xrd_zone_axis_models.ipynb": {
        "xrd_fig4_model1_confusion": "004 Fig. 4, 004 Fig. C, 004 Fig. D", "xrd_fig7_model4_confusion": "004 Fig. 7",
        "xrd_fig8_model4_per_space_group": "004 Fig. 8", "xrd_training_curves": "",
        "table_xrd_2_model1": "004 Table 2", "table_xrd_3_models234": "004 Table 3", "table_xrd_bar_check": "",
        "table_xrd_fig7_per_system": "004 Fig. 7", "table_xrd_fig8_by_group_size": "004 Fig. 8",
        "table_xrd_external_aflow": ""},
    "11_xrd_symmetry_ambiguity.ipynb": {
        "xrd_fig5_centrosymmetry": "004 Fig. 5", "xrd_fig6_enantiomorphic_pairs": "004 Fig. 6, 004 Fig. F",
        "table_xrd_fig5_centrosymmetry": "004 Fig. 5", "table_xrd_fig6_enantiomorphs": "004 Fig. 6, 004 Fig. F"},
    "12_xrd_unseen_zone_axes.ipynb": {"xrd_fig9_unseen_axes": "004 Fig. 9", "table_xrd_d_axis_families": "004 Table D",
                                      "table_xrd_4_unseen_axes": "004 Table 4"},
    "13_xrd_perturbations.ipynb": {
        "xrd_fig10_strain_patterns": "004 Fig. 10", "xrd_fig11_substitution_patterns": "004 Fig. 11",
        "xrd_fig12_depletion_bcc": "004 Fig. 12", "xrd_fig13_depletion_fcc": "004 Fig. 13",
        "table_xrd_c_rotation": "004 Table C", "table_xrd_5_strain": "004 Table 5", "table_xrd_6_substitution": "004 Table 6",
        "table_xrd_7_8_depletion": "004 Table 7, 004 Table 8"},
    "14_physics_baseline.ipynb": {"fig14_parity_fft_vs_densenet": "", "fig14_failure_cases": "", "fig14_degradation": "",
                                  "table_14_physics_vs_densenet": "", "table_14_failure_reasons": "",
                                  "table_14_degradation": ""},
    "15_rotation_robustness.ipynb": {"fig15_rotation_robustness": "", "table_15_robustness": ""},
    "16_defect_class_averaging.ipynb": {
        "defects_fig1_detection": "001 Fig. 1", "defects_fig2_class_averages": "001 Fig. 2",
        "defects_fig3_ww_distributions": "001 Fig. 3", "defects_fig3c_precision_scaling": "001 Fig. 3, 001 Fig. S5",
        "defects_fig4_displacement_dilation": "001 Fig. 4, 001 Fig. 5", "defects_fig5_sv_profile": "001 Fig. 5",
        "table_16_defect_detection": "001 Table S2", "table_16_stacks": "001 Fig. 2", "table_16_ww_spacing": "001 Fig. 3",
        "table_16_precision_vs_n": "001 Fig. 3, 001 Fig. S5", "table_16_scaling_slopes": "001 Fig. 3",
        "table_16_displacements": "001 Fig. 4, 001 Fig. 5"},
    "17_fft_lattice_spacing.ipynb": {
        "fft_fig1_specimen_windows": "002 Fig. S4", "fft_fig2_errors_phases": "", "fft_fig3_mos2_spacing_map": "002 Fig. S2",
        "table_17_interplanar_angles": "", "table_17_spots_phases": "", "table_17_mos2_spacing": "002 Fig. S2"},
    "18_4dstem_hierarchical_clustering.ipynb": {
        "4dstem_fig1_preprocessing": "003 Supplementary Fig. 1, 003 Supplementary Fig. 2, 003 Supplementary Fig. 3",
        "4dstem_fig2_hierarchy": "003 Fig. 1, 003 Fig. 2", "4dstem_fig3_accuracy": "003 Fig. 2, 003 Supplementary Fig. 17",
        "4dstem_fig4_virtual_images": "003 Fig. 5", "table_18_alignment": "003 Supplementary Fig. 1",
        "table_18_cluster_tree": "003 Fig. 2, 003 Supplementary Fig. 5", "table_18_accuracy": "003 Supplementary Table 1",
        "table_18_methods": "003 Supplementary Table 1, 003 Supplementary Fig. 4", "table_18_virtual_images": "003 Fig. 5"},
    "99_reproduction_report.ipynb": {"reproduction_report": "", "reproduction_checks": ""},
}

NOT_REPRODUCED = {
    "004 Fig. 3": "a drawing of the CNN's architecture; the network itself is lattice_utils.xrd.model.XrdCNN",
    "004 Fig. A": "an illustration of how the 230 space groups fall into the seven crystal systems (lattice_utils.xrd.symmetry)",
    "004 Fig. E": "model-1's 230 x 230 space-group confusion matrices are not drawn; Table 2 gives its space-group accuracy",
    "004 Fig. J": "per-space-group accuracy of models 2-3 on every test set: only model-4 is drawn (Fig. 8)",
    "004 Fig. K": "per-space-group accuracy on the unseen axes is not drawn; Table 4 gives the totals",
    "004 Fig. V": "example pattern pairs of enantiomorphic / centrosymmetric counterparts: notebook 11 checks that they are identical",
    "001 Fig. S1": "a drawing of the ResUNet (lattice_utils.related.unet.ResUNet)",
    "001 Fig. S11": "the same ResUNet drawing, cited as Figure S11 in the text",
    "001 Fig. S2": "the training crops are generated in code (defects.training_set), not shown",
    "001 Fig. S3": "training curves of the four FCNs; notebook 16 trains one five-class network and logs its loss",
    "001 Fig. S4": "a drawing of the bootstrap procedure",
    "001 Fig. S6": "strain and rotation components of the SV field: notebook 16 shows the dilation only",
    "001 Fig. S7": "DFT strain fields: no DFT here (the simulated truth stands in)",
    "001 Table S1": "the document's Computem simulation parameters: ours are lattice_utils.related.defect_specimen.Conditions",
    "002 Fig. S1": "crystallinity against defocus needs a contrast-transfer model of HRTEM, which the convolution images lack",
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


# figures whose names start like tables (the paper's tables drawn as confusion matrices / parity plots)
FIGURES_NAMED_AFTER_TABLES = {"table_s1_confusion_matrices", "table_s2_parity", "table_2_confusion_matrices",
                              "table_s1_paper_settings_seeds", "table_s1_paper_settings_training_curves",
                              "table_2_paper_settings_confusion"}
# notebook 99's own outputs (reports/site/reproduction.md and the table of every comparison): checked on their own
REPORT_OUTPUTS = {"reproduction_report", "reproduction_checks"}
# written only when the paper's own data file is in data/raw/ (the smoke run has none)
NEEDS_PAPER_DATA = {"fig1_paper_image_sets"}
# written from the committed paper-settings snapshot's per-image predictions (every run writes them
# once the snapshot keeps them: ``kept_predictions_committed``), and its training curves
NEEDS_KEPT_PREDICTIONS = {"table_s1_paper_settings_training_curves", "table_s1_paper_settings_mcnemar",
                          "table_s1_paper_settings_bootstrap", "table_2_paper_settings_confusion",
                          "table_05_beyond_the_paper", "beyond_the_paper_accuracy"}


def is_table(name: str) -> bool:
    return name.startswith(("table_", "labels_", "corpus_")) and name not in FIGURES_NAMED_AFTER_TABLES


def expected_outputs(kept_predictions: bool | None = None) -> dict:
    """notebook -> {"figures": [...files], "tables": [...files]} that the smoke run must write.
    ``kept_predictions`` (default: whether the committed paper-settings snapshot keeps them): the
    outputs drawn from the snapshot's per-image predictions are expected too."""
    if kept_predictions is None:
        kept_predictions = kept_predictions_committed()
    skip = REPORT_OUTPUTS | NEEDS_PAPER_DATA | (set() if kept_predictions else NEEDS_KEPT_PREDICTIONS)
    out = {}
    for nb, claims in CLAIMS.items():
        names = [n for n in claims if n not in skip]
        out[nb] = {"figures": _fig(*[n for n in names if not is_table(n)]),
                   "tables": _tab(*[n for n in names if is_table(n)])}
    return out


def kept_predictions_committed() -> bool:
    """Whether the newest committed STEM-JV2D paper-settings snapshot keeps per-image predictions."""
    from . import reproduction      # the manifest stays a list of names for every other reader

    found = reproduction.kept("stem_jv2d", "paper")
    return found is not None and len(found.predictions) > 0


def claimed_items() -> dict:
    """paper item ("000 Fig. 1") -> [(notebook, output)]."""
    out: dict = {}
    for nb, claims in CLAIMS.items():
        for name, items in claims.items():
            for it in filter(None, (s.strip() for s in items.split(","))):
                out.setdefault(it, []).append((nb, name))
    return out
