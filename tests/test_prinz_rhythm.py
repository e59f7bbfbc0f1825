"""Prinz, Bucher & Marder (2004)'s rhythm classification: the burst rules, each step of
`PrinzRhythm` on spike trains built to stress it, and the online form (spike times
buffered in the loop, `StreamingRhythm(rule=...)`) against the offline one
(`pyloric_rhythm` on traces) on synthetic trains and on recorded database networks."""

import jax.numpy as jnp
import numpy as np
import pytest

import jaxneuron as jn
import jaxneuron.analysis as an
from jaxneuron.analysis import FixedGap, PrinzAdaptive, PrinzRhythm, split_bursts
from jaxneuron.sweep import PyloricDatabase, sweep

CELLS = ("AB/PD", "LP", "PY")


def _train(on, off, isi=20.0, period=1000.0, end=12000.0, skip=()):
    """Spikes every ``isi`` ms in [on, off) of every cycle (cycles in ``skip`` left out)."""
    cycles = [c for i, c in enumerate(np.arange(0.0, end, period)) if i not in skip]
    return np.concatenate([np.arange(c + on, c + off, isi) for c in cycles])


def _pyloric(**changes):
    spikes = {"AB/PD": _train(0, 300), "LP": _train(400, 600), "PY": _train(650, 900)}
    return {**spikes, **changes}


# ---- the rules ---------------------------------------------------------------------------


def test_prinz_threshold_follows_each_branch_of_the_rule():
    rule = PrinzAdaptive()
    assert rule.threshold(np.arange(0.0, 500.0, 20.0)) == np.inf  # tonic: 25 spikes, equal ISIs
    assert rule.threshold(np.array([0.0, 20.0, 40.0])) != np.inf  # too few spikes for tonic
    # modulated tonic: longest ISI < 5 × shortest → 99 % of the longest
    assert rule.threshold(np.array([0.0, 10, 20, 50, 60, 70])) == pytest.approx(29.7)
    # longest > 2 × mean → half the longest
    spikes = np.array([0.0, 10, 150, 160, 1000, 1010])
    assert rule.threshold(spikes) == pytest.approx(420.0)
    # longest ≤ 2 × mean and ≥ 5 × shortest → the mean
    spikes = np.array([0.0, 10, 100, 190, 280])
    assert rule.threshold(spikes) == pytest.approx(70.0)
    assert rule.threshold(np.array([0.0, 10, 5000])) == 500.0  # the 0.5-s cap
    assert rule.threshold(np.array([3.0])) == np.inf
    assert FixedGap(200.0).threshold(spikes) == 200.0
    with pytest.raises(ValueError, match="gap_ms"):
        FixedGap(0.0)


def test_long_intraburst_intervals_split_only_under_a_fixed_gap():
    # bursts with 150-ms gaps inside (LP and PY of many database models)
    lp = np.concatenate([[c + 400, c + 420, c + 570, c + 590] for c in np.arange(0, 12000, 1000)])
    assert len(split_bursts(lp, PrinzAdaptive())) == 12
    assert len(split_bursts(lp, FixedGap(100.0))) == 24
    spikes = _pyloric(LP=lp)
    assert PrinzRhythm()(spikes, 1000.0, 12000.0)["rhythm_status"] == "ok"
    fixed = PrinzRhythm(rule=FixedGap(100.0))(spikes, 1000.0, 12000.0)
    assert fixed["rhythm_status"] == "LP: 2 bursts per period"


