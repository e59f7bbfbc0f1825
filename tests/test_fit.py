"""Fitting (jaxneuron.fit): transforms, early errors, gradients against central finite
differences (float64), and parameter recovery from synthetic data."""

import warnings

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import jaxneuron as jn
import jaxneuron.fit as jf

HH_SOLVER = jn.ExponentialEuler(dt=0.025)
PRINZ_SOLVER = jn.ExponentialEuler(dt=0.05)


def central_difference(loss, model, name, rel_step):
    x = float(jn.get_parameter(model, name))
    h = rel_step * abs(x)
    up = loss(jn.set_parameters(model, {name: x + h}))
    down = loss(jn.set_parameters(model, {name: x - h}))
    return float((up - down) / (2 * h))


def assert_gradients_match(model, loss, names, rel_step=1e-6, rtol=1e-4):
    value_r, reverse = jf.loss_and_gradient(model, loss, names, gradient="reverse")
    value_f, forward = jf.loss_and_gradient(model, loss, names, gradient="forward")
    assert float(value_r) == pytest.approx(float(value_f), rel=1e-12)
    for name in names:
        fd = central_difference(eqx.filter_jit(loss), model, name, rel_step)
        assert float(reverse[name]) != 0.0, name
        assert float(reverse[name]) == pytest.approx(fd, rel=rtol), name
        assert float(forward[name]) == pytest.approx(float(reverse[name]), rel=1e-8), name


# ---- transforms ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "transform, value",
    [
        (jf.Identity(), -70.0),
        (jf.Log(), 0.01),
        (jf.Softplus(), 3.0),
        (jf.Bounded(50.0, 200.0), 120.0),
        (jf.Bounded(1e-3, 10.0, log=True), 0.05),
    ],
)
def test_transform_round_trip(transform, value):
    u = transform.inverse(value)
    assert float(transform.forward(u)) == pytest.approx(value, rel=1e-12)
    assert transform.contains(value)


def test_transforms_keep_values_in_their_domain():
    u = jnp.linspace(-30.0, 30.0, 61)
    assert bool(jnp.all(jf.Log().forward(u) > 0))
    bounded = jf.Bounded(2.0, 5.0).forward(u)
    assert bool(jnp.all((bounded >= 2.0) & (bounded <= 5.0)))
    assert not jf.Bounded(2.0, 5.0).contains(5.5)
    assert not jf.Log().contains(0.0)


def test_default_transforms_by_name():
    assert isinstance(jf.default_transform("Na.g"), jf.Log)
    assert isinstance(jf.default_transform("AB->LP.g_nS"), jf.Log)
    assert isinstance(jf.default_transform("g_scale"), jf.Log)
    assert isinstance(jf.default_transform("Na.E"), jf.Identity)


def test_parameter_selection_by_name_pattern_and_filter():
    model = jn.build_Prinz()
    assert jf.select_parameters(model, "Na.g").names == ("Na.g",)
    assert jf.select_parameters(model, "*.g").names == (
        "Na.g", "CaT.g", "CaS.g", "A.g", "KCa.g", "Kd.g", "H.g", "Leak.g",
    )  # fmt: skip
    chosen = jf.select_parameters(model, lambda n: n.startswith("Ca") and n.endswith(".g"))
    assert chosen.names == ("CaT.g", "CaS.g")
    free = jf.select_parameters(model, {"CaS.g": jf.Bounded(1.0, 20.0), "g_scale": None})
    assert isinstance(free.transforms[0], jf.Bounded) and isinstance(free.transforms[1], jf.Log)
    net = jn.pyloric_circuit()
    assert jf.select_parameters(net, ["AB->LP.g_nS", "LP.CaS.g"]).names == (
        "AB->LP.g_nS",
        "LP.CaS.g",
    )


# ---- early errors -------------------------------------------------------------------


def test_unknown_parameter_name_raises_key_error():
    loss = jf.FunctionLoss(lambda m: m.C)
    with pytest.raises(KeyError, match="no parameter 'Na_g'.*did you mean"):
        jf.fit(jn.build_HH(), loss, ["Na_g"], steps=1)
    with pytest.raises(KeyError, match="matches none"):
        jf.fit(jn.build_HH(), loss, "*.tau", steps=1)


