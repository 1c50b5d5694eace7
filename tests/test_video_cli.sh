#!/usr/bin/env bash
# test_video_cli.sh — the `lac` commands that go through GStreamer, end to end on real
# encoded files made here: `lac dataset synth` (VP8/WebM + labels.json), `lac embed VIDEO`
# (frame count and timestamps against the labels file and the frame rate, crop vs squash),
# `lac eval` (table, JSON, baselines, determinism) and their errors (missing dataset,
# corrupt and empty videos, a labels file that does not fit its video, bad options).
# Usage: test_video_cli.sh path/to/lac
set -u
lac="$1"
py=/usr/bin/python3
. "$(dirname "$0")/checks.sh"

model="$tmp/m.safetensors"
expect 0 "wrote" "$lac" model init --arch resnet18-112 --input-size 80 --seed 2 -o "$model"

# --- dataset synth: 3 videos per action, two actions, 1 val... then 2 val per action
ds="$tmp/ds"
expect 0 "6 videos" "$lac" dataset synth --out "$ds" --videos 3 --val-fraction 0.6 --seed 4 \
  --frames 32 --size 96 --actions pour,squat --repetitions 1 --threads 1
[ -f "$ds/labels.json" ] && ok || bad "no labels.json"
n_webm=$(ls "$ds"/videos/*.webm 2>/dev/null | wc -l)
[ "$n_webm" -eq 6 ] && ok || bad "expected 6 webm files, found $n_webm"
ls "$ds"/videos | grep -q tmp && bad "temporary files left in $ds/videos" || ok
# the labels file: splits, actions, one label per frame, labels in range
$py - "$ds/labels.json" <<'PY' && ok || bad "labels.json content"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["format"] == "lac-dataset" and d["version"] == 1
assert set(d["actions"]) == {"pour", "squat"}, d["actions"].keys()
assert len(d["actions"]["pour"]["phases"]) == 5
splits = [(v["action"], v["split"]) for v in d["videos"]]
assert splits.count(("pour", "train")) == 1 and splits.count(("pour", "val")) == 2, splits
for v in d["videos"]:
    K = len(d["actions"][v["action"]]["phases"])
    assert len(v["labels"]) == v["n_frames"] >= 16, v["id"]
    assert all(-1 <= l < K for l in v["labels"])
    seen = [l for l in v["labels"] if l >= 0]
    assert set(seen) == set(range(K)), (v["id"], sorted(set(seen)))
PY
# the same seed makes the same labels (and videos of the same sizes)
expect 0 "6 videos" "$lac" dataset synth --out "$tmp/ds2" --videos 3 --val-fraction 0.6 --seed 4 \
  --frames 32 --size 96 --actions pour,squat --repetitions 1 --threads 1
cmp -s "$ds/labels.json" "$tmp/ds2/labels.json" && ok || bad "same seed, different labels"

# --- embed a generated video: as many embeddings as the labels file has frames
v0="$ds/videos/pour_0000.webm"
nf=$($py -c 'import json,sys; print(json.load(open(sys.argv[1]))["videos"][0]["n_frames"])' "$ds/labels.json")
expect 0 "embedded $nf frames" "$lac" embed "$model" "$v0" -o "$tmp/e.safetensors" --threads 1
$py - "$tmp/e.safetensors" "$nf" <<'PY' && ok || bad "embeddings file of a decoded video"
import json, struct, sys
import numpy as np
b = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", b[:8])[0]
h = json.loads(b[8:8 + n])
data = b[8 + n:]
def get(name, dt):
    t = h[name]; s, e = t["data_offsets"]
    return np.frombuffer(data[s:e], dtype=dt).reshape(t["shape"])
e = get("embeddings", np.float32); ts = get("timestamps", np.int64)
assert e.shape == (int(sys.argv[2]), 128), e.shape
assert np.isfinite(e).all() and e.std() > 0
d = np.diff(ts)
assert (d == 40_000_000).all(), d[:5]           # 25 fps
PY
expect 0 "squash" "$lac" embed "$model" "$v0" -o "$tmp/e_sq.safetensors" --resize squash --threads 1
expect 2 "--resize takes crop or squash" "$lac" embed "$model" "$v0" -o "$tmp/x.safetensors" --resize fit

# --- eval: the table in the paper's layout, the baselines, JSON
out=$("$lac" eval "$model" "$ds" --json "$tmp/r.json" --threads 1 2>&1); rc=$?
if [ $rc -ne 0 ]; then bad "lac eval failed: $out"; else ok; fi
for needle in "Cls10" "AP@5" "Progress" "tau" "random init (seed 0)" "pixels 8x8" "pour: 5 phases, 1 train / 2 val videos" "mean over 2 actions" "wrote $tmp/r.json"; do
  grep -qF -- "$needle" <<< "$out" && ok || bad "eval output lacks '$needle': $out"
done
$py - "$tmp/r.json" <<'PY' && ok || bad "eval JSON"
import json, math, sys
r = json.load(open(sys.argv[1]))
for a in ("pour", "squat"):
    res = r["actions"][a]["results"]
    assert set(res) == {"model", "random_init", "pixels"}, res.keys()
    for enc, m in res.items():
        for k in ("cls10", "cls50", "cls100", "svm10", "svm50", "svm100", "ap5", "ap10", "ap15"):
            assert 0 <= m[k] <= 100, (a, enc, k, m[k])
        assert -100 <= m["tau"] <= 100 and m["progress"] <= 100 and math.isfinite(m["progress"])
assert set(r["mean"]) == {"model", "random_init", "pixels"}
PY
# the model's numbers do not depend on the baselines running beside it
"$lac" eval "$model" "$ds" --json "$tmp/r2.json" --no-baselines --threads 1 >/dev/null 2>&1 && ok || bad "eval --no-baselines"
$py -c 'import json,sys; a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2]));
assert all(a["actions"][k]["results"]["model"] == b["actions"][k]["results"]["model"] for k in a["actions"]), "model row changed"
assert set(b["actions"]["pour"]["results"]) == {"model"}' "$tmp/r.json" "$tmp/r2.json" && ok || bad "eval not deterministic across baseline settings"
expect 0 "squat: 4 phases" "$lac" eval "$model" "$ds" --action squat --no-baselines --threads 1

# --- errors
expect 1 "no-such-dataset" "$lac" eval "$model" "$tmp/no-such-dataset"
expect 1 "no such action" "$lac" eval "$model" "$ds" --action stir
expect 2 "unknown option '--bogus'" "$lac" eval "$model" "$ds" --bogus
expect 2 "give MODEL and DATASET" "$lac" eval "$model"
expect 2 "--videos N is required" "$lac" dataset synth --out "$tmp/x"
expect 2 "--actions" "$lac" dataset synth --out "$tmp/x" --videos 1 --actions stir
expect 2 "--distractor" "$lac" dataset synth --out "$tmp/x" --videos 1 --distractor sometimes
expect 2 "unknown subcommand 'make'" "$lac" dataset make
head -c 5000 /dev/urandom > "$tmp/corrupt.webm"
expect 1 "lac embed: " "$lac" embed "$model" "$tmp/corrupt.webm" -o "$tmp/x.safetensors"
: > "$tmp/empty.webm"
expect 1 "lac embed: " "$lac" embed "$model" "$tmp/empty.webm" -o "$tmp/x.safetensors"
expect 1 "cannot read the video file" "$lac" embed "$model" "$tmp/missing.webm" -o "$tmp/x.safetensors"
[ -e "$tmp/x.safetensors" ] && bad "a failed embed left an output file" || ok
# a labels file that describes far more frames than the video has
$py - "$ds/labels.json" "$tmp/ds3" <<'PY'
import json, os, shutil, sys
d = json.load(open(sys.argv[1])); out = sys.argv[2]
shutil.copytree(os.path.dirname(sys.argv[1]), out)
v = d["videos"][0]; v["labels"] = v["labels"] * 3; v["n_frames"] = len(v["labels"])
json.dump(d, open(os.path.join(out, "labels.json"), "w"))
PY
expect 1 "is it the right file?" "$lac" eval "$model" "$tmp/ds3" --no-baselines

finish "video cli"
