"""The Prinz et al. 2004 network database: numbering both ways, the parameter space
against `pyloric_circuit`, and a sweep of database networks against direct simulations."""

import numpy as np
import pytest

import jaxneuron as jn
from jaxneuron.analysis import spike_times
from jaxneuron.sweep import PyloricDatabase, sweep


def test_numbering_round_trips_and_counts():
    assert jn.PYLORIC_2004_SIZE == 5 * 5 * 6 * 5**4 * 6**3 == 20_250_000
    rng = np.random.default_rng(0)
    for n in [1, 2, 216, 217, jn.PYLORIC_2004_SIZE, *rng.integers(1, 20_250_001, 50)]:
        cells, strengths = jn.pyloric_2004_network(int(n))
        assert jn.pyloric_2004_number(cells, strengths) == n
    cells, strengths = jn.pyloric_2004_network(jn.PYLORIC_2004_SIZE)
    assert cells == {"AB/PD": "AB/PD 5", "LP": "LP 5", "PY": "PY 6"}
    assert set(strengths.values()) == {100.0}
    # the least significant digit is LP→PY, on six levels
    assert jn.pyloric_2004_network(2)[1]["LP->PY"] == 1.0
    assert jn.pyloric_2004_network(7)[1]["PD->PY"] == 1.0
    with pytest.raises(ValueError, match="network numbers"):
        jn.pyloric_2004_levels(0)
    with pytest.raises(ValueError, match="database level"):
        jn.pyloric_2004_number(cells, {**strengths, "AB->LP": 1.0})  # 1 nS only onto PY


def test_space_sets_cells_and_strengths_as_pyloric_circuit_builds_them():
    space = PyloricDatabase(sample=20, seed=3)
    values = space.values(0, len(space))
    labels = space.labels(0, len(space))
    for i, n in enumerate(labels["network_number"]):
        cells, strengths = jn.pyloric_2004_network(int(n))
        net = jn.pyloric_circuit(cells["AB/PD"], cells["LP"], cells["PY"], strengths=strengths)
        for name in space.names:
            assert values[name][i] == pytest.approx(float(jn.get_parameter(net, name))), name
        assert labels["PY"][i] == int(cells["PY"].split()[-1])
    assert PyloricDatabase(numbers=[5, 3, 3]).describe()["numbers"] == [3, 5]
    with pytest.raises(TypeError, match="either"):
        PyloricDatabase(sample=2, numbers=[1])


def test_sweep_of_database_networks_matches_direct_simulations():
    numbers = [1_234_567, 9_876_543, 15_000_001]
    base = jn.pyloric_circuit()  # any triple: the space sets every cell's conductances
    result = sweep(
        base,
        PyloricDatabase(numbers=numbers),
        t1=2000.0,
        start=500.0,
        dtype=np.float64,
        progress=False,
    )
    for _, row in result.table.iterrows():
        cells, strengths = jn.pyloric_2004_network(int(row["network_number"]))
        net = jn.pyloric_circuit(cells["AB/PD"], cells["LP"], cells["PY"], strengths=strengths)
        sol = jn.simulate(net, 2000.0, solver=jn.ExponentialEuler(dt=0.025), save_every=0.025)
        ts = np.asarray(sol.ts)
        for k, cell in enumerate(("AB/PD", "LP", "PY")):
            spikes = spike_times(ts, np.asarray(sol.V[:, k]))
            assert row[f"{cell}.n_spikes"] == np.sum(spikes >= 500.0), (row["network_number"], cell)
