#!/usr/bin/python3
"""Self-check of the dataset tools (lac_dataset.py, import_dataset.py).

What it does: checks events -> labels on hand-worked examples and against a brute-force
count, the labels -> events inverse, every validation rule of docs/dataset.md (each
broken document refused with a message naming the video id and field), duplicate JSON
keys refused, the atomic writer (an interrupted write leaves the old file and no
temporary behind); imports fake CARL/LAC pickles built exactly as CARL's
tfrecords_to_videos.py writes them (torch tensors via plain pickle.dump; also numpy
arrays, lists and LAC's videos/NAME.mp4 layout; Penn Action's (list,
action_to_indices) pair), with torch itself as the oracle for the torch-free tensor
decoding (dtypes, offsets, strides); refuses hostile pickles without running them;
imports key-event CSV lists and TCC segment label files (hand-worked labels, TCC's
half-open [start, end) rule at an exact boundary); counts frames of real WebM files
made by GStreamer; and refuses malformed input with exit status 2 and a message
saying what to fix.

What it does not do: it does not test the C loader (tests/ does); the GStreamer parts
are skipped when gst-launch-1.0 or its VP8 encoder is missing, the torch parts when
torch is.

Usage: /usr/bin/python3 tools/test_dataset_tools.py [-k SUBSTRING]
Prints one line per check and "dataset_tools: N passed, M failed, K skipped"; exits 1
if anything failed.
"""

import argparse
import io
import json
import os
import pickle
import random
import shutil
import stat
import subprocess
import sys
import tempfile
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import lac_dataset as lds  # noqa: E402
from lac_dataset import DatasetError  # noqa: E402

IMPORT = os.path.join(HERE, "import_dataset.py")

try:
    import numpy as np
except ImportError:  # pragma: no cover
    np = None
try:
    import torch
except ImportError:  # pragma: no cover
    torch = None

TESTS = []


class Skip(Exception):
    pass


def test(fn):
    TESTS.append(fn)
    return fn


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def expect_error(fn, *needles):
    """fn() must raise DatasetError whose message holds every needle."""
    try:
        fn()
    except DatasetError as e:
        for n in needles:
            check(n in str(e), f"error {str(e)!r} lacks {n!r}")
        return str(e)
    raise AssertionError(f"no DatasetError (expected one mentioning {needles})")


