#!/usr/bin/python3
"""Quick self-check of the Python tools (lac_torch.py, convert.py, gen_reference.py).

What it does: checks the safetensors writer/reader round trip and its
strictness, Arch metadata, the positional encoding and uint8 normalisation,
convert.py on a fake LAC reference checkpoint (tensors copied exactly, go/ge
kept, features.* mismatch warned about and preferred), convert.py on a
torchvision state_dict, clear errors with exit status 2 (and no traceback)
on corrupt or unexpected inputs, that LacEncoder in "frame" mode reproduces
the reference-layout forward (context 1 and 2), that "time"/"frame"
attention differ the way they should, that gen_reference.py encoder files
are self-consistent and deterministic, and that the committed tests/ref
layer files match what the generator produces now.

What it does not do: it does not test the C library, and by default it uses
a shrunken fake checkpoint (resnet18 trunk, small head, 80x80 frames) to stay
fast; --full adds the paper-size resnet50 checkpoint (slower, ~200 MB temp).

Usage: /usr/bin/python3 tools/test_tools.py [--full] [-k SUBSTRING]
Prints one line per check and finally "tools: N passed, M failed"; exits 1
if anything failed.
"""

import argparse
import contextlib
import os
import struct
import subprocess
import sys
import tempfile
import time
import traceback
from collections import OrderedDict

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torchvision  # noqa: E402

import gen_reference  # noqa: E402
import lac_torch  # noqa: E402
from lac_torch import (Arch, LacEncoder, load_model_file, normalize_rgb8,  # noqa: E402
                       read_safetensors, sincos, state_dict_for_file, write_safetensors)

CONVERT = os.path.join(HERE, "convert.py")
GEN = os.path.join(HERE, "gen_reference.py")

TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


class Ctx:
    """Shared temp dir and lazily built fixtures."""

    def __init__(self, tmp, full):
        self.tmp = tmp
        self.full = full
        self._ckpt = None

    def path(self, name):
        return os.path.join(self.tmp, name)

    def small_ckpt(self):
        """(path, ckpt dict, input, output, ref module) for the shrunken reference."""
        if self._ckpt is None:
            ckpt, x, y, ref = gen_reference.make_fake_checkpoint(
                seed=5, frames=4, input_size=80, gap_size=8, trunk="resnet18", conv=24,
                fc=20, d_model=16, heads=4, ff=32, layers=2, emb=12, train_len=8)
            p = self.path("ref_ckpt.pth")
            torch.save(ckpt, p)
            self._ckpt = (p, ckpt, x, y, ref)
        return self._ckpt


def run(args, expect=None):
    r = subprocess.run([sys.executable] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True)
    if expect is not None and r.returncode != expect:
        raise AssertionError(f"{' '.join(args)}: exit {r.returncode}, expected {expect}\n"
                             f"stdout: {r.stdout}\nstderr: {r.stderr}")
    return r


class Result:
    def __init__(self, returncode, stdout, stderr):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def convert(args, expect=None):
    """Run convert.main(args) in-process (fast); same Result shape as run()."""
    import io
    import convert as convert_mod
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = convert_mod.main(args)
        except SystemExit as e:  # argparse
            rc = e.code
    r = Result(rc, out.getvalue(), err.getvalue())
    if expect is not None and rc != expect:
        raise AssertionError(f"convert.py {' '.join(args)}: exit {rc}, expected {expect}\n"
                             f"stderr: {r.stderr}")
    return r


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def assert_user_error(r, *needles):
    check(r.returncode == 2, f"exit {r.returncode}, expected 2; stderr: {r.stderr}")
    check("Traceback" not in r.stderr, f"traceback on a user error:\n{r.stderr}")
    check("error:" in r.stderr, f"no 'error:' message: {r.stderr!r}")
    for n in needles:
        check(n in r.stderr, f"error message lacks {n!r}: {r.stderr!r}")


def convert_lac(ctx, ckpt_path, out, *extra, expect=0):
    return convert(["lac", ckpt_path, "-o", out] + list(extra), expect=expect)


# --------------------------------------------------------------------------

