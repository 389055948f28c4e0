"""``./run_all.sh --profile paper --plan``: what a profile would run (datasets, trainings) and
how long it should take on CPU and on a GPU machine, from the benchmark figures, without running.

CPU rates are the figures measured on this project's 2-core machine (docs/performance.md),
scaled linearly to the cores asked for. GPU rates are assumptions for one modern data-centre GPU
(no GPU was available to measure them); they are printed with the plan so nobody mistakes them."""
from __future__ import annotations

import argparse
import os

from ..core import paths
from ..core.profiles import get_profile
from .publish import last_run

__all__ = ["CPU", "CPU_MEASURED_CORES", "GPU", "plan", "notebook_estimates", "main"]

# measured here (2 cores), per second unless stated; the command that measured each is in docs/performance.md
CPU = {
    "structures_per_core": 10.0,       # XRD PyXtal corpus (low end); the 2D stand-in builds 30-110/s per core
    "stem_images_per_core": 57.0,      # benchmarks/bench_stem.py
    # a CPU with native bf16: 25.2 images/s measured by paper_runs on STEM-JV2D (224 px, batch 16,
    # bf16, channels_last, 2 threads; the median epoch of the 2026-11-30 snapshot); an earlier
    # such machine gave 13.4 in benchmarks/bench_training.py, with inference at 31.8 (x 2.37)
    "densenet_train_224": 25.2,
    "densenet_infer_224": 25.2 * 31.8 / 13.4,
    # a CPU without native bf16 trains in fp32: 4.0 images/s measured by paper_runs on STEM-JV2D
    # (224 px, batch 16, channels_last, 2 threads); inference scaled by the bf16 ratio
    "densenet_train_224_fp32": 4.0,
    "densenet_infer_224_fp32": 4.0 * 31.8 / 13.4,
    "xrd_pattern_ms_per_core": 1.43,   # benchmarks/bench_xrd.py (321 x 322 px, rendering included)
    "xrd_cnn_train_321": 1 / (3 * 0.58),   # forward 0.58 s/image at 321 x 322 px; training ~3x a forward
    "fft_estimate_ms": 35.0,           # benchmarks/bench_fft_lattice.py
    "resunet16_64px_crops": 101.0,     # notebook 16, quick: 1,200 crops x 8 epochs in ~95 s
    "resunet8_128px_windows": 42.0,    # notebook 17, quick: 600 windows x 6 epochs in ~85 s
}
CPU_MEASURED_CORES = 2
# assumed for one data-centre GPU (A100 / H100 class, mixed precision); not measured here
GPU = {"densenet_train_224": 1000.0, "densenet_infer_224": 4000.0,
       "xrd_cnn_train_321": 500.0, "resunet_speedup": 100.0}


def _train_images(profile, slot: str) -> float:
    return 0.8 * profile.corpus_sizes[slot]


