"""Recordings: NWB (pynwb) and NIX (neo) files written here, read back with their stimuli
and units, and fitted."""

from datetime import UTC, datetime

import numpy as np
import pytest

import jaxneuron as jn
import jaxneuron.fit as jf

pynwb = pytest.importorskip("pynwb")
neo = pytest.importorskip("neo")
pq = pytest.importorskip("quantities")

SOLVER = jn.ExponentialEuler(dt=0.025)
AREA = 1e-4  # cm²: 1 nA = 10 µA/cm²
DT = 0.1  # ms: 10 kHz
T1 = 60.0


def _synthetic():
    """HH responses (mV) to three steps given in nA, with a 0.05 nA holding current, plus
    0.5 mV of noise."""
    steps_nA = [0.2, 0.6, 1.0]
    holding_nA = 0.05
    n = int(T1 / DT) + 1
    t = DT * np.arange(n)
    current = np.stack([np.where((t >= 5.0) & (t < 55.0), a, 0.0) for a in steps_nA])
    density = (current + holding_nA) / (AREA * 1e3)
    protocol = jn.Protocol([jn.Interpolated.from_samples(row, DT) for row in density], t1=T1)
    V = np.asarray(protocol.simulate(jn.build_HH(), solver=SOLVER).V)
    V = V + 0.5 * np.random.default_rng(0).standard_normal(V.shape)
    return V, current, holding_nA


def _write_nwb(path, V, current, holding_nA):
    from pynwb import NWBHDF5IO, NWBFile
    from pynwb.icephys import CurrentClampSeries, CurrentClampStimulusSeries

    nwb = NWBFile("synthetic HH", "jaxneuron-test", datetime(2026, 1, 1, tzinfo=UTC))
    device = nwb.create_device(name="amplifier")
    electrode = nwb.create_icephys_electrode(name="e0", description="whole cell", device=device)
    for k in range(V.shape[0]):
        # stored in the units acquisition software uses, scaled to SI by `conversion`
        nwb.add_stimulus(
            CurrentClampStimulusSeries(
                name=f"stimulus {k}",
                data=current[k] * 1e3,
                conversion=1e-12,
                rate=1e4,
                electrode=electrode,
                gain=1.0,
                sweep_number=np.uint32(k),
                starting_time=0.0,
            )
        )
        nwb.add_acquisition(
            CurrentClampSeries(
                name=f"response {k}",
                data=V[k],
                conversion=1e-3,
                rate=1e4,
                electrode=electrode,
                gain=1.0,
                sweep_number=np.uint32(k),
                starting_time=0.0,
                bias_current=holding_nA * 1e-9,
                bridge_balance=0.0,
                capacitance_compensation=0.0,
            )
        )
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)


def _write_nix(path, V, current, holding_nA):
    block = neo.Block(name="cell")
    for k in range(V.shape[0]):
        segment = neo.Segment(name=f"sweep {k}")
        segment.analogsignals.append(
            neo.AnalogSignal(V[k][:, None] * 1e-3, units="V", sampling_rate=10 * pq.kHz)
        )
        segment.analogsignals.append(
            neo.AnalogSignal(
                (current[k] + holding_nA)[:, None] * 1e3, units="pA", sampling_rate=10 * pq.kHz
            )
        )
        block.segments.append(segment)
    io = neo.io.NixIO(str(path), mode="ow")
    io.write_block(block)
    io.close()


@pytest.mark.parametrize("kind", ["nwb", "nix"])
def test_a_written_recording_is_read_with_its_stimulus_and_fitted(tmp_path, kind):
    V, current, holding = _synthetic()
    path = tmp_path / f"cell.{kind}"
    (_write_nwb if kind == "nwb" else _write_nix)(path, V, current, holding)
    rec = jn.load_nwb(path) if kind == "nwb" else jn.load_neo(path)
    assert rec.sweeps == 3 and rec.dt == pytest.approx(DT) and rec.duration == pytest.approx(T1)
    np.testing.assert_allclose(rec.V, V, atol=1e-9)  # mV
    np.testing.assert_allclose(rec.current, current + holding, atol=1e-9)  # nA, holding in
    if kind == "nwb":
        np.testing.assert_allclose(rec.holding, holding)
    loss = rec.loss(jn.Geometry(area_cm2=AREA), solver=SOLVER)
    start = jn.set_parameters(jn.build_HH(), {"Na.g": 105.0, "K.g": 40.0})
    result = jf.fit(start, loss, ["Na.g", "K.g"])
    assert max(result.relative_errors({"Na.g": 120.0, "K.g": 36.0}).values()) < 0.01, str(result)
    assert result.loss == pytest.approx(0.25, rel=0.1)  # the noise variance, 0.5² mV²


def test_recording_checks_units_and_shapes(tmp_path):
    with pytest.raises(ValueError, match="current"):
        jn.Recording(V=np.zeros((2, 10)), current=np.zeros((2, 9)), dt=0.1)
    with pytest.raises(ValueError, match="NaN"):
        jn.Recording(V=np.full((1, 10), np.nan), current=np.zeros((1, 10)), dt=0.1)
    # a segment without its stimulus is refused with the reason
    block = neo.Block()
    segment = neo.Segment(name="lonely")
    segment.analogsignals.append(
        neo.AnalogSignal(np.zeros((10, 1)), units="mV", sampling_rate=10 * pq.kHz)
    )
    block.segments.append(segment)
    path = tmp_path / "lonely.nix"
    io = neo.io.NixIO(str(path), mode="ow")
    io.write_block(block)
    io.close()
    with pytest.raises(ValueError, match="1 voltage and 0 current"):
        jn.load_neo(path)
    rec = jn.Recording(V=np.zeros((3, 11)), current=np.zeros((3, 11)), dt=0.1)
    assert rec.select([2, "sweep 0"]).names == ("sweep 2", "sweep 0")
    loss = rec.loss(jn.Geometry(area_cm2=AREA), junction_potential=-10.0)
    np.testing.assert_allclose(np.asarray(loss.targets), 10.0)


def test_a_pickle_is_refused_and_nothing_in_it_runs(tmp_path):
    """neo reads .pkl/.pickle by unpickling; a pickle's author chooses what that runs."""
    import os
    import pickle

    marker = tmp_path / "executed"

    class Payload:
        def __reduce__(self):
            return (os.mkdir, (str(marker),))

    for name in ("cell.pkl", "cell.pickle", "CELL.PKL"):
        path = tmp_path / name
        path.write_bytes(pickle.dumps(Payload()))
        with pytest.raises(ValueError, match="refused.*pickle"):
            jn.load_neo(path)
    assert not marker.exists()


@pytest.mark.parametrize("content", [b"", b"garbage, not HDF5", None])
def test_loader_errors_name_the_file(tmp_path, content):
    nwb, abf = tmp_path / "cell.nwb", tmp_path / "cell.abf"
    if content is None:
        with pytest.raises(FileNotFoundError, match="cell.nwb"):
            jn.load_nwb(nwb)
        with pytest.raises(FileNotFoundError, match="cell.abf"):
            jn.load_neo(abf)
        return
    nwb.write_bytes(content)
    abf.write_bytes(content)
    with pytest.raises(ValueError, match=r"cell.nwb: not an NWB file"):
        jn.load_nwb(nwb)
    with pytest.raises(ValueError, match=r"cell.abf: not a readable .abf recording"):
        jn.load_neo(abf)
    odd = tmp_path / "cell.xyz"
    odd.write_bytes(content)
    with pytest.raises(ValueError, match=r"cell.xyz: .xyz is not a recording format.*\.abf"):
        jn.load_neo(odd)
