"""The Prinz et al. 2004 network database: numbering both ways, the parameter space
against `pyloric_circuit`, and a sweep of database networks against direct simulations."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxneuron as jn
import jaxneuron.analysis as an
from jaxneuron.analysis import spike_times
from jaxneuron.sweep import PyloricDatabase, sweep


def test_numbering_round_trips_and_counts():
    assert jn.PYLORIC_2004_SIZE == 5 * 5 * 6 * 5**4 * 6**3 == 20_250_000
    rng = np.random.default_rng(0)
    for n in [1, 2, 216, 217, jn.PYLORIC_2004_SIZE, *rng.integers(1, 20_250_001, 50)]:
        cells, strengths = jn.pyloric_2004_network(int(n))
        assert jn.pyloric_2004_number(cells, strengths) == n
    cells, strengths = jn.pyloric_2004_network(jn.PYLORIC_2004_SIZE)
    assert cells == {"AB/PD": "AB/PD 5", "LP": "LP 5", "PY": "PY 6"}
    assert set(strengths.values()) == {100.0}
    # the least significant digit is LP→PY, on six levels
    assert jn.pyloric_2004_network(2)[1]["LP->PY"] == 1.0
    assert jn.pyloric_2004_network(7)[1]["PD->PY"] == 1.0
    with pytest.raises(ValueError, match="network numbers"):
        jn.pyloric_2004_levels(0)
    with pytest.raises(ValueError, match="database level"):
        jn.pyloric_2004_number(cells, {**strengths, "AB->LP": 1.0})  # 1 nS only onto PY


def test_space_sets_cells_and_strengths_as_pyloric_circuit_builds_them():
    space = PyloricDatabase(sample=20, seed=3)
    values = space.values(0, len(space))
    labels = space.labels(0, len(space))
    for i, n in enumerate(labels["network_number"]):
        cells, strengths = jn.pyloric_2004_network(int(n))
        net = jn.pyloric_circuit(cells["AB/PD"], cells["LP"], cells["PY"], strengths=strengths)
        for name in space.names:
            assert values[name][i] == pytest.approx(float(jn.get_parameter(net, name))), name
        assert labels["PY"][i] == int(cells["PY"].split()[-1])
    assert PyloricDatabase(numbers=[5, 3, 3]).describe()["numbers"] == [3, 5]
    with pytest.raises(TypeError, match="either"):
        PyloricDatabase(sample=2, numbers=[1])


def test_sweep_of_database_networks_matches_direct_simulations():
    numbers = [1_234_567, 9_876_543, 15_000_001]
    base = jn.pyloric_circuit()  # any triple: the space sets every cell's conductances
    result = sweep(
        base,
        PyloricDatabase(numbers=numbers),
        t1=2000.0,
        start=500.0,
        dtype=np.float64,
        progress=False,
    )
    for _, row in result.table.iterrows():
        cells, strengths = jn.pyloric_2004_network(int(row["network_number"]))
        net = jn.pyloric_circuit(cells["AB/PD"], cells["LP"], cells["PY"], strengths=strengths)
        sol = jn.simulate(net, 2000.0, solver=jn.ExponentialEuler(dt=0.025), save_every=0.025)
        ts = np.asarray(sol.ts)
        for k, cell in enumerate(("AB/PD", "LP", "PY")):
            spikes = spike_times(ts, np.asarray(sol.V[:, k]))
            assert row[f"{cell}.n_spikes"] == np.sum(spikes >= 500.0), (row["network_number"], cell)


def test_sweep_from_a_chosen_initial_state_equals_simulate_from_it(tmp_path):
    """Every synapse closed (s = 0) and a chosen V, [Ca] and gate: the sweep's recorded
    states equal `simulate` of the same circuits from the same flat state."""
    space = PyloricDatabase(numbers=[1_234_567, 15_000_001])
    y0 = {"*.s": 0.0, "*.V": -55.0, "*.Ca": 0.2, "LP.Na.h": 0.3}
    base = jn.pyloric_circuit()
    result = sweep(base, space, t1=300.0, dtype=np.float64, record=[0, 1], record_every=0.5,
                   y0=y0, path=tmp_path / "s", progress=False)  # fmt: skip
    assert result.table["status"].tolist() == ["ok", "ok"]
    names = base.state_names
    values = space.values(0, len(space))
    for i in range(len(space)):
        net = jn.set_parameters(base, {k: float(v[i]) for k, v in values.items()})
        start = np.array(net.initial_state())
        for k, name in enumerate(names):
            if name.endswith(".s"):
                start[k] = 0.0
            elif name.endswith(".V"):
                start[k] = -55.0
            elif name.endswith(".Ca"):
                start[k] = 0.2
        start[names.index("LP.Na.h")] = 0.3
        sol = jn.simulate(net, 300.0, solver=jn.ExponentialEuler(dt=0.025), save_every=0.5,
                          y0=start)  # fmt: skip
        traces = result.traces[i]
        np.testing.assert_allclose(traces[0], start, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(traces, np.asarray(sol.ys), rtol=1e-9, atol=1e-9)
    # the initial state is part of the dataset's identity: another one is another sweep
    with pytest.raises(ValueError, match="different sweep|another sweep|different"):
        sweep(base, space, t1=300.0, dtype=np.float64, y0={"*.s": 0.5},
              path=tmp_path / "s", progress=False)  # fmt: skip
    with pytest.raises(ValueError, match="matches no state"):
        sweep(base, space, t1=300.0, y0={"*.q": 0.0}, progress=False)


# ---- the rhythm, online and offline ------------------------------------------------------

CELLS = ("AB/PD", "LP", "PY")


def _spike_train(t, bursts, dt):
    V = np.full(t.size, -60.0)
    for onset, offset, isi in bursts:
        for s in np.arange(onset, offset + 1e-9, isi):
            if int(s / dt) < t.size:
                V[int(s / dt)] = 20.0
    return V


def _compare(online, offline):
    """Online (`StreamingRhythm`) against offline (`burst_phases`) values; an online offset
    may be NaN only for a burst outlasting the next cycle (offline phase > 1)."""
    if offline is None:
        assert int(online["cycles"]) == 0
        return
    ref = offline["AB/PD"]
    assert int(online["cycles"]) == ref["cycles"]
    np.testing.assert_allclose(float(online["period"]), ref["period"], rtol=1e-6)
    np.testing.assert_allclose(float(online["period_cv"]), ref["period_cv"], rtol=1e-5, atol=1e-6)
    for cell in CELLS:
        for key, off_key in [
            ("onset_phase", "onset"),
            ("offset_phase", "offset"),
            ("burst_length", "burst_length"),
            ("bursts_per_cycle", "bursts_per_cycle"),
        ]:
            x, y = float(online[f"{cell}.{key}"]), offline[cell][off_key]
            if np.isnan(x) and key in ("offset_phase", "burst_length"):
                assert np.isnan(y) or offline[cell]["offset"] > 1.0, (cell, key, y)
                continue
            np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-5, err_msg=f"{cell}.{key}")
    assert bool(online["in_order"]) == an.is_pyloric(offline)


def _random_trains(rng, trial, t):
    """Spike trains of the three cells: irregular periods, jitter, missing and extra
    bursts, bursts longer than a cycle and onsets that coincide with the reference's."""
    period = rng.uniform(400, 1500)
    traces = {}
    for k, cell in enumerate(CELLS):
        onset = 0.0 if k == 0 else rng.uniform(0.05, 0.9) * period
        length = rng.uniform(0.05, 0.6 if trial % 3 else 1.5) * period
        bursts, c = [], rng.uniform(0, 300)
        while c < t[-1]:
            jitter = rng.normal(0, 0.03 * period) if trial % 2 else 0.0
            if rng.uniform() > (0.1 if trial % 4 == 0 else 0.0):
                on = c + onset + jitter
                bursts.append((on, on + length * rng.uniform(0.8, 1.2), rng.uniform(5, 30)))
            if trial % 5 == 0 and rng.uniform() < 0.3:
                bursts.append((c + onset + 0.5 * period, c + onset + 0.5 * period + 20, 10))
            c += period * rng.uniform(0.95, 1.05)
        traces[cell] = _spike_train(t, bursts, t[1] - t[0])
    return traces


