#!/usr/bin/python3
"""Convert PyTorch weights into a lac model file (safetensors + lac metadata).

What it does:
  convert.py torchvision RESNET.pth -o OUT.safetensors [--arch resnet50]
        [--seed S] [--input-size 224] [--attention time|frame] [--context C]
        [--name N]
      Takes a torchvision ResNet state_dict (torch.save(resnet.state_dict())),
      builds a LacEncoder whose new head gets PyTorch's default
      initialisation under torch.manual_seed(S), copies the trunk weights
      (conv1, bn1, layer1, layer2, layer3[0:k]) into it and writes the file.
      Useful for tests and for a trunk-only start; the head is random.

  convert.py lac CKPT.pth -o OUT.safetensors [--attention frame|time]
        [--context C] [--input-size 224] [--heads 8] [--train-len 32] [--name N]
      Takes a checkpoint written by the LAC reference training code
      (keynekassapa13/LAC: a dict with model_state_dict, epoch, and - when
      present - the learned gap penalties go/ge), keeps the trunk from its
      model.* copy, checks it against the features.* copy that the reference
      forward actually uses (and prefers features.* if they differ), drops
      layer3[k:], layer4, fc and num_batches_tracked, and writes the file
      with go/ge as extra tensors.  Attention defaults to "frame", the
      reference's (buggy) behaviour.  Head widths are read from the tensor
      shapes; the number of heads cannot be, so it is --heads (default 8).

What it does not do:
  * No network access and no weight download: inputs are local files.
  * It does not run or validate the model numerically (see test_tools.py
    and gen_reference.py for that).
  * Input files are unpickled with a whitelist (tensors, numbers, strings,
    plain containers) so a malicious .pth cannot run code; --unsafe-load
    lifts it (trusted files only).  torch 1.13's weights_only=True is not
    used because it rejects floats, i.e. every real training checkpoint.

Exit status: 0 on success, 2 on a user error (bad arguments, unreadable or
unexpected input) with a one-line message on stderr and no traceback.
"""

import argparse
import os
import pickle
import sys
import types
from collections import OrderedDict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402

import lac_torch  # noqa: E402
from lac_torch import Arch, LacEncoder, state_dict_for_file, write_safetensors  # noqa: E402

PROG = "convert.py"

# features.<i> of the reference -> model.<name> (torchvision resnet)
FEATURES_MAP = {"0": "conv1", "1": "bn1", "4": "layer1", "5": "layer2", "6": "layer3"}
RESNET_TOP = ("conv1.", "bn1.", "layer1.", "layer2.", "layer3.", "layer4.", "fc.")


class UserError(Exception):
    pass


def warn(msg):
    print(f"{PROG}: warning: {msg}", file=sys.stderr)


def note(msg):
    print(f"{PROG}: {msg}", file=sys.stderr)


