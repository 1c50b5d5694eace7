"""Checks tools/sw_torch.py against a plain double loop (SW_AFFINE.md's recurrences written
cell by cell with math.exp / math.log) and central finite differences of that loop.

  /usr/bin/python3 tools/check_sw_torch.py [--lib BUILD/lib/liblac.so]

What it checks, in float64, on batches of pairs of mixed sizes (1..6), per-cell and scalar
gaps, tau in {0.3, 1, 5}, with an incoming gradient on M (L = sum_b gV_b V_b + sum gM * M):
V and M to 1e-10, and dL/dS, dL/dgo, dL/dge (autograd through sw_torch) against finite
differences of the loop (step 1e-6) to 1e-6.  With --lib, also the C library's float32
lac_sw_forward / lac_sw_backward (through ctypes) against sw_torch in float64 on batches of
sizes 1..70, to tests/test_sw_cpu.c's tolerances (V, M: 2 eps A sqrt(n + m); gradients
0.5 eps A sqrt(n + m) (1 + 1/tau) relative to the largest, A = 1 + max |M|).  Exits 1 on a
failure.
"""

from __future__ import annotations

import ctypes
import math
import os
import random
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sw_torch import sw_torch_pairs  # noqa: E402

NEG = -math.inf
F64 = torch.float64


def smax(vals, tau):
    mx = max(vals)
    if mx == NEG:
        return NEG
    return mx + tau * math.log(sum(math.exp((v - mx) / tau) for v in vals))


def loop_sw(S, go, ge, tau, per_cell):
    """The double loop: S, go, ge lists of lists (go/ge: floats when not per_cell)."""
    n, m = len(S), len(S[0])
    M = [[NEG] * m for _ in range(n)]
    X = [[NEG] * m for _ in range(n)]
    Y = [[NEG] * m for _ in range(n)]

    def g(T, i, j):
        return T[i][j] if i >= 0 and j >= 0 else NEG

    for i in range(n):
        for j in range(m):
            o = go[i][j] if per_cell else go
            e = ge[i][j] if per_cell else ge
            d = [0.0, g(M, i - 1, j - 1), g(X, i - 1, j - 1), g(Y, i - 1, j - 1)]
            M[i][j] = S[i][j] + smax(d, tau)
            X[i][j] = smax([g(M, i, j - 1) - o, g(X, i, j - 1) - e], tau)
            Y[i][j] = smax([g(M, i - 1, j) - o, g(X, i - 1, j) - o, g(Y, i - 1, j) - e], tau)
    V = smax([M[i][j] for i in range(n) for j in range(m)], tau)
    return V, M


def loss_loop(S, go, ge, tau, per_cell, gV, gM):
    V, M = loop_sw(S, go, ge, tau, per_cell)
    return gV * V + sum(gM[i][j] * M[i][j] for i in range(len(S)) for j in range(len(S[0])))


def fd(f, get, set_, h=1e-6):
    """Central difference of f() in the value reached by get / set_."""
    v = get()
    set_(v + h)
    lp = f()
    set_(v - h)
    lm = f()
    set_(v)
    return (lp - lm) / (2 * h)