def test_target_of_wrong_length_says_expected_and_got():
    with pytest.raises(ValueError, match=r"999 samples, expected 1001 .* 100 ms .* 0.1 ms"):
        jf.TraceLoss(np.zeros(999), dt=0.1, t1=100.0)
    with pytest.raises(ValueError, match=r"500 samples but times has shape \(400,\).*ms"):
        jf.TraceLoss(np.zeros(500), times=np.arange(400) * 0.1)
    with pytest.raises(ValueError, match=r"shape \(3,\), expected \(12,\)"):
        jf.VoltageHistogram(np.ones(3) / 3)


def test_bounds_excluding_the_initial_value_name_parameter_bounds_value_and_unit():
    loss = jf.FunctionLoss(lambda m: m.C)
    with pytest.raises(ValueError, match=r"'Na.g' = 120 mS/cm² is outside .*\(50, 100\) mS/cm²"):
        jf.fit(jn.build_HH(), loss, {"Na.g": jf.Bounded(50.0, 100.0)}, steps=1)
    with pytest.raises(ValueError, match=r"'Leak.g' = 0 mS/cm² is outside values > 0"):
        jf.fit(jn.build_Prinz(), loss, "Leak.g", steps=1)
    with pytest.raises(ValueError, match=r"starts has shape \(3, 3\); expected \(n_starts, 2\)"):
        jf.fit(jn.build_HH(), loss, ["Na.g", "K.g"], starts=np.ones((3, 3)), steps=1)


def test_circuit_losses_must_name_the_cell():
    net = jn.pyloric_circuit()
    loss = jf.FeatureLoss([jf.DutyCycle(0.3)], t1=100.0)
    with pytest.raises(ValueError, match="circuit with cells"):
        jf.fit(net, loss, "AB->LP.g_nS", steps=1)
    loss = jf.FeatureLoss([jf.DutyCycle(0.3, cell="XY")], t1=100.0)
    with pytest.raises(KeyError, match="no cell 'XY'"):
        jf.fit(net, loss, "AB->LP.g_nS", steps=1)


def test_losses_compose():
    a = jf.FunctionLoss(lambda m: m.C)
    b = jf.FunctionLoss(lambda m: 2.0 * m.C)
    model = jn.build_HH()
    assert float((a + 3.0 * b)(model)) == pytest.approx(7.0)
    assert float((0.5 * (a + b))(model)) == pytest.approx(1.5)
    assert float(sum([a, b])(model)) == pytest.approx(3.0)


# ---- gradients against central finite differences (float64) --------------------------


def test_gradient_matches_finite_differences_hh():
    true = jn.build_HH(10.0)
    target = jn.simulate(true, 50.0, solver=HH_SOLVER, save_every=0.1).V
    loss = jf.TraceLoss(target, dt=0.1, t1=50.0, start=5.0, solver=HH_SOLVER) + 10.0 * (
        jf.FeatureLoss([jf.SpikeCount(3.0)], t1=50.0, solver=HH_SOLVER)
    )
    model = jn.set_parameters(true, {"Na.g": 110.0, "K.g": 40.0})
    assert_gradients_match(model, loss, ["Na.g", "K.g", "Leak.E"])


def test_gradient_matches_finite_differences_hh_adaptive_solver():
    # Tsit5: reverse mode through RecursiveCheckpointAdjoint, forward through ForwardMode
    loss = jf.FeatureLoss(
        [jf.FiringRate(80.0, threshold=-20.0, sharpness=0.2)],
        t1=30.0,
        stimulus=10.0,
        solver="tsit5",
        save_every=0.05,
        rtol=1e-10,
        atol=1e-10,
    )
    assert_gradients_match(jn.build_HH(), loss, ["Na.g", "K.g"], rel_step=1e-5, rtol=1e-4)


def test_gradient_matches_finite_differences_prinz():
    model = jn.build_Prinz()
    loss = jf.FeatureLoss(
        [jf.DutyCycle(0.3), jf.SpikeCount(10.0), jf.VoltageHistogram(np.full(12, 1 / 12))],
        t1=600.0,
        solver=PRINZ_SOLVER,
        save_every=0.1,
    )
    # the loss curves sharply on the scale of a spike: the difference step must be tiny
    assert_gradients_match(model, loss, ["CaS.g", "A.g", "g_scale"], rel_step=1e-7, rtol=2e-5)


