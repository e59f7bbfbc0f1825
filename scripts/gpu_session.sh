#!/usr/bin/env bash
# The GPU measurements, as one script for a session lent a GPU: run it first, in one
# device call, from the repository root. Results go to ${OUT:-gpu_out}. On an H100/H200
# every step is bounded by `timeout` so that the whole script ends within 8 minutes:
#
#   1. the Pallas kernel lowered and run on CUDA against the XLA engine, and sharding
#      (tests/test_sweep.py);
#   2. bench_engine.py: the engine against a hand-written loop and vmapped simulate, Prinz
#      262,144 models × 500 ms and HH 10⁶ neurons × 1 s;
#   3. the whole Prinz 2003 database (1,679,616 models) × 10 s, dt 0.025 ms, float32,
#      online features and classes (goal: < 20 s on one H100);
#   4. COBAHH at 10⁵ and 10⁶ neurons, 1 s at dt 0.1 ms (bench_cobahh.py --scaling);
#   5. a 65,536-network slice of the 2004 pyloric network database × 12 s, classified as
#      Prinz et al. classified it;
#   6. the reverse-mode gradient of a 10-s burst-period loss for 1,024 models against the
#      forward run (bench_fit.py; goal: ≤ 10×).
#
# SMOKE=1 runs every step at toy sizes (on a CPU, to check the script itself).
set -u
OUT=${OUT:-gpu_out}
SMOKE=${SMOKE:-0}
mkdir -p "$OUT"
pip install --no-deps -e . -q >/dev/null 2>&1
{ nvidia-smi --query-gpu=name,memory.total,clocks.max.sm --format=csv 2>/dev/null || true; } \
    | tee "$OUT/gpu.txt"
python -c "import jax; print(jax.__version__, jax.devices())" | tee -a "$OUT/gpu.txt"
uptime | tee -a "$OUT/gpu.txt"

TESTS_LIMIT=45
if [ "$SMOKE" = 1 ]; then
    TESTS_LIMIT=600  # the Pallas kernel runs interpreted on a CPU
    N_PRINZ=256 N_HH=256 DB="--sample 512 --t1 200 --start 100" COBAHH="1000"
    PYLORIC="--sample 64 --t1 300 --start 100" FIT="--batch 4 --t1 200 --start 50"
else
    N_PRINZ=262144 N_HH=1000000 DB="--chunk-size 262144" COBAHH="100000 1000000"
    PYLORIC="--sample 65536 --chunk-size 16384" FIT="--batch 1024 --t1 10000 --start 2000"
fi

step() {  # step NAME SECONDS COMMAND...: run with a time limit, log to $OUT/NAME.txt
    local name=$1 limit=$2
    shift 2
    echo "== $name ($(date -u +%T), limit ${limit} s): $*" | tee "$OUT/$name.txt"
    local start=$SECONDS
    timeout "$limit" "$@" 2>&1 | tail -n 60 | tee -a "$OUT/$name.txt"
    echo "== $name: exit ${PIPESTATUS[0]} after $((SECONDS - start)) s" | tee -a "$OUT/$name.txt"
}

step tests "$TESTS_LIMIT" python -m pytest -q -p no:cacheprovider -n 0 tests/test_sweep.py \
    -k "pallas or sharding or engine_equals"
step bench_engine 75 python scripts/bench_engine.py --n-prinz "$N_PRINZ" --n-hh "$N_HH" \
    --repeats 2
step prinz_database 150 python scripts/prinz_database.py $DB --no-progress \
    --out "$OUT/prinz_db"
step cobahh 60 python scripts/bench_cobahh.py --skip-brian --scaling $COBAHH
step pyloric_database 60 python scripts/pyloric_database.py $PYLORIC --no-progress \
    --out "$OUT/pyloric_db"
step gradient 75 python scripts/bench_fit.py $FIT --repeats 1
rm -rf "$OUT/prinz_db/parts" "$OUT/pyloric_db/parts"  # keep the logs, not the datasets
