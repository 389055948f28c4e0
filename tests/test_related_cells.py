"""Known answers of the functions that notebooks 16-18 call for the numbers their tables report
(moved there from the notebooks' cells): tiny inputs, no training."""
from __future__ import annotations

from types import SimpleNamespace

import matplotlib
import numpy as np
import pandas as pd
import pytest

from lattice_utils.related import defect_specimen as DS
from lattice_utils.related import defect_study as DST
from lattice_utils.related import defects as D
from lattice_utils.related import fft_study as FS
from lattice_utils.related import fft_windows as F
from lattice_utils.related import fourdstem as Q
from lattice_utils.related import heterojunction as H
from lattice_utils.related.wse2 import A_WSE2, CONTENTS

matplotlib.use("Agg")

HALF = 40          # window half-width (px), as notebook 16


# ------------------------------------------------------------------ notebook 16

@pytest.fixture(scope="module")
def clean_windows():
    """Windows of a defect-free, noise-free WSe2 image centred on chalcogen sites near its middle."""
    spec = DS.make_specimen((200, 200), seed=1, te_fraction=0.0, sv=0.0, dv=0.0)
    image = DS.clean_image(spec)
    middle = np.array([100, 100]) * spec.px
    sites = spec.x_ideal[np.argsort(np.hypot(*(spec.x_ideal - middle).T))[:6]]
    windows, kept = D.cut_windows(image, sites, spec.px, HALF)
    assert len(kept) == 6
    return windows, spec.px


def test_single_window_spacings_of_a_perfect_lattice_are_its_spacing(clean_windows):
    windows, px = clean_windows
    single = DST.single_window_spacings({"2Se": windows, "SeTe": windows[:2]}, px, HALF, max_windows=4)
    assert list(single) == ["2Se", "SeTe"]
    assert len(single["2Se"]) == 4 and len(single["SeTe"]) == 2
    assert np.allclose(single["2Se"], 100 * A_WSE2, atol=1.0)           # pm
    assert DST.ww_spacing_pm(windows[0], px, HALF) == pytest.approx(single["2Se"][0])


def test_bootstrap_spacings_resample_each_class_in_contents_order(clean_windows):
    windows, px = clean_windows
    boot = DST.bootstrap_spacings({"SV": windows[:1], "2Se": windows[:3]}, px, HALF, resamples=5, seed=0)
    assert list(boot) == ["2Se", "SV"]                      # the order of CONTENTS
    assert len(boot["2Se"]) == 5 and len(boot["SV"]) == 1   # one window: one resample
    assert np.allclose(boot["2Se"], 100 * A_WSE2, atol=1.0)


def test_ww_spacing_table_gives_truth_strain_and_the_document_values():
    stacks = {"2Se": np.zeros((4, 3, 3)), "2Te": np.zeros((2, 3, 3)), "SeTe": np.zeros((3, 3, 3)),
              "SV": np.zeros((0, 3, 3)), "DV": np.zeros((0, 3, 3))}
    single = {"2Se": np.array([329.0, 331.0]), "SeTe": np.array([330.0, np.nan, 334.0])}
    boot = {"2Se": np.array([330.0, 330.0]), "2Te": np.array([333.3, 333.3]), "SeTe": np.array([331.0])}
    document = {f"ww_single_{c}": 1.0 for c in ("2Se", "SeTe")} | {f"ww_single_{c}_sd": 2.0 for c in ("2Se", "SeTe")}
    document |= {f"ww_avg_{c}": 3.0 for c in ("2Se", "SeTe")} | {f"ww_avg_{c}_sd": 4.0 for c in ("2Se", "SeTe")}
    document |= {f"strain_{c}": 5.0 for c in CONTENTS[1:]}
    table = DST.ww_spacing_table(stacks, single, boot, document).set_index("class")
    assert list(table.index) == list(CONTENTS)
    assert table.loc["2Se", "true W-W (pm)"] == pytest.approx(330.0)
    assert table.loc["2Te", "true W-W (pm)"] == pytest.approx(330.0 * (1 + DS.STRAIN["2Te"]))
    assert table.loc["SeTe", "single mean (pm)"] == pytest.approx(332.0)      # NaN ignored
    assert table.loc["2Se", "single std (pm)"] == pytest.approx(1.0)
    assert table.loc["2Te", "strain (%)"] == pytest.approx(1.0)
    assert np.isnan(table.loc["SV", "strain (%)"]) and np.isnan(table.loc["SV", "average mean (pm)"])
    assert table.loc["DV", "true strain (%)"] == pytest.approx(100 * DS.STRAIN["DV"])
    assert table.loc["SeTe", "document bootstrap std (pm)"] == 4.0 and table.loc["SV", "document strain (%)"] == 5.0
    assert list(table.loc["2Se", ["windows"]]) == [4]


