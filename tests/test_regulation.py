"""Activity-dependent regulation (Liu et al. 1998; O'Leary et al. 2014).

The regulation rules are checked against SciPy solutions of the papers' equations written
out here with NumPy, on a prescribed (frozen) activity; the regulated neuron against the
unregulated one in the limit of no regulation, against the integral controller's
conservation law, and against Liu et al.'s Fig. 3 (final conductances of model A).
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import solve_ivp

from jaxneuron import (
    ExponentialEuler,
    IntegralControl,
    IntegralController,
    LiuConfig,
    RegulatedNeuron,
    build_Liu,
    build_network,
    get_parameter,
    liu_1998_regulation,
    set_parameters,
    simulate,
)
from jaxneuron.analysis import burst_metrics, classify, prominent_spike_times, spike_times
from jaxneuron.neurons.regulation import LIU_1998_FIG3

# Liu et al. (1998), Fig. 3 model A: conductances at the start and the end of the
# regulation, read from the figure (ModelDB 93321, fig3.hoc)
FIG3_A_START = LIU_1998_FIG3["A"]["start"]
FIG3_A_END = LIU_1998_FIG3["A"]["end"]


def liu_neuron(g: dict, **fields):
    cfg = LiuConfig(**{f"{c}_g": v for c, v in g.items()}, Leak_g=0.01, **fields)
    return build_Liu(config=cfg, name="liu")


def f64(tree):
    return jax.tree_util.tree_map(
        lambda x: x.astype(jnp.float64) if eqx.is_inexact_array(x) else x, tree
    )


# ---- the rules on a prescribed activity, against SciPy -----------------------------------


def liu_reference(t, y, I_of_t, couplings, taus):
    """Liu et al. (1998) eqs. 3–4 with Table 2, written out: y = [MF, HF, MS, HS, MD, g…]."""
    I = I_of_t(t)
    MF, HF, MS, HS, MD = y[:5]
    g = y[5:]
    m_inf = lambda Z: 1 / (1 + np.exp(Z + I))  # noqa: E731
    h_inf = lambda Z: 1 / (1 + np.exp(-Z - I))  # noqa: E731
    dgates = [
        (m_inf(14.2) - MF) / 0.5,
        (h_inf(9.8) - HF) / 1.5,
        (m_inf(7.2) - MS) / 50.0,
        (h_inf(2.8) - HS) / 60.0,
        (m_inf(3.0) - MD) / 500.0,
    ]
    F, S, D = 10 * MF**2 * HF, 3 * MS**2 * HS, 1 * MD**2
    errors = np.array([0.1 - F, 0.1 - S, 0.1 - D])
    dg = [(np.dot(c, errors) / tau) * gi for c, tau, gi in zip(couplings, taus, g, strict=True)]
    return np.array(dgates + dg)


def run_increments(regulator, r0, I_of_t, dt, n):
    """The regulator's own `increment`, the activity sampled mid-step."""

    def step(r, k):
        t_mid = (k + 0.5) * dt
        dr = regulator.increment(r, I_of_t(t_mid), dt)
        r = tuple(x + d for x, d in zip(r, dr, strict=True))
        return r, jnp.stack(r)

    _, out = jax.lax.scan(step, r0, jnp.arange(n))
    return np.asarray(out)


