"""DenseNet121 training and inference throughput on this machine, and whether bf16 keeps
accuracy. Prints figures and records them (reports/benchmarks/); asserts nothing.

    .venv/bin/python benchmarks/bench_training.py [--px 224] [--steps 4] [--accuracy]

1. Training images/s (Adam, batch 16, 3 regression outputs) at --px: naive fp32 (NCHW) vs
   channels_last fp32 vs channels_last + bf16 autocast (the path `precision="auto"` picks on
   CPUs with native bf16), and inference images/s (batch 64) for the same three. Ratios are
   against naive fp32 in the same run.
2. --accuracy: trains the quick-profile JV2D regressor in fp32 and compares its test MAE with
   the bf16 model (from the cache of notebook 03/04, trained if missing): bf16 is used only
   if it does not cost accuracy.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def throughput(px: int, steps: int):
    import torch

    from lattice_utils.learn.models import build_network

    modes = [("fp32 NCHW (naive)", False, None), ("fp32 channels_last", True, None),
             ("bf16 channels_last", True, torch.bfloat16)]
    rows = []
    for name, cl, dtype in modes:
        torch.manual_seed(0)
        model = build_network("densenet121", 3)
        x, y = torch.randn(16, 3, px, px), torch.randn(16, 3)
        if cl:
            model = model.to(memory_format=torch.channels_last)
            x = x.contiguous(memory_format=torch.channels_last)
        opt = torch.optim.Adam(model.parameters(), 1e-3)

        def step():
            opt.zero_grad()
            with torch.autocast("cpu", dtype=dtype or torch.float32, enabled=dtype is not None):
                out = model(x)
            torch.nn.functional.mse_loss(out.float(), y).backward()
            opt.step()

        step()
        t = time.perf_counter()
        for _ in range(steps):
            step()
        train = 16 * steps / (time.perf_counter() - t)
        model.eval()
        xi = torch.randn(64, 3, px, px)
        if cl:
            xi = xi.contiguous(memory_format=torch.channels_last)
        with torch.inference_mode(), torch.autocast("cpu", dtype=dtype or torch.float32,
                                                    enabled=dtype is not None):
            model(xi)
            t = time.perf_counter()
            model(xi)
            infer = 64 / (time.perf_counter() - t)
        rows.append((name, train, infer))
    print(f"DenseNet121 at {px} px, {torch.get_num_threads()} threads, batch 16 (train) / 64 (inference)")
    print(f"{'path':24s} {'train img/s':>12s} {'ratio':>6s} {'infer img/s':>12s} {'ratio':>6s}")
    for name, tr, inf in rows:
        print(f"{name:24s} {tr:12.1f} {tr / rows[0][1]:6.2f} {inf:12.1f} {inf / rows[0][2]:6.2f}")
    return [{"path": name, "train images/s": round(tr, 1), "train ratio": round(tr / rows[0][1], 2),
             "inference images/s": round(inf, 1), "inference ratio": round(inf / rows[0][2], 2)}
            for name, tr, inf in rows]


def accuracy():
    from lattice_utils.core.profiles import get_profile
    from lattice_utils.learn import metrics, training
    from lattice_utils.studies import stem_studies

    P = get_profile("quick")
    sd = stem_studies.load_slot("jv2d", P)
    cfg, inputs, rows, y = stem_studies.network_setup(sd, "regress", "densenet121")
    results = {}
    for precision in ("bf16", "fp32"):
        c = dataclasses.replace(cfg, precision=precision)
        t = time.perf_counter()
        model = training.train(c, inputs, rows, y, log=lambda *a: None)
        spent = time.perf_counter() - t
        pred = model.predict(inputs, sd.rows("test"))
        tab = metrics.subset_table(sd.test, pred, subsets=("full", "standard"))
        results[precision] = tab.set_index(["subset", "parameter"])["MAE"]
        print(f"{precision}: {'trained' if spent > 5 else 'cached'} ({spent:.0f} s), "
              f"{model.history[-1]['images_per_s']:.0f} img/s in the last epoch")
    both = results["fp32"].to_frame("MAE fp32").join(results["bf16"].to_frame("MAE bf16"))
    both["bf16 - fp32"] = both["MAE bf16"] - both["MAE fp32"]
    print(f"quick-profile JV2D DenseNet121 regressor ({P.input_px} px, {P.epochs['jv2d']} epochs), test MAE:")
    print(both.round(3).to_string())
    return both.round(3).reset_index()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--px", type=int, default=224)
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--accuracy", action="store_true")
    args = ap.parse_args()
    import torch

    from lattice_utils.learn.fitting import resolve_precision
    from lattice_utils.repro.benchmark_results import record

    native = resolve_precision("auto") == "bf16"
    tables = {f"{args.px} px, batch 16 (training, Adam) and 64 (inference), {args.steps} timed steps":
              throughput(args.px, args.steps)}
    if args.accuracy:
        tables["Does bf16 keep accuracy? Quick JV2D regressor, test MAE (Å, °)"] = accuracy()
    print("recorded", record("training", tables, notes=[
        f"{torch.get_num_threads()} threads; this CPU {'has' if native else 'lacks'} native bf16"
        + ("" if native else ", so the bf16 rows are emulated and slower than fp32: "
           "`precision=\"auto\"` picks fp32 here")]))


if __name__ == "__main__":
    main()
