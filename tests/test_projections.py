"""Projections between populations beyond exponential synapses: alpha and NMDA receptors
against their kernels written out here and SciPy, graded synapses and gap junctions
against `Network`'s fixed step (circuits as populations of one), vmap over network
parameters, and input checks."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import solve_ivp

import jaxneuron as jn

AREA_UM2 = 20_000.0
NS = 1e-6 / (AREA_UM2 * 1e-8)  # nS → mS/cm²


def _alpha(s, tau=3.0):
    return np.where(s >= 0, s / tau * np.exp(1 - s / tau), 0.0)


def _nmda(s, tau_r=2.0, tau_d=30.0):
    t_peak = tau_r * tau_d * np.log(tau_d / tau_r) / (tau_d - tau_r)
    peak = np.exp(-t_peak / tau_d) - np.exp(-t_peak / tau_r)
    return np.where(s >= 0, (np.exp(-s / tau_d) - np.exp(-s / tau_r)) / peak, 0.0)


def _hh_rates(V):
    am = 0.1 * (V + 40) / -np.expm1(-(V + 40) / 10)
    bm = 4 * np.exp(-(V + 65) / 18)
    ah = 0.07 * np.exp(-(V + 65) / 20)
    bh = 1 / (1 + np.exp(-(V + 35) / 10))
    an = 0.01 * (V + 55) / -np.expm1(-(V + 55) / 10)
    bn = 0.125 * np.exp(-(V + 65) / 80)
    return am, bm, ah, bh, an, bn


def _postsynaptic_reference(arrivals, kernel, weight, E, block, t_eval):
    """A Hodgkin–Huxley cell at rest receiving the conductance w·Σ k(t − t_a)·B(V), solved
    by SciPy (DOP853, rtol 1e-10) piece by piece between arrivals; V at ``t_eval``."""

    def rhs(t, y):
        V, m, h, n = y
        am, bm, ah, bh, an, bn = _hh_rates(V)
        g = weight * np.sum(kernel(t - arrivals)) * block(V)
        I_ion = 120 * m**3 * h * (V - 50) + 36 * n**4 * (V + 77) + 0.3 * (V + 54.4)
        return [-I_ion + g * NS * (E - V), am * (1 - m) - bm * m, ah * (1 - h) - bh * h,
                an * (1 - n) - bn * n]  # fmt: skip

    am, bm, ah, bh, an, bn = _hh_rates(-65.0)
    y = [-65.0, am / (am + bm), ah / (ah + bh), an / (an + bn)]
    edges = np.unique(np.concatenate([[0.0], arrivals[arrivals < t_eval[-1]], [t_eval[-1]]]))
    out = []
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        keep = t_eval[(t_eval > a) & (t_eval <= b)]
        sol = solve_ivp(rhs, (a, b), y, method="DOP853", rtol=1e-10, atol=1e-10,
                        t_eval=np.unique(np.concatenate([keep, [b]])))  # fmt: skip
        y = sol.y[:, -1]
        out.append(sol.y[0][: keep.size])
    return np.concatenate(out)


CASES = {
    "alpha": (jn.AlphaReceptor(tau=3.0, E=0.0), _alpha, 6.0, 0.0, lambda V: 1.0),
    "nmda": (
        jn.NMDAReceptor(tau_rise=2.0, tau_decay=30.0, E=0.0, Mg=1.0),
        _nmda,
        40.0,
        0.0,
        lambda V: 1.0 / (1.0 + 1.0 / 3.57 * np.exp(-0.062 * V)),
    ),
}


@pytest.mark.parametrize("kind", sorted(CASES))
def test_alpha_and_nmda_receptors_against_their_kernels(kind):
    """A driven cell spikes onto a cell at rest through alpha or NMDA synapses (delay 1 ms).
    Each spike in (t_n, t_{n+1}] opens the receptor at t_{n+1+D}; given those arrival times,
    the postsynaptic V equals SciPy's solution with the kernel written out here (and the
    Mg²⁺ block of Jahr & Stevens) to first order in Δt. The target is an HH cell at
    rest (it stays subthreshold)."""
    receptor, kernel, weight, E, block = CASES[kind]
    errors = []
    for dt in (0.02, 0.01):
        pre = jn.Population(jn.build_TraubMiles(1.5), 1, name="pre")
        post = jn.Population(jn.build_HH(0.0), 1, name="post")
        proj = jn.Projection("pre", "post", jn.from_pairs([0], [0], 1, 1), weight, receptor,
                             delay=1.0)  # fmt: skip
        net = jn.PopulationNetwork((pre, post), (proj,), area=AREA_UM2)
        sol = jn.simulate_populations(net, 80.0, dt=dt, record={"post": [0]}, raster=20)
        assert int(sol.counts["post"][0]) == 0  # the target stays subthreshold
        times = np.asarray(sol.raster["pre"][0])
        times = times[np.isfinite(times)]
        assert times.size >= 3
        arrivals = (np.floor(times / dt + 1e-9) + 1 + round(1.0 / dt)) * dt
        ts = np.asarray(sol.ts)
        ref = _postsynaptic_reference(arrivals, kernel, weight, E, block, ts)
        V = np.asarray(sol.V["post"][:, 0])
        assert ref.max() > -63.5  # the synapses move V by mV
        errors.append(np.max(np.abs(V - ref)))
    print(kind, "max |V − V_ref| (mV) at dt 0.02, 0.01:", errors)
    assert errors[1] < 0.02
    assert errors[1] < 0.6 * errors[0]  # first order


def _compare_with_network(network, t1, dt):
    """V of every cell from `simulate(ExponentialEuler)` and from the populations of one."""
    sol = jn.simulate(network, t1, solver=jn.ExponentialEuler(dt=dt), save_every=dt)
    pops = jn.PopulationNetwork.from_network(network)
    record = {name: [0] for name in pops.names}
    out = jn.simulate_populations(pops, t1, dt=dt, record=record, threshold=0.0)
    V_net = np.asarray(sol.V)[1:]
    V_pop = np.stack([np.asarray(out.V[name][:, 0]) for name in pops.names], axis=1)
    return V_net, V_pop


def test_pyloric_circuit_as_populations_of_one_equals_network_fixed_step():
    """Graded synapses: the pyloric circuit (7 synapses, Prinz 2004) as populations of one
    takes the same steps as `Network.fixed_step`: the same V to rounding, over 600 ms of
    bursting (float64)."""
    V_net, V_pop = _compare_with_network(jn.pyloric_circuit(), 600.0, 0.025)
    assert V_net.max() > 0.0 and V_net.min() < -60.0  # bursting
    np.testing.assert_allclose(V_pop, V_net, atol=1e-8)


def test_gap_junctions_as_populations_of_one_equal_network_fixed_step():
    """Gap junctions (and a graded synapse) between HH cells, one of them driven: the
    population engine equals `Network.fixed_step`."""
    cells = {
        "A": jn.build_HH(10.0, name="A"),
        "B": jn.build_HH(0.0, name="B"),
        "C": jn.build_HH(0.0, name="C"),
    }
    network = jn.build_network(
        [jn.Electrical("A", "B", 50.0), jn.Electrical("B", "C", 20.0),
         jn.Glutamatergic("A", "C", 5.0)],
        cells, geometry=jn.Geometry(area_cm2=1e-5),
    )  # fmt: skip
    V_net, V_pop = _compare_with_network(network, 50.0, 0.01)
    assert V_net[:, 1].max() > -50.0  # B follows A through the junction
    np.testing.assert_allclose(V_pop, V_net, atol=1e-9)


def test_vmap_over_network_parameters_equals_separate_runs():
    """`jax.vmap` over the excitatory weight scale gives each network's own spikes."""
    net, y0, g0 = jn.cobahh(120, p=0.1, seed=3, dtype=jnp.float64)

    def rate(scale):
        projections = tuple(
            eqx.tree_at(lambda p: p.scale, p, scale) if p.pre == "E" else p for p in net.projections
        )
        moved = eqx.tree_at(lambda n: n.projections, net, projections)
        sol = jn.simulate_populations(moved, 40.0, dt=0.1, y0=y0, g0=g0)
        return sol.counts["E"], sol.counts["I"]

    scales = jnp.asarray([0.5, 1.0, 2.0])
    batched = jax.vmap(rate)(scales)
    for k, scale in enumerate(scales):
        single = rate(scale)
        for b, s in zip(batched, single, strict=True):
            np.testing.assert_array_equal(np.asarray(b[k]), np.asarray(s))
    totals = [int(jnp.sum(batched[0][k])) for k in range(3)]
    assert totals[0] < totals[2]  # stronger excitation, more spikes


