"""The FFT lattice estimator on the simulated test splits of a profile: speed, coverage and
error. Prints figures and records them (reports/benchmarks/); asserts nothing.

    .venv/bin/python benchmarks/bench_fft_lattice.py [--profile quick]

Needs the image stores of notebook 01 for the profile (built here if missing). For each slot:
milliseconds per 256 px image; the share of test images where a lattice is found and where it
is flagged reliable; on the standard subset (a, b <= 10 A, gamma in {60, 90, 120}) the MAE of
a and b against two truths:

* the reduced primitive cell of the crystal (``canon_a``, ``canon_b``), and
* the reduced primitive cell of its projection along z: the image is a projection, and when
  atoms of one species sit at different heights the projected pattern can repeat on a smaller
  cell than the crystal. No image-based method can see the crystal's cell then.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main():
    from lattice_utils.core.profiles import DATASETS, get_profile
    from lattice_utils.data.structures import projected_cell
    from lattice_utils.lattice import fft_lattice
    from lattice_utils.learn import metrics
    from lattice_utils.studies import stem_studies

    ap = argparse.ArgumentParser()
    ap.add_argument("--profile", default="quick")
    P = get_profile(ap.parse_args().profile)
    rows_out = []
    for slot in DATASETS:
        sd = stem_studies.load_slot(slot, P)
        test = sd.test
        t0 = time.perf_counter()
        est = pd.DataFrame([fft_lattice.estimate_lattice(sd.store[i].astype(float), P.px_scale).as_dict()
                            for i in sd.rows("test")])
        ms = 1000 * (time.perf_counter() - t0) / len(test)
        proj = [projected_cell(r) for r in test["atoms"]]
        truths = {"crystal": (test["canon_a"].to_numpy(), test["canon_b"].to_numpy()),
                  "projection": (np.array([c.a for c in proj]), np.array([c.b for c in proj]))}
        found, reliable = (est.label >= 0).to_numpy(), est.reliable.to_numpy()
        std = metrics.subset_mask(test, "standard")
        smaller = truths["projection"][0] * truths["projection"][1] < 0.99 * truths["crystal"][0] * truths["crystal"][1]
        for truth, (ta, tb) in truths.items():
            for sel_name, sel in (("found", std & found), ("reliable", std & reliable)):
                ea, eb = np.abs(est.a.to_numpy() - ta)[sel], np.abs(est.b.to_numpy() - tb)[sel]
                rows_out.append({"slot": slot, "ms/image": round(ms, 1), "found %": round(100 * found.mean(), 1),
                                 "reliable %": round(100 * reliable.mean(), 1),
                                 "projection smaller %": round(100 * smaller.mean(), 1),
                                 "truth": truth, "standard subset, used": sel_name, "n": int(sel.sum()),
                                 "MAE a": round(float(ea.mean()), 4), "MAE b": round(float(eb.mean()), 4),
                                 "median |err a|": round(float(np.median(ea)), 4),
                                 "median |err b|": round(float(np.median(eb)), 4),
                                 "|err a| < 0.05 %": round(100 * float((ea < 0.05).mean()), 1),
                                 "a or b off by > 0.5 Å %": round(100 * float(((ea > 0.5) | (eb > 0.5)).mean()), 1)})
    from lattice_utils.repro.benchmark_results import record

    table = pd.DataFrame(rows_out)
    print(f"FFT lattice estimator, profile {P.name}, test splits")
    print(table.to_string(index=False))
    print("recorded", record("fft_lattice",
                             {f"Test splits of the {P.name} profile (standard subset for the MAE)": table},
                             notes=["found: a lattice was returned; reliable: flagged reliable (at least 3 periods "
                                    "of b in view); projection smaller: the projected cell is smaller than the "
                                    "crystal's, which no image-based method can see past",
                                    "a few gross failures (a or b off by > 0.5 Å) drive the MAE; the median is the "
                                    "typical image. Against the projection (looked at on 2026-11-30) they are "
                                    "mostly stand-in supercells with a dilute substitution (e.g. one N among "
                                    "eight C, Ti18C8N), whose faint superstructure the estimator misses, giving "
                                    "the parent lattice, and puckered GeS-type and FeOCl-type cells, where it "
                                    "picks a pseudo-centred sub-cell"]))


if __name__ == "__main__":
    main()
