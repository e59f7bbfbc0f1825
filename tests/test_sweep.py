"""The sweep engine, parameter spaces, the dataset store, resume and sharding."""

import os
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest

import jaxneuron as jn
from jaxneuron.analysis import StreamingFeatures, classify
from jaxneuron.sweep import Engine, Grid, PrinzDatabase, Random, Table, run_pallas, sweep
from jaxneuron.sweep._store import SweepStore

NAMES = tuple(f"{c}.g" for c in jn.CHANNEL_ORDER)


def engine_for(model, names, t1, dt, dtype, **kwargs):
    return Engine(jn.as_dtype(model, dtype), tuple(names), t1, dt, **kwargs)


# database models of three classes (from a 2,000-model sample), and AB/PD 2's numbers
MODELS = [1727, 1035867, 586340, 860000, 1200000]


def database_values(numbers):
    g = jn.prinz_2003_conductances(np.asarray(numbers))
    return {n: g[:, i] for i, n in enumerate(NAMES)}


# ---- spaces ---------------------------------------------------------------------------


def test_grid_order_and_length():
    grid = Grid({"a.g": [1.0, 2.0], "b.g": [10.0, 20.0, 30.0]})
    assert len(grid) == 6
    v = grid.values(0, 6)
    assert v["a.g"].tolist() == [1, 1, 1, 2, 2, 2]
    assert v["b.g"].tolist() == [10, 20, 30, 10, 20, 30]
    assert grid.values(4, 6)["b.g"].tolist() == [20, 30]


def test_random_is_reproducible_and_in_range():
    space = Random({"Na.g": (0.0, 500.0), "H.g": (1e-3, 0.1, "log")}, n=1000, seed=3)
    again = Random({"Na.g": (0.0, 500.0), "H.g": (1e-3, 0.1, "log")}, n=1000, seed=3)
    v = space.values(0, 1000)
    np.testing.assert_array_equal(v["Na.g"], again.values(0, 1000)["Na.g"])
    assert 0 <= v["Na.g"].min() and v["Na.g"].max() <= 500
    # log-uniform: the median is the geometric mean of the bounds
    assert np.median(v["H.g"]) == pytest.approx(1e-2, rel=0.2)
    with pytest.raises(ValueError, match="low < high"):
        Random({"Na.g": (5.0, 1.0)}, n=3)


def test_prinz_database_space():
    full = PrinzDatabase()
    assert len(full) == jn.PRINZ_2003_SIZE
    v = full.values(10, 13)
    np.testing.assert_array_equal(
        np.stack([v[n] for n in NAMES], axis=1), jn.prinz_2003_conductances(np.arange(11, 14))
    )
    sample = PrinzDatabase(sample=500, seed=1)
    numbers = sample.labels(0, 500)["model_number"]
    assert len(set(numbers)) == 500 and np.all(np.diff(numbers) > 0)
    assert numbers.min() >= 1 and numbers.max() <= jn.PRINZ_2003_SIZE


# ---- the engine -------------------------------------------------------------------------


def test_engine_equals_simulate_with_streaming_features():
    """The batch-minor engine computes the same features, model by model, as `simulate`
    with exponential Euler and the same `StreamingFeatures` (float64)."""
    features = StreamingFeatures(threshold=0.0, start=1000.0, burst_gap=100.0)
    values = database_values(MODELS)
    engine = engine_for(jn.build_Prinz(), NAMES, 4000.0, 0.025, jnp.float64, features=features)
    out = engine(values)
    base = jn.as_dtype(jn.build_Prinz(), jnp.float64)
    for i in range(len(MODELS)):
        model = jn.set_parameters(base, {n: values[n][i] for n in NAMES})
        sol = jn.simulate(
            model,
            4000.0,
            solver=jn.ExponentialEuler(dt=0.025),
            save_every=4000.0,
            features=features,
        )
        assert int(out["n_spikes"][i]) == int(sol.features["n_spikes"])
        for key in ("V_min", "V_max", "V_mean", "isi_mean", "burst_period"):
            np.testing.assert_allclose(out[key][i], sol.features[key], rtol=1e-7, err_msg=key)


