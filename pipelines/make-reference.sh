#!/usr/bin/env bash
# make-reference.sh — a labelled reference for lacalign from the synthetic source: one
# rendered action whose frames carry their phase (GstLacPhaseMeta), so the embeddings file
# lacencoder writes holds the phase labels and names.
#
#   pipelines/make-reference.sh MODEL.safetensors OUT.safetensors [ACTION] [SEED]
set -euo pipefail
. "$(dirname "$0")/env.sh"
model=${1:?usage: make-reference.sh MODEL OUT.safetensors [ACTION] [SEED]}
out=${2:?usage: make-reference.sh MODEL OUT.safetensors [ACTION] [SEED]}
action=${3:-pour}
seed=${4:-1}
gst-launch-1.0 -q lacsynthsrc action="$action" seed="$seed" distractor=none ! \
  lacencoder model-location="$model" embeddings-location="$out" ! fakesink
echo "reference: $out ($action, seed $seed)"
