"""`jaxneuron demo`: the README's main job — a short tour that prints results and writes figures."""

from __future__ import annotations

import time
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from . import plot
from .analysis import StreamingFeatures, classify, features, firing_rate, spike_times
from .integrate import ExponentialEuler, get_solver, simulate
from .networks import cobahh
from .neurons import PRINZ_2004, HHConfig, PrinzConfig, build_HH, build_Prinz
from .stimuli import Step


def _timed(fn):
    start = time.perf_counter()
    out = jax.block_until_ready(fn())
    return out, time.perf_counter() - start


def hh_demo(out: Path, echo=print) -> dict:
    """HH: a trace, the solvers side by side, an f–I curve from a vmapped population."""
    results = {}
    neuron = build_HH(Step(amplitude=10.0, onset=20.0, offset=180.0), name="HH")
    sol = simulate(neuron, 200.0, solver="tsit5", save_every=0.02)
    spikes = spike_times(sol.ts, sol.V)
    echo(
        f"HH, 10 µA/cm² step from 20 to 180 ms: {len(spikes)} spikes, "
        f"{firing_rate(sol.ts, sol.V, start=60.0):.1f} Hz"
    )
    results["hh_spikes"] = len(spikes)
    ax = plot.plot_voltage(sol, spikes=spikes)
    ax.set_title("Hodgkin–Huxley, 10 µA/cm² step (Tsit5)")
    results["trace"] = plot.save(ax, out / "hh_trace.png")

    echo("\nsolver        spikes  steps     time (s, compiled)")
    for name in ("tsit5", "kvaerno5", "trbdf2", "kencarp4", "exponential_euler"):
        solver = ExponentialEuler(dt=0.01) if name == "exponential_euler" else get_solver(name)
        simulate(build_HH(10.0), 200.0, solver=solver)  # compile
        s, seconds = _timed(lambda solver=solver: simulate(build_HH(10.0), 200.0, solver=solver))
        echo(f"{name:<13} {len(spike_times(s.ts, s.V)):>6}  {int(s.num_steps):>6}  {seconds:9.4f}")

    currents = jnp.linspace(0.0, 50.0, 101)

    @jax.jit
    def population(currents):
        def one(current):
            return simulate(build_HH(current), 500.0, solver=ExponentialEuler(dt=0.01)).V

        return jax.vmap(one)(currents)

    V, seconds = _timed(lambda: population(currents))
    ts = np.arange(V.shape[1]) * 0.1
    rates = [firing_rate(ts, np.asarray(v), start=100.0) for v in V]
    echo(
        f"\nf–I curve: {len(currents)} neurons × 500 ms in one vmapped call, {seconds:.2f} s "
        "(including compilation)"
    )
    echo(
        f"rheobase for tonic firing ≈ {float(currents[np.argmax(np.asarray(rates) > 0)]):.1f} "
        f"µA/cm²; rate at 50 µA/cm² = {rates[-1]:.1f} Hz"
    )
    ax = plot.plot_fi_curve(currents, rates)
    ax.set_title("HH f–I curve")
    results["fi"] = plot.save(ax, out / "hh_fi_curve.png")

    config = HHConfig(Na_g=120.0, K_g=36.0, Leak_g=0.3)

    def loss(amplitude):
        model = build_HH(amplitude, config=config)
        return jnp.mean(simulate(model, 50.0, solver=ExponentialEuler(dt=0.01)).V)

    grad = jax.grad(loss)(jnp.asarray(10.0, dtype=jnp.result_type(float)))
    echo(
        f"\nd(mean V over 50 ms)/d(I) at 10 µA/cm² = {float(grad):.4f} mV per µA/cm² "
        "(jax.grad through the exponential integrator)"
    )
    return results