def test_engine_unroll_changes_no_number():
    """Steps per loop iteration (one at a time, unrolled groups, groups with a remainder)
    give bit for bit the same features and traces, in float32 with compensation; the
    choice that `sweep` passes (`unroll_for_work`) is one step at a time below the
    threshold and the engine's own above it."""
    from jaxneuron.sweep._engine import UNROLL_MIN_WORK, unroll_for_work

    features = StreamingFeatures(threshold=0.0, start=100.0, burst_gap=20.0)
    values = {"K.g": np.asarray([30.0, 36.0, 40.0], np.float32)}
    outs = []
    for unroll in (1, None, 7):  # None: unroll_for(4 states) = 16
        engine = engine_for(
            jn.build_HH(10.0), ("K.g",), 300.0, 0.025, jnp.float32, features=features,
            record_every=0.5, unroll=unroll,
        )  # fmt: skip
        outs.append(engine(values, record=(0, 2)))
    assert int(outs[0]["n_spikes"][1]) > 10
    for other in outs[1:]:
        assert other.keys() == outs[0].keys()
        for key in outs[0]:
            np.testing.assert_array_equal(np.asarray(other[key]), np.asarray(outs[0][key]), key)
    assert (unroll_for_work(UNROLL_MIN_WORK - 1), unroll_for_work(UNROLL_MIN_WORK)) == (1, None)
    with pytest.raises(ValueError, match="unroll"):
        Engine(jn.build_HH(10.0), ("K.g",), 300.0, unroll=0)


def test_streaming_class_equals_sampled_classify():
    """The online class equals `analysis.classify` with the same fixed gap, on the same
    samples, for traces of every class."""
    features = StreamingFeatures(threshold=0.0, start=500.0, burst_gap=100.0)
    t = np.arange(0.0, 6000.0, 0.25)
    phase = t % 700.0
    traces = {
        "silent": -60.0 + 0 * t,
        "tonic": 40 * np.sin(2 * np.pi * t / 37.0),
        "bursting": np.where((phase < 90) & (phase % 15 < 2), 30.0, -60.0),
        "irregular": np.where(np.sin(t**1.5 / 900.0) > 0.995, 30.0, -60.0),
    }
    for expected, V in traces.items():
        state = features.run(jnp.asarray(t), jnp.asarray(V))
        online = jn.analysis.ACTIVITY_CLASSES[int(features.classify(state))]
        assert online == expected
        assert classify(t, V, start=500.0) == expected  # the same gap by default


def test_engine_records_traces_and_marks_failures():
    values = {"C": np.asarray([1.0, -1e-3, 1.0])}  # a negative capacitance blows up
    engine = engine_for(jn.build_Prinz(), ("C",), 200.0, 0.025, jnp.float32, record_every=0.5)
    out = engine(values, record=(0, 2))
    assert out["finite"].tolist() == [True, False, True]
    assert out["class"].tolist()[1] == -1
    assert out["traces"].shape == (401, 2, len(jn.build_Prinz().state_names))
    sol = jn.simulate(
        jn.as_dtype(jn.build_Prinz(), jnp.float32),
        200.0,
        solver=jn.ExponentialEuler(0.025),
        save_every=0.5,
    )
    # the same float32 arithmetic (compensated) as simulate's exponential Euler; the two
    # programs differ only where XLA contracts a multiply-add into an FMA (tests/test_paths.py)
    np.testing.assert_allclose(out["traces"][:, 0, 0], sol.V, atol=1e-2)


def test_compensated_float32_engine_is_closer_to_float64():
    """Kahan summation of the increments (the float32 default) brings the float32 trace
    closer to the float64 one of the same scheme: 0.13 → 0.02 mV at most over 200 ms."""
    ref = jn.simulate(
        jn.as_dtype(jn.build_Prinz(), jnp.float64),
        200.0,
        solver=jn.ExponentialEuler(0.025),
        save_every=0.5,
    )
    errors = {}
    for compensated in (False, True):
        engine = engine_for(
            jn.build_Prinz(),
            ("C",),
            200.0,
            0.025,
            jnp.float32,
            record_every=0.5,
            compensated=compensated,
        )
        traces = engine({"C": np.asarray([1.0])}, record=(0,))["traces"]
        assert traces.dtype == jnp.float32
        errors[compensated] = np.max(np.abs(np.asarray(traces[:, 0, 0], float) - ref.V))
    assert errors[True] < 0.05
    assert errors[True] < errors[False] / 3


