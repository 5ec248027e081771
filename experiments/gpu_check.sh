#!/usr/bin/env bash
# The GPU check: the facenet preset's training throughput at 256 px (fp32 and mixed precision,
# with and without XLA) and a short real training burst on carried Flickr8k photos.
#
#   bash experiments/gpu_check.sh            # on a CUDA machine with TensorFlow, no internet, < 10 min
#   bash experiments/gpu_check.sh --reduced  # on a CPU (CI): tiny preset, a few steps, same code paths
#
# Figures go to $OUT/gpu_check.md (or gpu_check_out/ when OUT is unset). The photos travel in
# .gpu_check/shards: build them where ../shared exists with
#   python -m experiments.gpu_check_data --source_dir=../shared/data/flickr8k_trainval
# (about 40 MiB; the script builds them itself when ../shared is there). TensorFlow must be
# installed for $PYTHON on the GPU machine (pip install 'tensorflow[and-cuda]' where it can).
set -euo pipefail
cd "$(dirname "$0")/.."
mode=full
[[ "${1:-}" == "--reduced" ]] && mode=reduced
python=${PYTHON:-python3}
out=${OUT:-gpu_check_out}
carry=${GPU_CHECK_DATA:-.gpu_check}
mkdir -p "$out"
report="$out/gpu_check.md"
# Every Python command runs with -m from the checkout's root, which puts the checkout first on
# sys.path: no PYTHONPATH, whether or not the project is installed.
export TF_CPP_MIN_LOG_LEVEL=2

if ! "$python" -c "import tensorflow" 2>/dev/null; then
  echo "gpu_check: TensorFlow is not importable by $python; install the project first" >&2
  exit 2
fi
gpus=$("$python" -c "import tensorflow as tf; print(len(tf.config.list_physical_devices('GPU')))")
if [[ $mode == full && $gpus == 0 ]]; then
  echo "gpu_check: TensorFlow sees no GPU; on a CPU run: bash experiments/gpu_check.sh --reduced" >&2
  exit 2
fi

if [[ ! -f "$carry/shards/manifest.json" ]]; then
  if [[ -d ../shared/data/flickr8k_trainval ]]; then
    counts=(--train_images=800 --val_images=200)
    [[ $mode == reduced ]] && counts=(--train_images=12 --val_images=6)
    "$python" -m experiments.gpu_check_data --source_dir=../shared/data/flickr8k_trainval \
      --output_dir="$carry" "${counts[@]}"
  else
    echo "gpu_check: no carried photos in $carry/shards and no ../shared to build them from" >&2
    exit 2
  fi
fi

{
  echo "# GPU check ($mode), $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  "$python" -c "import tensorflow as tf; print('TensorFlow', tf.__version__, '| devices:', [d.name for d in tf.config.list_physical_devices()])"
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
  echo
} > "$report"

if [[ $mode == full ]]; then
  bench=(--cases=facenet:256 --facenet_images_per_batch=45 --xla=off,on --min_seconds=20)
  precisions=(none float16 bfloat16)
  burst=(--preset=facenet --image_size=256 --images_per_batch=45 --max_steps=150 --mixed_precision=float16)
else
  bench=(--cases=tiny:80 --tiny_images_per_batch=4 --xla=off --steps=1 --min_seconds=0 --matmul_size=512 --noprofile_flops)
  precisions=(none)
  burst=(--preset=tiny --image_size=80 --images_per_batch=4 --max_steps=3)
fi

for precision in "${precisions[@]}"; do
  echo "## Training throughput, mixed precision: $precision" >> "$report"
  "$python" -m experiments.bench.bench_training "${bench[@]}" --mixed_precision="$precision" 2>&1 \
    | grep -v -E "^(WARNING|[IWE][0-9]{4} |writing |ModuleNotFound)" | tee -a "$report"
  echo >> "$report"
done

echo "## Training burst on carried Flickr8k photos" >> "$report"
"$python" -m fusion_tf.cli.train --dataset=custom --data_dir="$carry/shards" --model_dir="$out/burst" \
  --epochs=1000 --test_split=val --noexport --log_every_steps=10 "${burst[@]}" 2>&1 \
  | grep -E "^(step|validation|  (image|text)-to|  rsum|[0-9]+ images)" | tee -a "$report"
echo "gpu_check: figures in $report"