def test_precision_vs_n_of_identical_windows_gains_nothing(clean_windows):
    windows, px = clean_windows
    reference = np.repeat(windows[:1], 8, axis=0)
    scaling = DST.precision_vs_n(reference, px, HALF, np.random.default_rng(0), repeats=2)
    assert list(scaling.N) == [1, 2, 3, 4, 6, 8]             # unique int(geomspace(1, 8, 9))
    assert np.allclose(scaling["SNR gain"], 1.0)
    assert np.allclose(scaling["precision (pm)"], scaling["precision (pm)"].iloc[0])
    assert scaling["precision (pm)"].iloc[0] < 1.0           # a perfect lattice: sub-pm spread


def test_scaling_slopes_of_exact_power_laws():
    n = np.array([1, 4, 16])
    scaling = pd.DataFrame({"N": n, "precision (pm)": 10 / np.sqrt(n), "SNR gain": np.sqrt(n)})
    document = {"precision_slope": -0.5, "snr_slope": 0.5, "precision_gain_437": 21.0}
    slopes = DST.scaling_slopes(scaling, document)
    assert list(slopes.columns) == ["quantity", "fitted log-log slope", "document"]
    assert slopes["fitted log-log slope"].tolist() == pytest.approx([-0.5, 0.5, 4.0])
    assert slopes["quantity"].iloc[2] == "precision gain at N = 16"
    assert slopes["document"].tolist() == [-0.5, 0.5, 21.0]


def test_displacement_table_of_an_undisplaced_average_measures_zero(clean_windows):
    windows, px = clean_windows
    average = {"2Se": windows[0], "2Te": windows[0].copy()}
    stacks = {"2Se": windows, "2Te": windows[:2], "SeTe": windows[:1], "SV": windows[:0], "DV": windows[:0]}
    table, fields = DST.displacement_table(average, stacks, px, HALF)
    table = table.set_index("class")
    assert list(table.index) == ["2Te", "SeTe", "SV", "DV"] and list(fields) == ["2Te"]
    columns, truth, fit, maps = fields["2Te"]
    assert np.allclose(columns[["ux", "uy"]], 0) and np.allclose(fit, 0)
    assert table.loc["2Te", "C fitted (Å²)"] == pytest.approx(0.0, abs=1e-12)
    assert table.loc["2Te", "C true (Å²)"] == pytest.approx(DS.FIELDS["2Te"].C)
    assert table.loc["2Te", "RMS displacement error (pm)"] == pytest.approx(100 * np.sqrt(np.mean(truth ** 2)))
    assert table.loc["2Te", "largest true displacement (pm)"] == pytest.approx(100 * np.abs(truth).max())
    assert table.loc["SeTe", "note"] == "fewer than 2 windows: no class average"
    assert table.loc["SV", "windows"] == 0
    assert set(maps) == {"measured", "truth", "Eshelby fit"} and maps["truth"].shape == (101, 101)


