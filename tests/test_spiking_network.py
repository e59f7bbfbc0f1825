"""Spiking networks with event-driven synapses: kernels, delays, NMDA block, E/I rates,
gradients and input checks."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import solve_ivp

from jaxneuron.neurons.integrate_and_fire import LIFConfig, build_LIF
from jaxneuron.receptors import mg_block
from jaxneuron.spiking import (
    AlphaSynapses,
    ExponentialSynapses,
    NMDASynapses,
    SpikingNetwork,
    ei_network,
    simulate_network,
)

# Neuron 0 fires once (2 nA drive, refractory longer than the run); neuron 1 is passive.
CFG = LIFConfig(tau=10.0, R=10.0, E_L=-65.0, V_th=-50.0, V_reset=-65.0, t_ref=1e4)
E_L, TAU_M, R = -65.0, 10.0, 10.0


def pair(synapse, drive=(2.0, 0.0)):
    neurons = eqx.filter_vmap(lambda current: build_LIF(current, config=CFG))(jnp.array(drive))
    return SpikingNetwork(neurons, (synapse,))


def kernel(kind, s, tau):
    s = np.asarray(s)
    if kind == "exp":
        out = np.exp(-s / tau)
    else:
        out = s / tau * np.exp(1.0 - s / tau)
    return np.where(s >= 0, out, 0.0)


@pytest.mark.parametrize("kind", ["exp", "alpha"])
def test_single_spike_conductance_and_psp(kind):
    g, tau, delay, dt, E = 20.0, 5.0, 2.0, 0.01, 0.0
    cls = ExponentialSynapses if kind == "exp" else AlphaSynapses
    net = pair(cls(pre=[0], post=[1], g=g, E=E, tau=tau, delay=delay))
    sol = simulate_network(net, 60.0, dt=dt, record=(1,))
    assert sol.counts["neurons"].tolist() == [1, 0]
    spike_time = np.asarray(sol.states["neurons"]["spike_time"])
    t_s = float(spike_time[np.isfinite(spike_time[:, 0]), 0][0])
    assert [len(train) for train in sol.spike_trains("neurons")] == [1, 0]
    assert abs(t_s - 10.0 * np.log(4.0)) < 1e-3
    t_arrive = t_s + round(delay / dt) * dt
    ts = np.asarray(sol.ts)

    # The conductance is exact at every grid point (for the rounded delay).
    expected = g * kernel(kind, ts - t_arrive, tau)
    g_syn = np.asarray(sol.states["synapses[0]"]["g"][:, 0])
    np.testing.assert_allclose(g_syn, expected, atol=1e-10)

    # PSP of the passive cell: τ dV/dt = −(V − E_L) − R·g_syn(t)·(V − E)·1e-3 (nS·mV → nA).
    def rhs(t, V):
        return (-(V - E_L) - R * 1e-3 * g * kernel(kind, t - t_arrive, tau) * (V - E)) / TAU_M

    after = ts >= t_arrive
    ref = solve_ivp(rhs, (t_arrive, ts[-1]), [E_L], t_eval=ts[after], rtol=1e-10, atol=1e-12)
    V = np.asarray(sol.V["neurons"][:, 0])
    np.testing.assert_allclose(V[~after], E_L, atol=1e-12)
    amplitude = ref.y[0].max() - E_L
    assert amplitude > 2.0  # a sizeable PSP (mV)
    # First order in dt (current held over each step): within 1% of the PSP amplitude.
    assert np.max(np.abs(V[after] - ref.y[0])) < 0.01 * amplitude


def test_delay_shifts_psp_by_whole_steps():
    dt = 0.1
    traces = {}
    for delay in (1.0, 1.04, 3.0):
        net = pair(AlphaSynapses(pre=[0], post=[1], g=10.0, tau=2.0, delay=delay))
        sol = simulate_network(net, 60.0, dt=dt, record=(1,))
        traces[delay] = np.asarray(sol.V["neurons"][:, 0])
    np.testing.assert_array_equal(traces[1.0], traces[1.04])  # 1.04 ms rounds to 10 steps
    shift = 20  # 2 ms
    np.testing.assert_allclose(traces[3.0][shift:], traces[1.0][:-shift], atol=1e-12)
    assert traces[1.0].max() > E_L + 1.0


def test_nmda_block_and_negative_slope():
    V = np.array([-100.0, -80.0, -60.0, -40.0, -20.0, 0.0, 20.0])
    for Mg in (1.0, 2.0):
        expected = 1.0 / (1.0 + Mg / 3.57 * np.exp(-0.062 * V))
        np.testing.assert_allclose(np.asarray(mg_block(jnp.asarray(V), Mg)), expected, rtol=1e-12)
    syn = NMDASynapses(pre=[0], post=[1], g=1.0, E=0.0, Mg=2.0)
    np.testing.assert_allclose(np.asarray(syn.block(jnp.asarray(V))), expected, rtol=1e-12)

    # Steady current I(V) = g·B(V)·(V − E) with an open synapse (g_syn = g): the slope
    # conductance dI/dV is negative from hyperpolarised V up to the current's minimum
    # (about −25 mV), and positive (nearly ohmic) above it.
    syn = NMDASynapses(pre=[0], post=[1], g=1.0, E=0.0)
    grid = jnp.linspace(-100.0, 20.0, 1201)
    open_state = jnp.array([[1.0, 0.0]])  # decay component 1, rise component 0: g_syn ∝ 1
    current = np.asarray(jax.vmap(lambda v: syn.current(open_state, v[None])[0])(grid))
    slope = np.gradient(current, np.asarray(grid))
    at = {v: slope[int(round((v + 100.0) * 10))] for v in (-70.0, -50.0, -35.0, 0.0, 20.0)}
    assert at[-70.0] < 0 and at[-50.0] < 0 and at[-35.0] < 0, at
    assert at[0.0] > 0 and at[20.0] > 0, at
    v_min = float(grid[np.argmin(current)])
    assert -35.0 < v_min < -15.0, v_min

    # The dual-exponential kernel peaks at g.
    net = pair(NMDASynapses(pre=[0], post=[1], g=3.0, tau_rise=2.0, tau_decay=100.0))
    sol = simulate_network(net, 100.0, dt=0.05, record=(1,))
    g_trace = np.asarray(sol.states["synapses[0]"]["g"][:, 0])
    assert abs(g_trace.max() - 3.0) < 1e-3


def test_ei_network_rate_decreases_with_inhibition():
    net = ei_network(80, 20, p=0.1, seed=0)
    assert net.n_neurons == 100

    def rate(g_inh):
        inhibited = eqx.tree_at(lambda n: n.synapses[1].g, net, g_inh)
        return simulate_network(inhibited, 300.0, dt=0.1, start=50.0).rate("neurons")

    rates = np.asarray(jax.vmap(rate)(jnp.array([0.0, 8.0, 32.0])))
    assert rates[0] > 5.0
    assert np.all(np.diff(rates) < 0), rates


def test_gradient_of_subthreshold_network_matches_finite_differences():
    # Neuron 0 drives neurons 1 and 2 through three kinds of synapse; 1 and 2 stay
    # subthreshold, so the loss is a smooth function of the strengths.
    neurons = eqx.filter_vmap(lambda current: build_LIF(current, config=LIFConfig(t_ref=2.0)))(
        jnp.array([2.0, 0.5, 0.3])
    )
    groups = (
        ExponentialSynapses(pre=[0, 0], post=[1, 2], g=jnp.array([3.0, 2.0]), tau=5.0, delay=1.0),
        AlphaSynapses(pre=[0, 0], post=[2, 1], g=jnp.array([2.0, 1.0]), E=-80.0, tau=3.0),
        NMDASynapses(pre=[0], post=[1], g=jnp.array([2.0]), delay=0.5),
    )
    net = SpikingNetwork(neurons, groups)

    def loss(strengths):
        model = eqx.tree_at(lambda n: [s.g for s in n.synapses], net, list(strengths))
        sol = simulate_network(model, 60.0, dt=0.1, record=(1, 2))
        return jnp.mean(sol.V["neurons"])

    strengths = [s.g for s in groups]
    sol = simulate_network(net, 60.0, dt=0.1, record=(0, 1, 2))
    counts = sol.counts["neurons"]
    assert int(counts[0]) >= 3 and int(counts[1]) == 0 and int(counts[2]) == 0
    grads = jax.grad(loss)(strengths)
    h = 1e-5
    for k, g in enumerate(strengths):
        for i in range(g.shape[0]):
            up = [s.at[i].add(h) if j == k else s for j, s in enumerate(strengths)]
            down = [s.at[i].add(-h) if j == k else s for j, s in enumerate(strengths)]
            fd = (loss(up) - loss(down)) / (2 * h)
            assert abs(float(grads[k][i]) - float(fd)) < 1e-6 * max(1.0, abs(float(fd)))
            assert abs(float(fd)) > 1e-4


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: ExponentialSynapses(pre=[0], post=[1], g=-1.0), r"g \(peak conductance\).*nS"),
        (lambda: AlphaSynapses(pre=[0], post=[1], delay=-1.0), r"delay.*ms"),
        (lambda: ExponentialSynapses(pre=[0], post=[1], tau=0.0), r"tau.*ms"),
        (lambda: NMDASynapses(pre=[0], post=[1], tau_decay=-5.0), r"tau_decay.*ms"),
        (lambda: NMDASynapses(pre=[0], post=[1], Mg=-1.0), r"Mg.*mM"),
        (lambda: ExponentialSynapses(pre=[0, 1], post=[1]), r"pre and post.*length"),
        (lambda: ExponentialSynapses(pre=[0, 1], post=[1, 0], g=[1.0, 2.0, 3.0]), r"g \(nS\)"),
        (lambda: ExponentialSynapses(pre=[-1], post=[1]), r"pre \(neuron index\)"),
        (lambda: pair(ExponentialSynapses(pre=[0], post=[5])), r"post.*5.*out of range"),
    ],
)
def test_bad_input_raises(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_per_synapse_delays_split_into_projections_of_the_same_dynamics():
    """A group with a delay and a strength per synapse is the same network as one group
    per synapse (the group becomes one projection per distinct delay)."""
    neurons = eqx.filter_vmap(lambda current: build_LIF(current, config=CFG))(
        jnp.array([2.0, 0.0, 0.0])
    )
    mixed = SpikingNetwork(
        neurons,
        (AlphaSynapses(pre=[0, 0], post=[1, 2], g=jnp.array([5.0, 10.0]), tau=2.0,
                       delay=jnp.array([1.0, 3.0])),),
    )  # fmt: skip
    split = SpikingNetwork(
        neurons,
        (
            AlphaSynapses(pre=[0], post=[1], g=5.0, tau=2.0, delay=1.0),
            AlphaSynapses(pre=[0], post=[2], g=10.0, tau=2.0, delay=3.0),
        ),
    )
    assert [p.label for p in mixed.to_populations().projections] == [
        "synapses[0][0]",
        "synapses[0][1]",
    ]
    a = simulate_network(mixed, 40.0, dt=0.1, record=(1, 2))
    b = simulate_network(split, 40.0, dt=0.1, record=(1, 2))
    Va, Vb = np.asarray(a.V["neurons"]), np.asarray(b.V["neurons"])
    np.testing.assert_allclose(Va, Vb, rtol=0, atol=1e-12)
    assert float(Va[:, 1].max()) > E_L + 1.0
    # the mixed group's conductance is the sum of its two projections'
    g_split = b.states["synapses[0]"]["g"] + b.states["synapses[1]"]["g"]
    np.testing.assert_allclose(a.states["synapses[0]"]["g"], g_split, rtol=0, atol=1e-12)


def test_integrate_and_fire_and_conductance_populations_in_one_network():
    """A LIF population drives a Hodgkin-Huxley population through a spike-driven
    projection: the LIF neurons fire as they do alone (`simulate_spiking`, same step),
    and every spike opens the receptor on the HH cells."""
    import jaxneuron as jn

    drive = jnp.array([2.0, 2.5])
    lif = jn.Population(jn.build_LIF(config=CFG), 2, stimulus=jn.Constant(drive), name="E")
    hh = jn.Population(jn.build_HH(), 1, name="H")
    conn = jn.from_pairs([0, 1], [0, 0], 2, 1)
    net = jn.PopulationNetwork(
        (lif, hh), (jn.Projection("E", "H", conn, 20.0, jn.ExponentialReceptor(5.0, 0.0)),)
    )
    sol = jn.simulate_populations(net, 100.0, dt=0.01, record={"H": (0,)})
    for i, current in enumerate(drive):
        alone = jn.simulate_spiking(
            build_LIF(float(current), config=CFG), 100.0, solver=jn.ExponentialEuler(0.01),
            max_spikes=10,
        )  # fmt: skip
        assert int(sol.counts["E"][i]) == int(alone.spike_count) >= 1
    V = np.asarray(sol.states["H"]["V"][:, 0])
    assert V.max() > V[0] + 1.0  # depolarised by the input


def test_izhikevich_population_needs_a_current_unit():
    import jaxneuron as jn

    with pytest.raises(ValueError, match="current_scale"):
        jn.Population(jn.build_Izhikevich(), 3)


def test_surrogate_gradient_through_a_recurrent_integrate_and_fire_network_is_finite():
    """A surrogate spike in a recurrent E/I network of LIF populations: the rate's
    gradient stays finite (the reset is not blended through the surrogate: blended, it
    grew to inf/NaN within 100 ms) and has the sign of the rate's measured response."""
    import jaxneuron as jn

    def rate(scale):
        exc = jn.Population(
            jn.build_LIF(), 20, stimulus=jn.Constant(scale * jnp.linspace(1.2, 2.0, 20)), name="E"
        )
        inh = jn.Population(jn.build_LIF(), 5, name="I")
        net = jn.PopulationNetwork(
            (exc, inh),
            (
                jn.Projection("E", "I", jn.fixed_probability(20, 5, 0.5, seed=0), 5.0,
                              jn.ExponentialReceptor(5.0, 0.0)),
                jn.Projection("I", "E", jn.fixed_probability(5, 20, 0.5, seed=1), 5.0,
                              jn.ExponentialReceptor(10.0, -80.0), exact_onset=True),
            ),
        )  # fmt: skip
        sol = jn.simulate_populations(net, 100.0, dt=0.1, surrogate=jn.FastSigmoid(5.0))
        return sol.soft_rate("E")

    grad = float(jax.grad(rate)(1.0))
    measured = float(rate(1.02) - rate(0.98)) / 0.04
    assert np.isfinite(grad) and measured > 0 and grad > 0, (grad, measured)
