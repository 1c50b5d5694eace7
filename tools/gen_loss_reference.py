#!/usr/bin/python3
"""Write the LAC loss reference files tests/ref/loss_<case>.safetensors (tests/test_loss.c).

What it does:
  * For each case (an option set of include/lac/align.h's lac_loss_params, B = 2 pairs,
    T = 7 frames, d = 5), draws seeded inputs, computes the loss with tools/lac_loss_torch.py
    in float64 and its gradients with autograd, and writes
      inputs : e1, e2 (F32 [B][T][d]), s1, s2 (I64 [B][T]), valid1, valid2 (U8 [B][T]),
               go, ge (F32 [T][T], or [1] with scalar gaps)
      outputs: terms (F64 [4]: total, contrastive, local_ce, score), de1, de2 (F64 [B][T][d]),
               dgo, dge (F64, shaped like go, ge)
    with the options in the metadata (keys of lac_loss_params; enums by name).  The float64
    computation starts from the float32-rounded inputs, so the C code sees the same inputs.
  * Checks, before writing anything: torch.autograd.gradcheck of all four terms against
    finite differences for every case; and, on the reference case's inputs, that lac_loss
    with the reference preset equals the LAC code's formulas written out literally
    (lac_loss_torch.reference_literal): to 1e-12 with sim_eps = 0, to 1e-5 relative with the
    preset's sim_eps = 1e-6.

What it does not do: run the C code, or write anything large (each file is a few KB).

Usage: /usr/bin/python3 tools/gen_loss_reference.py [--out tests/ref] [--no-gradcheck]
"""

from __future__ import annotations

import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lac_loss_torch as LT  # noqa: E402
from lac_torch import write_safetensors  # noqa: E402

B, T, D = 2, 7, 5

# case name -> (preset, overrides, masked)
CASES = {
    "reference": ("reference", {}, False),
    "paper": ("paper", {}, False),
    "stop_grad_m": ("reference", {"stop_grad_m": 1}, False),
    "scalar_gaps": ("reference", {"per_cell_gaps": 0}, False),
    "cosine": ("reference", {"similarity": "cosine"}, False),
    "neg_sqdist": ("reference", {"similarity": "neg_sqdist"}, False),
    "masked": ("reference", {}, True),
    "masked_paper": ("paper", {}, True),
    # the alignment cross-entropy alone: every gradient flows through M12/M21
    "ce_only": ("reference", {"alpha": 0.0, "beta": 1.0, "score_weight": 0.0}, False),
    # the score with the other sign (METHOD.md §3 bug 4)
    "score_minus": ("reference", {"score_weight": -1.0}, False),
}


def make_inputs(seed: int, opts, masked: bool):
    g = torch.Generator().manual_seed(seed)
    # scale 0.4: squared distances ~1.6, so 1/d^2 ~ 0.6 and the gaps below are really used
    e1 = (0.4 * torch.randn(B, T, D, generator=g, dtype=torch.float64)).float()
    e2 = (0.4 * torch.randn(B, T, D, generator=g, dtype=torch.float64)).float()
    # sorted sampled frame indices, as time_augment draws them (with repeats allowed)
    s1 = torch.sort(torch.randint(0, 14, (B, T), generator=g), 1).values
    s2 = torch.sort(torch.randint(0, 14, (B, T), generator=g), 1).values
    v1 = torch.ones(B, T, dtype=torch.uint8)
    v2 = torch.ones(B, T, dtype=torch.uint8)
    if masked:
        v1[0, 5:] = 0                  # a padded tail (what time_augment flags)
        v2[0, 1] = 0                   # and an arbitrary hole
        v2[0, 6] = 0
        v2[1, 4:] = 0
    if int(opts["per_cell_gaps"]):
        go = (0.1 + 0.4 * torch.rand(T, T, generator=g, dtype=torch.float64)).float()
        ge = (0.05 + 0.25 * torch.rand(T, T, generator=g, dtype=torch.float64)).float()
    else:
        go = torch.tensor([0.3], dtype=torch.float32)
        ge = torch.tensor([0.15], dtype=torch.float32)
    return e1, e2, s1, s2, v1, v2, go, ge


