#!/usr/bin/env bash
# The GPU measurements of the sweep engine, as one script for a session lent a GPU
# (run from the repository root; results and profiles go to ${OUT:-gpu_out}).
#
#   1. the Pallas kernel compiled by Triton against the XLA engine (the interpreter-run
#      tests of tests/test_sweep.py, now on the GPU), and sharding;
#   2. bench_sweep.py: XLA engine, Pallas kernel, plain lax.scan (b), vmapped Tsit5 (a);
#      bench_engine.py: the engine against a hand-written loop and vmapped simulate;
#   3. the Prinz 2003 database × 10 s (dt 0.025 ms, float32, online classes): a 2^20-model
#      sample with each kernel, with a profiler trace, then every model with the faster one.
#
# A device call may run 10 minutes: run `scripts/gpu_session.sh check` (steps 1–2) and
# `scripts/gpu_session.sh database` (step 3) as two calls. Each step is bounded by
# `timeout` so that one slow step cannot eat the session.
set -u
STEP=${1:-check}
OUT=${OUT:-gpu_out}
mkdir -p "$OUT"
pip install --no-deps -e . -q >/dev/null 2>&1
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm --format=csv | tee "$OUT/gpu.txt"
python -c "import jax; print(jax.__version__, jax.devices())" | tee -a "$OUT/gpu.txt"

if [ "$STEP" = check ]; then
timeout 240 python -m pytest -q -p no:cacheprovider tests/test_sweep.py \
    -k "pallas or sharding or engine_equals" 2>&1 | tail -n 15 | tee "$OUT/tests.txt"

timeout 300 python scripts/bench_sweep.py --sizes 10000 100000 1000000 --t1 100 \
    --tsit5-max 10000 --repeats 2 --pallas 2>&1 | tee "$OUT/bench_sweep.txt"

timeout 240 python scripts/bench_engine.py --n-prinz 262144 --n-hh 262144 --repeats 2 \
    --profile 2>&1 | tee "$OUT/bench_engine.txt"
exit 0
fi

for kernel in pallas xla; do
    timeout 150 python scripts/prinz_database.py --sample 1048576 --kernel "$kernel" \
        --no-progress --out "/tmp/db_sample_$kernel" --profile "$OUT/profile_$kernel" 2>&1 \
        | tee "$OUT/db_sample_$kernel.txt"
done
rate() { grep -ho "[0-9.e+]* neuron-steps/s" "$OUT/db_sample_$1.txt" | cut -d' ' -f1; }
best=$(python -c "import sys; p, x = sys.argv[1:]; print(
    'pallas' if p and (not x or float(p) > float(x)) else 'xla')" "$(rate pallas)" "$(rate xla)")
echo "full database with the $best kernel" | tee "$OUT/db_full.txt"
timeout 280 python scripts/prinz_database.py --kernel "$best" --no-progress \
    --out /tmp/db_full 2>&1 | tee -a "$OUT/db_full.txt"
