"""Integrate-and-fire models: exact event resets, the fixed-step path, gradients, firing
patterns, populations and validation."""

import logging
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxneuron import ExponentialEuler, SimulationError, as_dtype
from jaxneuron.integrate._events import FastSigmoid, simulate_spiking
from jaxneuron.neurons.integrate_and_fire import (
    IZHIKEVICH_2003,
    NAUD_2008,
    AdExConfig,
    IzhikevichConfig,
    LIFConfig,
    build_AdEx,
    build_Izhikevich,
    build_LIF,
)

TIGHT = {"rtol": 1e-10, "atol": 1e-10}


def lif_isi(I, cfg):
    """t_ref + τ ln[(R·I + E_L − V_reset)/(R·I + E_L − V_th)] for a constant I (nA)."""
    drive = cfg.R * I + cfg.E_L
    return cfg.t_ref + cfg.tau * math.log((drive - cfg.V_reset) / (drive - cfg.V_th))


def spikes(sol):
    return np.asarray(sol.spike_times[: int(sol.spike_count)])


# ---- LIF accuracy ----------------------------------------------------------------------


@pytest.mark.parametrize("V_reset", [-65.0, -60.0])
def test_lif_event_path_matches_the_analytic_isi(V_reset):
    cfg = LIFConfig(V_reset=V_reset)  # E_L = −65 mV: reset at E_L, then above it
    sol = simulate_spiking(
        build_LIF(2.0, config=cfg), 200.0, max_spikes=30, save_every=None, **TIGHT
    )
    isi = np.diff(spikes(sol))
    expected = lif_isi(2.0, cfg)
    error = np.max(np.abs(isi - expected)) / expected
    print(f"LIF event path, V_reset = {V_reset}: ISI {expected:.6f} ms, rel. error {error:.2e}")
    assert len(isi) >= 10 and error <= 1e-6
    first = cfg.tau * math.log((20.0 + cfg.E_L - cfg.E_L) / (20.0 + cfg.E_L - cfg.V_th))
    assert abs(spikes(sol)[0] - first) / first <= 1e-6


def test_lif_fixed_step_error_and_order():
    cfg = LIFConfig(V_reset=-60.0)
    expected = lif_isi(2.0, cfg)
    steps, errors = [0.1, 0.05, 0.025], []
    for dt in steps:
        sol = simulate_spiking(
            build_LIF(2.0, config=cfg), 200.0, solver=ExponentialEuler(dt=dt), max_spikes=30,
            save_every=None,
        )  # fmt: skip
        errors.append(np.max(np.abs(np.diff(spikes(sol)) - expected)) / expected)
    orders = np.log2(np.asarray(errors[:-1]) / np.asarray(errors[1:]))
    print(f"LIF fixed step: dt {steps} ms, ISI rel. errors {errors}, measured order {orders}")
    assert errors[-1] < 1e-5
    assert np.all(orders > 1.8)  # exact exponential steps + linear crossing: second order


def test_lif_trace_is_reset_and_held_during_the_refractory_period():
    cfg = LIFConfig(t_ref=5.0)
    sol = simulate_spiking(build_LIF(2.0, config=cfg), 60.0, max_spikes=8, save_every=0.1)
    ts, V = np.asarray(sol.ts), np.asarray(sol.V)
    first = spikes(sol)[0]
    held = (ts > first) & (ts < first + cfg.t_ref)
    assert held.sum() >= 45 and np.allclose(V[held], cfg.V_reset)
    assert V.max() <= cfg.V_th + 1e-9
    # between spikes the trace is the analytic exponential relaxation
    free = ts < first
    V_inf = cfg.E_L + cfg.R * 2.0
    assert np.allclose(V[free], V_inf + (cfg.E_L - V_inf) * np.exp(-ts[free] / cfg.tau), atol=1e-6)


# ---- gradients -------------------------------------------------------------------------


def test_first_spike_time_gradient_matches_the_analytic_derivative():
    def first_spike(I, tau, solver=None):
        model = build_LIF(I, config=LIFConfig(tau=tau))
        kwargs = TIGHT if solver is None else {}
        sol = simulate_spiking(model, 30.0, max_spikes=3, save_every=None, solver=solver, **kwargs)
        return sol.spike_times[0]

    I, tau, R = 2.0, 10.0, 10.0
    A, B = R * I, R * I - 15.0  # R·I + E_L − V0 and R·I + E_L − V_th, V0 = E_L
    dT_dI, dT_dtau = tau * R * (1 / A - 1 / B), math.log(A / B)
    g_I, g_tau = jax.grad(first_spike, argnums=(0, 1))(I, tau)
    print(
        f"dT/dI {float(g_I):.9f} (analytic {dT_dI:.9f}); dT/dτ {float(g_tau):.9f} ({dT_dtau:.9f})"
    )
    assert abs(g_I - dT_dI) / abs(dT_dI) < 1e-6
    assert abs(g_tau - dT_dtau) / abs(dT_dtau) < 1e-6
    # Fixed step: the derivative of the linearly interpolated crossing, O(dt²) from the truth
    g_fixed = jax.grad(first_spike)(I, tau, ExponentialEuler(dt=0.01))
    assert abs(g_fixed - dT_dI) / abs(dT_dI) < 1e-3