def test_gradient_matches_finite_differences_circuit():
    net = jn.pyloric_circuit()
    # save_every = dt: one step per save, nothing unrolled, a quick compile
    target = jn.simulate(net, 200.0, solver=PRINZ_SOLVER, save_every=0.05).V
    loss = jf.TraceLoss(target, dt=0.05, t1=200.0, solver=PRINZ_SOLVER, save_every=0.05)
    model = jn.set_parameters(net, {"AB->LP.g_nS": 20.0, "LP.CaS.g": 5.0})
    assert_gradients_match(model, loss, ["AB->LP.g_nS", "LP.CaS.g", "PY->LP.g_nS"])


# ---- recovery of true parameters ----------------------------------------------------


def test_recover_hh_conductances_from_a_noisy_trace():
    # 1-ms pulses lock each spike to the stimulus, so the trace MSE is smooth in the
    # conductances (free-running spikes drift and give a rugged MSE)
    stimulus = jn.PulseTrain(amplitude=20.0, onset=10.0, width=1.0, period=25.0, count=8)
    true = jn.build_HH(stimulus)
    clean = jn.simulate(true, 200.0, solver=HH_SOLVER, save_every=0.1).V
    noisy = clean + 2.0 * jax.random.normal(jax.random.key(0), clean.shape)  # 2 mV noise
    loss = jf.TraceLoss.from_recording(
        noisy, sampling_rate_hz=10_000.0, stimulus=stimulus, start=5.0, solver=HH_SOLVER
    )
    start = jn.set_parameters(true, {"Na.g": 95.0, "K.g": 45.0})
    result = jf.fit(start, loss, ["Na.g", "K.g"], optimizer=optax.adam(0.05), steps=100)
    errors = result.relative_errors({"Na.g": 120.0, "K.g": 36.0})
    assert max(errors.values()) < 0.02, (errors, str(result))
    assert result.loss == pytest.approx(4.0, rel=0.1)  # the noise variance, 2² mV²
    assert result.loss_history[0] > 5 * result.loss
    assert result.gradient == "forward" and result.steps == 100


def test_defaults_recover_hh_conductances_from_a_noisy_step_response():
    # a 10 µA/cm² step, 100 ms sampled at 40 kHz, 2 mV noise, from 100/45: the default for
    # a trace loss (L-BFGS with a backtracking line search) converges within 1% of 120/36.
    # The noise alone moves the minimum by sd 0.35% / 0.26% here (sensitivity's standard
    # errors; 8 seeds: 0.33% / 0.25%, at most 0.79%); sampled at 10 kHz it is twice that.
    true = jn.build_HH(10.0)
    clean = jn.simulate(true, 100.0, solver=HH_SOLVER, save_every=0.025).V
    noisy = clean + 2.0 * jax.random.normal(jax.random.key(3), clean.shape)
    loss = jf.TraceLoss(noisy, dt=0.025, t1=100.0)
    start = jn.set_parameters(true, {"Na.g": 100.0, "K.g": 45.0})
    result = jf.fit(start, loss, ["Na.g", "K.g"])
    errors = result.relative_errors({"Na.g": 120.0, "K.g": 36.0})
    assert max(errors.values()) < 0.01, (errors, str(result))
    assert result.converged and result.stop_reason == "step_tol" and result.steps < 100
    assert result.loss == pytest.approx(4.0, rel=0.1)
    assert result.noise_floor == pytest.approx(4.0, rel=0.1)  # σ̂² from the data alone
    assert result.diagnosis.startswith("converged (step_tol)")
    # the fitted point is the noisy loss's own minimum: a fit from the truth ends there too
    again = jf.fit(true, loss, ["Na.g", "K.g"])
    for name in ("Na.g", "K.g"):
        assert again.values[name] == pytest.approx(result.values[name], rel=1e-4)
    se = jf.sensitivity(true, loss, ["Na.g", "K.g"]).standard_errors(4.0 / clean.shape[0])
    assert 0.002 < se["Na.g"] < 0.005 and 0.0015 < se["K.g"] < 0.004


