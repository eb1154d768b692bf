#!/usr/bin/env bash
# The GPU measurement in one command (no network, no OpenMMLab packages
# needed; a CUDA build of torch must be importable by `python3`):
#   bash benchmarks/gpu/run.sh            # full sizes on cuda, < 8 minutes
#   bash benchmarks/gpu/run.sh --small    # a quick check of the set-up
# Installs requirements.txt from benchmarks/gpu/wheels/ (see
# prepare_wheels.sh) into a venv that sees the system torch, then runs
# bench_gpu.py from this checkout. Extra arguments go to bench_gpu.py.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
VENV=${VENV:-/tmp/mmseg_be_gpu_venv}
python3 -c 'import torch; assert torch.cuda.is_available(), "no CUDA device"'
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv --system-site-packages "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --no-index \
    --find-links "$HERE/wheels" -r "$HERE/requirements.txt"
cd "$ROOT"
PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}" \
    "$VENV/bin/python" benchmarks/gpu/bench_gpu.py --device cuda "$@"