def test_liu_rule_matches_scipy_on_a_prescribed_calcium_current():
    # a calcium current sweeping through all three sensors' ranges, and a fast τ_g so that
    # the conductances move by tens of percent within the 400 ms
    I_np = lambda t: -8.0 - 6.0 * np.sin(2 * np.pi * t / 37.0)  # noqa: E731
    I_jnp = lambda t: -8.0 - 6.0 * jnp.sin(2 * jnp.pi * t / 37.0)  # noqa: E731
    reg = f64(liu_1998_regulation(tau=200.0))
    g0 = tuple(jnp.float64(v) for v in (1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0))
    r0 = reg.initial_state(g0, jnp.float64(I_np(0.0)))
    couplings = [(float(k.A), float(k.B), float(k.C)) for k in reg.channels]
    taus = [200.0] * 7
    T, dt = 400.0, 0.002
    ref = solve_ivp(
        liu_reference,
        (0, T),
        np.asarray(jnp.stack(r0)),
        method="Radau",
        rtol=1e-11,
        atol=1e-13,
        args=(I_np, couplings, taus),
        dense_output=True,
    )
    ours = run_increments(reg, r0, I_jnp, dt, int(round(T / dt)))
    expect = ref.sol(T)
    assert np.abs(expect[5:] / np.asarray(g0) - 1).max() > 0.05  # the rule did move them
    np.testing.assert_allclose(ours[-1], expect, rtol=2e-5, atol=2e-6)
    # the vector field, integrated by SciPy, is the same rule
    field = lambda t, y: np.asarray(  # noqa: E731
        jnp.stack(reg.derivative(tuple(jnp.asarray(y)), jnp.float64(I_np(t))))
    )
    np.testing.assert_allclose(
        field(3.0, expect), liu_reference(3.0, expect, I_np, couplings, taus)
    )


def test_integral_control_matches_the_closed_form_on_a_prescribed_calcium():
    # [Ca](t) given: m(t) = m0 + ∫(target − Ca)/τ (exact), g follows m with τ_g (SciPy)
    Ca = lambda t: 2.0 + 1.5 * np.sin(2 * np.pi * t / 70.0)  # noqa: E731
    Ca_jnp = lambda t: 2.0 + 1.5 * jnp.sin(2 * jnp.pi * t / 70.0)  # noqa: E731
    control = f64(IntegralControl.with_rates(3.0, {"CaS": 50.0, "Kd": 10.0}, tau_g=20.0, m0=0.5))
    r0 = control.initial_state((jnp.float64(1.0), jnp.float64(2.0)), None)
    T, dt = 300.0, 0.002
    ours = run_increments(control, r0, Ca_jnp, dt, int(round(T / dt)))

    def reference(t, y):
        err = 3.0 - Ca(t)
        m1, g1, m2, g2 = y
        return [err / 50.0, (m1 - g1) / 20.0, err / 10.0, (m2 - g2) / 20.0]

    ref = solve_ivp(reference, (0, T), [0.5, 1.0, 0.5, 2.0], method="DOP853", rtol=1e-12)
    np.testing.assert_allclose(ours[-1], ref.y[:, -1], rtol=1e-5)
    # the error integral is the same for both channels: τ₁(m₁ − m₁(0)) = τ₂(m₂ − m₂(0))
    np.testing.assert_allclose(50.0 * (ours[:, 0] - 0.5), 10.0 * (ours[:, 2] - 0.5), atol=1e-9)


def test_integral_control_keeps_mrna_nonnegative():
    control = f64(IntegralControl.with_rates(1.0, {"CaS": 1.0}, tau_g=5.0, m0=0.1))
    r = control.initial_state((jnp.float64(1.0),), None)
    for _ in range(10):  # [Ca] far above target: the mRNA runs down to 0 and stays there
        r = tuple(
            x + d for x, d in zip(r, control.increment(r, jnp.float64(5.0), 1.0), strict=True)
        )
    assert float(r[0]) == 0.0
    assert float(control.derivative(r, jnp.float64(5.0))[0]) == 0.0
    assert float(control.derivative(r, jnp.float64(0.5))[0]) == pytest.approx(0.5)


# ---- the regulated neuron --------------------------------------------------------------------


def frozen(regulator):
    """The same regulator with every coupling zero: the conductances never move."""
    return eqx.tree_at(
        lambda r: [k.A for k in r.channels] + [k.B for k in r.channels] + [k.C for k in r.channels],
        regulator,
        [jnp.zeros(())] * (3 * len(regulator.channels)),
    )


