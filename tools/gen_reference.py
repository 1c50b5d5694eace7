#!/usr/bin/python3
"""Generate PyTorch reference tensors for the lac C tests.

What it does (three sub-commands; all outputs are seeded and deterministic):

  gen_reference.py layers --out tests/ref
      Small per-layer cases (conv, conv+BN+ReLU, maxpool, ResNet blocks,
      Conv3d head layer, linear, layernorm, positional encoding, multi-head
      attention, transformer layer, uint8 normalisation), one safetensors
      file each: tensors named as in the C tests, integer configuration in
      the metadata as strings.  These files are committed (~100 KB total).

  gen_reference.py encoder --out DIR --preset NAME [--attention time|frame]
        [--frames T] [--context C] [--seed S]
      A whole LacEncoder with seeded random weights and realistic BatchNorm
      statistics: writes DIR/<name>.model.safetensors (a valid lac model
      file) and DIR/<name>.io.safetensors (input, rgb8, trunk, head, posenc,
      output, output_rgb8), <name> = <preset>_<attention>_c<C>_t<T>.
      Run by the C test suite at test time; not committed.

  gen_reference.py checkpoint --out DIR [--frames T] [--seed S]
      A fake LAC reference training checkpoint (DIR/ref_ckpt.pth: full
      torchvision resnet50 under model.* plus the duplicate features.* copy,
      go/ge 64x64 ones, epoch 7) and DIR/ref_ckpt.io.safetensors with an
      input and the output of a module that mirrors the reference's
      ResNet50_Transformer2.forward (num_context=1, frame attention), to
      check convert.py end to end.

What it does not do:
  * No network, no pretrained weights: every weight is seeded random.
  * It does not test the C code itself and makes no claim about accuracy
    on real video; it only records what PyTorch 1.13 computes in float32.
"""

import argparse
import os
import sys
import time
from collections import OrderedDict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torchvision  # noqa: E402
from torchvision.models.resnet import BasicBlock, Bottleneck, conv1x1  # noqa: E402

import lac_torch  # noqa: E402
from lac_torch import (Arch, LacEncoder, normalize_rgb8, sincos,  # noqa: E402
                       state_dict_for_file, write_safetensors)

PROG = "gen_reference.py"

PRESETS = {
    "resnet50": dict(trunk="resnet50", input_size=224, conv_channels=512, fc_dim=512,
                     d_model=256, n_heads=8, ff_dim=1024, n_layers=2, embed_dim=128,
                     train_len=32),
    "resnet18-112": dict(trunk="resnet18", input_size=112, conv_channels=512, fc_dim=512,
                         d_model=256, n_heads=8, ff_dim=1024, n_layers=2, embed_dim=128,
                         train_len=32),
    # a ResNet-34 trunk (6 layer3 blocks, 3 kept) at a small size with a narrow head
    "resnet34-96": dict(trunk="resnet34", input_size=96, conv_channels=64, fc_dim=64,
                        d_model=64, n_heads=4, ff_dim=128, n_layers=1, embed_dim=32,
                        train_len=16),
    "tiny": dict(trunk="resnet18", input_size=80, conv_channels=32, fc_dim=48,
                 d_model=32, n_heads=4, ff_dim=64, n_layers=2, embed_dim=16, train_len=8),
}


def setup_torch():
    torch.set_num_threads(2)
    torch.use_deterministic_algorithms(True)


def f32(t):
    return t.detach().to(torch.float32).contiguous().clone()


def state_tensors(module, prefix=""):
    """A module's state_dict without num_batches_tracked, float32."""
    return OrderedDict((prefix + k, f32(v)) for k, v in module.state_dict().items()
                       if not k.endswith("num_batches_tracked"))


def randomize_bn(bn, g):
    """Non-trivial eval-mode BatchNorm parameters and running statistics."""
    n = bn.num_features
    with torch.no_grad():
        bn.weight.copy_(torch.rand(n, generator=g) + 0.5)            # [0.5, 1.5)
        bn.bias.copy_((torch.rand(n, generator=g) - 0.5))            # [-0.5, 0.5)
        bn.running_mean.copy_(torch.randn(n, generator=g) * 0.5)
        bn.running_var.copy_(torch.rand(n, generator=g) * 1.5 + 0.5)  # [0.5, 2)


def randomize_all_bn(module, g):
    for m in module.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            randomize_bn(m, g)


def meta_str(**kw):
    return {k: str(v) for k, v in kw.items()}


# --------------------------------------------------------------------------
# layers
# --------------------------------------------------------------------------