@test
def safetensors_roundtrip(ctx):
    g = torch.Generator().manual_seed(1)
    t = OrderedDict()
    t["scalar"] = torch.tensor(3.25)
    t["vec"] = torch.randn(5, generator=g)
    t["odd"] = torch.randn(3, 1, 7, generator=g)          # 84 bytes: not a multiple of 8
    t["u8"] = torch.randint(0, 256, (2, 3, 3), dtype=torch.uint8, generator=g)
    t["i64"] = torch.arange(-3, 4, dtype=torch.int64)
    t["empty"] = torch.zeros(0, 4)
    t["noncontig"] = torch.randn(4, 6, generator=g).t()
    meta = {"a": "1", "lac.name": "x y", "unicode": "é"}
    p = ctx.path("rt.safetensors")
    write_safetensors(p, t, meta)
    raw = open(p, "rb").read()
    (hlen,) = struct.unpack("<Q", raw[:8])
    check((8 + hlen) % 8 == 0, "data start not 8-aligned")
    back, m2 = read_safetensors(p)
    check(m2 == meta, f"metadata {m2} != {meta}")
    check(list(back) == list(t), f"order {list(back)} != {list(t)}")
    for k in t:
        check(back[k].dtype == t[k].dtype and back[k].shape == t[k].shape and
              torch.equal(back[k], t[k]), f"tensor {k} differs")
    # packed in order, no gaps: data section length = sum of sizes
    check(len(raw) - 8 - hlen == sum(v.numel() * v.element_size() for v in t.values()),
          "data section has gaps or trailing bytes")


@test
def safetensors_reader_is_strict(ctx):
    p = ctx.path("ok.safetensors")
    write_safetensors(p, OrderedDict(a=torch.ones(3), b=torch.ones(2)), {"k": "v"})
    raw = open(p, "rb").read()
    (hlen,) = struct.unpack("<Q", raw[:8])
    header = raw[8:8 + hlen]

    def bad(name, data, needle):
        q = ctx.path(name)
        with open(q, "wb") as f:
            f.write(data)
        try:
            read_safetensors(q)
        except ValueError as e:
            check(needle in str(e), f"{name}: message {e!r} lacks {needle!r}")
        else:
            raise AssertionError(f"{name}: corrupt file accepted")

    bad("trunc.st", raw[:-4], "bytes")
    bad("short.st", raw[:5], "too short")
    bad("hlen.st", struct.pack("<Q", 1 << 40) + raw[8:], "header length")
    bad("json.st", raw[:8] + b"x" + raw[9:], "JSON")
    bad("trail.st", raw + b"\0\0\0\0", "trailing")
    gap = header.replace(b'"data_offsets":[12,20]', b'"data_offsets":[16,24]')
    check(gap != header, "test setup: offsets not found in header")
    bad("gap.st", raw[:8] + gap + raw[8 + hlen:] + b"\0" * 4, "gap or overlap")
    dup = header.replace(b'"b":', b'"a":', 1)
    check(dup != header, "test setup: key b not found in header")
    bad("dup.st", raw[:8] + dup + raw[8 + hlen:], "duplicate")
    dt = header.replace(b'"F32"', b'"Q99"', 1)
    bad("dtype.st", raw[:8] + dt + raw[8 + hlen:], "dtype")


@test
def arch_metadata(ctx):
    for kw in (dict(), dict(trunk="resnet18", input_size=112, attention="frame"),
               dict(trunk="resnet34", context=3, l2_normalize=True)):
        a = Arch(**kw)
        m = a.to_meta()
        check(all(isinstance(v, str) for v in m.values()), "non-string metadata")
        check(Arch.from_meta(m) == a, f"round trip failed for {kw}")
    check(Arch(trunk="resnet18").layer3_blocks == 2, "resnet18 layer3_blocks should be 2")
    check(Arch().layer3_blocks == 3, "resnet50 layer3_blocks should be 3")
    m = Arch().to_meta()
    m["lac.arch.attention"] = "space"
    for bad in (m, {"lac.format": "nope"}):
        try:
            Arch.from_meta(bad)
        except ValueError:
            pass
        else:
            raise AssertionError("bad metadata accepted")


@test
def posenc_matches_reference(ctx):
    for s, d, tl in ((32, 256, 32), (5, 256, 32), (1, 256, 32), (64, 256, 32), (3, 16, 8)):
        ours = sincos(s, d, tl)
        ref = gen_reference.ref_sincos(s, d, None if s == tl else tl)[0]
        check(ours.dtype == torch.float64 and torch.equal(ours, ref), f"posenc {s},{d},{tl} differs")
    pe = sincos(5, 8, 32).numpy()
    check(abs(pe[4, 0] - np.sin(31.0)) < 1e-15 and abs(pe[4, 1] - np.cos(31 / 10000 ** (1 / 8))) < 1e-15,
          "posenc formula")


