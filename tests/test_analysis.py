"""Analysis: exact features on synthetic signals with known answers, streaming = exact,
differentiable surrogates' gradients, rhythms, figures."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxneuron as jn
from jaxneuron import analysis as an

T = np.arange(0.0, 10_000.0, 0.1)


def spike_train(times, ts=T, width=1.0, peak=30.0, rest=-60.0):
    """Rectangular 'spikes' of ``width`` ms starting at ``times``: up-crossings of 0 mV
    exactly at the first sample ≥ each time."""
    V = np.full_like(ts, rest)
    for s in times:
        V[(ts >= s) & (ts < s + width)] = peak
    return V


def bursting_train(period=1000.0, n=5, intra=20.0, offset=50.0, t1=10_000.0):
    onsets = np.arange(offset, t1 - period, period)
    return np.concatenate([o + intra * np.arange(n) for o in onsets])


def test_regular_spike_train():
    spikes = np.arange(5.0, 10_000.0, 25.0)
    V = spike_train(spikes)
    got = an.spike_times(T, V)
    # the crossing is interpolated between the sample before and the sample at the onset
    np.testing.assert_allclose(got, spikes - 0.1 + 0.1 * 60.0 / 90.0, atol=1e-9)
    assert an.firing_rate(T, V) == pytest.approx(40.0)
    stats = an.isi_statistics(T, V)
    assert stats["mean"] == pytest.approx(25.0) and stats["cv"] < 1e-9
    assert an.classify(T, V) == "tonic"


def test_spike_peaks_agree_with_crossings_on_hh():
    sol = jn.simulate(jn.build_HH(10.0), 200.0, solver="tsit5", save_every=0.02)
    times, values = an.spike_peaks(sol.ts, sol.V, level=0.0)
    crossings = an.spike_times(sol.ts, sol.V)
    assert times.size == crossings.size == 14
    assert np.all((times > crossings) & (times - crossings < 1.0))  # each peak follows its crossing
    assert np.all(values > 20.0)


def test_bursts_with_known_period_and_duty():
    V = spike_train(bursting_train(period=800.0, n=6, intra=15.0))
    m = an.burst_metrics(T, V, start=0.0)
    assert m["period"] == pytest.approx(800.0)
    assert m["duration"] == pytest.approx(75.0)  # 5 intervals of 15 ms
    assert m["duty_cycle"] == pytest.approx(75.0 / 800.0)
    assert m["interburst_interval"] == pytest.approx(725.0)
    assert m["spikes_per_burst"] == 6.0
    assert an.classify(T, V) == "bursting"


def test_transient_is_excluded_by_the_window():
    steady = bursting_train(period=800.0, n=4, intra=20.0, offset=2000.0)
    transient = np.arange(10.0, 1500.0, 7.0)  # fast irregular-looking start
    V = spike_train(np.concatenate([transient, steady]))
    assert an.classify(T, V, start=1900.0) == "bursting"
    assert an.burst_metrics(T, V, start=1900.0)["period"] == pytest.approx(800.0)


def test_silent_and_noise_and_irregular():
    rng = np.random.default_rng(0)
    assert an.classify(T, -60.0 + 0.0 * T) == "silent"
    noise = -60.0 + 3.0 * rng.standard_normal(T.size)  # subthreshold noise: no spikes
    assert an.classify(T, noise) == "silent"
    assert np.isnan(an.burst_metrics(T, noise)["period"])
    poisson = np.cumsum(rng.exponential(50.0, size=400))
    assert an.classify(T, spike_train(poisson[poisson < 9990.0])) == "irregular"


def test_slow_wave_amplitude():
    slow = -55.0 + 15.0 * np.sin(2 * np.pi * T / 1000.0)  # ±15 mV slow wave
    spikes = spike_train(np.arange(5.0, 10_000.0, 50.0), peak=60.0, rest=0.0)
    amplitude = an.slow_wave_amplitude(T, slow + spikes, smoothing_ms=20.0)
    assert amplitude == pytest.approx(30.0, rel=0.1)


def test_padded_spike_times_match_exact_and_vmap():
    V = spike_train(bursting_train())
    exact = an.spike_times(T, V)
    padded, count = jax.jit(an.spike_times_padded, static_argnums=(2, 3))(T, V, 0.0, 100)
    assert int(count) == exact.size
    np.testing.assert_allclose(np.asarray(padded[: exact.size]), exact, atol=1e-9)
    assert np.all(np.isinf(np.asarray(padded[exact.size :])))
    both = jax.vmap(lambda v: an.spike_times_padded(T, v, 0.0, 100)[1])(jnp.stack([V, V - 100]))
    assert both.tolist() == [exact.size, 0]


def _compare_streaming(ts, V, start, gap):
    features = an.StreamingFeatures(threshold=0.0, start=start, burst_gap=gap)
    streamed = features.summary(jax.jit(features.run)(ts, V))
    exact = an.burst_metrics(ts, V, start=start, gap=gap)
    isi = an.isi_statistics(ts, V, start=start)
    window = np.asarray(ts) >= start
    pairs = [
        (streamed["n_spikes"], isi["n_spikes"]),
        (streamed["isi_mean"], isi["mean"]),
        (streamed["isi_cv"], isi["cv"]),
        (streamed["burst_period"], exact["period"]),
        (streamed["burst_duration"], exact["duration"]),
        (streamed["duty_cycle"], exact["duty_cycle"]),
        (streamed["spikes_per_burst"], exact["spikes_per_burst"]),
        (streamed["n_bursts"], exact["n_bursts"]),
        (streamed["V_min"], np.min(np.asarray(V)[window])),
        (streamed["V_max"], np.max(np.asarray(V)[window])),
        (streamed["V_mean"], np.mean(np.asarray(V)[window])),
    ]
    for got, expected in pairs:
        np.testing.assert_allclose(
            float(got), float(expected), rtol=1e-9, atol=1e-12, equal_nan=True
        )
    return streamed


def test_streaming_equals_exact_on_the_same_samples():
    V = spike_train(bursting_train(period=700.0, n=7, intra=12.0))
    _compare_streaming(T, V, start=300.0, gap=100.0)
    tonic = spike_train(np.arange(3.0, 10_000.0, 31.0))
    out = _compare_streaming(T, tonic, start=0.0, gap=100.0)
    assert np.isnan(float(out["burst_period"]))
    sol = jn.simulate(
        jn.build_Prinz(config=jn.PrinzConfig.preset("AB/PD 2")),
        8000.0,
        solver=jn.ExponentialEuler(dt=0.025),
        save_every=0.05,
    )
    out = _compare_streaming(sol.ts, sol.V, start=1000.0, gap=200.0)
    assert float(out["burst_period"]) > 1000.0


def test_streaming_in_the_integration_loop():
    """Features updated every step (dt 0.025 ms) without storing the trace agree with the
    exact features of a trace saved every 0.25 ms, within the sampling error."""
    model = jn.build_Prinz(config=jn.PrinzConfig.preset("AB/PD 2"))
    features = an.StreamingFeatures(start=1000.0, burst_gap=200.0)
    solver = jn.ExponentialEuler(dt=0.025)
    streamed = jn.simulate(
        model, 8000.0, solver=solver, save_every=8000.0, features=features
    ).features
    saved = jn.simulate(model, 8000.0, solver=solver, save_every=0.25)
    exact = an.burst_metrics(saved.ts, saved.V, start=1000.0, gap=200.0)
    assert float(streamed["spikes_per_burst"]) == exact["spikes_per_burst"]
    np.testing.assert_allclose(float(streamed["burst_period"]), exact["period"], atol=0.25)
    np.testing.assert_allclose(float(streamed["duty_cycle"]), exact["duty_cycle"], atol=1e-3)
    # vmapped over a population, one call
    gs = jnp.asarray([4.0, 6.0, 8.0])
    pop = jax.jit(
        jax.vmap(
            lambda g: jn.simulate(
                eqx.tree_at(lambda m: m.channel("CaS").g, model, g),
                4000.0,
                solver=solver,
                save_every=4000.0,
                features=features,
            ).features["n_spikes"]
        )
    )(gs)
    assert pop.shape == (3,) and np.all(np.asarray(pop) > 0)


@pytest.mark.parametrize("dtype", [jnp.float64, jnp.float32])
def test_grouped_updates_equal_sample_by_sample(dtype):
    """`update_many` on groups of samples (one reduction where every trace crosses at most
    once per group, sample by sample where one crosses more often) gives `update` on each
    sample in turn, bit for bit, in a population of traces that cross several times per
    group, once per group, seldom or never."""
    ts = jnp.arange(200, dtype=dtype) * 0.5
    phase = jnp.asarray([1.3, 7.0, 31.0, 1e9], dtype)[:, None]  # period in samples
    V = (40.0 * jnp.sin(2 * jnp.pi * jnp.arange(200, dtype=dtype) / phase) - 5.0).T
    features = an.StreamingFeatures(threshold=0.0, start=10.2, burst_gap=4.0)
    state = features.init(ts[0], V[0])
    one = jax.lax.scan(lambda s, tv: (features.update(s, *tv), None), state, (ts[1:], V[1:]))[0]
    grouped, update_many = state, jax.jit(features.update_many)
    for i in range(1, 200, 8):  # groups of 8, the last of 7
        grouped = update_many(grouped, list(ts[i : i + 8]), list(V[i : i + 8]))
    counts = np.asarray(one.n_spikes)
    assert counts[0] > 40 and 0 < counts[2] < counts[1] and counts[3] == 0
    for name in one.__dataclass_fields__:
        a, b = getattr(one, name), getattr(grouped, name)
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=name)


@pytest.mark.parametrize("dtype", [jnp.float64, jnp.float32])
def test_features_from_a_late_start_count_every_sample_after_it(dtype):
    """`simulate` runs the steps before the analysis start without the features (whole
    save blocks, then whole unrolled groups of the next): the features still count every
    sample from the start, as those of the trace saved at every step."""
    model = jn.as_dtype(jn.build_HH(10.0), dtype)
    solver = jn.ExponentialEuler(dt=0.025)
    features = an.StreamingFeatures(start=37.3)  # mid-block, mid-group
    streamed = jn.simulate(model, 100.0, solver=solver, save_every=100.0, features=features)
    saved = jn.simulate(model, 100.0, solver=solver, save_every=0.025)
    exact = features.summary(features.run(saved.ts, saved.V))
    assert int(streamed.features["n_spikes"]) == int(exact["n_spikes"]) == 4
    rtol = 1e-9 if dtype == jnp.float64 else 1e-4
    for key, value in exact.items():  # isi_cv is about 5e-6: an absolute bound too
        np.testing.assert_allclose(
            np.asarray(streamed.features[key]), value, rtol=rtol, atol=rtol / 100,
            equal_nan=True, err_msg=key,
        )  # fmt: skip


def _fd(f, x, h):
    return (f(x + h) - f(x - h)) / (2 * h)


def test_soft_spike_count_gradient():
    def count(current):
        sol = jn.simulate(
            jn.build_HH(current), 100.0, solver=jn.ExponentialEuler(dt=0.01), save_every=0.05
        )
        return an.soft_spike_count(sol.V, threshold=-20.0, sharpness=0.2)

    c = float(count(10.0))
    exact = an.spike_times(
        *(lambda s: (s.ts, s.V))(
            jn.simulate(
                jn.build_HH(10.0), 100.0, solver=jn.ExponentialEuler(dt=0.01), save_every=0.05
            )
        ),
        threshold=-20.0,
    ).size
    assert abs(c - exact) < 0.5
    grad = float(jax.grad(count)(10.0))
    assert abs(grad) > 1e-6
    np.testing.assert_allclose(grad, _fd(lambda x: float(count(x)), 10.0, 1e-5), rtol=1e-3)


def test_smooth_period_and_duty_cycle_gradients():
    base = jn.build_Prinz(config=jn.PrinzConfig.preset("AB/PD 2"))

    def features(g_cas):
        m = eqx.tree_at(lambda m: m.channel("CaS").g, base, g_cas)
        sol = jn.simulate(m, 8000.0, solver=jn.ExponentialEuler(dt=0.025), save_every=1.0)
        V = sol.V[1000:]
        ts = sol.ts[1000:]
        return jnp.stack(
            [
                an.smooth_period(ts, V, band_hz=(0.2, 5.0), temperature=0.2),
                an.soft_duty_cycle(V, threshold=-45.0, smoothing=25),
            ]
        )

    values = features(6.0)
    sol = jn.simulate(base, 8000.0, solver=jn.ExponentialEuler(dt=0.025), save_every=1.0)
    exact = an.burst_metrics(sol.ts, sol.V, start=1000.0)
    # a smooth estimate, not the exact period: within 15% of it
    assert abs(float(values[0]) - exact["period"]) < 0.15 * exact["period"]
    assert 0.0 < float(values[1]) < 1.0
    jac = jax.jacfwd(features)(6.0)
    # an 8-s bursting trajectory is strongly curved in g: small steps for the differences
    fd = _fd(lambda x: np.asarray(features(x)), 6.0, 1e-7)
    np.testing.assert_allclose(np.asarray(jac), fd, rtol=1e-4)


def test_voltage_histogram_gradient_and_normalisation():
    edges = jnp.linspace(-80.0, 40.0, 25)

    def hist_loss(current):
        sol = jn.simulate(jn.build_HH(current), 50.0, solver=jn.ExponentialEuler(dt=0.01))
        h = an.voltage_histogram(sol.V, edges, bandwidth=2.0)
        return jnp.sum(h * jnp.arange(h.size)), h

    (value, h), grad = jax.value_and_grad(hist_loss, has_aux=True)(8.0)
    assert float(jnp.sum(h)) == pytest.approx(1.0)
    np.testing.assert_allclose(
        float(grad), _fd(lambda x: float(hist_loss(x)[0]), 8.0, 1e-5), rtol=1e-4
    )


def _pyloric_traces(order=("AB/PD", "LP", "PY"), windows=((50, 300), (450, 650), (700, 950))):
    period = 1000.0
    traces = {}
    for name, (on, off) in zip(order, windows, strict=True):
        spikes = [c * period + s for c in range(10) for s in np.arange(on, off, 20.0)]
        traces[name] = spike_train(spikes)
    return traces


def test_rhythm_phases_on_a_synthetic_pyloric_rhythm():
    traces = _pyloric_traces()
    phases = an.burst_phases(T, traces, reference="AB/PD")
    assert phases["AB/PD"]["onset"] == pytest.approx(0.0, abs=1e-9)
    assert phases["LP"]["onset"] == pytest.approx(0.4, abs=1e-3)
    assert phases["LP"]["offset"] == pytest.approx(0.58, abs=1e-3)
    assert phases["PY"]["onset"] == pytest.approx(0.65, abs=1e-3)
    assert phases["PY"]["bursts_per_cycle"] == 1.0
    assert an.cycle_order(phases) == ["AB/PD", "LP", "PY"]
    assert an.is_pyloric(phases)
    swapped = an.burst_phases(T, _pyloric_traces(order=("AB/PD", "PY", "LP")), "AB/PD")
    assert not an.is_pyloric(swapped)
    doubled = dict(
        traces,
        LP=spike_train([c * 500.0 + s for c in range(20) for s in np.arange(450.0, 550.0, 20.0)]),
    )
    assert not an.is_pyloric(an.burst_phases(T, doubled, "AB/PD"))


def test_figures_are_produced(tmp_path):
    model = jn.build_Prinz(config=jn.PrinzConfig.preset("AB/PD 2"))
    sol = jn.simulate(model, 5000.0, solver=jn.ExponentialEuler(dt=0.025), save_every=0.5)
    traces = _pyloric_traces()
    phases = an.burst_phases(T, traces, reference="AB/PD")
    spikes = [an.spike_times(T, v) for v in traces.values()]
    files = {
        "traces.png": jn.plot.plot_traces(T[:30000], {k: v[:30000] for k, v in traces.items()}),
        "raster.png": jn.plot.plot_raster(spikes, labels=list(traces)),
        "bursts.png": jn.plot.plot_bursts(sol.ts, sol.V, start=1000.0),
        "phases.png": jn.plot.plot_phases(phases),
        "fi.png": jn.plot.plot_fi_curve([0, 10, 20], [0, 68, 86]),
        "slice.png": jn.plot.plot_sweep_slice(
            [1, 2, 3], [1, 2], [[0, 1, 2], [2, 3, 0]], categories=list(an.ACTIVITY_CLASSES)
        ),
        "currentscape.png": jn.plot.plot_currentscape(model, sol, t_range=(2000.0, 5000.0)),
    }
    for name, obj in files.items():
        path = tmp_path / name
        jn.plot.save(np.atleast_1d(obj)[0], path)
        assert path.stat().st_size > 5_000, name