def case_conv(cin, cout, k, s, p, shape, bias):
    conv = nn.Conv2d(cin, cout, k, stride=s, padding=p, bias=bias).eval()
    x = torch.randn(shape)
    with torch.no_grad():
        y = conv(x)
    t = OrderedDict(input=f32(x), weight=f32(conv.weight))
    if bias:
        t["bias"] = f32(conv.bias)
    t["output"] = f32(y)
    return t, meta_str(stride=s, padding=p, kernel=k)


def case_conv_bn_relu(g):
    conv = nn.Conv2d(5, 7, 3, stride=1, padding=1, bias=False)
    bn = nn.BatchNorm2d(7)
    randomize_bn(bn, g)
    seq = nn.Sequential(conv, bn, nn.ReLU()).eval()
    x = torch.randn(2, 5, 9, 9)
    with torch.no_grad():
        y = seq(x)
    t = OrderedDict(input=f32(x))
    t.update(state_tensors(conv, "conv."))
    t.update(state_tensors(bn, "bn."))
    t["output"] = f32(y)
    return t, meta_str(stride=1, padding=1, kernel=3)


def case_maxpool():
    x = torch.randn(2, 4, 11, 10)
    y = nn.MaxPool2d(3, 2, 1)(x)
    return OrderedDict(input=f32(x), output=f32(y)), meta_str(kernel=3, stride=2, padding=1)


def case_block(kind, inplanes, planes, stride, down, g):
    if kind == "bottleneck":
        cls = Bottleneck
    else:
        cls = BasicBlock
    downsample = None
    if down:
        downsample = nn.Sequential(conv1x1(inplanes, planes * cls.expansion, stride),
                                   nn.BatchNorm2d(planes * cls.expansion))
    blk = cls(inplanes, planes, stride=stride, downsample=downsample)
    randomize_all_bn(blk, g)
    blk.eval()
    x = torch.randn(2, inplanes, 10, 10)
    with torch.no_grad():
        y = blk(x)
    t = state_tensors(blk)
    t["input"] = f32(x)
    t["output"] = f32(y)
    return t, meta_str(stride=stride, kind=kind)


def case_conv3d(c, g):
    conv = nn.Conv3d(6, 5, 3, stride=1, padding=(1, 0, 0), bias=True)
    bn = nn.BatchNorm3d(5)
    randomize_bn(bn, g)
    seq = nn.Sequential(conv, bn, nn.ReLU()).eval()
    x = torch.randn(2, 6, c, 7, 7)
    with torch.no_grad():
        y = seq(x)
    t = OrderedDict(input=f32(x))
    t.update(state_tensors(conv, "conv."))
    t.update(state_tensors(bn, "bn."))
    t["output"] = f32(y)
    return t, meta_str(context=c)


def case_linear():
    lin = nn.Linear(12, 7).eval()
    x = torch.randn(5, 12)
    with torch.no_grad():
        y = lin(x)
    return OrderedDict(input=f32(x), weight=f32(lin.weight), bias=f32(lin.bias),
                       output=f32(y)), {}


def case_layernorm(g):
    ln = nn.LayerNorm(24)
    with torch.no_grad():
        ln.weight.copy_(torch.rand(24, generator=g) + 0.5)
        ln.bias.copy_(torch.rand(24, generator=g) - 0.5)
    ln.eval()
    x = torch.randn(5, 24) * 2 + 0.3
    with torch.no_grad():
        y = ln(x)
    return OrderedDict(input=f32(x), weight=f32(ln.weight), bias=f32(ln.bias),
                       output=f32(y)), {}


def case_posenc():
    t = OrderedDict()
    for n in (32, 5, 1, 64, 100):
        t[f"pe_{n}"] = sincos(n, 256, 32).to(torch.float32).contiguous()
    return t, meta_str(train_len=32, d=256)


def case_mha():
    mha = nn.MultiheadAttention(32, 4).eval()
    with torch.no_grad():
        # default in_proj_bias/out_proj.bias are zeros: make them non-trivial
        mha.in_proj_bias.copy_(torch.randn(96) * 0.1)
        mha.out_proj.bias.copy_(torch.randn(32) * 0.1)
    x = torch.randn(6, 32)
    with torch.no_grad():
        xs = x.unsqueeze(1)                    # (L, N=1, E), sequence-first
        y, _ = mha(xs, xs, xs, need_weights=False)
    t = OrderedDict(input=f32(x))
    t.update(state_tensors(mha))
    t["output"] = f32(y.squeeze(1))
    return t, meta_str(n_heads=4)