def check_torch_vs_loop() -> int:
    rng = random.Random(5)
    worst = {"V": 0.0, "M": 0.0, "grad": 0.0}
    failures = 0
    for per_cell in (True, False):
        for tau in (0.3, 1.0, 5.0):
            pairs, ref = [], []
            for _ in range(4):
                n, m = rng.randint(1, 6), rng.randint(1, 6)
                S = [[rng.uniform(-1, 1.5) for _ in range(m)] for _ in range(n)]
                if per_cell:
                    go = [[rng.uniform(0.5, 1.5) for _ in range(m)] for _ in range(n)]
                    ge = [[rng.uniform(0.05, 0.5) for _ in range(m)] for _ in range(n)]
                else:
                    go, ge = rng.uniform(0.5, 1.5), rng.uniform(0.05, 0.5)
                gV = rng.uniform(0.5, 1.5)
                gM = [[rng.uniform(-0.3, 0.3) for _ in range(m)] for _ in range(n)]
                ref.append([S, go, ge, gV, gM])
                pairs.append(tuple(torch.tensor(x, dtype=F64, requires_grad=True)
                                   for x in (S, go, ge)))
            V, Ms = sw_torch_pairs(pairs, tau, per_cell)
            L = sum(ref[b][3] * V[b] + (torch.tensor(ref[b][4], dtype=F64) * Ms[b]).sum()
                    for b in range(len(pairs)))
            L.backward()
            for b, args in enumerate(ref):
                S, go, ge, gV, gM = args
                Vr, Mr = loop_sw(S, go, ge, tau, per_cell)
                ev = abs(V[b].item() - Vr)
                em = (Ms[b].detach() - torch.tensor(Mr, dtype=F64)).abs().max().item()
                worst["V"], worst["M"] = max(worst["V"], ev), max(worst["M"], em)
                if ev > 1e-10 or em > 1e-10:
                    print(f"FAIL pair {b} tau {tau} per_cell {per_cell}: V err {ev:.3g}, "
                          f"M err {em:.3g}")
                    failures += 1

                def loss():
                    return loss_loop(args[0], args[1], args[2], tau, per_cell, gV, gM)

                for k, name in enumerate(("S", "go", "ge")):
                    grad = pairs[b][k].grad
                    if k == 0 or per_cell:  # one cell at a time
                        A = args[k]
                        cells = [(i, j) for i in range(len(A)) for j in range(len(A[0]))]
                        for i, j in cells:
                            def get(A=A, i=i, j=j):
                                return A[i][j]

                            def set_(v, A=A, i=i, j=j):
                                A[i][j] = v
                            g_fd, g_ad = fd(loss, get, set_), grad[i, j].item()
                            e = abs(g_fd - g_ad)
                            worst["grad"] = max(worst["grad"], e)
                            if e > 1e-6:
                                print(f"FAIL d{name}[{i}][{j}] pair {b} tau {tau}: "
                                      f"fd {g_fd:.9g} autograd {g_ad:.9g}")
                                failures += 1
                    else:  # a scalar penalty
                        def get(k=k):
                            return args[k]

                        def set_(v, k=k):
                            args[k] = v
                        g_fd, g_ad = fd(loss, get, set_), grad.item()
                        e = abs(g_fd - g_ad)
                        worst["grad"] = max(worst["grad"], e)
                        if e > 1e-6:
                            print(f"FAIL d{name} pair {b} tau {tau}: fd {g_fd:.9g} "
                                  f"autograd {g_ad:.9g}")
                            failures += 1
    print("check_sw_torch: max errors: V %.3g, M %.3g, gradients vs finite differences %.3g"
          % (worst["V"], worst["M"], worst["grad"]))
    print("check_sw_torch: sw_torch vs the loop: %s" % ("FAILED" if failures else "ok"))
    return failures


class _Pair(ctypes.Structure):
    _fields_ = [("n", ctypes.c_int), ("m", ctypes.c_int), ("S", ctypes.c_void_p),
                ("go", ctypes.c_void_p), ("ge", ctypes.c_void_p)]


class _Opt(ctypes.Structure):
    _fields_ = [("tau", ctypes.c_float), ("per_cell_gaps", ctypes.c_int)]


class _Err(ctypes.Structure):
    _fields_ = [("code", ctypes.c_int), ("message", ctypes.c_char * 512)]


def _ptr(x: torch.Tensor) -> ctypes.c_void_p:
    return ctypes.c_void_p(x.data_ptr())


def _ptrs(xs):
    return (ctypes.c_void_p * len(xs))(*[_ptr(x) for x in xs])


def _rel(c: torch.Tensor, r: torch.Tensor) -> float:
    """max |c - r| / max(max |r|, 1)"""
    c = c.double().reshape(r.shape)
    return ((c - r).abs().max() / max(1.0, r.abs().max().item())).item()


