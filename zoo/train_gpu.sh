#!/usr/bin/env bash
# Trains the GPU-bound zoo entries on a lent GPU machine, in one run of under 9 minutes, and
# leaves what to bring back in $OUT; then proves the GPU path on JAX and PyTorch and
# benchmarks (benchmarks/gpu.sh) with the time left.
#
# Here, once per session (needs the package registries and ../shared/data):
#     make gpu-prepare          # .whl/: keras, namex, optree for cp312; .gpu-data/: MNIST
# Then, with the device tool:
#     run(command="bash zoo/train_gpu.sh", carry=[".whl", ".gpu-data"], timeout_s=560)
# Back here, for each entry the run brought back ($OUT/<entry>.tar.gz, a checkpoint folder):
#     make gpu-import FILES=<files_at>  # unpacks into zoo/<entry>/checkpoint/
#     keras-dae train zoo/<entry> --install   # resumes if unfinished, else only exports
# so the GPU's weights go through the same export, card and golden file as a CPU run, and
# tests/test_zoo.py checks them on all three backends.
#
# The GPU machine has torch and JAX with CUDA but no keras or TensorFlow, and no network.
# Each entry trains with the same recipe and command as on CPU (on JAX, the fastest Keras
# backend on a GPU), resuming the checkpoint committed in zoo/<entry>/checkpoint/ if any;
# `--no-export` stops after training (the export measures classical baselines on CPU).
set -uo pipefail
OUT=${OUT:-outputs/gpu}
mkdir -p "$OUT"
START=$(date +%s)
log() { echo "[$(( $(date +%s) - START ))s] $*" | tee -a "$OUT/log.txt"; }

if [ -d .whl ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl || { log "wheel install failed"; exit 1; }
  export PYTHONPATH=/tmp/site:$PWD
fi
export KERAS_DAE_DATA=${KERAS_DAE_DATA:-$PWD/.gpu-data}
export PYTHONUNBUFFERED=1
python3 -c "import keras, jax, torch; print('keras', keras.__version__, jax.devices(), torch.cuda.is_available())" \
  2>&1 | tee -a "$OUT/log.txt"

# entry:budget-minutes, an entry being a folder under zoo/ (a candidate recipe such as
# unet-mnist-gauss/next too); the budgets keep the whole run under 9 minutes with the
# benchmark. The default: every run in progress (a folder with a committed checkpoint/),
# sharing 6 minutes; none: only the benchmark runs.
if [ -z "${GPU_ENTRIES+x}" ]; then
  running=$(cd zoo && for d in */checkpoint */*/checkpoint; do [ -d "$d" ] && echo "${d%/checkpoint}"; done)
  count=$(echo "$running" | grep -c . || true)
  GPU_ENTRIES=$(for e in $running; do echo "$e:$(( 6 / count > 2 ? 6 / count : 2 ))"; done)
  log "runs in progress: ${GPU_ENTRIES:-none}"
fi
for job in $GPU_ENTRIES; do
  entry=${job%%:*}; minutes=${job##*:}; file=${entry//\//__}  # a/b -> a__b (make gpu-import undoes it)
  log "training $entry (budget ${minutes} min)"
  KERAS_BACKEND=jax python3 -m keras_dae train "zoo/$entry" --no-export --budget-minutes "$minutes" \
    >> "$OUT/$file.log" 2>&1
  log "$entry: exit $? (0 trained, 3 paused: its checkpoint continues next time)"
  tar -czf "$OUT/$file.tar.gz" -C "zoo/$entry" checkpoint 2>/dev/null || log "$entry: no checkpoint"
done

left=$(( 540 - ($(date +%s) - START) ))
if [ "$left" -gt 120 ]; then
  log "benchmarks/gpu.sh with ${left}s left"
  timeout $(( left - 20 )) bash benchmarks/gpu.sh >> "$OUT/log.txt" 2>&1
  log "benchmark: exit $?"
fi
log "done"