def stg_demo(out: Path, echo=print) -> dict:
    """Prinz neurons: AB/PD 2 bursting, the 16 cells of Prinz et al. 2004, the 159.2 factor."""
    results = {}
    t1, window = 14_000.0, 6000.0
    names = list(PRINZ_2004)
    # one static name for all: a batch must share its structure
    models = [build_Prinz(name="cell", config=PrinzConfig.preset(n)) for n in names]
    batched = jax.tree_util.tree_map(lambda *xs: jnp.stack(xs), *models)

    @eqx.filter_jit
    def population(models):
        return eqx.filter_vmap(
            lambda m: simulate(m, t1, solver=ExponentialEuler(dt=0.025), save_every=0.2)
        )(models)

    sols, seconds = _timed(lambda: population(batched))
    ts = np.asarray(sols.ts[0])
    echo(
        f"\nPrinz et al. 2004 cells alone, {t1 / 1000:g} s each, all 16 in one vmapped call "
        f"(exponential Euler, dt 0.025 ms): {seconds:.2f} s including compilation"
    )
    echo(
        f"{'cell':<9}{'class':<11}{'rate (Hz)':>10}{'period (ms)':>13}{'duty':>7}"
        f"{'spikes/burst':>14}"
    )
    chosen = ["rate", "burst_period", "duty_cycle", "spikes_per_burst"]
    for i, name in enumerate(names):
        V = np.asarray(sols.V[i])
        f = features(ts, V, chosen, start=window)  # one spike detection for all four
        echo(
            f"{name:<9}{classify(ts, V, start=window):<11}{f['rate']:>10.2f}"
            f"{f['burst_period']:>13.1f}{f['duty_cycle']:>7.3f}{f['spikes_per_burst']:>14.1f}"
        )
    keep = ts >= t1 - 3000.0
    traces = {name: np.asarray(sols.V[i])[keep] for i, name in enumerate(names)}
    axes = plot.plot_cells(ts[keep], traces)
    results["presets"] = plot.save(axes[0, 0], out / "prinz_2004_cells.png")

    abpd = models[1]
    streaming = StreamingFeatures(start=2000.0, burst_gap=200.0)
    sol = simulate(
        abpd, 8000.0, solver=ExponentialEuler(dt=0.025), save_every=0.5, features=streaming
    )
    f = {k: float(v) for k, v in sol.features.items()}
    echo(
        f"\nAB/PD 2, streaming features (updated every step, no trace needed): burst period "
        f"{f['burst_period']:.1f} ms, duty cycle {f['duty_cycle']:.3f}, "
        f"{f['spikes_per_burst']:.0f} spikes/burst, V in [{f['V_min']:.1f}, {f['V_max']:.1f}] mV"
    )
    axes = plot.plot_currentscape(abpd, sol, t_range=(5000.0, 8000.0))
    axes[0].set_title("AB/PD 2: currentscape")
    results["currentscape"] = plot.save(axes[0], out / "abpd2_currentscape.png")

    seed = PrinzConfig(Na_g=100.0 * 159.2, CaS_g=6.0 * 159.2, H_g=0.01 * 159.2, V0=-60.0)
    sol = simulate(
        build_Prinz(name="seed ×159.2", config=seed),
        3000.0,
        solver=ExponentialEuler(dt=0.0025),
        save_every=0.05,
    )
    echo(
        f"\nMTKNeuralToolkit's PrinzConfig(Na_g=100*159.2, CaS_g=6*159.2, H_g=0.01*159.2): "
        f"{classify(sol.ts, sol.V, start=1000.0)}, "
        f"{firing_rate(sol.ts, sol.V, start=1000.0):.1f} Hz; V rests at {float(sol.V[-1]):.1f} mV "
        f"from t = {_settle_time(sol):.0f} ms (depolarisation block: Na is 159× stronger "
        "than K). 159.2 is a factor of unknown origin, not biology (see jaxneuron.neurons.stg)"
    )
    return results