def loss_fn(opts, s1, s2, v1, v2, scalar, m_from=None):
    def f(e1, e2, go, ge):
        if scalar:
            go, ge = go.reshape(()), ge.reshape(())
        r = LT.lac_loss(opts, e1, e2, s1, s2, v1, v2, go, ge, m_from=m_from)
        return r["total"], r["contrastive"], r["local_ce"], r["score"]
    return f


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "tests", "ref"))
    ap.add_argument("--no-gradcheck", action="store_true")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    outputs = {}
    for ci, (name, (pname, over, masked)) in enumerate(CASES.items()):
        opts = LT.preset(pname)
        opts.update(over)
        e1, e2, s1, s2, v1, v2, go, ge = make_inputs(1000 + ci, opts, masked)
        scalar = not int(opts["per_cell_gaps"])
        f = loss_fn(opts, s1, s2, v1, v2, scalar)
        leaves = [t.double().requires_grad_(True) for t in (e1, e2, go, ge)]
        total, con, ce, score = f(*leaves)
        total.backward()
        grads = [t.grad.detach().clone() for t in leaves]
        for i, t in enumerate(leaves):
            if not torch.isfinite(grads[i]).all():
                raise SystemExit(f"{name}: non-finite gradient")
        if not args.no_gradcheck:
            # stop_grad_m: the gradient is that of the loss with M12/M21 frozen at these inputs
            base = [t.detach().clone() for t in leaves]
            if scalar:
                base[2], base[3] = base[2].reshape(()), base[3].reshape(())
            fc = f
            if int(opts["stop_grad_m"]):
                fc = loss_fn(opts, s1, s2, v1, v2, scalar, m_from=base)
            inputs = [t.detach().clone().requires_grad_(True) for t in leaves]
            ok = torch.autograd.gradcheck(fc, inputs, eps=1e-6, atol=1e-8, rtol=1e-6)
            if not ok:
                raise SystemExit(f"{name}: gradcheck failed")
        if masked:  # masked frames must get no gradient
            for g_, v in ((grads[0], v1), (grads[1], v2)):
                if g_[v == 0].abs().max() != 0:
                    raise SystemExit(f"{name}: masked frames got a gradient")
        if name == "reference":
            check_literal(opts, e1, e2, s1, s2, go, ge)
        terms = torch.tensor([float(total), float(con), float(ce), float(score)],
                             dtype=torch.float64)
        meta = {"case": name, "preset": pname, "B": str(B), "T": str(T), "d": str(D),
                "generator": "tools/gen_loss_reference.py"}
        for k, v in opts.items():
            meta[k] = repr(float(v)) if isinstance(v, float) else str(v)
        tensors = {"e1": e1, "e2": e2, "s1": s1.to(torch.int64), "s2": s2.to(torch.int64),
                   "valid1": v1, "valid2": v2, "go": go, "ge": ge, "terms": terms,
                   "de1": grads[0], "de2": grads[1], "dgo": grads[2], "dge": grads[3]}
        outputs[name] = (tensors, meta)
        print(f"{name:13s} total {float(total):.10f} con {float(con):.6f} ce {float(ce):.6f} "
              f"score {float(score):.6f} |de1| {float(grads[0].abs().max()):.3g} "
              f"|dgo| {float(grads[2].abs().max()):.3g}")
    for name, (tensors, meta) in outputs.items():
        write_safetensors(os.path.join(args.out, f"loss_{name}.safetensors"), tensors, meta)
    print(f"wrote {len(outputs)} files to {os.path.normpath(args.out)}")
    return 0


def check_literal(opts, e1, e2, s1, s2, go, ge):
    """lac_loss (reference preset) against the LAC code's formulas written out literally."""
    e1d, e2d, god, ged = e1.double(), e2.double(), go.double(), ge.double()
    lit = LT.reference_literal(e1d, e2d, s1, s2, god, ged, temperature=float(opts["temperature"]),
                               var=float(opts["label_var"]))
    o0 = dict(opts, sim_eps=0.0)
    for o, tol, what in ((o0, 1e-12, "sim_eps 0"), (opts, 1e-5, "sim_eps 1e-6")):
        r = LT.lac_loss(o, e1d, e2d, s1, s2, None, None, god, ged)
        for k in ("total", "contrastive", "local_ce", "score"):
            a, b = float(r[k]), lit[k]
            err = abs(a - b) / max(1.0, abs(b))
            if err > tol:
                raise SystemExit(f"reference formulas ({what}): {k} {a!r} vs literal {b!r}")
        print(f"reference formulas ({what}): lac_loss == literal LAC code within {tol:g} "
              f"(total {float(r['total']):.12f} vs {lit['total']:.12f})")


if __name__ == "__main__":
    sys.exit(main())