def test_surrogate_gradient_mode():
    def count(I, surrogate):
        sol = simulate_spiking(
            build_LIF(I), 50.0, solver=ExponentialEuler(dt=0.1), max_spikes=8, save_every=None,
            surrogate=surrogate,
        )  # fmt: skip
        return sol.soft_count, sol.spike_times

    (n_exact, t_exact), (n_soft, t_soft) = count(2.0, None), count(2.0, FastSigmoid(5.0))
    assert float(n_exact) == float(n_soft) == 3.0
    np.testing.assert_allclose(t_exact, t_soft)
    assert float(jax.grad(lambda I: count(I, None)[0])(2.0)) == 0.0
    assert float(jax.grad(lambda I: count(I, FastSigmoid(5.0))[0])(2.0)) > 0.0
    with pytest.raises(ValueError, match=r"surrogate.*fixed-step"):
        simulate_spiking(build_LIF(2.0), 10.0, surrogate=FastSigmoid())


# ---- firing patterns -------------------------------------------------------------------


def adex_isis(pattern, t1=500.0):
    model = build_AdEx(NAUD_2008[pattern]["I"], config=AdExConfig.preset(pattern))
    return np.diff(spikes(simulate_spiking(model, t1, max_spikes=100, save_every=None)))


def test_adex_firing_patterns_of_naud_2008():
    tonic = adex_isis("tonic")
    assert len(tonic) > 40 and tonic.max() / tonic.min() < 1.1  # nearly constant ISIs

    adapting = adex_isis("adapting")
    assert np.all(np.diff(adapting) > -1e-3)  # ISIs lengthen monotonically …
    assert adapting[-1] / adapting[0] > 5 and adapting[1] / adapting[0] < 1.5  # … gradually

    burst = adex_isis("initial burst")
    short = burst < 0.2 * burst[-1]
    assert short[:2].all() and not short[2:].any()  # a burst of 3 spikes, then tonic
    assert np.std(burst[-4:]) / np.mean(burst[-4:]) < 0.01

    bursting = adex_isis("regular bursting")
    short, long = bursting < 10.0, bursting > 100.0
    assert np.all(short | long) and long.sum() >= 3  # bimodal ISIs: bursts and pauses
    assert not np.any(long[1:] & long[:-1])  # pauses separated by bursts, repeatedly


def izhikevich_isis(cell, t1=300.0):
    model = build_Izhikevich(10.0, config=IzhikevichConfig.preset(cell))
    return np.diff(spikes(simulate_spiking(model, t1, max_spikes=100, save_every=None)))


def test_izhikevich_2003_cells():
    assert IZHIKEVICH_2003["FS"] == dict(a=0.1, b=0.2, c=-65.0, d=2.0)
    rs, fs, ch = izhikevich_isis("RS"), izhikevich_isis("FS"), izhikevich_isis("CH")
    # regular spiking: tonic with a longer steady ISI than the first one (adaptation)
    assert rs[-1] > 1.5 * rs[0] and np.std(rs[-3:]) < 0.05
    # fast spiking: tonic at a much higher rate, little adaptation
    assert len(fs) > 4 * len(rs) and fs[-1] < 10.0 and np.std(fs[-10:]) < 0.05
    # chattering: repeated bursts (ISIs < 6 ms) separated by pauses (> 40 ms)
    short, long = ch < 6.0, ch > 40.0
    assert np.all(short | long) and long.sum() >= 3


# ---- precision, populations, compilation -----------------------------------------------


def test_float32_event_and_fixed_paths():
    lif = as_dtype(build_LIF(2.0), jnp.float32)
    sol = simulate_spiking(lif, 100.0, max_spikes=10, save_every=None)
    assert sol.spike_times.dtype == jnp.float32
    assert abs(float(sol.spike_times[0]) - 10 * math.log(4)) < 1e-3
    adex = as_dtype(
        build_AdEx(NAUD_2008["adapting"]["I"], config=AdExConfig.preset("adapting")), jnp.float32
    )
    sol32 = simulate_spiking(adex, 300.0, max_spikes=20, save_every=None)
    reference = spikes(
        simulate_spiking(as_dtype(adex, jnp.float64), 300.0, max_spikes=20, save_every=None)
    )
    assert int(sol32.spike_count) == len(reference)
    # float32 at its default tolerances (rtol 1e-4): ~0.3% of an ISI
    assert np.max(np.abs(spikes(sol32) - reference)) < 0.5
    fixed = simulate_spiking(adex, 300.0, solver=ExponentialEuler(dt=0.01), max_spikes=20)
    assert int(fixed.spike_count) == len(reference)