def test_without_regulation_the_neuron_is_unchanged_step_for_step():
    neuron = f64(liu_neuron(FIG3_A_START))
    model = RegulatedNeuron(neuron, f64(frozen(liu_1998_regulation())))
    solver = ExponentialEuler(dt=0.025)
    ours = simulate(model, 300.0, solver=solver, save_every=0.5)
    plain = simulate(neuron, 300.0, solver=solver, save_every=0.5)
    n = len(neuron.state_names)
    np.testing.assert_array_equal(np.asarray(ours.ys[:, :n]), np.asarray(plain.ys))
    np.testing.assert_array_equal(np.asarray(ours["CaS.g"]), 0.779)
    # the vector field of the neuron's states is the neuron's
    y = ours.ys[100]
    np.testing.assert_array_equal(model.vector_field(0.0, y)[:n], neuron.vector_field(0.0, y[:n]))


def test_a_regulated_cell_in_a_network_runs_like_the_unregulated_cell():
    from jaxneuron import Glutamatergic

    a, b = f64(liu_neuron(FIG3_A_START)), f64(liu_neuron(FIG3_A_END))
    syn = [Glutamatergic("A", "B", 30.0), Glutamatergic("B", "A", 10.0)]
    plain = build_network(syn, {"A": a, "B": b})
    regulated = build_network(
        syn, {"A": RegulatedNeuron(a, f64(frozen(liu_1998_regulation()))), "B": b}
    )
    solver = ExponentialEuler(dt=0.025)
    p = simulate(plain, 200.0, solver=solver, save_every=1.0)
    r = simulate(regulated, 200.0, solver=solver, save_every=1.0)
    np.testing.assert_array_equal(np.asarray(r.V), np.asarray(p.V))
    assert "A.regulator.F.target" in regulated.parameters()


def test_adaptive_and_fixed_step_agree_on_a_regulated_neuron():
    model = f64(RegulatedNeuron(liu_neuron(FIG3_A_START), liu_1998_regulation(tau=500.0)))
    fixed = simulate(model, 400.0, solver=ExponentialEuler(dt=0.005), save_every=400.0)
    adaptive = simulate(model, 400.0, solver="kvaerno5", rtol=1e-7, atol=1e-9, save_every=400.0)
    y0 = model.initial_state()
    for name in ("Na.g", "CaS.g", "A.g", "H.g", "D.M"):
        moved = float(fixed[name][-1]) / float(y0[model.state_names.index(name)]) - 1
        assert abs(moved) > 1e-3, name  # regulation moved it
        np.testing.assert_allclose(float(fixed[name][-1]), float(adaptive[name][-1]), rtol=2e-3)


def test_integral_control_conserves_the_error_integral_in_a_running_neuron():
    g0 = dict(Na=30.0, CaT=0.5, CaS=1.0, A=10.0, KCa=5.0, Kd=20.0, H=0.1)
    neuron = f64(liu_neuron(g0))
    taus = {"CaT": 4000.0, "CaS": 2000.0, "Kd": 200.0}  # [Ca] swings 0.05…8 µM around 3 µM
    control = f64(
        IntegralControl(
            target=3.0,
            channels=tuple(
                IntegralController(tau=t, tau_g=100.0, m0=g0[c]) for c, t in taus.items()
            ),
            channel_names=tuple(taus),
        )
    )
    sol = simulate(
        RegulatedNeuron(neuron, control), 300.0, solver=ExponentialEuler(dt=0.025), save_every=1.0
    )
    mrna = np.stack([np.asarray(sol[f"{c}.mRNA"]) for c in taus])
    assert mrna.min() > 0  # never held at the floor, so the law holds exactly
    integrals = np.stack([t * (m - g0[c]) for m, (c, t) in zip(mrna, taus.items(), strict=True)])
    assert np.abs(integrals).max() > 10.0  # the error integral moved (µM·ms)
    np.testing.assert_allclose(integrals, integrals[:1].repeat(3, axis=0), rtol=0, atol=1e-9)