def plan(profile_name: str = "paper", cpu_cores: int | None = None, gpu_cores: int = 16) -> list[dict]:
    """One row per notebook group: what runs, and estimated hours on CPU and on a GPU machine.

    CPU hours scale the rates measured on ``CPU_MEASURED_CORES`` cores (``CPU``) to ``cpu_cores``;
    GPU hours use the assumed ``GPU`` rates, with simulation on ``gpu_cores`` CPU cores.

    Args:
        profile_name: the profile (``smoke``, ``quick``, ``paper``).
        cpu_cores: cores of the CPU machine; None: this machine's.
        gpu_cores: CPU cores beside the GPU.

    Returns:
        [{"notebooks": "01", "work": what runs, "trainings": networks trained, "cpu_h": hours,
        "gpu_h": hours}], one per group of notebooks.
    """
    # torch loads only here: --plan answers in a second and runs nothing
    from ..learn.training import resolve_precision

    P = get_profile(profile_name)
    cores = cpu_cores or os.cpu_count() or 2
    k = cores / CPU_MEASURED_CORES
    # the rates of the precision this machine's CPU trains in (auto: bf16 only where native)
    suffix = "" if resolve_precision(P.precision) == "bf16" else "_fp32"
    train_rate, infer_rate = CPU["densenet_train_224" + suffix], CPU["densenet_infer_224" + suffix]
    X, R = P.xrd, P.related
    rows = []
    n_struct = sum(P.corpus_sizes.values())
    rows.append({"notebooks": "01", "work": f"{n_struct:,} 2D structures and STEM images "
                 f"({', '.join(f'{s} {n:,}' for s, n in P.corpus_sizes.items())})",
                 "trainings": 0,
                 "cpu_s": n_struct / (CPU["structures_per_core"] * cores)
                 + n_struct / (CPU["stem_images_per_core"] * cores),
                 "gpu_s": n_struct / (CPU["structures_per_core"] * gpu_cores)
                 + n_struct / (CPU["stem_images_per_core"] * gpu_cores)})
    # unique networks of notebooks 02-07 and 15 (cached and shared between notebooks)
    nets = [("jv2d", 1), ("c2db", 1), ("alex", 1),                 # DenseNet classifiers (02, 05)
            ("jv2d", 0.5), ("c2db", 0.5),                           # GoogLeNet classifiers (02)
            ("jv2d", 1), ("c2db", 1), ("alex", 1),                  # DenseNet a/b/gamma regressors (03, 04)
            ("jv2d", 1), ("jv2d", 1), ("jv2d", 1),                  # single-output DenseNets (03)
            ("alex", 0.5),                                          # GoogLeNet regressor (06)
            ("c2db", 1)]                                            # rotation-augmented DenseNet (15)
    passes = sum(w * _train_images(P, s) * P.epochs[s] for s, w in nets)
    infer = 3 * n_struct                                            # frozen features + test predictions
    rows.append({"notebooks": "02-08, 14-15", "work": f"{len(nets)} networks at {P.input_px} px, "
                 f"{'/'.join(str(P.epochs[s]) for s in ('jv2d', 'c2db', 'alex'))} epochs; "
                 f"{passes:,.0f} DenseNet-equivalent image passes; FFT estimator on the test images",
                 "trainings": len(nets),
                 "cpu_s": passes / (train_rate * k) * (P.input_px / 224) ** 2
                 + infer / (infer_rate * k) + 0.2 * n_struct * CPU["fft_estimate_ms"] / 1e3 / cores,
                 "gpu_s": passes / GPU["densenet_train_224"] * (P.input_px / 224) ** 2
                 + infer / GPU["densenet_infer_224"] + 0.2 * n_struct * CPU["fft_estimate_ms"] / 1e3 / gpu_cores})
    n_groups = len(range(1, 231, X.group_stride))
    n_xrd = X.per_group * n_groups
    patterns = n_xrd * 24
    area = X.image_shape[0] * X.image_shape[1] / (321 * 322)
    xrd_passes = sum(0.7 * n_xrd * n_axes * X.epochs for n_axes in (1, 4, 10, 20))
    rows.append({"notebooks": "09",
                 "work": f"{n_xrd:,} crystals ({X.per_group} per space group), {patterns:,} zone-axis patterns",
                 "trainings": 0,
                 "cpu_s": n_xrd / (CPU["structures_per_core"] * cores)
                 + patterns * CPU["xrd_pattern_ms_per_core"] / 1e3 / cores,
                 "gpu_s": n_xrd / (CPU["structures_per_core"] * gpu_cores)
                 + patterns * CPU["xrd_pattern_ms_per_core"] / 1e3 / gpu_cores})
    rows.append({"notebooks": "10-13",
                 "work": f"models 1-4 ({X.image_shape[0]} x {X.image_shape[1]} px, width {X.width}, "
                 f"hidden {X.hidden}, {X.epochs} epochs): {xrd_passes:,.0f} image passes",
                 "trainings": 4,
                 "cpu_s": xrd_passes / (CPU["xrd_cnn_train_321"] * k) * area * (X.width / 64) ** 2,
                 "gpu_s": xrd_passes / GPU["xrd_cnn_train_321"] * area * (X.width / 64) ** 2})
    seg16 = R.defect_train_crops * R.defect_epochs
    cpu16 = seg16 / (CPU["resunet16_64px_crops"] * k) * (R.defect_crop_px / 64) ** 2 * (R.unet_base / 16) ** 2
    crop17 = R.fft_window_px // 2
    seg17 = R.fft_train_windows * R.fft_epochs
    cpu17 = seg17 / (CPU["resunet8_128px_windows"] * k) * (crop17 / 128) ** 2
    scan = (R.scan_px / 64) ** 2 * (R.detector_px / 64) ** 2 * 23.0 / k
    rows.append({"notebooks": "16-18", "work": f"ResUNets: {R.defect_train_crops:,} crops x {R.defect_epochs} epochs "
                 f"({R.defect_crop_px} px), {R.fft_train_windows:,} FFT windows x {R.fft_epochs} epochs; "
                 f"{R.defect_images} defect images of {R.defect_image_px} px; "
                 f"a {R.scan_px}^2 scan of {R.detector_px}^2 px patterns",
                 "trainings": 2, "cpu_s": cpu16 + cpu17 + scan,
                 "gpu_s": (cpu16 + cpu17) * k / GPU["resunet_speedup"] + scan * k / (gpu_cores / CPU_MEASURED_CORES)})
    for r in rows:
        r["cpu_h"], r["gpu_h"] = r.pop("cpu_s") / 3600, r.pop("gpu_s") / 3600
    return rows


