"""Rebuild the Prinz, Billimoria & Marder (2003) model database.

Every model of the 6⁸ = 1,679,616-model grid (or a random sample with ``--sample N``) is
simulated for ``--t1`` ms from the same initial state — V = −50 mV, [Ca] = 0.05 µM, every
gate at its steady state for them (``build_Prinz().initial_state()``) — by the sweep
engine (exponential Euler, float32 unless ``--x64``) and classified online as silent,
tonic, bursting or irregular from the spikes after ``--start`` ms (see
`StreamingFeatures.classify`; bursts split at inter-spike intervals > ``--burst-gap``).
The dataset (one row per model: model number, conductances, features, class, status) is
written chunk by chunk to ``--out`` as Parquet; re-running the same command resumes.

    python scripts/prinz_database.py --sample 10000 --out prinz_db_sample
    python scripts/prinz_database.py --out prinz_db            # all 1,679,616 models
    python scripts/prinz_database.py --kernel pallas           # the on-chip kernel (GPU)

``--profile DIR`` writes a JAX profiler trace (TensorBoard / Perfetto) of the run.
"""

from __future__ import annotations

import argparse
import platform
import time

import jax


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=None, help="random sample of N models")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--t1", type=float, default=10_000.0, help="simulated ms per model")
    parser.add_argument("--start", type=float, default=2_000.0, help="analysis start, ms")
    parser.add_argument("--dt", type=float, default=0.025, help="step, ms")
    parser.add_argument("--burst-gap", type=float, default=100.0, help="ms")
    parser.add_argument("--chunk-size", type=int, default=None, help="default: see sweep()")
    parser.add_argument("--out", default=None, help="dataset directory (resumable)")
    parser.add_argument("--x64", action="store_true", help="float64 (default float32)")
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument("--kernel", default="xla", choices=["xla", "pallas"])
    parser.add_argument("--profile", default=None, help="write a profiler trace here")
    args = parser.parse_args()
    if args.x64:
        jax.config.update("jax_enable_x64", True)  # a script may choose the precision

    import jax.numpy as jnp

    import jaxneuron as jn
    from jaxneuron.sweep import PrinzDatabase, sweep

    space = PrinzDatabase(sample=args.sample, seed=args.seed)
    device = jax.devices()[0]
    print(
        f"Prinz 2003 database: {len(space):,} models × {args.t1:g} ms, dt {args.dt} ms, "
        f"{'float64' if args.x64 else 'float32'}, {args.kernel} kernel; "
        f"{len(jax.devices())} × {device.device_kind} "
        f"({platform.processor() or platform.machine()}), JAX {jax.__version__}",
        flush=True,
    )
    if args.profile:
        jax.profiler.start_trace(args.profile)
    began = time.perf_counter()
    result = sweep(
        jn.build_Prinz(name="prinz_2003"),
        space,
        t1=args.t1,
        dt=args.dt,
        start=args.start,
        burst_gap=args.burst_gap,
        dtype=jnp.float64 if args.x64 else jnp.float32,
        path=args.out,
        chunk_size=args.chunk_size,
        progress=not args.no_progress,
        kernel=args.kernel,
    )
    wall = time.perf_counter() - began
    if args.profile:
        jax.profiler.stop_trace()
    steps = result.models_run * args.t1 / args.dt
    print(
        f"\n{result.models_run:,} models simulated in {wall:.1f} s wall "
        f"({result.models_run / wall:,.0f} models/s, {steps / wall:.3g} neuron-steps/s, "
        f"compilation included); {len(result.table):,} in the dataset"
        + ("" if result.complete else " (incomplete)")
    )
    print("class fractions:")
    for cls, fraction in result.class_fractions().items():
        print(f"  {cls:<10} {100 * fraction:6.2f}%")
    bursting = result.table[result.table["class"] == "bursting"]
    if len(bursting):
        q = bursting["burst_period"].quantile([0.1, 0.5, 0.9]).to_numpy()
        print(
            f"bursters: period (ms) 10/50/90th percentile {q[0]:.0f} / {q[1]:.0f} / {q[2]:.0f}, "
            f"median duty cycle {bursting['duty_cycle'].median():.3f}, median spikes/burst "
            f"{bursting['spikes_per_burst'].median():.1f}"
        )
    if args.out:
        print(f"dataset: {args.out}/parts (Parquet)")


if __name__ == "__main__":
    main()