def run(args, expect=0):
    r = subprocess.run([sys.executable, IMPORT] + [str(a) for a in args],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if expect is not None and r.returncode != expect:
        raise AssertionError(f"import_dataset.py {' '.join(map(str, args))}: exit "
                             f"{r.returncode}, expected {expect}\n{r.stderr}")
    return r


def user_error(args, *needles):
    r = run(args, expect=2)
    check("Traceback" not in r.stderr, f"traceback on user error:\n{r.stderr}")
    lines = r.stderr.strip().splitlines()
    check(lines and lines[-1].startswith("import_dataset.py: error:"),
          f"no one-line error: {r.stderr!r}")
    for n in needles:
        check(n in r.stderr, f"error {r.stderr.strip()!r} lacks {n!r}")
    return r.stderr


class Ctx:
    def __init__(self, tmp):
        self.tmp = tmp
        self.n = 0

    def dir(self, name):
        self.n += 1
        p = os.path.join(self.tmp, f"{self.n:02d}_{name}")
        os.makedirs(p)
        return p


def touch(path, data=b"not really a video"):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def need_torch():
    if torch is None or np is None:
        raise Skip("torch/numpy not importable")


def gst_webm(path, n, fps):
    """A real VP8/WebM file with n frames at fps (skips when GStreamer cannot)."""
    tool = shutil.which("gst-launch-1.0")
    if not tool:
        raise Skip("gst-launch-1.0 not installed")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    r = subprocess.run([tool, "-q", "videotestsrc", f"num-buffers={n}", "!",
                        f"video/x-raw,width=64,height=48,framerate={fps}/1", "!", "vp8enc", "!",
                        "webmmux", "!", "filesink", 'location="' + path + '"'],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0 or not os.path.isfile(path):
        raise Skip(f"cannot make a WebM file with GStreamer: {r.stdout.strip()[:200]}")


# ================================================================= events <-> labels

@test
def events_to_labels_hand_worked(ctx):
    check(lds.events_to_labels([2, 5], 8) == [0, 0, 1, 1, 1, 2, 2, 2], "events [2,5] n=8")
    check(lds.events_to_labels([], 3) == [0, 0, 0], "K=1: no events")
    check(lds.events_to_labels([0], 2) == [1, 1], "event at frame 0: frame 0 is phase 1")
    check(lds.events_to_labels([1], 2) == [0, 1], "event at the last frame")
    check(lds.events_to_labels([1, 2, 3], 4) == [0, 1, 2, 3], "one frame per phase")
    # the docs' worked example
    lab = lds.events_to_labels([12, 30, 55, 80], 96)
    want = [0] * 12 + [1] * 18 + [2] * 25 + [3] * 25 + [4] * 16
    check(lab == want, "docs example 12,30,55,80 / 96")
    check(lds.events_to_labels([3.0], 5) == [0, 0, 0, 1, 1], "integral floats are integers")


@test
def events_to_labels_brute_force(ctx):
    rng = random.Random(7)
    for _ in range(300):
        n = rng.randint(1, 40)
        k = rng.randint(0, min(n, 6))
        ev = sorted(rng.sample(range(n), k))
        lab = lds.events_to_labels(ev, n)
        for t in range(n):
            check(lab[t] == sum(1 for e in ev if e <= t), f"brute force n={n} ev={ev} t={t}")
        want = None if ev and ev[0] == 0 else ev
        check(lds.labels_to_events(lab, k + 1) == want, f"round trip n={n} ev={ev}")


@test
def events_to_labels_rejects(ctx):
    expect_error(lambda: lds.events_to_labels([5, 5], 8), "strictly increasing", "event 1")
    expect_error(lambda: lds.events_to_labels([3, 2], 8), "strictly increasing")
    expect_error(lambda: lds.events_to_labels([8], 8), "outside", "8 frames")
    expect_error(lambda: lds.events_to_labels([-1], 8), "outside")
    expect_error(lambda: lds.events_to_labels(["3"], 8), "not an integer")
    expect_error(lambda: lds.events_to_labels([True], 8), "not an integer")
    expect_error(lambda: lds.events_to_labels([1.5], 8), "not an integer")
    expect_error(lambda: lds.events_to_labels([], 0), "n_frames")


@test
def labels_to_events_cases(ctx):
    check(lds.labels_to_events([0, 0, 1, 1, 1, 2, 2, 2], 3) == [2, 5], "simple")
    check(lds.labels_to_events([0, 0, 0], 1) == [], "K=1")
    for bad, K in (([0, 2, 2], 3), ([0, 0, 1], 3), ([1, 1], 2), ([0, -1, 1], 2),
                   ([0, 1, 0, 1], 2), ([], 2)):
        check(lds.labels_to_events(bad, K) is None, f"{bad} K={K} has no events")


# ================================================================= validation

def base_doc():
    return {
        "format": "lac-dataset", "version": 1, "name": "tiny",
        "actions": {"pour": {"phases": ["a", "b", "c"]}, "lift": {"phases": ["x", "y"]}},
        "videos": [
            {"id": "v0", "path": "videos/v0.webm", "split": "train", "action": "pour",
             "n_frames": 6, "fps": 25.0, "labels": [0, 0, 1, -1, 2, 2], "events": [2, 4]},
            {"id": "v1", "path": "/abs/v1.webm", "split": "val", "action": "lift",
             "n_frames": 4, "events": [1]},
            {"id": "v2", "path": "v2.webm", "split": "test", "action": "pour",
             "labels": [-1, -1, 0, 2]},
        ],
    }


def mutated(fn):
    d = json.loads(json.dumps(base_doc()))
    fn(d)
    return d


@test
def validate_accepts_and_loads(ctx):
    lds.validate(base_doc())
    d = ctx.dir("load")
    with open(os.path.join(d, "labels.json"), "w") as f:
        json.dump(base_doc(), f)
    for p in (d, os.path.join(d, "labels.json")):
        ds = lds.load(p)
        check(ds.name == "tiny", "name")
        check(list(ds.actions) == ["pour", "lift"], "actions in file order")
        check([v["id"] for v in ds.videos] == ["v0", "v1", "v2"], "videos in file order")
        check(ds.videos[1]["labels"] == [0, 1, 1, 1], "labels from events")
        check(ds.videos[0]["labels"] == [0, 0, 1, -1, 2, 2], "-1 kept where events agree")
        check(ds.videos[2]["n_frames"] == 4, "n_frames from labels")
        check(ds.videos[0]["full_path"] == os.path.join(d, "videos/v0.webm"), "relative path")
        check(ds.videos[1]["full_path"] == "/abs/v1.webm", "absolute path")
        check([v["id"] for v in ds.by_action()["pour"]] == ["v0", "v2"], "by_action order")


REJECTS = [
    # (what, mutation, needles)
    ("not an object", lambda d: d.clear() or d.update({"x": 1}), ["format"]),
    ("format", lambda d: d.update(format="lac"), ["\"format\"", "'lac'"]),
    ("version 2", lambda d: d.update(version=2), ["version"]),
    ("version string", lambda d: d.update(version="1"), ["version"]),
    ("name not string", lambda d: d.update(name=3), ["\"name\""]),
    ("no actions", lambda d: d.update(actions={}), ["\"actions\""]),
    ("phases empty", lambda d: d["actions"]["pour"].update(phases=[]), ["'pour'", "phases"]),
    ("phase not string", lambda d: d["actions"]["lift"].update(phases=["x", 2]),
     ["'lift'", "phase 1"]),
    ("phase empty string", lambda d: d["actions"]["lift"].update(phases=["x", ""]),
     ["'lift'", "phase 1"]),
    ("videos not list", lambda d: d.update(videos={}), ["\"videos\""]),
    ("video not object", lambda d: d["videos"].append(3), ["videos[3]"]),
    ("no id", lambda d: d["videos"][1].pop("id"), ["videos[1]", "\"id\""]),
    ("duplicate id", lambda d: d["videos"][2].update(id="v0"), ["'v0'", "twice"]),
    ("no path", lambda d: d["videos"][1].pop("path"), ["'v1'", "\"path\""]),
    ("empty split", lambda d: d["videos"][1].update(split=""), ["'v1'", "\"split\""]),
    ("unknown action", lambda d: d["videos"][1].update(action="jump"),
     ["'v1'", "'jump'", "\"action\""]),
    ("fps zero", lambda d: d["videos"][0].update(fps=0), ["'v0'", "\"fps\""]),
    ("fps string", lambda d: d["videos"][0].update(fps="25"), ["'v0'", "\"fps\""]),
    ("n_frames zero", lambda d: d["videos"][1].update(n_frames=0), ["'v1'", "\"n_frames\""]),
    ("n_frames fraction", lambda d: d["videos"][1].update(n_frames=4.5),
     ["'v1'", "\"n_frames\""]),
    ("neither", lambda d: (d["videos"][1].pop("events"),), ["'v1'", "neither"]),
    ("labels empty", lambda d: d["videos"][2].update(labels=[]), ["'v2'", "\"labels\""]),
    ("labels length", lambda d: d["videos"][0].update(n_frames=7), ["'v0'", "6 \"labels\"",
                                                                     "n_frames\" 7"]),
    ("label too big", lambda d: d["videos"][2].update(labels=[0, 3, 1, 1]),
     ["'v2'", "frame 1", "[-1, 3)"]),
    ("label -2", lambda d: d["videos"][2].update(labels=[0, -2, 1, 1]), ["'v2'", "frame 1"]),
    ("label bool", lambda d: d["videos"][2].update(labels=[0, True, 1, 1]), ["'v2'", "frame 1"]),
    ("label string", lambda d: d["videos"][2].update(labels=[0, "1", 1, 1]), ["'v2'", "frame 1"]),
    ("events count", lambda d: d["videos"][1].update(events=[1, 2]),
     ["'v1'", "\"events\"", "1 key-event", "got 2"]),
    ("events not list", lambda d: d["videos"][1].update(events=1), ["'v1'", "\"events\""]),
    ("events no n_frames", lambda d: d["videos"][1].pop("n_frames"), ["'v1'", "n_frames"]),
    ("events not increasing", lambda d: d["videos"][0].update(events=[3, 3], labels=None)
     or d["videos"][0].pop("labels"), ["'v0'", "strictly increasing"]),
    ("event out of range", lambda d: d["videos"][1].update(events=[4]), ["'v1'", "outside"]),
    ("event negative", lambda d: d["videos"][1].update(events=[-1]), ["'v1'", "item 0"]),
    ("labels/events disagree", lambda d: d["videos"][0].update(events=[3, 4]),
     ["'v0'", "disagree", "frame 2", "label 1, events give 0"]),
    ("label 0 vs events", lambda d: d["videos"][0].update(labels=[0, 0, 0, -1, 2, 2]),
     ["'v0'", "disagree", "frame 2", "label 0, events give 1"]),
]


@test
def validate_rejects(ctx):
    for what, fn, needles in REJECTS:
        d = mutated(fn)
        try:
            expect_error(lambda: lds.validate(d, "L.json"), "L.json", *needles)
        except AssertionError as e:
            raise AssertionError(f"{what}: {e}") from None


@test
def load_rejects_bad_json(ctx):
    d = ctx.dir("badjson")
    p = os.path.join(d, "labels.json")
    with open(p, "w") as f:
        f.write('{"format": "lac-dataset", "version": 1, "version": 1}')
    expect_error(lambda: lds.load(d), "\"version\"", "twice")
    with open(p, "w") as f:
        f.write('{"format": "lac-dataset",')
    expect_error(lambda: lds.load(d), "not valid JSON")
    expect_error(lambda: lds.load(os.path.join(d, "nope")), "cannot read")


# ================================================================= writing

@test
def write_round_trip_and_format(ctx):
    d = ctx.dir("write")
    doc = base_doc()
    f = lds.write(d, doc)
    check(f == os.path.join(d, "labels.json"), "write into a folder -> labels.json")
    with open(f) as fh:
        text = fh.read()
    check(json.loads(text) == doc, "round trip")
    check('"labels": [0, 0, 1, -1, 2, 2]' in text, "a video's labels on one line")
    umask = os.umask(0)
    os.umask(umask)
    mode = stat.S_IMODE(os.stat(f).st_mode)
    check(mode == 0o666 & ~umask, f"file mode {oct(mode)} follows the umask")
    check(os.listdir(d) == ["labels.json"], f"no temporaries: {os.listdir(d)}")


@test
def write_is_atomic(ctx):
    d = ctx.dir("atomic")
    f = lds.write(d, base_doc())
    with open(f, "rb") as fh:
        old = fh.read()
    # an invalid document never touches the file
    bad = mutated(lambda x: x["videos"][1].update(events=[9]))
    expect_error(lambda: lds.write(d, bad), "'v1'")
    # a failure in the middle of writing (fsync) leaves the old file and no temporary
    real = os.fsync

    def boom(fd):
        raise OSError(5, "injected I/O error")
    os.fsync = boom
    try:
        new = mutated(lambda x: x.update(name="changed"))
        try:
            lds.write(d, new)
            raise AssertionError("injected failure did not propagate")
        except OSError as e:
            check("injected" in str(e), str(e))
    finally:
        os.fsync = real
    with open(f, "rb") as fh:
        check(fh.read() == old, "old labels.json intact after a failed write")
    check(os.listdir(d) == ["labels.json"], f"temporary left behind: {os.listdir(d)}")
    # and a good write replaces it
    lds.write(d, mutated(lambda x: x.update(name="changed")))
    check(lds.load(d).name == "changed", "replaced")


# ================================================================= CARL pickles

def carl_pouring(root, seqs, with_video_file=True, kind="torch"):
    """train.pkl as CARL's tfrecords_to_videos.py writes it (Pouring branch)."""
    results = []
    for i, (name, labels) in enumerate(seqs):
        touch(os.path.join(root, "videos", name + ".mp4"))
        arr = np.array(labels, dtype=np.int64)
        fl = {"torch": lambda: torch.from_numpy(arr), "numpy": lambda: arr,
              "list": lambda: list(labels)}[kind]()
        d = {"id": i, "frame_label": fl, "seq_len": len(labels), "name": name}
        if with_video_file:
            d["video_file"] = os.path.join("videos", name + ".mp4")
        results.append(d)
    return results


def dump(obj, path):
    with open(path, "wb") as f:
        pickle.dump(obj, f)


def pouring_labels(rng, n):
    ev = sorted(rng.sample(range(1, n), 4))
    return lds.events_to_labels(ev, n), ev


@test
def carl_pouring_torch(ctx):
    need_torch()
    rng = random.Random(3)
    d = ctx.dir("pouring")
    train = [(f"pour_{i:03d}", pouring_labels(rng, rng.randint(20, 40))) for i in range(5)]
    val = [(f"pour_v{i:02d}", pouring_labels(rng, rng.randint(20, 40))) for i in range(3)]
    # one validation video with a -1 and one that starts after the first key event
    val.append(("pour_v98", ([0, 0, -1, 1, 2, 3, 4, 4], None)))
    val.append(("pour_v99", ([1, 1, 2, 3, 4], None)))
    dump(carl_pouring(d, [(n, lab) for n, (lab, _) in train]), os.path.join(d, "train.pkl"))
    dump(carl_pouring(d, [(n, lab) for n, (lab, _) in val]), os.path.join(d, "val.pkl"))
    run(["carl", "--pickles", d, "--out", d, "--fps", "25"])
    ds = lds.load(d)
    check(list(ds.actions) == ["pouring"], "one action 'pouring'")
    check(len(ds.actions["pouring"]) == 5, "Pouring has 5 phases")
    want = [(n, "train", lab, ev) for n, (lab, ev) in train] + \
           [(n, "val", lab, ev) for n, (lab, ev) in val]
    check([v["id"] for v in ds.videos] == [w[0] for w in want], "pickle order, train first")
    for v, (name, split, lab, ev) in zip(ds.videos, want):
        check(v["split"] == split, f"{name} split")
        check(v["labels"] == lab, f"{name} labels")
        check(v["n_frames"] == len(lab), f"{name} n_frames")
        check(v.get("events") == ev, f"{name} events {v.get('events')} vs {ev}")
        check(v["path"] == f"videos/{name}.mp4", f"{name} path relative inside the dataset")
        check(os.path.isfile(v["full_path"]), f"{name} resolves")
        check(v["fps"] == 25.0, "fps recorded")
    # existing labels.json is kept unless --force
    user_error(["carl", "--pickles", d, "--out", d], "exists", "--force")
    run(["carl", "--pickles", d, "--out", d, "--force", "--splits", "val"])
    check([v["split"] for v in lds.load(d).videos] == ["val"] * 5, "--splits val")


@test
def torch_tensor_decoding_matches_torch(ctx):
    """The torch-free decoder against torch itself: dtypes, offsets, strides."""
    need_torch()
    import import_dataset as imp
    g = torch.Generator().manual_seed(1)
    base = torch.randint(-50, 50, (6, 7), generator=g)
    cases = {
        "int64": base.clone(), "int32": base.int(), "int16": base.short(),
        "int8": base.to(torch.int8), "uint8": (base + 50).to(torch.uint8),
        "bool": base > 0, "float32": base.float() / 3, "float64": base.double() / 7,
        "float16": base.half(), "transposed": base.t(), "sliced": base[1:5:2, 2:],
        "offset 1-D": base.flatten()[5:17], "strided 1-D": base.flatten()[::3],
        "empty": base[:0], "scalar": base[2, 3],
    }
    for what, t in cases.items():
        blob = pickle.dumps({"frame_label": t, "n": [t, t]})
        got = imp._SafeUnpickler(io.BytesIO(blob)).load()
        want = t.numpy()
        for arr in (got["frame_label"], got["n"][0], got["n"][1]):
            check(isinstance(arr, np.ndarray), f"{what}: not decoded to numpy")
            check(arr.dtype == want.dtype, f"{what}: dtype {arr.dtype} vs {want.dtype}")
            check(arr.shape == want.shape, f"{what}: shape {arr.shape} vs {want.shape}")
            check(np.array_equal(arr, want), f"{what}: values differ")


@test
def carl_pouring_numpy_list_and_lac_layout(ctx):
    if np is None:
        raise Skip("numpy not importable")
    rng = random.Random(4)
    for kind in ("numpy", "list"):
        d = ctx.dir("pour_" + kind)
        seqs = [(f"p{i}", pouring_labels(rng, 12)[0]) for i in range(3)]
        # LAC reads videos/NAME.mp4 and ignores video_file: pickles without it still work
        dump(carl_pouring(d, seqs, with_video_file=False, kind=kind), os.path.join(d, "val.pkl"))
        out = ctx.dir("out_" + kind)
        run(["carl", "--pickles", d, "--out", out, "--action", "pour"])
        ds = lds.load(out)
        check(list(ds.actions) == ["pour"], "--action names the action")
        check(len(ds.actions["pour"]) == 5, "5 phases inferred from the labels")
        check([v["labels"] for v in ds.videos] == [s[1] for s in seqs], f"{kind} labels")
        for v in ds.videos:
            check(os.path.isabs(v["path"]), "videos outside --out are referenced absolutely")
            check(os.path.samefile(v["full_path"], os.path.join(d, "videos", v["id"] + ".mp4")),
                  "LAC layout videos/NAME.mp4")


@test
def carl_videos_modes(ctx):
    if np is None:
        raise Skip("numpy not importable")
    d = ctx.dir("modes")
    dump(carl_pouring(d, [("a", [0, 1, 2, 3, 4]), ("b", [0, 0, 1, 2, 3, 4])], kind="numpy"),
         os.path.join(d, "train.pkl"))
    vids = ctx.dir("elsewhere")
    for n in ("a", "b"):
        shutil.move(os.path.join(d, "videos", n + ".mp4"), os.path.join(vids, n + ".mp4"))
    user_error(["carl", "--pickles", d, "--out", ctx.dir("x")], "video 'a'", "not found",
               "--videos")
    for mode in ("copy", "symlink"):
        out = ctx.dir("out_" + mode)
        run(["carl", "--pickles", d, "--videos", vids, "--out", out, "--videos-mode", mode])
        ds = lds.load(out)
        for v in ds.videos:
            check(v["path"] == f"videos/{v['id']}.mp4", f"{mode}: path {v['path']}")
            check(os.path.isfile(v["full_path"]), f"{mode}: file present")
            check(os.path.islink(v["full_path"]) == (mode == "symlink"), f"{mode}: link or copy")
    out = ctx.dir("out_rel")
    run(["carl", "--pickles", d, "--videos", vids, "--out", out, "--relative"])
    for v in lds.load(out).videos:
        check(v["path"].startswith(".."), f"--relative: {v['path']}")
        check(os.path.isfile(v["full_path"]), "--relative resolves")
    out = ctx.dir("out_nocheck")
    run(["carl", "--pickles", d, "--out", out, "--no-check-files"])


def carl_penn(root, vids):
    """(train list, action_to_indices) as CARL's script writes for Penn Action."""
    result, a2i = [], [[] for _ in lds.PENN_ACTION_LIST]
    for i, (num, action, labels) in enumerate(vids):
        name = f"{num:04d}_{action}"
        touch(os.path.join(root, "videos", name + ".mp4"))
        a = lds.PENN_ACTION_LIST.index(action)
        result.append({"id": i, "video_file": os.path.join("videos", name + ".mp4"),
                       "frame_label": torch.from_numpy(np.array(labels, dtype=np.int64)),
                       "seq_len": len(labels), "name": name, "action_label": a})
        a2i[a].append(i)
    return result, a2i


@test
def carl_penn_action(ctx):
    need_torch()
    d = ctx.dir("penn")
    rng = random.Random(5)
    acts = ["baseball_pitch", "bench_press", "clean_and_jerk", "baseball_pitch", "situp",
            "bench_press", "tennis_serve"]
    K = {"baseball_pitch": 4, "bench_press": 2, "clean_and_jerk": 6, "situp": 2,
         "tennis_serve": 4}

    def labs(a):
        n = rng.randint(10, 20)
        return lds.events_to_labels(sorted(rng.sample(range(1, n), K[a] - 1)), n)
    train = [(i + 1, a, labs(a)) for i, a in enumerate(acts)]
    val = [(100 + i, a, labs(a)) for i, a in enumerate(reversed(acts))]
    dump(carl_penn(d, train), os.path.join(d, "train.pkl"))
    dump(carl_penn(d, val), os.path.join(d, "val.pkl"))
    run(["carl", "--pickles", d, "--out", d])
    ds = lds.load(d)
    for a, k in K.items():
        check(len(ds.actions[a]) == k, f"{a}: {len(ds.actions[a])} phases, expected {k}")
        check(ds.actions[a] == lds.KNOWN_ACTIONS[a], f"{a}: known phase names")
    by = ds.by_action()
    for a in K:
        want = [f"{n:04d}_{a}" for n, b, _ in train if b == a] + \
               [f"{n:04d}_{a}" for n, b, _ in val if b == a]
        check([v["id"] for v in by[a]] == want, f"{a}: file order kept within the action")
    for v, (n, a, lab) in zip(ds.videos, train + val):
        check(v["action"] == a and v["labels"] == lab, f"video {v['id']}")


@test
def carl_rejects_malformed(ctx):
    need_torch()

    def case(name, obj, needles, extra=(), split="train"):
        d = ctx.dir("bad_" + name)
        touch(os.path.join(d, "videos", "p0.mp4"))
        dump(obj, os.path.join(d, split + ".pkl"))
        try:
            user_error(["carl", "--pickles", d, "--out", d] + list(extra), *needles)
        except AssertionError as e:
            raise AssertionError(f"{name}: {e}") from None
        check(not os.path.exists(os.path.join(d, "labels.json")), f"{name}: nothing written")

    good = carl_pouring(ctx.dir("scratch"), [("p0", [0, 1, 2, 3, 4])])
    case("not_list", {"a": 1}, ["expected CARL's layout"])
    no_fl = [dict(good[0])]
    no_fl[0].pop("frame_label")
    case("no_frame_label", no_fl, ["'p0'", "'frame_label'"])
    bad_len = [dict(good[0], seq_len=9)]
    case("seq_len", bad_len, ["'p0'", "seq_len 9", "5 frame labels"])
    big = [dict(good[0], frame_label=torch.tensor([0, 1, 5, 3, 4]))]
    case("label_5", big, ["'p0'", "frame 2", "label 5", "[-1, 5)"])
    two_d = [dict(good[0], frame_label=torch.zeros(2, 3, dtype=torch.long))]
    case("2d", two_d, ["'p0'", "1-D"])
    fl_float = [dict(good[0], frame_label=[0, 0.5, 1, 2, 3])]
    case("float_label", fl_float, ["'p0'", "frame_label[1]"])
    anon = [{"frame_label": [0, 1]}]
    case("anonymous", anon, ["entry 0", "'name'", "'video_file'"])
    case("missing_split", good, ["no val.pkl"], extra=["--splits", "train,val"])
    case("phases_too_few", good, ["frame 3", "[-1, 3)"], extra=["--phases", "a,b,c"])
    # Penn Action: inconsistent action bookkeeping
    d0 = ctx.dir("scratch_penn")
    lst, a2i = carl_penn(d0, [(1, "situp", [0, 1]), (2, "squat", [0, 1, 2, 3])])
    bad_a2i = [list(x) for x in a2i]
    bad_a2i[lds.PENN_ACTION_LIST.index("situp")] = [1]
    bad_a2i[lds.PENN_ACTION_LIST.index("squat")] = [0]
    case("a2i", (lst, bad_a2i), ["action_to_indices puts video"])
    case("a2i_short", (lst, a2i[:3]), ["13"])
    mismatch = [dict(lst[0], action_label=lds.PENN_ACTION_LIST.index("squat")), lst[1]]
    case("label_vs_name", (mismatch, a2i), ["action_label says squat", "name says situp"])
    case("phases_multi", (lst, a2i), ["--phases", "2 actions"], extra=["--phases", "a,b"])


class _Evil:
    def __reduce__(self):
        return (os.system, ("touch PWNED",))


@test
def carl_refuses_hostile_pickles(ctx):
    d = ctx.dir("evil")
    dump([{"name": "p0", "frame_label": [0], "x": _Evil()}], os.path.join(d, "train.pkl"))
    user_error(["carl", "--pickles", d, "--out", d], "refusing to load", "system")
    check(not os.path.exists(os.path.join(d, "PWNED")) and not os.path.exists("PWNED"),
          "the hostile pickle ran")


@test
def carl_refuses_hostile_tensor_storage(ctx):
    """A payload inside a tensor's storage bytes, where torch.load would run it."""
    need_torch()
    import torch.storage
    inner = io.BytesIO()
    for obj in (0x1950A86A20F9469CFC6C, 1001, {"little_endian": True}):
        pickle.dump(obj, inner, protocol=2)
    pickle.dump(_Evil(), inner, protocol=2)

    class Payload:
        def __reduce__(self):
            return (torch.storage._load_from_bytes, (inner.getvalue(),))
    d = ctx.dir("evil_storage")
    dump([{"name": "p0", "frame_label": Payload()}], os.path.join(d, "train.pkl"))
    user_error(["carl", "--pickles", d, "--out", d], "refusing to load", "storage bytes")
    check(not os.path.exists(os.path.join(d, "PWNED")) and not os.path.exists("PWNED"),
          "the hostile storage ran")


# ================================================================= TCC-style inputs

@test
def tcc_events_list(ctx):
    d = ctx.dir("tcc_events")
    for n in ("a", "b", "c"):
        touch(os.path.join(d, "vids", n + ".webm"))
    lst = os.path.join(d, "events.csv")
    with open(lst, "w") as f:
        f.write("# key events: first frame of the next phase\n"
                "video,split,n_frames,events\n"
                "a.webm,train,96,12 30 55 80\n"
                "b.webm,val,10,1;2;3;9\n"
                "c.webm,train,5,0 1 2 3\n")
    out = os.path.join(d, "ds")
    run(["tcc", "--events", lst, "--videos", os.path.join(d, "vids"), "--action", "pouring",
         "--out", out])
    ds = lds.load(out)
    check([v["id"] for v in ds.videos] == ["a", "b", "c"], "list order kept")
    check([v["split"] for v in ds.videos] == ["train", "val", "train"], "splits")
    check(ds.videos[0]["labels"] == [0] * 12 + [1] * 18 + [2] * 25 + [3] * 25 + [4] * 16,
          "hand-worked labels of a")
    check(ds.videos[1]["labels"] == [0, 1, 2, 3, 3, 3, 3, 3, 3, 4], "hand-worked labels of b")
    check(ds.videos[2]["labels"] == [1, 2, 3, 4, 4], "event at frame 0: no frame in phase 0")
    check(ds.videos[0]["events"] == [12, 30, 55, 80], "events written")
    check(all(os.path.isabs(v["path"]) for v in ds.videos), "videos outside --out: absolute")


@test
def tcc_events_rejects(ctx):
    d = ctx.dir("tcc_bad")
    touch(os.path.join(d, "a.webm"))

    def case(name, text, needles, extra=("--action", "pouring", "--split", "train")):
        p = os.path.join(d, name + ".csv")
        with open(p, "w") as f:
            f.write(text)
        try:
            user_error(["tcc", "--events", p, "--out", os.path.join(d, "out_" + name)]
                       + list(extra), *needles)
        except AssertionError as e:
            raise AssertionError(f"{name}: {e}") from None

    case("count", "video,n_frames,events\na.webm,20,1 2 3\n", ["'a'", "3 key events", "5 phases"])
    case("order", "video,n_frames,events\na.webm,20,1 5 4 9\n", ["'a'", "strictly increasing"])
    case("range", "video,n_frames,events\na.webm,9,1 2 3 9\n", ["'a'", "outside"])
    case("notint", "video,n_frames,events\na.webm,20,1 2 x 4\n", ["'x'", "not an integer"])
    case("nframes", "video,n_frames,events\na.webm,-3,1 2 3 4\n", ["n_frames"])
    case("nocol", "video,n_frames\na.webm,20\n", ["'events' column"])
    case("unknowncol", "video,events,color\na.webm,1 2 3 4,red\n", ["unknown column", "color"])
    case("fields", "video,n_frames,events\na.webm,20\n", ["2 fields for 3 columns"])
    case("nosplit", "video,n_frames,events\na.webm,20,1 2 3 4\n", ["'a'", "split"],
         extra=("--action", "pouring"))
    case("nofile", "video,events\nzz.webm,1 2 3 4\n", ["'zz'", "not found"])
    case("empty", "# nothing\n", ["empty key-event list"])
    case("both", "video,events\n", ["exactly one"], extra=("--segments", "x.json"))


@test
def tcc_segments_hand_worked(ctx):
    import import_dataset as imp
    # two annotators, three segments, 10 fps (frame t at t/10 s)
    ann = {"A": {"0": [0, 1.0e6], "1": [1.2e6, 2.0e6], "2": [2.0e6, 3.0e6]},
           "B": {"0": [0, 1.2e6], "1": [1.2e6, 2.2e6], "2": [2.4e6, 3.0e6]}}
    seg = imp.tcc_merge_segments(ann, 3, "x")
    # means [0,1.1] [1.2,2.1] [2.2,3.0]; gaps closed at 1.15 and 2.15
    for k, (s, e) in {0: (0, 1.15), 1: (1.15, 2.15), 2: (2.15, 3.0)}.items():
        check(abs(seg[k][0] - s) < 1e-12 and abs(seg[k][1] - e) < 1e-12, f"segment {k}: {seg[k]}")
    lab = imp.tcc_label_frames(seg, 35, 10.0)
    check(lab == [0] * 12 + [1] * 10 + [2] * 13, f"labels {lab}")
    # a boundary exactly on a frame's time: that frame opens the next phase
    seg = imp.tcc_merge_segments({"A": {"0": [0, 1.0e6], "1": [1.0e6, 2.0e6]}}, 2, "x")
    lab = imp.tcc_label_frames(seg, 20, 10.0)
    check(lab == [0] * 10 + [1] * 10, f"boundary frame: {lab}")
    check(lds.labels_to_events(lab, 2) == [10], "event = first frame of the next phase")
    # frames before the first / after the last segment
    seg = imp.tcc_merge_segments({"A": {"0": [0.5e6, 1.0e6], "1": [1.0e6, 1.5e6]}}, 2, "x")
    check(imp.tcc_label_frames(seg, 20, 10.0) == [0] * 10 + [1] * 10, "outside the segments")
    for bad, needle in (({"A": {"0": [0, 1]}}, "no segment \"1\""),
                        ({"A": {"0": [0, 1], "1": [3, 2]}}, "ends before it starts"),
                        ({"A": {"0": [0, 1], "1": [1, 2], "2": [2, 3]}}, "beyond the 2"),
                        ({"A": {"0": [0], "1": [1, 2]}}, "[start_us, end_us]"),
                        ({}, "annotators")):
        try:
            imp.tcc_merge_segments(bad, 2, "v")
            raise AssertionError(f"{bad} accepted")
        except imp.UserError as e:
            check(needle in str(e), f"{str(e)!r} lacks {needle!r}")


@test
def gstreamer_frame_counts_and_segments(ctx):
    d = ctx.dir("gst")
    gst_webm(os.path.join(d, "v", "clip a.webm"), 17, 25)
    gst_webm(os.path.join(d, "v", "clip_b.webm"), 20, 10)
    import import_dataset as imp
    check(imp.count_frames(os.path.join(d, "v", "clip a.webm"), "decode") == 17, "decode count")
    lst = os.path.join(d, "list.csv")
    with open(lst, "w") as f:
        f.write("id,video,split,action,events\nA,clip a.webm,train,golf_swing,4 9\n"
                "B,clip_b.webm,val,golf_swing,5 15\n")
    out = os.path.join(d, "ds")
    run(["tcc", "--events", lst, "--videos", os.path.join(d, "v"), "--out", out,
         "--videos-mode", "symlink"])
    ds = lds.load(out)
    check([v["n_frames"] for v in ds.videos] == [17, 20], "frame counts from GStreamer")
    check(ds.actions["golf_swing"] == lds.KNOWN_ACTIONS["golf_swing"], "known phases")
    check(ds.videos[0]["path"] == "videos/clip a.webm", "symlinked into the dataset")
    # TCC segment label file for clip_b (10 fps, 20 frames, fps from gst-discoverer)
    segs = os.path.join(d, "segs.json")
    with open(segs, "w") as f:
        json.dump({"clip_b": {"A": {"0": [0, 1.0e6], "1": [1.0e6, 2.0e6]}}}, f)
    out2 = os.path.join(d, "ds2")
    run(["tcc", "--segments", segs, "--videos", os.path.join(d, "v"), "--split", "val",
         "--action", "cut", "--phases", "before,after", "--fps", "10", "--out", out2])
    v = lds.load(out2).videos[0]
    check(v["labels"] == [0] * 10 + [1] * 10 and v["events"] == [10], f"segments: {v}")
    check(v["fps"] == 10.0, "fps recorded")
    # an unknown action without --phases: K from the segments, a warning, generic names
    r = run(["tcc", "--segments", segs, "--videos", os.path.join(d, "v"), "--split", "val",
             "--action", "cut", "--fps", "10", "--out", os.path.join(d, "ds3")])
    check("'cut' is not a known one" in r.stderr, f"no warning: {r.stderr!r}")
    check(lds.load(os.path.join(d, "ds3")).actions["cut"] == ["phase_0", "phase_1"],
          "generic phase names")
    # --check-frames catches a pickle whose labels do not match the decoded video
    if np is not None:
        pk = os.path.join(d, "pk")
        os.makedirs(os.path.join(pk, "videos"))
        shutil.copy(os.path.join(d, "v", "clip_b.webm"), os.path.join(pk, "videos", "b.webm"))
        dump([{"name": "b", "video_file": "videos/b.webm", "frame_label": [0, 1, 2, 3, 4] * 4,
               "seq_len": 20}], os.path.join(pk, "train.pkl"))
        run(["carl", "--pickles", pk, "--out", pk, "--check-frames"])
        dump([{"name": "b", "video_file": "videos/b.webm", "frame_label": [0, 1, 2, 3, 4] * 3,
               "seq_len": 15}], os.path.join(pk, "train.pkl"))
        user_error(["carl", "--pickles", pk, "--out", pk, "--force", "--check-frames"],
                   "decodes to 20 frames", "15 frame labels")


@test
def gst_discoverer_estimates(ctx):
    if not shutil.which("gst-discoverer-1.0"):
        raise Skip("gst-discoverer-1.0 not installed (gstreamer1.0-plugins-base-apps)")
    d = ctx.dir("disc")
    gst_webm(os.path.join(d, "v", "clip_b.webm"), 20, 10)
    import import_dataset as imp
    check(imp.count_frames(os.path.join(d, "v", "clip_b.webm"), "discoverer") == 20,
          "discoverer estimate")
    segs = os.path.join(d, "segs.json")
    with open(segs, "w") as f:
        json.dump({"clip_b": {"A": {"0": [0, 0.95e6], "1": [0.95e6, 2.0e6]}}}, f)
    out = os.path.join(d, "ds")
    run(["tcc", "--segments", segs, "--videos", os.path.join(d, "v"), "--split", "val",
         "--action", "cut", "--phases", "before,after", "--frames-from", "discoverer",
         "--out", out])
    v = lds.load(out).videos[0]
    check(v["fps"] == 10.0, "fps from gst-discoverer")
    check(v["labels"] == [0] * 10 + [1] * 10, f"0.95 s boundary at 10 fps: {v['labels']}")


@test
def cli_usage_errors(ctx):
    user_error([], "subcommand")
    user_error(["carl", "--out", "x"], "--pickles")
    user_error(["carl", "--pickles", "/nonexistent/dir", "--out", "x"], "not a folder")
    d = ctx.dir("empty")
    user_error(["carl", "--pickles", d, "--out", d], "no train.pkl")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-k", default="", help="run only checks whose name contains this")
    args = ap.parse_args()
    passed = failed = skipped = 0
    with tempfile.TemporaryDirectory(prefix="lac_dataset_test_") as tmp:
        ctx = Ctx(tmp)
        cwd = os.getcwd()
        os.chdir(tmp)  # a hostile pickle's "touch PWNED" would land here
        try:
            for fn in TESTS:
                if args.k not in fn.__name__:
                    continue
                try:
                    fn(ctx)
                    passed += 1
                    print(f"ok    {fn.__name__}")
                except Skip as e:
                    skipped += 1
                    print(f"SKIP  {fn.__name__}: {e}")
                except Exception:
                    failed += 1
                    print(f"FAIL  {fn.__name__}")
                    traceback.print_exc(file=sys.stdout)
                if os.path.exists(os.path.join(tmp, "PWNED")):
                    failed += 1
                    print(f"FAIL  {fn.__name__}: a hostile pickle ran code")
                    os.unlink(os.path.join(tmp, "PWNED"))
        finally:
            os.chdir(cwd)
    print(f"dataset_tools: {passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