def case_transformer_layer(g):
    layer = nn.TransformerEncoderLayer(32, 4, 64, 0.1)
    with torch.no_grad():
        layer.self_attn.in_proj_bias.copy_(torch.randn(96) * 0.1)
        layer.self_attn.out_proj.bias.copy_(torch.randn(32) * 0.1)
        for ln in (layer.norm1, layer.norm2):
            ln.weight.copy_(torch.rand(32, generator=g) + 0.5)
            ln.bias.copy_(torch.rand(32, generator=g) - 0.5)
    layer.eval()
    x = torch.randn(6, 32)
    with torch.no_grad():
        y = layer(x.unsqueeze(1)).squeeze(1)   # time attention over the 6 tokens
    t = OrderedDict(input=f32(x))
    t.update(state_tensors(layer))
    t["output"] = f32(y)
    return t, meta_str(n_heads=4, ff_dim=64)


def case_rgb8(g):
    rgb = torch.randint(0, 256, (2, 5, 7, 3), dtype=torch.uint8, generator=g)
    rgb[0, 0, 0] = torch.tensor([0, 128, 255], dtype=torch.uint8)  # extremes
    return OrderedDict(rgb8=rgb.contiguous(), normalized=normalize_rgb8(rgb)), {}


LAYER_CASES = OrderedDict([
    ("conv_k7s2p3", lambda g: case_conv(3, 8, 7, 2, 3, (2, 3, 19, 21), False)),
    ("conv_k3s1p1", lambda g: case_conv(5, 6, 3, 1, 1, (2, 5, 9, 9), False)),
    ("conv_k3s2p1", lambda g: case_conv(4, 6, 3, 2, 1, (2, 4, 10, 11), False)),
    ("conv_k1s1p0", lambda g: case_conv(8, 16, 1, 1, 0, (2, 8, 7, 7), False)),
    ("conv_k1s2p0", lambda g: case_conv(8, 16, 1, 2, 0, (2, 8, 7, 8), False)),
    ("conv_k3s1p0_bias", lambda g: case_conv(6, 5, 3, 1, 0, (2, 6, 8, 8), True)),
    ("conv_bn_relu", case_conv_bn_relu),
    ("maxpool", lambda g: case_maxpool()),
    ("block_bottleneck_down", lambda g: case_block("bottleneck", 16, 8, 2, True, g)),
    ("block_bottleneck_id", lambda g: case_block("bottleneck", 32, 8, 1, False, g)),
    ("block_basic_down", lambda g: case_block("basic", 8, 16, 2, True, g)),
    ("block_basic_id", lambda g: case_block("basic", 16, 16, 1, False, g)),
    ("conv3d_c1", lambda g: case_conv3d(1, g)),
    ("conv3d_c3", lambda g: case_conv3d(3, g)),
    ("linear", lambda g: case_linear()),
    ("layernorm", case_layernorm),
    ("posenc", lambda g: case_posenc()),
    ("mha", lambda g: case_mha()),
    ("transformer_layer", case_transformer_layer),
    ("rgb8", case_rgb8),
])


def cmd_layers(args):
    os.makedirs(args.out, exist_ok=True)
    total = 0
    for i, (name, fn) in enumerate(LAYER_CASES.items()):
        torch.manual_seed(1000 + i)               # module init + torch.randn inputs
        g = torch.Generator().manual_seed(2000 + i)
        tensors, meta = fn(g)
        meta = dict(meta)
        meta["lac.generator"] = f"tools/gen_reference.py layers (torch {torch.__version__})"
        path = os.path.join(args.out, name + ".safetensors")
        write_safetensors(path, tensors, meta)
        size = os.path.getsize(path)
        total += size
        print(f"{path}: {len(tensors)} tensors, {size} bytes")
    print(f"layers: {len(LAYER_CASES)} files, {total} bytes")


# --------------------------------------------------------------------------
# encoder
# --------------------------------------------------------------------------

def calibrate_bn(model, forward, cal_input, g, perturb=0.1):
    """Realistic BN statistics: one train-mode pass with momentum 1.0, then eval.

    Afterwards BN weight/bias are perturbed a little (seeded by g)."""
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    saved = [m.momentum for m in bns]
    for m in bns:
        m.momentum = 1.0
    model.train()
    with torch.no_grad():
        forward(cal_input)
    model.eval()
    for m, mom in zip(bns, saved):
        m.momentum = mom
    with torch.no_grad():
        for m in bns:
            n = m.num_features
            m.weight.mul_(1 + perturb * torch.randn(n, generator=g))
            m.bias.add_(perturb * torch.randn(n, generator=g))
            m.num_batches_tracked.zero_()


