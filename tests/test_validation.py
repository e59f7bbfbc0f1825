"""Bad input fails early with a message naming the parameter and its unit."""

import diffrax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxneuron as jn


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"Na_g": -1.0}, r"Na_g.*>= 0.*mS/cm²"),
        ({"K_g": float("nan")}, r"K_g.*finite"),
        ({"Leak_g": float("inf")}, r"Leak_g.*finite"),
        ({"C": 0.0}, r"C.*> 0.*µF/cm²"),
        ({"C": -2.0}, r"C.*> 0"),
        ({"V0": float("nan")}, r"V0.*finite.*mV"),
    ],
)
def test_bad_config_values(kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        jn.HHConfig(**kwargs)


def test_unknown_config_field_names_it_and_suggests():
    with pytest.raises(TypeError, match=r"no field 'Na_gg'.*did you mean 'Na_g'"):
        jn.HHConfig(Na_gg=120.0)


def test_bad_channel_values_direct():
    with pytest.raises(ValueError, match=r"HHSodium.g .*>= 0"):
        jn.channels.HHSodium(g=-5.0, E=50.0)
    with pytest.raises(ValueError, match=r"C \(membrane capacitance\).*> 0"):
        jn.ConductanceNeuron(channels=(), C=0.0, V0=-65.0, stimulus=None)


@pytest.mark.parametrize("t1", [0.0, -5.0, float("nan"), float("inf")])
def test_bad_t1(t1):
    with pytest.raises(ValueError, match=r"t1"):
        jn.simulate(jn.build_HH(), t1)


def test_bad_save_interval_and_dt():
    with pytest.raises(ValueError, match=r"save_every.*> 0"):
        jn.simulate(jn.build_HH(), 10.0, save_every=0.0)
    with pytest.raises(ValueError, match=r"ExponentialEuler.dt.*> 0"):
        jn.ExponentialEuler(dt=-0.01)
    with pytest.raises(ValueError, match=r"whole multiple"):
        jn.simulate(jn.build_HH(), 10.0, solver=jn.ExponentialEuler(dt=0.03), save_every=0.1)


def test_stimulus_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"stimulus returns shape \(3,\).*scalar.*vmap"):
        jn.simulate(jn.build_HH(jn.Constant(jnp.ones(3))), 10.0)
    with pytest.raises(ValueError, match=r"Interpolated.times has 3 samples but values has 2"):
        jn.Interpolated(times=[0.0, 1.0, 2.0], values=[0.0, 1.0])
    with pytest.raises(ValueError, match=r"strictly increasing"):
        jn.Interpolated(times=[0.0, 2.0, 1.0], values=[0.0, 1.0, 2.0])
    with pytest.raises(TypeError, match=r"stimulus must be"):
        jn.build_HH("ten")


def test_batched_parameter_without_vmap():
    model = jn.build_HH(config=jn.HHConfig(Na_g=np.array([100.0, 120.0])))
    with pytest.raises(ValueError, match=r"batch axis.*vmap"):
        jn.simulate(model, 10.0)


def test_bad_stimulus_parameters():
    with pytest.raises(ValueError, match=r"Step.offset.*later than.*onset"):
        jn.Step(amplitude=1.0, onset=10.0, offset=5.0)
    with pytest.raises(ValueError, match=r"PulseTrain.width.*> 0.*ms"):
        jn.PulseTrain(amplitude=1.0, onset=0.0, width=0.0, period=5.0, count=2)
    with pytest.raises(ValueError, match=r"Sine.frequency_hz.*>= 0.*Hz"):
        jn.Sine(amplitude=1.0, frequency_hz=-3.0)


def test_unknown_solver_and_wrong_type():
    with pytest.raises(ValueError, match=r"unknown solver 'rk99'.*choose from"):
        jn.simulate(jn.build_HH(), 10.0, solver="rk99")
    with pytest.raises(TypeError, match=r"solver must be"):
        jn.simulate(jn.build_HH(), 10.0, solver=42)
    with pytest.raises(TypeError, match=r"config must be an HHConfig"):
        jn.build_HH(config={"Na_g": 1.0})


def test_failed_solve_names_model_and_parameters():
    model = jn.build_HH(10.0, name="squid")
    with pytest.raises(jn.SimulationError, match=r"'squid'.*Tsit5.*Na.g.*120"):
        jn.simulate(model, 100.0, solver=diffrax.Tsit5(), max_steps=20)
    sol = jn.simulate(model, 100.0, solver=diffrax.Tsit5(), max_steps=20, throw=False)
    assert not bool(sol.success)


def test_blow_up_in_exponential_euler_is_reported():
    model = jn.build_HH(lambda t: jnp.where(t > 1.0, jnp.nan, 0.0), name="blowup")
    with pytest.raises(jn.SimulationError, match=r"'blowup'.*ExponentialEuler"):
        jn.simulate(model, 5.0, solver=jn.ExponentialEuler(dt=0.025))


def test_unknown_state_and_channel_names():
    sol = jn.simulate(jn.build_HH(), 1.0)
    with pytest.raises(KeyError, match=r"no state 'Ca'"):
        sol["Ca"]
    with pytest.raises(KeyError, match=r"no channel 'CaT'"):
        jn.build_HH().channel("CaT")