def _offline(t, traces, start):
    try:
        return an.burst_phases(
            t, traces, "AB/PD", start=start, gaps=dict.fromkeys(CELLS, an.BURST_GAP_MS)
        )
    except ValueError:  # fewer than three reference bursts
        return None


def test_streaming_rhythm_equals_burst_phases_on_random_spike_trains():
    """Irregular periods, jitter, missing and extra bursts, bursts longer than a cycle and
    onsets that coincide with the reference's: the online values equal the offline ones."""
    rng = np.random.default_rng(0)
    dt, start = 0.5, 1000.0
    t = np.arange(0.0, 8000.0, dt)
    rhythm = an.StreamingRhythm(CELLS, features=an.StreamingFeatures(start=start))
    run = jax.jit(rhythm.run)
    for trial in range(24):
        traces = _random_trains(rng, trial, t)
        online = run(t, [traces[c] for c in CELLS])
        _compare(online, _offline(t, traces, start))


def test_engine_rhythm_updated_once_per_block_equals_burst_phases():
    """The sweep engine's observer updates the rhythm after every group of steps, or,
    where a block of steps spans at most half a burst gap, once per block from the
    feature states at its last update (`VoltageRhythm`): the random spike trains, fed
    through `fixed_step_loop` in groups of 4 samples and blocks of 100 (50 ms), give the
    offline values either way."""
    from jaxneuron.integrate import VoltageFeatures, fixed_step_loop
    from jaxneuron.sweep._engine import VoltageRhythm

    rng = np.random.default_rng(1)
    dt, start = 0.5, 1000.0
    t = np.arange(16_001) * dt
    features = an.StreamingFeatures(start=start)
    rhythm = an.StreamingRhythm(CELLS, features=features)

    def run(per_block, Vs):
        def step(_, carry):  # the next sample of the traces
            n = carry[1] + 1
            return (tuple(Vs[n, k] for k in range(3)), n), None

        observer = VoltageRhythm(VoltageFeatures(features, (0, 1, 2)), rhythm, (0, 1, 2), per_block)
        carry = (tuple(Vs[0, k] for k in range(3)), jnp.asarray(0))
        _, state, _ = fixed_step_loop(
            step, carry, t0=t[0], dt=dt, n_steps=len(t) - 1, observer=observer,
            save_stride=100, unroll=4,
        )  # fmt: skip
        per_voltage, rhythm_state = observer.per_voltage(state)
        return rhythm.summary(rhythm_state, per_voltage)

    runs = [jax.jit(lambda Vs, p=p: run(p, Vs)) for p in (False, True)]
    for trial in range(10):
        traces = _random_trains(rng, trial, t)
        Vs = jnp.asarray(np.stack([traces[c] for c in CELLS], axis=-1))
        offline = _offline(t, traces, start)
        for online in (runs[0](Vs), runs[1](Vs)):
            _compare(online, offline)


