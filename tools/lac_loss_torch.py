"""The LAC loss in PyTorch (float64, autograd): the oracle of lib/align/loss.c.

What this module does:
  * ``PRESETS`` / ``preset(name)``: the option sets of ``lac_loss_preset`` (include/lac/align.h).
  * ``similarity``: S[i, j] = sim(x[i], y[j]) (inverse squared distance, negative squared
    distance, cosine), differentiable.
  * ``soft_sw``: the smoothed Smith-Waterman alignment with affine gaps of
    /work/shared/docs/SW_AFFINE.md, vectorised along anti-diagonals, returning the score V and
    the match table M with autograd through both (tau > 0).
  * ``lac_loss``: the loss exactly as include/lac/align.h defines it, masks included (masked
    frames are dropped from a pair before anything is computed; see the header), returning
    the four terms of ``lac_loss_terms`` as tensors, so ``.backward()`` gives the exact
    gradients for e1, e2, go and ge.
  * ``reference_literal``: the reference preset's forward value written out the way the LAC
    code (keynekassapa13/LAC, model/lac.py: compute_lac_loss, _SoftSW) computes it: python
    loops over cells, -inf borders, safe_div labels, exp/sum softmax, log(p + 1e-6), 1/d^2
    without epsilon, /T^2, the 0.01 weight, the + sign on the score.  No masks (the
    reference ignores them).  Only used to check ``lac_loss`` on fixed inputs.

What it does not do:
  * No hard (tau = 0) alignment, no speed: it is for tiny reference cases (T ~ 10).
  * It is never used at run time by the C library.
"""

from __future__ import annotations

import math
from typing import Dict

import torch
import torch.nn.functional as F

NEG = -1e30  # the finite stand-in for -inf of the recurrences (LAC_SW_NEG_INF)

SIM_KINDS = ("inv_sqdist", "neg_sqdist", "cosine")  # lac_similarity order
LOGITS_KINDS = ("matmul", "elementwise")            # lac_logits_mode order

PRESETS: Dict[str, Dict[str, object]] = {
    "reference": dict(label_var=10.0, temperature=0.8, log_eps=1e-6, sw_tau=0.8,
                      similarity="inv_sqdist", sim_eps=1e-6, logits="matmul",
                      score_weight=1.0, alpha=1.0, beta=0.01, per_cell_gaps=1,
                      stop_grad_m=0),
}
PRESETS["paper"] = dict(PRESETS["reference"], logits="elementwise", log_eps=0.0)


def preset(name: str) -> Dict[str, object]:
    if name not in PRESETS:
        raise ValueError(f"unknown loss preset {name!r} (known: {', '.join(PRESETS)})")
    return dict(PRESETS[name])


def similarity(kind: str, eps: float, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """x (n, d), y (m, d) -> S (n, m)."""
    if kind in ("inv_sqdist", "neg_sqdist"):
        dd = ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)
        return 1.0 / (dd + eps) if kind == "inv_sqdist" else -dd
    if kind == "cosine":
        nx = x.norm(dim=1)
        ny = y.norm(dim=1)
        return (x @ y.T) / (nx[:, None] * ny[None, :] + eps)
    raise ValueError(f"unknown similarity {kind!r}")


def _smax(terms, tau: float) -> torch.Tensor:
    return tau * torch.logsumexp(torch.stack(terms, 0) / tau, 0)


def soft_sw(S: torch.Tensor, go: torch.Tensor, ge: torch.Tensor, tau: float):
    """Smoothed SW with affine gaps on S (n, m); go, ge 0-dim (scalar) or (n, m) (per cell).

    Returns (V, M) with M (n, m) the match table.  One vectorised step per anti-diagonal
    k = i + j (cells indexed by i).  Invalid cells and states that no alignment reaches
    (X at j = 0, Y at i = 0) hold the sentinel NEG; torch.where gives them zero gradient.
    """
    if tau <= 0:
        raise ValueError("soft_sw needs tau > 0")
    n, m = S.shape
    dev, dt = S.device, S.dtype
    ii = torch.arange(n, device=dev)
    per_cell = go.dim() == 2
    neg = torch.full((n,), NEG, dtype=dt, device=dev)
    zero = torch.zeros((n,), dtype=dt, device=dev)
    negs = torch.full((1,), NEG, dtype=dt, device=dev)

    def shift(v):  # v'[i] = v[i-1], sentinel at i = 0
        return torch.cat([negs, v[:-1]])

    M1 = X1 = Y1 = neg   # diagonal k-1
    M2 = X2 = Y2 = neg   # diagonal k-2
    diags = []
    for k in range(n + m - 1):
        jj = k - ii
        valid = (jj >= 0) & (jj < m)
        jc = jj.clamp(0, m - 1)
        s = S[ii, jc]
        if per_cell:
            o, e = go[ii, jc], ge[ii, jc]
        else:
            o, e = go.expand(n), ge.expand(n)
        Mk = s + _smax([zero, shift(M2), shift(X2), shift(Y2)], tau)
        Xk = _smax([M1 - o, X1 - e], tau)
        Yk = _smax([shift(M1) - o, shift(X1) - o, shift(Y1) - e], tau)
        Mk = torch.where(valid, Mk, neg)
        Xk = torch.where(valid & (jj >= 1), Xk, neg)
        Yk = torch.where(valid & (ii >= 1), Yk, neg)
        diags.append(Mk)
        M2, X2, Y2 = M1, X1, Y1
        M1, X1, Y1 = Mk, Xk, Yk
    D = torch.stack(diags, 0)                      # (n + m - 1, n): D[i + j, i] = M[i, j]
    gi = ii[:, None].expand(n, m)
    gj = torch.arange(m, device=dev)[None, :].expand(n, m)
    M = D[gi + gj, gi]
    V = tau * torch.logsumexp(M.reshape(-1) / tau, 0)
    return V, M