# ---- the steps of PrinzRhythm ------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "status"),
    [
        ({}, "ok"),
        ({"LP": np.array([500.0, 1500.0])}, "LP: fewer than 6 spikes"),
        ({"PY": np.arange(0.0, 12000.0, 25.0)}, "PY: not periodic"),  # tonic: no bursts
        # LP fires a burst every other cycle: periodic, at twice AB/PD's period
        ({"LP": _train(400, 600, period=2000.0)}, "AB/PD: period 1000 ms against 2000 ms"),
        # PY slightly slower than AB/PD: each periodic, no common period
        ({"PY": _train(650, 900, period=1010.0)}, "cell periods differ by 0.5 % or more"),
        # an LP burst missing early on: periodic at the end, not in every cycle
        ({"LP": _train(400, 600, skip=(3,))}, "LP: not one burst in every cycle"),
        ({"LP": _train(400, 401)}, "LP: not periodic"),  # one spike per cycle: tonic
        (
            {"LP": np.sort(np.append(_train(400, 430, skip=(4,)), 4400.0))},
            "LP: a burst of fewer than 2 spikes",
        ),
        ({"LP": _train(400, 430)}, "ok"),  # doublets are bursts
        # LP after PY's start in one cycle only: caught (a mean over cycles passes it)
        (
            {"LP": np.sort(np.append(_train(400, 600, skip=(5,)), np.arange(5700, 5800, 20.0)))},
            "out of order in 1 of 9 cycles",
        ),
    ],
)
def test_each_step_of_prinz_rhythm(changes, status):
    out = PrinzRhythm()(_pyloric(**changes), 1000.0, 12000.0)
    assert out["rhythm_status"] == status
    assert out["in_order"] == (status == "ok")


def test_bursts_spanning_two_cycles_and_short_windows():
    # LP bursts that outlast AB/PD's cycle: LP ends after PY, out of order every cycle
    spikes = _pyloric(LP=_train(400, 1100, period=1000.0))
    out = PrinzRhythm()(spikes, 1000.0, 12000.0)
    assert not out["in_order"] and out["LP.offset_phase"] > 1.0
    # three AB/PD bursts after the cut one: two periods, but only one complete cycle
    few = PrinzRhythm()(_pyloric(), 0.0, 2500.0)
    assert few["rhythm_status"] == "AB/PD: not periodic" and few["cycles"] == 1


# ---- online against offline --------------------------------------------------------------


def _voltage(t, spikes, dt):
    V = np.full(t.size, -60.0)
    V[np.clip(np.round(np.asarray(spikes) / dt).astype(int), 0, t.size - 1)] = 20.0
    return V


def _assert_same(online, offline, keys):
    for key in keys:
        a, b = online[key], offline[key]
        if isinstance(b, str | bool | np.bool_) or key == "cycles":
            assert a == b, key
        else:
            np.testing.assert_allclose(float(a), float(b), rtol=1e-5, atol=1e-6, err_msg=key)


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
def test_online_equals_offline_on_stress_trains(dtype):
    """Pyloric, long intra-burst gaps, modulated tonic, doublets, bursts spanning two
    cycles, one cycle out of order, jittered periods; float32 and float64."""
    rng = np.random.default_rng(1)
    dt, start = 0.5, 1000.0
    t = np.arange(0.0, 12000.0, dt)
    lp_gaps = np.concatenate([[c + 400, c + 420, c + 570, c + 590] for c in range(0, 12000, 1000)])
    cases = [
        _pyloric(),
        _pyloric(LP=lp_gaps),
        _pyloric(PY=np.sort(np.append(np.arange(0, 12000, 30.0), np.arange(5, 12000, 90.0)))),
        _pyloric(LP=_train(400, 430)),
        _pyloric(LP=_train(400, 1100)),
        _pyloric(PY=_train(350, 500)),
        {c: np.sort(s + rng.normal(0, 15, s.size)) for c, s in _pyloric().items()},
    ]
    rhythm = an.StreamingRhythm(
        CELLS, features=an.StreamingFeatures(start=start), rule=PrinzAdaptive(),
        criteria=an.PyloricCriteria(),
    )  # fmt: skip
    keys = [*PrinzRhythm().keys(), "criteria_met", "pyloric_like", "pyloric"]
    statuses = set()
    for spikes in cases:
        traces = {c: _voltage(t, s, dt) for c, s in spikes.items()}
        online = rhythm.run(jnp.asarray(t, dtype), [jnp.asarray(traces[c], dtype) for c in CELLS])
        offline = an.pyloric_rhythm(t, traces, start=start)
        _assert_same(online, offline, keys)
        statuses.add(offline["rhythm_status"])
    assert "ok" in statuses and len(statuses) >= 4


