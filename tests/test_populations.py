"""Populations and sparse projections: connectivity builders, delivery paths, a population
against single-neuron simulation, and a two-neuron network against an independent SciPy
solution with exact synaptic jumps at the spike times."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import solve_ivp

import jaxneuron as jn


def test_fixed_probability_and_indegree_statistics():
    n_pre, n_post, p = 400, 300, 0.05
    conn = jn.fixed_probability(n_pre, n_post, p, seed=3)
    pre, post = conn.pairs()
    expected = p * n_pre * n_post
    assert abs(len(pre) - expected) < 4 * np.sqrt(expected)
    assert len(set(zip(pre.tolist(), post.tolist(), strict=True))) == len(pre)  # no repeats
    same = jn.fixed_probability(n_pre, n_post, p, seed=3)
    np.testing.assert_array_equal(same.targets, conn.targets)  # seeded
    no_self = jn.fixed_probability(50, 50, 0.5, seed=1, autapses=False)
    pre, post = no_self.pairs()
    assert not np.any(pre == post)

    k = 20
    conn = jn.fixed_indegree(n_pre, n_post, k, seed=0, autapses=False)
    pre, post = conn.pairs()
    assert np.all(np.bincount(post, minlength=n_post) == k)
    assert len(set(zip(pre.tolist(), post.tolist(), strict=True))) == len(pre)
    assert not np.any(pre == post)

    round_trip = jn.from_pairs(pre, post, n_pre, n_post)
    assert sorted(zip(*round_trip.pairs(), strict=True)) == sorted(zip(pre, post, strict=True))
    with pytest.raises(ValueError, match="post indices"):
        jn.from_pairs([0], [n_post], n_pre, n_post)


def test_population_equals_single_neuron_simulation():
    """Uncoupled neurons of a population follow `simulate(..., ExponentialEuler)` of the
    same neuron: the same step, vmapped."""
    currents = jnp.asarray([0.5, 1.0, 3.0])
    neuron = jn.build_TraubMiles(0.0)
    pop = jn.Population(neuron, 3, stimulus=jn.Constant(currents), name="P")
    net = jn.PopulationNetwork((pop,), ())
    states = neuron.state_names
    sol = jn.simulate_populations(net, 50.0, dt=0.025, record={"P": [0, 1, 2]},
                                  record_states=states)  # fmt: skip
    for i, amplitude in enumerate(np.asarray(currents)):
        single = jn.simulate(
            jn.build_TraubMiles(float(amplitude)), 50.0, solver=jn.ExponentialEuler(dt=0.025),
            save_every=0.025,
        )  # fmt: skip
        np.testing.assert_allclose(sol.V["P"][:, i], single.V[1:], atol=1e-9)
        for state in states:
            np.testing.assert_allclose(sol.states["P"][state][:, i], single[state][1:], atol=1e-9)


def _two_cells(dt):
    """A (driven) excites B; B inhibits A."""
    a = jn.Population(jn.build_TraubMiles(2.0), 1, name="A")
    b = jn.Population(jn.build_TraubMiles(0.2), 1, name="B")
    exc = jn.Projection("A", "B", jn.from_pairs([0], [0], 1, 1), 40.0,
                        jn.ExponentialReceptor(5.0, 0.0))  # fmt: skip
    inh = jn.Projection("B", "A", jn.from_pairs([0], [0], 1, 1), 20.0,
                        jn.ExponentialReceptor(10.0, -80.0))  # fmt: skip
    net = jn.PopulationNetwork((a, b), (exc, inh), area=20_000.0)
    return jn.simulate_populations(net, 200.0, dt=dt, raster=100)


def _rates(V, vt=-63.0):
    v = V - vt
    am = 0.32 * (13 - v) / np.expm1((13 - v) / 4)
    bm = 0.28 * (v - 40) / np.expm1((v - 40) / 5)
    ah = 0.128 * np.exp((17 - v) / 18)
    bh = 4 / (1 + np.exp((40 - v) / 5))
    an = 0.032 * (15 - v) / np.expm1((15 - v) / 5)
    bn = 0.5 * np.exp((10 - v) / 40)
    return am, bm, ah, bh, an, bn


def _scipy_reference(t1=200.0):
    """The same two cells with SciPy (DOP853, rtol 1e-10): the conductances jump by the
    weight exactly at each upward crossing of −20 mV (terminal events, restarts)."""
    area_cm2 = 20_000e-8
    nS = 1e-6 / area_cm2  # nS → mS/cm²
    stim = (2.0, 0.2)

    def cell(V, m, h, n, I, G, E):
        am, bm, ah, bh, an, bn = _rates(V)
        I_ion = 100 * m**3 * h * (V - 50) + 30 * n**4 * (V + 90) + 0.05 * (V + 60)
        return [I - I_ion + G * nS * (E - V), am * (1 - m) - bm * m, ah * (1 - h) - bh * h,
                an * (1 - n) - bn * n]  # fmt: skip

    def rhs(t, y):
        gAB, gBA = y[8], y[9]
        return [*cell(*y[0:4], stim[0], gBA, -80.0), *cell(*y[4:8], stim[1], gAB, 0.0),
                -gAB / 5.0, -gBA / 10.0]  # fmt: skip

    def crossing(k):
        def event(t, y):
            return y[4 * k] + 20.0

        event.terminal, event.direction = True, 1
        return event

    def steady(V):
        am, bm, ah, bh, an, bn = _rates(V)
        return [V, am / (am + bm), ah / (ah + bh), an / (an + bn)]

    y = np.asarray(steady(-60.0) + steady(-60.0) + [0.0, 0.0])
    t, spikes = 0.0, ([], [])
    while t < t1:
        sol = solve_ivp(rhs, (t, t1), y, method="DOP853", rtol=1e-10, atol=1e-10,
                        events=[crossing(0), crossing(1)])  # fmt: skip
        t, y = sol.t[-1], sol.y[:, -1].copy()
        if sol.status != 1:
            break
        for k, weight in ((0, 40.0), (1, 20.0)):
            if sol.t_events[k].size:
                spikes[k].append(sol.t_events[k][0])
                y[8 + k] += weight
        y[[0, 4]] += 1e-9  # step off the event surface
    return [np.asarray(s) for s in spikes]


@pytest.fixture(scope="module")
def reference_spikes():
    return _scipy_reference()


def test_two_cell_network_against_scipy(reference_spikes):
    """Spike times of a driven cell and the cell it excites (which inhibits it back)
    converge to SciPy's as dt shrinks (the synaptic jump lands on the step after the
    crossing, so the scheme is first order in dt)."""
    errors = []
    for dt in (0.02, 0.01):
        sol = _two_cells(dt)
        for k, name in enumerate(("A", "B")):
            times, ids, complete = sol.raster[name]
            assert bool(complete)
            times = np.asarray(times)[np.isfinite(np.asarray(times))]
            ref = reference_spikes[k]
            assert len(times) == len(ref) and len(ref) >= 5, (name, len(times), len(ref))
            errors.append(np.max(np.abs(times - ref)))
    print("max spike-time errors (dt 0.02: A, B; dt 0.01: A, B):", errors)
    assert max(errors[2:]) < 0.05  # ms, at dt = 0.01
    assert max(errors[2:]) < 0.75 * max(errors[:2])  # first order: the error shrinks


def test_sparse_delivery_equals_dense_in_a_random_network():
    net, y0, g0 = jn.cobahh(200, p=0.1, seed=2, dtype=jnp.float64)
    runs = [
        jn.simulate_populations(net, 100.0, dt=0.1, y0=y0, g0=g0, max_spikes_per_step=k)
        for k in (2, 1000)
    ]
    for name in ("E", "I"):
        np.testing.assert_array_equal(runs[0].counts[name], runs[1].counts[name])
        np.testing.assert_allclose(runs[0].isi_sum[name], runs[1].isi_sum[name], rtol=1e-12)
    assert int(jnp.sum(runs[0].counts["E"])) > 100


def test_bad_input_is_named():
    pop = jn.Population(jn.build_TraubMiles(), 4, name="E")
    with pytest.raises(ValueError, match="shape \\(4,\\)"):
        jn.Population(jn.build_TraubMiles(), 4, {"Na.g": jnp.ones(3)})
    conn = jn.fixed_probability(3, 4, 0.5, seed=0)
    projection = jn.Projection("E", "E", conn, 1.0, jn.ExponentialReceptor(5.0, 0.0))
    with pytest.raises(ValueError, match="connectivity is 3×4"):
        jn.PopulationNetwork((pop,), (projection,))
    with pytest.raises(ValueError, match="tau"):
        jn.ExponentialReceptor(0.0, 0.0)
    with pytest.raises(ValueError, match="p \\(connection probability\\)"):
        jn.fixed_probability(3, 3, 1.5, seed=0)
    jax.clear_caches()


def test_gradient_of_population_activity_wrt_excitatory_scale_matches_finite_differences():
    """The derivative of a smooth population-activity loss (the mean over neurons and
    steps of a sigmoid of V) w.r.t. the excitatory weight scale is the exact derivative
    of the discrete map: spike decisions are piecewise constant (zero derivative, no
    surrogate) and every spike delivers scale·w. Central differences with a step too
    small to move any spike across a step boundary give the same number."""
    net, y0, g0 = jn.cobahh(100, p=0.1, seed=4, dtype=jnp.float64)
    idx = list(range(80))

    def loss(scale):
        projections = tuple(
            eqx.tree_at(lambda p: p.scale, p, scale) if p.pre == "E" else p for p in net.projections
        )
        moved = eqx.tree_at(lambda n: n.projections, net, projections)
        sol = jn.simulate_populations(moved, 30.0, dt=0.1, y0=y0, g0=g0, record={"E": idx})
        return jnp.mean(jax.nn.sigmoid((sol.V["E"] + 20.0) / 2.0))

    scale = jnp.asarray(1.0)
    grad = jax.grad(loss)(scale)
    eps = 1e-7  # 1e-5 already moves a spike (the map is piecewise smooth)
    fd = (loss(scale + eps) - loss(scale - eps)) / (2 * eps)
    print("AD", float(grad), "FD", float(fd))
    assert abs(float(grad)) > 1e-6  # the excitatory drive matters
    np.testing.assert_allclose(float(grad), float(fd), rtol=1e-5)


@pytest.mark.parametrize("delay", [0.0, 1.0])
def test_delays_are_whole_steps(delay):
    """A spike of A in (t_n, t_{n+1}] opens B's conductance at t_{n+1+D}, so B's V first
    departs from its unconnected run at t_{n+2+D}."""
    dt = 0.1

    def run(weight):
        a = jn.Population(jn.build_TraubMiles(3.0), 1, name="A")
        b = jn.Population(jn.build_TraubMiles(0.0), 1, name="B")
        proj = jn.Projection("A", "B", jn.from_pairs([0], [0], 1, 1), weight,
                             jn.ExponentialReceptor(5.0, 0.0), delay=delay)  # fmt: skip
        net = jn.PopulationNetwork((a, b), (proj,))
        return jn.simulate_populations(net, 30.0, dt=dt, record={"B": [0]}, raster=10)

    connected, alone = run(50.0), run(0.0)
    first_spike = float(connected.raster["A"][0][0])
    n = int(np.floor(first_spike / dt))
    departs = np.flatnonzero(np.asarray(connected.V["B"][:, 0] != alone.V["B"][:, 0]))[0]
    # V is saved after each step: entry k is V(t_{k+1})
    assert departs + 1 == n + 2 + int(round(delay / dt))
    with pytest.raises(ValueError, match="delay"):
        jn.Projection("A", "B", jn.from_pairs([0], [0], 1, 1), 1.0,
                      jn.ExponentialReceptor(5.0, 0.0), delay=-1.0)  # fmt: skip


def test_refractory_spike_rule_is_brian2s():
    """With ``refractory`` R a spike is counted (and delivered) when V ≥ θ at a step's end
    and the last spike is at least R before: the raster equals that rule applied offline
    to the recorded trace."""
    dt, R = 0.01, 6.0
    pop = jn.Population(jn.build_TraubMiles(0.0), 1, stimulus=jn.Constant(jnp.asarray([30.0])),
                        name="P")  # fmt: skip
    net = jn.PopulationNetwork((pop,), ())
    sol = jn.simulate_populations(net, 60.0, dt=dt, refractory=R, raster=50, record={"P": [0]})
    V = np.concatenate([[float(pop.neuron.V0)], np.asarray(sol.V["P"][:, 0])])
    t = np.arange(V.size) * dt
    expected, last = [], -np.inf
    for k in range(1, V.size):
        if V[k] >= -20.0:
            when = (
                t[k - 1] + dt * (-20.0 - V[k - 1]) / (V[k] - V[k - 1]) if V[k - 1] < -20.0 else t[k]
            )
            if when - last >= R:
                expected.append(when)
                last = when
    times = np.asarray(sol.raster["P"][0])
    times = times[np.isfinite(times)]
    crossings = np.sum((V[:-1] < -20.0) & (V[1:] >= -20.0))
    assert len(expected) >= 5 and crossings > len(expected)  # the rule drops crossings
    np.testing.assert_allclose(times, expected, atol=1e-9)
    assert np.all(np.diff(times) >= R)


def _scaled(net, scale):
    projections = tuple(
        eqx.tree_at(lambda p: p.scale, p, scale) if p.pre == "E" else p for p in net.projections
    )
    return eqx.tree_at(lambda n: n.projections, net, projections)


def test_gradient_of_smooth_population_rate_matches_finite_differences():
    """`smooth_rate` (each spike weighted by a Hann window of its interpolated time) moves
    continuously with the spike times: its derivative w.r.t. the excitatory weight scale
    (no surrogate) equals central differences with a step too small to add or remove a
    spike. A `FastSigmoid` surrogate leaves every forward value unchanged and gives
    `soft_rate` a finite, non-zero gradient."""
    net, y0, g0 = jn.cobahh(100, p=0.1, seed=4, dtype=jnp.float64)

    def run(scale, surrogate=None):
        return jn.simulate_populations(
            _scaled(net, scale), 30.0, dt=0.1, y0=y0, g0=g0, surrogate=surrogate
        )

    one = jnp.asarray(1.0)
    grad = jax.grad(lambda s: run(s).smooth_rate("E"))(one)
    eps = 1e-7
    fd = (run(one + eps).smooth_rate("E") - run(one - eps).smooth_rate("E")) / (2 * eps)
    print("smooth rate: AD", float(grad), "FD", float(fd))
    assert abs(float(grad)) > 1.0  # Hz per unit scale
    np.testing.assert_allclose(float(grad), float(fd), rtol=1e-5)

    plain, soft = run(one), run(one, jn.FastSigmoid(100.0))
    for name in ("E", "I"):
        np.testing.assert_array_equal(plain.counts[name], soft.counts[name])
        np.testing.assert_allclose(float(soft.soft_rate(name)), float(plain.rate(name)))
    surrogate = jax.grad(lambda s: run(s, jn.FastSigmoid(100.0)).soft_rate("E"))(one)
    assert np.isfinite(float(surrogate)) and float(surrogate) != 0.0
    assert float(jax.grad(lambda s: run(s).soft_rate("E"))(one)) == 0.0  # no surrogate


def test_fit_recovers_an_excitatory_scale_from_a_population_rate():
    """`jaxneuron.fit.fit` takes a `PopulationNetwork` (parameters by name) and a loss of
    its `smooth_rate`: Adam recovers the excitatory recurrent scale that produced a
    target rate (1.6, from 1.0; the rate moves from 31 to 159 Hz)."""
    import optax

    net, y0, g0 = jn.cobahh(100, p=0.1, seed=4, dtype=jnp.float64)

    def rate(n):
        sol = jn.simulate_populations(n, 100.0, dt=0.1, y0=y0, g0=g0, start=20.0)
        return sol.smooth_rate("E")

    assert jn.parameter_names(net)[:2] == ("E.C", "E.V0")
    target = float(rate(net.set_parameters({"E->E.scale": 1.6})))
    result = jn.fit.fit(net, lambda n: (rate(n) - target) ** 2, ["E->E.scale"],
                        optimizer=optax.adam(0.05), steps=40)  # fmt: skip
    assert abs(result.values["E->E.scale"] - 1.6) < 0.05, result.values
    assert abs(float(rate(net.set_parameters(result.values))) - target) < 0.02 * target
