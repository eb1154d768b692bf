#!/usr/bin/env bash
# Run on a machine WITH network (PyPI): downloads the wheels that run.sh
# installs offline on the GPU machine, into benchmarks/gpu/wheels/ (ignored
# by git). Pass the GPU machine's Python version (python3 -V there):
#   bash benchmarks/gpu/prepare_wheels.sh 3.11
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
PYVER=${1:-3.11}
PLATFORM=${2:-manylinux2014_x86_64}
mkdir -p "$HERE/wheels"
# Binary wheels for the target interpreter, dependencies included (numpy
# too, in case the GPU machine's torch environment lacks it); no torch:
# nothing in requirements.txt depends on it.
python3 -m pip download --only-binary=:all: --dest "$HERE/wheels" \
    --python-version "$PYVER" --platform "$PLATFORM" \
    --platform manylinux_2_17_x86_64 --platform manylinux_2_28_x86_64 \
    --implementation cp -r "$HERE/requirements.txt"
du -sh "$HERE/wheels"
