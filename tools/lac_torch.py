"""PyTorch reference model and file helpers for the lac C library.

What this module does:
  * ``Arch``: the architecture description stored in a lac model file's
    ``__metadata__`` (``to_meta()`` / ``from_meta()``).
  * ``LacEncoder``: an eval-mode PyTorch mirror of the LAC video-embedding
    encoder (torchvision ResNet trunk cut after layer3[0:k], Conv3d head,
    MLP, sine-cosine positional encoding, TransformerEncoder, projection).
    Its ``state_dict`` names are the tensor names of the lac model file.
  * ``state_dict_for_file``: the filtered, ordered tensors that go into a file.
  * ``write_safetensors`` / ``read_safetensors``: a tiny self-contained
    safetensors writer and (strict) reader; no ``safetensors`` package needed.
  * ``normalize_rgb8`` and ``sincos``: the exact input normalisation and
    positional encoding the C code must reproduce.
  * ``load_model_file``: build a LacEncoder from a lac model file.

What it does not do:
  * It is never used at run time by the C library; it exists to generate
    reference tensors and convert checkpoints (see convert.py,
    gen_reference.py).
  * It does not train, does not download weights (torchvision models are
    always built with ``weights=None``) and does not touch the network.
  * It implements inference only: LacEncoder is created in eval mode
    (dropout off, BatchNorm on running statistics); gen_reference.py puts
    it in train mode once, only to calibrate BatchNorm statistics.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import struct
from collections import OrderedDict
from typing import Dict, Optional, Tuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

FORMAT_NAME = "lac-model"
FORMAT_VERSION = "1"

TRUNKS = {
    # name: (block kind, blocks per layer [layer1, layer2, layer3], layer3 out channels)
    "resnet18": ("basic", (2, 2, 2), 256),
    "resnet34": ("basic", (3, 4, 6), 256),
    "resnet50": ("bottleneck", (3, 4, 6), 1024),
}

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

ATTENTION_MODES = ("time", "frame")


# --------------------------------------------------------------------------
# Architecture description
# --------------------------------------------------------------------------

def _conv_out(n: int, k: int, s: int, p: int) -> int:
    return (n + 2 * p - k) // s + 1


def trunk_spatial(input_size: int) -> int:
    """Spatial side of the trunk output (after layer3) for an SxS input."""
    n = _conv_out(input_size, 7, 2, 3)  # conv1
    n = _conv_out(n, 3, 2, 1)           # maxpool
    n = _conv_out(n, 3, 2, 1)           # layer2 (stride 2)
    n = _conv_out(n, 3, 2, 1)           # layer3 (stride 2)
    return n


@dataclasses.dataclass
class Arch:
    """Architecture of a LAC encoder; every field is one ``lac.arch.*`` key."""

    trunk: str = "resnet50"
    layer3_blocks: Optional[int] = None  # None -> min(3, blocks in layer3)
    input_size: int = 224
    context: int = 1
    conv_channels: int = 512
    fc_dim: int = 512
    d_model: int = 256
    n_heads: int = 8
    ff_dim: int = 1024
    n_layers: int = 2
    embed_dim: int = 128
    train_len: int = 32
    attention: str = "time"
    l2_normalize: bool = False

    _INT_FIELDS = ("layer3_blocks", "input_size", "context", "conv_channels",
                   "fc_dim", "d_model", "n_heads", "ff_dim", "n_layers",
                   "embed_dim", "train_len")

    def __post_init__(self):
        if self.trunk not in TRUNKS:
            raise ValueError(f"unknown trunk {self.trunk!r} (expected one of {', '.join(TRUNKS)})")
        avail = TRUNKS[self.trunk][1][2]
        if self.layer3_blocks is None:
            self.layer3_blocks = min(3, avail)
        for f in self._INT_FIELDS:
            v = getattr(self, f)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"arch field {f} must be a positive integer, got {v!r}")
        if self.layer3_blocks > avail:
            raise ValueError(f"{self.trunk} has only {avail} blocks in layer3, "
                             f"layer3_blocks={self.layer3_blocks}")
        if self.attention not in ATTENTION_MODES:
            raise ValueError(f"attention must be 'time' or 'frame', got {self.attention!r}")
        if self.d_model % self.n_heads:
            raise ValueError(f"d_model {self.d_model} is not a multiple of n_heads {self.n_heads}")
        if trunk_spatial(self.input_size) < 5:
            raise ValueError(f"input_size {self.input_size} too small: the trunk output must be "
                             f"at least 5x5 for the two 3x3 Conv3d layers")
        self.l2_normalize = bool(self.l2_normalize)

    @property
    def trunk_channels(self) -> int:
        return TRUNKS[self.trunk][2]

    @property
    def block_kind(self) -> str:
        return TRUNKS[self.trunk][0]

    def to_meta(self) -> Dict[str, str]:
        meta = OrderedDict()
        meta["lac.format"] = FORMAT_NAME
        meta["lac.version"] = FORMAT_VERSION
        meta["lac.arch.trunk"] = self.trunk
        for f in self._INT_FIELDS:
            meta["lac.arch." + f] = str(getattr(self, f))
        meta["lac.arch.attention"] = self.attention
        meta["lac.arch.l2_normalize"] = "1" if self.l2_normalize else "0"
        return dict(meta)

    @classmethod
    def from_meta(cls, meta: Dict[str, str]) -> "Arch":
        if meta.get("lac.format") != FORMAT_NAME:
            raise ValueError(f"not a lac model file (lac.format={meta.get('lac.format')!r})")
        if meta.get("lac.version") != FORMAT_VERSION:
            raise ValueError(f"unsupported lac.version {meta.get('lac.version')!r}")
        kw = {}
        for f in ("trunk",) + cls._INT_FIELDS + ("attention", "l2_normalize"):
            key = "lac.arch." + f
            if key not in meta:
                raise ValueError(f"model metadata lacks {key}")
            v = meta[key]
            if f in cls._INT_FIELDS:
                if not v.isdigit():
                    raise ValueError(f"{key}={v!r} is not a positive integer")
                v = int(v)
            elif f == "l2_normalize":
                if v not in ("0", "1"):
                    raise ValueError(f"{key}={v!r} must be '0' or '1'")
                v = v == "1"
            kw[f] = v
        return cls(**kw)


# --------------------------------------------------------------------------
# Positional encoding and input normalisation
# --------------------------------------------------------------------------

def sincos(seq_len: int, d: int, train_len: int = 32) -> torch.Tensor:
    """Sine-cosine positional encoding, float64, shape (seq_len, d).

    Reproduces the LAC reference exactly (computed in numpy float64, one row
    at a time like the reference): positions are arange(seq_len) when
    seq_len == train_len, else np.linspace(0, train_len - 1, num=seq_len);
    even column k: sin(pos / 10000**(k/d)); odd column k: cos(pos / 10000**(k/d)).
    """
    even = np.arange(0, d, 2)
    odd = np.arange(1, d, 2)
    pe = np.zeros((seq_len, d))
    if seq_len == train_len:
        positions = np.arange(seq_len)
    else:
        positions = np.linspace(0, train_len - 1, num=seq_len)
    for i, pos in enumerate(positions):
        pe[i, even] = np.sin(pos / (10000 ** (even / d)))
        pe[i, odd] = np.cos(pos / (10000 ** (odd / d)))
    return torch.from_numpy(pe)


def normalize_rgb8(rgb: torch.Tensor) -> torch.Tensor:
    """uint8 frames (T, H, W, 3) -> float32 (T, 3, H, W), ImageNet-normalised.

    Computed in float32 in exactly this order: ((x / 255) - mean) / std.
    """
    if rgb.dtype != torch.uint8 or rgb.dim() != 4 or rgb.shape[-1] != 3:
        raise ValueError(f"expected uint8 (T, H, W, 3), got {rgb.dtype} {tuple(rgb.shape)}")
    x = rgb.permute(0, 3, 1, 2).to(torch.float32)
    x = x / torch.tensor(255.0, dtype=torch.float32)
    mean = torch.tensor(IMAGENET_MEAN, dtype=torch.float32).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, dtype=torch.float32).view(1, 3, 1, 1)
    return ((x - mean) / std).contiguous()


# --------------------------------------------------------------------------
# The encoder
# --------------------------------------------------------------------------

def build_resnet(trunk: str) -> torchvision.models.ResNet:
    """A randomly initialised torchvision ResNet (never downloads weights)."""
    return getattr(torchvision.models, trunk)(weights=None)


class LacEncoder(nn.Module):
    """Eval-mode LAC encoder for one clip: (T, 3, S, S) -> (T/c, embed_dim)."""

    def __init__(self, arch: Arch):
        super().__init__()
        self.arch = arch
        a = arch
        resnet = build_resnet(a.trunk)
        # Keep only what the encoder uses: conv1, bn1, layer1, layer2,
        # layer3[0:k].  layer4/fc are replaced by Identity so that the
        # state_dict holds exactly the file's trunk tensors.
        resnet.layer3 = resnet.layer3[0:a.layer3_blocks]
        resnet.layer4 = nn.Identity()
        resnet.fc = nn.Identity()
        self.model = resnet
        ct = a.trunk_channels
        self.conv_layers = nn.Sequential(
            nn.Conv3d(ct, a.conv_channels, kernel_size=3, stride=1, padding=(1, 0, 0)),
            nn.BatchNorm3d(a.conv_channels),
            nn.ReLU(True),
            nn.Conv3d(a.conv_channels, a.conv_channels, kernel_size=3, stride=1, padding=(1, 0, 0)),
            nn.BatchNorm3d(a.conv_channels),
            nn.ReLU(True),
        )
        self.pooling = nn.AdaptiveMaxPool3d(1)
        self.fc_layers = nn.Sequential(
            nn.Dropout(0.1),
            nn.Linear(a.conv_channels, a.fc_dim),
            nn.ReLU(True),
            nn.Dropout(0.1),
            nn.Linear(a.fc_dim, a.fc_dim),
            nn.ReLU(True),
        )
        self.embedding_layer = nn.Linear(a.fc_dim, a.d_model)
        layer = nn.TransformerEncoderLayer(a.d_model, a.n_heads, a.ff_dim, 0.1)
        self.transformer_encoder = nn.TransformerEncoder(layer, a.n_layers)
        self.embedding_layer2 = nn.Linear(a.d_model, a.embed_dim)
        self.eval()

    def trunk(self, x: torch.Tensor) -> torch.Tensor:
        m = self.model
        x = m.conv1(x)
        x = m.bn1(x)
        x = m.relu(x)
        x = m.maxpool(x)
        x = m.layer1(x)
        x = m.layer2(x)
        x = m.layer3(x)
        return x

    def forward_parts(self, x: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Run one clip; returns trunk/head/posenc/output intermediates.

        Runs in whatever mode the module is in (callers use eval mode; the
        reference generator briefly uses train mode to calibrate BatchNorm).
        """
        a = self.arch
        if x.dim() != 4 or x.shape[1] != 3:
            raise ValueError(f"expected (T, 3, S, S), got {tuple(x.shape)}")
        t = x.shape[0]
        if t % a.context:
            raise ValueError(f"T={t} is not a multiple of context {a.context}")
        groups = t // a.context
        feats = self.trunk(x)                                   # (T, Ct, h, w)
        _, ct, h, w = feats.shape
        y = feats.reshape(groups, a.context, ct, h, w).transpose(1, 2)  # (G, Ct, c, h, w)
        y = self.conv_layers(y)
        y = self.pooling(y)
        y = torch.flatten(y, start_dim=1)
        y = self.fc_layers(y)
        head = self.embedding_layer(y)                          # (G, d)
        pe = sincos(groups, a.d_model, a.train_len).to(torch.float32)
        z = head + pe
        if a.attention == "time":
            z = self.transformer_encoder(z.unsqueeze(1)).squeeze(1)   # (S, 1, d)
        else:  # "frame": reference quirk, (1, S, d) into a seq-first encoder
            z = self.transformer_encoder(z.unsqueeze(0)).squeeze(0)
        out = self.embedding_layer2(z)
        if a.l2_normalize:
            out = F.normalize(out, dim=-1)
        return OrderedDict(trunk=feats, head=head, posenc=pe, output=out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_parts(x)["output"]


def state_dict_for_file(model: LacEncoder) -> "OrderedDict[str, torch.Tensor]":
    """The tensors of a lac model file, in file order, float32 contiguous."""
    k = model.arch.layer3_blocks
    out = OrderedDict()
    for name, t in model.state_dict().items():
        if name.endswith("num_batches_tracked"):
            continue
        if name.startswith(("model.layer4.", "model.fc.")):
            continue
        if name.startswith("model.layer3."):
            if int(name.split(".")[2]) >= k:
                continue
        out[name] = t.detach().to(torch.float32).contiguous().clone()
    return out


def load_model_file(path: str) -> Tuple[LacEncoder, Dict[str, str], Dict[str, torch.Tensor]]:
    """Build an eval-mode LacEncoder from a lac model file.

    Returns (model, metadata, extra tensors such as go/ge)."""
    tensors, meta = read_safetensors(path)
    arch = Arch.from_meta(meta)
    model = LacEncoder(arch)
    expected = state_dict_for_file(model)
    missing = [n for n in expected if n not in tensors]
    if missing:
        raise ValueError(f"{path}: missing tensor {missing[0]} ({len(missing)} missing)")
    extra = {n: t for n, t in tensors.items() if n not in expected}
    unknown = [n for n in extra if n not in ("go", "ge")]
    if unknown:
        raise ValueError(f"{path}: unexpected tensor {unknown[0]}")
    for n, t in expected.items():
        if tuple(tensors[n].shape) != tuple(t.shape):
            raise ValueError(f"{path}: tensor {n} has shape {list(tensors[n].shape)}, "
                             f"expected {list(t.shape)}")
    model.load_state_dict({n: tensors[n] for n in expected}, strict=False)
    model.eval()
    return model, meta, extra


# --------------------------------------------------------------------------
# safetensors
# --------------------------------------------------------------------------

_DTYPES = {
    # safetensors name: (torch dtype, numpy little-endian dtype)
    "F64": (torch.float64, "<f8"),
    "F32": (torch.float32, "<f4"),
    "F16": (torch.float16, "<f2"),
    "I64": (torch.int64, "<i8"),
    "I32": (torch.int32, "<i4"),
    "I16": (torch.int16, "<i2"),
    "I8": (torch.int8, "i1"),
    "U8": (torch.uint8, "u1"),
    "BOOL": (torch.bool, "?"),
}
_TORCH_TO_ST = {v[0]: k for k, v in _DTYPES.items()}

MAX_HEADER = 100 * 1024 * 1024


def write_safetensors(path: str, tensors: Dict[str, torch.Tensor],
                      metadata: Optional[Dict[str, str]] = None) -> None:
    """Write tensors (packed in the given order) and string metadata.

    The JSON header is padded with spaces so that the data starts at an
    8-byte aligned file offset.  The file is written atomically (tmp+rename).
    """
    header = OrderedDict()
    if metadata:
        for k, v in metadata.items():
            if not isinstance(k, str) or not isinstance(v, str):
                raise TypeError(f"metadata must be str->str, got {k!r}: {v!r}")
        header["__metadata__"] = OrderedDict(metadata)
    blobs = []
    offset = 0
    for name, t in tensors.items():
        if not isinstance(name, str) or name == "__metadata__" or not name:
            raise ValueError(f"bad tensor name {name!r}")
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"{name}: not a tensor")
        if t.dtype not in _TORCH_TO_ST:
            raise TypeError(f"{name}: unsupported dtype {t.dtype}")
        st = _TORCH_TO_ST[t.dtype]
        arr = t.detach().cpu().contiguous().numpy().astype(_DTYPES[st][1], copy=False)
        data = arr.tobytes(order="C")
        header[name] = OrderedDict(dtype=st, shape=list(t.shape),
                                   data_offsets=[offset, offset + len(data)])
        blobs.append(data)
        offset += len(data)
    hjson = json.dumps(header, separators=(",", ":"), ensure_ascii=True).encode("ascii")
    pad = (-(8 + len(hjson))) % 8
    hjson += b" " * pad
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(hjson)))
        f.write(hjson)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def _no_dup_keys(pairs):
    out = OrderedDict()
    for k, v in pairs:
        if k in out:
            raise json.JSONDecodeError(f"duplicate key {k!r}", "", 0)
        out[k] = v
    return out