def _group_numbers(label: str) -> set[str]:
    """Notebook numbers of a plan row's label ("02-08, 14-15" -> {"02", ..., "08", "14", "15"})."""
    out = set()
    for part in label.split(","):
        lo, _, hi = part.strip().partition("-")
        out |= {f"{n:02d}" for n in range(int(lo), int(hi or lo) + 1)}
    return out


def notebook_estimates(profile_name: str, notebooks, executed=None, cpu_cores: int | None = None) -> dict:
    """Expected seconds of each notebook (file name): its last successful run at this profile
    (the papermill record in ``executed``) where there is one, else an even share of its plan
    row on this CPU.

    Args:
        profile_name: the profile.
        notebooks: the notebooks (paths or file names).
        executed: the folder of executed notebooks; None: use the plan alone.
        cpu_cores: cores of this CPU; None: this machine's.

    Returns:
        {notebook file name: (seconds, "last run" | "plan")}; a notebook in no plan row gets 30 s.
    """
    from pathlib import Path


    rows = plan(profile_name, cpu_cores)
    names = [Path(nb).name for nb in notebooks]
    groups = [(_group_numbers(r["notebooks"]), r["cpu_h"] * 3600) for r in rows]
    out = {}
    for name in names:
        run = last_run(Path(executed), name) if executed is not None else None
        if run is not None and run["parameters"].get("profile") == profile_name:
            out[name] = (run["seconds"], "last run")
            continue
        share = [sec / len(nums) for nums, sec in groups if name[:2] in nums]
        out[name] = (share[0] if share else 30.0, "plan")
    return out


def _fmt(h: float) -> str:
    if h < 1 / 60:
        return "< 1 min"
    if h < 1:
        return f"{h * 60:.0f} min"
    if h < 48:
        return f"{h:.1f} h"
    return f"{h / 24:.0f} days"


def main(argv=None) -> int:
    """``./run_all.sh --plan``: print the plan of a profile, or with ``--estimates`` each notebook's expected seconds.

    Args:
        argv: the command-line arguments, without the program name; None reads ``sys.argv``.

    Returns:
        The exit status, 0.
    """
    ap = argparse.ArgumentParser(prog="python -m lattice_utils.repro.plan", description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="paper")
    ap.add_argument("--cpu-cores", type=int, default=None, help="cores of the CPU machine (default: this one's)")
    ap.add_argument("--gpu-cores", type=int, default=16, help="CPU cores beside the GPU (simulation runs on them)")
    ap.add_argument("--estimates", nargs="+", metavar="NOTEBOOK",
                    help="print 'notebook seconds source' for each (run_all.sh's progress lines)")
    ap.add_argument("--executed", default=None, help="folder of executed notebooks (their last run times)")
    a = ap.parse_args(argv)
    cores = a.cpu_cores or os.cpu_count() or 2
    if a.estimates:
        for name, (sec, source) in notebook_estimates(a.profile, a.estimates, a.executed, cores).items():
            print(f"{name} {sec:.0f} {source}")
        return 0
    rows = plan(a.profile, cores, a.gpu_cores)
    print(f"Plan for profile '{a.profile}' (nothing is run)\n")
    print(f"| notebooks | what runs | networks trained | CPU, {cores} cores | 1 GPU + {a.gpu_cores} cores |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['notebooks']} | {r['work']} | {r['trainings']} | {_fmt(r['cpu_h'])} | {_fmt(r['gpu_h'])} |")
    print(f"| total | | {sum(r['trainings'] for r in rows)} | {_fmt(sum(r['cpu_h'] for r in rows))} | "
          f"{_fmt(sum(r['gpu_h'] for r in rows))} |")
    # where a run would write: a relative LATTICE_DATA_DIR or LATTICE_OUTPUT_DIR is shown resolved
    print(f"\nData in {paths.DATA}; figures and reports in {paths.OUTPUT}.")
    print("CPU: rates measured on this project's 2-core machine (docs/performance.md), scaled to the cores.")
    print("GPU: ASSUMED rates for one A100/H100-class GPU with mixed precision (not measured here): "
          + ", ".join(f"{k} {v:g}" for k, v in GPU.items()) + ". Simulation stays on the CPU cores.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