class _SafeUnpickler(pickle.Unpickler):
    """Unpickler that only resolves plain tensor/container globals.

    torch.load(weights_only=True) of torch 1.13 rejects floats (pickle
    opcode BINFLOAT), so it cannot read a real training checkpoint (the
    optimizer state has learning rates).  This whitelist is the usual safe
    alternative: nothing but the functions that rebuild tensors and a few
    harmless constructors can be named by the file.
    """

    ALLOWED = {
        ("collections", "OrderedDict"),
        ("torch._utils", "_rebuild_tensor"),
        ("torch._utils", "_rebuild_tensor_v2"),
        ("torch._utils", "_rebuild_parameter"),
        ("torch._tensor", "_rebuild_from_type_v2"),
        ("torch.nn.parameter", "Parameter"),
        ("torch", "Tensor"),
        ("torch", "Size"),
        ("torch", "device"),
        ("builtins", "set"),
        ("builtins", "frozenset"),
        ("builtins", "slice"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy", "dtype"),
    }

    def find_class(self, module, name):
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        if module == "torch" and isinstance(getattr(torch, name, None), torch.dtype):
            return getattr(torch, name)
        raise pickle.UnpicklingError(
            f"refusing to load {module}.{name} (the file holds more than tensors and plain "
            f"containers)")


_safe_pickle = types.ModuleType("lac_safe_pickle")
_safe_pickle.Unpickler = _SafeUnpickler
_safe_pickle.load = lambda f, **kw: _SafeUnpickler(f, **kw).load()


def restricted_load(path):
    """torch.load(path, map_location="cpu") through _SafeUnpickler.

    torch 1.13's torch.load silently ignores pickle_module unless
    weights_only is set (and refuses both together), so this calls the
    loaders behind it, as torch.load would.  Should those private helpers
    ever be missing, it falls back to torch.load(weights_only=True)."""
    ser = torch.serialization
    try:
        is_zip, open_zip, load_zip, load_legacy = (ser._is_zipfile, ser._open_zipfile_reader,
                                                   ser._load, ser._legacy_load)
    except AttributeError:
        return torch.load(path, map_location="cpu", weights_only=True)
    with open(path, "rb") as f:
        if is_zip(f):
            with open_zip(f) as zf:
                if getattr(ser, "_is_torchscript_zip", lambda z: False)(zf):
                    raise UserError(f"{path} is a TorchScript archive, not a state_dict")
                return load_zip(zf, "cpu", _safe_pickle, encoding="utf-8")
        return load_legacy(f, "cpu", _safe_pickle, encoding="utf-8")


def load_pth(path, unsafe):
    if not os.path.exists(path):
        raise UserError(f"{path}: no such file")
    if os.path.isdir(path):
        raise UserError(f"{path}: is a directory")
    try:
        if unsafe:
            return torch.load(path, map_location="cpu")
        return restricted_load(path)
    except UserError:
        raise
    except MemoryError:
        raise UserError(f"{path}: out of memory while loading") from None
    except Exception as e:  # torch.load raises many unrelated types on bad input
        first = (str(e).strip().splitlines() or [""])[0]
        msg = f"{path}: cannot read as a PyTorch file ({type(e).__name__}: {first[:300]})"
        if "refusing to load" in str(e):
            msg += "; if you trust this file, retry with --unsafe-load"
        raise UserError(msg) from None


def strip_module(sd):
    out = OrderedDict()
    for k, v in sd.items():
        k2 = k[len("module."):] if k.startswith("module.") else k
        if k2 in out:
            raise UserError(f"tensor {k2} appears both with and without the 'module.' prefix")
        out[k2] = v
    return out


def check_state_dict(sd, what):
    if not isinstance(sd, dict):
        raise UserError(f"{what} is a {type(sd).__name__}, expected a dict of tensors")
    if not sd:
        raise UserError(f"{what} is empty")
    for k, v in sd.items():
        if not isinstance(k, str):
            raise UserError(f"{what} has a non-string key {k!r}")
        if not isinstance(v, torch.Tensor):
            raise UserError(f"{what}: {k} is a {type(v).__name__}, not a tensor")


def as_f32(name, t):
    if not (t.is_floating_point()):
        raise UserError(f"tensor {name} has dtype {t.dtype}, expected a floating-point tensor")
    return t.detach().to(torch.float32).contiguous()


def make_arch(**kw):
    try:
        return Arch(**kw)
    except ValueError as e:
        raise UserError(str(e)) from None


def default_name(output):
    """lac.name default: the output's basename without .safetensors / .model."""
    name = os.path.basename(output)
    for suffix in (".safetensors", ".model"):
        if name.endswith(suffix):
            name = name[:-len(suffix)]
    return name or "lac-model"


def write_out(path, tensors, meta):
    try:
        write_safetensors(path, tensors, meta)
    except OSError as e:
        raise UserError(f"cannot write {path}: {e.strerror or e}") from None
    n = sum(t.numel() for t in tensors.values())
    print(f"wrote {path}: {len(tensors)} tensors, {n} values, trunk {meta['lac.arch.trunk']}, "
          f"attention {meta['lac.arch.attention']}, context {meta['lac.arch.context']}")


def fill_model(model, source, describe):
    """Copy source[name] into every file tensor of model; error if missing/mis-shaped.

    describe(name) -> how to call the tensor in messages (its source name)."""
    expected = state_dict_for_file(model)
    new = OrderedDict()
    for name, ref in expected.items():
        if name not in source:
            raise UserError(f"tensor {describe(name)} is missing")
        t = source[name]
        if tuple(t.shape) != tuple(ref.shape):
            raise UserError(f"tensor {describe(name)} has shape {list(t.shape)}, "
                            f"expected {list(ref.shape)}")
        new[name] = as_f32(describe(name), t)
    model.load_state_dict(new, strict=False)
    return new


# --------------------------------------------------------------------------
# torchvision
# --------------------------------------------------------------------------

def cmd_torchvision(args):
    sd = load_pth(args.input, args.unsafe_load)
    if isinstance(sd, dict) and "model_state_dict" in sd:
        raise UserError(f"{args.input} looks like a LAC checkpoint, not a torchvision ResNet "
                        f"state_dict; use 'convert.py lac'")
    check_state_dict(sd, f"{args.input} (expected a torchvision ResNet state_dict)")
    sd = strip_module(sd)
    unknown = [k for k in sd if not k.startswith(RESNET_TOP)]
    if unknown:
        if not any(k.startswith("conv1.") for k in sd):
            raise UserError(f"{args.input} does not look like a torchvision ResNet state_dict "
                            f"(first key {next(iter(sd))}, no conv1.weight)")
        warn(f"ignoring {len(unknown)} tensors that are not part of a torchvision ResNet "
             f"(first: {unknown[0]})")
    arch = make_arch(trunk=args.arch, input_size=args.input_size, attention=args.attention,
                     context=args.context)
    torch.manual_seed(args.seed)
    model = LacEncoder(arch)
    # Start from the model's own (seeded default-init) tensors; replace trunk.
    source = OrderedDict(state_dict_for_file(model))
    for name in list(source):
        if name.startswith("model."):
            src = name[len("model."):]
            if src not in sd:
                raise UserError(f"trunk tensor {src} is missing from {args.input} "
                                f"(is --arch {args.arch} right?)")
            source[name] = sd[src]

    def describe(name):
        return name[len("model."):] if name.startswith("model.") else name
    try:
        tensors = fill_model(model, source, describe)
    except UserError as e:
        raise UserError(f"{e} (is --arch {args.arch} right?)") from None
    meta = arch.to_meta()
    meta["lac.source"] = f"torchvision:{os.path.basename(args.input)} seed {args.seed}"
    meta["lac.name"] = args.name or default_name(args.output)
    write_out(args.output, tensors, meta)


# --------------------------------------------------------------------------
# LAC reference checkpoint
# --------------------------------------------------------------------------

def features_to_model(name):
    """features.X.rest -> model.<torchvision>.rest, or None if unmapped."""
    parts = name.split(".", 2)
    if len(parts) < 3 or parts[1] not in FEATURES_MAP:
        return None
    return f"model.{FEATURES_MAP[parts[1]]}.{parts[2]}"


def count_blocks(sd, prefix):
    idx = set()
    for k in sd:
        if k.startswith(prefix):
            head = k[len(prefix):].split(".", 1)[0]
            if head.isdigit():
                idx.add(int(head))
    if idx and idx != set(range(len(idx))):
        raise UserError(f"{prefix}* block indices are not contiguous: {sorted(idx)}")
    return len(idx)


def need(sd, name):
    if name not in sd:
        raise UserError(f"checkpoint's model_state_dict lacks {name}")
    return sd[name]


def infer_arch(sd, n_features_l3, args):
    bottleneck = "model.layer1.0.conv3.weight" in sd
    n1, n2, n3 = (count_blocks(sd, f"model.layer{i}.") for i in (1, 2, 3))
    if n1 == 0:
        raise UserError("checkpoint's model_state_dict has no trunk tensors "
                        "(model.layer1.* / features.4.*)")
    trunk = None
    for name, (kind, blocks, _) in lac_torch.TRUNKS.items():
        if (kind == "bottleneck") == bottleneck and (n1, n2) == blocks[:2]:
            trunk = name
    if trunk is None:
        raise UserError(f"unsupported trunk: layer1 has {n1} blocks, layer2 {n2} "
                        f"({'bottleneck' if bottleneck else 'basic'}); expected resnet18/34/50")
    k = n_features_l3 if n_features_l3 else min(3, n3)
    if k < 1:
        raise UserError("checkpoint has no layer3 blocks")
    w0 = need(sd, "conv_layers.0.weight")
    if w0.dim() != 5:
        raise UserError(f"conv_layers.0.weight has shape {list(w0.shape)}, expected a Conv3d weight")
    ct = lac_torch.TRUNKS[trunk][2]
    if w0.shape[1] != ct:
        raise UserError(f"conv_layers.0.weight has {w0.shape[1]} input channels but the "
                        f"{trunk} trunk gives {ct}")
    fc = need(sd, "fc_layers.1.weight")
    emb = need(sd, "embedding_layer.weight")
    emb2 = need(sd, "embedding_layer2.weight")
    lin1 = need(sd, "transformer_encoder.layers.0.linear1.weight")
    for nm, t in (("fc_layers.1.weight", fc), ("embedding_layer.weight", emb),
                  ("embedding_layer2.weight", emb2),
                  ("transformer_encoder.layers.0.linear1.weight", lin1)):
        if t.dim() != 2:
            raise UserError(f"{nm} has shape {list(t.shape)}, expected a Linear weight")
    n_layers = count_blocks(sd, "transformer_encoder.layers.")
    return make_arch(trunk=trunk, layer3_blocks=k, input_size=args.input_size,
                     context=args.context, conv_channels=int(w0.shape[0]),
                     fc_dim=int(fc.shape[0]), d_model=int(emb.shape[0]),
                     n_heads=args.heads, ff_dim=int(lin1.shape[0]), n_layers=n_layers,
                     embed_dim=int(emb2.shape[0]), train_len=args.train_len,
                     attention=args.attention, l2_normalize=False)


def gap_tensor(ckpt, key):
    if key not in ckpt:
        return None
    v = ckpt[key]
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        v = torch.tensor(float(v))
    if not isinstance(v, torch.Tensor):
        raise UserError(f"checkpoint's {key} is a {type(v).__name__}, expected a tensor")
    if not (v.dim() == 0 or (v.dim() == 2 and v.shape[0] == v.shape[1])):
        raise UserError(f"checkpoint's {key} has shape {list(v.shape)}, expected a scalar or [T, T]")
    return as_f32(key, v)


def cmd_lac(args):
    ckpt = load_pth(args.input, args.unsafe_load)
    if not isinstance(ckpt, dict):
        raise UserError(f"{args.input} holds a {type(ckpt).__name__}, expected a LAC checkpoint "
                        f"dict with model_state_dict")
    if "model_state_dict" not in ckpt:
        keys = ", ".join(map(str, list(ckpt)[:6]))
        raise UserError(f"{args.input} is not a LAC checkpoint: no 'model_state_dict' "
                        f"(keys: {keys})")
    sd = ckpt["model_state_dict"]
    check_state_dict(sd, "model_state_dict")
    sd = strip_module(sd)

    # Merge the two copies of the trunk.  features.* is what the reference
    # forward uses, so it wins where the copies differ.
    merged = OrderedDict((k, v) for k, v in sd.items() if not k.startswith("features."))
    first_diff = None
    n_diff = 0
    unmapped = []
    for k, v in sd.items():
        if not k.startswith("features."):
            continue
        mk = features_to_model(k)
        if mk is None:
            unmapped.append(k)
            continue
        if mk in merged and not k.endswith("num_batches_tracked"):
            other = merged[mk]
            if other.shape != v.shape or not torch.equal(other, v):
                n_diff += 1
                if first_diff is None:
                    first_diff = (k, mk)
        merged[mk] = v
    if unmapped:
        warn(f"ignoring {len(unmapped)} unexpected features.* tensors (first: {unmapped[0]})")
    if first_diff is not None:
        warn(f"{n_diff} trunk tensors differ between the two backbone copies (first: "
             f"{first_diff[0]} != {first_diff[1]}); using features.*, which is what the "
             f"reference forward uses")
    has_features = any(k.startswith("features.") for k in sd)
    if not has_features:
        warn("checkpoint has no features.* copy of the trunk; using model.*")
    n_feat_l3 = count_blocks(sd, "features.6.") if has_features else 0

    arch = infer_arch(merged, n_feat_l3, args)
    model = LacEncoder(arch)
    tensors = fill_model(model, merged, lambda n: n)

    # Anything else that is neither dropped on purpose nor used?
    used = set(tensors)
    k = arch.layer3_blocks
    leftovers = []
    for name in merged:
        if name in used or name.endswith("num_batches_tracked"):
            continue
        if name.startswith(("model.layer4.", "model.fc.")):
            continue
        if name.startswith("model.layer3.") and int(name.split(".")[2]) >= k:
            continue
        leftovers.append(name)
    if leftovers:
        warn(f"ignoring {len(leftovers)} unexpected tensors (first: {leftovers[0]})")

    for key in ("go", "ge"):
        t = gap_tensor(ckpt, key)
        if t is None:
            note(f"note: checkpoint has no '{key}' (gap penalty); the file will carry none")
        else:
            tensors[key] = t

    epoch = ckpt.get("epoch")
    if epoch is None:
        warn("checkpoint has no 'epoch'")
        epoch = "?"
    elif isinstance(epoch, torch.Tensor) and epoch.numel() == 1:
        epoch = epoch.item()
    meta = arch.to_meta()
    meta["lac.source"] = f"lac-checkpoint:{os.path.basename(args.input)} epoch {epoch}"
    meta["lac.name"] = args.name or default_name(args.output)
    write_out(args.output, tensors, meta)


# --------------------------------------------------------------------------

def positive(s):
    try:
        v = int(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{s!r} is not an integer") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"{s!r} must be >= 1")
    return v


def main(argv=None):
    ap = argparse.ArgumentParser(prog=PROG, description="Convert PyTorch weights to a lac model file.")
    sub = ap.add_subparsers(dest="cmd", required=True)

    def common(p, default_attention):
        p.add_argument("input", help="input .pth file")
        p.add_argument("-o", "--output", required=True, help="output .safetensors file")
        p.add_argument("--input-size", type=positive, default=224, help="frame side S (default 224)")
        p.add_argument("--attention", choices=("time", "frame"), default=default_attention,
                       help=f"attention mode (default {default_attention})")
        p.add_argument("--context", type=positive, default=1,
                       help="frames per embedding c (default 1, as the reference's evaluation)")
        p.add_argument("--name", help="lac.name (default: output file stem)")
        p.add_argument("--unsafe-load", action="store_true",
                       help="allow arbitrary pickles in the input (trusted files only)")

    p = sub.add_parser("torchvision", help="torchvision ResNet state_dict + fresh head")
    common(p, "time")
    p.add_argument("--arch", choices=tuple(lac_torch.TRUNKS), default="resnet50")
    p.add_argument("--seed", type=int, default=0, help="torch.manual_seed for the new head")
    p.set_defaults(func=cmd_torchvision)

    p = sub.add_parser("lac", help="LAC reference training checkpoint")
    common(p, "frame")
    p.add_argument("--heads", type=positive, default=8, help="attention heads (default 8)")
    p.add_argument("--train-len", type=positive, default=32,
                   help="positional-encoding train length (default 32)")
    p.set_defaults(func=cmd_lac)

    args = ap.parse_args(argv)
    try:
        args.func(args)
    except UserError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
