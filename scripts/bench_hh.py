"""Benchmark: 1 s of Hodgkin–Huxley at 10 µA/cm² on this machine, every jaxneuron solver
against SciPy's LSODA and Radau at matched accuracy.

Accuracy is the largest spike-time error (ms) against a SciPy DOP853 solution at
rtol = atol = 1e-12. For each method the loosest tolerance (or largest dt) from a ladder
that meets ``--target`` is timed (best of ``--repeats`` compiled runs). Ratios are
against LSODA, measured in the same process.

    python scripts/bench_hh.py [--target 0.01] [--repeats 3]
"""

from __future__ import annotations

import argparse
import math
import platform
import time

import jax

jax.config.update("jax_enable_x64", True)  # a script, not the library: it may choose

import numpy as np  # noqa: E402
from scipy.integrate import solve_ivp  # noqa: E402

import jaxneuron as jn  # noqa: E402

T1, CURRENT, SAVE = 1000.0, 10.0, 0.01
TOLERANCES = [1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10]
STEPS = [0.04, 0.02, 0.01, 0.005, 0.0025, 0.00125]


def scipy_rhs(t, y):
    V, m, h, n = y
    x = -(V + 40.0) / 10.0
    am = x / math.expm1(x) if abs(x) > 1e-9 else 1.0
    bm = 4.0 * math.exp(-(V + 65.0) / 18.0)
    ah = 0.07 * math.exp(-(V + 65.0) / 20.0)
    bh = 1.0 / (1.0 + math.exp(-(V + 35.0) / 10.0))
    x = -(V + 55.0) / 10.0
    an = 0.1 * x / math.expm1(x) if abs(x) > 1e-9 else 0.1
    bn = 0.125 * math.exp(-(V + 65.0) / 80.0)
    i_ion = 120.0 * m**3 * h * (V - 50.0) + 36.0 * n**4 * (V + 77.0) + 0.3 * (V + 54.4)
    return [CURRENT - i_ion, am * (1 - m) - bm * m, ah * (1 - h) - bh * h, an * (1 - n) - bn * n]


def run_scipy(method, tol):
    y0 = np.asarray(jn.build_HH().initial_state())
    t_eval = np.linspace(0.0, T1, int(round(T1 / SAVE)) + 1)
    sol = solve_ivp(scipy_rhs, (0.0, T1), y0, method=method, t_eval=t_eval, rtol=tol, atol=tol)
    return sol.t, sol.y[0]


def run_jax(solver, tol):
    if isinstance(solver, jn.ExponentialEuler):
        kwargs = {"save_every": max(SAVE, solver.dt)}
    else:
        kwargs = {"rtol": tol, "atol": tol, "save_every": SAVE}
    sol = jn.simulate(jn.build_HH(CURRENT), T1, solver=solver, **kwargs)
    jax.block_until_ready(sol.ys)
    return sol.ts, sol.V


def error(ts, V, reference):
    spikes = jn.analysis.spike_times(ts, V)
    if len(spikes) != len(reference):
        return math.inf
    return float(np.max(np.abs(spikes - reference)))


def best_time(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", type=float, default=0.01, help="spike-time error, ms")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    print(
        f"{platform.processor() or platform.machine()}, JAX {jax.__version__} "
        f"({jax.devices()[0].platform}), float64; 1 s of HH at {CURRENT} µA/cm²; "
        f"target max spike-time error {args.target} ms"
    )
    ts, V = run_scipy("DOP853", 1e-12)
    reference = jn.analysis.spike_times(ts, V)
    print(f"reference: {len(reference)} spikes (SciPy DOP853, rtol = atol = 1e-12)\n")

    methods = {
        "scipy LSODA": ("scipy", "LSODA", TOLERANCES),
        "scipy Radau": ("scipy", "Radau", TOLERANCES),
        "tsit5": ("jax", jn.get_solver("tsit5"), TOLERANCES),
        "kvaerno3": ("jax", jn.get_solver("kvaerno3"), TOLERANCES),
        "kvaerno5": ("jax", jn.get_solver("kvaerno5"), TOLERANCES),
        "trbdf2": ("jax", jn.get_solver("trbdf2"), TOLERANCES),
        "kencarp4": ("jax", jn.get_solver("kencarp4"), TOLERANCES),
        "exponential_euler": ("jax", None, STEPS),
    }
    rows = []
    for name, (kind, solver, ladder) in methods.items():
        chosen = None
        for setting in ladder:
            if kind == "scipy":
                fn = lambda s=solver, t=setting: run_scipy(s, t)  # noqa: E731
            elif solver is None:
                fn = lambda t=setting: run_jax(jn.ExponentialEuler(dt=t), None)  # noqa: E731
            else:
                fn = lambda s=solver, t=setting: run_jax(s, t)  # noqa: E731
            err = error(*fn(), reference)  # also compiles
            if err <= args.target:
                chosen = (setting, err, best_time(fn, args.repeats))
                break
        rows.append((name, chosen))
        print(
            f"  {name}: "
            + (
                "no setting met the target"
                if chosen is None
                else f"{chosen[0]:g} → error {chosen[1]:.2e} ms, {chosen[2]:.3f} s"
            ),
            flush=True,
        )

    lsoda = dict(rows)["scipy LSODA"]
    print(f"\n{'method':<20}{'tol / dt':>10}{'error (ms)':>12}{'time (s)':>10}{'vs LSODA':>10}")
    for name, chosen in rows:
        if chosen is None:
            print(f"{name:<20}{'—':>10}")
            continue
        setting, err, seconds = chosen
        ratio = lsoda[2] / seconds if lsoda else float("nan")
        print(f"{name:<20}{setting:>10.0e}{err:>12.2e}{seconds:>10.3f}{ratio:>9.1f}×")
    print(
        "\n'vs LSODA' = LSODA time / method time (higher is faster); compiled JAX runs, "
        "1 s simulated, saving every 0.01 ms"
    )


if __name__ == "__main__":
    main()