def test_engine_errors():
    with pytest.raises(ValueError, match="dt"):
        Engine(jn.build_Prinz(), NAMES, 100.0, dt=-1.0)
    with pytest.raises(TypeError, match="conductance-based"):
        Engine(jn.build_LIF(), ("tau",), 100.0)


# ---- accuracy against the accurate diffrax path -----------------------------------------


def test_fast_engine_matches_tight_tsit5():
    """float32 exponential Euler at dt 0.025 vs float64 Tsit5 at rtol 1e-9 on database
    models: same class, burst periods within 1% (scripts/validate_engine.py does this
    for 1,000 models; an explicit reference, because an implicit solver at large steps can
    make an unstable equilibrium look stable)."""
    numbers = [308500, 303109, 33942, 3782, 721927]
    t1, start = 6000.0, 1500.0
    features = StreamingFeatures(threshold=0.0, start=start, burst_gap=100.0)
    fast = sweep(
        jn.build_Prinz(), Table(database_values(numbers)), t1=t1, start=start, progress=False
    ).table
    base = jn.as_dtype(jn.build_Prinz(), jnp.float64)
    classes = []
    for i, number in enumerate(numbers):
        g = jn.prinz_2003_conductances(number)
        model = jn.set_parameters(base, dict(zip(NAMES, map(float, g), strict=True)))
        sol = jn.simulate(model, t1, solver="tsit5", rtol=1e-9, atol=1e-9, save_every=0.025)
        state = features.run(sol.ts, sol.V)
        cls = jn.analysis.ACTIVITY_CLASSES[int(features.classify(state))]
        classes.append(cls)
        assert fast["class"][i] == cls, number
        if cls == "bursting":
            period = float(features.summary(state)["burst_period"])
            assert fast["burst_period"][i] == pytest.approx(period, rel=0.01)
    assert "bursting" in classes and len(set(classes)) >= 2


# ---- sweeps, storage, resume -------------------------------------------------------------


def small_sweep(path=None, **kwargs):
    space = PrinzDatabase(sample=42, seed=2)  # the last chunk is short: padded
    kwargs.setdefault("progress", False)
    return sweep(jn.build_Prinz(), space, t1=600.0, chunk_size=8, path=path, **kwargs)


def test_sweep_writes_a_parquet_dataset(tmp_path):
    result = small_sweep(tmp_path / "s", record=[3, 6])
    table = result.table
    assert len(table) == 42 and table["model_id"].tolist() == list(range(42))
    assert result.complete and result.models_run == 42
    assert set(table["status"]) == {"ok"}
    assert set(table["class"]) <= set(jn.analysis.ACTIVITY_CLASSES)
    # an ordinary Parquet dataset
    again = pd.read_parquet(tmp_path / "s" / "parts")
    assert len(again) == 42
    assert sorted(result.traces) == [3, 6]
    assert result.traces[3].shape == (601, len(jn.build_Prinz().state_names))
    memory = small_sweep(record=[3, 6])
    pd.testing.assert_frame_equal(memory.table, table)
    np.testing.assert_array_equal(memory.traces[6], result.traces[6])


def test_interrupted_sweep_resumes_without_loss_or_duplication(tmp_path):
    reference = small_sweep(tmp_path / "ref").table

    class Interrupt(Exception):
        pass

    def stop_after_two(chunk, table):
        if chunk == 1:
            raise Interrupt

    with pytest.raises(Interrupt):
        small_sweep(tmp_path / "cut", callback=stop_after_two)
    # a part being written when the process died: never renamed into place
    (tmp_path / "cut" / "parts" / ".part-000003.parquet.tmp").write_bytes(b"garbage")
    partial = jn.sweep.SweepResult.load(tmp_path / "cut")
    assert len(partial.table) == 16 and not partial.complete
    assert len(pd.read_parquet(tmp_path / "cut" / "parts")) == 16  # the dataset as Parquet

    seen = []
    resumed = small_sweep(tmp_path / "cut", callback=lambda c, t: seen.append(c))
    assert seen == [2, 3, 4, 5] and resumed.models_run == 26
    pd.testing.assert_frame_equal(resumed.table, reference)
    # running it again finds nothing to do
    assert small_sweep(tmp_path / "cut").models_run == 0


