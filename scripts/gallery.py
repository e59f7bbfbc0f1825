"""Draw the figures of the documentation's gallery (``docs/gallery.md``) into
``docs/gallery/*.png``.

Each figure is one function below, drawn with `jaxneuron.plot`; the gallery page shows each
function's code under its figure (the ``--8<--`` markers delimit them). The simulations are
short (seconds each on a laptop CPU); the database figures use small samples, which their
captions state. PNGs are written at 90 dpi and reduced to a 64-colour palette.

    python scripts/gallery.py                 # every figure
    python scripts/gallery.py hh_fi pyloric   # some of them
"""

from __future__ import annotations

import io
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import equinox as eqx  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import jaxneuron as jn  # noqa: E402
from jaxneuron import analysis as an  # noqa: E402
from jaxneuron import plot  # noqa: E402

OUT = Path(__file__).parent.parent / "docs" / "gallery"


# --8<-- [start:hh_fi]
def hh_fi():
    """A Hodgkin–Huxley neuron: a step response and the f–I curve of 101 neurons, one
    vmapped call."""
    fig, (ax_trace, ax_fi) = plt.subplots(1, 2, figsize=(10, 3.2), width_ratios=[2, 1])
    neuron = jn.build_HH(jn.Step(amplitude=10.0, onset=20.0, offset=180.0))
    sol = jn.simulate(neuron, 200.0, solver="tsit5", save_every=0.02)
    plot.plot_voltage(sol, ax_trace, spikes=an.spike_times(sol.ts, sol.V))
    ax_trace.set_title("10 µA/cm² from 20 to 180 ms (Tsit5)", fontsize=10)

    @jax.jit
    def population(currents):
        def one(current):
            return jn.simulate(jn.build_HH(current), 500.0, solver=jn.ExponentialEuler(dt=0.01)).V

        return jax.vmap(one)(currents)

    currents = jnp.linspace(0.0, 50.0, 101)
    V = np.asarray(population(currents))
    ts = np.arange(V.shape[1]) * 0.1
    rates = [an.firing_rate(ts, v, start=100.0) for v in V]
    plot.plot_fi_curve(currents, rates, ax_fi)
    ax_fi.set_title("f–I curve", fontsize=10)
    return fig


# --8<-- [end:hh_fi]


# --8<-- [start:prinz_cells]
def prinz_cells():
    """The 16 model cells of Prinz, Bucher & Marder (2004), each alone, simulated together
    in one vmapped call; the last 3 s of 14 s, titled with their activity class."""
    names = list(jn.PRINZ_2004)
    models = [jn.build_Prinz(name="cell", config=jn.PrinzConfig.preset(n)) for n in names]
    batched = jax.tree_util.tree_map(lambda *xs: jnp.stack(xs), *models)
    sols = eqx.filter_jit(
        eqx.filter_vmap(
            lambda m: jn.simulate(m, 14_000.0, solver=jn.ExponentialEuler(dt=0.025), save_every=0.5)
        )
    )(batched)
    ts = np.asarray(sols.ts[0])
    keep = ts >= 11_000.0
    traces = {name: np.asarray(sols.V[i])[keep] for i, name in enumerate(names)}
    titles = {
        name: f"{name}: {an.classify(ts, np.asarray(sols.V[i]), start=6000.0)}"
        for i, name in enumerate(names)
    }
    axes = plot.plot_cells(ts[keep], traces, titles=titles)
    return axes[0, 0].figure


# --8<-- [end:prinz_cells]