def test_a_fit_stuck_far_above_the_noise_says_so_and_recovers():
    # 10 kHz, 2 mV noise, from Na.g = 70, K.g = 60 (within ÷2 of the truth): the default
    # L-BFGS stops on step_tol in a local minimum with spikes out of step, at a loss far
    # above the noise variance. That is not reported as converged: `fit` restarts from the
    # same values by synchronisation and ends at the optimum a fit from the truth reaches.
    true = jn.build_HH(10.0)
    clean = jn.simulate(true, 100.0, solver=jn.ExponentialEuler(0.025), save_every=0.1).V
    noisy = clean + 2.0 * jax.random.normal(jax.random.key(3), clean.shape)
    loss = jf.TraceLoss(noisy, dt=0.1, t1=100.0)
    assert loss.noise_floor() == pytest.approx(4.0, rel=0.1)
    start = jn.set_parameters(true, {"Na.g": 70.0, "K.g": 60.0})
    with warnings.catch_warnings():
        warnings.simplefilter("error", jf.FitWarning)
        recovered = jf.fit(start, loss, ["Na.g", "K.g"])
        from_truth = jf.fit(true, loss, ["Na.g", "K.g"])
    first = float(recovered.recovery.split("stopped at loss ")[1].split()[0])
    assert first > 10 * jf.NOISE_FACTOR * recovered.noise_floor  # the first fit was stuck
    assert recovered.converged and from_truth.recovery is None
    for name in ("Na.g", "K.g"):
        assert recovered.values[name] == pytest.approx(from_truth.values[name], rel=1e-3)
    assert recovered.diagnosis.startswith("converged after a restart by synchronisation")
    assert recovered.initial_values == {"Na.g": 70.0, "K.g": 60.0}
    # a model that cannot reproduce the data: the restart does not help, and it says so
    wrong = jn.set_parameters(true, {"Na.g": 60.0})
    with pytest.warns(jf.FitWarning, match="NOT converged"):
        hopeless = jf.fit(wrong, loss, ["Leak.g"], steps=20)
    assert not hopeless.converged and "no better" in hopeless.recovery
    assert hopeless.loss > jf.NOISE_FACTOR * hopeless.noise_floor
    assert str(hopeless).splitlines()[0] == hopeless.diagnosis
    assert "did not help" in hopeless.diagnosis and "local minimum" in hopeless.diagnosis


def test_the_noise_floor_is_estimated_from_the_data():
    true = jn.build_HH(10.0)
    clean = jn.simulate(true, 100.0, solver=jn.ExponentialEuler(0.025), save_every=0.1).V
    # the estimate: white noise of known variance on a smooth signal, and noise-free data
    t = np.linspace(0.0, 100.0, 10_001)
    rng = np.random.default_rng(1)
    for sigma in (0.5, 2.0, 5.0):
        x = 10 * np.sin(t / 7) + sigma * rng.normal(size=t.size)
        assert jf.noise_variance(x) == pytest.approx(sigma**2, rel=0.1)  # sd ≈ 3.5 %
    assert jf.noise_variance(np.asarray(clean)) < 1e-4
    # noise filtered by an amplifier (here a 0.4-ms moving average): the white estimate
    # is far too low, the robust variance of the residuals is not, and a fit at the
    # optimum is not blamed
    white = 2.0 * np.random.default_rng(5).normal(size=clean.size + 3)
    filtered = jf.TraceLoss(clean + np.convolve(white, np.full(4, 0.5), "valid"), dt=0.1)
    assert filtered.noise_floor() < 1.0 < 3.5 < filtered.noise_floor(true) < 5.0
    with warnings.catch_warnings():
        warnings.simplefilter("error", jf.FitWarning)
        at_truth = jf.fit(true, filtered, ["Na.g", "K.g"], recover=False)
    assert at_truth.converged and at_truth.noise_floor > 3.5


def test_blocks_of_steps_do_not_change_the_optimisation():
    stimulus = jn.PulseTrain(amplitude=20.0, onset=5.0, width=1.0, period=25.0, count=2)
    true = jn.build_HH(stimulus)
    target = jn.simulate(true, 50.0, solver=HH_SOLVER, save_every=0.1).V
    loss = jf.TraceLoss(target, dt=0.1, stimulus=stimulus, solver=HH_SOLVER)
    start = jn.set_parameters(true, {"K.g": 40.0})
    runs = [
        jf.fit(start, loss, "K.g", steps=9, optimizer=optax.adam(0.02), block=b, step_tol=None)
        for b in (1, 4, 20)
    ]
    for other in runs[1:]:
        np.testing.assert_array_equal(other.loss_history, runs[0].loss_history)
        assert other.values == runs[0].values and other.steps == 9
    # a loss tolerance stops inside a block: the history ends at the step that reached it
    stopped = jf.fit(
        start,
        loss,
        "K.g",
        steps=50,
        optimizer=optax.adam(0.02),
        block=20,
        loss_tol=float(runs[0].loss_history[5]),
    )
    assert stopped.stop_reason == "loss_tol" and stopped.steps == 6
    assert runs[0].stop_reason == "steps" and not runs[0].converged