def build_encoder(arch, seed):
    """Seeded LacEncoder with calibrated BN, in eval mode."""
    torch.manual_seed(seed)
    model = LacEncoder(arch)
    g = torch.Generator().manual_seed(seed + 1)
    groups = max(2, 4 // arch.context)  # >= 2 groups so train-mode BN3d has >1 value
    s = arch.input_size
    cal = torch.randn((groups * arch.context, 3, s, s), generator=g)
    calibrate_bn(model, model.forward_parts, cal, g)
    return model


def cmd_encoder(args):
    arch = Arch(context=args.context, attention=args.attention, **PRESETS[args.preset])
    name = f"{args.preset}_{args.attention}_c{args.context}_t{args.frames}"
    t0 = time.time()
    model = build_encoder(arch, args.seed)
    g = torch.Generator().manual_seed(args.seed + 2)
    s = arch.input_size
    x = torch.randn((args.frames, 3, s, s), generator=g)
    rgb = torch.randint(0, 256, (args.frames, s, s, 3), dtype=torch.uint8, generator=g)
    with torch.no_grad():
        parts = model.forward_parts(x)
        out_rgb = model(normalize_rgb8(rgb))
    os.makedirs(args.out, exist_ok=True)
    meta = arch.to_meta()
    meta["lac.source"] = f"gen_reference.py encoder --preset {args.preset} --seed {args.seed}"
    meta["lac.name"] = name
    mpath = os.path.join(args.out, name + ".model.safetensors")
    write_safetensors(mpath, state_dict_for_file(model), meta)
    io = OrderedDict(input=f32(x), rgb8=rgb.contiguous())
    for k in ("trunk", "head", "posenc", "output"):
        io[k] = f32(parts[k])
    io["output_rgb8"] = f32(out_rgb)
    iometa = meta_str(preset=args.preset, attention=args.attention, context=args.context,
                      frames=args.frames, seed=args.seed)
    iopath = os.path.join(args.out, name + ".io.safetensors")
    write_safetensors(iopath, io, iometa)
    print(f"{mpath}\n{iopath}\n{name}: {time.time() - t0:.2f} s, "
          f"output {list(parts['output'].shape)}, |output| max {parts['output'].abs().max():.4f}")


# --------------------------------------------------------------------------
# fake LAC reference checkpoint
# --------------------------------------------------------------------------

def ref_sincos(seq_len, d_model, train_len=None):
    """The reference's generate_sincos_embedding: float64, shape (1, seq_len, d)."""
    even_cols = np.arange(0, d_model, 2)
    odd_cols = np.arange(1, d_model, 2)
    pe = np.zeros((seq_len, d_model))
    positions = np.arange(seq_len) if train_len is None else \
        np.linspace(0, train_len - 1, num=seq_len)
    for i, pos in enumerate(positions):
        pe[i, even_cols] = np.sin(pos / (10000 ** (even_cols / d_model)))
        pe[i, odd_cols] = np.cos(pos / (10000 ** (odd_cols / d_model)))
    return torch.from_numpy(pe).unsqueeze(0)


class RefPositionalEncoder(nn.Module):
    def __init__(self, d_model, dropout, seq_len):
        super().__init__()
        self.d_model = d_model
        self.dropout = nn.Dropout(dropout)
        self.seq_len = seq_len

    def forward(self, x):
        _, s, d = x.shape
        if s != self.seq_len:
            pe = ref_sincos(s, d, self.seq_len)
        else:
            pe = ref_sincos(s, d)
        return self.dropout(x + pe.type_as(x))


class RefTransformer2(nn.Module):
    """Mirror of keynekassapa13/LAC model/model.py ResNet50_Transformer2.

    Same attribute names (so the same state_dict layout, including the
    duplicate features.* view of the trunk) and the same forward, except
    that the torchvision ResNet is built locally with random weights
    instead of torch.hub.  Widths default to the reference's; tests may
    shrink them (and use a resnet18 trunk) to run fast.
    """

    def __init__(self, trunk="resnet50", conv=512, fc=512, d_model=256, heads=8, ff=1024,
                 layers=2, emb=128, train_len=32):
        super().__init__()
        self.model = getattr(torchvision.models, trunk)(weights=None)
        self.features = nn.Sequential(
            self.model.conv1, self.model.bn1, self.model.relu, self.model.maxpool,
            self.model.layer1, self.model.layer2, self.model.layer3[0:3])
        ct = lac_torch.TRUNKS[trunk][2]
        self.conv_layers = nn.Sequential(
            nn.Conv3d(ct, conv, kernel_size=(3, 3, 3), stride=1, padding=(1, 0, 0)),
            nn.BatchNorm3d(conv), nn.ReLU(True),
            nn.Conv3d(conv, conv, kernel_size=(3, 3, 3), stride=1, padding=(1, 0, 0)),
            nn.BatchNorm3d(conv), nn.ReLU(True))
        self.pooling = nn.AdaptiveMaxPool3d(1)
        self.fc_layers = nn.Sequential(
            nn.Dropout(0.1), nn.Linear(conv, fc), nn.ReLU(True),
            nn.Dropout(0.1), nn.Linear(fc, fc), nn.ReLU(True))
        self.embedding_layer = nn.Linear(fc, d_model)
        self.pos_enc = RefPositionalEncoder(d_model, 0.1, seq_len=train_len)
        layer = nn.TransformerEncoderLayer(d_model, heads, ff, 0.1)
        self.transformer_encoder = nn.TransformerEncoder(layer, layers)
        self.embedding_layer2 = nn.Linear(d_model, emb)

    def forward(self, x, num_context=2):
        n, t, c_in, w_in, h_in = x.shape
        x = x.reshape([-1, c_in, w_in, h_in])
        x = self.features(x)
        _, c, w, h = x.shape
        x = x.reshape([n, t, c, w, h])
        groups = t // num_context
        x = x.view(n * groups, num_context, c, h, w)   # (h, w order as in the reference)
        x = x.transpose(1, 2)
        x = self.conv_layers(x)
        x = self.pooling(x)
        x = torch.flatten(x, start_dim=1)
        x = self.fc_layers(x)
        x = self.embedding_layer(x)
        x = x.view(n, groups, -1)
        x = self.pos_enc(x)
        x = self.transformer_encoder(x)               # (N, S, d) into a seq-first encoder
        x = x.view(n * groups, -1)
        x = self.embedding_layer2(x)
        return x.view(n, groups, -1)


def make_fake_checkpoint(seed=0, frames=4, input_size=224, gap_size=64, epoch=7, **widths):
    """(checkpoint dict, input (T,3,S,S), reference output (T,E), ref module)."""
    torch.manual_seed(seed)
    ref = RefTransformer2(**widths)
    g = torch.Generator().manual_seed(seed + 1)
    cal = torch.randn((1, max(frames, 2), 3, input_size, input_size), generator=g)
    calibrate_bn(ref, lambda x: ref(x, num_context=1), cal, g)
    x = torch.randn((frames, 3, input_size, input_size), generator=g)
    with torch.no_grad():
        y = ref(x.unsqueeze(0), num_context=1).squeeze(0)
    ckpt = {
        "epoch": epoch,
        "model_state_dict": ref.state_dict(),
        "optimizer_state_dict": {},
        "go": torch.ones((gap_size, gap_size), requires_grad=True),
        "ge": torch.ones((gap_size, gap_size), requires_grad=True),
    }
    return ckpt, x, y, ref


def cmd_checkpoint(args):
    t0 = time.time()
    ckpt, x, y, _ = make_fake_checkpoint(seed=args.seed, frames=args.frames)
    os.makedirs(args.out, exist_ok=True)
    cpath = os.path.join(args.out, "ref_ckpt.pth")
    torch.save(ckpt, cpath)
    iopath = os.path.join(args.out, "ref_ckpt.io.safetensors")
    write_safetensors(iopath, OrderedDict(input=f32(x), output=f32(y)),
                      meta_str(frames=args.frames, seed=args.seed, context=1,
                               attention="frame", input_size=224))
    print(f"{cpath}\n{iopath}\ncheckpoint: {time.time() - t0:.2f} s, output {list(y.shape)}")


# --------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(prog=PROG, description="Generate reference tensors for lac tests.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("layers", help="per-layer reference cases (committed)")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_layers)
    p = sub.add_parser("encoder", help="whole-encoder model + io files")
    p.add_argument("--out", required=True)
    p.add_argument("--preset", required=True, choices=tuple(PRESETS))
    p.add_argument("--attention", choices=("time", "frame"), default="time")
    p.add_argument("--frames", type=int, default=4)
    p.add_argument("--context", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_encoder)
    p = sub.add_parser("checkpoint", help="fake LAC reference checkpoint + io file")
    p.add_argument("--out", required=True)
    p.add_argument("--frames", type=int, default=4)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_checkpoint)
    args = ap.parse_args(argv)
    for k in ("frames", "context"):
        if getattr(args, k, 1) < 1:
            ap.error(f"--{k} must be >= 1")
    if args.cmd == "encoder" and args.frames % args.context:
        ap.error(f"--frames {args.frames} is not a multiple of --context {args.context}")
    setup_torch()
    args.func(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