def test_draw_displacement_maps_fills_a_column_of_four_axes(clean_windows):
    import matplotlib.pyplot as plt
    from matplotlib.image import AxesImage

    windows, px = clean_windows
    _, fields = DST.displacement_table({"2Se": windows[0], "2Te": windows[0]},
                                       {"2Se": windows, "2Te": windows[:2]} | {c: windows[:0] for c in CONTENTS[2:]},
                                       px, HALF)
    fig, ax = plt.subplots(4, 1)
    image = DST.draw_displacement_maps(ax, "2Te", windows[0], fields["2Te"], px, HALF, 40)
    assert isinstance(image, AxesImage) and image.axes is ax[3]
    assert ax[0].get_title() == "2Te: displacement x40" and len(ax[0].collections) == 2     # two quivers
    assert [a.get_title() for a in ax[1:]] == ["2Te: dilation, measured", "2Te: dilation, truth",
                                               "2Te: dilation, Eshelby fit"]
    assert ax[1].images[0].get_extent() == [-5.0, 5.0, -5.0, 5.0]
    plt.close(fig)


# ------------------------------------------------------------------ notebook 17

def test_real_spacing_summary_counts_windows_and_medians():
    spacings = pd.DataFrame({"row": [0, 0, 128], "col": [0, 128, 0], "spots": [4, 6, 0],
                             "spacing (Å)": [2.70, 2.74, np.nan], "error (pm)": [-3.7, 0.3, np.nan]})
    summary = FS.real_spacing_summary(spacings, "test image", 2.737)
    row = summary.iloc[0]
    assert len(summary) == 1 and row["image"] == "test image"
    assert row["windows"] == 3 and row["windows with {100} spots"] == 2
    assert row["median spacing (pm)"] == pytest.approx(272.0)
    assert row["spread across windows, std (pm)"] == pytest.approx(100 * np.std([2.70, 2.74], ddof=1))
    assert row["expected {100} (pm)"] == pytest.approx(273.7)
    assert row["median error (pm)"] == pytest.approx(-1.7)


def test_example_window_picks_the_crystal_window_with_most_spots():
    yy, xx = np.mgrid[0:128, 0:128]
    image = np.zeros((128, 128))
    image[64:, 64:] = np.cos(2 * np.pi * xx[64:, 64:] / 8)            # a fringe period of 8 px, lower right
    specimen = SimpleNamespace(image=image)
    rows = pd.DataFrame({"specimen": [0, 0, 0, 0, 1], "row": [0, 0, 64, 64, 64], "col": [0, 0, 64, 64, 64],
                         "method": ["plain peaks", "ResUNet", "plain peaks", "ResUNet", "ResUNet"],
                         "true phase": [None, "Au", "Au", "Au", "Au"], "true spots": [0, 2, 9, 6, 12]})
    pick, spectrum, peaks = FS.example_window(specimen, rows, 64, 32)
    assert pick.name == 3                                       # specimen 0, ResUNet, the most true spots
    assert spectrum.shape == (32, 32) and spectrum.dtype == np.float32
    assert np.array_equal(spectrum, F.log_spectrum(image[64:, 64:], 32))
    assert np.allclose(sorted(map(tuple, peaks)), [(-8, 0), (8, 0)], atol=0.05)    # 64 px / 8 px per fringe
    none = rows.assign(**{"true phase": None})
    assert FS.example_window(specimen, none, 64, 32)[0].name == 0     # no crystal window: the first row


# ------------------------------------------------------------------ notebook 18

@pytest.fixture(scope="module")
def tiny_scan():
    """4 x 4 probe positions, 32 px detector: a 3 x 3 px beam at the centre, one pixel right in the
    right half of the scan; a spot 10 px right of the beam in the upper half."""
    data = np.zeros((4, 4, 32, 32), np.float32)
    for i in range(4):
        for j in range(4):
            dx = 1 if j >= 2 else 0
            data[i, j, 15:18, 15 + dx:18 + dx] = 100
            if i >= 2:
                data[i, j, 16, 26 + dx] = 50
    return data


