"""Synapses and circuits: graded and electrical synapses, the pyloric circuit against an
independent SciPy implementation (tests/reference_stg.py)."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import reference_stg as ref

import jaxneuron as jn
from jaxneuron import analysis as an
from jaxneuron.circuits import (
    Chemical,
    Cholinergic,
    Electrical,
    Glutamatergic,
    build_network,
    pyloric_circuit,
)
from jaxneuron.synapses import GLUTAMATERGIC, GradedSynapses


def test_graded_synapse_kinetics_and_stiff_limit():
    syn = GradedSynapses(g=[10.0], pre=(0,), post=(1,), names=("a->b",), **GLUTAMATERGIC)
    for V in (-80.0, -40.0, -35.0, -20.0, 0.0):
        s_inf = 1.0 / (1.0 + np.exp((-35.0 - V) / 5.0))
        np.testing.assert_allclose(float(syn.steady_state(V)), s_inf, rtol=1e-12)
        np.testing.assert_allclose(float(syn.rate(V)), (1.0 / 40.0) / (1.0 - s_inf), rtol=1e-9)
    # s∞ → 1: the rate stays finite, its gradient too, and s never leaves [0, 1]
    V_hot = jnp.asarray([60.0, 0.0])
    for dt in (0.025, 1.0, 100.0):
        s = 0.3 + syn.increment(V_hot, (jnp.asarray(0.3),), dt)[0]
        assert 0.0 <= float(s) <= 1.0
    # s∞ and the rate share one exponential: the increment equals the textbook formulas
    # written out here, with finite values and gradients from −500 to 300 mV
    release = syn.release
    s0, dt = 0.4, 0.025
    for V in (-500.0, -80.0, -35.0, 0.0, 300.0):
        s_inf = 1.0 / (1.0 + np.exp((-35.0 - V) / 5.0))
        rate = (1.0 / 40.0) * (1.0 + np.exp((V + 35.0) / 5.0))
        expected = s0 + (s_inf - s0) * -np.expm1(-dt * rate)
        got = s0 + float(release.increment(jnp.asarray(V), s0, dt))
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)
        assert np.isfinite(float(jax.grad(lambda v: release.increment(v, s0, dt))(V)))
    assert np.isfinite(float(jax.grad(lambda v: syn.rate(v))(200.0)))


def _two_hh(connections, currents=(10.0, 0.0)):
    cells = {"a": jn.build_HH(currents[0], name="a"), "b": jn.build_HH(currents[1], name="b")}
    return build_network(connections, cells)


def test_gap_junction_currents_are_equal_and_opposite():
    net = _two_hh([Electrical("a", "b", 50.0)])
    y = net.initial_state().at[0].set(-20.0)  # a depolarised
    G, J = net.synaptic_inputs(y)
    V = jnp.asarray([y[0], y[4]])
    I = G * V - J
    np.testing.assert_allclose(float(I[0]), -float(I[1]), rtol=1e-12)
    expected = float(net.geometry.conductance_density(50.0)) * (-20.0 - float(y[4]))
    np.testing.assert_allclose(float(I[0]), expected, rtol=1e-12)
    # strong coupling synchronises a spiking cell and a silent one
    strong = _two_hh([Electrical("a", "b", 1e5)])
    sol = jn.simulate(strong, 100.0, solver="tsit5")
    V = np.asarray(sol.V)
    assert V.shape[-1] == 2 and np.max(np.abs(V[200:, 0] - V[200:, 1])) < 1.0


def test_half_centre_oscillator_alternates():
    cells = {
        "left": jn.build_Prinz(name="left", config=jn.PrinzConfig.preset("AB/PD 2", V0=-50.0)),
        "right": jn.build_Prinz(name="right", config=jn.PrinzConfig.preset("AB/PD 2", V0=-65.0)),
    }
    net = build_network(
        [Glutamatergic("left", "right", 30.0), Glutamatergic("right", "left", 30.0)],
        cells,
        name="half-centre",
    )
    sol = jn.simulate(net, 12_000.0, solver=jn.ExponentialEuler(dt=0.025), save_every=0.5)
    ts, V = np.asarray(sol.ts), np.asarray(sol.V)
    phases = an.burst_phases(ts, {"left": V[:, 0], "right": V[:, 1]}, "left", start=3000.0)
    print(phases)
    assert phases["right"]["bursts_per_cycle"] == 1.0
    # anti-phase: the right cell bursts in the left cell's silent half, no overlap
    assert phases["left"]["offset"] < phases["right"]["onset"] < 0.8
    assert phases["right"]["offset"] > phases["right"]["onset"]


T_CIRCUIT, START = 12_000.0, 3000.0


def _rhythm(ts, V):
    traces = {"AB/PD": V[:, 0], "LP": V[:, 1], "PY": V[:, 2]}
    phases = an.burst_phases(ts, traces, "AB/PD", start=START)
    duty = {n: an.burst_metrics(ts, v, start=START)["duty_cycle"] for n, v in traces.items()}
    return phases, duty


@pytest.fixture(scope="module")
def pyloric_reference():
    cells = [ref.PRESETS["AB/PD 2"], ref.PRESETS["LP 4"], ref.PRESETS["PY 1"]]
    ts, y = ref.solve_circuit(cells, ref.PYLORIC_SYNAPSES, T_CIRCUIT, rtol=1e-6, atol=1e-6)
    return _rhythm(ts, y[[0, 13, 26]].T)


@pytest.mark.parametrize("solver", ["exponential_euler", "kvaerno5"])
def test_pyloric_circuit_is_triphasic_and_matches_reference(pyloric_reference, solver):
    """The example circuit's rhythm is not strictly periodic: over 40 s its cycle periods
    range over 1745–1923 ms (±4%) with no trend, so any two solutions — ours, SciPy's, or
    one solver at two tolerances — decorrelate after a few cycles. The rhythm's statistics
    over 3–12 s are compared: period within 3%, phases and duty cycles within 0.03."""
    net = pyloric_circuit("AB/PD 2", "LP 4", "PY 1", V0=-50.0, Ca0=0.05)
    if solver == "exponential_euler":
        sol = jn.simulate(net, T_CIRCUIT, solver=jn.ExponentialEuler(dt=0.025), save_every=0.25)
    else:
        sol = jn.simulate(net, T_CIRCUIT, solver=solver, rtol=1e-6, atol=1e-6, save_every=0.25)
    phases, duty = _rhythm(np.asarray(sol.ts), np.asarray(sol.V))
    ref_phases, ref_duty = pyloric_reference
    print(solver, phases, duty, "reference", ref_phases, ref_duty)
    assert an.is_pyloric(phases) and an.is_pyloric(ref_phases)
    assert an.cycle_order(phases) == ["AB/PD", "LP", "PY"]
    np.testing.assert_allclose(phases["AB/PD"]["period"], ref_phases["AB/PD"]["period"], rtol=0.03)
    for cell in ("LP", "PY"):
        for key in ("onset", "offset"):
            assert abs(phases[cell][key] - ref_phases[cell][key]) < 0.03, (cell, key)
    for cell in duty:
        assert abs(duty[cell] - ref_duty[cell]) < 0.03, cell


def test_gradients_wrt_synapse_strengths():
    net = pyloric_circuit()
    group = 0  # the chemical synapses

    def loss(g):
        n = eqx.tree_at(lambda m: m.synapses[group].g, net, g)
        sol = jn.simulate(n, 1000.0, solver=jn.ExponentialEuler(dt=0.025), save_every=1.0)
        return jnp.mean(sol.V[:, 1]) / 10.0 + jnp.mean(sol["PY->LP.s"])

    g0 = net.synapses[group].g
    grad = jax.jit(jax.grad(loss))(g0)
    # central differences, every perturbed circuit in one vmapped call
    h = 1e-6 * jnp.maximum(g0, 1.0)
    steps = jnp.diag(h)
    values = jax.jit(jax.vmap(loss))(jnp.concatenate([g0 + steps, g0 - steps]))
    n = g0.shape[0]
    for k in range(n):
        fd = (float(values[k]) - float(values[n + k])) / (2 * float(h[k]))
        print(net.synapses[group].names[k], float(grad[k]), fd)
        np.testing.assert_allclose(float(grad[k]), fd, rtol=1e-4, atol=1e-9)


def test_vmap_over_a_thousand_circuits():
    net = pyloric_circuit()
    rng = np.random.default_rng(0)
    strengths = jnp.asarray(rng.choice([0.0, 1.0, 3.0, 10.0, 30.0, 100.0], size=(1000, 7)))

    @jax.jit
    def run(g):
        def one(gi):
            n = eqx.tree_at(lambda m: m.synapses[0].g, net, gi)
            sol = jn.simulate(n, 200.0, solver=jn.ExponentialEuler(dt=0.05), save_every=200.0)
            return sol.ys[-1]

        return jax.vmap(one)(g)

    final = run(strengths)
    assert final.shape == (1000, len(net.state_names))
    assert bool(jnp.all(jnp.isfinite(final)))
    assert float(jnp.std(final[:, 0])) > 0.1  # different strengths, different states


def test_adaptive_and_imex_solvers_on_a_network():
    net = _two_hh([Glutamatergic("a", "b", 300.0), Electrical("a", "b", 5.0)])
    for solver in ("tsit5", "kvaerno5", "kencarp4", "trbdf2"):
        sol = jn.simulate(net, 50.0, solver=solver, rtol=1e-6, atol=1e-6)
        assert bool(sol.success) and sol.V.shape == (501, 2)


def test_bad_input():
    cells = {"a": jn.build_HH(name="a"), "b": jn.build_HH(name="b")}
    with pytest.raises(KeyError, match=r"unknown neuron 'c'"):
        build_network([Glutamatergic("a", "c", 1.0)], cells)
    with pytest.raises(ValueError, match=r"strength of .* must be >= 0 nS"):
        build_network([Cholinergic("a", "b", -1.0)], cells)
    with pytest.raises(ValueError, match=r"one strength \(nS\) per synapse"):
        GradedSynapses(g=[1.0, 2.0], E=-70.0, pre=(0,), post=(1,), names=("x",))
    with pytest.raises(ValueError, match=r"neuron index outside"):
        jn.network.Network(
            neurons=tuple(cells.values()),
            neuron_names=("a", "b"),
            synapses=(GradedSynapses(g=[1.0], E=-70.0, pre=(0,), post=(5,), names=("x",)),),
            geometry=jn.Geometry(area_cm2=1e-3),
        )
    with pytest.raises(KeyError, match=r"unknown pyloric synapse 'AB->XY'"):
        pyloric_circuit(strengths={"AB->XY": 3.0})
    with pytest.raises(ValueError, match=r"synapse names must be unique"):
        build_network([Glutamatergic("a", "b", 1.0), Cholinergic("a", "b", 1.0)], cells)
    with pytest.raises(TypeError, match=r"Chemical or Electrical"):
        build_network([("a", "b", 1.0)], cells)
    assert isinstance(Chemical("a", "b", 1.0, E=-70.0), Chemical)
