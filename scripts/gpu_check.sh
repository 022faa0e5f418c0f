#!/usr/bin/env bash
# GPU check for the engine: the CUDA tests, then the GPU benchmark (bf16 autocast, with strain,
# eager and torch.compile), in well under 8 minutes on one H100/H200
# (the replay of the Nov 15 incident, v15d vs v15e, is the longest step).
#
# Installs nothing from the network. The GPU box has torch; if it lacks the project's pure-Python
# dependencies (pydantic, ruamel.yaml, safetensors, pytest, hypothesis, ...), put their wheels in
# .whl/ and they are installed offline into /tmp/ahsd-site:
#     bash scripts/fetch_gpu_wheels.sh          (on a machine with PyPI; carries pydantic, ruamel.yaml)
# Output: everything is echoed; with OUT set, the JSON lines also go to $OUT/gpu_bench.jsonl.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
OUT_DIR=${OUT:-/tmp/ahsd-gpu-check}
mkdir -p "$OUT_DIR"

if compgen -G ".whl/*.whl" >/dev/null; then
    "$PY" -m pip install -q --no-index --no-deps --target /tmp/ahsd-site .whl/*.whl
    export PYTHONPATH=/tmp/ahsd-site:${PYTHONPATH:-}
fi
export PYTHONPATH=$PWD:${PYTHONPATH:-}
export PYTHONUNBUFFERED=1

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
"$PY" -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.get_device_name(0))"

status=0
echo "== CUDA tests"
timeout 120 "$PY" -m pytest -q -p no:cacheprovider -m cuda tests/test_engine_cuda.py || status=1

echo "== CUDA trainer tests (bf16 tiny run)"
timeout 90 "$PY" -m pytest -q -p no:cacheprovider -m cuda tests/test_train_run.py || status=1

echo "== ahsd-train: short CUDA bf16 run (--quick) and its throughput"
timeout 120 "$PY" -m ahsd_train run --config configs/enhanced_training.yaml --quick --device cuda \
    --out "$OUT_DIR/train-quick-cuda" || status=1
"$PY" -c "import json,sys; [print(json.dumps({k: r.get(k) for k in ('epoch','scenarios_per_s','seconds','val_loss')})) for r in map(json.loads, open(sys.argv[1])) if r['kind']=='epoch']" \
    "$OUT_DIR/train-quick-cuda/metrics.jsonl" | tee -a "$OUT_DIR/gpu_bench.jsonl" || status=1
"$PY" -m ahsd_train bench --device cuda --json | tee -a "$OUT_DIR/gpu_bench.jsonl" || status=1

echo "== the incident replayed on CUDA (issue 10): v15d must fail the gradient rows, v15e pass them"
timeout 240 "$PY" -m ahsd_train compare v15d v15e --device cuda --json --out "$OUT_DIR/replay-cuda" \
    | tee -a "$OUT_DIR/gpu_bench.jsonl" || status=1

echo "== GPU benchmark, eager, bf16 autocast"
timeout 150 "$PY" benchmarks/train_throughput.py --device cuda --repeats 3 --json | tee -a "$OUT_DIR/gpu_bench.jsonl" || status=1

# Launch-bound at small batches? Try fusing kernels (compile) and CUDA graphs (reduce-overhead).
for mode in default reduce-overhead; do
    echo "== GPU benchmark, torch.compile mode=$mode (b256 strain)"
    timeout 120 "$PY" benchmarks/train_throughput.py --device cuda --repeats 3 --only 256:strain --compile "$mode" --json \
        | tee -a "$OUT_DIR/gpu_bench.jsonl" || echo "compile mode $mode failed (see above); eager figures stand"
done
exit $status