def test_preprocess_aligns_the_beam_and_keeps_the_varying_pixels(tiny_scan):
    pre = Q.preprocess(tiny_scan, radius=4.0, tol=0.01, share=0.3)
    assert np.allclose(pre.com_before[:, :2], [16, 16]) and np.allclose(pre.com_before[:, 2:], [17, 16])
    assert pre.max_shift == pytest.approx(1.0)
    assert pre.passes[0] == pytest.approx((0.5, 0.5)) and pre.passes[-1] == pytest.approx((0.0, 0.0), abs=1e-6)
    assert np.allclose(pre.aligned[:, :, 15:18, 15:18], 100)
    assert (pre.r_in, pre.r_out) == (8.0, 14.0)        # twice the beam's half-max radius (2) + 4; 16 - 1 - 1
    assert np.array_equal(pre.mask, Q.ring_mask((32, 32), 8.0, 14.0))
    assert not (pre.selected & ~pre.mask).any() and pre.selected[16, 26]
    assert pre.features.shape == (16, int(pre.selected.sum()))
    spot = np.flatnonzero(pre.selected.ravel()).tolist().index(16 * 32 + 26)      # its feature column
    assert pre.features[:, spot].tolist() == pytest.approx([0] * 8 + [50] * 8)
    assert np.allclose(pre.detector_std, pre.aligned.reshape(-1, 32, 32).std(0))


def test_alignment_table_numbers_the_passes():
    table = Q.alignment_table([(0.5, 0.25), (0.0, 0.0)])
    assert list(table.columns) == ["pass", "CoM std (px)", "mean offset (px)"]
    assert table.values.tolist() == [[0, 0.5, 0.25], [1, 0.0, 0.0]]


def _tree() -> Q.Node:
    """Root: a class-1 cluster split in two (indices 0-5) and a class-0 leaf (6-9)."""
    a1, a2 = Q.Node("1.1", np.arange(0, 3), 2), Q.Node("1.2", np.arange(3, 6), 2)
    a = Q.Node("1", np.arange(0, 6), 1, k=2, children=[a1, a2])
    b = Q.Node("2", np.arange(6, 10), 1)
    return Q.Node("", np.arange(10), 0, k=2, children=[a, b])


TRUTH = np.array([1] * 6 + [0] * 4)


def test_tree_table_lists_every_node_depth_first_with_its_truth():
    table = Q.tree_table(_tree(), TRUTH, ("background", "WS2", "WSe2"))
    assert table["cluster"].tolist() == ["all", "1", "1.1", "1.2", "2"]
    assert table["K chosen"].tolist() == [2, 2, 1, 1, 1]
    assert table["positions"].tolist() == [10, 6, 3, 3, 4]
    assert table["truth WS2"].tolist() == [6, 6, 3, 3, 0]
    assert table["truth background"].tolist() == [4, 0, 0, 0, 4]
    assert table["truth WSe2"].tolist() == [0] * 5


def test_rotation_split_scores_the_class_nodes_children_against_the_sign():
    rotation = np.array([0.5, 0.2, 0.9, -0.3, -0.1, -0.8, 0, 0, 0, 0])
    split = Q.rotation_split(_tree(), TRUTH, rotation, 1)
    assert split.node.name == "1" and split.indices.tolist() == list(range(6))
    assert split.target.tolist() == [1, 1, 1, 0, 0, 0]
    assert split.labels.tolist() == [0, 0, 0, 1, 1, 1, -1, -1, -1, -1]
    assert split.accuracy == pytest.approx(100.0)
    leaf = Q.Node("", np.arange(10), 0)                          # nothing split: the larger sign's share
    rotation[0] = -0.5
    assert Q.rotation_split(leaf, TRUTH, rotation, 1).accuracy == pytest.approx(100 * 4 / 6)


