"""Liu 1998 and Prinz 2003 neurons against reference/models.md and an independent SciPy
implementation (tests/reference_stg.py)."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import reference_stg as ref
from hypothesis import given
from hypothesis import strategies as st

import jaxneuron as jn
from jaxneuron import channels as ch
from jaxneuron.analysis import burst_metrics, classify

PRINZ = [ch.PrinzNa, ch.PrinzCaT, ch.PrinzCaS, ch.PrinzA, ch.PrinzKCa, ch.PrinzKd, ch.PrinzH]
LIU = [ch.LiuNa, ch.LiuCaT, ch.LiuCaS, ch.LiuA, ch.LiuKCa, ch.LiuKd, ch.LiuH]

# reference/models.md §3: Prinz kinetics at V = −50 mV, [Ca] = 0.05 µM, as printed there
SPOT = {
    ch.PrinzNa: [("0.009647", "0.26446"), ("0.552890", "2.61128")],
    ch.PrinzCaT: [("0.039904", "13.26355"), ("0.962836", "107.01203")],
    ch.PrinzCaS: [("0.109217", "47.24868"), ("0.166186", "260.54717")],
    ch.PrinzA: [("0.067819", "18.10223"), ("0.196524", "54.02760")],
    ch.PrinzKCa: [("2.485e-3", "112.09967")],
    ch.PrinzKd: [("0.039358", "11.27523")],
    ch.PrinzH: [("0.010504", "424.0123")],
}


def _assert_printed(value: float, printed: str):
    """``value`` rounds to ``printed``: agreement to half a unit of its last digit (1e-6
    or better for every steady state printed with six decimals)."""
    from decimal import Decimal

    last_digit = Decimal(printed).as_tuple().exponent
    assert abs(value - float(printed)) <= 0.5 * 10.0**last_digit + 1e-12, (value, printed)


def _kinetics(cls, V, Ca=0.05):
    return [
        (float(a), float(b)) for a, b in cls(g=1.0).gate_kinetics(jnp.asarray(V), jnp.asarray(Ca))
    ]


@pytest.mark.parametrize("cls", list(SPOT), ids=lambda c: c.__name__)
def test_transcription_spot_values(cls):
    for (x_inf, tau), (x_exp, tau_exp) in zip(_kinetics(cls, -50.0), SPOT[cls], strict=True):
        _assert_printed(x_inf, x_exp)
        _assert_printed(tau, tau_exp)


def test_liu_spot_values_and_prinz_taus_are_twice_liu():
    ((m_inf, tau),) = _kinetics(ch.LiuH, -50.0)
    _assert_printed(m_inf, "0.034445")
    _assert_printed(tau, "707.3008")
    for prinz, liu in zip(PRINZ[:-1], LIU[:-1], strict=True):  # "Liu: halve each τ"
        for (_, tau_p), (_, tau_l) in zip(SPOT[prinz], _kinetics(liu, -50.0), strict=True):
            _assert_printed(2.0 * tau_l, tau_p)
    for V in np.linspace(-90.0, 40.0, 27):
        for prinz, liu in zip(PRINZ[:-1], LIU[:-1], strict=True):
            for (xp, tp), (xl, tl) in zip(
                _kinetics(prinz, V, 0.7), _kinetics(liu, V, 0.7), strict=True
            ):
                assert xp == xl  # the same steady-state functions
                np.testing.assert_allclose(tp, 2.0 * tl, rtol=1e-12)
    # H is a different current in the two papers
    assert _kinetics(ch.PrinzH, -50.0)[0][0] != _kinetics(ch.LiuH, -50.0)[0][0]


@pytest.mark.parametrize(
    ("build", "config", "liu"),
    [(jn.build_Prinz, jn.PrinzConfig, False), (jn.build_Liu, jn.LiuConfig, True)],
)
def test_vector_field_matches_independent_rhs(build, config, liu):
    g = [200.0, 5.0, 4.0, 40.0, 5.0, 125.0, 0.02, 0.03]
    model = build(config=config.from_conductances(g))
    rhs = ref.make_rhs(g, liu=liu)
    rng = np.random.default_rng(1)
    for _ in range(6):
        y = np.concatenate([[rng.uniform(-80, 30), rng.uniform(0.02, 5.0)], rng.uniform(0, 1, 11)])
        np.testing.assert_allclose(
            np.asarray(model.vector_field(0.0, jnp.asarray(y))), rhs(0.0, y), rtol=1e-11, atol=1e-12
        )
    np.testing.assert_allclose(
        np.asarray(model.initial_state()), ref.steady_state(-50.0, 0.05, liu), rtol=1e-13
    )


@pytest.fixture(scope="module")
def abpd2_reference():
    ts, y = ref.solve(ref.PRESETS["AB/PD 2"], 10_000.0, save_every=0.05, rtol=1e-10, atol=1e-10)
    metrics = burst_metrics(ts, y[0], start=1000.0)
    assert metrics["n_bursts"] >= 4
    return metrics


def _check_bursts(metrics, expected):
    for key in ("period", "spikes_per_burst", "duty_cycle"):
        np.testing.assert_allclose(metrics[key], expected[key], rtol=0.005, err_msg=key)


@pytest.mark.parametrize(
    ("solver", "dtype"),
    [
        ("kvaerno5", jnp.float64),
        ("trbdf2", jnp.float64),
        ("exponential_euler", jnp.float64),
        ("exponential_euler", jnp.float32),
    ],
)
def test_abpd2_bursts_match_reference(abpd2_reference, solver, dtype):
    model = jn.as_dtype(jn.build_Prinz(config=jn.PrinzConfig.preset("AB/PD 2")), dtype)
    if solver == "exponential_euler":
        sol = jn.simulate(model, 10_000.0, solver=jn.ExponentialEuler(dt=0.025), save_every=0.05)
    else:
        sol = jn.simulate(model, 10_000.0, solver=solver, rtol=1e-7, atol=1e-7, save_every=0.05)
    assert sol.V.dtype == dtype
    metrics = burst_metrics(np.asarray(sol.ts, float), np.asarray(sol.V, float), start=1000.0)
    print(solver, dtype.__name__, metrics, "reference", abpd2_reference)
    _check_bursts(metrics, abpd2_reference)


def test_liu_neuron_matches_reference():
    g = ref.PRESETS["AB/PD 2"]
    rt, ry = ref.solve(g, 3000.0, save_every=0.05, rtol=1e-10, atol=1e-10, liu=True)
    sol = jn.simulate(
        jn.build_Liu(config=jn.LiuConfig()),
        3000.0,
        solver="kvaerno5",
        rtol=1e-9,
        atol=1e-9,
        save_every=0.05,
    )
    ours = jn.analysis.spike_times(sol.ts, sol.V)
    theirs = jn.analysis.spike_times(rt, ry[0])
    assert len(theirs) > 10 and len(ours) == len(theirs)
    np.testing.assert_allclose(ours, theirs, atol=0.05)


PRESET_NAMES = list(jn.PRINZ_2004)
T_CLASS, WINDOW = 14_000.0, 6000.0  # ms: classify over 6–14 s, after the transient
_reference_classes: dict[str, str] = {}


def reference_class(name):
    """The class of the independent solution, from V0 = −50 mV, [Ca] = 0.05 µM, gates at
    steady state (computed once per cell)."""
    if name not in _reference_classes:
        rt, ry = ref.solve(ref.PRESETS[name], T_CLASS, save_every=0.1, rtol=1e-8, atol=1e-8)
        _reference_classes[name] = classify(rt, ry[0], start=WINDOW)
    return _reference_classes[name]


def test_reference_classes_are_plausible():
    # Prinz et al. 2004: the AB/PD model neurons burst on their own
    for name in PRESET_NAMES[:5]:
        assert reference_class(name) == "bursting", name


# Every AB/PD cell and one LP and one PY of each activity, with Kvaerno5 and with the
# exponential integrator; all 16 cells, both ways: scripts/validate_prinz_cells.py
CHECKED_CELLS = PRESET_NAMES[:5] + ["LP 1", "LP 4", "PY 1", "PY 4"]


@pytest.mark.parametrize("name", CHECKED_CELLS)
def test_prinz_2004_cells_fall_in_the_reference_class(name):
    """Each 2004 cell alone with the default (accurate) solver."""
    model = jn.build_Prinz(config=jn.PrinzConfig.preset(name, V0=-50.0, Ca0=0.05))
    sol = jn.simulate(model, T_CLASS, rtol=1e-7, atol=1e-7, save_every=0.1)
    assert sol.solver_name == "Kvaerno5"
    got = classify(sol.ts, sol.V, start=WINDOW)
    rate = jn.analysis.firing_rate(sol.ts, sol.V, start=WINDOW)
    period = burst_metrics(sol.ts, sol.V, start=WINDOW)["period"]
    print(
        f"{name}: {got} (reference {reference_class(name)}), rate {rate:.2f} Hz, "
        f"burst period {period:.1f} ms"
    )
    assert got == reference_class(name)


def test_exponential_euler_classes(dt=0.025):
    """The fast path on the cells above in one vmapped call, at the sweeps' step
    (``scripts/validate_prinz_cells.py``: all 16 cells, and dt = 0.01 ms)."""
    models = [jn.build_Prinz(config=jn.PrinzConfig.preset(n)) for n in CHECKED_CELLS]
    batched = jax.tree_util.tree_map(lambda *xs: jnp.stack(xs), *models)
    sols = eqx.filter_vmap(
        lambda m: jn.simulate(m, T_CLASS, solver=jn.ExponentialEuler(dt=dt), save_every=0.1)
    )(batched)
    ts = np.asarray(sols.ts[0])
    classes = {
        n: classify(ts, np.asarray(sols.V[i]), start=WINDOW) for i, n in enumerate(CHECKED_CELLS)
    }
    print(dt, classes)
    wrong = {n: (c, reference_class(n)) for n, c in classes.items() if c != reference_class(n)}
    assert not wrong


def _abpd2_loss(model):
    sol = jn.simulate(model, 1000.0, solver=jn.ExponentialEuler(dt=0.025), save_every=1.0)
    return jnp.mean(sol.V) / 10.0 + jnp.mean(sol["Ca"])


def test_gradients_wrt_conductances_and_global_scale():
    model = jn.build_Prinz(config=jn.PrinzConfig.preset("AB/PD 2"))
    grads = eqx.filter_jit(eqx.filter_grad(_abpd2_loss))(model)
    loss = eqx.filter_jit(_abpd2_loss)
    for i, name in enumerate(jn.CHANNEL_ORDER):
        g0 = float(model.channels[i].g)
        # the 1-s loss is strongly curved (spike times move): small steps for the differences
        h = 1e-7 * max(g0, 1.0)
        plus = eqx.tree_at(lambda m, i=i: m.channels[i].g, model, g0 + h)
        minus = eqx.tree_at(lambda m, i=i: m.channels[i].g, model, g0 - h)
        fd = (float(loss(plus)) - float(loss(minus))) / (2 * h)
        got = float(grads.channels[i].g)
        print(f"d loss / d g_{name}: {got:.6g} (finite differences {fd:.6g})")
        np.testing.assert_allclose(got, fd, rtol=1e-5, atol=1e-7)
    h = 1e-8
    fd = (
        float(loss(eqx.tree_at(lambda m: m.g_scale, model, 1.0 + h)))
        - float(loss(eqx.tree_at(lambda m: m.g_scale, model, 1.0 - h)))
    ) / (2 * h)
    np.testing.assert_allclose(float(grads.g_scale), fd, rtol=1e-5)
    # the global scale acts on every conductance: its gradient is Σ g_c ∂L/∂g_c
    chain = sum(
        float(c.g) * float(gc.g) for c, gc in zip(model.channels, grads.channels, strict=True)
    )
    np.testing.assert_allclose(float(grads.g_scale), chain, rtol=1e-6)


def test_gradient_through_kvaerno5():
    model = jn.build_Prinz(config=jn.PrinzConfig.preset("AB/PD 2"))

    def loss(m):
        sol = jn.simulate(m, 1000.0, solver="kvaerno5", rtol=1e-10, atol=1e-10, save_every=1.0)
        return jnp.mean(sol.V) / 10.0 + jnp.mean(sol["Ca"])

    grads = eqx.filter_grad(loss)(model)
    for get, value, h in [(lambda m: m.channels[2].g, 6.0, 1e-4), (lambda m: m.g_scale, 1.0, 1e-5)]:
        fd = (
            float(loss(eqx.tree_at(get, model, value + h)))
            - float(loss(eqx.tree_at(get, model, value - h)))
        ) / (2 * h)
        np.testing.assert_allclose(float(get(grads)), fd, rtol=1e-3)


def test_seed_examples_run():
    a = jn.build_Prinz(
        name="AB",
        config=jn.PrinzConfig(Na_g=100.0 * 159.2, CaS_g=6.0 * 159.2, H_g=0.01 * 159.2, V0=-60.0),
    )
    b = jn.build_Prinz(
        name="custom",
        config=jn.PrinzConfig(Na_g=80.0, K_g=40.0, CaS_g=10.0, Leak_g=0.05, C=2.0, V0=-70.0),
    )
    c = jn.build_Liu(name="liu", config=jn.LiuConfig(A_g=40.0, Kd_g=90.0))
    assert float(c.channel("A").g) == 40.0 and float(c.channel("Kd").g) == 90.0
    for model in (a, b, c):
        sol = jn.simulate(model, 2000.0, solver=jn.ExponentialEuler(dt=0.025))
        assert bool(sol.success) and np.all(np.isfinite(np.asarray(sol.V)))


def test_seed_fields_and_aliases():
    cfg = jn.PrinzConfig(A_g=30.0, Kd_g=80.0)
    assert cfg.K_g == 30.0 and cfg.DRK_g == 80.0 and cfg.A_g == 30.0 and cfg.Kd_g == 80.0
    assert jn.PrinzConfig().conductances().tolist() == list(jn.PRINZ_2004["AB/PD 2"])
    assert jn.LiuConfig().conductances().tolist() == list(jn.PRINZ_2004["AB/PD 2"])
    with pytest.raises(TypeError, match="not both"):
        jn.PrinzConfig(A_g=1.0, K_g=2.0)
    assert jn.preset_name("abpd2") == "AB/PD 2" and jn.preset_name("py_6") == "PY 6"


def test_bad_input():
    with pytest.raises(ValueError, match=r"PrinzConfig.CaS_g must be >= 0 mS/cm²"):
        jn.PrinzConfig(CaS_g=-1.0)
    with pytest.raises(ValueError, match=r"Ca0 must be > 0 µM"):
        jn.PrinzConfig(Ca0=0.0)
    with pytest.raises(ValueError, match=r"LiuConfig.Ca0 must be > 0"):
        jn.LiuConfig(Ca0=-0.1)
    with pytest.raises(ValueError, match=r"unknown Prinz 2004 preset 'LP 9'"):
        jn.PrinzConfig.preset("LP 9")
    with pytest.raises(TypeError, match=r"no field 'DRK'.*did you mean 'DRK_g'"):
        jn.PrinzConfig(DRK=1.0)
    with pytest.raises(ValueError, match=r"8 conductances"):
        jn.PrinzConfig.from_conductances([1.0, 2.0])
    with pytest.raises(ValueError, match=r"calcium pool \(E=None\), but the neuron has none"):
        jn.ConductanceNeuron(
            channels=(ch.PrinzCaS(g=1.0),), channel_names=("CaS",), C=1.0, V0=-50.0, stimulus=None
        )


@given(st.integers(min_value=1, max_value=jn.PRINZ_2003_SIZE))
def test_database_numbering_round_trip(n):
    g = jn.prinz_2003_conductances(n)
    assert int(jn.prinz_2003_model_number(conductances=g)) == n
    assert int(jn.prinz_2003_model_number(jn.prinz_2003_levels(n))) == n


def test_database_numbering_known_values():
    assert jn.prinz_2003_levels(1).tolist() == [0] * 8
    assert jn.prinz_2003_levels(2).tolist() == [0] * 7 + [1]  # leak is the last digit
    assert jn.prinz_2003_levels(6**7 + 1).tolist() == [1] + [0] * 7  # Na the first
    np.testing.assert_allclose(
        jn.prinz_2003_conductances(jn.PRINZ_2003_SIZE), [500, 12.5, 10, 50, 25, 125, 0.05, 0.05]
    )
    with pytest.raises(ValueError, match="model numbers run from 1"):
        jn.prinz_2003_levels(0)
    with pytest.raises(ValueError, match="not on the Prinz 2003 grid"):
        jn.prinz_2003_model_number(conductances=[150, 0, 0, 0, 0, 0, 0, 0])


def test_calcium_reversal_and_positivity():
    model = jn.build_Prinz(config=jn.PrinzConfig.preset("AB/PD 2"))
    np.testing.assert_allclose(
        float(model.calcium.reversal(0.05)), 12.2 * np.log(3000.0 / 0.05), rtol=1e-12
    )
    np.testing.assert_allclose(float(model.calcium.influx_factor), 14.96 * 0.628, rtol=1e-12)
    sol = jn.simulate(model, 3000.0, solver=jn.ExponentialEuler(dt=0.025))
    assert float(jnp.min(sol["Ca"])) > 0.0
