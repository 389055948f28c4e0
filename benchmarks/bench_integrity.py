"""What the integrity checks cost. Prints figures and records them (reports/benchmarks/); asserts
nothing.

    .venv/bin/python benchmarks/bench_integrity.py [--chunks 8] [--repeats 5]

1. Reading an image store: every chunk memory-mapped and its CRC-32 checked against the
   manifest (what ``ImageStore`` does on a chunk's first read) vs memory-mapping and touching
   every byte without a check (the reference). Chunks of 256 images of 256 x 256 px, as the
   paper profile writes them, in the page cache.
2. Loading DenseNet121 weights (the model of ``predict --method cnn``): ``storage.load_torch``
   (weights_only=True plus the numpy allow-list) vs ``torch.load(weights_only=False)``.
Ratios are against the reference, measured in the same run.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def store_read(n_chunks: int, repeats: int) -> list[dict]:
    import numpy as np

    from lattice_utils.core import storage

    with tempfile.TemporaryDirectory() as d:
        rng = np.random.default_rng(0)
        files, sums = [], []
        for c in range(n_chunks):
            arr = rng.integers(0, 255, (256, 256, 256), dtype=np.uint8)
            files.append(storage.save_npy(Path(d) / f"chunk-{c:05d}.npy", arr))
            sums.append(storage.checksum(arr))

        def plain():
            for f in files:
                int(np.load(f, mmap_mode="r").sum(dtype=np.uint64))

        def checked():
            for f, s in zip(files, sums):
                arr = np.load(f, mmap_mode="r")
                assert storage.checksum(arr) == s
                int(arr.sum(dtype=np.uint64))

        plain()
        t_plain, t_checked = best_of(plain, repeats), best_of(checked, repeats)
        gb = n_chunks * 256 ** 3 / 1e9
        print(f"store read, {n_chunks} chunks ({gb:.2f} GB): plain {gb / t_plain:.2f} GB/s, "
              f"with CRC-32 {gb / t_checked:.2f} GB/s, ratio {t_checked / t_plain:.2f}x")
        t_crc = best_of(lambda: [storage.checksum(np.load(f, mmap_mode="r")) for f in files], repeats)
        print(f"CRC-32 alone: {gb / t_crc:.2f} GB/s")
    return [{"read": f"reference: memory-mapped, every byte touched ({n_chunks} chunks, {gb:.2f} GB)",
             "GB/s": round(gb / t_plain, 2), "time ratio": 1.0},
            {"read": "ImageStore's first read: the same plus the CRC-32 check", "GB/s": round(gb / t_checked, 2),
             "time ratio": round(t_checked / t_plain, 2)},
            {"read": "the CRC-32 alone", "GB/s": round(gb / t_crc, 2), "time ratio": round(t_crc / t_plain, 2)}]


def weights_load(repeats: int) -> list[dict]:
    import torch

    from lattice_utils.core import storage
    from lattice_utils.learn.models import build_network

    net = build_network("densenet121", 3)
    with tempfile.TemporaryDirectory() as d:
        path = storage.save_torch(Path(d) / "final.pt", {"model": net.state_dict(), "history": [],
                                                          "target_mean": [3.0, 3.0, 100.0]})
        t_unsafe = best_of(lambda: torch.load(path, map_location="cpu", weights_only=False), repeats)
        t_safe = best_of(lambda: storage.load_torch(path, required=("model",)), repeats)
        mb = path.stat().st_size / 1e6
        print(f"DenseNet121 weights ({mb:.0f} MB): weights_only=False {1e3 * t_unsafe:.0f} ms, "
              f"storage.load_torch {1e3 * t_safe:.0f} ms, ratio {t_safe / t_unsafe:.2f}x")
    return [{"load": f"reference: torch.load(weights_only=False), {mb:.0f} MB", "ms": round(1e3 * t_unsafe),
             "time ratio": 1.0},
            {"load": "storage.load_torch (weights_only=True, allow-list, checks)", "ms": round(1e3 * t_safe),
             "time ratio": round(t_safe / t_unsafe, 2)}]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--chunks", type=int, default=8)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    from lattice_utils.repro.benchmark_results import record

    store = store_read(args.chunks, args.repeats)
    weights = weights_load(args.repeats)
    print("recorded", record("integrity", {"Image store, chunks of 256 images of 256² px, from the page cache":
                                           store, "DenseNet121 weights": weights},
                             notes=[f"best of {args.repeats} repeats; one thread (OMP_NUM_THREADS=1)"]))


if __name__ == "__main__":
    main()
