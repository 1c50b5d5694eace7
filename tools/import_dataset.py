#!/usr/bin/python3
"""Import phase-labelled video datasets into the lac dataset format (docs/dataset.md).

What it does:
  import_dataset.py carl --pickles DIR --out DATASET [--videos DIR] [--splits train,val]
        [--action NAME] [--phases A,B,...] [--name N] [--fps F]
        [--videos-mode ref|copy|symlink] [--relative] [--ext .mp4]
        [--no-check-files] [--check-frames] [--force]
      Reads the train.pkl / val.pkl (/ test.pkl) that CARL (minghchen/CARL_code,
      dataset_preparation/tfrecords_to_videos.py) writes and LAC (keynekassapa13/LAC)
      reads: for Pouring a list of dicts {id, video_file, frame_label, seq_len, name};
      for Penn Action a pair (that list with an action_label per dict, action_to_indices).
      frame_label is a torch tensor in their files (a numpy array or a list works too).
      Writes DATASET/labels.json with one entry per video in pickle order (train first),
      per-frame labels, and key events wherever the labels determine them.

  import_dataset.py tcc (--events LIST.csv | --segments LABELS.json) --out DATASET
        [--videos DIR] [--split S] [--action NAME] [--phases A,B,...] [--name N]
        [--fps F] [--frames-from decode|discoverer] [--ext .mp4]
        [--videos-mode ref|copy|symlink] [--relative] [--force]
      --events: a key-event list, one CSV row per video with a header naming the
      columns: video (file, relative to --videos or absolute), events (K-1 frame
      indices separated by spaces or ';'), and optionally id, split, action, n_frames,
      fps.  An event frame is the first frame of the next phase.
      --segments: a label file in the layout TCC's videos_to_tfrecords.py reads
      ({video_id: {annotator: {"k": [start_us, end_us]}}}); the annotators are merged
      and frames labelled exactly as TCC does (mean over annotators, gaps closed at
      their midpoints, frame t at time t/fps belongs to segment k when
      start_k <= t/fps < end_k, frames before/after all segments to the first/last).
      Frame counts missing from the list are asked of GStreamer: by decoding
      (gst-launch-1.0, exact; the default) or from gst-discoverer-1.0's duration x
      frame rate (fast, approximate: the container duration can include audio).

  Videos are referenced where they are: a path relative to DATASET when the file lies
  inside it (or with --relative), else absolute; --videos-mode copy|symlink puts them
  (or links to them) in DATASET/videos/ instead.  labels.json is written through a
  temporary file and a rename; an existing one is replaced only with --force.

What it does not do:
  * No network access, no downloads: the pickles, lists and videos are local files.
  * Pickles are read with a restricted unpickler: plain containers, numbers, strings,
    numpy arrays and torch tensors (decoded without torch, straight into numpy); any
    other class in the file is refused, so a hostile pickle cannot run code.
  * It does not re-encode videos or check them beyond existence (and, with
    --check-frames, their decoded frame count).

Exit status: 0 on success, 2 on a user error (bad arguments, unreadable or unexpected
input) with a one-line message on stderr saying what to fix.
"""

import argparse
import csv
import io
import json
import os
import pickle
import re
import shutil
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import lac_dataset as lds  # noqa: E402
from lac_dataset import DatasetError  # noqa: E402

PROG = "import_dataset.py"


class UserError(Exception):
    pass


def warn(msg):
    print(f"{PROG}: warning: {msg}", file=sys.stderr)


def note(msg):
    print(f"{PROG}: {msg}", file=sys.stderr)


# ================================================================= safe unpickling
#
# A torch tensor pickled with plain pickle.dump (as CARL does) is
#   torch._utils._rebuild_tensor_v2(torch.storage._load_from_bytes(B), offset, size,
#                                   stride, requires_grad, OrderedDict())
# where B is torch.save(storage) in torch's legacy (non-zip) format: five pickles
# (magic number, protocol version, system info, the storage as a persistent id, the
# list of storage keys) followed, per key, by an int64 element count and the raw
# elements.  We parse B ourselves with the same restricted rules, so torch is not
# needed and torch.load (which would unpickle B without restriction) is never called.

_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C

_STORAGE_DTYPES = {
    "DoubleStorage": "float64", "FloatStorage": "float32", "HalfStorage": "float16",
    "LongStorage": "int64", "IntStorage": "int32", "ShortStorage": "int16",
    "CharStorage": "int8", "ByteStorage": "uint8", "BoolStorage": "bool",
}


class _StorageType:
    def __init__(self, name):
        self.name = name
        self.dtype = _STORAGE_DTYPES[name]


class _StorageRef:
    """What a storage's persistent id unpickles to: its type, key and element count."""

    def __init__(self, stype, key, numel):
        self.stype, self.key, self.numel = stype, key, numel


