#!/usr/bin/env bash
# Launch tools/train.py as NPROC processes per node through torchrun and
# mmengine's distributed launcher (--launcher pytorch).
# Usage: tools/dist_train.sh CONFIG NPROC [train.py args...]
# Multi-node: set NNODES, NODE_RANK, MASTER_ADDR, PORT on every node.
set -euo pipefail
if [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then
  echo "usage: $0 CONFIG NPROC [tools/train.py arguments]"
  echo "Runs NPROC processes per node through torchrun (python -m torch.distributed.run)"
  echo "with --launcher pytorch. Multi-node: set NNODES, NODE_RANK, MASTER_ADDR, PORT."
  echo "PYTHON picks the interpreter (default: python). CPU-only machines use gloo."
  exit 0
fi
if [ $# -lt 2 ]; then
  echo "usage: $0 CONFIG NPROC [tools/train.py arguments]" >&2
  exit 2
fi
CONFIG=$1
NPROC=$2
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
    "$HERE/train.py" "$CONFIG" --launcher pytorch "${@:3}"
