"""The `jaxneuron` command line."""

from __future__ import annotations

from enum import StrEnum

import typer

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Differentiable simulation of conductance-based neurons.",
)


@app.callback()
def _options(
    threads: int = typer.Option(
        None,
        "--threads",
        help="XLA:CPU compute threads (default: one per core). On a machine shared with "
        "other jobs, 1 keeps the speed steady: a pool of one thread per core waits at "
        "every step for the core another job has taken.",
    ),
):
    """Differentiable simulation of conductance-based neurons."""
    if threads is not None:
        from ._threads import size_cpu_threads

        try:
            size_cpu_threads(threads)
        except ValueError as err:
            raise _fail(f"--{err}") from err


class Model(StrEnum):
    hh = "hh"
    liu = "liu"
    prinz = "prinz"


class SweepModel(StrEnum):
    hh = "hh"
    liu = "liu"
    prinz = "prinz"
    pyloric = "pyloric"


def _fail(err) -> typer.Exit:
    """One line on stderr and exit status 2: how the command line answers a predictable
    failure (bad input, a failed simulation, an unusable path)."""
    typer.echo(f"error: {err}", err=True)
    return typer.Exit(2)


def _check_figure_path(path: str | None) -> None:
    """Refuse a figure path that cannot be written, before any simulation."""
    if path is None:
        return
    from pathlib import Path

    from matplotlib.figure import Figure

    target = Path(path)
    formats = Figure().canvas.get_supported_filetypes()
    suffix = target.suffix.lstrip(".").lower()
    if suffix not in formats:
        raise ValueError(
            f"--plot {path!r}: unknown figure format {suffix!r}; use one of "
            f"{', '.join(sorted(formats))}"
        )
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise ValueError(f"--plot {path!r}: the folder {str(folder)!r} does not exist")
    if target.is_dir():
        raise ValueError(f"--plot {path!r} is a folder, not a file")


def _neuron(model: Model, preset: str, current: float | None):
    """The neuron a command names, and a label: HH (default 10 µA/cm²), or a Liu or Prinz
    cell with a Prinz 2004 preset's conductances (default 0 µA/cm²)."""
    import jaxneuron as jn

    if model is Model.hh:
        current = 10.0 if current is None else current
        return jn.build_HH(current, name="HH"), f"I = {current} µA/cm²"
    current = 0.0 if current is None else current
    config_cls = jn.PrinzConfig if model is Model.prinz else jn.LiuConfig
    build = jn.build_Prinz if model is Model.prinz else jn.build_Liu
    name = jn.preset_name(preset)
    neuron = build(current, name=name, config=config_cls.preset(name))
    return neuron, f"{name}, I = {current} µA/cm²"


def _enable_x64(x64: bool):
    """Run the command in float64 if ``x64``, else in float32, as its ``--x64`` help says,
    whatever the process's flag (``JAX_ENABLE_X64`` in the environment) was: an
    application entry point may choose the precision; the library never does."""
    import jax

    jax.config.update("jax_enable_x64", bool(x64))


