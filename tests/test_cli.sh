#!/usr/bin/env bash
# test_cli.sh — the `lac` command line end to end: model init -> info -> embed (synthetic
# and from a frames file), the embeddings file it writes, and the usage errors (exit 2)
# and file errors (exit 1) with their messages.  Usage: test_cli.sh path/to/lac
set -u
lac="$1"
. "$(dirname "$0")/checks.sh"


model="$tmp/small.safetensors"
expect 0 "commands:" "$lac" --help
expect 0 "resnet18-112" "$lac" help model
expect 0 "wrote $model" "$lac" model init --arch resnet18-112 --input-size 80 --seed 3 --name cli-test -o "$model"
expect 0 "resnet18, layer3[0:2], input 80x80" "$lac" info "$model"
expect 0 "lac.name       cli-test" "$lac" info "$model"
expect 0 "embedded 6 frames" "$lac" embed "$model" --synthetic 6 -o "$tmp/e.safetensors" --threads 1
[ -s "$tmp/e.safetensors" ] && ok || bad "no embeddings file written"
# the embeddings file is not a model
expect 1 "embeddings file" "$lac" info "$tmp/e.safetensors"
# the same seed gives the same model id
id1=$("$lac" model init --arch resnet18-112 --input-size 80 --seed 3 -o "$tmp/b.safetensors" | awk '{print $NF}')
id2=$("$lac" info "$model" | awk '/model id/ {print $3}')
[ "$id1" = "$id2" ] && ok || bad "seeded init not reproducible: $id1 vs $id2"

# align two clips' embeddings: the hard path and the soft match probabilities
expect 0 "embedded 8 frames" "$lac" embed "$model" --synthetic 8 --seed 5 -o "$tmp/e2.safetensors" --threads 1
expect 0 "best local alignment: score" "$lac" align "$tmp/e.safetensors" "$tmp/e2.safetensors"
expect 0 "matched ranges:" "$lac" align "$tmp/e.safetensors" "$tmp/e2.safetensors" --similarity cosine --offset 0.5
expect 0 "expected matches" "$lac" align "$tmp/e.safetensors" "$tmp/e2.safetensors" --soft-out "$tmp/p.safetensors"
[ -s "$tmp/p.safetensors" ] && ok || bad "no soft alignment file written"
# a clip aligned with itself under cosine - 0.5 matches along the diagonal
diag=$("$lac" align "$tmp/e.safetensors" "$tmp/e.safetensors" --similarity cosine --offset 0.5 --path | awk 'NF == 3 && $3 == "M" && $1 != $2' | wc -l)
[ "$diag" -eq 0 ] && ok || bad "self-alignment left the diagonal at $diag steps"
expect 2 "--similarity takes" "$lac" align "$tmp/e.safetensors" "$tmp/e2.safetensors" --similarity dot
expect 2 "--device takes cpu or cuda" "$lac" align "$tmp/e.safetensors" "$tmp/e2.safetensors" --device gpu
# the soft alignment on the GPU: the same expected matches as the CPU's where there is a GPU,
# a clear refusal where there is none
if nvidia-smi -L > /dev/null 2>&1; then
  cpu_em=$("$lac" align "$tmp/e.safetensors" "$tmp/e2.safetensors" --soft-out "$tmp/pc.safetensors" | sed -n 's/.*expected matches \([0-9.]*\).*/\1/p')
  gpu_em=$("$lac" align "$tmp/e.safetensors" "$tmp/e2.safetensors" --soft-out "$tmp/pg.safetensors" --device cuda | sed -n 's/.*expected matches \([0-9.]*\).*/\1/p')
  [ -n "$cpu_em" ] && [ "$cpu_em" = "$gpu_em" ] && ok || bad "expected matches: cpu '$cpu_em', cuda '$gpu_em'"
else
  expect 1 "CUDA" "$lac" align "$tmp/e.safetensors" "$tmp/e2.safetensors" --soft-out "$tmp/pg.safetensors" --device cuda
fi
expect 2 "--go needs a number" "$lac" align "$tmp/e.safetensors" "$tmp/e2.safetensors" --go x
expect 1 "not a lac" "$lac" align "$model" "$tmp/e2.safetensors"

# usage errors: exit 2 with a message naming the problem
expect 2 "unknown command 'frobnicate'" "$lac" frobnicate
expect 2 "unknown option '--bogus'" "$lac" model init --arch resnet50 --bogus -o "$tmp/x"
expect 2 "unknown architecture preset 'resnet7'" "$lac" model init --arch resnet7 -o "$tmp/x"
expect 2 "--seed needs an integer" "$lac" model init --arch resnet50 --seed abc -o "$tmp/x"
expect 2 "-o MODEL is required" "$lac" model init --arch resnet50
expect 2 "--attention takes time or frame" "$lac" model init --arch resnet50 --attention up -o "$tmp/x"
expect 2 "--input-size needs an integer in [80, 1024]" "$lac" model init --arch resnet50 --input-size 3000 -o "$tmp/x"
expect 2 "exactly one of" "$lac" embed "$model" -o "$tmp/y"
# file errors: exit 1 with the path and the reason
expect 1 "$tmp/missing.safetensors" "$lac" info "$tmp/missing.safetensors"
printf 'not a safetensors file at all' > "$tmp/junk.safetensors"
expect 1 "junk.safetensors" "$lac" info "$tmp/junk.safetensors"
head -c 2000 "$model" > "$tmp/truncated.safetensors"
expect 1 "truncated.safetensors" "$lac" info "$tmp/truncated.safetensors"
expect 1 "frames" "$lac" embed "$model" "$tmp/e.safetensors" -o "$tmp/z"
[ ! -e "$tmp/z" ] && ok || bad "a failed embed left an output file"

finish "cli"
