#!/usr/bin/env bash
# Download, on a machine with PyPI access, the wheels that the GPU image lacks (it has torch,
# typer, rich, safetensors, hypothesis, pytest, filelock, matplotlib, tensorboard, but neither
# pydantic, ruamel.yaml nor, perhaps, PyYAML: the loader's C road, a core dependency since Nov 30) into .whl/ (git-ignored), for scripts/gpu_check.sh to install offline.
# The GPU image runs CPython 3.12 on x86-64.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
versions() { "$PY" -c "import importlib.metadata as m; print(' '.join(f'{n}=={m.version(n)}' for n in '$*'.split()))"; }
PKGS=$(versions pydantic pydantic-core annotated-types typing-inspection ruamel.yaml PyYAML)
rm -rf .whl && mkdir -p .whl
"$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    --platform any -d .whl $PKGS
ls -1 .whl
