"""Forward+backward cells/s of the PyTorch smoothed Smith-Waterman (tools/sw_torch.py), the
baseline bench/bench_sw.c is compared with (a benchmark, not a test).

  /usr/bin/python3 bench/bench_sw_torch.py [--pairs 8] [--sizes 32,64,128,256,512]
      [--tau 0.8] [--threads 2] [--reps 5] [--json FILE]

The same cases as bench_sw.c: --pairs pairs of T x T random S (uniform [-1, 1.5]), per-cell
gaps, float32, incoming gradients gV = 1 and a random gM (L = sum V + sum gM * M), one
forward and one autograd backward per repetition (dS, dgo, dge); prints the median over
--reps repetitions (after a warm-up) as cells/s, cells = pairs * T * T.  Large sizes get
fewer repetitions (at least 3) when one takes over 2 s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from sw_torch import sw_torch  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pairs", type=int, default=8)
    ap.add_argument("--sizes", default="32,64,128,256,512")
    ap.add_argument("--tau", type=float, default=0.8)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--json")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    results = []
    print(f"PyTorch {torch.__version__} sw_torch forward+backward, {a.pairs} pairs of T x T, "
          f"per-cell gaps, tau {a.tau}, {a.threads} threads, median of {a.reps}")
    print("%6s %14s %10s" % ("T", "cells/s", "fwd share"))
    for T in [int(x) for x in a.sizes.split(",")]:
        B = a.pairs
        S = (torch.rand(B, T, T) * 2.5 - 1).requires_grad_(True)
        go = (torch.rand(B, T, T) + 0.5).requires_grad_(True)
        ge = (torch.rand(B, T, T) * 0.45 + 0.05).requires_grad_(True)
        gM = (torch.rand(B, T, T) - 0.5) * 0.01
        times, fwd = [], []
        r = 0
        while r <= a.reps:  # r = 0: warm-up
            for x in (S, go, ge):
                x.grad = None
            t0 = time.perf_counter()
            V, M = sw_torch(S, go, ge, a.tau)
            t1 = time.perf_counter()
            (V.sum() + (gM * M).sum()).backward()
            t2 = time.perf_counter()
            if r > 0:
                times.append(t2 - t0)
                fwd.append(t1 - t0)
            r += 1
            if r > 3 and t2 - t0 > 2.0:
                break
        med = statistics.median(times)
        cells = B * T * T
        share = 100 * statistics.median(fwd) / med
        print("%6d %14.4g %9.0f%%" % (T, cells / med, share), flush=True)
        results.append({"T": T, "cells_per_s": cells / med, "fwd_bwd_s": med,
                        "fwd_s": statistics.median(fwd)})
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"pairs": a.pairs, "tau": a.tau, "threads": a.threads,
                       "torch": torch.__version__, "results": results}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