def test_spike_buffer_overflow_is_reported():
    t = np.arange(0.0, 3000.0, 0.5)
    traces = [_voltage(t, np.arange(0.0, 3000.0, 10.0), 0.5)] * 3
    rhythm = an.StreamingRhythm(CELLS, rule=PrinzAdaptive(), max_spikes=50)
    out = rhythm.run(t, traces)
    assert "overflow" in out["rhythm_status"] and not out["in_order"]
    assert np.isnan(out["period"])


def test_sweep_online_equals_offline_on_recorded_networks(tmp_path):
    """Database networks swept in float32 with spike buffers in the loop and every step
    recorded: the online classification equals `pyloric_rhythm` on the recorded traces
    (pyloric, out of order, irregular, silent AB/PD). Written to a dataset, whose parts
    (with their array-valued spike-time columns) prove their content on a resume."""
    numbers = [13_928, 53_533, 5_730, 2_187]  # pyloric, out of order, LP irregular, AB/PD silent
    t1, start = 7000.0, 1000.0
    rhythm = an.StreamingRhythm(CELLS, criteria=an.PyloricCriteria(), rule=PrinzAdaptive())
    run = lambda: sweep(  # noqa: E731
        jn.pyloric_circuit(), PyloricDatabase(numbers=numbers), t1=t1, start=start,
        rhythm=rhythm, record=range(len(numbers)), record_every=0.025, progress=False,
        path=tmp_path / "db",
    )  # fmt: skip
    result = run()
    again = run()  # every part verified, nothing recomputed
    assert again.models_run == 0 and again.complete
    for c in CELLS:
        for a, b in zip(result.table[f"{c}.spike_times"], again.table[f"{c}.spike_times"],
                        strict=True):  # fmt: skip
            np.testing.assert_array_equal(a, b)
    table = result.table.set_index("model_id")
    columns = [result.state_names.index(f"{c}.V") for c in CELLS]
    keys = [*PrinzRhythm().keys(), "criteria_met", "pyloric_like", "pyloric"]
    statuses = []
    for i, trace in result.traces.items():
        ts = np.arange(trace.shape[0]) * result.record_every
        traces = {c: trace[:, k] for c, k in zip(CELLS, columns, strict=True)}
        offline = an.pyloric_rhythm(ts, traces, start=start)
        row = table.loc[i]
        _assert_same(row, offline, keys)
        for c in CELLS:
            spikes = an.spike_times(ts, traces[c])
            np.testing.assert_allclose(row[f"{c}.spike_times"], spikes[spikes >= start], atol=2e-3)
        statuses.append(offline["rhythm_status"])
    assert "ok" in statuses and len(set(statuses)) == len(numbers)


def test_offline_features_and_phases_take_a_rule():
    dt = 0.5
    t = np.arange(0.0, 12000.0, dt)
    lp = np.concatenate([[c + 400, c + 420, c + 570, c + 590] for c in range(0, 12000, 1000)])
    V = _voltage(t, lp, dt)
    prinz = an.features(t, V, ["spikes_per_burst", "burst_period"], burst_gap=PrinzAdaptive())
    assert prinz["spikes_per_burst"] == 4.0 and prinz["burst_period"] == pytest.approx(1000.0)
    fixed = an.features(t, V, ["spikes_per_burst"], burst_gap=100.0)
    assert fixed["spikes_per_burst"] == 2.0
    traces = {c: _voltage(t, s, dt) for c, s in _pyloric(LP=lp).items()}
    phases = an.burst_phases(t, traces, "AB/PD", start=1000.0, rule=PrinzAdaptive())
    assert phases["LP"]["bursts_per_cycle"] == 1.0 and an.is_pyloric(phases)
    split = an.burst_phases(t, traces, "AB/PD", start=1000.0, rule=FixedGap(100.0))
    assert split["LP"]["bursts_per_cycle"] == 2.0 and not an.is_pyloric(split)