def test_sweep_rhythm_equals_offline_analysis_of_recorded_networks():
    """Database networks (pyloric with all 15 criteria, pyloric-like, and neither) swept
    in float32 with the rhythm in the loop and every step recorded: the online phases,
    flags and criteria equal `burst_phases` / `is_pyloric` / `PyloricCriteria` on the
    recorded traces."""
    numbers = [2_519_523, 2_919_229, 5_046_875, 558_072, 1_736_220, 8_572_353, 15_292_121]
    criteria = an.PyloricCriteria()
    rhythm = an.StreamingRhythm(CELLS, criteria=criteria)
    result = sweep(
        jn.pyloric_circuit(),
        PyloricDatabase(numbers=numbers),
        t1=7000.0,
        start=2000.0,
        rhythm=rhythm,
        record=range(len(numbers)),
        record_every=0.025,
        progress=False,
    )
    table = result.table.set_index("model_id")
    columns = [result.state_names.index(f"{c}.V") for c in CELLS]
    flags = []
    for i, trace in result.traces.items():
        ts = np.arange(trace.shape[0]) * result.record_every
        traces = {c: trace[:, k].astype(float) for c, k in zip(CELLS, columns, strict=True)}
        row = table.loc[i]
        flags.append((bool(row["pyloric_like"]), bool(row["pyloric"])))
        try:
            offline = an.burst_phases(
                ts, traces, "AB/PD", start=2000.0, gaps=dict.fromkeys(CELLS, an.BURST_GAP_MS)
            )
        except ValueError:  # AB/PD has fewer than three bursts
            _compare(row, None)
            assert row["criteria_met"] == 0 and not row["pyloric_like"]
            continue
        _compare(row, offline)
        keys = [
            ("onset_phase", "onset"),
            ("offset_phase", "offset"),
            ("burst_length", "burst_length"),
        ]
        offline_columns = {f"{c}.{k}": offline[c][o] for c in CELLS for k, o in keys}
        expected = criteria({**row.to_dict(), **offline_columns})
        assert int(row["criteria_met"]) == int(expected["criteria_met"])
        assert bool(row["pyloric_like"]) == bool(expected["pyloric_like"])
    # the sample holds every outcome
    assert (True, True) in flags and (True, False) in flags and (False, False) in flags
    assert result.fraction("pyloric")[0] == pytest.approx(1 / 7)