def test_recover_prinz_g_scale_from_the_burst_period():
    base = jn.build_Prinz()
    true = jn.set_parameters(base, {"g_scale": 1.3})
    loss = jf.FeatureLoss(
        [jf.BurstPeriod(period_range=(500.0, 2500.0))],
        t1=4000.0,
        start=1000.0,
        solver=PRINZ_SOLVER,
        save_every=0.1,
    ).with_targets_from(true)
    # the surrogate period is within 1% of the exact one (burst onsets) on the same window
    sol = jn.simulate(true, 8000.0, solver=PRINZ_SOLVER)
    exact = jn.analysis.burst_metrics(np.asarray(sol.ts), np.asarray(sol.V), start=1000.0)
    assert float(loss.features[0].target) == pytest.approx(exact["period"], rel=0.01)
    result = jf.fit(base, loss, "g_scale", optimizer=optax.adam(0.04), steps=30, loss_tol=1e-6)
    assert result.converged
    assert result.values["g_scale"] == pytest.approx(1.3, rel=0.02), str(result)


def test_multi_start_returns_the_best_start():
    # From Na.g = 20 the trace fit stalls (no spikes to line up); starts nearer the truth
    # find it. Starts are optimised together under vmap.
    stimulus = jn.PulseTrain(amplitude=20.0, onset=10.0, width=1.0, period=25.0, count=4)
    true = jn.build_HH(stimulus)
    target = jn.simulate(true, 100.0, solver=HH_SOLVER, save_every=0.1).V
    loss = jf.TraceLoss(target, dt=0.1, start=5.0, stimulus=stimulus, solver=HH_SOLVER)
    starts = np.array([[20.0, 36.0], [60.0, 80.0], [110.0, 33.0]])
    result = jf.fit(true, loss, ["Na.g", "K.g"], starts=starts, steps=60)
    assert result.start_losses.shape == (3,)
    assert result.best_start == int(np.argmin(result.start_losses))
    best = starts[result.best_start]
    assert result.initial_values == {"Na.g": best[0], "K.g": best[1]}
    assert result.start_losses[0] > 100 * result.loss  # from Na.g = 20 it does not get there
    assert max(result.relative_errors({"Na.g": 120.0, "K.g": 36.0}).values()) < 0.02
    # random starts: the model's own values plus draws around them
    sampled = jf.fit(true, loss, ["Na.g", "K.g"], starts=3, key=jax.random.key(1), steps=1)
    assert sampled.start_values["Na.g"].shape == (3,)


def test_fit_works_in_float32():
    stimulus = jn.PulseTrain(amplitude=20.0, onset=5.0, width=1.0, period=25.0, count=2)
    true = jn.as_dtype(jn.build_HH(stimulus), jnp.float32)
    target = jn.simulate(true, 50.0, solver=HH_SOLVER, save_every=0.1).V
    loss = jf.TraceLoss(target, dt=0.1, stimulus=stimulus, solver=HH_SOLVER)
    start = jn.set_parameters(true, {"K.g": 40.0})
    result = jf.fit(start, loss, "K.g", steps=60, optimizer=optax.adam(0.02))
    assert result.model.channel("K").g.dtype == jnp.float32
    assert result.values["K.g"] == pytest.approx(36.0, rel=0.02)


# ---- smooth burst-onset phases --------------------------------------------------------