@test
def normalize_rgb8_exact(ctx):
    g = torch.Generator().manual_seed(3)
    rgb = torch.randint(0, 256, (2, 4, 5, 3), dtype=torch.uint8, generator=g)
    a = rgb.numpy().astype(np.float32).transpose(0, 3, 1, 2)
    mean = np.array(lac_torch.IMAGENET_MEAN, np.float32).reshape(1, 3, 1, 1)
    std = np.array(lac_torch.IMAGENET_STD, np.float32).reshape(1, 3, 1, 1)
    ref = (a / np.float32(255) - mean) / std
    out = normalize_rgb8(rgb)
    check(out.dtype == torch.float32 and out.shape == (2, 3, 4, 5), "shape/dtype")
    check(np.array_equal(out.numpy(), ref.astype(np.float32)), "values differ from numpy float32")


@test
def convert_lac_copies_tensors(ctx):
    p, ckpt, _, _, _ = ctx.small_ckpt()
    out = ctx.path("lac.safetensors")
    r = run([CONVERT, "lac", p, "-o", out], expect=0)  # a real process, end to end
    check("warning" not in r.stderr, f"unexpected warning: {r.stderr}")
    t, meta = read_safetensors(out)
    sd = ckpt["model_state_dict"]
    for name, v in t.items():
        src = ckpt[name] if name in ("go", "ge") else sd[name]
        check(v.dtype == torch.float32 and torch.equal(v, src.detach()), f"{name} differs")
    check("go" in t and "ge" in t and t["go"].shape == (8, 8), "go/ge missing")
    for name in t:
        check(not name.startswith(("features.", "model.layer4.", "model.fc.")) and
              "num_batches_tracked" not in name, f"{name} should have been dropped")
    model = LacEncoder(Arch.from_meta(meta))
    check(set(t) - {"go", "ge"} == set(state_dict_for_file(model)), "tensor set mismatch")
    check(meta["lac.source"] == "lac-checkpoint:ref_ckpt.pth epoch 7", meta["lac.source"])
    check(meta["lac.arch.attention"] == "frame" and meta["lac.arch.trunk"] == "resnet18" and
          meta["lac.arch.layer3_blocks"] == "2" and meta["lac.arch.d_model"] == "16" and
          meta["lac.arch.conv_channels"] == "24" and meta["lac.arch.embed_dim"] == "12",
          f"inferred arch wrong: {meta}")


@test
def frame_mode_reproduces_reference(ctx):
    p, _, x, y, ref = ctx.small_ckpt()
    out = ctx.path("lac_frame.safetensors")
    convert_lac(ctx, p, out, "--input-size", "80", "--heads", "4", "--train-len", "8")
    model, meta, _ = load_model_file(out)
    with torch.no_grad():
        ours = model(x)
    d = (ours - y).abs().max().item()
    check(d <= 1e-5, f"frame mode vs reference: max diff {d}")
    # context 2: the reference's grouping of consecutive frames
    out2 = ctx.path("lac_frame_c2.safetensors")
    convert_lac(ctx, p, out2, "--input-size", "80", "--heads", "4", "--train-len", "8",
                "--context", "2")
    model2, _, _ = load_model_file(out2)
    with torch.no_grad():
        ours2 = model2(x)
        y2 = ref(x.unsqueeze(0), num_context=2).squeeze(0)
    d2 = (ours2 - y2).abs().max().item()
    check(ours2.shape == (2, 12) and d2 <= 1e-5, f"context 2 vs reference: max diff {d2}")
    return f"max diff {d:.1e} (c=1), {d2:.1e} (c=2)"


@test
def features_mismatch_warns(ctx):
    p, ckpt, _, _, _ = ctx.small_ckpt()
    sd = OrderedDict(ckpt["model_state_dict"])
    name = "features.6.0.conv1.weight"
    changed = sd[name].clone() + 1.0
    sd[name] = changed
    bad = dict(ckpt, model_state_dict=sd)
    q = ctx.path("mismatch.pth")
    torch.save(bad, q)
    out = ctx.path("mismatch.safetensors")
    r = convert_lac(ctx, q, out)
    check("warning" in r.stderr and name in r.stderr and "features.*" in r.stderr and
          "reference forward" in r.stderr, f"no proper warning: {r.stderr!r}")
    t, _ = read_safetensors(out)
    check(torch.equal(t["model.layer3.0.conv1.weight"], changed),
          "features.* value was not preferred")


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):  # unpickling would create the marker file
        return (open, (self.marker, "w"))