@pytest.mark.parametrize("exact_onset", [False, True])
def test_delivery_sums_the_rows_of_the_spiking_neurons_whatever_their_number(exact_onset):
    """A projection's delivery equals NumPy's sum of the weights (× the kick) over the
    synapses of the neurons that spiked, bit for bit the same for every number of spikes:
    none, a few (each bucket of the sparse path: 8, 16, 32, 40 rows) and more than
    ``max_spikes`` (every row)."""
    n_pre, n_post, max_spikes = 300, 200, 40
    conn = jn.fixed_probability(n_pre, n_post, 0.1, seed=3)
    rng = np.random.default_rng(4)
    weight = rng.uniform(0.5, 2.0, conn.targets.shape)
    receptor = jn.AlphaReceptor(tau=2.0, E=0.0)
    proj = jn.Projection("A", "B", conn, weight, receptor, exact_onset=exact_onset)
    rows = proj.rows(jnp.float64)
    state = proj.init(jnp.zeros(n_pre), jnp.zeros(n_post), None, 0.1, False)
    lag = jnp.asarray(rng.uniform(0.0, 0.1, n_pre))
    targets = np.asarray(conn.targets)
    deliveries = []
    for count in (0, 3, 8, 9, 16, 17, 33, 40, 41, 300):
        crossed = np.zeros(n_pre, bool)
        crossed[rng.choice(n_pre, count, replace=False)] = True
        g, _ = proj.after(state, rows, 0, 0.1, jnp.asarray(crossed), lag, max_spikes)
        expected = np.zeros((n_post + 1, receptor.n_components))
        for i in np.flatnonzero(crossed):
            kick = np.asarray(receptor.kick(lag[i] if exact_onset else jnp.zeros(())))
            np.add.at(expected, targets[i], weight[i][:, None] * kick)
        np.testing.assert_allclose(g, expected[:n_post], rtol=1e-13, atol=1e-13)
        every_row = proj.after(state, rows, 0, 0.1, jnp.asarray(crossed), lag, n_pre)[0]
        np.testing.assert_array_equal(g, every_row)  # the same terms in the same order
        deliveries.append(float(jnp.sum(g)))
    assert deliveries[0] == 0.0 and all(d > 0 for d in deliveries[1:])