def test_killed_cli_sweep_resumes(tmp_path):
    """Kill a `jaxneuron sweep` process (SIGKILL) after its first chunks, resume it, and
    compare with an uninterrupted run."""
    args = [
        sys.executable,
        "-m",
        "jaxneuron.cli",
        "sweep",
        "prinz",
        "--database",
        "--sample",
        "60",
        "--t1",
        "400",
        "--chunk-size",
        "6",
        "--no-progress",
    ]
    out = tmp_path / "killed"
    proc = subprocess.Popen(args + ["--out", str(out)], stdout=subprocess.DEVNULL)
    try:
        parts = out / "parts"
        for _ in range(1200):
            if parts.exists() and len(list(parts.glob("*.parquet"))) >= 2:
                break
            if proc.poll() is not None:
                break
            subprocess.run(["sleep", "0.05"])
        proc.kill()
    finally:
        proc.wait()
    n_before = len(list((out / "parts").glob("*.parquet")))
    assert 0 < n_before < 10, "the sweep should have been killed midway"
    done = subprocess.run(args + ["--out", str(out)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    fresh = subprocess.run(args + ["--out", str(tmp_path / "fresh")], capture_output=True)
    assert fresh.returncode == 0
    a = jn.sweep.SweepResult.load(out).table
    b = jn.sweep.SweepResult.load(tmp_path / "fresh").table
    assert len(a) == 60 and a["model_id"].is_unique
    pd.testing.assert_frame_equal(a, b)


MULTIHOST = textwrap.dedent(
    """
    import sys
    import jax
    process, port, path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    jax.distributed.initialize(f"localhost:{port}", num_processes=2, process_id=process)
    import jaxneuron as jn
    from jaxneuron.sweep import PrinzDatabase, sweep
    space = PrinzDatabase(sample=42, seed=2)
    result = sweep(jn.build_Prinz(), space, t1=600.0, chunk_size=8, path=path, progress=False)
    print("process", jax.process_index(), "of", jax.process_count(), "ran", result.models_run)
    """
)


def test_two_processes_under_jax_distributed_share_one_dataset(tmp_path):
    """Two real processes (jax.distributed on CPU, as two hosts would be) split the chunks
    of one sweep directory; together they write exactly the one-process dataset."""
    import socket

    with socket.socket() as s:
        s.bind(("localhost", 0))
        port = str(s.getsockname()[1])
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    env.pop("XLA_FLAGS", None)
    out = str(tmp_path / "shared")
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", MULTIHOST, str(p), port, out],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for p in (0, 1)
    ]
    outputs = [p.communicate(timeout=600) for p in procs]
    for p, (_, stderr) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, stderr[-3000:]
    assert "process 0 of 2 ran 24" in outputs[0][0]  # chunks 0, 2, 4 (8 + 8 + 8 models)
    assert "process 1 of 2 ran 18" in outputs[1][0]  # chunks 1, 3, 5 (8 + 8 + 2 models)
    shared = jn.sweep.SweepResult.load(out)
    assert shared.complete
    pd.testing.assert_frame_equal(shared.table, small_sweep().table)


def test_other_processes_chunks_are_left_alone(tmp_path, monkeypatch):
    monkeypatch.setattr(jax, "process_index", lambda: 1)
    monkeypatch.setattr(jax, "process_count", lambda: 2)
    result = small_sweep(tmp_path / "p")
    assert sorted(SweepStore(tmp_path / "p").done()) == [1, 3, 5]
    assert result.models_run == 18 and not result.complete


def test_sweep_input_errors(tmp_path):
    model = jn.build_Prinz()
    with pytest.raises(KeyError, match="Na.gg"):
        sweep(model, Grid({"Na.gg": [1.0]}), t1=100.0)
    with pytest.raises(ValueError, match="start"):
        sweep(model, Grid({"Na.g": [1.0]}), t1=100.0, start=200.0)
    with pytest.raises(ValueError, match="dt"):
        sweep(model, Grid({"Na.g": [1.0]}), t1=100.0, dt=0.0)
    with pytest.raises(ValueError, match="record"):
        sweep(model, Grid({"Na.g": [1.0]}), t1=100.0, record=[5])
    sweep(model, Grid({"Na.g": [1.0]}), t1=50.0, path=tmp_path / "x", progress=False)
    with pytest.raises(ValueError, match="different sweep .*t1"):
        sweep(model, Grid({"Na.g": [1.0]}), t1=60.0, path=tmp_path / "x", progress=False)


def test_sweep_of_a_circuit_synapse():
    """Any leaf of any model: a synapse strength of the pyloric circuit; features per cell."""
    net = jn.pyloric_circuit()
    result = sweep(net, Grid({"AB->LP.g_nS": [0.0, 30.0]}), t1=100.0, progress=False)
    cells = [name[: -len(".V")] for name in net.state_names if name.endswith(".V")]
    for cell in cells:
        assert f"{cell}.class" in result.table and f"{cell}.n_spikes" in result.table
        fractions = result.class_fractions(cell)
        assert sum(fractions.values()) == pytest.approx(1.0)
    with pytest.raises(KeyError, match="name a cell"):
        result.class_fractions()


# ---- sharding --------------------------------------------------------------------------

SHARDING = textwrap.dedent(
    """
    import jax, numpy as np, jax.numpy as jnp
    import jaxneuron as jn
    from jaxneuron.sweep import Engine
    assert len(jax.devices()) == 2, jax.devices()
    names = tuple(f"{c}.g" for c in jn.CHANNEL_ORDER)
    g = jn.prinz_2003_conductances(np.arange(1000, 1000 + 7 * 9973, 9973))
    values = {n: g[:, i] for i, n in enumerate(names)}
    engine = Engine(jn.build_Prinz(), names, 300.0, 0.025)
    two = engine(values, devices=jax.devices())
    assert len(two["V_max"].sharding.device_set) == 2, two["V_max"].sharding
    one = engine(values, devices=jax.devices()[:1])
    for key in one:
        np.testing.assert_allclose(np.asarray(two[key]), np.asarray(one[key]), rtol=1e-5)
    print("sharded", len(two["V_max"]))
    # a circuit's cells run stacked, (cells, models): still split along the models
    from jaxneuron.sweep import PyloricDatabase
    space = PyloricDatabase(sample=8, seed=1)
    values = {k: np.asarray(v, np.float32) for k, v in space.values(0, 8).items()}
    circuit = jn.as_dtype(jn.pyloric_circuit(), np.float32)
    engine = Engine(circuit, space.names, 200.0, 0.025)
    two = engine(values, devices=jax.devices())
    spec = two["LP.V_max"].sharding.spec
    assert spec == jax.sharding.PartitionSpec("models"), spec
    one = engine(values, devices=jax.devices()[:1])
    for key in ("AB/PD.V_mean", "LP.V_mean", "PY.V_mean", "LP.V_max"):
        np.testing.assert_allclose(np.asarray(two[key]), np.asarray(one[key]), rtol=1e-4)
    print("circuits sharded", len(two["LP.V_max"]))
    """
)


def test_sharding_across_two_host_devices():
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2")
    env["JAX_PLATFORMS"] = "cpu"
    done = subprocess.run([sys.executable, "-c", SHARDING], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "sharded 7" in done.stdout
    assert "circuits sharded 8" in done.stdout


# ---- the Pallas kernel (Pallas' interpreter on CPU) -------------------------------------


def test_pallas_kernel_equals_xla_engine(dtype=jnp.float32):
    """The whole time loop in one kernel gives the XLA engine's features and classes, in
    the sweeps' default float32 (tests/test_paths.py compares the two in float64 too).
    Models whose outcome hangs on rounding (e.g. 721927, beside an unstable equilibrium)
    are left out: the two programs round differently."""
    numbers = [308500, 303109, 33942, 3782, 1727]  # bursting, irregular, tonic, silent ×2
    values = database_values(numbers)
    features = StreamingFeatures(start=1000.0)
    engine = engine_for(jn.build_Prinz(), NAMES, 3000.0, 0.025, dtype, features=features)
    xla = engine(values)
    kernel = run_pallas(engine, values, block=4)  # 5 models: two programs, one padded
    assert set(kernel) == set(xla) - {"traces"}
    assert np.asarray(xla["class"]).tolist() == [2, 3, 1, 0, 0]
    rtol = 1e-9 if dtype == jnp.float64 else 2e-4
    for key in kernel:
        a, b = np.asarray(kernel[key]), np.asarray(xla[key])
        assert a.shape == b.shape == (5,), key
        if key in ("class", "finite", "n_spikes", "n_bursts"):
            assert a.tolist() == b.tolist(), key
        else:
            np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol, equal_nan=True, err_msg=key)


def test_sweep_with_pallas_kernel(tmp_path):
    space = PrinzDatabase(sample=6, seed=3)
    kwargs = dict(t1=400.0, chunk_size=4, progress=False, dtype=jnp.float64)
    xla = sweep(jn.build_Prinz(), space, **kwargs).table
    pallas = sweep(jn.build_Prinz(), space, kernel="pallas", record=[5], **kwargs)
    assert set(pallas.traces) == {5}  # the chunk with a recorded model runs the XLA engine
    pd.testing.assert_frame_equal(pallas.table, xla, check_exact=False, rtol=1e-9)
    with pytest.raises(ValueError, match="single neurons"):
        sweep(jn.pyloric_circuit(), Grid({"AB->LP.g_nS": [0.0]}), t1=10.0, kernel="pallas")
    with pytest.raises(ValueError, match="kernel"):
        sweep(jn.build_Prinz(), space, t1=10.0, kernel="cuda")
    with pytest.raises(ValueError, match="power of two"):
        run_pallas(engine_for(jn.build_Prinz(), NAMES, 10.0, 0.025, jnp.float32), {}, block=3)


def test_pallas_kernel_lowers_to_triton_for_cuda():
    """Without a GPU: the kernel lowers for CUDA, every operation in it having a Triton
    lowering (this does not compile the Triton kernel to PTX; that needs a GPU)."""
    values = {name: jnp.ones(256, jnp.float32) for name in NAMES}
    engine = engine_for(jn.build_Prinz(), NAMES, 10.0, 0.025, jnp.float32)
    lowered = (
        jax.jit(lambda v: run_pallas(engine, v, interpret=False))
        .trace(values)
        .lower(lowering_platforms=("cuda",))
    )
    assert "xla.gpu.triton" in lowered.as_text()


def test_engine_skips_its_observer_before_the_analysis_start(monkeypatch):
    """The engine runs the steps that end before the analysis start without its observer
    (features, rhythm) and starts the observer there: every output, the rhythm's (Prinz's
    buffered spike times, the database's default; its bursts and the features' come from
    the same streamed spikes) and the traces included, is bit for bit what observing every
    step gives."""
    import jaxneuron.sweep._engine as engine_module
    from jaxneuron.analysis import PrinzAdaptive, PyloricCriteria, StreamingRhythm

    features = StreamingFeatures(start=120.0)
    rhythm = StreamingRhythm(features=features, criteria=PyloricCriteria(), rule=PrinzAdaptive())
    circuit = jn.as_dtype(jn.pyloric_circuit(), jnp.float32)
    names = ("LP.CaS.g", "AB->LP.g_nS")
    values = {
        "LP.CaS.g": np.asarray([2.0, 4.0, 6.0], np.float32),
        "AB->LP.g_nS": np.asarray([1.0, 10.0, 30.0], np.float32),
    }
    engine = Engine(circuit, names, 300.0, 0.025, features=features, rhythm=rhythm, block=200)
    # quiet: 23 whole blocks of 200 steps, then whole unrolled groups of the next
    assert engine_module.quiet_steps(engine) == 4799
    quiet = engine(values, record=[1])
    monkeypatch.setattr(engine_module, "quiet_steps", lambda engine: 0)
    jax.clear_caches()  # traced again, observing every step
    every = engine(values, record=[1])
    assert quiet.keys() == every.keys()
    for key in quiet:
        a, b = np.asarray(quiet[key]), np.asarray(every[key])
        if a.dtype == object:  # one array of spike times per network
            assert len(a) == len(b), key
            for x, y in zip(a, b, strict=True):
                np.testing.assert_array_equal(np.asarray(x), np.asarray(y), key)
        else:
            np.testing.assert_array_equal(a, b, key)