@test
def realistic_checkpoint_and_malicious_pickle(ctx):
    """module.-prefixed state_dict, real Adam state (floats), no go/ge; evil pickle refused."""
    p, ckpt, x, y, ref = ctx.small_ckpt()
    sd = OrderedDict(("module." + k, v) for k, v in ckpt["model_state_dict"].items())
    params = [v.clone().requires_grad_() for v in list(ckpt["model_state_dict"].values())[:3]]
    opt = torch.optim.Adam([{"params": params, "lr": 1e-4}], betas=(0.9, 0.999),
                           weight_decay=1e-5)
    sum(q.sum() for q in params).backward()
    opt.step()
    q = ctx.path("real_like.pth")
    torch.save({"epoch": 3, "model_state_dict": sd, "optimizer_state_dict": opt.state_dict()}, q)
    out = ctx.path("real_like.safetensors")
    r = convert_lac(ctx, q, out, "--input-size", "80", "--heads", "4", "--train-len", "8")
    check("no 'go'" in r.stderr, f"missing go/ge not reported: {r.stderr!r}")
    model, meta, extra = load_model_file(out)
    check(not extra and meta["lac.source"].endswith("epoch 3"), "go/ge or epoch wrong")
    with torch.no_grad():
        d = (model(x) - y).abs().max().item()
    check(d <= 1e-5, f"module.-prefixed checkpoint: max diff {d}")
    marker = ctx.path("PWNED")
    evil = ctx.path("evil.pth")
    torch.save({"epoch": 1, "model_state_dict": {}, "x": _Evil(marker)}, evil)
    r = convert_lac(ctx, evil, ctx.path("evil.safetensors"), expect=2)
    assert_user_error(r, "refusing to load", "--unsafe-load")
    check(not os.path.exists(marker), "malicious pickle was executed")


@test
def convert_torchvision(ctx):
    torch.manual_seed(11)
    rn = torchvision.models.resnet18()
    for m in rn.modules():  # make BN stats non-default so copying is visible
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.normal_()
    p = ctx.path("rn18.pth")
    torch.save(rn.state_dict(), p)
    outs = [ctx.path(f"tv{i}.safetensors") for i in range(2)]
    for o in outs:
        convert(["torchvision", p, "-o", o, "--arch", "resnet18", "--seed", "3",
                 "--input-size", "112", "--attention", "frame", "--name", "tv"], expect=0)
    check(open(outs[0], "rb").read() == open(outs[1], "rb").read(), "not deterministic")
    t, meta = read_safetensors(outs[0])
    sd = rn.state_dict()
    n_trunk = 0
    for k, v in t.items():
        if k.startswith("model."):
            n_trunk += 1
            check(torch.equal(v, sd[k[len("model."):]]), f"{k} not copied")
    check(n_trunk > 0 and "model.layer3.1.conv2.weight" in t and
          not any(k.startswith(("model.layer4", "model.fc")) for k in t), "trunk set wrong")
    torch.manual_seed(3)
    fresh = state_dict_for_file(LacEncoder(Arch.from_meta(meta)))
    check(torch.equal(t["conv_layers.0.weight"], fresh["conv_layers.0.weight"]) and
          torch.equal(t["embedding_layer2.bias"], fresh["embedding_layer2.bias"]),
          "head is not the seeded default init")
    check(meta["lac.arch.input_size"] == "112" and meta["lac.arch.attention"] == "frame",
          f"metadata {meta}")
    # wrong --arch names the missing tensor
    r = convert(["torchvision", p, "-o", ctx.path("tv_bad.safetensors"), "--arch",
                 "resnet50"])
    assert_user_error(r, "layer1.0.conv3.weight", "--arch")
    # mis-shaped trunk tensor
    sd2 = OrderedDict(sd)
    sd2["layer2.0.conv1.weight"] = torch.zeros(3, 3)
    q = ctx.path("rn18_bad.pth")
    torch.save(sd2, q)
    r = convert(["torchvision", q, "-o", ctx.path("tv_bad.safetensors"), "--arch",
                 "resnet18"])
    assert_user_error(r, "layer2.0.conv1.weight", "shape")


