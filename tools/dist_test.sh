#!/usr/bin/env bash
# Launch tools/test.py as NPROC processes per node through torchrun and
# mmengine's distributed launcher (--launcher pytorch).
# Usage: tools/dist_test.sh CONFIG CHECKPOINT NPROC [test.py args...]
set -euo pipefail
if [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then
  echo "usage: $0 CONFIG CHECKPOINT NPROC [tools/test.py arguments]"
  echo "Runs NPROC processes per node through torchrun (python -m torch.distributed.run)"
  echo "with --launcher pytorch. Multi-node: set NNODES, NODE_RANK, MASTER_ADDR, PORT."
  echo "PYTHON picks the interpreter (default: python). CPU-only machines use gloo."
  exit 0
fi
if [ $# -lt 3 ]; then
  echo "usage: $0 CONFIG CHECKPOINT NPROC [tools/test.py arguments]" >&2
  exit 2
fi
CONFIG=$1
CHECKPOINT=$2
NPROC=$3
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
PYTHON=${PYTHON:-python}
HERE=$(cd "$(dirname "$0")" && pwd)

PYTHONPATH="$HERE/..${PYTHONPATH:+:$PYTHONPATH}" \
"$PYTHON" -m torch.distributed.run \
    --nnodes="$NNODES" \
    --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" \
    --master_port="$PORT" \
    --nproc_per_node="$NPROC" \
    "$HERE/test.py" "$CONFIG" "$CHECKPOINT" --launcher pytorch "${@:4}"
