"""Sweeps over population networks: each row equals its own simulation, blown-up
networks are marked failed, an interrupted sweep resumes without loss or duplication,
and bad names fail before any compilation."""

import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest

import jaxneuron as jn
from jaxneuron.sweep import Grid, Table, sweep_populations

T1 = 30.0


@pytest.fixture(scope="module")
def cobahh():
    return jn.cobahh(80, p=0.1, seed=1, dtype=jnp.float64)


def test_each_row_equals_its_own_simulation(cobahh):
    net, y0, g0 = cobahh
    space = Grid({"E->E.scale": [0.5, 1.0, 2.0], "I->E.receptor.tau": [5.0, 10.0]})
    result = sweep_populations(net, space, t1=T1, y0=y0, g0=g0, start=5.0, chunk_size=4,
                               dtype=jnp.float64, progress=False)  # fmt: skip
    table = result.table
    assert len(table) == 6 and (table["status"] == "ok").all()
    assert table["model_id"].tolist() == list(range(6))
    for _, row in table.iterrows():
        values = {"E->E.scale": row["E->E.scale"], "I->E.receptor.tau": row["I->E.receptor.tau"]}
        sol = jn.simulate_populations(net.set_parameters(values), T1, dt=0.1, y0=y0, g0=g0,
                                      start=5.0)  # fmt: skip
        for pop in ("E", "I"):
            assert row[f"{pop}.rate"] == pytest.approx(float(sol.rate(pop)), rel=1e-12)
            assert row[f"{pop}.active"] == pytest.approx(float(jnp.mean(sol.counts[pop] > 0)))
    assert table["E.rate"].nunique() > 1  # the parameters matter


def test_a_blown_up_network_is_a_failed_row(cobahh):
    net, y0, g0 = cobahh
    # a value outside its domain (C = 0) is refused before compiling (issue 28) …
    with pytest.raises(ValueError, match="E.C = 0, outside its domain"):
        sweep_populations(net, Table({"E.C": np.array([1.0, 0.0])}), t1=10.0, y0=y0, g0=g0)
    # … one inside it that blows the network up is a failed row
    result = sweep_populations(net, Table({"E.Na.E": np.array([50.0, 1e308])}), t1=10.0,
                               y0=y0, g0=g0, dtype=jnp.float64, progress=False)  # fmt: skip
    assert result.table["status"].tolist() == ["ok", "failed"]
    assert np.isnan(result.table.loc[1, "E.rate"]) and np.isfinite(result.table.loc[0, "E.rate"])


def test_an_interrupted_sweep_resumes_without_loss_or_duplication(cobahh, tmp_path):
    net, y0, g0 = cobahh
    space = Grid({"E->I.scale": [0.5, 1.0, 1.5, 2.0, 2.5]})
    kwargs = dict(t1=10.0, y0=y0, g0=g0, chunk_size=2, dtype=jnp.float64, progress=False)

    def stop_after_first(chunk, table):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        sweep_populations(net, space, path=tmp_path / "d", callback=stop_after_first, **kwargs)
    partial = jn.sweep.SweepResult.load(tmp_path / "d")
    assert not partial.complete and len(partial.table) == 2
    resumed = sweep_populations(net, space, path=tmp_path / "d", **kwargs)
    assert resumed.complete and resumed.models_run == 3
    whole = sweep_populations(net, space, **kwargs)
    assert resumed.table["model_id"].tolist() == list(range(5))
    np.testing.assert_array_equal(resumed.table["I.rate"], whole.table["I.rate"])
    other = net.set_parameters({"E->E.scale": 3.0})
    with pytest.raises(ValueError, match="different"):
        sweep_populations(other, space, path=tmp_path / "d", **kwargs)


def test_unknown_names_fail_before_compiling(cobahh):
    net, y0, g0 = cobahh
    with pytest.raises(KeyError, match="E->X"):
        sweep_populations(net, Grid({"E->X.scale": [1.0]}), t1=10.0, progress=False)
    with pytest.raises(KeyError, match="E->E.receptor.*not a number.*did you mean"):
        sweep_populations(net, Grid({"E->E.receptor": [1.0]}), t1=10.0, progress=False)
    with pytest.raises(ValueError, match="start"):
        sweep_populations(net, Grid({"E->E.scale": [1.0]}), t1=10.0, start=20.0)
    # the neuron entry points run a population network on its own drivers
    one = Grid({"E->E.scale": [2.0]})
    kwargs = dict(t1=10.0, y0=y0, g0=g0, progress=False)
    pd.testing.assert_frame_equal(jn.sweep.sweep(net, one, **kwargs).table,
                                  sweep_populations(net, one, **kwargs).table)  # fmt: skip
    with pytest.raises(TypeError, match="spike-driven synapses have no form"):
        jn.simulate(net, 10.0, solver="kvaerno5")