def test_parameters_of_a_regulated_neuron_are_named_and_replaceable():
    model = RegulatedNeuron(liu_neuron(FIG3_A_START), liu_1998_regulation())
    names = model.parameters()
    assert {"neuron.CaS.g", "regulator.F.target", "regulator.Na.tau", "regulator.D.Z_M"} <= set(
        names
    )
    new = set_parameters(model, {"regulator.S.target": 0.2, "neuron.CaS.g": 2.0})
    assert float(get_parameter(new, "regulator.S.target")) == pytest.approx(0.2)
    assert float(new.initial_state()[model.state_names.index("CaS.g")]) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="tau"):
        set_parameters(model, {"regulator.Na.tau": -1.0})


def test_gradient_through_regulation_matches_finite_differences():
    model = f64(RegulatedNeuron(liu_neuron(FIG3_A_START), liu_1998_regulation(tau=200.0)))
    solver = ExponentialEuler(dt=0.05)

    def final_cas(target):
        m = set_parameters(model, {"regulator.S.target": target})
        return simulate(m, 100.0, solver=solver, save_every=100.0)["CaS.g"][-1]

    grad = float(jax.grad(final_cas)(jnp.float64(0.1)))
    h = 1e-5
    fd = (float(final_cas(0.1 + h)) - float(final_cas(0.1 - h))) / (2 * h)
    assert grad != 0.0
    assert grad == pytest.approx(fd, rel=1e-4)


def test_bad_regulators_are_refused_with_the_reason():
    from jaxneuron import build_HH

    with pytest.raises(ValueError, match="does not have"):
        RegulatedNeuron(build_HH(), IntegralControl.with_rates(1.0, {"CaS": 1.0}))
    with pytest.raises(ValueError, match="calcium"):
        RegulatedNeuron(build_HH(), IntegralControl.with_rates(1.0, {"Na": 1.0}))
    with pytest.raises(ValueError, match="calcium current"):
        RegulatedNeuron(build_HH(), liu_1998_regulation(channels=("Na",)))
    with pytest.raises(ValueError, match="regulate"):
        liu_1998_regulation(channels=("Leak",))
    with pytest.raises(ValueError, match="tau_M"):
        liu_1998_regulation().F.__class__(G=1.0, Z_M=1.0, tau_M=0.0, target=0.1)


# ---- Liu et al. (1998), Fig. 3 ------------------------------------------------------------


@pytest.mark.slow
def test_liu_fig3_model_a_assembles_into_the_papers_burster():
    """From Fig. 3's model A start, 200 s of regulation bring every conductance within 10 %
    of the figure's final values (read from the figure), the sensors' 10-s averages within
    2 % of the targets, and the neuron bursts."""
    model = f64(RegulatedNeuron(liu_neuron(FIG3_A_START), liu_1998_regulation()))
    sol = simulate(model, 200_000.0, solver=ExponentialEuler(dt=0.05), save_every=0.5)
    for c, end in FIG3_A_END.items():
        assert float(sol[f"{c}.g"][-1]) == pytest.approx(end, rel=0.10), c
    reg = model.regulator
    last = sol.ts >= 190_000.0
    values = reg.sensor_values(tuple(sol[n][last] for n in reg.state_names))
    for value, target in zip(values, (0.1, 0.1, 0.1), strict=True):
        assert float(value.mean()) == pytest.approx(target, rel=0.02)
    ts, V = np.asarray(sol.ts[last]), np.asarray(sol.V[last])
    spikes = prominent_spike_times(ts, V)
    assert classify(ts, V, gap=None, spikes=spikes) == "bursting"
    m = burst_metrics(ts, V, gap=None, spikes=spikes)
    assert abs(m["spikes_per_burst"] - FIG3_FINAL_BURSTS["A"][0]) <= 1
    assert m["period"] == pytest.approx(FIG3_FINAL_BURSTS["A"][1], rel=0.1)


