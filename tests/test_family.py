"""Degenerate families: the members are exactly the candidates whose features match, and
refinement by fitting turns near misses into members."""

import numpy as np
import pytest

import jaxneuron as jn
import jaxneuron.fit as jf
from jaxneuron.analysis import spike_times
from jaxneuron.sweep import Grid


def measured_isi(model, values: dict) -> float:
    """An independent measurement: spikes of a float64 simulation after 100 ms, their
    mean interval (ms; NaN with fewer than two)."""
    sol = jn.simulate(
        jn.set_parameters(model, values),
        300.0,
        solver=jn.ExponentialEuler(dt=0.025),
        save_every=0.025,
    )
    spikes = spike_times(np.asarray(sol.ts), np.asarray(sol.V))
    late = spikes[spikes >= 100.0]
    return float(np.mean(np.diff(late))) if len(late) > 1 else float("nan")


def test_members_are_the_candidates_whose_exact_features_match():
    model = jn.build_HH(10.0)
    space = Grid({"K.g": [20.0, 30.0, 34.0, 36.0, 38.0, 60.0]})
    target = 14.64  # ms: HH's inter-spike interval at 10 µA/cm²
    family = jf.find_family(
        model, {"isi_mean": target}, space, t1=300.0, start=100.0, tolerance=0.02
    )
    assert len(family.table) == 6 and set(family.table["origin"]) == {"sweep"}
    for _, row in family.table.iterrows():
        isi = measured_isi(model, {"K.g": row["K.g"]})
        assert row["isi_mean"] == pytest.approx(isi, rel=1e-3, nan_ok=True)
        assert row["member"] == (abs(isi - target) / target <= 0.02)
    assert 36.0 in set(family.members["K.g"])
    assert family.spans()["K.g"] >= 1.0 and "models match" in str(family)
    with pytest.raises(KeyError, match="unknown feature"):
        jf.find_family(model, {"period": 1.0}, space, t1=10.0, start=5.0)


def test_refinement_moves_near_misses_onto_the_targets():
    model = jn.build_HH(10.0)
    rate = 68.3  # Hz at K.g = 36
    loss = jf.FeatureLoss([jf.FiringRate(rate)], t1=300.0, start=100.0, save_every=0.025)
    family = jf.find_family(
        model,
        {"isi_mean": 1000.0 / rate},
        Grid({"K.g": [31.0, 42.0]}),  # 42: no repetitive firing, not refined
        t1=300.0,
        start=100.0,
        tolerance=0.02,
        refine=loss,
        refine_within=0.2,
        steps=40,
    )
    fitted = family.table[family.table["origin"] == "fit"]
    assert not family.table[family.table["origin"] == "sweep"]["member"].any()
    assert len(fitted) == 1 and bool(fitted["member"].all()), family.table
    fig = family.plot()
    assert fig.axes[0].get_yscale() == "log"


def test_walk_keeps_only_models_whose_features_match():
    model = jn.build_HH(10.0)
    target = 14.64  # ms: HH's inter-spike interval at 10 µA/cm²
    family = jf.walk_family(
        model,
        {"isi_mean": target},
        ["Na.g", "K.g"],
        t1=300.0,
        start=100.0,
        tolerance=0.02,
        walkers=3,
        steps=2,
        step=0.1,
    )
    assert len(family.table) == 1 + 2 * 3 * 2
    members = family.members
    assert len(members) >= 4  # the walk moves: proposals along the level set match
    for _, row in members.iterrows():
        isi = measured_isi(model, {"Na.g": row["Na.g"], "K.g": row["K.g"]})
        assert abs(isi - target) / target <= 0.02 + 1e-3
    assert len(family.distinct(1.01)) >= 2
    with pytest.raises(ValueError, match="starts from a member"):
        jf.walk_family(model, {"isi_mean": 20.0}, ["K.g"], t1=300.0, start=100.0, steps=1)
    with pytest.raises(ValueError, match="event count"):
        jf.walk_family(model, {"n_spikes": 14.0}, ["K.g"], t1=300.0, start=100.0, steps=1)


def test_match_features_moves_starts_onto_the_targets_in_the_scales_units():
    model = jn.build_HH(10.0)
    target = 14.0  # ms, mean inter-spike interval
    family = jf.match_features(
        model,
        {"isi_mean": target},
        {"K.g": [40.0, 30.0]},  # at 40 mS/cm² + 3 % the neuron stops firing: a backward step
        t1=300.0,
        start=100.0,
        tolerance=0.1,
        scales={"isi_mean": 0.5},  # within 0.05 ms
        iterations=6,
    )
    final = family.table[family.table["stopped"].notna()]
    assert sorted(final["start"]) == [0, 1] and set(final["stopped"]) == {"matched"}
    for _, row in final.iterrows():
        assert abs(measured_isi(model, {"K.g": row["K.g"]}) - target) <= 0.05 + 5e-3
    assert "0.1 × their scales" in str(family)
    with pytest.raises(KeyError, match="scales must name every target"):
        jf.match_features(
            model,
            {"isi_mean": 14.0},
            {"K.g": [36.0]},
            t1=300.0,
            start=100.0,
            scales={"n_spikes": 1.0},
        )
    with pytest.raises(ValueError, match="log space"):
        jf.match_features(model, {"isi_mean": 14.0}, {"K.g": [0.0]}, t1=300.0, start=100.0)
    with pytest.raises(KeyError, match="unknown feature"):
        jf.match_features(model, {"period": 14.0}, {"K.g": [36.0]}, t1=300.0, start=100.0)


def test_walk_from_several_members_stays_in_its_bounds_and_in_the_scales_units():
    model = jn.build_HH(10.0)
    bounds = {"Na.g": (100.0, 125.0), "K.g": (30.0, 40.0)}
    family = jf.walk_family(
        model,
        {"isi_mean": 14.64},
        ["Na.g", "K.g"],
        t1=300.0,
        start=100.0,
        tolerance=0.5,
        scales={"isi_mean": 0.5},  # members within 0.25 ms
        starts={"Na.g": [120.0, 124.0], "K.g": [36.0, 36.2]},
        bounds=bounds,
        walkers=2,
        steps=2,
        step=0.2,  # large steps: without the bounds the walkers would leave them
    )
    assert (family.table["origin"] == "start").sum() == 2
    for name, (low, high) in bounds.items():
        values = family.table[name].to_numpy()
        assert np.all((values >= low * (1 - 1e-9)) & (values <= high * (1 + 1e-9))), name
    assert np.all(np.abs(family.members["isi_mean"] - 14.64) <= 0.25 + 1e-9)
    with pytest.raises(ValueError, match="starts from a member"):
        jf.walk_family(
            model,
            {"isi_mean": 14.64},
            ["K.g"],
            t1=300.0,
            start=100.0,
            scales={"isi_mean": 0.01},
            tolerance=1.0,
            starts={"K.g": [30.0]},
        )
