#!/usr/bin/python3
"""The lac dataset labels file (docs/dataset.md) in Python: read, check, build, write.

What it does:
  * load(PATH)            a dataset folder or its labels.json -> Dataset (every rule of
                          docs/dataset.md checked; labels filled in from key events)
  * validate(DOC)         the same checks on an already parsed JSON document
  * events_to_labels(E,N) K-1 key-event frames -> N per-frame phase labels
                          (frame t gets the number of events e <= t: an event frame is
                          the first frame of the next phase, as in TCC's half-open
                          [start, end) segments)
  * labels_to_events(L,K) the inverse, where one exists
  * write(PATH, DOC)      check, then write through a temporary file and a rename
  * KNOWN_ACTIONS         phase names for the Pouring and Penn Action actions

What it does not do:
  * It opens no video: frame counts are what the file says (tools/import_dataset.py can
    ask GStreamer; lac eval compares them with the decoded video).
  * It has no GLib/GStreamer/torch dependency: plain Python 3 and its json module.
  * It does not guess: a document that breaks a rule is refused with a message naming
    the video id and the field to fix, never repaired.
"""

import json
import math
import os
import tempfile

FORMAT = "lac-dataset"
VERSION = 1
LABELS_FILE = "labels.json"
# Same bound as the C loader: a frame count or key-event index above 2^40 is nonsense.
MAX_FRAMES = 1 << 40


class DatasetError(ValueError):
    """A labels file or document that breaks a rule of docs/dataset.md."""


# ----------------------------------------------------------------- known actions
#
# Phase k >= 1 is named after the key event that opens it; phase 0 is "start".  The
# numbers of phases are those of the reference evaluation code (TCC dataset_splits,
# CARL/LAC DATASET_TO_NUM_CLASSES); the key events are TCC's annotation protocol.
# Pouring's phases follow its four key events: hand touches bottle, liquid starts
# exiting, pouring complete, bottle back on table.

KNOWN_ACTIONS = {
    "pouring": ["start", "hand_touches_bottle", "liquid_starts_exiting", "pouring_complete",
                "bottle_back_on_table"],
    "baseball_pitch": ["start", "knee_fully_up", "arm_fully_stretched", "ball_released"],
    "baseball_swing": ["start", "bat_swung_back_fully", "bat_hits_ball"],
    "bench_press": ["start", "bar_fully_down"],
    "bowl": ["start", "ball_swung_fully_back", "ball_released"],
    "clean_and_jerk": ["start", "bar_at_hip", "fully_squatting", "standing", "begin_thrusting",
                       "beginning_balance"],
    "golf_swing": ["start", "stick_swung_fully_back", "stick_hits_ball"],
    "jumping_jacks": ["start", "hands_at_shoulders_going_up", "hands_above_head",
                      "hands_at_shoulders_going_down"],
    "pushup": ["start", "head_at_floor"],
    "pullup": ["start", "chin_above_bar"],
    "situp": ["start", "abs_fully_crunched"],
    "squat": ["start", "hips_at_knees_going_down", "hips_at_floor", "hips_at_knees_going_up"],
    "tennis_forehand": ["start", "racket_swung_fully_back", "racket_touches_ball"],
    "tennis_serve": ["start", "ball_released_from_hand", "racket_swung_fully_back",
                     "ball_touches_racket"],
}

# Penn Action's 13 evaluated actions in CARL/LAC's order (action_label indexes this list;
# strum_guitar and jump_rope have no phase labels and are left out by both).
PENN_ACTION_LIST = ["baseball_pitch", "baseball_swing", "bench_press", "bowl", "clean_and_jerk",
                    "golf_swing", "jumping_jacks", "pushup", "pullup", "situp", "squat",
                    "tennis_forehand", "tennis_serve"]

# TCC spells four of them differently.
ACTION_ALIASES = {"bowling": "bowl", "pushups": "pushup", "pullups": "pullup", "squats": "squat"}


