"""jit, vmap and grad through simulate."""

import logging

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxneuron as jn


def _loss(params, solver):
    na_g, k_g, amplitude = params
    config = jn.HHConfig(Na_g=na_g, K_g=k_g)
    model = jn.build_HH(jn.Sine(amplitude=amplitude, frequency_hz=50.0, offset=8.0), config=config)
    kwargs = {"rtol": 1e-11, "atol": 1e-11} if solver != "exponential_euler" else {}
    sol = jn.simulate(model, 30.0, solver=solver, save_every=0.05, **kwargs)
    return jnp.mean((sol.V + 60.0) ** 2) / 100.0


@pytest.mark.parametrize("solver", ["tsit5", "kvaerno5", "exponential_euler"])
def test_gradient_matches_finite_differences(solver):
    params = jnp.asarray([120.0, 36.0, 3.0])
    grad = jax.jit(jax.grad(_loss), static_argnums=1)(params, solver)
    fd = []
    for i in range(3):
        h = 1e-5 * max(1.0, abs(float(params[i])))
        e = jnp.zeros(3).at[i].set(h)
        fd.append((float(_loss(params + e, solver)) - float(_loss(params - e, solver))) / (2 * h))
    print(solver, np.asarray(grad), np.asarray(fd))
    assert np.all(np.abs(np.asarray(grad)) > 1e-4)  # the loss depends on every parameter
    np.testing.assert_allclose(np.asarray(grad), fd, rtol=2e-4 if solver != "kvaerno5" else 2e-3)


def test_filter_grad_with_respect_to_every_leaf():
    model = jn.build_HH(10.0)

    @eqx.filter_grad
    def grad_fn(m):
        sol = jn.simulate(m, 20.0, solver=jn.ExponentialEuler(dt=0.01))
        return jnp.mean(sol.V)

    grads = grad_fn(model)
    assert np.isfinite(float(grads.channel("Na").g)) and float(grads.channel("Na").g) != 0.0
    assert np.isfinite(float(grads.C)) and np.isfinite(float(grads.stimulus.amplitude))
    h = 1e-4
    bumped = [
        eqx.tree_at(lambda m: m.channel("K").g, model, model.channel("K").g + s * h)
        for s in (1, -1)
    ]
    values = [
        float(jnp.mean(jn.simulate(m, 20.0, solver=jn.ExponentialEuler(dt=0.01)).V)) for m in bumped
    ]
    np.testing.assert_allclose(
        float(grads.channel("K").g), (values[0] - values[1]) / (2 * h), rtol=1e-5
    )


def test_vmap_thousand_neurons_without_recompiling():
    traces = []

    @jax.jit
    def population(currents):
        traces.append(1)  # runs only while tracing

        def one(current):
            sol = jn.simulate(jn.build_HH(current), 100.0, solver=jn.ExponentialEuler(dt=0.025))
            return jnp.sum((sol.V[1:] >= 0) & (sol.V[:-1] < 0))

        return jax.vmap(one)(currents)

    currents = jnp.linspace(0.0, 30.0, 1000)
    counts = population(currents)
    assert counts.shape == (1000,)
    assert int(counts[0]) == 0 and int(counts[-1]) > 5
    assert np.all(np.diff(np.asarray(counts)[500:]) >= 0)  # more current, more spikes
    population(currents + 1.0)
    population(jnp.flip(currents))
    assert len(traces) == 1


def test_vmap_over_batched_model_and_adaptive_solver():
    models = eqx.filter_vmap(lambda g: jn.build_HH(10.0, config=jn.HHConfig(Na_g=g)))(
        jnp.asarray([100.0, 120.0, 140.0])
    )
    sols = eqx.filter_vmap(lambda m: jn.simulate(m, 50.0, solver="tsit5"))(models)
    assert sols.V.shape == (3, 501)
    assert bool(jnp.all(sols.success))
    single = jn.simulate(jn.build_HH(10.0, config=jn.HHConfig(Na_g=140.0)), 50.0, solver="tsit5")
    np.testing.assert_allclose(np.asarray(sols.V[2]), np.asarray(single.V), atol=1e-6)


def test_eager_simulate_does_not_recompile_for_new_values():
    messages = []

    class Collect(logging.Handler):
        def emit(self, record):
            messages.append(record.getMessage())

    handler = Collect()
    logging.getLogger("jax").addHandler(handler)
    try:
        jn.simulate(jn.build_HH(1.0), 10.0, solver="tsit5")
        with jax.log_compiles():
            for current, g in [(2.0, 100.0), (3.0, 110.0), (4.0, 130.0)]:
                jn.simulate(jn.build_HH(current, config=jn.HHConfig(Na_g=g)), 10.0, solver="tsit5")
        assert not [m for m in messages if "_solve" in m]
        with jax.log_compiles():  # the check itself can fail: a new t1 must compile
            jn.simulate(jn.build_HH(1.0), 11.0, solver="tsit5")
        assert [m for m in messages if "_solve" in m]
    finally:
        logging.getLogger("jax").removeHandler(handler)


def test_vmap_over_stimuli():
    def run(onset):
        model = jn.build_HH(jn.Step(amplitude=10.0, onset=onset, offset=onset + 5.0))
        return jn.simulate(model, 40.0, solver="tsit5", rtol=1e-8, atol=1e-8).V

    V = jax.vmap(run)(jnp.asarray([5.0, 20.0]))
    t = np.arange(401) * 0.1
    first_spike = [t[np.argmax(np.asarray(v) > 0)] for v in V]
    assert 5.0 < first_spike[0] < 12.0 and 20.0 < first_spike[1] < 27.0