# --8<-- [start:pyloric]
def pyloric():
    """The pyloric circuit (AB/PD 2, LP 4, PY 1; Prinz et al. 2004): the triphasic rhythm
    and each cell's burst phases in the AB/PD cycle."""
    net = jn.pyloric_circuit("AB/PD 2", "LP 4", "PY 1")
    sol = jn.simulate(net, 12_000.0, solver=jn.ExponentialEuler(dt=0.025), save_every=0.25)
    ts, V = np.asarray(sol.ts), np.asarray(sol.V)
    traces = {name: V[:, i] for i, name in enumerate(net.neuron_names)}
    phases = an.burst_phases(ts, traces, "AB/PD", start=3000.0)

    fig = plt.figure(figsize=(10, 4.2))
    grid = fig.add_gridspec(3, 2, width_ratios=[2.2, 1])
    axes = [fig.add_subplot(grid[0, 0])]
    axes += [fig.add_subplot(grid[i, 0], sharex=axes[0]) for i in (1, 2)]
    keep = ts > 8000.0
    plot.plot_traces(ts[keep], {k: v[keep] for k, v in traces.items()}, axes)
    ax_phase = fig.add_subplot(grid[:, 1])
    plot.plot_phases(phases, ax_phase)
    period = phases["AB/PD"]["period"]
    ax_phase.set_title(f"period {period:.0f} ms; pyloric: {an.is_pyloric(phases)}", fontsize=10)
    return fig


# --8<-- [end:pyloric]


# --8<-- [start:currentscape]
def currentscape():
    """AB/PD 2 (Prinz 2004): the membrane potential, and each ionic current's share of the
    total inward and outward current (a currentscape, after Alonso & Marder 2019)."""
    model = jn.build_Prinz(config=jn.PrinzConfig.preset("AB/PD 2"))
    sol = jn.simulate(model, 8000.0, solver=jn.ExponentialEuler(dt=0.025), save_every=0.5)
    axes = plot.plot_currentscape(model, sol, t_range=(5000.0, 8000.0))
    return axes[0].figure


# --8<-- [end:currentscape]


# --8<-- [start:class_map]
def class_map():
    """A sweep: AB/PD 2 over a 13 × 11 grid of CaS and Kd conductances (143 models × 12 s,
    analysed after 2 s, in the sweep engine): activity class and burst period."""
    from jaxneuron.sweep import Grid, sweep

    base = jn.build_Prinz(config=jn.PrinzConfig.preset("AB/PD 2"))
    cas, kd = np.linspace(0.0, 12.0, 13), np.linspace(25.0, 200.0, 11)
    table = sweep(
        base, Grid({"Kd.g": kd, "CaS.g": cas}), t1=12_000.0, start=2000.0, progress=False
    ).table
    shape = (kd.size, cas.size)  # the last parameter of the grid varies fastest
    codes = table["class"].map({c: i for i, c in enumerate(an.ACTIVITY_CLASSES)})
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    labels = {"xlabel": "CaS ḡ (mS/cm²)", "ylabel": "Kd ḡ (mS/cm²)"}
    plot.plot_sweep_slice(
        cas, kd, codes.to_numpy().reshape(shape), axes[0], categories=an.ACTIVITY_CLASSES, **labels
    )
    axes[0].set_title("activity class", fontsize=10)
    periods = table["burst_period"].to_numpy().reshape(shape)
    plot.plot_sweep_slice(cas, kd, periods, axes[1], label="burst period (ms)", **labels)
    axes[1].set_title("burst period (bursters)", fontsize=10)
    for ax in axes:
        ax.plot(6.0, 100.0, "k*", ms=10)  # AB/PD 2 itself
    return fig


# --8<-- [end:class_map]


# --8<-- [start:fit]
def fit():
    """A gradient fit: the Na and K conductances of a Hodgkin–Huxley neuron from a noisy
    voltage trace (2 mV noise, 10 kHz), from a wrong start (95 / 45 mS/cm²; the truth is
    120 / 36), with `jaxneuron.fit.fit`'s defaults (L-BFGS, log transforms)."""
    from jaxneuron.fit import TraceLoss
    from jaxneuron.fit import fit as fit_parameters

    stimulus = jn.PulseTrain(amplitude=20.0, onset=10.0, width=1.0, period=25.0, count=8)
    solver = jn.ExponentialEuler(dt=0.025)
    clean = jn.simulate(jn.build_HH(stimulus), 200.0, solver=solver, save_every=0.1).V
    recording = np.asarray(clean + 2.0 * jax.random.normal(jax.random.key(0), clean.shape))
    loss = TraceLoss.from_recording(
        recording, sampling_rate_hz=10_000.0, stimulus=stimulus, solver=solver, start=5.0
    )
    start = jn.build_HH(stimulus, config=jn.HHConfig(Na_g=95.0, K_g=45.0))
    result = fit_parameters(start, loss, ["Na.g", "K.g"])
    ts = np.arange(len(recording)) * 0.1
    traces = {"start": loss.simulated(start), "fit": loss.simulated(result.model)}
    axes = plot.plot_fit(ts, recording, traces, result.loss_history)
    axes[0].set_xlim(5.0, 45.0)
    fitted = ", ".join(f"{n} {v:.1f}" for n, v in result.values.items())
    axes[0].set_title(f"fitted: {fitted} mS/cm² (true 120, 36)", fontsize=10)
    return axes[0].figure


