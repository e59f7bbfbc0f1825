"""Voltage clamp: the clamped cell against the analytic gate solution at fixed V, the
clamp current against the ionic currents, and the fit of the A-current's kinetics."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxneuron as jn
import jaxneuron.fit as jf
from jaxneuron.channels import Leak, PrinzA, modulated, sigmoid
from jaxneuron.clamp import VoltageClamp

SOLVER = jn.ExponentialEuler(dt=0.025)


def a_cell(shift=0.0, tau_scale=1.0):
    return jn.ConductanceNeuron(
        channels=(modulated(PrinzA(g=50.0), shift, tau_scale), Leak(g=0.01, E=-50.0)),
        C=1.0,
        V0=-80.0,
        stimulus=0.0,
        channel_names=("A", "Leak"),
        name="A cell",
    )


def prinz_a_by_hand(V, t, V_hold, shift, tau_scale):
    """I_A (µA/cm²) at time t (ms) after a jump from V_hold to V, written out from the
    Prinz et al. 2003 table: m³h, gates relaxing exponentially at fixed V."""

    def m_inf(v):
        return sigmoid(v - shift, 27.2, -8.7)

    def h_inf(v):
        return sigmoid(v - shift, 56.9, 4.9)

    tau_m = tau_scale * (23.2 - 20.8 * sigmoid(V - shift, 32.9, -15.2))
    tau_h = tau_scale * (77.2 - 58.4 * sigmoid(V - shift, 38.9, -26.5))
    m = m_inf(V) + (m_inf(V_hold) - m_inf(V)) * np.exp(-t / tau_m)
    h = h_inf(V) + (h_inf(V_hold) - h_inf(V)) * np.exp(-t / tau_h)
    return 50.0 * m**3 * h * (V + 80.0) + 0.01 * (V + 50.0)


def test_clamp_current_is_the_analytic_a_current_at_the_command():
    vc = VoltageClamp.steps(holding=-80.0, levels=[-40.0, 0.0], onset=10.0, offset=90.0, t1=100.0)
    result = vc.simulate(a_cell(2.0, 1.3), solver=SOLVER, save_every=0.1)
    ts = np.asarray(result.ts)
    on = (ts > 10.05) & (ts < 89.95)
    for k, level in enumerate((-40.0, 0.0)):
        # the gates relax exactly at fixed V, starting one step after the jump (a step's
        # gate update reads V at its start, still the holding potential)
        expected = prinz_a_by_hand(level, ts[on] - 10.0 - SOLVER.dt, -80.0, 2.0, 1.3)
        np.testing.assert_allclose(
            np.asarray(result.I[k])[on], expected, rtol=1e-3, atol=1e-6
        )  # V sits I/G_clamp below the command
        # the membrane follows the command within I/G_clamp
        assert float(np.max(np.abs(np.asarray(result.V[k])[on] - level))) < 0.05
    assert result.I.shape == (2, 1001) and bool(jnp.all(result.success))


def test_modulated_kinetics_are_parameters_and_move_the_curves():
    cell = a_cell(3.0, 1.5)
    names = jn.parameter_names(cell)
    assert "A.shift" in names and "A.tau_scale" in names
    assert "A.shift" not in jn.parameter_names(jn.build_Prinz())  # unmodulated: no parameter
    a = cell.channel("A")
    plain = PrinzA(g=50.0)
    (m_inf, tau_m), _ = a.kinetics(-20.0)
    (m_ref, tau_ref), _ = plain.kinetics(-23.0)
    assert float(m_inf) == pytest.approx(float(m_ref)) and float(tau_m) == pytest.approx(
        1.5 * float(tau_ref)
    )
    with pytest.raises(ValueError, match="tau_scale"):
        modulated(PrinzA(g=50.0), tau_scale=-1.0)
    with pytest.raises(TypeError, match="nudging couples current-clamp"):
        vc = VoltageClamp.steps(holding=-80.0, levels=[0.0], onset=1.0, offset=9.0, t1=10.0)
        jf.ProtocolLoss.from_model(cell, vc, dt=0.1).with_nudging(1.0)


def test_voltage_clamp_fit_recovers_a_current_kinetics():
    true = a_cell(3.0, 1.2)  # V½ of activation −27.2 + 3 = −24.2 mV; τ × 1.2
    levels = [-60.0, -50.0, -40.0, -30.0, -20.0, -10.0, 0.0, 10.0, 20.0]
    vc = VoltageClamp.steps(holding=-80.0, levels=levels, onset=10.0, offset=250.0, t1=300.0)
    loss = jf.ProtocolLoss.from_model(true, vc, dt=0.1, noise_sd=5.0, solver=SOLVER)
    result = jf.fit(a_cell(0.0, 1.0), loss, ["A.shift", "A.tau_scale"])
    half_activation = -27.2 + result.values["A.shift"]
    assert half_activation == pytest.approx(-24.2, rel=0.01), str(result)
    assert result.values["A.tau_scale"] == pytest.approx(1.2, rel=0.01), str(result)
    assert result.loss == pytest.approx(25.0, rel=0.1)  # the noise variance, 5² (µA/cm²)²
    # the data's noise floor, though each step's capacitive transient is a sample of
    # ~10⁷ µA/cm²: a clamp fit stuck above it is reported as not converged
    assert loss.noise_floor() == pytest.approx(25.0, rel=0.1) and result.converged
    assert jax.tree.leaves(result.model.channel("A").shift)[0].shape == ()


def test_slope_stretches_each_gate_about_its_half_activation():
    a = modulated(PrinzA(g=50.0), shift=2.0, slope=0.5)
    assert a.pivots == pytest.approx((-27.2, -56.9), abs=1e-6)
    for V in (-70.0, -40.0, -24.0, 0.0):
        (m_inf, tau_m), (h_inf, tau_h) = a.kinetics(V)
        # by hand: Prinz et al. 2003's Boltzmann curves with the slope factors halved,
        # centred on the shifted half-activation voltages; τ at the stretched potential
        assert float(m_inf) == pytest.approx(float(sigmoid(V - 2.0, 27.2, -8.7 * 0.5)))
        assert float(h_inf) == pytest.approx(float(sigmoid(V - 2.0, 56.9, 4.9 * 0.5)))
        v_m = -27.2 + (V - 2.0 + 27.2) / 0.5
        assert float(tau_m) == pytest.approx(23.2 - 20.8 * float(sigmoid(v_m, 32.9, -15.2)))
    assert "A.slope" in jn.parameter_names(
        jn.ConductanceNeuron(channels=(a,), C=1.0, V0=-70.0, stimulus=0.0, channel_names=("A",))
    )
    with pytest.raises(ValueError, match="slope"):
        modulated(PrinzA(g=50.0), slope=0.0)
    from jaxneuron.channels import PrinzKCa

    with pytest.raises(ValueError, match="voltage-only"):
        modulated(PrinzKCa(g=5.0), slope=1.2)


def test_voltage_clamp_fit_recovers_the_activation_slope():
    def cell(shift, slope):
        return jn.ConductanceNeuron(
            channels=(modulated(PrinzA(g=50.0), shift, 1.0, slope), Leak(g=0.01, E=-50.0)),
            C=1.0,
            V0=-80.0,
            stimulus=0.0,
            channel_names=("A", "Leak"),
            name="A cell",
        )

    levels = [-60.0, -50.0, -40.0, -30.0, -20.0, -10.0, 0.0, 10.0, 20.0]
    vc = VoltageClamp.steps(holding=-90.0, levels=levels, onset=10.0, offset=250.0, t1=300.0)
    loss = jf.ProtocolLoss.from_model(cell(3.0, 1.25), vc, dt=0.1, noise_sd=5.0, solver=SOLVER)
    result = jf.fit(cell(0.0, 1.0), loss, ["A.shift", "A.slope"])
    assert result.values["A.shift"] == pytest.approx(3.0, abs=0.1), str(result)
    assert result.values["A.slope"] == pytest.approx(1.25, rel=0.01), str(result)
