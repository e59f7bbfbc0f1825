"""The validation tables of the docs (docs/validation.md): jaxneuron against NEURON's `hh`
(CVode), eFEL's features, and the independent SciPy solutions of the tests.

Prints Markdown tables (feature, ours, theirs, difference, convention). Needs the test
extra (`pip install -e ".[test]"`: neuron, efel, scipy).

    python scripts/compare_references.py
"""

import sys
import time
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)

import efel  # noqa: E402
import numpy as np  # noqa: E402

import jaxneuron as jn  # noqa: E402
from jaxneuron.analysis import burst_metrics, features, spike_times  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent.parent / "tests"))
import reference_hh  # noqa: E402
import reference_stg  # noqa: E402
from test_features import _efel as efel_values  # noqa: E402
from test_neuron_reference import _neuron_spikes  # noqa: E402


def row(*cells):
    print("| " + " | ".join(str(c) for c in cells) + " |")


print(f"Machine: {jax.devices()[0].device_kind}, JAX {jax.__version__}, float64.\n")
print("### Hodgkin–Huxley spike times over 1 s at 10 µA/cm² (69 spikes)\n")
t = time.perf_counter()
nrn = _neuron_spikes(tol=1e-10)
ts, y = reference_hh.solve(1000.0, current=10.0, save_every=0.001)
scipy = reference_hh.spike_times(ts, y[0])
print(f"(NEURON {time.perf_counter() - t:.0f} s with the SciPy solution)\n")
row("jaxneuron solver", "reference", "spikes", "last spike (ms)", "max abs difference (µs)")
row("---", "---", "---", "---", "---")
row("NEURON 9 `hh`, CVode rtol = atol = 1e-10", "—", len(nrn), f"{nrn[-1]:.6f}", "—")
row(
    "SciPy DOP853 (tests/reference_hh.py)",
    "NEURON",
    len(scipy),
    f"{scipy[-1]:.6f}",
    f"{np.max(np.abs(scipy - nrn)) * 1e3:.3f}",
)
for label, solver, kwargs in [
    ("Tsit5, rtol = atol = 1e-8", "tsit5", dict(rtol=1e-8, atol=1e-8)),
    ("Kvaerno5, rtol = atol = 1e-8", "kvaerno5", dict(rtol=1e-8, atol=1e-8)),
    ("exponential Euler, dt = 0.01 ms", jn.ExponentialEuler(dt=0.01), dict(save_every=0.01)),
    ("exponential Euler, dt = 0.025 ms", jn.ExponentialEuler(dt=0.025), dict(save_every=0.025)),
]:
    sol = jn.simulate(jn.build_HH(10.0), 1000.0, solver=solver, **{"save_every": 0.001, **kwargs})
    ours = spike_times(np.asarray(sol.ts), np.asarray(sol.V))
    n = min(len(ours), len(nrn))
    row(
        label,
        "NEURON",
        len(ours),
        f"{ours[-1]:.6f}",
        f"{np.max(np.abs(ours[:n] - nrn[:n])) * 1e3:.3f}",
    )

try:  # Jaxley (pip install jaxley): its HH channel in one compartment, backward Euler
    import jaxley as jx
    from jaxley.channels import HH
except ImportError:
    jx = None
for dt in (0.025, 0.01, 0.001) if jx is not None else ():
    comp = jx.Compartment()
    comp.insert(HH())
    comp.set("radius", 10.0)  # µm; area 2π·r·L
    comp.set("length", 10.0)
    comp.set("HH_eLeak", -54.4)  # Jaxley's default is −54.3 mV
    comp.set("v", -65.0)
    comp.init_states()
    area_cm2 = 2 * np.pi * 10.0 * 10.0 * 1e-8
    comp.stimulate(jx.step_current(0.0, 1001.0, 10.0 * area_cm2 * 1e3, dt, 1000.0), verbose=False)
    comp.record("v", verbose=False)
    v = np.asarray(jx.integrate(comp, delta_t=dt, t_max=1000.0))[0]
    theirs = spike_times(np.arange(v.size) * dt, v)
    n = min(len(theirs), len(nrn))
    row(
        f"(Jaxley {jx.__version__}, backward Euler, dt = {dt} ms)",
        "NEURON",
        len(theirs),
        f"{theirs[-1]:.6f}",
        f"{np.max(np.abs(theirs[:n] - nrn[:n])) * 1e3:.3f}",
    )