def test_ripple_split_labels_children_by_their_majority():
    ripple = np.array([0, 0, 1, 2, 2, 2, 0, 0, 0, 0])
    split = Q.ripple_split(_tree(), TRUTH, ripple, 1)
    assert split.node.name == "1" and split.target.tolist() == [0, 0, 1, 2, 2, 2]
    assert split.accuracy == pytest.approx(100 * 5 / 6)          # child 1.1 called 0, child 1.2 called 2
    leaf = Q.Node("", np.arange(10), 0)
    assert Q.ripple_split(leaf, TRUTH, ripple, 1).accuracy == pytest.approx(100 * 3 / 6)


def test_restart_accuracies_of_two_clear_blobs_are_all_perfect():
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(0, 0.1, (20, 2)), rng.normal(10, 0.1, (20, 2))])
    target = np.repeat([0, 1], 20)
    runs = Q.restart_accuracies(X, target, 4)
    assert runs.shape == (4,) and np.allclose(runs, 100.0)


def test_accuracy_summary_puts_ours_beside_the_document():
    tree = _tree()
    rotation = Q.SplitScore(tree.children[0], np.arange(6), np.zeros(6, int), np.full(10, -1), 91.0)
    ripple = Q.SplitScore(tree.children[0], np.arange(6), np.zeros(6, int), np.full(10, -1), 55.0)
    document = {"kmeans_discrete": 98, "kmeans_discrete_table": 99.1, "kmeans_continuous": 90,
                "kmeans_continuous_table": 92.5, "kmeans_runs_above_75": 35}
    table = Q.accuracy_summary(97.5, rotation, ripple, np.array([70.0, 80.0, 90.0, 60.0]), document)
    assert table["ours"].tolist() == pytest.approx([97.5, 91.0, 55.0, 50.0, 75.0])
    assert table["document"].iloc[0] == "> 98 (text); 99.1 (Results)"
    assert "(2 sub-clusters; majority labels, %)" in table["measure"].iloc[2]
    assert table["measure"].iloc[3] == "K-means restarts above 75 % on the rotation (4 runs, %)"
    assert table["document"].iloc[3] == "35 (100 runs, SI Fig. 17)"


def test_virtual_image_correlations_match_the_truth_regions():
    truth = np.array([[0, 0, 1], [0, 2, 1], [2, 2, 1]])
    images = np.stack([(truth == 1).astype(float), 3.0 * (truth == 2) + 1])
    cluster_map = np.array([[-1, 0, 0], [1, 1, 1], [-1, -1, 1]])
    table = Q.virtual_image_correlations(cluster_map, images, truth, ("background", "WS2", "WSe2"))
    assert table["virtual image"].tolist() == [0, 1] and table["detector pixels"].tolist() == [2, 4]
    assert table["r with WS2"].tolist() == pytest.approx([1.0, -0.5])
    assert table["r with WSe2"].iloc[1] == pytest.approx(1.0)


def test_ripple_truth_groups_by_tilt_size_and_direction():
    tilt_deg = 8.0
    big = np.radians(tilt_deg)
    angles = np.radians([0.0, 120.0, 240.0, 350.0])
    tilt = np.zeros((2, 3, 2))
    tilt[0, :, 0], tilt[0, :, 1] = big * np.cos(angles[:3]), big * np.sin(angles[:3])
    tilt[1, 0] = big * np.cos(angles[3]), big * np.sin(angles[3])
    tilt[1, 1] = 0.4 * big, 0.0                                         # below half the tilt: flat
    scan = H.Scan(np.zeros((2, 3, 2, 2), np.float32), np.zeros((2, 3), int), np.zeros((2, 3)), tilt,
                  H.ScanSpec(tilt_deg=tilt_deg))
    assert H.ripple_truth(scan).tolist() == [1, 2, 3, 1, 0, 0]