def test_pyloric_criteria_at_the_biological_means():
    """A rhythm at the means of Prinz 2004's Table 1 meets all 15 criteria; moving one
    feature out of its range fails one; breaking the burst order is not pyloric-like."""
    period = 1509.0
    rhythm = {
        "period": period,
        "in_order": True,
        "AB/PD.onset_phase": 0.0,
        "AB/PD.offset_phase": 0.385,
        "AB/PD.burst_length": 0.385 * period,
        "LP.onset_phase": 0.533,
        "LP.offset_phase": 0.533 + 0.264,
        "LP.burst_length": 0.264 * period,
        "PY.onset_phase": 0.758,
        "PY.offset_phase": 0.758 + 0.348,
        "PY.burst_length": 0.348 * period,
    }
    criteria = an.PyloricCriteria()
    out = criteria(rhythm)
    assert int(out["criteria_met"]) == 15 and bool(out["pyloric"])
    for c in an.PYLORIC_2004_CRITERIA:  # every feature near its mean (rounding of means)
        assert abs(float(out[f"pyloric.{c.name}"]) - c.mean) < 0.35 * c.sd, c.name
    slow = criteria({**rhythm, "period": 2100.0})  # period out; phases, duty cycles in
    assert bool(slow["pyloric_like"]) and not bool(slow["pyloric"])
    assert 14 - 5 <= int(slow["criteria_met"]) < 15  # ms features scale with the period
    late_lp = criteria({**rhythm, "LP.offset_phase": 1.2})  # LP ends after PY
    assert not bool(late_lp["pyloric_like"]) and not bool(late_lp["pyloric"])
    with pytest.raises(ValueError, match="15 features"):
        an.PyloricCriteria(criteria=an.PYLORIC_2004_CRITERIA[:14])


def test_engine_runs_circuits_stacked_with_the_numbers_of_cells_one_by_one(monkeypatch):
    """The engine holds a database circuit's three cells stacked (one (cells, models)
    array per state) and the synapses that share their s once (AB->PY's is AB->LP's
    …, but AB->LP starts elsewhere here, so it is held apart); in float32, with
    compensation, features, the rhythm and traces, it gives bit for bit the numbers of
    the same engine stepping the cells and every synapse one by one."""
    import jaxneuron.sweep._engine as engine_module
    from jaxneuron.sweep import Engine
    from jaxneuron.sweep._engine import initial_values

    space = PyloricDatabase(sample=12, seed=3)
    values = {k: np.asarray(v, np.float32) for k, v in space.values(0, len(space)).items()}
    features = an.StreamingFeatures(start=100.0)
    rhythm = an.StreamingRhythm(features=features, criteria=an.PyloricCriteria())
    circuit = jn.as_dtype(jn.pyloric_circuit(), np.float32)
    assert engine_module.stackable(circuit)
    initial = initial_values(circuit, {"AB->LP.s": 0.3})
    # one step per iteration (stacking is independent of it, and unrolled the two
    # compilations below take minutes; unroll changes no number: test_sweep's unroll test)
    engine = Engine(
        circuit, space.names, 300.0, 0.025, features=features, rhythm=rhythm,
        initial=initial, unroll=1,
    )  # fmt: skip
    # AB->LP, PD->LP, AB->PY, PD->PY, LP->AB/PD, LP->PY, PY->LP: five held, not seven
    shared = engine_module.shared_synapse_states(circuit, space.names, initial)
    assert shared == ((0, 1, 2, 1, 4, 4, 6),)
    stacked = engine(values, record=[0, 7])
    asked = []
    monkeypatch.setattr(engine_module, "stackable", lambda model: asked.append(model) or False)
    jax.clear_caches()  # so that the engine is traced again, one by one
    one_by_one = engine(values, record=[0, 7])
    assert asked  # the second run did step the cells one by one
    assert stacked.keys() == one_by_one.keys()
    for key in stacked:
        np.testing.assert_array_equal(np.asarray(stacked[key]), np.asarray(one_by_one[key]), key)