def circuit_demo(out: Path, echo=print) -> dict:
    """The Prinz et al. 2004 pyloric circuit: triphasic rhythm, phases, a figure."""
    from .analysis import burst_phases, cycle_order, is_pyloric
    from .circuits import pyloric_circuit

    net = pyloric_circuit("AB/PD 2", "LP 4", "PY 1")
    sol, seconds = _timed(
        lambda: simulate(net, 12_000.0, solver=ExponentialEuler(dt=0.025), save_every=0.25)
    )
    ts, V = np.asarray(sol.ts), np.asarray(sol.V)
    traces = {name: V[:, i] for i, name in enumerate(net.neuron_names)}
    phases = burst_phases(ts, traces, "AB/PD", start=3000.0)
    echo(
        f"\nPyloric circuit (AB/PD 2, LP 4, PY 1; 7 synapses), 12 s in {seconds:.2f} s "
        f"including compilation: pyloric = {is_pyloric(phases)}, order "
        f"{' → '.join(cycle_order(phases))}, period {phases['AB/PD']['period']:.0f} ms"
    )
    for name, p in phases.items():
        echo(f"  {name:<6} burst phase {p['onset']:.3f} – {p['offset']:.3f}")
    keep = ts > 6000.0
    axes = plot.plot_traces(ts[keep], {k: v[keep] for k, v in traces.items()})
    axes[0].set_title("The pyloric circuit (Prinz et al. 2004)")
    return {"pyloric": plot.save(axes[0], out / "pyloric_circuit.png")}


def sweep_and_fit_demo(out: Path, echo=print) -> dict:
    """A population sweep (class map) and a gradient fit (HH conductances from a trace)."""
    from .analysis import ACTIVITY_CLASSES
    from .fit import TraceLoss, fit, sensitivity
    from .stimuli import PulseTrain
    from .sweep import Grid, sweep

    cas, kd = np.linspace(0.0, 12.0, 9), np.linspace(25.0, 200.0, 6)
    base = build_Prinz(config=PrinzConfig.preset("AB/PD 2"))
    grid = Grid({"Kd.g": kd, "CaS.g": cas})
    result = sweep(base, grid, t1=12_000.0, start=2000.0, progress=False)
    counts = result.table["class"].value_counts()
    echo(
        f"\nSweep: AB/PD 2 over CaS × Kd ({len(result.table)} models × 12 s, exponential "
        f"Euler, float32) in {result.seconds:.1f} s including compilation: "
        + ", ".join(f"{c} {int(counts.get(c, 0))}" for c in ACTIVITY_CLASSES)
    )
    codes = result.table["class"].map({c: i for i, c in enumerate(ACTIVITY_CLASSES)})
    ax = plot.plot_sweep_slice(
        cas,
        kd,
        codes.to_numpy().reshape(kd.size, cas.size),
        xlabel="CaS ḡ (mS/cm²)",
        ylabel="Kd ḡ (mS/cm²)",
        categories=ACTIVITY_CLASSES,
    )
    ax.set_title("AB/PD 2: activity class")
    results = {"sweep": plot.save(ax, out / "sweep_cas_kd.png")}

    stimulus = PulseTrain(amplitude=20.0, onset=10.0, width=1.0, period=25.0, count=8)
    solver = ExponentialEuler(dt=0.025)
    clean = simulate(build_HH(stimulus), 200.0, solver=solver, save_every=0.1).V
    noisy = clean + 2.0 * jax.random.normal(jax.random.key(0), clean.shape)
    loss = TraceLoss.from_recording(
        noisy, sampling_rate_hz=10_000.0, stimulus=stimulus, solver=solver, start=5.0
    )
    start = HHConfig(Na_g=95.0, K_g=45.0)
    fitted = fit(build_HH(stimulus, config=start), loss, ["Na.g", "K.g"])
    echo(
        f"Fit: HH Na.g, K.g from a noisy trace (2 mV noise), from 95 / 45, with the "
        f"defaults (L-BFGS, log transforms): {fitted.values['Na.g']:.2f} / "
        f"{fitted.values['K.g']:.2f} mS/cm² (true 120 / 36) after {fitted.steps} steps "
        f"({fitted.stop_reason}) in {fitted.wall_time_s:.1f} s, {fitted.gradient} mode; "
        f"{fitted.diagnosis}"
    )
    report = sensitivity(build_HH(stimulus), loss, ["Na.g", "K.g", "Leak.g"])
    errors = report.standard_errors(4.0 / len(noisy))
    echo(
        "Identifiability of Na.g, K.g, Leak.g from this trace: condition number "
        f"{report.condition_number:.3g}; standard errors "
        + ", ".join(f"{n} {e:.2%}" for n, e in errors.items())
    )
    results["fit"] = fitted.values
    return results


