"""The 16 cells of Prinz et al. (2004), each alone, with the default accurate solver
(Kvaerno5, rtol = atol = 1e-7) and with the exponential integrator at the sweeps'
dt = 0.025 ms and at dt = 0.01 ms (all 16 in one vmapped call each, float64): the
activity class over 6–14 s against the class of the independent SciPy solution of the
tests (`tests/reference_stg.py`, rtol = atol = 1e-8), from V0 = −50 mV, [Ca] = 0.05 µM,
gates at steady state. The test suite checks nine of the cells, with Kvaerno5 and with
the exponential integrator at dt = 0.025 ms; this script checks all 16, every way.

    python scripts/validate_prinz_cells.py
"""

import os
import sys
import time
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

jax.config.update("jax_enable_x64", True)

import jaxneuron as jn  # noqa: E402
from jaxneuron.analysis import classify  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent.parent / "tests"))
import reference_stg as ref  # noqa: E402

T_CLASS, WINDOW = 14_000.0, 6000.0  # ms, as in tests/test_stg.py

print(f"load average {os.getloadavg()[0]:.2f}")
agree = 0
references = {}
for name in jn.PRINZ_2004:
    began = time.perf_counter()
    rt, ry = ref.solve(ref.PRESETS[name], T_CLASS, save_every=0.1, rtol=1e-8, atol=1e-8)
    theirs = references[name] = classify(rt, ry[0], start=WINDOW)
    model = jn.build_Prinz(config=jn.PrinzConfig.preset(name, V0=-50.0, Ca0=0.05))
    sol = jn.simulate(model, T_CLASS, rtol=1e-7, atol=1e-7, save_every=0.1)
    ours = classify(sol.ts, sol.V, start=WINDOW)
    agree += ours == theirs
    flag = "" if ours == theirs else "DIFFERENT"
    seconds = time.perf_counter() - began
    print(f"{name:>8}: Kvaerno5 {ours:>9}, SciPy {theirs:>9} {flag} ({seconds:.0f} s)")
print(f"{agree}/{len(jn.PRINZ_2004)} cells in the reference class with Kvaerno5")

# the exponential integrator at the sweeps' dt = 0.025 ms and at 0.01 ms, the 16 cells in
# one vmapped call each
models = [jn.build_Prinz(config=jn.PrinzConfig.preset(n)) for n in jn.PRINZ_2004]
batched = jax.tree_util.tree_map(lambda *xs: jnp.stack(xs), *models)
fast_agree = {}
for dt in (0.025, 0.01):
    began = time.perf_counter()
    sols = eqx.filter_vmap(
        lambda m, dt=dt: jn.simulate(m, T_CLASS, solver=jn.ExponentialEuler(dt=dt), save_every=0.1)
    )(batched)
    ts = np.asarray(sols.ts[0])
    fast_agree[dt] = 0
    for i, name in enumerate(jn.PRINZ_2004):
        ours = classify(ts, np.asarray(sols.V[i]), start=WINDOW)
        theirs = references[name]
        fast_agree[dt] += ours == theirs
        flag = "" if ours == theirs else "DIFFERENT"
        print(f"{name:>8}: ExponentialEuler(dt={dt}) {ours:>9}, SciPy {theirs:>9} {flag}")
    seconds = time.perf_counter() - began
    print(
        f"{fast_agree[dt]}/{len(jn.PRINZ_2004)} cells in the reference class at dt = {dt} ms "
        f"({seconds:.0f} s)"
    )
every = [agree, *fast_agree.values()]
sys.exit(0 if all(n == len(jn.PRINZ_2004) for n in every) else 1)
