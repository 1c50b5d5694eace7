#!/usr/bin/env python3
"""bench_sw_torch_gpu.py — the PyTorch baseline of bench_sw_cuda: the smoothed Smith-Waterman
with affine gaps (include/lac/align.h semantics, per-cell penalties) for a batch of pairs,
vectorised along anti-diagonals (every cell of a diagonal of every pair in one tensor op),
forward in float32 with autograd recording the diagonal loop, then loss.backward() for
dL/dS, dL/dgo, dL/dge of L = sum gV * V + sum gM * M.  Self-contained.

    bench_sw_torch_gpu.py [--pairs 8] [--T 64 256] [--reps 5] [--device cuda] [--check]

Prints one "TORCH pairs=P T=T ms=... gcps=..." line per size (median of reps after a warm-up;
gcps = pairs * T * T / time / 1e9).  --check first compares V and the gradients with a plain
cell-by-cell float64 recursion on small random pairs (on the chosen device), and exits 1 if
they disagree.
"""
import argparse
import statistics
import sys
import time

import torch

NEG = -1e30


def smax(terms, tau):
    """tau * logsumexp(v / tau) over a list of same-shaped tensors"""
    return tau * torch.logsumexp(torch.stack(terms, 0) / tau, dim=0)


def sw_diagonal(S, go, ge, gV, gM, tau):
    """S, go, ge, gM: [B, n, m]; gV: [B].  Returns V [B] and L = sum gV V + sum gM M."""
    B, n, m = S.shape
    dev, dt = S.device, S.dtype
    ii = torch.arange(n, device=dev)
    neg = torch.full((B, n), NEG, device=dev, dtype=dt)

    def shift(v):  # v[:, i - 1], NEG at i = 0
        return torch.cat([neg[:, :1], v[:, :-1]], dim=1)

    Mp2, Xp2, Yp2 = neg, neg, neg  # diagonal d - 2
    Mp1, Xp1, Yp1 = neg, neg, neg  # diagonal d - 1
    Ms, gms = [], []
    for d in range(n + m - 1):
        jj = d - ii
        valid = (jj >= 0) & (jj < m)
        jc = jj.clamp(0, m - 1)
        Sd = S[:, ii, jc]
        god = go[:, ii, jc]
        ged = ge[:, ii, jc]
        zero = torch.zeros_like(Sd)
        M = Sd + smax([zero, shift(Mp2), shift(Xp2), shift(Yp2)], tau)
        X = smax([Mp1 - god, Xp1 - ged], tau)
        Y = smax([shift(Mp1) - god, shift(Xp1) - god, shift(Yp1) - ged], tau)
        M = torch.where(valid, M, neg)
        X = torch.where(valid, X, neg)
        Y = torch.where(valid, Y, neg)
        Ms.append(M)
        gms.append(torch.where(valid, gM[:, ii, jc], zero))
        Mp2, Xp2, Yp2 = Mp1, Xp1, Yp1
        Mp1, Xp1, Yp1 = M, X, Y
    Mall = torch.stack(Ms, 2)  # [B, n, n + m - 1], invalid = NEG
    V = tau * torch.logsumexp(Mall.reshape(B, -1) / tau, dim=1)
    L = (gV * V).sum() + (torch.stack(gms, 2) * Mall).sum()
    return V, L


def naive(S, go, ge, gV, gM, tau):
    """cell by cell in float64 (the reference's loops), one pair at a time; returns V, L"""
    B, n, m = S.shape
    Vs, L = [], 0.0
    for b in range(B):
        M = [[None] * m for _ in range(n)]
        X = [[None] * m for _ in range(n)]
        Y = [[None] * m for _ in range(n)]
        neg = torch.tensor(NEG, dtype=S.dtype, device=S.device)

        def at(T, i, j):
            return neg if i < 0 or j < 0 else T[i][j]

        def term(src, pen):
            return neg if src is neg else src - pen

        allm = []
        for i in range(n):
            for j in range(m):
                M[i][j] = S[b, i, j] + smax([torch.zeros_like(neg), at(M, i - 1, j - 1),
                                             at(X, i - 1, j - 1), at(Y, i - 1, j - 1)], tau)
                X[i][j] = smax([term(at(M, i, j - 1), go[b, i, j]), term(at(X, i, j - 1), ge[b, i, j])], tau)
                Y[i][j] = smax([term(at(M, i - 1, j), go[b, i, j]), term(at(X, i - 1, j), go[b, i, j]),
                                term(at(Y, i - 1, j), ge[b, i, j])], tau)
                allm.append(M[i][j])
                L = L + gM[b, i, j] * M[i][j]
        V = tau * torch.logsumexp(torch.stack(allm) / tau, dim=0)
        Vs.append(V)
        L = L + gV[b] * V
    return torch.stack(Vs), L


def make(B, n, m, dev, dt, seed):
    g = torch.Generator(device="cpu").manual_seed(seed)
    S = (torch.rand(B, n, m, generator=g) * 2.1 - 1.0).to(dev, dt)
    go = (torch.rand(B, n, m, generator=g) * 1.2 + 0.4).to(dev, dt)
    ge = (torch.rand(B, n, m, generator=g) * 0.38 + 0.02).to(dev, dt)
    gV = (torch.rand(B, generator=g) * 2 - 1).to(dev, dt)
    gM = (torch.rand(B, n, m, generator=g) * 2 - 1).to(dev, dt)
    return S, go, ge, gV, gM


def grads(fn, S, go, ge, gV, gM, tau):
    S, go, ge = (t.clone().requires_grad_(True) for t in (S, go, ge))
    V, L = fn(S, go, ge, gV, gM, tau)
    L.backward()
    z = lambda t: torch.zeros_like(t) if t.grad is None else t.grad  # unused input: 0
    return V.detach(), z(S), z(go), z(ge)


def check(dev):
    ok = True
    for (n, m, tau, seed) in [(4, 5, 0.8, 1), (5, 3, 0.3, 2), (1, 4, 2.0, 3), (6, 6, 1.0, 4)]:
        args = make(2, n, m, dev, torch.float64, seed)
        a = grads(sw_diagonal, *args, tau)
        b = grads(naive, *args, tau)
        err = max(float((x - y).abs().max()) for x, y in zip(a, b))
        print(f"check {n}x{m} tau={tau}: max |diagonal - naive| = {err:.2e}")
        ok &= err < 1e-9
    return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=8)
    ap.add_argument("--T", type=int, nargs="+", default=[64, 256])
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--tau", type=float, default=0.8)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--check", action="store_true")
    a = ap.parse_args()
    dev = torch.device(a.device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        print("bench_sw_torch_gpu: no CUDA device, skipped")
        return 77
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu"
    print(f"bench_sw_torch_gpu: torch {torch.__version__} on {name}, float32, anti-diagonal autograd")
    if a.check and not check(dev):
        print("bench_sw_torch_gpu: check FAILED")
        return 1

    def sync():
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)

    for T in a.T:
        args = make(a.pairs, T, T, dev, torch.float32, 7)
        times = []
        for r in range(a.reps + 1):
            sync()
            t0 = time.perf_counter()
            V, dS, dgo, dge = grads(sw_diagonal, *args, a.tau)
            sync()
            if r > 0:
                times.append(time.perf_counter() - t0)
        if not bool(torch.isfinite(V).all()):
            print(f"bench_sw_torch_gpu: V not finite at T={T}")
            return 1
        ms = statistics.median(times) * 1e3
        gcps = a.pairs * T * T / (ms * 1e-3) / 1e9
        print(f"TORCH pairs={a.pairs} T={T} ms={ms:.3f} gcps={gcps:.6f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
