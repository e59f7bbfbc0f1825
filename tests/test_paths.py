"""One fixed-step driver behind every path: the numerics it shares, and the same numbers
from `simulate`, the sweep engine, the Pallas kernel, `simulate_spiking` and spiking
networks for the same model, dtype and step.

What "the same" can mean: the paths are different XLA programs, and XLA contracts a
multiply followed by an add into one fused multiply-add wherever both land in one fusion —
which depends on the program. So two paths agree to the last bit for the first steps and
then differ by rounding; the tests bound that (float64: 1e-9 relative on every feature
over 2 s; float32: identical spike counts and classes), where the paths' algorithms used to
differ by tens of µV after 150 ms (compensated against plain summation).
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxneuron as jn
from jaxneuron import _numerics as nx
from jaxneuron.analysis import StreamingFeatures
from jaxneuron.sweep import Engine, run_pallas

NAMES = tuple(f"{c}.g" for c in jn.CHANNEL_ORDER)
# AB/PD 2 and database models that burst, fire tonically and spike irregularly
MODELS = [None, 308500, 33942, 303109]


def _values(models):
    rows = [
        jn.PrinzConfig.preset("AB/PD 2").conductances()
        if m is None
        else jn.prinz_2003_conductances(m)
        for m in models
    ]
    g = np.asarray(rows, dtype=float)
    return {n: g[:, i] for i, n in enumerate(NAMES)}


# ---- the numerics -----------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
def test_exponential_functions_are_accurate_over_the_whole_range(dtype):
    """e^z − 1, (e^z − 1)/z and 1 − e^{−z} against float64 NumPy over 15 decades of |z|
    and both signs, including where the float32 forms switch at |z| = 1/16."""
    mags = np.concatenate([np.logspace(-12, 1.2, 4001), [1 / 16, np.nextafter(1 / 16, 0)]])
    z64 = np.concatenate([mags, -mags])
    z = jnp.asarray(z64, dtype)
    z64 = np.asarray(z, np.float64)  # the arguments as represented
    tol = 1e-6 if dtype == jnp.float32 else 1e-13
    for f, ref in (
        (nx.expm1, np.expm1(z64)),
        (nx.exprel, np.expm1(z64) / z64),
        (nx.relaxation_factor, -np.expm1(-z64)),
    ):
        got = np.asarray(jax.jit(f)(z), np.float64)
        rel = np.abs(got - ref) / np.abs(ref)
        assert rel.max() < tol, (f.__name__, z64[np.argmax(rel)], rel.max())
        assert got.dtype == np.float64  # (cast above); the result keeps the input dtype:
        assert jax.jit(f)(z).dtype == dtype
    # exprel is 1 at 0, and smooth there
    assert float(nx.exprel(jnp.zeros((), dtype))) == 1.0
    assert float(jax.grad(nx.exprel)(jnp.zeros((), dtype))) == pytest.approx(0.5)


def test_relax_and_membrane_increment_are_exact_for_frozen_coefficients():
    # x relaxing to 1 with τ = 2 ms over 3 ms: x(3) = 1 − e^{−1.5}
    assert float(nx.relax(jnp.float64(0.0), 1.0, 1.5)) == pytest.approx(1 - np.exp(-1.5))
    # C dV/dt = −G V + J from V = 0 with G/C = 2, J/C = 4: V(t) = 2(1 − e^{−2t})
    dV = nx.membrane_increment(jnp.float64(4.0), 2.0, 0.7)
    assert float(dV) == pytest.approx(2 * (1 - np.exp(-1.4)))


def test_compensated_add_keeps_increments_below_the_resolution():
    y, c = jnp.float32(0.5), jnp.float32(0.0)
    plain = jnp.float32(0.5)
    for _ in range(10_000):
        y, c = nx.compensated_add(y, jnp.float32(1e-9), c)
        plain = plain + jnp.float32(1e-9)
    assert float(plain) == 0.5  # each 1e-9 is below half an ulp of 0.5
    assert float(y) + float(c) == pytest.approx(0.5 + 1e-5, rel=1e-7)
    x, cx = nx.advance(jnp.float32(1.0), jnp.float32(2.0))
    assert float(x) == 3.0 and cx is None


def test_crossing_fraction_in_numpy_and_jax():
    before, after = np.asarray([-10.0, 5.0, -3.0]), np.asarray([30.0, 10.0, -1.0])
    got = nx.crossing_fraction(before, after, 0.0)
    assert isinstance(got, np.ndarray) and got.dtype == np.float64
    np.testing.assert_allclose(got, [0.25, 0.0, 1.0])  # clipped where 0 is not crossed
    np.testing.assert_allclose(nx.crossing_fraction(jnp.asarray(before), after, 0.0), got)


# ---- one model, every path ----------------------------------------------------------------


@pytest.mark.parametrize("dtype", [jnp.float64, jnp.float32])
def test_simulate_engine_and_pallas_kernel_agree(dtype):
    t1 = 2000.0
    features = StreamingFeatures(start=500.0)
    values = _values(MODELS)
    base = jn.as_dtype(jn.build_Prinz(), dtype)
    engine = Engine(base, NAMES, t1, 0.025, features=features, record_every=t1)
    xla = engine(values, record=range(len(MODELS)))
    kernel = run_pallas(engine, values, block=4)
    rtol = 1e-9 if dtype == jnp.float64 else 1e-3
    for i in range(len(MODELS)):
        model = jn.set_parameters(base, {n: values[n][i] for n in NAMES})
        sol = jn.simulate(
            model, t1, solver=jn.ExponentialEuler(0.025), save_every=t1, features=features
        )
        # the final state of simulate and of the engine's recorded trace
        np.testing.assert_allclose(
            np.asarray(xla["traces"][-1, i]), np.asarray(sol.ys[-1]), rtol=rtol, atol=rtol
        )
        for key, value in sol.features.items():
            for path, out in (("engine", xla), ("pallas", kernel)):
                got = np.asarray(out[key][i])
                if key in ("n_spikes", "n_bursts"):
                    assert int(got) == int(value), (path, i, key)
                else:
                    np.testing.assert_allclose(
                        got, value, rtol=rtol, equal_nan=True, err_msg=f"{path} {i} {key}"
                    )
    assert np.asarray(kernel["class"]).tolist() == np.asarray(xla["class"]).tolist()
    assert set(np.asarray(xla["class"]).tolist()) >= {1, 2}  # tonic and bursting covered


def test_float32_is_compensated_on_every_path():
    """Kahan summation is the float32 default of `simulate` too: its trace is closer to
    float64 than plain summation (the engine's compensation used to be its own)."""
    ref = jn.simulate(
        jn.as_dtype(jn.build_Prinz(), jnp.float64), 200.0, solver=jn.ExponentialEuler(0.025)
    )
    model = jn.as_dtype(jn.build_Prinz(), jnp.float32)
    errors = {}
    for compensated in (None, False):
        sol = jn.simulate(model, 200.0, solver=jn.ExponentialEuler(0.025, compensated=compensated))
        errors[compensated] = np.max(np.abs(np.asarray(sol.V, float) - np.asarray(ref.V)))
    assert errors[None] < errors[False] / 3


@pytest.mark.parametrize("dtype", [jnp.float64, jnp.float32])
def test_simulate_spiking_and_spiking_network_agree(dtype):
    """An unconnected population in `simulate_network` takes the same steps (the same
    `reset_step`) as `simulate_spiking` on each neuron."""
    currents = jnp.asarray([1.6, 2.0, 3.0], dtype)
    cfg = jn.LIFConfig(t_ref=2.0)
    neurons = jn.as_dtype(eqx.filter_vmap(lambda i: jn.build_LIF(i, config=cfg))(currents), dtype)
    net = jn.SpikingNetwork(neurons, ())
    result = jn.simulate_network(net, 200.0, dt=0.1, record=(0, 1, 2))
    tol = 1e-9 if dtype == jnp.float64 else 1e-4
    for k, current in enumerate(currents):
        model = jn.as_dtype(jn.build_LIF(float(current), config=cfg), dtype)
        sol = jn.simulate_spiking(model, 200.0, solver=jn.ExponentialEuler(0.1), max_spikes=40)
        ours = np.asarray(sol.spike_times[: int(sol.spike_count)])
        theirs = result.spike_trains("neurons")[k]
        assert len(ours) == len(theirs) > 5
        np.testing.assert_allclose(theirs, ours, rtol=tol)
        # the network saves at the ends of the steps, simulate_spiking from t0 on
        V = np.asarray(result.V["neurons"][:, k])
        np.testing.assert_allclose(V, np.asarray(sol.V)[1:], atol=tol)


# ---- the model roles ----------------------------------------------------------------------


def test_roles_are_abstract_and_checked_by_isinstance():
    assert isinstance(jn.build_HH(), jn.AbstractSplitModel)
    assert isinstance(jn.pyloric_circuit(), jn.AbstractSplitModel)
    assert isinstance(jn.build_AdEx(), jn.AbstractSpikingModel)
    for role in (jn.AbstractModel, jn.AbstractSplitModel, jn.AbstractSpikingModel):
        with pytest.raises(TypeError, match="abstract"):
            role()
    with pytest.raises(TypeError, match="integrate-and-fire"):
        jn.simulate_spiking(jn.build_HH(10.0), 10.0)
    with pytest.raises(TypeError, match="conductance-based"):
        Engine(jn.build_LIF(2.0), ("tau",), 10.0)
    with pytest.raises(TypeError, match="needs a model"):
        jn.simulate(object(), 10.0)


def test_simulate_runs_every_kind_of_model_on_its_driver():
    """`simulate` of an integrate-and-fire neuron, a population network and a spiking
    network is their own driver's run, bit for bit, the step given by a fixed-step solver;
    a population network without spike events runs with an adaptive solver as its
    `Network`; what a driver cannot run is a one-line TypeError."""
    lif, step = jn.build_LIF(2.0), jn.ExponentialEuler(0.1)
    a = jn.simulate(lif, 50.0, solver=step, max_spikes=10)
    b = jn.simulate_spiking(lif, 50.0, solver=step, max_spikes=10)
    assert type(a) is type(b) and int(a.spike_count) == int(b.spike_count) == 3
    np.testing.assert_array_equal(a.spike_times, b.spike_times)
    np.testing.assert_array_equal(a.ys, b.ys)

    net, y0, g0 = jn.cobahh(200, seed=0)
    a = jn.simulate(net, 20.0, solver=step, y0=y0, g0=g0, record={"E": [0, 1]})
    b = jn.simulate_populations(net, 20.0, dt=0.1, y0=y0, g0=g0, record={"E": [0, 1]})
    assert type(a) is jn.PopulationSolution and int(b.counts["E"].sum()) > 0
    for name in ("E", "I"):
        np.testing.assert_array_equal(a.counts[name], b.counts[name])
    np.testing.assert_array_equal(a.V["E"], b.V["E"])
    with pytest.raises(TypeError, match="spike-driven synapses have no form"):
        jn.simulate(net, 20.0, solver="tsit5")
    with pytest.raises(TypeError, match="give the step once"):
        jn.simulate(net, 20.0, solver=step, dt=0.1)

    circuit = jn.pyloric_circuit()
    as_populations = jn.PopulationNetwork.from_network(circuit)
    a = jn.simulate(as_populations, 50.0, solver="tsit5")
    b = jn.simulate(circuit, 50.0, solver="tsit5")
    assert a.state_names == b.state_names
    np.testing.assert_array_equal(a.ys, b.ys)

    spiking = jn.ei_network(40, 10, seed=1)
    a = jn.simulate(spiking, 30.0, solver=step, record=(0, 3), start=10.0)
    b = jn.simulate_network(spiking, 30.0, dt=0.1, record=(0, 3), start=10.0)
    assert int(a.counts["neurons"].sum()) > 0
    # the spike trains hold the spikes that the counts count, from the start on
    trains = a.spike_trains("neurons")
    assert [len(t) for t in trains] == a.counts["neurons"].tolist()
    assert min(t.min() for t in trains if t.size) >= 10.0
    np.testing.assert_array_equal(a.states["neurons"]["spike"], b.states["neurons"]["spike"])
    np.testing.assert_array_equal(a.V["neurons"], b.V["neurons"])
    with pytest.raises(TypeError, match="spike events and runs with a fixed step only"):
        jn.simulate(spiking, 30.0, solver="kvaerno5")


def test_time_grid_is_checked_once_for_every_entry_point():
    with pytest.raises(ValueError, match="shorter than one step"):
        jn.simulate(jn.build_HH(), 10.0, solver=jn.ExponentialEuler(dt=50.0))
    with pytest.raises(ValueError, match="whole multiple"):
        jn.simulate_spiking(jn.build_LIF(2.0), 10.05, solver=jn.ExponentialEuler(dt=0.1))
    net = jn.SpikingNetwork(eqx.filter_vmap(jn.build_LIF)(jnp.asarray([2.0])), ())
    with pytest.raises(ValueError, match="whole multiple"):
        jn.simulate_network(net, 10.05, dt=0.1)
    with pytest.raises(ValueError, match="t1 .end time, ms. must be greater"):
        jn.simulate(jn.build_HH(), -1.0)