def check_c(lib_path: str) -> int:
    """The C library (float32) against sw_torch (float64), on float32-representable inputs."""
    lib = ctypes.CDLL(lib_path)
    err = _Err()
    a = ctypes.c_void_p()
    params = ctypes.c_int(2)  # lac_aligner_params {n_threads}
    if lib.lac_aligner_new(ctypes.byref(params), ctypes.byref(a), ctypes.byref(err)):
        print("lac_aligner_new:", err.message.decode())
        return 1
    eps = 2.0 ** -23
    gen = torch.Generator().manual_seed(9)

    def rand(shape, lo, hi):  # float32 values, as float64
        return (torch.rand(shape, generator=gen, dtype=F64) * (hi - lo) + lo).float().double()

    failures, worst = 0, 0.0
    for per_cell in (1, 0):
        for tau in (0.05, 0.8, 5.0):
            B = 10
            sizes = [tuple(int(x) for x in torch.randint(1, 71, (2,), generator=gen))
                     for _ in range(B)]
            ref, c_in, c_out = [], [], []
            for (n, m) in sizes:
                S = rand((n, m), -1, 1.5)
                go = rand((n, m), 0.5, 1.5) if per_cell else rand((), 1.0, 1.1)
                ge = rand((n, m), 0.05, 0.5) if per_cell else rand((), 0.3, 0.3)
                gM = rand((n, m), -0.2, 0.2)
                ref.append(tuple(x.clone().requires_grad_(True) for x in (S, go, ge)))
                c_in.append([x.float().contiguous() for x in (S, go, ge, gM)])
                c_out.append([torch.full(x.shape, float("nan"), dtype=torch.float32)
                              for x in (S, S, go, ge)])
            gV = torch.rand(B, generator=gen).float()
            V, Ms = sw_torch_pairs(ref, tau, bool(per_cell))
            L = sum(gV[b].double() * V[b] + (c_in[b][3].double() * Ms[b]).sum()
                    for b in range(B))
            L.backward()
            cp = (_Pair * B)(*[_Pair(n, m, _ptr(x[0]), _ptr(x[1]), _ptr(x[2]))
                               for (n, m), x in zip(sizes, c_in)])
            Vc = torch.full((B,), float("nan"))
            outs = [_ptrs([o[k] for o in c_out]) for k in range(4)]  # M, dS, dgo, dge
            gMp = _ptrs([x[3] for x in c_in])
            opt = _Opt(tau, per_cell)
            if (lib.lac_sw_forward(a, ctypes.byref(opt), B, cp, _ptr(Vc), outs[0],
                                   ctypes.byref(err))
                    or lib.lac_sw_backward(a, _ptr(gV), gMp, outs[1], outs[2], outs[3],
                                           ctypes.byref(err))):
                print("C call failed:", err.message.decode())
                return 1
            for b, (n, m) in enumerate(sizes):
                A = 1 + Ms[b].detach().abs().max().item()
                tolv = 2 * eps * A * math.sqrt(n + m)
                tolg = 0.5 * eps * A * math.sqrt(n + m) * (1 + 1 / tau)
                errs = [abs(Vc[b].item() - V[b].item()) / tolv,
                        (c_out[b][0].double() - Ms[b].detach()).abs().max().item() / tolv,
                        _rel(c_out[b][1], ref[b][0].grad) / tolg,
                        _rel(c_out[b][2], ref[b][1].grad) / tolg,
                        _rel(c_out[b][3], ref[b][2].grad) / tolg]
                e = max(errs) if all(x == x for x in errs) else float("inf")
                worst = max(worst, e)
                if e > 1:
                    print(f"FAIL C vs sw_torch pair {b} ({n}x{m}) tau {tau} per_cell {per_cell}: "
                          "error / tolerance V %.3g M %.3g dS %.3g dgo %.3g dge %.3g" % tuple(errs))
                    failures += 1
    lib.lac_aligner_free(a)
    print("check_sw_torch: C library vs sw_torch, worst error / tolerance %.3g (%s)"
          % (worst, "FAILED" if failures else "ok"))
    return failures


def main() -> int:
    failures = check_torch_vs_loop()
    if "--lib" in sys.argv:
        failures += check_c(sys.argv[sys.argv.index("--lib") + 1])
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
