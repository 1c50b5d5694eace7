"""bench_torch.py — the same encoder in PyTorch (tools/lac_torch.py), frames/s on the CPU.

The baseline for bench/run.sh: eval mode, torch.inference_mode, the given thread count,
one clip of --frames frames at the preset's input size, median of --reps runs after a
warm-up.  Not a test; prints one line and optionally writes JSON."""
import argparse
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))

import torch  # noqa: E402

import lac_torch  # noqa: E402
from gen_reference import PRESETS  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--preset", default="resnet50")
    ap.add_argument("--frames", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--json")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    arch = lac_torch.Arch(context=1, attention="time", **PRESETS[a.preset])
    model = lac_torch.LacEncoder(arch).eval()
    x = torch.randn(a.frames, 3, arch.input_size, arch.input_size)
    times = []
    with torch.inference_mode():
        model(x)  # warm-up
        for _ in range(a.reps):
            t0 = time.perf_counter()
            model(x)
            times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    fps = a.frames / med
    print(f"pytorch {torch.__version__} encoder: {a.preset}, {a.frames} frames of "
          f"{arch.input_size}x{arch.input_size}, {a.threads} threads: median {med:.3f} s = "
          f"{fps:.2f} frames/s (min {min(times):.3f}, max {max(times):.3f}, {a.reps} reps)")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"impl": "pytorch", "version": torch.__version__, "preset": a.preset,
                       "frames": a.frames, "threads": a.threads, "median_s": med, "fps": fps}, f)


if __name__ == "__main__":
    main()
