"""Smoke run of the notebook chain (profile smoke) in scratch data/output directories.

Two runs from scratch must give byte-identical tables."""
from __future__ import annotations

import filecmp
import os
import subprocess
import sys

import pytest

from lattice_utils import paths

NOTEBOOKS = sorted(paths.NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def _fig(*names):
    return [f"{n}.{ext}" for n in names for ext in ("png", "pdf")]


def _tab(*names):
    return [f"{n}.{ext}" for n in names for ext in ("csv", "md")]


EXPECTED = {
    "01_dataset_generation.ipynb": {
        "figures": _fig("fig1_example_images", "fig2_lattice_histograms"),
        "tables": _tab("table_s3_class_counts", "labels_paper_vs_canonical"),
    },
    "02_model_selection.ipynb": {
        "figures": _fig("table_s1_confusion_matrices"),
        "tables": _tab("table_s1_model_selection"),
    },
    "03_multi_vs_single_output.ipynb": {
        "figures": _fig("table_s2_parity"),
        "tables": _tab("table_s2_multi_vs_single"),
    },
    "04_lattice_regression.ipynb": {
        "figures": _fig("fig3_parity_standard_subset", "figs2_gamma_confusion", "figs3_loss_curves",
                        "figs4_error_histograms_jv2d", "figs5_error_histograms_c2db",
                        "figs6_error_histograms_alex"),
        "tables": _tab("table_1_regression", "table_1_all_subsets", "table_1_bar_check"),
    },
    "05_bravais_classification.ipynb": {
        "figures": _fig("table_2_confusion_matrices"),
        "tables": _tab("table_2_classification"),
    },
    "06_alex_model_comparison.ipynb": {
        "figures": _fig("figs1_alex_googlenet_mlp_parity"),
        "tables": _tab("table_s4_alex_models"),
    },
    "07_chemistry_breakdown.ipynb": {
        "figures": [],
        "tables": _tab("table_s5_chemistry"),
    },
    "08_experimental_inference.ipynb": {
        "figures": _fig("figs7_experimental_inputs"),
        "tables": _tab("table_s6_experimental", "table_s6_paper"),
    },
    "09_xrd_dataset.ipynb": {
        "figures": _fig("xrd_fig1_structures_per_space_group", "xrd_fig2_patterns_of_one_structure",
                        "xrd_figB_axes_stereographic"),
        "tables": _tab("table_09_structures", "table_09_relabelling", "table_09_zone_axes",
                       "table_09_axis_coverage", "table_09_pattern_store"),
    },
    "10_xrd_zone_axis_models.ipynb": {
        "figures": _fig("xrd_fig4_model1_confusion", "xrd_fig7_model4_confusion",
                        "xrd_fig8_model4_per_space_group", "xrd_training_curves"),
        "tables": _tab("table_xrd_2_model1", "table_xrd_3_models234", "table_xrd_bar_check",
                       "table_xrd_fig7_per_system", "table_xrd_fig8_by_group_size",
                       "table_xrd_external_aflow"),
    },
    "11_xrd_symmetry_ambiguity.ipynb": {
        "figures": _fig("xrd_fig5_centrosymmetry", "xrd_fig6_enantiomorphic_pairs"),
        "tables": _tab("table_xrd_fig5_centrosymmetry", "table_xrd_fig6_enantiomorphs"),
    },
    "12_xrd_unseen_zone_axes.ipynb": {
        "figures": _fig("xrd_fig9_unseen_axes"),
        "tables": _tab("table_xrd_d_axis_families", "table_xrd_4_unseen_axes"),
    },
    "13_xrd_perturbations.ipynb": {
        "figures": _fig("xrd_fig10_strain_patterns", "xrd_fig11_substitution_patterns",
                        "xrd_fig12_depletion_bcc", "xrd_fig13_depletion_fcc"),
        "tables": _tab("table_xrd_c_rotation", "table_xrd_5_strain", "table_xrd_6_substitution",
                       "table_xrd_7_8_depletion"),
    },
    "15_rotation_robustness.ipynb": {
        "figures": _fig("fig15_rotation_robustness"),
        "tables": _tab("table_15_robustness"),
    },
    "16_defect_class_averaging.ipynb": {
        "figures": _fig("defects_fig1_detection", "defects_fig2_class_averages", "defects_fig3_ww_distributions",
                        "defects_fig3c_precision_scaling", "defects_fig4_displacement_dilation",
                        "defects_fig5_sv_profile"),
        "tables": _tab("table_16_defect_detection", "table_16_stacks", "table_16_ww_spacing",
                       "table_16_precision_vs_n", "table_16_scaling_slopes", "table_16_displacements"),
    },
    "17_fft_lattice_spacing.ipynb": {
        "figures": _fig("fft_fig1_specimen_windows", "fft_fig2_errors_phases", "fft_fig3_mos2_spacing_map"),
        "tables": _tab("table_17_interplanar_angles", "table_17_spots_phases", "table_17_mos2_spacing"),
    },
    "18_4dstem_hierarchical_clustering.ipynb": {
        "figures": _fig("4dstem_fig1_preprocessing", "4dstem_fig2_hierarchy", "4dstem_fig3_accuracy",
                        "4dstem_fig4_virtual_images"),
        "tables": _tab("table_18_alignment", "table_18_cluster_tree", "table_18_accuracy", "table_18_methods",
                       "table_18_virtual_images"),
    },
    "14_physics_baseline.ipynb": {
        "figures": _fig("fig14_parity_fft_vs_densenet", "fig14_failure_cases", "fig14_degradation"),
        "tables": _tab("table_14_physics_vs_densenet", "table_14_failure_reasons", "table_14_degradation"),
    },
}


def run_chain(out_dir):
    env = dict(os.environ, LATTICE_DATA_DIR=str(out_dir / "data"),
               LATTICE_OUTPUT_DIR=str(out_dir), MPLBACKEND="Agg")
    (out_dir / "executed").mkdir(parents=True, exist_ok=True)
    for nb in NOTEBOOKS:
        cmd = [sys.executable, "-m", "papermill", str(nb), str(out_dir / "executed" / nb.name),
               "--cwd", str(paths.NOTEBOOKS), "-p", "profile", "smoke", "--no-progress-bar"]
        res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
        assert res.returncode == 0, f"{nb.name} failed:\n{res.stderr[-4000:]}"


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    first, second = tmp_path_factory.mktemp("run1"), tmp_path_factory.mktemp("run2")
    run_chain(first)
    run_chain(second)
    return first, second


@pytest.mark.slow
def test_every_notebook_has_a_parameters_cell():
    import nbformat

    for nb in NOTEBOOKS:
        cells = nbformat.read(nb, as_version=4).cells
        tagged = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
        assert len(tagged) == 1, nb.name
        assert "profile" in tagged[0].source


@pytest.mark.slow
def test_smoke_chain_writes_every_claimed_output(two_runs):
    first, _ = two_runs
    for nb, outputs in EXPECTED.items():
        for f in outputs["figures"]:
            assert (first / "figures" / f).stat().st_size > 0, (nb, f)
        for f in outputs["tables"]:
            assert (first / "reports" / "tables" / f).stat().st_size > 0, (nb, f)


@pytest.mark.slow
def test_two_smoke_runs_give_byte_identical_tables(two_runs):
    first, second = two_runs
    t1, t2 = first / "reports" / "tables", second / "reports" / "tables"
    names = sorted(p.name for p in t1.iterdir())
    assert names and names == sorted(p.name for p in t2.iterdir())
    match, mismatch, errors = filecmp.cmpfiles(t1, t2, names, shallow=False)
    assert not mismatch and not errors, mismatch


def test_every_notebook_claims_its_outputs():
    """The manifest above covers exactly the notebooks in notebooks/."""
    assert sorted(EXPECTED) == [nb.name for nb in NOTEBOOKS]
