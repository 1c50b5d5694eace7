"""Smoothed Smith-Waterman with affine gaps in PyTorch, vectorised along anti-diagonals.

What this module does:
  * ``sw_torch(S, go, ge, tau, lengths=None)``: the recurrences of
    /work/shared/docs/SW_AFFINE.md (the same function as lib/align/sw_cpu.c) for a batch
    of pairs, with autograd: returns the scores V [B] and the match tables M [B, N, M].
    Pairs of different lengths are padded to the batch's N x M; padding cells get
    S = -1e30 and zero gaps, so they neither change a pair's V and M nor get gradient
    (a batch equals its pairs run one by one).  go / ge: per cell ([B, N, M]) or one
    value per pair ([B] or a scalar).
  * ``sw_torch_pairs(pairs, tau, per_cell)``: the same for a list of (S, go, ge) of
    different shapes, returning V [B] and the list of cropped M.

One step of the loop computes a whole anti-diagonal d = i + j of every pair: M on d
needs diagonal d - 2, X and Y need d - 1; a diagonal is held as a vector over i.  The
inputs are skewed into [B, D, N] diagonals (and M back) by padding and re-reading rows,
which autograd differentiates cheaply (no scatter).

What it does not do:
  * No hard mode (tau = 0) and no backtracking: tau must be > 0.
  * No custom backward: the gradients are autograd's through the logsumexp steps (this
    is the PyTorch baseline bench/bench_sw_torch.py times against the C code).
  * It is never used at run time by the C library.  tools/check_sw_torch.py checks it
    against a plain double loop and finite differences.
"""

from __future__ import annotations

from typing import List, Optional, Sequence, Tuple

import torch

NEG = -1e30  # the finite stand-in for -inf (LAC_SW_NEG_INF)


def _smax(terms: torch.Tensor, tau: float) -> torch.Tensor:
    """tau * logsumexp(terms / tau) over dim 0 (max-subtracted, as torch does it)."""
    return tau * torch.logsumexp(terms / tau, dim=0)


def _shift(v: torch.Tensor) -> torch.Tensor:
    """v'[..., i] = v[..., i - 1] along the last dim, the sentinel at i = 0."""
    pad = torch.full(v.shape[:-1] + (1,), NEG, dtype=v.dtype, device=v.device)
    return torch.cat([pad, v[..., :-1]], dim=-1)


def _skew(A: torch.Tensor, fill: float) -> torch.Tensor:
    """A [B, N, M] -> [B, D, N] with out[b, d, i] = A[b, i, d - i] (`fill` off the matrix),
    D = N + M - 1: pad each row with N values and re-read the flat rows one shorter."""
    B, N, Mx = A.shape
    flat = torch.nn.functional.pad(A, (0, N), value=fill).reshape(B, N * (Mx + N))
    return flat[:, : N * (Mx + N - 1)].reshape(B, N, Mx + N - 1).transpose(1, 2)


def _unskew(Ad: torch.Tensor, Mx: int) -> torch.Tensor:
    """The inverse of _skew: Ad [B, D, N] -> [B, N, M], out[b, i, j] = Ad[b, i + j, i]."""
    B, D, N = Ad.shape
    flat = torch.nn.functional.pad(Ad.transpose(1, 2).reshape(B, N * D), (0, N))
    return flat.reshape(B, N, D + 1)[:, :, :Mx]


