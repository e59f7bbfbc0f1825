"""The 16 cells of Prinz et al. (2004), each alone, with the default accurate solver
(Kvaerno5, rtol = atol = 1e-7): the activity class over 6–14 s against the class of the
independent SciPy solution of the tests (`tests/reference_stg.py`, rtol = atol = 1e-8),
from V0 = −50 mV, [Ca] = 0.05 µM, gates at steady state. The test suite checks nine of
the cells this way and all 16 with the exponential integrator; this script checks all 16.

    python scripts/validate_prinz_cells.py
"""

import os
import sys
import time
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)

import jaxneuron as jn  # noqa: E402
from jaxneuron.analysis import classify  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent.parent / "tests"))
import reference_stg as ref  # noqa: E402

T_CLASS, WINDOW = 14_000.0, 6000.0  # ms, as in tests/test_stg.py

print(f"load average {os.getloadavg()[0]:.2f}")
agree = 0
for name in jn.PRINZ_2004:
    began = time.perf_counter()
    rt, ry = ref.solve(ref.PRESETS[name], T_CLASS, save_every=0.1, rtol=1e-8, atol=1e-8)
    theirs = classify(rt, ry[0], start=WINDOW)
    model = jn.build_Prinz(config=jn.PrinzConfig.preset(name, V0=-50.0, Ca0=0.05))
    sol = jn.simulate(model, T_CLASS, rtol=1e-7, atol=1e-7, save_every=0.1)
    ours = classify(sol.ts, sol.V, start=WINDOW)
    agree += ours == theirs
    flag = "" if ours == theirs else "DIFFERENT"
    seconds = time.perf_counter() - began
    print(f"{name:>8}: Kvaerno5 {ours:>9}, SciPy {theirs:>9} {flag} ({seconds:.0f} s)")
print(f"{agree}/{len(jn.PRINZ_2004)} cells in the reference class")
sys.exit(0 if agree == len(jn.PRINZ_2004) else 1)
