"""STEM image throughput and build memory. Prints figures and records them (reports/benchmarks/);
asserts nothing.

    .venv/bin/python benchmarks/bench_stem.py [--structures 64] [--sizes 512 2048]

1. Images per second on one core for the same structures (offline C2DB-slot corpus):
   a bare jarvis-tools STEMConv call vs our pipeline (simulate + normalise + uint8) vs a
   full single-process store build (adds chunked, atomic writes). Ratios are against
   the bare call, measured in the same run.
2. Peak resident memory (parent and largest worker) while building stores of two sizes
   with the default 2 workers: it must not grow with N.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def corpus(n):
    import numpy as np
    import pandas as pd

    from lattice_utils.data.offline_corpus import class_sequence, generate_block

    rows, _, _ = generate_block("c2db", np.arange(n), class_sequence("c2db", n, 0), seed=0)
    return pd.DataFrame(rows)


def throughput(table):
    import numpy as np
    from jarvis.analysis.stem.convolution_apprx import STEMConv
    from jarvis.core.atoms import Atoms

    from lattice_utils.data import datasets
    from lattice_utils.simulate.stem import StemParams, simulate_stem_image, to_uint8

    p = StemParams()
    atoms = [Atoms.from_dict(a) for a in table["atoms"]]
    n = len(atoms)
    t = time.perf_counter()
    for a in atoms:
        STEMConv(output_size=[p.image_px, p.image_px], power_factor=p.power_factor,
                 gaussian_width=p.gaussian_width, lorentzian_width=p.lorentzian_width,
                 intensity_ratio=p.intensity_ratio).simulate_surface(a, px_scale=p.px_scale, eps=p.eps)
    bare = n / (time.perf_counter() - t)
    t = time.perf_counter()
    for a in atoms:
        to_uint8(simulate_stem_image(a, p))
    ours = n / (time.perf_counter() - t)
    with tempfile.TemporaryDirectory() as tmp:
        from lattice_utils.core import paths

        paths.IMAGES = Path(tmp)
        t = time.perf_counter()
        datasets.build_image_store("bench", table, p, chunk_size=64, workers=1, verbose=False)
        store = n / (time.perf_counter() - t)
    natoms = np.mean([len(a.elements) for a in atoms])
    return bare, ours, store, natoms


def _build_child(n, data_dir, base_json):
    """Run in a fresh process: build an n-image store, report peak RSS (MB)."""
    code = f"""
import json, resource, sys, numpy as np, pandas as pd
sys.path.insert(0, {str(ROOT)!r})
from lattice_utils import datasets
from lattice_utils.simulate.stem import StemParams
base = pd.read_json({str(base_json)!r}, orient='records')
reps = -(-{n} // len(base))
table = pd.concat([base] * reps, ignore_index=True).iloc[:{n}].copy()
table['id'] = [f'b{{i}}' for i in range(len(table))]
datasets.build_image_store('mem', table, StemParams(), chunk_size=256, workers=2, verbose=False)
self_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
child_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps({{'parent_mb': self_mb, 'largest_worker_mb': child_mb}}))
"""
    env = dict(os.environ, LATTICE_DATA_DIR=str(data_dir))
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    res = json.loads(out.stdout.strip().splitlines()[-1])
    res["seconds"] = time.perf_counter() - t
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--structures", type=int, default=64)
    ap.add_argument("--sizes", type=int, nargs=2, default=[512, 2048])
    args = ap.parse_args()
    table = corpus(args.structures)
    bare, ours, store, natoms = throughput(table)
    print(f"STEM throughput on one core, {len(table)} offline structures "
          f"({natoms:.1f} atoms/cell on average), 256 x 256 px at 0.1 A/px:")
    print(f"  bare jarvis STEMConv.simulate_surface : {bare:6.1f} images/s  (ratio 1.00)")
    print(f"  our simulate_stem_image + uint8       : {ours:6.1f} images/s  (ratio {ours / bare:.2f})")
    print(f"  full store build (1 process, chunks)  : {store:6.1f} images/s  (ratio {store / bare:.2f})")
    speed = [{"path": "reference: bare jarvis STEMConv.simulate_surface", "images/s": round(bare, 1), "ratio": 1.0},
             {"path": "simulate_stem_image + normalise + uint8", "images/s": round(ours, 1),
              "ratio": round(ours / bare, 2)},
             {"path": "a whole store build (1 process, chunked atomic writes)", "images/s": round(store, 1),
              "ratio": round(store / bare, 2)}]
    memory = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        table[["id", "atoms"]].to_json(tmp / "base.json", orient="records")
        print("Peak RSS while building an image store (2 workers, 256-image chunks):")
        for n in args.sizes:
            r = _build_child(n, tmp / f"n{n}", tmp / "base.json")
            print(f"  N = {n:6d}: parent {r['parent_mb']:6.0f} MB, largest worker "
                  f"{r['largest_worker_mb']:6.0f} MB, {r['seconds']:.0f} s "
                  f"({n / r['seconds']:.1f} images/s on 2 workers)")
            memory.append({"images N": n, "parent peak MB": round(r["parent_mb"]),
                           "largest worker peak MB": round(r["largest_worker_mb"]), "seconds": round(r["seconds"]),
                           "images/s on 2 workers": round(n / r["seconds"], 1)})
    from lattice_utils.repro.benchmark_results import record

    print("recorded", record("stem", {
        f"One core, {len(table)} offline C2DB-slot structures ({natoms:.1f} atoms per cell on average), "
        "256² px at 0.1 Å/px": speed,
        "Peak resident memory of a store build (2 workers, 256-image chunks)": memory}))


if __name__ == "__main__":
    main()
