"""What makes the same training give different numbers on two machines.

    .venv/bin/python benchmarks/machine_differences.py [--set stem_jv2d] [--epochs 10]
                                                       [--variants ref repeat threads1 bf16 seed1]

Trains the quick profile's JV2D DenseNet121 classifier (64 px, cosine, batch 16) on the paper's
STEM-JV2D images (or the offline JV2D slot with ``--set offline``) once per variant, each in its
own process with its own thread count, into a scratch model folder (the cache is not touched), and
compares every variant with the reference (2 threads, fp32, seed 0):

* ``repeat``: the reference again: is one machine deterministic run to run?
* ``threads1``: one thread instead of two (oneDNN splits its sums by thread);
* ``bf16``: bf16 autocast, what ``precision="auto"`` picks on CPUs with native bf16
  (emulated, slowly, on CPUs without it: the numbers are the same kind);
* ``seed1``: another seed, the scale against which the others are small or not.

Prints accuracy, weighted F1, the share of test images whose predicted class differs from the
reference's, and whether the final weights are bit-identical; records the table
(reports/benchmarks/). Asserts nothing.
"""
from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

VARIANTS = {
    "ref": {"threads": 2, "precision": "fp32", "seed": 0},
    "repeat": {"threads": 2, "precision": "fp32", "seed": 0},
    "threads1": {"threads": 1, "precision": "fp32", "seed": 0},
    "bf16": {"threads": 2, "precision": "bf16", "seed": 0},
    "seed1": {"threads": 2, "precision": "fp32", "seed": 1},
}


def run_variant(set_name: str, epochs: int, variant: dict, out: Path, scratch: Path) -> None:
    """One training in this process; writes predictions and a weight digest to ``out``."""
    import numpy as np
    import torch

    torch.set_num_threads(variant["threads"])
    from lattice_utils.core import paths
    from lattice_utils.core.profiles import get_profile
    from lattice_utils.learn import metrics, training
    from lattice_utils.studies import stem_studies

    P = dataclasses.replace(get_profile("quick"), seed=variant["seed"])
    sd = stem_studies.load_slot("jv2d", P, set_name)
    cfg, inputs, rows, y = stem_studies.network_setup(sd, "classify", "densenet121")
    cfg = dataclasses.replace(cfg, precision=variant["precision"], epochs=epochs)
    paths.MODELS = scratch              # never the shared model cache
    t0 = time.perf_counter()
    model = training.train(cfg, inputs, rows, y, force=True, log=lambda *a: None)
    seconds = time.perf_counter() - t0
    pred = model.predict_classes(inputs, sd.rows("test"))
    truth = sd.test["label"].to_numpy()
    digest = hashlib.sha256()
    for name, tensor in sorted(model.model.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    out.write_text(json.dumps({**variant, "seconds": round(seconds, 1), "weights": digest.hexdigest(),
                               "predictions": np.asarray(pred).tolist(),
                               "first_epoch_loss": model.history[0]["loss"],
                               **metrics.accuracy_and_f1(truth, pred)}))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--set", default="stem_jv2d", help="stem_jv2d (the paper's images) or offline")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    ap.add_argument("--child", nargs=3, metavar=("VARIANT", "OUT", "SCRATCH"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        name, out, scratch = args.child
        run_variant(args.set, args.epochs, VARIANTS[name], Path(out), Path(scratch))
        return 0

    import numpy as np
    import pandas as pd

    names = ["ref"] + [v for v in args.variants if v != "ref"]
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            threads = str(VARIANTS[name]["threads"])
            env = dict(os.environ, OMP_NUM_THREADS=threads, MKL_NUM_THREADS=threads)
            out = Path(tmp) / f"{name}.json"
            scratch = Path(tmp) / f"models-{name}"
            scratch.mkdir()
            subprocess.run([sys.executable, __file__, "--set", args.set, "--epochs", str(args.epochs),
                            "--child", name, str(out), str(scratch)], env=env, check=True)
            results[name] = json.loads(out.read_text())
            print(f"{name}: accuracy {results[name]['accuracy_pct']:.2f} % in {results[name]['seconds']} s",
                  flush=True)
    ref = results["ref"]
    rows = []
    for name in names:
        r = results[name]
        rows.append({"variant": name, "threads": r["threads"], "precision": r["precision"],
                     "seed": r["seed"], "accuracy_pct": round(r["accuracy_pct"], 2),
                     "f1_weighted": round(r["f1_weighted"], 4),
                     "first_epoch_loss": round(r["first_epoch_loss"], 6),
                     "test_predictions_differing": round(float(np.mean(
                         np.asarray(r["predictions"]) != np.asarray(ref["predictions"]))), 4),
                     "weights_identical": r["weights"] == ref["weights"], "seconds": r["seconds"]})
    table = pd.DataFrame(rows)
    print(table.to_string(index=False))
    from lattice_utils.learn.fitting import resolve_precision
    from lattice_utils.repro.benchmark_results import record

    native = resolve_precision("auto") == "bf16"
    print("recorded", record("machine_differences", {
        f"Quick JV2D DenseNet121 classifier on {args.set}, {args.epochs} epochs, one process per variant": table},
        notes=[f"ref: 2 threads, fp32, seed 0; repeat: the reference again; threads1: one thread; bf16: "
               f"bf16 autocast ({'native on this CPU' if native else 'emulated on this CPU, slowly'}); "
               "seed1: another seed, the scale against which the others are small or not"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