# Fig. 3's final activity, read from the figure (its 100-ms scale bar): model A bursts of
# 5 spikes every ~158 ms, model B bursts of 4-5 spikes every ~195 ms. Only the first spike
# of a burst overshoots 0 mV; the others ride on the plateau and peak between -25 and 0 mV.
FIG3_FINAL_BURSTS = {"A": (5, 158.0), "B": (5, 195.0)}


@pytest.mark.parametrize("label", ["A", "B"])
def test_the_papers_final_fig3_conductances_burst_as_in_the_figure(label):
    """The paper's final conductances, held fixed, burst as its Fig. 3 shows. Counted by
    their shape (`prominent_spike_times`), not by a 0-mV crossing: crossings see one or
    two spikes per burst, and model B, one spike per burst at a regular interval, would
    be called tonic (issue 29's "tonic at target")."""
    spikes_per_burst, period = FIG3_FINAL_BURSTS[label]
    neuron = f64(liu_neuron(LIU_1998_FIG3[label]["end"]))
    sol = simulate(neuron, 3000.0, solver=ExponentialEuler(dt=0.025), save_every=0.1)
    last = sol.ts >= 1000.0
    ts, V = np.asarray(sol.ts[last]), np.asarray(sol.V[last])
    spikes = prominent_spike_times(ts, V)
    assert classify(ts, V, gap=None, spikes=spikes) == "bursting"
    m = burst_metrics(ts, V, gap=None, spikes=spikes)
    assert abs(m["spikes_per_burst"] - spikes_per_burst) <= 1
    assert m["period"] == pytest.approx(period, rel=0.1)
    assert spike_times(ts, V).size < 0.6 * spikes.size  # most spikes peak below 0 mV


@pytest.mark.parametrize("label, rel", [("A", 0.07), ("B", 0.2)])
def test_the_sensors_read_the_targets_on_the_papers_final_fig3_conductances(label, rel):
    """The paper set its targets F̄ = S̄ = D̄ = 0.1 to the sensors' averages in the activity
    it wanted, and its Fig. 3 cells end at equilibrium, where every sensor averages its
    target: held at the figure's final conductances, our sensors must read about 0.1. This
    checks the sensors' input (I_Ca over the capacitance in nA/nF, inward negative): the
    whole-cell current of the paper's 0.628-nF cell (x0.628) reads 0.03-0.08, the flipped
    sign 0. Model B's end in the figure is still moving (A, KCa), hence its wider margin."""
    neuron = f64(liu_neuron(LIU_1998_FIG3[label]["end"]))
    model = f64(RegulatedNeuron(neuron, liu_1998_regulation(tau=1e15)))  # frozen conductances
    sol = simulate(model, 4000.0, solver=ExponentialEuler(dt=0.025), save_every=0.5)
    reg = model.regulator
    last = sol.ts >= 2000.0
    values = reg.sensor_values(tuple(sol[n][last] for n in reg.state_names))
    for name, value in zip("FSD", values, strict=True):
        assert float(value.mean()) == pytest.approx(0.1, rel=rel), name


def test_a_sweep_of_regulated_neurons_equals_simulate_of_each():
    from jaxneuron.sweep import Grid, sweep

    model = f64(RegulatedNeuron(liu_neuron(FIG3_A_START), liu_1998_regulation(tau=500.0)))
    values = [0.5, 2.0]
    result = sweep(
        model,
        Grid({"neuron.CaS.g": values}),
        t1=500.0,
        dt=0.05,
        dtype=jnp.float64,
        record=[0, 1],
        record_every=250.0,
        progress=False,
    )
    assert list(result.state_names) == list(model.state_names)
    for i, g in enumerate(values):
        m = set_parameters(model, {"neuron.CaS.g": g})
        sol = simulate(m, 500.0, solver=ExponentialEuler(dt=0.05), save_every=250.0)
        np.testing.assert_allclose(result.traces[i][-1], np.asarray(sol.ys[-1]), rtol=1e-9)
        assert float(sol["CaS.g"][-1]) != g  # regulated
