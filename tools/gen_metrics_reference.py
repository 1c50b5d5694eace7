#!/usr/bin/python3
"""Write the evaluation-metric reference files tests/ref/metrics/<case>.safetensors for
tests/test_metrics.c, computed with scikit-learn and SciPy the way the reference evaluation
code does it (METHOD.md §5, docs/evaluation.md).

What it does:
  * Draws seeded synthetic "videos" (numpy only): per action K phases, lengths 16..70 frames,
    embeddings = phase mean + progress direction * t/(L-1) + Gaussian noise, float32;
    a few frames labelled -1 at the ends and inside some videos.  Cases:
      k2, k3, k4, k5   K = 2..5 phases, train and val videos.  In k4 the first training
                       video has no labelled frame of phase 3, so classification with the
                       fraction 0.1 (1 video) trains without that class.
      ties             val videos only, embeddings on a coarse integer grid: many equal
                       distances (nearest-neighbour ties), a constant video (its pairs give
                       tau NaN), a video with one strided frame.
  * Computes with sklearn 1.2 / scipy 1.10, following the reference protocol:
      classification  LogisticRegression(solver='lbfgs', multi_class='multinomial',
                      max_iter=100000) and LinearSVC(random_state=0) on the labelled frames
                      of the first max(1, int(f * n_train)) train videos, f = 0.1, 0.5, 1.0;
                      accuracy on all labelled val frames ("cls_logreg", "cls_svm") and the
                      predictions ("logreg_pred", "svm_pred", [3, n_val_frames]).
                      Also the near-exact optima as oracles for the C solvers, checked here
                      against our own numpy gradient of the objective:
                        logreg_W{a}, logreg_b{a}, classes{a}  LogisticRegression newton-cg
                                 tol 1e-9 (binary expanded to the 2-row form [-w; w])
                        logreg_ref_W{a}, logreg_ref_b{a}      the lbfgs (protocol) fit
                        svm_W{a}, svm_b{a}    the exact squared-hinge optimum at C = 1:
                                 LinearSVC(dual=False, tol=1e-12), then generalised Newton
                                 steps in numpy until max |grad| < 1e-9 (binary: one row,
                                 > 0 -> classes[1])
                        svm_ref_W{a}, svm_ref_b{a}            the protocol fit (random_state 0)
                        svm01_W, svm01_b       the exact optimum at C = 0.1, fraction 1.0
                        logreg_proba           predict_proba of the newton-cg fit, fraction 1.0
      progression     targets (t - last frame of phase c) / L on labelled frames,
                      LinearRegression per target on float64 inputs: "progress" (mean R^2),
                      "progress_each" [K-1], "val_targets" [n_val_frames, K-1]; and
                      "progress_f32": the same with float32 inputs as the reference code
                      feeds them (sklearn then solves in float32).
      Kendall's tau   stride 5 after dropping -1 frames, cdist 'sqeuclidean', argmin,
                      kendalltau(arange, nn).correlation per ordered pair ("tau_pairs",
                      NaN kept), NaNs dropped, mean ("tau", "tau_used").
      precision@K     K = 5, 10, 15, stride 5, np.argsort(kind='stable') top K over the other
                      val videos' frames: "ap" [3], "ap_video" [3, n_val].  For k2..k5 it
                      asserts that numpy's default argsort gives the same; for ties it stores
                      the default-argsort result as "ap_default" too (they may differ).
  * Inputs are stored as train_emb/val_emb (F32 [frames, dim]), train_labels/val_labels (I32,
    with the -1 frames), train_len/val_len (I64 per video); sizes in the metadata, with the
    oracles' max |gradient| (logreg_grad{a}, svm_grad{a}, svm01_grad) for information.

What it does not do: run the C code, or use any data but its own seeded draws.

Usage: /usr/bin/python3 tools/gen_metrics_reference.py [--out tests/ref/metrics]
       /usr/bin/python3 tools/gen_metrics_reference.py --out DIR --compare tests/ref/metrics
         (regenerate into DIR, then compare with the committed files: integers exactly,
          floats to 1e-9 relative, metadata but the oracles' gradient norms exactly;
          exit 1 on a difference)
"""

from __future__ import annotations

import argparse
import json
import os
import struct
import sys
import warnings
from collections import OrderedDict

import numpy as np
from scipy.spatial.distance import cdist
from scipy.stats import kendalltau
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.svm import LinearSVC

FRACTIONS = (0.1, 0.5, 1.0)
KS = (5, 10, 15)
STRIDE = 5