def known_phases(action):
    """Phase names of a known action (TCC spellings accepted), or None."""
    name = ACTION_ALIASES.get(action, action)
    phases = KNOWN_ACTIONS.get(name)
    return list(phases) if phases else None


# ----------------------------------------------------------------- events <-> labels

def events_to_labels(events, n_frames):
    """K-1 key events (frame indices, strictly increasing, each in [0, n_frames)) ->
    n_frames labels: frame t gets k = #{e in events : e <= t}.  Raises DatasetError."""
    n_frames = _int_or_none(n_frames)
    if n_frames is None or n_frames < 1 or n_frames > MAX_FRAMES:
        raise DatasetError(f"n_frames must be a positive integer, got {n_frames!r}")
    ev = []
    for k, e in enumerate(events):
        x = _int_or_none(e)
        if x is None:
            raise DatasetError(f"key event {k} is {e!r}, not an integer frame index")
        if x < 0 or x >= n_frames:
            raise DatasetError(f"key event {k} is frame {x}, outside the video's {n_frames} "
                               f"frames [0, {n_frames})")
        if ev and x <= ev[-1]:
            raise DatasetError(f"key events must be strictly increasing: event {k} ({x}) "
                               f"follows {ev[-1]}")
        ev.append(x)
    labels = [0] * n_frames
    k = 0
    for t in range(n_frames):
        while k < len(ev) and ev[k] <= t:
            k += 1
        labels[t] = k
    return labels


def labels_to_events(labels, n_phases):
    """The K-1 key events whose events_to_labels gives exactly `labels`, or None when
    there are none (a -1, a phase missing or out of order, labels not starting at 0 or
    not ending at K-1)."""
    if not labels or labels[0] != 0 or labels[-1] != n_phases - 1:
        return None
    events = []
    for t in range(1, len(labels)):
        a, b = labels[t - 1], labels[t]
        if b == a:
            continue
        if b != a + 1:
            return None
        events.append(t)
    return events if len(events) == n_phases - 1 else None


# ----------------------------------------------------------------- checking

def _int_or_none(x):
    """x as an int when it is an integer-valued JSON number (not a bool), else None."""
    if isinstance(x, bool):
        return None
    if isinstance(x, int):
        return x
    if isinstance(x, float) and math.isfinite(x) and x == math.floor(x):
        return int(x)
    # numpy integers and the like
    if hasattr(x, "__index__") and not isinstance(x, (str, bytes)):
        try:
            return int(x.__index__())
        except (TypeError, ValueError):
            return None
    return None


def _number_or_none(x):
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return None
    return float(x)


def _nonempty_str(x):
    return isinstance(x, str) and x != ""


class Dataset:
    """A checked labels file.

    root     the folder relative video paths are resolved against
    name     str or None
    actions  dict action name -> list of K phase names (file order)
    videos   list (file order) of dicts with the file's fields plus
             'labels' (always: n_frames ints in [-1, K)), 'n_frames' (always),
             'full_path' (path resolved against root)
    doc      the parsed document as read
    """

    def __init__(self, root, doc):
        self.root = root
        self.doc = doc
        self.name = doc.get("name")
        self.actions = {a: list(v["phases"]) for a, v in doc["actions"].items()}
        self.videos = []
        for v in doc["videos"]:
            w = dict(v)
            K = len(self.actions[v["action"]])
            labels = v.get("labels")
            if labels is None:
                labels = events_to_labels(v["events"], v["n_frames"])
            w["labels"] = [_int_or_none(x) for x in labels]
            w["n_frames"] = len(w["labels"])
            if "events" in v:
                w["events"] = [_int_or_none(x) for x in v["events"]]
            w["full_path"] = os.path.join(root, v["path"])  # an absolute path stays as it is
            w["n_phases"] = K
            self.videos.append(w)

    def by_action(self):
        """dict action -> list of videos (file order kept within each action)."""
        out = {a: [] for a in self.actions}
        for v in self.videos:
            out[v["action"]].append(v)
        return out