def read_safetensors(path: str) -> Tuple["OrderedDict[str, torch.Tensor]", Dict[str, str]]:
    """Read a safetensors file -> (ordered dict name -> tensor, metadata).

    Strict: checks the header length, JSON shape, dtypes, that each tensor's
    byte size matches its shape, and that the data offsets tile the data
    section exactly (no gaps, no overlaps, nothing trailing).  Raises
    ValueError with a message naming the problem.
    """
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError(f"{path}: too short for a safetensors file")
    (hlen,) = struct.unpack("<Q", raw[:8])
    if hlen > MAX_HEADER or 8 + hlen > len(raw):
        raise ValueError(f"{path}: bad header length {hlen} (file is {len(raw)} bytes)")
    try:
        header = json.loads(raw[8:8 + hlen].decode("utf-8"), object_pairs_hook=_no_dup_keys)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{path}: header is not valid JSON: {e}") from None
    if not isinstance(header, dict):
        raise ValueError(f"{path}: header is not a JSON object")
    meta = header.pop("__metadata__", {})
    if not isinstance(meta, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                             for k, v in meta.items()):
        raise ValueError(f"{path}: __metadata__ must map strings to strings")
    data = memoryview(raw)[8 + hlen:]
    spans = []
    out = OrderedDict()
    for name, info in header.items():
        if not isinstance(info, dict) or set(info) != {"dtype", "shape", "data_offsets"}:
            raise ValueError(f"{path}: tensor {name}: bad header entry {info!r}")
        dt, shape, offs = info["dtype"], info["shape"], info["data_offsets"]
        if dt not in _DTYPES:
            raise ValueError(f"{path}: tensor {name}: unsupported dtype {dt!r}")
        if (not isinstance(shape, list) or
                not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in shape)):
            raise ValueError(f"{path}: tensor {name}: bad shape {shape!r}")
        if (not isinstance(offs, list) or len(offs) != 2 or
                not all(isinstance(o, int) and not isinstance(o, bool) for o in offs) or
                not 0 <= offs[0] <= offs[1] <= len(data)):
            raise ValueError(f"{path}: tensor {name}: bad data_offsets {offs!r} "
                             f"(data section is {len(data)} bytes)")
        npdt = np.dtype(_DTYPES[dt][1])
        nbytes = math.prod(shape) * npdt.itemsize
        if offs[1] - offs[0] != nbytes:
            raise ValueError(f"{path}: tensor {name}: {offs[1] - offs[0]} bytes for shape "
                             f"{shape} {dt} (expected {nbytes})")
        spans.append((offs[0], offs[1], name))
        arr = np.frombuffer(data[offs[0]:offs[1]], dtype=npdt).reshape(shape)
        out[name] = torch.from_numpy(arr.astype(npdt.newbyteorder("="), copy=True))
    pos = 0
    for b, e, name in sorted(spans):
        if b != pos:
            raise ValueError(f"{path}: tensor {name}: data at {b} but expected {pos} "
                             f"(gap or overlap)")
        pos = e
    if pos != len(data):
        raise ValueError(f"{path}: {len(data) - pos} trailing bytes after tensor data")
    return out, dict(meta)