def test_burst_onset_phase_matches_burst_phases_on_synthetic_bursts():
    # three cells bursting at 10-ms spike intervals, every 1 s, at different phases
    t = np.arange(0.0, 6000.0, 0.5)

    def cell(on, off):
        phase = t % 1000.0
        return np.where((phase >= on) & (phase < off) & (phase % 10.0 < 1.0), 20.0, -60.0)

    V = np.stack([cell(50, 250), cell(430, 610), cell(720, 930)], axis=1)
    cells = ("A", "B", "C")
    exact = jn.analysis.burst_phases(t, dict(zip(cells, V.T, strict=True)), "A")
    for c in ("B", "C"):
        for edge in ("onset", "offset"):
            feature = jf.BurstOnsetPhase(cell=c, reference="A", edge=edge)
            value = float(feature.value(jnp.asarray(t), jnp.asarray(V), cells, 0.5))
            assert value == pytest.approx(exact[c][edge], abs=2e-3), (c, edge)
    onsets, _ = jn.analysis._surrogates.soft_burst_edges(jnp.asarray(V[:, 0]), 0.5)
    assert float(onsets.sum()) == pytest.approx(6.0, abs=0.01)  # one unit per burst
    period = jn.analysis._surrogates.soft_onset_period(jnp.asarray(t), onsets)
    assert float(period) == pytest.approx(1000.0, abs=0.5)


# ---- residuals and identifiability ------------------------------------------------------


def test_losses_are_sums_of_squared_residuals():
    true = jn.build_HH(10.0)
    target = jn.simulate(true, 30.0, solver=HH_SOLVER, save_every=0.1).V
    model = jn.set_parameters(true, {"K.g": 33.0})
    trace = jf.TraceLoss(target, dt=0.1, start=2.0, solver=HH_SOLVER)
    features = jf.FeatureLoss(
        [jf.FiringRate(70.0, weight=2.0), jf.SpikeCount(3.0, scale=0.5)],
        t1=30.0,
        solver=HH_SOLVER,
    )
    for loss in (trace, features, trace + 0.3 * features):
        r = loss.residuals(model)
        assert r.ndim == 1
        assert float(jnp.sum(r**2)) == pytest.approx(float(loss(model)), rel=1e-12)
    with pytest.raises(NotImplementedError, match="least-squares"):
        jf.FunctionLoss(lambda m: m.channel("Na").g).residuals(model)
    with pytest.raises(ValueError, match="weight"):
        jf.FiringRate(70.0, weight=-1.0)


def test_sensitivity_matches_finite_differences_and_finds_undetermined_directions():
    true = jn.build_HH(10.0)
    target = jn.simulate(true, 30.0, solver=HH_SOLVER, save_every=0.1).V
    loss = jf.TraceLoss(target, dt=0.1, solver=HH_SOLVER)
    point = jn.set_parameters(true, {"Na.g": 115.0})
    names = ["Na.g", "K.g"]
    report = jf.sensitivity(point, loss, names)
    reverse = jf.sensitivity(point, loss, names, gradient="reverse")
    np.testing.assert_allclose(report.matrix, reverse.matrix, rtol=1e-8, atol=1e-12)
    # central differences of the residuals in ln θ, written out here
    for j, name in enumerate(names):
        h = 1e-6
        x = float(jn.get_parameter(point, name))
        up = loss.residuals(jn.set_parameters(point, {name: x * np.exp(h)}))
        down = loss.residuals(jn.set_parameters(point, {name: x * np.exp(-h)}))
        np.testing.assert_allclose(report.matrix[:, j], (up - down) / (2 * h), rtol=1e-4, atol=1e-7)
    s = np.linalg.svd(report.matrix, compute_uv=False)
    np.testing.assert_allclose(report.singular_values, s, rtol=1e-10)
    np.testing.assert_allclose(report.directions @ report.directions.T, np.eye(2), atol=1e-12)
    assert report.loss == pytest.approx(float(loss(point)), rel=1e-12)
    # two features cannot determine four conductances: two directions have σ = 0
    features = jf.FeatureLoss(
        [jf.FiringRate(), jf.SpikeCount()], t1=30.0, solver=HH_SOLVER
    ).with_targets_from(true)
    four = jf.sensitivity(true, features, ["Na.g", "K.g", "Leak.g", "C"])
    assert four.singular_values.shape == (4,) and np.all(four.singular_values[2:] == 0)
    assert len(four.poorly_determined()) >= 2 and four.condition_number == float("inf")
    assert "condition number" in str(four)
    fig = four.plot()
    assert len(fig.axes) == 3  # σ, directions, colour bar