class _Storage:
    """A decoded storage: a 1-D numpy array."""

    def __init__(self, array):
        self.array = array


class _LegacyStorageUnpickler(pickle.Unpickler):
    """Reads the pickles inside torch's legacy storage bytes: only storage types."""

    def find_class(self, module, name):
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} inside a tensor's "
                                     f"storage bytes")

    def persistent_load(self, pid):
        if (not isinstance(pid, tuple) or len(pid) < 5 or pid[0] != "storage"
                or not isinstance(pid[1], _StorageType)):
            raise pickle.UnpicklingError(f"unexpected persistent id {pid!r:.80} in a tensor's "
                                         f"storage bytes")
        if len(pid) > 5 and pid[5] is not None:
            raise pickle.UnpicklingError("storage views are not supported")
        numel = pid[4]
        if not isinstance(numel, int) or numel < 0:
            raise pickle.UnpicklingError(f"bad storage size {numel!r}")
        return _StorageRef(pid[1], str(pid[2]), numel)


def _load_storage_bytes(data):
    """torch.storage._load_from_bytes, for legacy-format bytes, without torch."""
    import numpy as np

    if not isinstance(data, bytes):
        raise pickle.UnpicklingError("a tensor's storage is not a bytes object")
    f = io.BytesIO(data)

    def one():
        return _LegacyStorageUnpickler(f).load()

    if one() != _LEGACY_MAGIC:
        raise pickle.UnpicklingError("a tensor's storage bytes are not in torch's legacy "
                                     "format (the only one plain pickle writes)")
    one()  # protocol version
    sys_info = one()
    little = not isinstance(sys_info, dict) or sys_info.get("little_endian", True)
    ref = one()
    keys = one()
    if not isinstance(ref, _StorageRef) or not isinstance(keys, list) or keys != [ref.key]:
        raise pickle.UnpicklingError("a tensor's storage bytes hold something other than "
                                     "one storage")
    head = f.read(8)
    if len(head) != 8:
        raise pickle.UnpicklingError("a tensor's storage bytes are truncated")
    (numel,) = struct.unpack("<q" if little else ">q", head)
    dt = np.dtype(ref.stype.dtype).newbyteorder("<" if little else ">")
    if numel != ref.numel or numel * dt.itemsize != len(data) - f.tell():
        raise pickle.UnpicklingError("a tensor's storage size does not match its bytes")
    arr = np.frombuffer(data, dtype=dt, count=numel, offset=f.tell())
    return _Storage(arr.astype(dt.newbyteorder("="), copy=True))


def _rebuild_tensor(storage, offset, size, stride, *_rest):
    """torch._utils._rebuild_tensor(_v2) into a numpy array (strides checked)."""
    import numpy as np

    if not isinstance(storage, _Storage):
        raise pickle.UnpicklingError("a tensor without a decodable storage")
    size, stride = tuple(size), tuple(stride)
    if len(size) != len(stride) or not all(isinstance(x, int) and x >= 0 for x in size + stride):
        raise pickle.UnpicklingError("a tensor with malformed size/stride")
    arr = storage.array
    if any(s == 0 for s in size):
        return np.zeros(size, dtype=arr.dtype)
    last = offset + sum((n - 1) * s for n, s in zip(size, stride))
    if offset < 0 or last >= arr.size:
        raise pickle.UnpicklingError("a tensor reaches past its storage")
    it = arr.itemsize
    view = np.lib.stride_tricks.as_strided(arr[offset:], shape=size,
                                           strides=tuple(s * it for s in stride))
    return np.array(view, copy=True)


def _ordered_dict(*args):
    import collections
    return collections.OrderedDict(*args)


class _SafeUnpickler(pickle.Unpickler):
    """Resolves only plain builtins, numpy array reconstruction and torch tensor
    reconstruction (into numpy).  Everything else is refused."""

    def find_class(self, module, name):
        import numpy as np
        if (module, name) in (("torch._utils", "_rebuild_tensor_v2"),
                              ("torch._utils", "_rebuild_tensor")):
            return _rebuild_tensor
        if (module, name) == ("torch.storage", "_load_from_bytes"):
            return _load_storage_bytes
        if (module, name) == ("collections", "OrderedDict"):
            return _ordered_dict
        if module in ("numpy.core.multiarray", "numpy._core.multiarray") and name in (
                "_reconstruct", "scalar"):
            try:
                from numpy._core import multiarray  # numpy >= 2
            except ImportError:
                from numpy.core import multiarray
            return getattr(multiarray, name)
        if (module, name) == ("numpy", "ndarray"):
            return np.ndarray
        if (module, name) == ("numpy", "dtype"):
            return np.dtype
        if module == "builtins" and name in ("set", "frozenset", "slice", "complex"):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f"refusing to load {module}.{name} (a dataset pickle holds only lists, dicts, "
            f"numbers, strings, numpy arrays and tensors)")