def test_vmap_over_ten_thousand_neurons():
    currents = jnp.linspace(1.0, 4.0, 10_000)  # nA; rheobase 1.5 nA

    @jax.jit
    def run(currents):
        def one(I):
            return simulate_spiking(build_LIF(I), 50.0, max_spikes=12, save_every=None)

        sol = jax.vmap(one)(currents)
        return sol.spike_count, sol.spike_times[:, 0], sol.success

    count, first, ok = run(currents)
    assert count.shape == (10_000,) and bool(ok.all())
    cfg = LIFConfig()
    I = np.asarray(currents)
    drive = cfg.R * I
    with np.errstate(invalid="ignore", divide="ignore"):
        first_expected = cfg.tau * np.log(drive / (drive - 15.0))
    fires = (drive > cfg.V_th - cfg.E_L) & (first_expected < 50.0)
    expected = first_expected[fires]
    np.testing.assert_allclose(np.asarray(first)[fires], expected, rtol=3e-5)
    assert np.all(np.asarray(count)[~fires] == 0)
    # spike counts: every spike time t_k = T1 + k·ISI that fits in 50 ms
    isi = np.array([lif_isi(i, cfg) for i in I[fires]])
    np.testing.assert_array_equal(np.asarray(count)[fires], np.floor((50.0 - expected) / isi) + 1)


def test_new_values_do_not_recompile():
    messages = []

    class Collect(logging.Handler):
        def emit(self, record):
            messages.append(record.getMessage())

    handler = Collect()
    logging.getLogger("jax").addHandler(handler)
    try:
        simulate_spiking(build_LIF(2.0), 20.0, max_spikes=4, save_every=1.0)
        with jax.log_compiles():
            for I, tau in [(2.5, 8.0), (3.0, 12.0)]:
                model = build_LIF(I, config=LIFConfig(tau=tau, V_reset=-62.0))
                simulate_spiking(model, 20.0, max_spikes=4, save_every=1.0)
        assert not [m for m in messages if "_solve_spiking" in m]
        with jax.log_compiles():  # the check can fail: a new max_spikes must compile
            simulate_spiking(build_LIF(2.0), 20.0, max_spikes=5, save_every=1.0)
        assert [m for m in messages if "_solve_spiking" in m]
    finally:
        logging.getLogger("jax").removeHandler(handler)


# ---- validation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "kwargs", "pattern"),
    [
        (LIFConfig, {"V_reset": -50.0}, r"V_reset must be below V_th.*mV"),
        (LIFConfig, {"V_reset": -40.0}, r"V_reset must be below V_th"),
        (LIFConfig, {"tau": 0.0}, r"tau.*> 0 ms"),
        (LIFConfig, {"tau": -3.0}, r"tau.*> 0 ms"),
        (LIFConfig, {"t_ref": -1.0}, r"t_ref.*>= 0 ms"),
        (LIFConfig, {"R": 0.0}, r"R.*> 0 MΩ"),
        (LIFConfig, {"V0": -45.0}, r"V0 must be below V_th"),
        (AdExConfig, {"C": 0.0}, r"C.*> 0 pF"),
        (AdExConfig, {"g_L": -1.0}, r"g_L.*> 0 nS"),
        (AdExConfig, {"Delta_T": 0.0}, r"Delta_T.*> 0 mV"),
        (AdExConfig, {"tau_w": 0.0}, r"tau_w.*> 0 ms"),
        (AdExConfig, {"V_r": 5.0}, r"V_r must be below V_peak.*mV"),
        (AdExConfig, {"b": float("nan")}, r"b.*finite.*pA"),
        (IzhikevichConfig, {"c": 30.0}, r"c must be below v_peak.*mV"),
        (IzhikevichConfig, {"a": 0.0}, r"a.*> 0 1/ms"),
    ],
)
def test_bad_parameters_name_the_parameter_and_unit(build, kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        build(**kwargs)


def test_bad_model_and_call_arguments():
    from jaxneuron.neurons.integrate_and_fire import LIF

    with pytest.raises(ValueError, match=r"cell: tau \(membrane time constant\).*> 0 ms"):
        LIF(tau=-1.0, R=10.0, E_L=-65.0, V_th=-50.0, V_reset=-65.0, t_ref=2.0, V0=-65.0,
            stimulus=1.0, name="cell")  # fmt: skip
    with pytest.raises(TypeError, match=r"no field 'tua'.*did you mean 'tau'"):
        LIFConfig(tua=10.0)
    with pytest.raises(TypeError, match=r"config must be a LIFConfig"):
        build_LIF(2.0, config=AdExConfig())
    with pytest.raises(KeyError, match=r"no AdEx preset"):
        AdExConfig.preset("chaotic")
    with pytest.raises(ValueError, match=r"t1"):
        simulate_spiking(build_LIF(2.0), -1.0)
    with pytest.raises(ValueError, match=r"max_spikes"):
        simulate_spiking(build_LIF(2.0), 10.0, max_spikes=0)
    with pytest.raises(SimulationError, match=r"more than max_spikes = 2"):
        simulate_spiking(build_LIF(2.0), 100.0, max_spikes=2, save_every=None)