def sw_torch(S: torch.Tensor, go: torch.Tensor, ge: torch.Tensor, tau: float,
             lengths: Optional[Tuple[Sequence[int], Sequence[int]]] = None
             ) -> Tuple[torch.Tensor, torch.Tensor]:
    """S: [B, N, M]; go, ge: [B, N, M], [B] or scalars; lengths: (n[B], m[B]) or None
    (every pair N x M).  Returns V [B] and M [B, N, M] (padding cells hold about -1e30).

    Cells off a pair (padding, and the skewed layout's j < 0 and j >= M) get S = -1e30 and
    zero gaps: their M is about -1e30, so they take no weight in any smooth max of a real
    cell or in V, and cells with j < 0 stay at the sentinel; cells with j >= M only feed
    other such cells.  So no masks are needed inside the loop."""
    if not tau > 0:
        raise ValueError(f"sw_torch: tau = {tau}; the smoothed alignment needs tau > 0")
    B, N, Mx = S.shape
    dt, dev = S.dtype, S.device
    go = torch.as_tensor(go, dtype=dt, device=dev)
    ge = torch.as_tensor(ge, dtype=dt, device=dev)
    if go.dim() <= 1:  # one value per pair (or for all)
        go = go.reshape(-1, 1, 1).expand(B, N, Mx)
        ge = ge.reshape(-1, 1, 1).expand(B, N, Mx)
    if lengths is not None:
        n = torch.as_tensor(lengths[0], device=dev).reshape(B, 1, 1)
        m = torch.as_tensor(lengths[1], device=dev).reshape(B, 1, 1)
        valid = ((torch.arange(N, device=dev).reshape(1, N, 1) < n)
                 & (torch.arange(Mx, device=dev).reshape(1, 1, Mx) < m))
        S = torch.where(valid, S, torch.full_like(S, NEG))
        go = torch.where(valid, go, torch.zeros_like(go))
        ge = torch.where(valid, ge, torch.zeros_like(ge))
    D = N + Mx - 1
    # one [B, N] tensor per diagonal (unbind: a single cheap node in the backward, where
    # indexing the [B, D, N] tensors per step would scatter into a full-size gradient)
    Sd = _skew(S, NEG).unbind(1)
    god = _skew(go, 0.0).unbind(1)
    ged = _skew(ge, 0.0).unbind(1)
    neg = torch.full((B, N), NEG, dtype=dt, device=dev)
    zero = torch.zeros((1, B, N), dtype=dt, device=dev)
    p2, p1 = (neg, neg, neg), (neg, neg, neg)  # (M, X, Y) on diagonals d - 2 and d - 1
    Ms: List[torch.Tensor] = []
    for d in range(D):
        o, e = god[d], ged[d]
        sh2 = _shift(torch.stack(p2))
        Mn = Sd[d] + _smax(torch.cat([zero, sh2]), tau)
        Xn = _smax(torch.stack([p1[0] - o, p1[1] - e]), tau)
        sh1 = _shift(torch.stack(p1)) - torch.stack([o, o, e])
        Yn = _smax(sh1, tau)
        Ms.append(Mn)
        p2, p1 = p1, (Mn, Xn, Yn)
    Md = torch.stack(Ms, dim=1)  # [B, D, N]
    V = _smax(Md.reshape(B, -1).transpose(0, 1), tau)
    return V, _unskew(Md, Mx)


def _pad_to(x: torch.Tensor, N: int, Mx: int) -> torch.Tensor:
    return torch.nn.functional.pad(x, (0, Mx - x.shape[1], 0, N - x.shape[0]))


def sw_torch_pairs(pairs: Sequence[Tuple[torch.Tensor, torch.Tensor, torch.Tensor]],
                   tau: float, per_cell: bool) -> Tuple[torch.Tensor, List[torch.Tensor]]:
    """pairs: (S [n, m], go, ge) each, go/ge [n, m] (per_cell) or 1 value.  Returns V [B]
    and the cropped M tables."""
    B = len(pairs)
    N = max(p[0].shape[0] for p in pairs)
    Mx = max(p[0].shape[1] for p in pairs)
    S = torch.stack([_pad_to(p[0], N, Mx) for p in pairs])
    if per_cell:
        go = torch.stack([_pad_to(p[1], N, Mx) for p in pairs])
        ge = torch.stack([_pad_to(p[2], N, Mx) for p in pairs])
    else:
        go = torch.stack([p[1].reshape(()) for p in pairs])
        ge = torch.stack([p[2].reshape(()) for p in pairs])
    n = [p[0].shape[0] for p in pairs]
    m = [p[0].shape[1] for p in pairs]
    V, M = sw_torch(S, go, ge, tau, (n, m))
    return V, [M[b, :n[b], :m[b]] for b in range(B)]