# name -> (seed, K, dim, n_train, n_val, noise)
CASES = OrderedDict([
    ("k2", (11, 2, 6, 8, 4, 1.0)),
    ("k3", (12, 3, 8, 10, 6, 1.0)),
    ("k4", (13, 4, 12, 10, 5, 1.2)),
    ("k5", (14, 5, 10, 12, 6, 1.0)),
])

ST_DTYPES = {"F64": "<f8", "F32": "<f4", "I64": "<i8", "I32": "<i4"}


# ---------------------------------------------------------------- safetensors (numpy only)

def write_st(path, tensors, metadata):
    header = OrderedDict()
    header["__metadata__"] = OrderedDict((k, str(v)) for k, v in metadata.items())
    blobs, off = [], 0
    for name, (dt, arr) in tensors.items():
        a = np.ascontiguousarray(arr, dtype=ST_DTYPES[dt])
        data = a.tobytes()
        header[name] = OrderedDict(dtype=dt, shape=list(a.shape),
                                   data_offsets=[off, off + len(data)])
        blobs.append(data)
        off += len(data)
    h = json.dumps(header, separators=(",", ":")).encode("ascii")
    h += b" " * ((-(8 + len(h))) % 8)
    tmp = path + ".tmp%d" % os.getpid()
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def read_st(path):
    with open(path, "rb") as f:
        buf = f.read()
    (n,) = struct.unpack("<Q", buf[:8])
    header = json.loads(buf[8:8 + n])
    meta = header.pop("__metadata__", {})
    out = {}
    for name, e in header.items():
        a, b = e["data_offsets"]
        out[name] = np.frombuffer(buf[8 + n + a:8 + n + b],
                                  dtype=ST_DTYPES[e["dtype"]]).reshape(e["shape"])
    return out, meta


# ---------------------------------------------------------------- synthetic videos