def validate(doc, where=LABELS_FILE):
    """Check a parsed labels document against every rule of docs/dataset.md.

    Returns None; raises DatasetError("WHERE: ...") naming the video id and field."""

    def fail(msg):
        raise DatasetError(f"{where}: {msg}")

    if not isinstance(doc, dict):
        fail("not a JSON object (a lac dataset labels file)")
    fmt = doc.get("format")
    if fmt != FORMAT:
        fail(f"\"format\" is {fmt!r}, expected '{FORMAT}' (tools/import_dataset.py converts "
             f"CARL/LAC pickles and key-event lists)")
    if _int_or_none(doc.get("version")) != VERSION:
        fail(f"unsupported \"version\" {doc.get('version')!r} (this tool reads version {VERSION})")
    if "name" in doc and not isinstance(doc["name"], str):
        fail("\"name\" must be a string when given")

    actions = doc.get("actions")
    if not isinstance(actions, dict) or not actions:
        fail("\"actions\" must be a non-empty object mapping each action name to "
             "{\"phases\": [names]}")
    K_of = {}
    for a, spec in actions.items():
        if a == "":
            fail("an action name is empty")
        ph = spec.get("phases") if isinstance(spec, dict) else None
        if not isinstance(ph, list) or not ph:
            fail(f"action '{a}' needs \"phases\": a non-empty list of phase names")
        for k, p in enumerate(ph):
            if not _nonempty_str(p):
                fail(f"action '{a}': phase {k} is not a non-empty string")
        K_of[a] = len(ph)

    videos = doc.get("videos")
    if not isinstance(videos, list):
        fail("\"videos\" must be a list")
    seen = {}
    for i, v in enumerate(videos):
        if not isinstance(v, dict):
            fail(f"videos[{i}] is not an object")
        vid = v.get("id")
        if not _nonempty_str(vid):
            fail(f"videos[{i}] needs a non-empty string \"id\"")
        if vid in seen:
            fail(f"video id '{vid}' appears twice (videos[{seen[vid]}] and videos[{i}]): "
                 f"ids must be unique")
        seen[vid] = i
        _validate_video(v, vid, K_of, fail)


def _validate_video(v, vid, K_of, fail):
    for field in ("path", "split", "action"):
        if not _nonempty_str(v.get(field)):
            fail(f"video '{vid}': \"{field}\" must be a non-empty string")
    action = v["action"]
    if action not in K_of:
        fail(f"video '{vid}': \"action\" '{action}' is not defined in \"actions\"")
    K = K_of[action]
    if "fps" in v:
        f = _number_or_none(v["fps"])
        if f is None or not math.isfinite(f) or f <= 0:
            fail(f"video '{vid}': \"fps\" must be a positive number, got {v['fps']!r}")
    n_frames = None
    if "n_frames" in v:
        n_frames = _int_or_none(v["n_frames"])
        if n_frames is None or n_frames < 1 or n_frames > MAX_FRAMES:
            fail(f"video '{vid}': \"n_frames\" must be a positive integer, got {v['n_frames']!r}")
    has_l, has_e = "labels" in v, "events" in v
    if not has_l and not has_e:
        fail(f"video '{vid}' has neither \"labels\" (per-frame phases) nor \"events\" "
             f"(key-event frames): give one")
    labels = None
    if has_l:
        labels = v["labels"]
        if not isinstance(labels, list) or not labels:
            fail(f"video '{vid}': \"labels\" must be a non-empty list of integers")
        if n_frames is not None and len(labels) != n_frames:
            fail(f"video '{vid}': {len(labels)} \"labels\" for \"n_frames\" {n_frames}: give one "
                 f"label per frame")
        for t, x in enumerate(labels):
            y = _int_or_none(x)
            if y is None or y < -1 or y >= K:
                fail(f"video '{vid}': \"labels\" at frame {t} is {x!r}, must be an integer in "
                     f"[-1, {K}) (action '{action}' has {K} phases)")
        n_frames = len(labels)
    if has_e:
        events = v["events"]
        if not isinstance(events, list) or len(events) != K - 1:
            got = len(events) if isinstance(events, list) else type(events).__name__
            fail(f"video '{vid}': \"events\" must list {K - 1} key-event frames (action "
                 f"'{action}' has {K} phases), got {got}")
        if n_frames is None:
            fail(f"video '{vid}': \"events\" without \"labels\" needs \"n_frames\"")
        for k, e in enumerate(events):
            x = _int_or_none(e)
            if x is None or x < 0:
                fail(f"video '{vid}': \"events\" item {k} is {e!r}, not a non-negative integer")
        try:
            from_events = events_to_labels(events, n_frames)
        except DatasetError as e:
            fail(f"video '{vid}': \"events\": {e}")
        if labels is not None:
            for t, (a, b) in enumerate(zip(labels, from_events)):
                a = _int_or_none(a)
                if a >= 0 and a != b:
                    fail(f"video '{vid}': \"labels\" and \"events\" disagree at frame {t} "
                         f"(label {a}, events give {b})")


