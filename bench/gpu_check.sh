#!/usr/bin/env bash
# The torch and CuPy backends on CUDA: their tests and the torch benchmark, results in $OUT.
#
#   OUT=/tmp/gpu bash bench/gpu_check.sh        # on a CUDA machine, from anywhere; < 8 minutes
#
# Uses the machine's own torch (a CUDA build) and CuPy where they are there, else pip-installs
# them (torch's CUDA wheel, cupy-cuda13x or -12x); array-api-compat from ./.whl if carried there
# (a machine without network), else from PyPI. Every step reports its failure and the next runs.
set -x
cd "$(dirname "$0")/.." || exit 1
OUT=${OUT:-/tmp/derive-gpu-check}
mkdir -p "$OUT"
SUMMARY="$OUT/summary.txt"
: > "$SUMMARY"
PY=${PYTHON:-python3}
export PYTHONPATH="$PWD:$PWD/tests${PYTHONPATH:+:$PYTHONPATH}" DERIVE_TEST_DEVICE=cuda
step() {  # step NAME SECONDS COMMAND...: run, log to $OUT/NAME.log, record the outcome
    local name=$1 limit=$2; shift 2
    local t0=$SECONDS
    timeout "$limit" "$@" > "$OUT/$name.log" 2>&1
    local rc=$?
    echo "$name: rc=$rc ($((SECONDS - t0)) s)$([ $rc -ne 0 ] && echo '  FAILED: see '"$name"'.log')" >> "$SUMMARY"
    return 0
}
have() { "$PY" -c "import $1" > /dev/null 2>&1; }

nvidia-smi > "$OUT/nvidia-smi.txt" 2>&1 || echo "nvidia-smi: not found" >> "$SUMMARY"
have array_api_compat || step install-array-api-compat 120 "$PY" -m pip install --find-links .whl array-api-compat
"$PY" -c "import torch, sys; sys.exit(not torch.cuda.is_available())" \
    || step install-torch 300 "$PY" -m pip install torch --index-url https://download.pytorch.org/whl/cu124
have cupy || step install-cupy 200 bash -c "$PY -m pip install cupy-cuda13x || $PY -m pip install cupy-cuda12x"
have hypothesis && have mpmath && have sympy || step install-test-deps 120 "$PY" -m pip install hypothesis mpmath sympy pytest
step versions 60 "$PY" -c "import torch, numpy, sympy; print('torch', torch.__version__, torch.cuda.get_device_name()); \
import importlib.util as u; print('cupy', u.find_spec('cupy') is not None)"

# the backend tests on CUDA tensors (functional kernels) and CuPy arrays, against the mpmath oracle
step tests-torch-cuda 240 "$PY" -m pytest -q -p no:cacheprovider -x --junitxml="$OUT/junit-torch.xml" \
    tests/test_backends.py tests/test_backends_agreement.py -k "torch"
step tests-cupy 150 "$PY" -m pytest -q -p no:cacheprovider --junitxml="$OUT/junit-cupy.xml" \
    tests/test_backends.py tests/test_backends_agreement.py -k "cupy"
# torch.compile with inductor on the GPU (the CPU tests use the eager and aot_eager backends)
step compile-inductor 180 "$PY" - <<'PYEOF'
import time, torch
from derive.torch import loss_fn
f = loss_fn("softmax", "cce")
z = torch.randn(4096, 1000, device="cuda", requires_grad=True)
y = torch.softmax(torch.randn(4096, 1000, device="cuda"), -1)
t = time.perf_counter(); loss = torch.compile(lambda z, y: f(z, y).mean())(z, y); loss.backward(); torch.cuda.synchronize()
print(f"inductor compile+run {time.perf_counter() - t:.1f} s")
g, z.grad = z.grad.clone(), None
f(z, y).mean().backward()
print("same gradient as eager:", torch.allclose(g, z.grad, rtol=1e-5, atol=1e-9), "finite:", bool(torch.isfinite(g).all()))
PYEOF
step bench-torch-cuda 120 "$PY" -m bench.backends --device cuda --only torch
cat "$SUMMARY"