@app.command()
def simulate(
    model: Model = typer.Argument(..., help="Which neuron: hh, liu or prinz."),
    current: float = typer.Option(
        None, help="Injected current, µA/cm² (default 10 for hh, 0 for liu/prinz)."
    ),
    preset: str = typer.Option(
        "AB/PD 2", help="liu/prinz: a Prinz 2004 cell (AB/PD 1-5, LP 1-5, PY 1-6)."
    ),
    t1: float = typer.Option(200.0, help="Duration, ms."),
    solver: str = typer.Option(
        None,
        help="tsit5, kvaerno3, kvaerno5, trbdf2, kencarp4, kencarp5, exponential_euler "
        "(default: the model's, tsit5 for hh and kvaerno5 for liu/prinz).",
    ),
    dt: float = typer.Option(0.01, help="Step of exponential_euler, ms."),
    save_every: float = typer.Option(0.05, help="Save interval, ms."),
    plot: str = typer.Option(None, help="Write a voltage figure to this file (png, pdf, svg)."),
    x64: bool = typer.Option(False, "--x64", help="Simulate in float64 (default float32)."),
):
    """Simulate one neuron and print its spike count, firing rate and activity class."""
    _enable_x64(x64)
    import jaxneuron as jn

    try:
        _check_figure_path(plot)
        neuron, label = _neuron(model, preset, current)
        if solver is None:
            chosen = jn.default_solver(neuron)
        else:
            kwargs = {"dt": dt} if solver.lower() == "exponential_euler" else {}
            chosen = jn.get_solver(solver, **kwargs)
        sol = jn.simulate(neuron, t1, solver=chosen, save_every=save_every)
    except (ValueError, TypeError, KeyError, OSError, jn.SimulationError) as err:
        raise _fail(err) from err
    spikes = jn.analysis.spike_times(sol.ts, sol.V)
    rate = len(spikes) / (t1 / 1000.0)
    typer.echo(f"{model.value}: {label}, {t1} ms, solver {sol.solver_name}")
    typer.echo(f"spikes: {len(spikes)}")
    typer.echo(
        f"rate: {rate:.2f} Hz (count / duration); "
        f"{jn.analysis.firing_rate(sol.ts, sol.V):.2f} Hz (1 / mean ISI)"
    )
    start = min(t1 / 3, 2000.0)
    typer.echo(f"class after {start:g} ms: {jn.analysis.classify(sol.ts, sol.V, start=start)}")
    metrics = jn.analysis.burst_metrics(sol.ts, sol.V, start=start)
    if metrics["n_bursts"] >= 3:
        typer.echo(
            f"burst period {metrics['period']:.1f} ms, duty cycle "
            f"{metrics['duty_cycle']:.3f}, {metrics['spikes_per_burst']:.1f} spikes/burst"
        )
    if plot:
        ax = jn.plot.plot_voltage(sol, spikes=spikes)
        ax.set_title(f"{model.value}, {label}")
        typer.echo(f"figure: {jn.plot.save(ax, plot)}")


@app.command()
def pyloric(
    ab_pd: str = typer.Option("AB/PD 2", help="AB/PD cell (Prinz 2004: AB/PD 1-5)."),
    lp: str = typer.Option("LP 4", help="LP cell (LP 1-5)."),
    py: str = typer.Option("PY 1", help="PY cell (PY 1-6)."),
    t1: float = typer.Option(12_000.0, help="Duration, ms."),
    dt: float = typer.Option(0.025, help="Exponential-Euler step, ms."),
    plot: str = typer.Option(None, help="Write the three traces to this file."),
    x64: bool = typer.Option(False, "--x64", help="Simulate in float64 (default float32)."),
):
    """Simulate the Prinz et al. 2004 pyloric circuit and print its rhythm."""
    _enable_x64(x64)
    import numpy as np

    import jaxneuron as jn

    try:
        _check_figure_path(plot)
        net = jn.pyloric_circuit(ab_pd, lp, py)
        sol = jn.simulate(net, t1, solver=jn.ExponentialEuler(dt=dt), save_every=0.25)
    except (ValueError, TypeError, KeyError, OSError, jn.SimulationError) as err:
        raise _fail(err) from err
    ts, V = np.asarray(sol.ts), np.asarray(sol.V)
    traces = {name: V[:, i] for i, name in enumerate(net.neuron_names)}
    start = min(t1 / 4, 3000.0)
    try:
        phases = jn.analysis.burst_phases(ts, traces, "AB/PD", start=start)
    except ValueError as err:
        typer.echo(f"no rhythm: {err}")
        raise typer.Exit(1) from err
    typer.echo(
        f"pyloric circuit ({ab_pd}, {lp}, {py}), {t1:g} ms: "
        f"pyloric = {jn.analysis.is_pyloric(phases)}, "
        f"period {phases['AB/PD']['period']:.0f} ms"
    )
    prinz = jn.analysis.pyloric_rhythm(ts, traces, start=start)
    typer.echo(
        f"Prinz et al. 2004's routine: pyloric-like = {prinz['pyloric_like']} "
        f"({prinz['rhythm_status']}), {prinz['criteria_met']} of 15 criteria"
    )
    for name, p in phases.items():
        typer.echo(
            f"{name:<6} burst phase {p['onset']:.3f} – {p['offset']:.3f}, "
            f"{p['bursts_per_cycle']:.2f} bursts per cycle"
        )
    if plot:
        axes = jn.plot.plot_traces(ts, traces)
        typer.echo(f"figure: {jn.plot.save(axes[0], plot)}")