@test
def corrupt_inputs_fail_cleanly(ctx):
    p, ckpt, _, _, _ = ctx.small_ckpt()
    out = ctx.path("never.safetensors")
    garbage = ctx.path("garbage.pth")
    with open(garbage, "wb") as f:
        f.write(b"this is not a checkpoint\n" * 40)
    trunc = ctx.path("trunc.pth")
    with open(p, "rb") as f, open(trunc, "wb") as g:
        g.write(f.read(os.path.getsize(p) // 2))
    lst = ctx.path("list.pth")
    torch.save([1, 2, 3], lst)
    nosd = ctx.path("nosd.pth")
    torch.save({"epoch": 1, "state": {}}, nosd)
    sd = OrderedDict(ckpt["model_state_dict"])
    sd["conv_layers.3.weight"] = torch.zeros(4, 4)
    shape = ctx.path("shape.pth")
    torch.save(dict(ckpt, model_state_dict=sd), shape)
    sd = OrderedDict(ckpt["model_state_dict"])
    del sd["embedding_layer2.bias"]
    missing = ctx.path("missing.pth")
    torch.save(dict(ckpt, model_state_dict=sd), missing)
    badgo = ctx.path("badgo.pth")
    torch.save(dict(ckpt, go=torch.ones(2, 3)), badgo)
    notsd = ctx.path("notsd.pth")
    torch.save(dict(ckpt, model_state_dict=[1]), notsd)
    cases = [
        (["lac", garbage], ["cannot read"]),
        (["lac", trunc], ["cannot read"]),
        (["lac", ctx.path("does_not_exist.pth")], ["no such file"]),
        (["lac", lst], ["list"]),
        (["lac", nosd], ["model_state_dict"]),
        (["lac", notsd], ["model_state_dict"]),
        (["lac", shape], ["conv_layers.3.weight", "shape"]),
        (["lac", missing], ["embedding_layer2.bias", "missing"]),
        (["lac", badgo], ["go", "shape"]),
        (["torchvision", garbage], ["cannot read"]),
        (["torchvision", lst], ["list"]),
        (["torchvision", p], ["ResNet"]),  # a checkpoint is not a flat state_dict
    ]
    for args, needles in cases:
        r = convert(args + ["-o", out])
        assert_user_error(r, *needles)
        check(not os.path.exists(out), f"{args}: output written despite error")
    # the same through real processes: exit status and no traceback on stderr
    for args, needles in (cases[0], cases[6]):
        r = run([CONVERT] + args + ["-o", out])
        assert_user_error(r, *needles)
    r = run([CONVERT, "lac", p])  # missing -o: argparse usage error, also status 2
    check(r.returncode == 2 and "Traceback" not in r.stderr, "argparse error")
    return f"{len(cases)} cases in-process, 3 as processes"


@test
def attention_modes(ctx):
    arch = Arch(context=1, attention="time", **gen_reference.PRESETS["tiny"])
    torch.manual_seed(0)
    mt = LacEncoder(arch)
    mf = LacEncoder(Arch(context=1, attention="frame", **gen_reference.PRESETS["tiny"]))
    mf.load_state_dict(mt.state_dict())
    g = torch.Generator().manual_seed(0)
    x = torch.randn(3, 3, 80, 80, generator=g)
    x2 = x.clone()
    x2[2] += 1.0
    with torch.no_grad():
        t1, t2, f1, f2 = mt(x), mt(x2), mf(x), mf(x2)
        one_t, one_f = mt(x[:1]), mf(x[:1])
    check(not torch.equal(t1[0], t2[0]), "time mode: frame 0 ignores frame 2")
    check(torch.equal(f1[:2], f2[:2]), "frame mode: frame 0 depends on frame 2")
    check(torch.allclose(one_t, one_f, atol=1e-6), "S=1: time and frame should agree")
    parts = mt.forward_parts(x)
    check(set(parts) == {"trunk", "head", "posenc", "output"}, "forward_parts keys")
    check(parts["trunk"].shape == (3, 256, 5, 5) and parts["head"].shape == (3, 32) and
          parts["posenc"].dtype == torch.float32, "forward_parts shapes")
    # l2 normalisation
    ml = LacEncoder(Arch(l2_normalize=True, **gen_reference.PRESETS["tiny"]))
    ml.load_state_dict(mt.state_dict())
    with torch.no_grad():
        n = ml(x).norm(dim=-1)
    check(torch.allclose(n, torch.ones(3), atol=1e-6), "l2 normalisation")


@test
def encoder_reference_files(ctx):
    outs = [ctx.path("enc_a"), ctx.path("enc_b")]
    args = ["encoder", "--preset", "tiny", "--attention", "frame", "--frames", "6",
            "--context", "3", "--seed", "4", "--out"]
    run([GEN] + args + [outs[0]], expect=0)        # a real process ...
    with contextlib.redirect_stdout(sys.stderr):   # ... and in-process: same bytes
        gen_reference.main(args + [outs[1]])
    name = "tiny_frame_c3_t6"
    for suffix in (".model.safetensors", ".io.safetensors"):
        a = open(os.path.join(outs[0], name + suffix), "rb").read()
        b = open(os.path.join(outs[1], name + suffix), "rb").read()
        check(a == b, f"{name}{suffix} not deterministic")
    model, meta, extra = load_model_file(os.path.join(outs[0], name + ".model.safetensors"))
    check(not extra and meta["lac.arch.context"] == "3", "model file content")
    io, _ = read_safetensors(os.path.join(outs[0], name + ".io.safetensors"))
    check(io["rgb8"].dtype == torch.uint8 and io["rgb8"].shape == (6, 80, 80, 3), "rgb8")
    with torch.no_grad():
        parts = model.forward_parts(io["input"])
        out_rgb = model(normalize_rgb8(io["rgb8"]))
    for k in ("trunk", "head", "posenc", "output"):
        check(torch.equal(parts[k], io[k]), f"{k} not reproduced from the model file")
    check(torch.equal(out_rgb, io["output_rgb8"]), "output_rgb8 not reproduced")
    check(io["output"].shape == (2, 16), "output shape")
    s = io["trunk"].std().item()
    check(0.05 < s < 20, f"trunk activations not O(1): std {s}")


@test
def committed_layer_refs_current(ctx):
    refdir = os.path.join(ROOT, "tests", "ref")
    names = list(gen_reference.LAYER_CASES)
    have = [n for n in names if os.path.exists(os.path.join(refdir, n + ".safetensors"))]
    if not have:
        return "skipped: tests/ref has no layer files"
    tmp = ctx.path("layers")
    run([GEN, "layers", "--out", tmp], expect=0)
    for n in names:
        check(n in have, f"tests/ref/{n}.safetensors missing")
        a, ma = read_safetensors(os.path.join(refdir, n + ".safetensors"))
        b, mb = read_safetensors(os.path.join(tmp, n + ".safetensors"))
        check(list(a) == list(b), f"{n}: tensor names differ")
        ma.pop("lac.generator", None)
        mb.pop("lac.generator", None)
        check(ma == mb, f"{n}: metadata differs")
        for k in a:
            check(a[k].dtype == b[k].dtype and a[k].shape == b[k].shape, f"{n}/{k}: shape")
            if a[k].is_floating_point():
                check(torch.allclose(a[k], b[k], atol=1e-6, rtol=1e-6), f"{n}/{k}: values")
            else:
                check(torch.equal(a[k], b[k]), f"{n}/{k}: values")
    return f"{len(names)} files"


@test
def full_size_checkpoint(ctx):
    if not ctx.full:
        return "skipped (use --full)"
    run([GEN, "checkpoint", "--out", ctx.path("full")], expect=0)
    out = ctx.path("full.safetensors")
    convert_lac(ctx, ctx.path("full/ref_ckpt.pth"), out)
    model, meta, extra = load_model_file(out)
    io, _ = read_safetensors(ctx.path("full/ref_ckpt.io.safetensors"))
    with torch.no_grad():
        y = model(io["input"])
    d = (y - io["output"]).abs().max().item()
    check(d <= 1e-5, f"full-size frame mode vs reference: max diff {d}")
    check(extra["go"].shape == (64, 64) and meta["lac.arch.trunk"] == "resnet50", "full meta")
    return f"max diff {d:.1e}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--full", action="store_true", help="also the paper-size checkpoint")
    ap.add_argument("-k", default="", help="run only checks whose name contains this")
    args = ap.parse_args()
    torch.set_num_threads(2)
    passed = failed = 0
    t_all = time.time()
    with tempfile.TemporaryDirectory(prefix="lac_tools_") as tmp:
        ctx = Ctx(tmp, args.full)
        for fn in TESTS:
            if args.k not in fn.__name__:
                continue
            t0 = time.time()
            try:
                with contextlib.redirect_stdout(sys.stderr):
                    info = fn(ctx)
            except Exception:
                failed += 1
                print(f"FAIL {fn.__name__} ({time.time() - t0:.1f} s)")
                traceback.print_exc(file=sys.stdout)
            else:
                passed += 1
                extra = f": {info}" if info else ""
                print(f"ok   {fn.__name__} ({time.time() - t0:.1f} s){extra}")
            sys.stdout.flush()
    print(f"({time.time() - t_all:.1f} s)")
    print(f"tools: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