def test_projection_input_errors_are_named():
    conn = jn.from_pairs([0], [0], 1, 1)
    with pytest.raises(TypeError, match="receptor must be a receptor"):
        jn.Projection("A", "B", conn, 1.0, "AMPA")
    with pytest.raises(ValueError, match="weight.*nS"):
        jn.GradedProjection("A", "B", conn, -1.0, E=-70.0)
    with pytest.raises(ValueError, match="tau_rise.*shorter"):
        jn.NMDAReceptor(tau_rise=5.0, tau_decay=2.0)
    with pytest.raises(ValueError, match="k_minus.*1/ms"):
        jn.GradedRelease(k_minus=0.0)
    a = jn.Population(jn.build_TraubMiles(), 1, name="A")
    net = jn.PopulationNetwork((a,), (jn.Projection("A", "A", conn, 1.0,
                                                    jn.AlphaReceptor(2.0, 0.0)),))  # fmt: skip
    with pytest.raises(ValueError, match="g0.*receptor state of shape \\(1, 2\\)"):
        jn.simulate_populations(net, 1.0, g0=[jnp.zeros(1)])
    with pytest.raises(TypeError, match="not a projection"):
        jn.PopulationNetwork((a,), (conn,))


def test_to_network_runs_small_networks_on_the_adaptive_solvers():
    """Three heterogeneous, individually driven HH cells coupled by gap junctions, driving
    two more through graded synapses: `to_network` takes exactly the population engine's
    fixed steps, and its adaptive (Kvaerno5) solution has the spike times that the fixed
    step converges to."""
    drive = jn.Population(
        jn.build_HH(),
        3,
        {"Na.g": jnp.asarray([110.0, 120.0, 130.0])},
        stimulus=jn.Constant(jnp.asarray([8.0, 10.0, 12.0])),
        name="D",
    )
    target = jn.Population(jn.build_HH(), 2, name="T")  # fmt: skip
    pops = jn.PopulationNetwork(
        (drive, target),
        (jn.GapJunctionProjection("D", "D", jn.from_pairs([0, 1], [1, 2], 3, 3), 2.0),
         jn.GradedProjection("D", "T", jn.from_pairs([0, 2, 1], [0, 0, 1], 3, 2), 40.0,
                             E=0.0)),
        area=10_000.0,
    )  # fmt: skip
    net = pops.to_network()
    assert net.neuron_names == ("D[0]", "D[1]", "D[2]", "T[0]", "T[1]")
    record = {"D": [0, 1, 2], "T": [0, 1]}
    fixed = jn.simulate(net, 60.0, solver=jn.ExponentialEuler(dt=0.01), save_every=0.01)
    ours = jn.simulate_populations(pops, 60.0, dt=0.01, record=record, threshold=0.0)
    V_pop = np.concatenate([np.asarray(ours.V["D"]), np.asarray(ours.V["T"])], axis=1)
    np.testing.assert_allclose(V_pop, np.asarray(fixed.V)[1:], atol=1e-9)

    adaptive = jn.simulate(net, 60.0, rtol=1e-7, atol=1e-7, save_every=0.005)
    ts, V = np.asarray(adaptive.ts), np.asarray(adaptive.V)
    for k in range(5):
        ref = jn.analysis.spike_times(ts, V[:, k], threshold=0.0)
        errors = []
        for dt in (0.01, 0.005):
            sol = jn.simulate_populations(pops, 60.0, dt=dt, threshold=0.0, raster=50)
            pop, i = ("D", k) if k < 3 else ("T", k - 3)
            times, ids, _ = (np.asarray(x) for x in sol.raster[pop])
            mine = times[(ids == i) & np.isfinite(times)]
            assert len(mine) == len(ref) >= 2, (k, len(mine), len(ref))
            errors.append(np.max(np.abs(mine - np.asarray(ref))))
        assert errors[1] < 0.05 and errors[1] < 0.7 * errors[0], (k, errors)
    with pytest.raises(TypeError, match="spike-driven"):
        jn.cobahh(40, seed=0)[0].to_network()