def _parse_axis(text: str, option: str):
    """``NAME=LO:HI:N`` (grid) or ``NAME=LO:HI[:log]`` (random) → (name, parts)."""
    name, sep, spec = text.partition("=")
    if not sep or not name:
        raise ValueError(f"{option} takes NAME=LO:HI..., got {text!r}")
    return name.strip(), spec.split(":")


@app.command("sweep")
def sweep_command(
    model: SweepModel = typer.Argument(
        SweepModel.prinz, help="Model: hh, liu, prinz or pyloric (the 2004 circuit)."
    ),
    preset: str = typer.Option(
        "AB/PD 2", help="Base parameters for liu/prinz (a Prinz 2004 preset)."
    ),
    database: bool = typer.Option(
        False,
        "--database",
        help="Sweep the Prinz 2003 database (8 conductances, 6 levels), or with pyloric the "
        "Prinz 2004 network database (cell triples × 7 synapse strengths).",
    ),
    sample: int = typer.Option(None, help="With --database: a random sample of N models."),
    grid: list[str] = typer.Option(
        None, help="NAME=LO:HI:N, N values from LO to HI (repeat for a grid)."
    ),
    random: list[str] = typer.Option(
        None, help="NAME=LO:HI or NAME=LO:HI:log, sampled uniformly (repeatable)."
    ),
    n: int = typer.Option(1000, "-n", help="Number of random samples."),
    seed: int = typer.Option(0, help="Seed of --random and --sample."),
    t1: float = typer.Option(
        None, help="Simulated time per model, ms (default 10,000; pyloric 12,000)."
    ),
    dt: float = typer.Option(0.025, help="Exponential-Euler step, ms."),
    start: float = typer.Option(None, help="Analysis start, ms (default t1/2; pyloric 2,000)."),
    rule: str = typer.Option(
        "prinz",
        help="pyloric: how bursts are cut and the rhythm classified — prinz (Prinz et al. "
        "2004's adaptive routine on buffered spike times) or gap (fixed 100-ms gaps, "
        "streaming).",
    ),
    chunk_size: int = typer.Option(
        None, help="Models per compiled chunk (default 2^14 on CPU, 2^20 on GPU)."
    ),
    out: str = typer.Option(None, help="Dataset directory (Parquet); resumes if it exists."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Discard a sweep found at --out."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Progress bar."),
    x64: bool = typer.Option(False, "--x64", help="Simulate in float64 (default float32)."),
    kernel: str = typer.Option(
        "xla", help="xla (any model) or pallas (single neurons; the time loop on chip)."
    ),
):
    """Sweep a population of models: features, activity class and status of every model,
    written chunk by chunk to --out (an interrupted sweep resumes)."""
    _enable_x64(x64)
    import jax.numpy as jnp
    import numpy as np

    import jaxneuron as jn
    from jaxneuron.analysis import PrinzAdaptive, PyloricCriteria, StreamingRhythm
    from jaxneuron.sweep import Grid, PrinzDatabase, PyloricDatabase, Random, sweep

    try:
        if model is SweepModel.hh:
            base = jn.build_HH(name="HH")
        elif model is SweepModel.pyloric:
            base = jn.pyloric_circuit()  # cells from V0 −50 mV, [Ca] 0.05 µM
        else:
            name = jn.preset_name(preset)
            config_cls = jn.PrinzConfig if model is SweepModel.prinz else jn.LiuConfig
            build = jn.build_Prinz if model is SweepModel.prinz else jn.build_Liu
            base = build(name=name, config=config_cls.preset(name))
        chosen = [bool(database), bool(grid), bool(random)]
        if sum(chosen) != 1:
            raise ValueError("give exactly one of --database, --grid or --random")
        if database and model is SweepModel.pyloric:
            space = PyloricDatabase(sample=sample, seed=seed)
        elif database:
            space = PrinzDatabase(sample=sample, seed=seed)
        elif grid:
            axes = {}
            for text in grid:
                name, parts = _parse_axis(text, "--grid")
                if name in axes:
                    raise ValueError(f"--grid names {name!r} twice")
                if len(parts) != 3:
                    raise ValueError(f"--grid takes NAME=LO:HI:N, got {text!r}")
                axes[name] = np.linspace(float(parts[0]), float(parts[1]), int(parts[2]))
            space = Grid(axes)
        else:
            ranges = {}
            for text in random:
                name, parts = _parse_axis(text, "--random")
                if name in ranges:
                    raise ValueError(f"--random names {name!r} twice")
                if len(parts) not in (2, 3):
                    raise ValueError(f"--random takes NAME=LO:HI or NAME=LO:HI:log, got {text!r}")
                ranges[name] = (float(parts[0]), float(parts[1]), *parts[2:])
            space = Random(ranges, n=n, seed=seed)
        # the pyloric circuit's rhythm: phases in AB/PD's cycle, pyloric-like, 15 criteria
        rhythm = None
        if rule not in ("prinz", "gap"):
            raise ValueError(f"--rule must be prinz or gap, got {rule!r}")
        if model is SweepModel.pyloric:
            # the database protocol of scripts/pyloric_database.py: 12 s, analysed from 2 s
            t1 = 12_000.0 if t1 is None else t1
            start = 2000.0 if start is None and t1 > 2000.0 else start
            rhythm = StreamingRhythm(
                ("AB/PD", "LP", "PY"),
                criteria=PyloricCriteria(),
                rule=PrinzAdaptive() if rule == "prinz" else None,
            )
        t1 = 10_000.0 if t1 is None else t1
        result = sweep(
            base,
            space,
            t1=t1,
            dt=dt,
            start=start,
            rhythm=rhythm,
            dtype=jnp.float64 if x64 else jnp.float32,
            path=out,
            chunk_size=chunk_size,
            progress=progress,
            overwrite=overwrite,
            kernel=kernel,
        )
    except (ValueError, TypeError, KeyError, OSError, MemoryError) as err:
        raise _fail(err) from err
    rate = result.models_run / max(result.seconds, 1e-9)
    cells = base.neuron_names if isinstance(base, jn.Network) else (None,)
    typer.echo(
        f"{len(result.table)} models ({result.models_run} run now in {result.seconds:.1f} s, "
        f"{rate:.0f} models/s, {rate * len(cells) * t1 / dt:.3g} neuron-steps/s)"
    )
    for cell in cells:
        if cell is not None:
            typer.echo(f"{cell}:")
        for cls, fraction in result.class_fractions(cell).items():
            typer.echo(f"  {cls:<10} {100 * fraction:6.2f}%")
    if rhythm is not None:
        y0 = dict(zip(base.state_names, base.initial_state(), strict=True))
        typer.echo(
            f"protocol: {t1:g} ms per network, analysis from "
            f"{t1 / 2 if start is None else start:g} ms, exponential Euler dt {dt:g} ms, "
            f"{'float64' if x64 else 'float32'}; every cell from V {float(y0['AB/PD.V']):g} "
            f"mV, [Ca] {float(y0['AB/PD.Ca']):g} µM, gates at steady state; spikes at 0 mV; "
            + ("bursts and rhythm by Prinz et al. 2004's routine (PrinzAdaptive)"
               if rule == "prinz" else "bursts split at 100 ms (streaming)")
        )  # fmt: skip
        published = {"pyloric_like": "≈ 20", "pyloric": "≈ 2.2"} if database else {}
        for column, label in (("pyloric_like", "pyloric-like"), ("pyloric", "15 criteria")):
            p, low, high = result.fraction(column)
            note = f"; Prinz et al. 2004: {published[column]}%" if published else ""
            typer.echo(
                f"{label:<13} {100 * p:6.2f}% (95% Wilson interval {100 * low:.2f}–"
                f"{100 * high:.2f}%{note})"
            )
    if out:
        typer.echo(f"dataset: {out}/parts (Parquet){'' if result.complete else ', incomplete'}")