def test_cell_stack_gives_the_same_numbers_whatever_its_rows_per_cell():
    """`CellStack` holds each cell's models in ``split`` rows (for XLA:CPU's threads): the
    packed state unpacks to the circuit's, and 40 steps with compensation give bit for bit
    the numbers of the circuit's own step, whatever the split."""
    from jaxneuron.parameters import population
    from jaxneuron.sweep._cell_stack import shared_synapse_states, split_for, stack_population

    assert (split_for(1024, sharded=False), split_for(12, False), split_for(7, False)) == (8, 4, 1)
    assert split_for(1024, sharded=True) == 1
    space = PyloricDatabase(sample=8, seed=5)
    values = {k: jnp.asarray(v, jnp.float32) for k, v in space.values(0, len(space)).items()}
    circuit = jn.as_dtype(jn.pyloric_circuit(), np.float32)
    models, axes = population(circuit, values)
    y0 = jax.vmap(lambda m: m.initial_state(), in_axes=(axes,))(models)
    y0 = tuple(y0[:, i] for i in range(y0.shape[1]))
    shared = shared_synapse_states(circuit, space.names)
    dt = jnp.float32(0.025)

    def run(split):
        cells = stack_population(circuit, models, axes, 8, shared, split)
        packed = cells.pack(y0)
        for a, b in zip(cells.unpack(packed), y0, strict=True):
            np.testing.assert_array_equal(a, b)  # shared synapse states start equal

        @jax.jit
        def steps(y):
            def step(k, carry):
                return cells.fixed_step(dt * k, carry[0], dt, carry[1])

            carry = (y, tuple(jnp.zeros_like(x) for x in y))
            return cells.unpack(jax.lax.fori_loop(0, 40, step, carry)[0])

        return steps(packed)

    @jax.jit
    def one_by_one(y):  # the circuit's own step, vmapped over the models
        def step(k, carry):
            def each(model, y, c):
                return model.fixed_step(dt * k, y, dt, c)

            return jax.vmap(each, in_axes=(axes, 0, 0))(models, *carry)

        return jax.lax.fori_loop(0, 40, step, (y, tuple(jnp.zeros_like(x) for x in y)))[0]

    reference = one_by_one(y0)
    assert np.isfinite(np.asarray(reference[0])).all()
    for split in (1, 2, 8):
        for a, b in zip(run(split), reference, strict=True):
            np.testing.assert_array_equal(a, b)


def test_synapses_share_a_state_only_where_it_starts_and_evolves_equal():
    """`shared_synapse_states`: synapses of one presynaptic cell with equal kinetics share
    their s; a different rate, threshold or cell, a swept kinetic parameter, a different
    initial value, or traced values keep them apart."""
    from jaxneuron.sweep._cell_stack import shared_synapse_states

    circuit = jn.pyloric_circuit()
    # AB->LP, PD->LP, AB->PY, PD->PY, LP->AB/PD, LP->PY, PY->LP
    assert shared_synapse_states(circuit, ["LP.CaS.g", "AB->LP.g_nS"]) == ((0, 1, 0, 1, 4, 4, 6),)
    assert shared_synapse_states(circuit, ["LP->PY.V_th"]) == ((0, 1, 2, 3, 4, 5, 6),)
    assert shared_synapse_states(circuit, [], (("LP->PY.s", 0.0),)) == ((0, 1, 0, 1, 4, 5, 6),)
    assert shared_synapse_states(circuit, [], (("AB->LP.s", 0.0), ("AB->PY.s", 0.0))) == (
        (0, 1, 0, 1, 4, 4, 6),
    )
    cells = {c: circuit.neuron(c) for c in circuit.neuron_names}
    net = jn.build_network(
        [
            jn.Chemical("LP", "PY", 10.0, -70.0, k_minus=1 / 40),
            jn.Chemical("LP", "AB/PD", 10.0, -70.0, k_minus=1 / 41),
            jn.Chemical("LP", "PY", 10.0, -70.0, V_th=-36.0, name="LP->PY 2"),
            jn.Chemical("PY", "AB/PD", 10.0, -70.0),
            jn.Chemical("LP", "AB/PD", 3.0, -80.0, name="LP->AB/PD 2"),
            jn.Electrical("LP", "PY", 1.0),
        ],
        cells,
    )
    assert shared_synapse_states(net, []) == ((0, 1, 2, 3, 0), ())
    group = net.synapses[0]
    assert jax.jit(lambda g: jnp.asarray(g.shared_states()))(group).tolist() == [0, 1, 2, 3, 4]
