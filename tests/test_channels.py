import jax
import jax.numpy as jnp
import numpy as np
import pytest
import reference_hh as ref

import jaxneuron as jn
from jaxneuron.channels import HHPotassium, HHSodium, exprel, from_alpha_beta, modulated


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
def test_exprel_is_finite_and_smooth_at_zero(dtype):
    z = jnp.asarray([-1e-3, -1e-9, 0.0, 1e-9, 1e-3, 0.5], dtype=dtype)
    values = exprel(z)
    expected = np.array([np.expm1(x) / x if x != 0 else 1.0 for x in np.asarray(z, float)])
    np.testing.assert_allclose(np.asarray(values), expected, rtol=1e-6)
    grads = jax.vmap(jax.grad(exprel))(z)
    assert np.all(np.isfinite(np.asarray(grads)))
    np.testing.assert_allclose(float(grads[2]), 0.5, rtol=1e-6)


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
@pytest.mark.parametrize("V", [-40.0, -55.0])
def test_hh_rates_safe_at_removable_singularities(dtype, V):
    na = HHSodium(g=jnp.asarray(120.0, dtype), E=jnp.asarray(50.0, dtype))
    k = HHPotassium(g=jnp.asarray(36.0, dtype), E=jnp.asarray(-77.0, dtype))
    v = jnp.asarray(V, dtype)

    def all_kinetics(v):
        return jnp.stack([x for pair in na.gate_kinetics(v) + k.gate_kinetics(v) for x in pair])

    values = all_kinetics(v)
    jac = jax.jacfwd(all_kinetics)(v)
    assert np.all(np.isfinite(np.asarray(values))) and np.all(np.isfinite(np.asarray(jac)))
    # continuity: the value at the singular point equals the limit from either side
    eps = 1e-3
    np.testing.assert_allclose(
        np.asarray(values),
        0.5 * np.asarray(all_kinetics(v + eps) + all_kinetics(v - eps)),
        rtol=1e-4,
    )


@pytest.mark.parametrize("V", [-90.0, -65.0, -55.0, -40.0, -20.0, 0.0, 30.0])
def test_hh_kinetics_match_independent_rates(V):
    am, bm, ah, bh, an, bn = ref.rates(V)
    na = HHSodium(g=120.0, E=50.0)
    k = HHPotassium(g=36.0, E=-77.0)
    (m_inf, tau_m), (h_inf, tau_h) = na.gate_kinetics(jnp.asarray(V))
    ((n_inf, tau_n),) = k.gate_kinetics(jnp.asarray(V))
    np.testing.assert_allclose(float(m_inf), am / (am + bm), rtol=1e-12)
    np.testing.assert_allclose(float(tau_m), 1 / (am + bm), rtol=1e-12)
    np.testing.assert_allclose(float(h_inf), ah / (ah + bh), rtol=1e-12)
    np.testing.assert_allclose(float(tau_h), 1 / (ah + bh), rtol=1e-12)
    np.testing.assert_allclose(float(n_inf), an / (an + bn), rtol=1e-12)
    np.testing.assert_allclose(float(tau_n), 1 / (an + bn), rtol=1e-12)


def test_hh_published_resting_values():
    # Hodgkin & Huxley (1952) at rest (−65 mV here): m∞ ≈ 0.053, h∞ ≈ 0.596, n∞ ≈ 0.318.
    y0 = np.asarray(jn.build_HH().initial_state())
    np.testing.assert_allclose(y0[1:], [0.0529, 0.5961, 0.3177], atol=5e-4)


def test_from_alpha_beta():
    x_inf, tau = from_alpha_beta(3.0, 1.0)
    assert float(x_inf) == 0.75 and float(tau) == 0.25


def test_vector_field_matches_independent_rhs():
    model = jn.build_HH(7.0)
    rng = np.random.default_rng(0)
    for _ in range(5):
        y = np.array([rng.uniform(-80, 40), *rng.uniform(0, 1, 3)])
        ours = np.asarray(model.vector_field(0.0, jnp.asarray(y)))
        theirs = ref.rhs(0.0, y, lambda t: 7.0)
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