def network_demo(out: Path, echo=print) -> dict:
    """COBAHH (Brette et al. 2007): 1,000 Traub–Miles neurons, E/I populations."""
    net, y0, g0 = cobahh(1000, p=None, indegree=80, seed=0)

    def run():
        return simulate(net, 300.0, solver=ExponentialEuler(0.1), y0=y0, g0=g0,
                        refractory=3.0, start=50.0, raster=20_000)  # fmt: skip

    sol, seconds = _timed(run)
    echo(
        f"\nCOBAHH network (Brette et al. 2007): 800 E + 200 I Traub–Miles neurons, 80 "
        f"synapses each, 300 ms at dt 0.1 ms in {seconds:.1f} s (including compilation): "
        f"E {float(sol.rate('E')):.1f} Hz (ISI CV {float(sol.isi_cv('E')):.2f}), "
        f"I {float(sol.rate('I')):.1f} Hz"
    )
    ax = plot.plot_raster(sol.spike_trains("E")[:40])
    ax.set_title("COBAHH: 40 excitatory neurons")
    return {
        "network_rate_E": float(sol.rate("E")),
        "raster": plot.save(ax, out / "cobahh_raster.png"),
    }


def regulation_demo(out: Path, echo=print) -> dict:
    """Liu et al. (1998): a neuron that tunes its own conductances with calcium sensors."""
    from .neurons import LiuConfig, RegulatedNeuron, build_Liu, liu_1998_regulation
    from .neurons.regulation import LIU_1998_FIG3

    start = LIU_1998_FIG3["A"]["start"]  # mS/cm²
    neuron = build_Liu(config=LiuConfig(**{f"{c}_g": g for c, g in start.items()}, Leak_g=0.01))
    model = RegulatedNeuron(neuron, liu_1998_regulation())
    solver = ExponentialEuler(dt=0.05)
    sol, seconds = _timed(lambda: simulate(model, 60_000.0, solver=solver, save_every=10.0))
    after = simulate(model, 3000.0, solver=solver, save_every=0.1, y0=sol.ys[-1])
    before = simulate(neuron, 3000.0, solver=solver, save_every=0.1)
    echo(
        f"\nLiu et al. 1998 regulation, 60 s of model time in {seconds:.2f} s including "
        f"compilation: {classify(before.ts, before.V, start=1000.0)} before, "
        f"{classify(after.ts, after.V)} after"
    )
    echo("  " + ", ".join(f"{c} {start[c]:.3g} → {float(sol[c + '.g'][-1]):.3g}" for c in start))
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3.5))
    for c in start:
        ax.semilogy(np.asarray(sol.ts) / 1000.0, np.asarray(sol[f"{c}.g"]), label=c)
    ax.set(xlabel="time (s)", ylabel="ḡ (mS/cm²)")
    ax.set_title("Conductances set by calcium sensors (Liu et al. 1998, Fig. 3 model A)")
    ax.legend(ncol=4, fontsize=8)
    return {"regulation": plot.save(fig, out / "regulation.png")}


def _settle_time(sol) -> float:
    V = np.asarray(sol.V)
    moving = np.nonzero(np.abs(V - V[-1]) > 1.0)[0]
    return float(np.asarray(sol.ts)[moving[-1] + 1]) if moving.size else 0.0


def run(out_dir: str = "figures", echo=print) -> dict:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    echo(
        f"jaxneuron demo — JAX {jax.__version__} on {jax.devices()[0].platform}, "
        f"default float {jnp.result_type(float)}\n"
    )
    results = hh_demo(out, echo)
    results.update(stg_demo(out, echo))
    results.update(circuit_demo(out, echo))
    results.update(sweep_and_fit_demo(out, echo))
    results.update(network_demo(out, echo))
    results.update(regulation_demo(out, echo))
    echo(f"\nfigures written to {out.resolve()}")
    return results