def make_video(rng, K, L, A, v, noise, drop_phase=None, hole=False):
    w = rng.uniform(0.5, 1.5, K)
    ends = np.round(np.cumsum(w / w.sum()) * L).astype(int)
    ends[-1] = L
    lab = np.zeros(L, np.int32)
    s = 0
    for k in range(K):
        lab[s:max(ends[k], s + 1)] = k
        s = max(ends[k], s + 1)
    t = np.arange(L) / (L - 1)
    emb = A[lab] + t[:, None] * v[None, :] + noise * rng.standard_normal((L, A.shape[1]))
    head, tail = rng.integers(0, 3), rng.integers(0, 3)
    lab[:head] = -1
    if tail:
        lab[L - tail:] = -1
    if hole:
        a = int(rng.integers(L // 3, L // 2))
        lab[a:a + 4] = -1
    if drop_phase is not None:
        lab[lab == drop_phase] = -1
    return emb.astype(np.float32), lab


def make_case(seed, K, dim, n_train, n_val, noise):
    rng = np.random.default_rng(seed)
    A = 0.8 * rng.standard_normal((K, dim))
    v = rng.standard_normal(dim)
    train = [make_video(rng, K, int(rng.integers(16, 70)), A, v, noise,
                        drop_phase=(K - 1 if (K == 4 and i == 0) else None),
                        hole=(i % 4 == 2)) for i in range(n_train)]
    val = [make_video(rng, K, int(rng.integers(16, 70)), A, v, noise, hole=(i % 3 == 1))
           for i in range(n_val)]
    return train, val


def make_ties():
    """Val videos on an integer grid: equal distances everywhere."""
    rng = np.random.default_rng(15)
    K, vids = 3, []
    for i in range(6):
        L = [40, 33, 27, 45, 30, 4][i]
        lab = np.minimum((np.arange(L) * K) // L, K - 1).astype(np.int32)
        if i == 5:  # 4 frames: one strided frame only (its tau as a query is NaN)
            lab[:] = np.arange(4) % K
        emb = np.stack([lab, (np.arange(L) * 3) // L, np.zeros(L)], 1).astype(np.float32)
        emb += rng.integers(0, 2, (L, 3)).astype(np.float32) * (i % 2)
        if i == 2:  # constant video: as a candidate every nn is 0 -> tau NaN
            emb[:] = 1.0
        lab[:i % 3] = -1
        vids.append((emb, lab))
    return K, vids


# ---------------------------------------------------------------- the reference protocol

def labelled(videos):
    return [e[l >= 0] for e, l in videos], [l[l >= 0] for e, l in videos]


def logreg_grad(W, b, X, y, C=1.0):
    """Our own gradient of sum CE + ||W||^2 / (2C): the check of the oracle's optimality."""
    Z = X @ W.T + b
    Z -= Z.max(1, keepdims=True)
    P = np.exp(Z)
    P /= P.sum(1, keepdims=True)
    P[np.arange(len(y)), y] -= 1
    return max(np.abs(P.T @ X + W / C).max(), np.abs(P.sum(0)).max())


def svm_grad(W, b, X, y, classes, C):
    """Gradient of 1/2 |[w b]|^2 + C sum max(0, 1 - s_i (w.x_i + b))^2 per one-vs-rest row."""
    g = 0.0
    rows = [classes[1]] if len(classes) == 2 else list(classes)
    for r, c in enumerate(rows):
        s = np.where(y == c, 1.0, -1.0)
        m = 1 - s * (X @ W[r] + b[r])
        a = m > 0
        gw = W[r] - 2 * C * ((s[a] * m[a])[:, None] * X[a]).sum(0)
        gb = b[r] - 2 * C * (s[a] * m[a]).sum()
        g = max(g, np.abs(gw).max(), abs(gb))
    return g


def svm_refine(W, b, X, y, classes, C):
    """Generalised Newton steps on the squared-hinge primal of each one-vs-rest row, from
    liblinear's primal solution: the objective is piecewise quadratic, so once the active set
    settles one step lands on the optimum (to rounding).  Returns new W, b."""
    W, b = W.copy(), b.copy()
    rows = [classes[1]] if len(classes) == 2 else list(classes)
    Xa = np.hstack([X, np.ones((len(X), 1))])
    for r, c in enumerate(rows):
        s = np.where(y == c, 1.0, -1.0)
        w = np.concatenate([W[r], [b[r]]])
        for _ in range(50):
            m = 1 - s * (Xa @ w)
            a = m > 0
            g = w - 2 * C * ((s[a] * m[a])[:, None] * Xa[a]).sum(0)
            if np.abs(g).max() < 1e-12:
                break
            H = np.eye(len(w)) + 2 * C * Xa[a].T @ Xa[a]
            w = w - np.linalg.solve(H, g)
        W[r], b[r] = w[:-1], w[-1]
    return W, b


def fit_all(Xt, yt, Xv):
    classes = np.unique(yt)
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = LogisticRegression(solver="lbfgs", multi_class="multinomial",
                                 max_iter=100000).fit(Xt, yt)
        # newton-cg warns when its line search stalls at the rounding floor; the gradient
        # check below is what decides whether the oracle is good
        warnings.simplefilter("ignore")
        tight = LogisticRegression(solver="newton-cg", multi_class="multinomial", tol=1e-9,
                                   max_iter=1000).fit(Xt, yt)
        svm_ref = LinearSVC(random_state=0).fit(Xt, yt)
        svm_opt = LinearSVC(dual=False, tol=1e-12, max_iter=100000).fit(Xt, yt)
    out["classes"] = classes
    for key, m in (("logreg", tight), ("logreg_ref", ref)):
        W, b = m.coef_, m.intercept_
        if len(classes) == 2:
            W, b = np.vstack([-W, W]), np.concatenate([-b, b])
        out[key] = (W, b)
    g = logreg_grad(*out["logreg"], Xt, np.searchsorted(classes, yt))
    assert g < 1e-7, "newton-cg oracle not converged: max |grad| %g" % g
    out["logreg_grad"] = g
    out["svm"] = svm_refine(svm_opt.coef_, svm_opt.intercept_, Xt, yt, classes, 1.0)
    out["svm_ref"] = (svm_ref.coef_, svm_ref.intercept_)
    g = svm_grad(*out["svm"], Xt, yt, classes, 1.0)
    assert g < 1e-9, "primal SVM oracle not converged: max |grad| %g" % g
    out["svm_grad"] = g
    out["logreg_pred"] = ref.predict(Xv)
    out["svm_pred"] = svm_ref.predict(Xv)
    out["tight_proba"] = tight.predict_proba(Xv)
    return out


def progress_targets(lab, K):
    L = len(lab)
    cols = [(np.arange(L, dtype=np.float64) - np.argwhere(lab == c)[-1, 0]) / L
            for c in range(K - 1)]
    return np.stack(cols, 1)


def progression(tr_e, tr_l, va_e, va_l, K, dtype):
    Xt = np.concatenate(tr_e).astype(dtype)
    Xv = np.concatenate(va_e).astype(dtype)
    Yt = np.concatenate([progress_targets(l, K) for l in tr_l])
    Yv = np.concatenate([progress_targets(l, K) for l in va_l])
    each = [LinearRegression().fit(Xt, Yt[:, c]).score(Xv, Yv[:, c]) for c in range(K - 1)]
    return float(np.mean(each)), np.array(each), Yv


def kendall(va_e):
    n = len(va_e)
    taus = []
    for i in range(n):
        q = va_e[i][::STRIDE]
        for j in range(n):
            if i == j:
                continue
            nn = np.argmin(cdist(q, va_e[j][::STRIDE], "sqeuclidean"), axis=1)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                taus.append(kendalltau(np.arange(len(nn)), nn).correlation)
    taus = np.array(taus, dtype=np.float64)
    ok = taus[~np.isnan(taus)]
    return float(np.mean(ok)), taus, len(ok)


def precision_at_k(va_e, va_l, K, kind):
    n = len(va_e)
    per = np.zeros(n)
    for i in range(n):
        q, ql = va_e[i][::STRIDE], va_l[i][::STRIDE]
        c = np.concatenate([va_e[j][::STRIDE] for j in range(n) if j != i])
        cl = np.concatenate([va_l[j][::STRIDE] for j in range(n) if j != i])
        top = np.argsort(cdist(q, c, "sqeuclidean"), axis=1, kind=kind)[:, :K]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            per[i] = sum(np.mean(int(ql[t]) == cl[top[t]]) for t in range(len(q))) / len(q)
    return float(np.mean(per[~np.isnan(per)])), per


def video_tensors(prefix, videos):
    return {
        prefix + "_emb": ("F32", np.concatenate([e for e, _ in videos])),
        prefix + "_labels": ("I32", np.concatenate([l for _, l in videos])),
        prefix + "_len": ("I64", np.array([len(l) for _, l in videos])),
    }


def retrieval_and_tau(va_e, va_l, T, check_default):
    tau, taus, used = kendall(va_e)
    T["tau"] = ("F64", np.array([tau]))
    T["tau_pairs"] = ("F64", taus)
    T["tau_used"] = ("I64", np.array([used]))
    aps, per, apd = [], [], []
    for K in KS:
        a, p = precision_at_k(va_e, va_l, K, "stable")
        d, _ = precision_at_k(va_e, va_l, K, "quicksort")
        if check_default:
            assert a == d, "default argsort differs from a stable one without ties"
        aps.append(a)
        per.append(p)
        apd.append(d)
    T["ap"] = ("F64", np.array(aps))
    T["ap_video"] = ("F64", np.stack(per))
    return tau, used, aps, apd


def gen_case(name, out_dir):
    seed, K, dim, n_train, n_val, noise = CASES[name]
    train, val = make_case(seed, K, dim, n_train, n_val, noise)
    tr_e, tr_l = labelled(train)
    va_e, va_l = labelled(val)
    Xv = np.concatenate(va_e).astype(np.float64)
    yv = np.concatenate(va_l)
    T = OrderedDict()
    T.update(video_tensors("train", train))
    T.update(video_tensors("val", val))
    acc_lr, acc_svm, pred_lr, pred_svm = [], [], [], []
    report = []
    grads = {}
    for a, f in enumerate(FRACTIONS):
        nu = max(1, int(f * n_train))
        Xt = np.concatenate(tr_e[:nu]).astype(np.float64)
        yt = np.concatenate(tr_l[:nu])
        r = fit_all(Xt, yt, Xv)
        acc_lr.append(float(np.mean(r["logreg_pred"] == yv)))
        acc_svm.append(float(np.mean(r["svm_pred"] == yv)))
        pred_lr.append(r["logreg_pred"])
        pred_svm.append(r["svm_pred"])
        T["classes%d" % a] = ("I32", r["classes"])
        for key in ("logreg", "logreg_ref", "svm", "svm_ref"):
            T["%s_W%d" % (key, a)] = ("F64", r[key][0])
            T["%s_b%d" % (key, a)] = ("F64", r[key][1])
        if a == 2:
            T["logreg_proba"] = ("F64", r["tight_proba"])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                s01 = LinearSVC(C=0.1, dual=False, tol=1e-12, max_iter=100000).fit(Xt, yt)
            W01, b01 = svm_refine(s01.coef_, s01.intercept_, Xt, yt, r["classes"], 0.1)
            g = svm_grad(W01, b01, Xt, yt, r["classes"], 0.1)
            assert g < 1e-9, "C=0.1 SVM oracle not converged: %g" % g
            grads["svm01_grad"] = g
            T["svm01_W"] = ("F64", W01)
            T["svm01_b"] = ("F64", b01)
        report.append("f%.1f: %d classes, |grad| logreg %.1e svm %.1e" %
                      (f, len(r["classes"]), r["logreg_grad"], r["svm_grad"]))
        grads["logreg_grad%d" % a] = r["logreg_grad"]
        grads["svm_grad%d" % a] = r["svm_grad"]
    T["cls_logreg"] = ("F64", np.array(acc_lr))
    T["cls_svm"] = ("F64", np.array(acc_svm))
    T["logreg_pred"] = ("I32", np.stack(pred_lr))
    T["svm_pred"] = ("I32", np.stack(pred_svm))
    prog, each, Yv = progression(tr_e, tr_l, va_e, va_l, K, np.float64)
    prog32, _, _ = progression(tr_e, tr_l, va_e, va_l, K, np.float32)
    T["progress"] = ("F64", np.array([prog]))
    T["progress_each"] = ("F64", each)
    T["progress_f32"] = ("F64", np.array([prog32]))
    T["val_targets"] = ("F64", Yv)
    tau, used, aps, _ = retrieval_and_tau(va_e, va_l, T, True)
    meta = dict(case=name, K=K, dim=dim, n_train=n_train, n_val=n_val, stride=STRIDE)
    meta.update((k, "%.3e" % v) for k, v in grads.items())
    path = os.path.join(out_dir, name + ".safetensors")
    write_st(path, T, meta)
    print("%s: K %d dim %d, %d/%d frames; logreg %s svm %s; progress %.6f (f32 %.6f); "
          "tau %.6f (%d pairs); ap %s; %s" %
          (name, K, dim, sum(map(len, tr_l)), len(yv),
           " ".join("%.4f" % x for x in acc_lr), " ".join("%.4f" % x for x in acc_svm),
           prog, prog32, tau, used, " ".join("%.4f" % x for x in aps), "; ".join(report)))


def gen_ties(out_dir):
    K, val = make_ties()
    va_e, va_l = labelled(val)
    T = OrderedDict()
    T.update(video_tensors("val", val))
    tau, used, aps, apd = retrieval_and_tau(va_e, va_l, T, False)
    T["ap_default"] = ("F64", np.array(apd))
    meta = dict(case="ties", K=K, dim=3, n_train=0, n_val=len(val), stride=STRIDE)
    write_st(os.path.join(out_dir, "ties.safetensors"), T, meta)
    print("ties: tau %.6f (%d of %d pairs), ap stable %s, default argsort %s" %
          (tau, used, len(val) * (len(val) - 1), " ".join("%.4f" % x for x in aps),
           " ".join("%.4f" % x for x in apd)))


def compare(new_dir, old_dir):
    bad = 0
    for name in list(CASES) + ["ties"]:
        a, ma = read_st(os.path.join(new_dir, name + ".safetensors"))
        b, mb = read_st(os.path.join(old_dir, name + ".safetensors"))
        # the oracles' gradient norms (rounding-level numbers) are informative only
        ma = {k: v for k, v in ma.items() if "grad" not in k}
        mb = {k: v for k, v in mb.items() if "grad" not in k}
        if ma != mb or set(a) != set(b):
            print("%s: metadata or tensor names differ" % name)
            bad += 1
            continue
        for k in a:
            x, y = a[k], b[k]
            if x.shape != y.shape:
                ok = False
            elif x.dtype.kind == "f":
                ok = bool(np.all((np.isnan(x) == np.isnan(y)) &
                                 (np.isnan(x) | (np.abs(x - y) <= 1e-9 * np.maximum(1, np.abs(y))))))
            else:
                ok = bool(np.array_equal(x, y))
            if not ok:
                print("%s: %s differs" % (name, k))
                bad += 1
    print("compare: %s" % ("all equal" if not bad else "%d differences" % bad))
    return bad == 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "tests",
                                                  "ref", "metrics"))
    ap.add_argument("--compare", metavar="DIR", help="compare the new files with DIR's")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for name in CASES:
        gen_case(name, args.out)
    gen_ties(args.out)
    if args.compare and not compare(args.out, args.compare):
        sys.exit(1)


if __name__ == "__main__":
    main()