def safe_load_pickle(path):
    if not os.path.isfile(path):
        raise UserError(f"{path}: no such file")
    try:
        with open(path, "rb") as f:
            return _SafeUnpickler(f, encoding="latin1").load()
    except UserError:
        raise
    except MemoryError:
        raise UserError(f"{path}: out of memory while unpickling") from None
    except Exception as e:  # unpickling raises many unrelated types on bad input
        first = (str(e).strip().splitlines() or [""])[0]
        raise UserError(f"{path}: cannot read as a dataset pickle "
                        f"({type(e).__name__}: {first[:300]})") from None


# ================================================================= GStreamer helpers

def _gst_location(path):
    return 'location="' + path.replace("\\", "\\\\").replace('"', '\\"') + '"'


def count_frames_decode(path):
    """Frames the first video stream of `path` decodes to (gst-launch-1.0, exact)."""
    tool = shutil.which("gst-launch-1.0")
    if not tool:
        raise UserError("gst-launch-1.0 not found (apt-get install gstreamer1.0-tools), "
                        "or give n_frames in the list")
    cmd = [tool, "-v", "filesrc", _gst_location(os.path.abspath(path)), "!", "decodebin", "!",
           "video/x-raw", "!", "fakesink", "name=lacframes", "silent=false", "sync=false"]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       errors="replace")
    if r.returncode != 0:
        err = [ln for ln in r.stdout.splitlines() if ln.startswith("ERROR")]
        raise UserError(f"{path}: GStreamer cannot decode it ({(err or ['no message'])[0]})")
    return sum(1 for ln in r.stdout.splitlines() if "lacframes: last-message = chain" in ln)


def discover(path):
    """(duration in s, fps or None) from gst-discoverer-1.0."""
    tool = shutil.which("gst-discoverer-1.0")
    if not tool:
        raise UserError("gst-discoverer-1.0 not found (apt-get install "
                        "gstreamer1.0-plugins-base-apps), or use --frames-from decode / --fps")
    r = subprocess.run([tool, os.path.abspath(path)], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, errors="replace")
    dur = re.search(r"Duration:\s*(\d+):(\d+):(\d+(?:\.\d+)?)", r.stdout)
    fr = re.search(r"Frame rate:\s*(\d+)/(\d+)", r.stdout)
    if r.returncode != 0 or not dur:
        raise UserError(f"{path}: gst-discoverer-1.0 cannot read it")
    seconds = int(dur.group(1)) * 3600 + int(dur.group(2)) * 60 + float(dur.group(3))
    fps = None
    if fr and int(fr.group(1)) and int(fr.group(2)):
        fps = int(fr.group(1)) / int(fr.group(2))
    return seconds, fps


def count_frames(path, how):
    if how == "decode":
        n = count_frames_decode(path)
    else:
        seconds, fps = discover(path)
        if not fps:
            raise UserError(f"{path}: gst-discoverer-1.0 reports no frame rate; use "
                            f"--frames-from decode")
        n = int(round(seconds * fps))
    if n < 1:
        raise UserError(f"{path}: no video frames found")
    return n


# ================================================================= output placement

class Placer:
    """Decides the "path" written for each video and copies/links when asked."""

    def __init__(self, out, mode, relative, check):
        self.out = os.path.abspath(out)
        self.mode, self.relative, self.check = mode, relative, check
        self.taken = {}

    def __call__(self, vid, src):
        if self.check and not os.path.isfile(src):
            raise UserError(f"video '{vid}': file {src} not found (point --videos at the folder "
                            f"holding the videos, or pass --no-check-files)")
        src_abs = os.path.abspath(src)
        if self.mode == "ref":
            inside = os.path.commonpath([self.out, src_abs]) == self.out
            return os.path.relpath(src_abs, self.out) if (inside or self.relative) else src_abs
        base = os.path.basename(src_abs)
        if base in self.taken and self.taken[base] != src_abs:
            raise UserError(f"videos '{vid}' and another both are called {base}: "
                            f"--videos-mode {self.mode} needs distinct file names")
        self.taken[base] = src_abs
        dst = os.path.join(self.out, "videos", base)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if os.path.lexists(dst) and os.path.exists(dst) and os.path.samefile(dst, src_abs):
            return os.path.join("videos", base)
        if self.mode == "copy":
            shutil.copyfile(src_abs, dst)
        else:
            if os.path.lexists(dst):
                os.unlink(dst)
            os.symlink(src_abs, dst)
        return os.path.join("videos", base)


# ================================================================= actions and phases