def test_ionic_currents_by_name():
    model = jn.build_HH()
    y = model.initial_state()
    currents = model.ionic_currents(y)
    assert set(currents) == {"Na", "K", "Leak"}
    # at rest the currents balance (dV/dt = 0 at the resting potential is not exact at
    # −65 mV, but the sum is small compared with each term)
    assert abs(float(sum(currents.values()))) < 0.1 * abs(float(currents["K"]))


def test_custom_channel_is_one_small_class():
    from typing import ClassVar

    class SlowK(jn.IonChannel):
        gates: ClassVar[tuple[str, ...]] = ("z",)
        powers: ClassVar[tuple[int, ...]] = (1,)

        def gate_kinetics(self, V, Ca=None):
            return ((jn.channels.sigmoid(V, 35.0, -10.0), jnp.asarray(100.0) + 0 * V),)

    base = jn.build_HH(10.0)
    model = jn.ConductanceNeuron(
        channels=(*base.channels, SlowK(g=0.5, E=-90.0)),
        channel_names=(*base.channel_names, "M"),
        C=1.0,
        V0=-65.0,
        stimulus=10.0,
    )
    assert model.state_names[-1] == "M.z"
    sol = jn.simulate(model, 300.0, solver="exponential_euler")
    spikes = jn.analysis.spike_times(sol.ts, sol.V)
    isi = np.diff(spikes)
    assert len(spikes) > 10 and isi[-1] > 1.05 * isi[0]  # the slow K current adapts


def _declared_channels():
    models = (jn.build_HH(), jn.build_Prinz(), jn.build_Liu(), jn.build_TraubMiles())
    return [ch for m in models for ch in m.channels if type(ch).tau_max is not None]


@pytest.mark.parametrize("channel", _declared_channels(), ids=lambda ch: type(ch).__name__)
def test_declared_tau_max_bounds_every_gate(channel):
    """A channel's ``tau_max`` (what lets a fast gate go without Kahan summation) bounds
    its gates' τ over a dense grid from −250 to 200 mV, and is not loose by more than 5%."""
    V = np.linspace(-250.0, 200.0, 450_001)
    taus = [np.asarray(tau) for _, tau in channel.kinetics(jnp.asarray(V), jnp.full(V.shape, 0.05))]
    peak = max(float(np.max(t)) for t in taus)
    assert peak <= type(channel).tau_max <= 1.05 * peak


def test_only_fast_gates_go_without_compensation():
    hh = jn.build_HH()
    assert hh.compensated_states(0.025) == (True, False, False, False)
    assert hh.compensated_states(0.001) == (True, True, True, True)
    prinz = jn.build_Prinz()  # Na (2.9 ms) and Kd (14.4 ms) at dt 0.05 ms
    flags = dict(zip(prinz.state_names, prinz.compensated_states(0.05), strict=True))
    assert [n for n, f in flags.items() if not f] == ["Na.m", "Na.h", "Kd.m"]
    slowed = hh  # a channel with tau_scale keeps its compensation
    scaled = jn.ConductanceNeuron(
        channels=(modulated(slowed.channels[0], tau_scale=1.0),) + slowed.channels[1:],
        channel_names=hh.channel_names, C=hh.C, V0=hh.V0, stimulus=hh.stimulus,
    )  # fmt: skip
    assert scaled.compensated_states(0.025) == (True, True, True, False)


def test_uncompensated_fast_gates_keep_float32_spike_times_near_float64():
    """HH at dt 0.025 ms adds its three gates without Kahan summation in float32; its
    spike times over 1 s stay within 2 µs of float64's (the same spikes)."""
    from jaxneuron.analysis import spike_times

    def spikes(dtype):
        model = jn.as_dtype(jn.build_HH(6.5), dtype)  # near threshold: the most sensitive
        assert model.compensated_states(0.025) == (True, False, False, False)
        sol = jn.simulate(model, 1000.0, solver=jn.ExponentialEuler(dt=0.025), save_every=0.025)
        return spike_times(np.asarray(sol.ts, float), np.asarray(sol.V, float))

    single, double = spikes(jnp.float32), spikes(jnp.float64)
    assert len(single) == len(double) > 50
    assert np.max(np.abs(single - double)) < 2e-3  # ms
