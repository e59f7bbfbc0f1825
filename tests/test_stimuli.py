import jax
import jax.numpy as jnp
import numpy as np

import jaxneuron as jn


def test_values():
    t = jnp.asarray([0.0, 4.9, 5.0, 9.0, 10.0, 12.0])
    np.testing.assert_allclose(
        jax.vmap(jn.Step(2.0, onset=5.0, offset=10.0))(t), [0, 0, 2, 2, 0, 0]
    )
    pulses = jn.PulseTrain(amplitude=3.0, onset=1.0, width=0.5, period=2.0, count=2)
    tp = jnp.asarray([0.9, 1.0, 1.4, 1.6, 3.2, 5.2])
    np.testing.assert_allclose(jax.vmap(pulses)(tp), [0, 3, 3, 0, 3, 0])
    sine = jn.Sine(amplitude=2.0, frequency_hz=100.0, phase=0.0, offset=1.0)
    np.testing.assert_allclose(float(sine(2.5)), 3.0, rtol=1e-12)  # quarter of a 10 ms period
    interp = jn.Interpolated.from_samples(jnp.asarray([0.0, 2.0, 4.0]), dt_ms=0.5)
    np.testing.assert_allclose(
        jax.vmap(interp)(jnp.asarray([-1.0, 0.25, 0.75, 9.0])), [0.0, 1.0, 3.0, 4.0]
    )
    f = jn.TimeVaryingFunction(f=lambda t: 5 * jnp.sin(2 * jnp.pi * t / 20))
    np.testing.assert_allclose(float(f(5.0)), 5.0)
    total = jn.Constant(1.0) + sine
    np.testing.assert_allclose(float(total(2.5)), 4.0)
    assert float((2.0 + jn.Constant(1.0))(0.0)) == 3.0


def test_discontinuities_reported():
    pulses = jn.PulseTrain(amplitude=3.0, onset=1.0, width=0.5, period=2.0, count=3)
    starts, ends = pulses.discontinuities()
    np.testing.assert_allclose(starts, [1.0, 3.0, 5.0])
    np.testing.assert_allclose(ends, [1.5, 3.5, 5.5])
    assert jn.Constant(1.0).discontinuities() == ()


def test_step_response_is_exact_for_a_passive_membrane():
    # Only a leak: V(t) = E + (I/g)(1 − e^{−(t − onset) g / C}) after the onset.
    model = jn.ConductanceNeuron(
        channels=(jn.Leak(g=0.5, E=-60.0),),
        channel_names=("Leak",),
        C=2.0,
        V0=-60.0,
        stimulus=jn.Step(amplitude=3.0, onset=2.0, offset=30.0),
    )
    sol = jn.simulate(model, 20.0, solver="tsit5", rtol=1e-10, atol=1e-10)
    t = np.asarray(sol.ts)
    expected = -60.0 + np.where(t >= 2.0, 6.0 * (1 - np.exp(-(t - 2.0) * 0.25)), 0.0)
    np.testing.assert_allclose(np.asarray(sol.V), expected, atol=1e-7)
    euler = jn.simulate(model, 20.0, solver=jn.ExponentialEuler(dt=0.1), save_every=0.1)
    # exponential Euler is exact for a linear membrane with a piecewise-constant input
    np.testing.assert_allclose(np.asarray(euler.V), expected, atol=1e-10)


def test_seed_examples_run():
    import jaxneuron as jn

    jn.build_HH(name="neuron")
    jn.build_HH(name="neuron", config=jn.HHConfig(Na_g=120.0, K_g=36.0, Leak_g=0.3))
    stimulus = jn.TimeVaryingFunction(f=lambda t: 5 * jnp.sin(2 * jnp.pi * t / 20))
    neuron = jn.build_HH(stimulus, name="neuron")
    sol = jn.simulate(neuron, 50.0)
    assert bool(sol.success) and sol.model_name == "neuron"
    assert set(sol.to_dict()) == {"t", "V", "Na.m", "Na.h", "K.n"}