class Phases:
    """Phase names per action: --phases, the known table, or inferred from the data."""

    def __init__(self, override):
        self.override = override.split(",") if override else None
        if self.override and any(not p for p in self.override):
            raise UserError("--phases: empty phase name (give comma-separated names)")

    def names(self, action, need_k=None):
        """need_k: the K the data implies (None when the data cannot tell)."""
        if self.override:
            names = self.override
        else:
            names = lds.known_phases(action)
            if names is None:
                if need_k is None:
                    raise UserError(f"action '{action}' is not a known one: pass --phases "
                                    f"with its phase names")
                warn(f"action '{action}' is not a known one: {need_k} phases named from the "
                     f"data (pass --phases to name them)")
                names = [f"phase_{k}" for k in range(need_k)]
        return names


def _doc_add_action(doc, action, phases):
    have = doc["actions"].get(action)
    if have is None:
        doc["actions"][action] = {"phases": list(phases)}
    elif have["phases"] != list(phases):
        raise UserError(f"action '{action}' gets two different phase lists")


def _finish(doc, out, force):
    os.makedirs(out, exist_ok=True)
    file = os.path.join(out, lds.LABELS_FILE)
    if os.path.exists(file) and not force:
        raise UserError(f"{file} exists: pass --force to replace it")
    if not doc["videos"]:
        raise UserError("no videos to write")
    try:
        lds.write(file, doc)
    except DatasetError as e:
        raise UserError(f"the imported data breaks a rule of the format: {e}") from None
    counts = {}
    for v in doc["videos"]:
        counts.setdefault(v["split"], 0)
        counts[v["split"]] += 1
    note(f"wrote {file}: {len(doc['videos'])} videos ("
         + ", ".join(f"{n} {s}" for s, n in counts.items()) + f"), {len(doc['actions'])} "
         f"action(s)")
    return file


# ================================================================= carl

def _as_label_list(x, vid):
    """frame_label (numpy array from a tensor, numpy array, list) -> list of ints."""
    try:
        import numpy as np
    except ImportError:  # pragma: no cover - numpy is a dependency of the pickles anyway
        np = None
    if np is not None and isinstance(x, np.ndarray):
        if x.ndim != 1 or not (np.issubdtype(x.dtype, np.integer) or x.dtype == np.bool_):
            raise UserError(f"video '{vid}': frame_label is a {x.dtype} array of shape "
                            f"{x.shape}, expected a 1-D integer array")
        return [int(v) for v in x.tolist()]
    if isinstance(x, (list, tuple)):
        out = []
        for t, v in enumerate(x):
            i = lds._int_or_none(v)
            if i is None:
                raise UserError(f"video '{vid}': frame_label[{t}] is {v!r}, not an integer")
            out.append(i)
        return out
    raise UserError(f"video '{vid}': frame_label is a {type(x).__name__}, expected a tensor, "
                    f"array or list of per-frame phase indices")


def _carl_entries(obj, path):
    """Pickle content -> (list of dicts, action_to_indices or None)."""
    if isinstance(obj, list) and all(isinstance(d, dict) for d in obj):
        return obj, None
    if (isinstance(obj, (tuple, list)) and len(obj) == 2 and isinstance(obj[0], list)
            and all(isinstance(d, dict) for d in obj[0]) and isinstance(obj[1], (list, tuple))):
        return obj[0], obj[1]
    raise UserError(f"{path}: expected CARL's layout, a list of dicts (Pouring) or a pair "
                    f"(list of dicts, action_to_indices) (Penn Action); got a "
                    f"{type(obj).__name__}")


def _penn_action(d, vid, path, i):
    al = d.get("action_label")
    by_label = None
    if al is not None:
        a = lds._int_or_none(al)
        if a is None or not 0 <= a < len(lds.PENN_ACTION_LIST):
            raise UserError(f"{path}: video '{vid}' (entry {i}): action_label {al!r} is not an "
                            f"index into the {len(lds.PENN_ACTION_LIST)} Penn Action actions")
        by_label = lds.PENN_ACTION_LIST[a]
    name = d.get("name")
    by_name = None
    if isinstance(name, str):
        m = re.fullmatch(r"\d+_(.+)", name)
        if m and lds.ACTION_ALIASES.get(m.group(1), m.group(1)) in lds.PENN_ACTION_LIST:
            by_name = lds.ACTION_ALIASES.get(m.group(1), m.group(1))
    if by_label and by_name and by_label != by_name:
        raise UserError(f"{path}: video '{vid}' (entry {i}): action_label says {by_label}, "
                        f"its name says {by_name}")
    action = by_label or by_name
    if not action:
        raise UserError(f"{path}: video '{vid}' (entry {i}) has no action_label and its name "
                        f"does not end in a Penn Action action")
    return action