print("\n### AB/PD 2 (Prinz et al. 2004) over 10 s, bursts after 1 s\n")
ts, y = reference_stg.solve(
    reference_stg.PRESETS["AB/PD 2"], 10_000.0, save_every=0.025, rtol=1e-10, atol=1e-10
)
ref = burst_metrics(ts, y[0], start=1000.0)
row("jaxneuron solver", "period (ms)", "duty cycle", "spikes/burst", "period vs SciPy")
row("---", "---", "---", "---", "---")
row(
    "SciPy LSODA 1e-10 (tests/reference_stg.py)",
    f"{ref['period']:.3f}",
    f"{ref['duty_cycle']:.5f}",
    f"{ref['spikes_per_burst']:.2f}",
    "—",
)
model = jn.build_Prinz(config=jn.PrinzConfig.preset("AB/PD 2"))
for label, solver, kwargs in [
    ("Kvaerno5, rtol = atol = 1e-8", "kvaerno5", dict(rtol=1e-8, atol=1e-8)),
    ("exponential Euler, dt = 0.025 ms", jn.ExponentialEuler(dt=0.025), {}),
    ("exponential Euler, dt = 0.025 ms, float32", jn.ExponentialEuler(dt=0.025), {}),
]:
    m = jn.as_dtype(model, np.float32) if "float32" in label else model
    sol = jn.simulate(m, 10_000.0, solver=solver, save_every=0.025, **kwargs)
    got = burst_metrics(np.asarray(sol.ts, float), np.asarray(sol.V, float), start=1000.0)
    row(
        label,
        f"{got['period']:.3f}",
        f"{got['duty_cycle']:.5f}",
        f"{got['spikes_per_burst']:.2f}",
        f"{got['period'] / ref['period'] - 1:+.2e}",
    )


for title, model, t1, start in [
    ("HH at 10 µA/cm², 100–1000 ms", jn.build_HH(10.0), 1000.0, 100.0),
    ("AB/PD 2, 2–10 s", jn.build_Prinz(config=jn.PrinzConfig.preset("AB/PD 2")), 10_000.0, 2000.0),
]:
    sol = jn.simulate(model, t1, solver=jn.ExponentialEuler(dt=0.025), save_every=0.025)
    t, V = np.asarray(sol.ts), np.asarray(sol.V)
    ours = features(t, V, start=start, end=t1)
    theirs = efel_values(
        t,
        V,
        start,
        t1,
        [
            "spike_count_stimint",
            "all_ISI_values",
            "ISI_CV",
            "mean_frequency",
            "minimum_voltage",
            "maximum_voltage",
            "burst_number",
        ],
    )
    isi = np.asarray(theirs["all_ISI_values"])
    n = ours["n_spikes"]
    print(f"\n### eFEL {efel.__version__} against `jaxneuron.analysis.features`: {title}\n")
    print(
        "eFEL settings: Threshold 0 mV, interp_step = the sampling interval (0.025 ms), "
        "ignore_first_ISI False; the trace cut to the window.\n"
    )
    row("ours", "value", "eFEL", "value", "difference", "convention")
    row("---", "---", "---", "---", "---", "---")
    row(
        "n_spikes",
        n,
        "spike_count_stimint",
        int(theirs["spike_count_stimint"][0]),
        n - int(theirs["spike_count_stimint"][0]),
        "ours: up-crossings; eFEL: peaks",
    )
    row(
        "isi_mean (ms)",
        f"{ours['isi_mean']:.5f}",
        "mean(all_ISI_values)",
        f"{np.mean(isi):.5f}",
        f"{ours['isi_mean'] - np.mean(isi):+.2e}",
        "ours: interpolated crossings; eFEL: peak samples",
    )
    cv1 = ours["isi_cv"] * np.sqrt((n - 1) / (n - 2))
    row(
        "isi_cv × √((n−1)/(n−2))",
        f"{cv1:.3e}",
        "ISI_CV",
        f"{theirs['ISI_CV'][0]:.3e}",
        f"{cv1 - theirs['ISI_CV'][0]:+.2e}",
        "ours ddof 0, eFEL ddof 1",
    )
    row(
        "mean_frequency (Hz)",
        f"{ours['mean_frequency']:.4f}",
        "mean_frequency",
        f"{theirs['mean_frequency'][0]:.4f}",
        f"{ours['mean_frequency'] - theirs['mean_frequency'][0]:+.2e}",
        "n / (last spike − start); eFEL's last spike is a peak",
    )
    row(
        "V_min (mV)",
        f"{ours['V_min']:.6f}",
        "minimum_voltage",
        f"{theirs['minimum_voltage'][0]:.6f}",
        f"{ours['V_min'] - theirs['minimum_voltage'][0]:+.1e}",
        "same samples",
    )
    row(
        "V_max (mV)",
        f"{ours['V_max']:.6f}",
        "maximum_voltage",
        f"{theirs['maximum_voltage'][0]:.6f}",
        f"{ours['V_max'] - theirs['maximum_voltage'][0]:+.1e}",
        "same samples",
    )
    bn = theirs["burst_number"]
    row(
        "n_bursts",
        ours["n_bursts"],
        "burst_number",
        "—" if bn is None else int(bn[0]),
        "—",
        "ours: complete bursts, regular trains none; eFEL: its own detector",
    )