def labels(s1: torch.Tensor, s2: torch.Tensor, var: float) -> torch.Tensor:
    """Gaussian soft labels, rows normalised; max-subtracted so no valid row is 0/0."""
    d2 = (s1.to(torch.float64)[:, None] - s2.to(torch.float64)[None, :]) ** 2
    w = torch.exp(-(d2 - d2.min(1, keepdim=True).values) / (2.0 * var))
    return w / w.sum(1, keepdim=True)


def lac_loss(o: Dict[str, object], e1, e2, s1, s2, v1, v2, go, ge, m_from=None):
    """The loss of include/lac/align.h.  e1, e2 (B, T, d); s1, s2 (B, T) int; v1, v2 (B, T)
    bool/uint8 or None; go, ge (T, T) when o['per_cell_gaps'] else 0-dim.
    Returns dict(total, contrastive, local_ce, score) of 0-dim tensors.

    m_from: None, or (e1, e2, go, ge) from which M12/M21 are computed instead (detached)
    when o['stop_grad_m']: the function whose true gradient stop_grad_m's gradient is, for
    gradcheck (at m_from = the inputs themselves it is the loss's value)."""
    B, T, _ = e1.shape
    if v1 is None:
        v1 = torch.ones((B, T), dtype=torch.bool)
    if v2 is None:
        v2 = torch.ones((B, T), dtype=torch.bool)
    tau, temp = float(o["sw_tau"]), float(o["temperature"])
    total = con = ce = score = 0.0
    for b in range(B):
        r1 = torch.nonzero(v1[b] != 0).flatten()
        r2 = torch.nonzero(v2[b] != 0).flatten()
        n1, n2 = len(r1), len(r2)
        if n1 == 0 or n2 == 0:
            raise ValueError(f"pair {b}: a view has no valid frame")
        x, y = e1[b, r1], e2[b, r2]
        lab = labels(s1[b, r1], s2[b, r2], float(o["label_var"]))
        # contrastive: KL(label || softmax_row(x y^T / temperature) [+ log_eps inside the log])
        logp = F.log_softmax((x @ y.T) / temp, dim=1)
        if float(o["log_eps"]) > 0:
            logp = torch.log(torch.exp(logp) + float(o["log_eps"]))
        l_con = (torch.xlogy(lab, lab) - lab * logp).sum() / (n1 * n2)
        # local alignment, both directions
        S12 = similarity(str(o["similarity"]), float(o["sim_eps"]), x, y)
        S21 = similarity(str(o["similarity"]), float(o["sim_eps"]), y, x)
        if int(o["per_cell_gaps"]):
            g12o, g12e = go[r1][:, r2], ge[r1][:, r2]
            g21o, g21e = go[r2][:, r1], ge[r2][:, r1]
        else:
            g12o = g21o = go.reshape(())
            g12e = g21e = ge.reshape(())
        V12, M12 = soft_sw(S12, g12o, g12e, tau)
        V21, M21 = soft_sw(S21, g21o, g21e, tau)
        if int(o["stop_grad_m"]):
            if m_from is not None:
                with torch.no_grad():
                    f1, f2, fo, fe = (t.detach() for t in m_from)
                    x0, y0 = f1[b, r1], f2[b, r2]
                    if int(o["per_cell_gaps"]):
                        a12, b12 = fo[r1][:, r2], fe[r1][:, r2]
                        a21, b21 = fo[r2][:, r1], fe[r2][:, r1]
                    else:
                        a12 = a21 = fo.reshape(())
                        b12 = b21 = fe.reshape(())
                    sim, eps = str(o["similarity"]), float(o["sim_eps"])
                    M12 = soft_sw(similarity(sim, eps, x0, y0), a12, b12, tau)[1]
                    M21 = soft_sw(similarity(sim, eps, y0, x0), a21, b21, tau)[1]
            M12, M21 = M12.detach(), M21.detach()
        A = torch.softmax(M12, dim=1)      # (n1, n2)
        Bm = torch.softmax(M21, dim=1)     # (n2, n1)
        if o["logits"] == "matmul":
            # columns at their frame positions (zeros at masked frames): A's columns are
            # view-2 frames, Bm's view-1 frames, paired by position as the reference does
            Ap = A.new_zeros((n1, T)).index_copy(1, r2, A)
            Bp = Bm.new_zeros((n2, T)).index_copy(1, r1, Bm)
            logits = Ap @ Bp.T
        elif o["logits"] == "elementwise":
            logits = A * Bm.T
        else:
            raise ValueError(f"unknown logits mode {o['logits']!r}")
        l_ce = -(lab * F.log_softmax(logits, dim=1)).sum(1).mean()
        sc = V12 + V21
        total = total + float(o["alpha"]) * l_con + float(o["beta"]) * (
            l_ce + float(o["score_weight"]) * sc)
        con, ce, score = con + l_con, ce + l_ce, score + sc
    return dict(total=total / B, contrastive=con / B, local_ce=ce / B, score=score / B)