# --8<-- [end:fit]


# --8<-- [start:cobahh]
def cobahh():
    """The COBAHH benchmark (Brette et al. 2007): 800 excitatory and 200 inhibitory
    Traub–Miles neurons, 80 conductance synapses each; spikes of 50 excitatory neurons over
    300 ms (dt 0.1 ms)."""
    net, y0, g0 = jn.cobahh(1000, p=None, indegree=80, seed=0)
    sol = jn.simulate_populations(
        net, 300.0, dt=0.1, y0=y0, g0=g0, refractory=3.0, start=50.0, raster=20_000
    )
    times, ids, _ = sol.raster["E"]
    times, ids = np.asarray(times), np.asarray(ids)
    keep = np.isfinite(times) & (ids < 50)
    ax = plot.plot_raster([times[keep & (ids == i)] for i in range(50)])
    ax.figure.set_size_inches(9, 3.6)
    rate_E, rate_I = float(sol.rate("E")), float(sol.rate("I"))
    ax.set_title(f"E {rate_E:.1f} Hz, I {rate_I:.1f} Hz", fontsize=10)
    return ax.figure


# --8<-- [end:cobahh]


# --8<-- [start:pyloric_database]
def pyloric_database():
    """The Prinz et al. (2004) network database, a random sample of 400 of its 20,250,000
    networks (12 s each, analysed after 2 s): the share of each strength level of each of
    the seven synapses among all sampled networks and among the pyloric-like ones."""
    from jaxneuron.analysis import PyloricCriteria, StreamingRhythm
    from jaxneuron.sweep import PyloricDatabase, sweep

    table = sweep(
        jn.pyloric_circuit(),
        PyloricDatabase(sample=400, seed=0),
        t1=12_000.0,
        start=2000.0,
        rhythm=StreamingRhythm(("AB/PD", "LP", "PY"), criteria=PyloricCriteria()),
        progress=False,
    ).table
    table = table[table["status"] == "ok"]
    like = table[table["pyloric_like"]]
    fig, axes = plt.subplots(1, 7, figsize=(13, 2.8), sharey=True)
    for ax, (synapse, levels) in zip(axes, jn.PYLORIC_2004_LEVELS_NS.items(), strict=True):
        column = f"{synapse}.g_nS"
        groups = {f"all ({len(table)})": table[column], f"pyloric-like ({len(like)})": like[column]}
        plot.plot_level_shares(groups, levels, ax, title=f"{synapse} (nS)")
    axes[0].set_ylabel("share of networks")
    axes[0].legend(fontsize=7, loc="upper left")
    return fig


# --8<-- [end:pyloric_database]

FIGURES = [hh_fi, prinz_cells, pyloric, currentscape, class_map, fit, cobahh, pyloric_database]


def save(fig, path: Path) -> None:
    """Write ``fig`` as a 90-dpi PNG with a 64-colour palette."""
    from PIL import Image

    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=90)
    plt.close(fig)
    image = Image.open(buffer).convert("RGB").quantize(colors=64, method=Image.Quantize.MEDIANCUT)
    image.save(path, "PNG", optimize=True)


def main(names: list[str]) -> None:
    OUT.mkdir(exist_ok=True)
    chosen = [f for f in FIGURES if not names or f.__name__ in names]
    for figure in chosen:
        start = time.perf_counter()
        path = OUT / f"{figure.__name__}.png"
        save(figure(), path)
        seconds = time.perf_counter() - start
        print(f"{path.name}: {seconds:.1f} s, {path.stat().st_size / 1024:.0f} KiB", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
