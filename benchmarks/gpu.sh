#!/usr/bin/env bash
# The GPU check, ready for the day a GPU machine is lent (it has torch and JAX with CUDA,
# no keras, no TensorFlow, no network), in under 8 minutes:
#   1. the GPU path on JAX and PyTorch: the layer, objective, inpainting and zoo tests
#      (golden outputs within 1e-4) on each backend, on the GPU;
#   2. benchmarks/speed.py on both backends (TensorFlow is not installed there), which
#      writes speed_gpu_<backend>.json and RESULTS.md into $OUT.
#
# Here: make gpu-prepare (the wheels keras needs). With the device tool:
#     run(command="bash benchmarks/gpu.sh", carry=[".whl", ".gpu-data"], timeout_s=540)
# or as the last step of zoo/train_gpu.sh. Back here: copy $OUT/speed_gpu_*.json into
# benchmarks/results/ and run `python benchmarks/speed.py --from-results` for RESULTS.md.
set -uo pipefail
OUT=${OUT:-outputs/gpu}
mkdir -p "$OUT"
START=$(date +%s)
log() { echo "[gpu.sh $(( $(date +%s) - START ))s] $*"; }

if [ -d .whl ] && ! python3 -c "import keras" 2>/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl || { log "wheel install failed"; exit 1; }
  export PYTHONPATH=/tmp/site:$PWD
fi
export KERAS_DAE_DATA=${KERAS_DAE_DATA:-$PWD/.gpu-data}
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null | sed 's/^/GPU: /'

for b in jax torch; do
  log "tests on $b"
  KERAS_BACKEND=$b timeout 100 python3 -m pytest -q -x -p no:cacheprovider \
    tests/test_layers.py tests/test_models.py tests/test_inpainting.py tests/test_zoo.py 2>&1 | tail -5
  log "tests on $b: exit ${PIPESTATUS[0]}"
done

log "benchmarks/speed.py (jax, torch)"
timeout $(( 470 - ($(date +%s) - START) )) python3 benchmarks/speed.py --all-backends --backends jax,torch --out "$OUT"
log "speed: exit $?"