# ---------------------------------------------------------------- the reference, literally

def _smooth_max_list(vals, t):
    """t * log sum exp(v / t) over python floats, -inf allowed (all -inf gives -inf)."""
    mx = max(vals)
    if mx == -math.inf:
        return -math.inf
    return mx + t * math.log(sum(math.exp((v - mx) / t) for v in vals))


def _literal_sw(S, go, ge, t):
    """The reference's _SoftSW forward: 1-based tables with -inf in row and column 0,
    cell by cell.  Returns (value, D[1:, 1:])."""
    N, M = len(S), len(S[0])
    inf = math.inf
    D = [[0.0] * (M + 1) for _ in range(N + 1)]
    Ix = [[0.0] * (M + 1) for _ in range(N + 1)]
    Iy = [[0.0] * (M + 1) for _ in range(N + 1)]
    for mat in (D, Ix, Iy):
        for j in range(M + 1):
            mat[0][j] = -inf
        for i in range(N + 1):
            mat[i][0] = -inf
    for i in range(1, N + 1):
        for j in range(1, M + 1):
            D[i][j] = S[i - 1][j - 1] + _smooth_max_list(
                [0.0, D[i - 1][j - 1], Ix[i - 1][j - 1], Iy[i - 1][j - 1]], t)
            Ix[i][j] = _smooth_max_list(
                [D[i][j - 1] - go[i - 1][j - 1], Ix[i][j - 1] - ge[i - 1][j - 1]], t)
            Iy[i][j] = _smooth_max_list(
                [D[i - 1][j] - go[i - 1][j - 1], Ix[i - 1][j] - go[i - 1][j - 1],
                 Iy[i - 1][j] - ge[i - 1][j - 1]], t)
    value = _smooth_max_list([v for row in D for v in row], t)
    return value, [row[1:] for row in D[1:]]


def reference_literal(e1, e2, steps1, steps2, go, ge, temperature=0.8, var=10.0):
    """compute_lac_loss with sw_bool on, as the LAC code computes it (float64 here).
    e1, e2 (B, T, d); steps (B, T); go, ge (T, T).  Returns dict of python floats."""
    e1, e2 = e1.detach().double(), e2.detach().double()
    go_l, ge_l = go.detach().double().tolist(), ge.detach().double().tolist()
    B, T, d = e1.shape
    total = con = ce = score = 0.0
    for b in range(B):
        x, y = e1[b], e2[b]
        dist = (steps1[b].view(-1, 1) - steps2[b].view(1, -1)).abs().double()
        pos = torch.exp(-dist ** 2 / (2 * var))
        label = pos / pos.sum(1, keepdim=True)
        label[torch.isnan(label)] = 0                       # safe_div
        # S = 1 / squared distance, no epsilon
        S12 = [[1.0 / float(((x[i] - y[j]) ** 2).sum()) for j in range(T)] for i in range(T)]
        S21 = [[1.0 / float(((y[i] - x[j]) ** 2).sum()) for j in range(T)] for i in range(T)]
        sw12, D12 = _literal_sw(S12, go_l, ge_l, temperature)
        sw21, D21 = _literal_sw(S21, go_l, ge_l, temperature)
        sm12 = torch.softmax(torch.tensor(D12, dtype=torch.float64), dim=-1)
        sm21 = torch.softmax(torch.tensor(D21, dtype=torch.float64), dim=-1)
        logits = sm12 @ sm21.T
        # F.cross_entropy with probability targets: -sum label * log_softmax(logits)
        l_ce_rows = [-sum(float(label[a, c]) * (float(logits[a, c]) - math.log(
            sum(math.exp(float(v)) for v in logits[a]))) for c in range(T)) for a in range(T)]
        l_ce = sum(l_ce_rows) / T
        l_loss = 0.01 * (l_ce + 1.0 * (sw12 + sw21))
        cl = (x @ y.T) / temperature
        ex = torch.exp(cl)
        p = ex / ex.sum(1, keepdim=True)
        # F.kl_div(input, target, reduction='none') = target * (log target - input),
        # 0 where target = 0
        kl = torch.xlogy(label, label) - label * torch.log(p + 1e-6)
        c_loss = float(kl.sum()) / (T * T)
        total += c_loss + l_loss
        con, ce, score = con + c_loss, ce + l_ce, score + sw12 + sw21
    return dict(total=total / B, contrastive=con / B, local_ce=ce / B, score=score / B)