def cmd_carl(args):
    pickles = args.pickles
    if not os.path.isdir(pickles):
        raise UserError(f"--pickles {pickles}: not a folder (give the folder holding "
                        f"train.pkl and val.pkl)")
    if args.splits:
        splits = [s for s in args.splits.split(",") if s]
        missing = [s for s in splits if not os.path.isfile(os.path.join(pickles, s + ".pkl"))]
        if missing:
            raise UserError(f"--pickles {pickles}: no {', '.join(m + '.pkl' for m in missing)}")
    else:
        splits = [s for s in ("train", "val", "test")
                  if os.path.isfile(os.path.join(pickles, s + ".pkl"))]
        if not splits:
            raise UserError(f"--pickles {pickles}: no train.pkl, val.pkl or test.pkl there")
    place = Placer(args.out, args.videos_mode, args.relative, not args.no_check_files)
    phases = Phases(args.phases)
    doc = lds.new_doc(args.name)

    rows = []  # (split, id, action, labels, src)
    for split in splits:
        path = os.path.join(pickles, split + ".pkl")
        entries, a2i = _carl_entries(safe_load_pickle(path), path)
        penn = a2i is not None
        actions_here = []
        for i, d in enumerate(entries):
            name = d.get("name")
            vfile = d.get("video_file")
            if name is not None and not isinstance(name, str):
                raise UserError(f"{path}: entry {i}: name is a {type(name).__name__}, not a "
                                f"string")
            if vfile is not None and not isinstance(vfile, str):
                raise UserError(f"{path}: entry {i}: video_file is a {type(vfile).__name__}, "
                                f"not a string")
            if not name and not vfile:
                raise UserError(f"{path}: entry {i} has neither 'name' nor 'video_file': "
                                f"cannot tell which video it is")
            vid = name or os.path.splitext(os.path.basename(vfile))[0]
            if args.id_prefix_split:
                vid = f"{split}/{vid}"
            if "frame_label" not in d:
                raise UserError(f"{path}: video '{vid}' (entry {i}) has no 'frame_label' "
                                f"(keys: {', '.join(map(str, d))})")
            labels = _as_label_list(d["frame_label"], vid)
            if not labels:
                raise UserError(f"{path}: video '{vid}': frame_label is empty")
            if "seq_len" in d:
                sl = lds._int_or_none(d["seq_len"])
                if sl != len(labels):
                    raise UserError(f"{path}: video '{vid}': seq_len {d['seq_len']!r} but "
                                    f"{len(labels)} frame labels: they must agree")
            if penn:
                action = _penn_action(d, vid, path, i)
            else:
                action = args.action or "pouring"
            actions_here.append(action)
            if args.videos:
                base = os.path.basename(vfile) if vfile else name + args.ext
                src = os.path.join(args.videos, base)
            elif vfile:
                src = os.path.join(pickles, vfile)  # CARL: relative to the dataset folder
            else:
                src = os.path.join(pickles, "videos", name + args.ext)  # LAC's layout
            rows.append((split, vid, action, labels, src))
        if penn:
            _check_action_to_indices(a2i, actions_here, path)

    # phase names per action; every label must fit
    by_action = {}
    for r in rows:
        by_action.setdefault(r[2], []).append(r)
    if args.phases and len(by_action) > 1:
        raise UserError(f"--phases names one action's phases but the pickles hold "
                        f"{len(by_action)} actions ({', '.join(by_action)})")
    for action, rs in by_action.items():
        need = max(max(r[3]) for r in rs) + 1
        names = phases.names(action, need_k=max(need, 1))
        K = len(names)
        for split, vid, _, labels, _ in rs:
            for t, x in enumerate(labels):
                if x < -1 or x >= K:
                    raise UserError(f"video '{vid}' ({split}): frame {t} has label {x}, outside "
                                    f"[-1, {K}) for action '{action}' ({K} phases); pass "
                                    f"--phases if the action has more phases")
        _doc_add_action(doc, action, names)

    seen = {}
    for split, vid, action, labels, src in rows:
        if vid in seen:
            raise UserError(f"video id '{vid}' appears in {seen[vid]}.pkl and {split}.pkl: pass "
                            f"--id-prefix-split to make ids unique")
        seen[vid] = split
        if args.check_frames:
            # lac eval's tolerance: decoders may disagree on the last frame or two
            n = count_frames_decode(src)
            if abs(n - len(labels)) > max(2, len(labels) // 50):
                raise UserError(f"video '{vid}': {src} decodes to {n} frames but has "
                                f"{len(labels)} frame labels")
            if n != len(labels):
                warn(f"video '{vid}': decodes to {n} frames, {len(labels)} frame labels")
        K = len(doc["actions"][action]["phases"])
        v = {"id": vid, "path": place(vid, src), "split": split, "action": action,
             "n_frames": len(labels)}
        if args.fps:
            v["fps"] = args.fps
        v["labels"] = labels
        ev = lds.labels_to_events(labels, K)
        if ev is not None:
            v["events"] = ev
        doc["videos"].append(v)
    return _finish(doc, args.out, args.force)


def _check_action_to_indices(a2i, actions, path):
    """CARL's action_to_indices[a] lists the positions of action a's videos."""
    if len(a2i) != len(lds.PENN_ACTION_LIST):
        raise UserError(f"{path}: action_to_indices has {len(a2i)} lists, expected "
                        f"{len(lds.PENN_ACTION_LIST)} (one per Penn Action action)")
    covered = 0
    for a, idx in enumerate(a2i):
        if not isinstance(idx, (list, tuple)):
            raise UserError(f"{path}: action_to_indices[{a}] is not a list")
        for i in idx:
            j = lds._int_or_none(i)
            if j is None or not 0 <= j < len(actions):
                raise UserError(f"{path}: action_to_indices[{a}] has {i!r}, not a video index")
            if actions[j] != lds.PENN_ACTION_LIST[a]:
                raise UserError(f"{path}: action_to_indices puts video {j} under "
                                f"{lds.PENN_ACTION_LIST[a]} but it is {actions[j]}")
            covered += 1
    if covered != len(actions):
        raise UserError(f"{path}: action_to_indices covers {covered} of {len(actions)} videos")


# ================================================================= tcc

def _read_event_list(path):
    """CSV with a header -> list of (line number, dict column -> value)."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            lines = [(n + 1, ln) for n, ln in enumerate(f)
                     if ln.strip() and not ln.lstrip().startswith("#")]
    except (OSError, UnicodeDecodeError) as e:
        raise UserError(f"{path}: cannot read: {e}") from None
    if not lines:
        raise UserError(f"{path}: empty key-event list (expected a header line and one row "
                        f"per video)")
    delim = "\t" if "\t" in lines[0][1] else ","
    reader = csv.reader([ln for _, ln in lines], delimiter=delim)
    rows = list(reader)
    header = [h.strip().lower() for h in rows[0]]
    for col in ("video", "events"):
        if col not in header:
            raise UserError(f"{path}:{lines[0][0]}: the header must name a '{col}' column "
                            f"(columns: video, events, and optionally id, split, action, "
                            f"n_frames, fps)")
    known = {"video", "events", "id", "split", "action", "n_frames", "fps"}
    unknown = [h for h in header if h not in known]
    if unknown:
        raise UserError(f"{path}:{lines[0][0]}: unknown column(s) {', '.join(unknown)} "
                        f"(known: {', '.join(sorted(known))})")
    out = []
    for (lineno, _), row in zip(lines[1:], rows[1:]):
        if len(row) != len(header):
            raise UserError(f"{path}:{lineno}: {len(row)} fields for {len(header)} columns")
        out.append((lineno, {h: c.strip() for h, c in zip(header, row)}))
    return out


def _parse_events(cell, where):
    parts = [p for p in re.split(r"[\s;]+", cell) if p]
    ev = []
    for p in parts:
        if not re.fullmatch(r"[+-]?\d+", p):
            raise UserError(f"{where}: key event {p!r} is not an integer frame index")
        ev.append(int(p))
    return ev


def _resolve_video(videos, name):
    return name if os.path.isabs(name) else os.path.join(videos, name)


def cmd_tcc_events(args, doc, place, phases):
    rows = _read_event_list(args.events)
    videos = args.videos or os.path.dirname(os.path.abspath(args.events))
    K_seen = {}
    for lineno, r in rows:
        where = f"{args.events}:{lineno}"
        if not r["video"]:
            raise UserError(f"{where}: empty 'video'")
        src = _resolve_video(videos, r["video"])
        vid = r.get("id") or os.path.splitext(os.path.basename(r["video"]))[0]
        split = r.get("split") or args.split
        action = r.get("action") or args.action
        if not split:
            raise UserError(f"{where}: video '{vid}' has no split: add a 'split' column or "
                            f"pass --split")
        if not action:
            raise UserError(f"{where}: video '{vid}' has no action: add an 'action' column or "
                            f"pass --action")
        events = _parse_events(r["events"], f"{where}: video '{vid}'")
        if action not in K_seen:
            if args.phases and K_seen:
                raise UserError(f"--phases names one action's phases but the list has more "
                                f"than one action ({', '.join(K_seen)}, {action})")
            names = phases.names(action, need_k=len(events) + 1)
            _doc_add_action(doc, action, names)
            K_seen[action] = len(names)
        K = K_seen[action]
        if len(events) != K - 1:
            raise UserError(f"{where}: video '{vid}' lists {len(events)} key events; action "
                            f"'{action}' has {K} phases, so it needs {K - 1}")
        if r.get("n_frames"):
            n = int(r["n_frames"]) if re.fullmatch(r"\d+", r["n_frames"]) else 0
            if n < 1:
                raise UserError(f"{where}: video '{vid}': n_frames {r['n_frames']!r} is not a "
                                f"positive integer")
        else:
            if not os.path.isfile(src):
                raise UserError(f"{where}: video '{vid}': file {src} not found (needed to count "
                                f"its frames; point --videos at the folder or add n_frames)")
            n = count_frames(src, args.frames_from)
        try:
            lds.events_to_labels(events, n)
        except DatasetError as e:
            raise UserError(f"{where}: video '{vid}': {e}") from None
        v = {"id": vid, "path": place(vid, src), "split": split, "action": action,
             "n_frames": n}
        fps = r.get("fps") or args.fps
        if fps:
            try:
                v["fps"] = float(fps)
            except ValueError:
                raise UserError(f"{where}: video '{vid}': fps {fps!r} is not a number") from None
        v["events"] = events
        doc["videos"].append(v)


def tcc_merge_segments(annot, K, where):
    """TCC's merge: {annotator: {"k": [start_us, end_us]}} -> {k: [start_s, end_s]}
    (mean over annotators, then each gap/overlap between consecutive segments, taken in
    order of start, closed at the midpoint of the earlier's end and the later's start)."""
    if not isinstance(annot, dict) or not annot:
        raise UserError(f"{where}: expected an object of annotators, each mapping segment "
                        f"\"0\"..\"{K - 1}\" to [start_us, end_us]")
    seg = {}
    for k in range(K):
        s = e = 0.0
        for who, segs in annot.items():
            if not isinstance(segs, dict) or str(k) not in segs:
                raise UserError(f"{where}: annotator '{who}' has no segment \"{k}\" "
                                f"(expected segments \"0\"..\"{K - 1}\")")
            pair = segs[str(k)]
            if (not isinstance(pair, (list, tuple)) or len(pair) != 2
                    or any(lds._number_or_none(x) is None for x in pair)):
                raise UserError(f"{where}: annotator '{who}' segment \"{k}\" is {pair!r}, "
                                f"expected [start_us, end_us]")
            if pair[1] < pair[0]:
                raise UserError(f"{where}: annotator '{who}' segment \"{k}\" ends before it "
                                f"starts")
            s += float(pair[0])
            e += float(pair[1])
        seg[k] = [s / len(annot) / 1e6, e / len(annot) / 1e6]
    for who, segs in annot.items():
        extra = [key for key in segs if key not in {str(k) for k in range(K)}]
        if extra:
            raise UserError(f"{where}: annotator '{who}' has segment(s) {', '.join(extra)} "
                            f"beyond the {K} phases")
    order = sorted(seg, key=lambda k: seg[k][0])
    for i in range(1, K):
        mid = 0.5 * (seg[order[i - 1]][1] + seg[order[i]][0])
        seg[order[i - 1]][1] = mid
        seg[order[i]][0] = mid
    return seg


def tcc_label_frames(seg, n_frames, fps):
    """TCC's frame labelling: frame t (time t/fps) gets segment k when
    start_k <= t/fps < end_k (first such k in key order); frames after every segment get
    the segment ending last, frames before every segment the one starting first;
    anything else (only possible with degenerate segments) is -1."""
    keys = sorted(seg)
    first = min(keys, key=lambda k: seg[k][0])
    last = max(keys, key=lambda k: seg[k][1])
    labels = []
    for t in range(n_frames):
        ts = t / fps
        lab = -1
        for k in keys:
            if seg[k][0] <= ts < seg[k][1]:
                lab = k
                break
        else:
            if ts >= seg[last][1]:
                lab = last
            elif ts < seg[first][0]:
                lab = first
        labels.append(lab)
    return labels


def cmd_tcc_segments(args, doc, place, phases):
    path = args.segments
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise UserError(f"{path}: cannot read as JSON: {e}") from None
    if not isinstance(data, dict) or not data:
        raise UserError(f"{path}: expected a JSON object mapping each video id to its "
                        f"annotations")
    if not args.split or not args.action:
        raise UserError("--segments needs --split and --action (TCC label files hold neither)")
    if not args.videos:
        raise UserError("--segments needs --videos, the folder holding the videos")
    # K: --phases, the known table, or the segments the first annotator gives
    first = next(iter(data.values()))
    first_ann = next(iter(first.values())) if isinstance(first, dict) and first else None
    need = len(first_ann) if isinstance(first_ann, dict) else None
    names = phases.names(args.action, need_k=need)
    _doc_add_action(doc, args.action, names)
    K = len(names)
    for vid, annot in data.items():
        where = f"{path}: video '{vid}'"
        seg = tcc_merge_segments(annot, K, where)
        cands = sorted(f for f in os.listdir(args.videos) if os.path.splitext(f)[0] == vid
                       and os.path.isfile(os.path.join(args.videos, f)))
        if args.ext and os.path.isfile(os.path.join(args.videos, vid + args.ext)):
            cands = [vid + args.ext]
        if len(cands) != 1:
            raise UserError(f"{where}: {'no' if not cands else len(cands)} video file(s) named "
                            f"{vid}.* in {args.videos}" + (f" ({', '.join(cands)}; pass --ext)"
                                                          if cands else ""))
        src = os.path.join(args.videos, cands[0])
        fps = args.fps
        if not fps:
            _, fps = discover(src)
            if not fps:
                raise UserError(f"{where}: no frame rate known for {src}: pass --fps")
        n = count_frames(src, args.frames_from)
        labels = tcc_label_frames(seg, n, fps)
        if -1 in labels:
            warn(f"{where}: {labels.count(-1)} frame(s) fall in no segment (degenerate "
                 f"annotation) and are left unlabelled (-1)")
        v = {"id": vid, "path": place(vid, src), "split": args.split, "action": args.action,
             "n_frames": n, "fps": float(fps), "labels": labels}
        ev = lds.labels_to_events(labels, K)
        if ev is not None:
            v["events"] = ev
        doc["videos"].append(v)


def cmd_tcc(args):
    if bool(args.events) == bool(args.segments):
        raise UserError("tcc: give exactly one of --events LIST.csv or --segments LABELS.json")
    if args.videos and not os.path.isdir(args.videos):
        raise UserError(f"--videos {args.videos}: not a folder")
    place = Placer(args.out, args.videos_mode, args.relative, check=True)
    phases = Phases(args.phases)
    doc = lds.new_doc(args.name)
    if args.fps is not None and not args.fps > 0:
        raise UserError("--fps must be positive")
    if args.events:
        if not os.path.isfile(args.events):
            raise UserError(f"--events {args.events}: no such file")
        cmd_tcc_events(args, doc, place, phases)
    else:
        cmd_tcc_segments(args, doc, place, phases)
    return _finish(doc, args.out, args.force)


# ================================================================= main

class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UserError(message)


def build_parser():
    p = _Parser(prog=PROG, description="Import CARL/LAC pickles or TCC-style key-event "
                "annotations into a lac dataset (labels.json; docs/dataset.md).")
    sub = p.add_subparsers(dest="cmd", parser_class=_Parser)

    def common(q):
        q.add_argument("--out", required=True, help="dataset folder to write labels.json into")
        q.add_argument("--name", help="dataset name written into the file")
        q.add_argument("--action", help="action name (carl: for Pouring-layout pickles, "
                       "default 'pouring'; tcc: default for rows without one)")
        q.add_argument("--phases", help="comma-separated phase names (one action only)")
        q.add_argument("--fps", type=float, help="frame rate to record (tcc --segments: "
                       "used to time frames; default: ask gst-discoverer-1.0)")
        q.add_argument("--videos-mode", choices=("ref", "copy", "symlink"), default="ref",
                       help="ref: point at the videos where they are (default); copy/symlink: "
                       "into DATASET/videos/")
        q.add_argument("--relative", action="store_true", help="with ref: write paths "
                       "relative to DATASET even for videos outside it")
        q.add_argument("--ext", default=".mp4", help="video file extension when only a name "
                       "is known (default .mp4)")
        q.add_argument("--force", action="store_true", help="replace an existing labels.json")

    c = sub.add_parser("carl", help="CARL/LAC train.pkl / val.pkl")
    c.add_argument("--pickles", required=True, help="folder holding train.pkl, val.pkl")
    c.add_argument("--videos", help="folder holding the videos (default: as the pickles say, "
                   "relative to --pickles)")
    c.add_argument("--splits", help="comma-separated splits to import (default: every one of "
                   "train, val, test with a .pkl)")
    c.add_argument("--id-prefix-split", action="store_true", help="ids 'SPLIT/NAME' (when a "
                   "name repeats across splits)")
    c.add_argument("--no-check-files", action="store_true", help="do not require the video "
                   "files to exist")
    c.add_argument("--check-frames", action="store_true", help="decode every video "
                   "(GStreamer) and require its frame count to match its labels")
    common(c)

    t = sub.add_parser("tcc", help="key-event list (CSV) or TCC segment label file")
    t.add_argument("--events", help="key-event list: CSV with header video,events[,id,split,"
                   "action,n_frames,fps]")
    t.add_argument("--segments", help="TCC label file {video: {annotator: {k: [start_us, "
                   "end_us]}}}")
    t.add_argument("--videos", help="folder holding the videos (default for --events: the "
                   "list's folder)")
    t.add_argument("--split", help="split for rows without one (--segments: for all)")
    t.add_argument("--frames-from", choices=("decode", "discoverer"), default="decode",
                   help="how to count frames the list does not give (default decode: exact)")
    common(t)
    return p


def main(argv=None):
    try:
        args = build_parser().parse_args(argv)
        if not args.cmd:
            raise UserError("give a subcommand: carl or tcc (see --help)")
        if args.cmd == "carl":
            cmd_carl(args)
        else:
            cmd_tcc(args)
    except UserError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2
    except DatasetError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