@app.command("fit")
def fit_command(
    data: str = typer.Argument(
        ...,
        help="A recording (.nwb, or a format neo reads: .abf, .smr, .nix, …) or a "
        "features file (.json).",
    ),
    model: Model = typer.Option(Model.hh, help="The model: hh, liu or prinz."),
    preset: str = typer.Option(
        "AB/PD 2", help="liu/prinz: the Prinz 2004 cell whose conductances start the fit."
    ),
    free: list[str] = typer.Option(
        ..., "--free", help="A parameter to fit, by name or glob (Na.g, '*.g'); repeat."
    ),
    area: float = typer.Option(
        None, help="Recordings: the cell's membrane area, cm² (1e-4 = 10,000 µm²)."
    ),
    junction_potential: float = typer.Option(
        0.0, help="Recordings: the liquid-junction potential, mV (V_pipette − V_bath)."
    ),
    fit_junction: bool = typer.Option(
        False, "--fit-junction", help="Recordings: fit the junction potential too."
    ),
    sweeps: str = typer.Option(None, help="Recordings: sweeps to fit, e.g. 0,2,5 (default all)."),
    start: float = typer.Option(0.0, help="Recordings: start of the fitted window, ms."),
    stop: float = typer.Option(None, help="Recordings: end of the fitted window, ms."),
    dt: float = typer.Option(0.025, help="Exponential-Euler step, ms."),
    anneal: bool = typer.Option(
        False, "--anneal", help="Fit by annealed synchronisation (free-running bursters)."
    ),
    steps: int = typer.Option(100, help="Optimiser steps (per stage with --anneal)."),
    plot: str = typer.Option(None, help="Write the data against the fit to this file."),
    x64: bool = typer.Option(False, "--x64", help="Fit in float64 (default float32)."),
):
    """Fit a model's parameters to a recording or to features: prints the fit, whether it
    reached the data's optimum, and which parameter combinations the data determine."""
    _enable_x64(x64)
    import warnings

    import jaxneuron as jn
    import jaxneuron.fit as jf

    from ._fit_command import draw, identifiability_lines, read_data

    try:
        _check_figure_path(plot)
        if steps < 1:
            raise ValueError(f"--steps must be ≥ 1, got {steps}")
        fit_data = read_data(
            data,
            area_cm2=area,
            junction_potential=junction_potential,
            fit_junction=fit_junction,
            sweeps=sweeps,
            start=start,
            stop=stop,
            dt=dt,
        )
        if anneal and not isinstance(fit_data.loss, jf.ProtocolLoss | jf.TraceLoss):
            raise ValueError("--anneal fits a recording (a trace), not features")
        neuron, label = _neuron(model, preset, fit_data.current)
        if fit_data.recording is not None:
            label = label.split(",")[0] if model is not Model.hh else "HH"
            label += ", driven by the recorded currents"
        names = jf.select_parameters(neuron, list(free)).names
        typer.echo(f"data: {fit_data.description}")
        typer.echo(f"model: {model.value} ({label}); free: {', '.join(names)}")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", jf.FitWarning)
            if anneal:
                annealed = jf.anneal(neuron, fit_data.loss, list(free), steps=steps)
                typer.echo(str(annealed))
                result = annealed.result
            else:
                result = jf.fit(neuron, fit_data.loss, list(free), steps=steps)
        typer.echo(str(result))
        for w in caught:  # the diagnosis, already printed, is not repeated
            if issubclass(w.category, jf.FitWarning) and str(w.message) != result.diagnosis:
                typer.echo(f"warning: {w.message}")
        ljp = result.values.get("junction_potential", junction_potential)
        model_names = [n for n in result.names if n != "junction_potential"]
        fixed = fit_data.fixed_loss(ljp)
        typer.echo("\n".join(identifiability_lines(result.model, fixed, model_names)))
        if plot:
            written = draw(fit_data, neuron, result.model, plot, junction_potential=ljp)
            typer.echo(f"figure: {written}")
    except (ValueError, TypeError, KeyError, OSError, jn.SimulationError) as err:
        raise _fail(err) from err
    if not result.converged:
        raise typer.Exit(1)


@app.command()
def demo(
    out: str = typer.Option("figures", help="Folder for the figures."),
    x64: bool = typer.Option(False, "--x64", help="Run in float64."),
):
    """The tour: prints results and writes figures."""
    _enable_x64(x64)
    from .demo import run

    run(out, echo=typer.echo)


@app.command()
def solvers():
    """List the solver names `simulate --solver` accepts."""
    from .integrate import SOLVERS

    for name in SOLVERS:
        typer.echo(name)


def main():
    app()


if __name__ == "__main__":
    main()