def _reject_duplicate_keys(pairs):
    d = {}
    for k, val in pairs:
        if k in d:
            raise DatasetError(f"key \"{k}\" appears twice in one JSON object")
        d[k] = val
    return d


def labels_path(path):
    """A dataset folder or a labels file -> (labels file, root folder)."""
    if os.path.isdir(path):
        return os.path.join(path, LABELS_FILE), path
    return path, os.path.dirname(path) or "."


def load(path):
    """Read and check a dataset (its folder or its labels file) -> Dataset."""
    file, root = labels_path(path)
    try:
        with open(file, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise DatasetError(f"{file}: cannot read: {e.strerror or e} (give a dataset folder or "
                           f"its labels.json)") from None
    try:
        doc = json.loads(raw.decode("utf-8"), object_pairs_hook=_reject_duplicate_keys)
    except DatasetError as e:
        raise DatasetError(f"{file}: {e}") from None
    except (UnicodeDecodeError, ValueError) as e:
        raise DatasetError(f"{file}: not valid JSON ({e})") from None
    validate(doc, file)
    return Dataset(root, doc)


# ----------------------------------------------------------------- writing

def dumps(doc):
    """JSON text: objects indented, lists of numbers/strings on one line (a video's
    labels stay one line however long)."""

    def enc(x, ind):
        if isinstance(x, dict):
            if not x:
                return "{}"
            pad = "  " * (ind + 1)
            items = [f"{pad}{json.dumps(k, ensure_ascii=False)}: {enc(v, ind + 1)}"
                     for k, v in x.items()]
            return "{\n" + ",\n".join(items) + "\n" + "  " * ind + "}"
        if isinstance(x, (list, tuple)):
            if all(not isinstance(e, (dict, list, tuple)) for e in x):
                return "[" + ", ".join(enc(e, ind) for e in x) + "]"
            pad = "  " * (ind + 1)
            return "[\n" + ",\n".join(pad + enc(e, ind + 1) for e in x) + "\n" + "  " * ind + "]"
        if isinstance(x, float) and not math.isfinite(x):
            raise DatasetError(f"cannot write the non-finite number {x}")
        if not isinstance(x, (str, int, float, bool)) and x is not None:
            i = _int_or_none(x)
            if i is None:
                raise DatasetError(f"cannot write a {type(x).__name__} into a labels file")
            x = i
        return json.dumps(x, ensure_ascii=False)

    return enc(doc, 0) + "\n"


def write_atomic(path, text):
    """Write text to path through a temporary file in the same folder, fsync, rename.
    On any failure the old file (if any) is untouched and the temporary file removed."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp",
                               dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write(path, doc):
    """Check doc, then write it as `path` (a labels file, or a folder that gets a
    labels.json).  Returns the file written."""
    file = os.path.join(path, LABELS_FILE) if os.path.isdir(path) else path
    validate(doc, file)
    write_atomic(file, dumps(doc))
    return file


def new_doc(name=None):
    """An empty document to fill: actions {} and videos []."""
    doc = {"format": FORMAT, "version": VERSION}
    if name:
        doc["name"] = name
    doc["actions"] = {}
    doc["videos"] = []
    return doc
