"""Recordings: NWB (pynwb) and NIX (neo) files written here, read back with their stimuli
and units, and fitted (in Python and by `jaxneuron fit`)."""

import json
import re
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


def _synthetic(model=None):
    """HH responses (mV) to three steps given in nA, with a 0.05 nA holding current, plus
    0.5 mV of noise (``model``: default `jaxneuron.build_HH`'s)."""
    steps_nA = [0.2, 0.6, 1.0]
    holding_nA = 0.05
    n = int(T1 / DT) + 1
    t = DT * np.arange(n)
    current = np.stack([np.where((t >= 5.0) & (t < 55.0), a, 0.0) for a in steps_nA])
    density = (current + holding_nA) / (AREA * 1e3)
    protocol = jn.Protocol([jn.Interpolated.from_samples(row, DT) for row in density], t1=T1)
    model = jn.build_HH() if model is None else model
    V = np.asarray(protocol.simulate(model, solver=SOLVER).V)
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


def test_the_fit_command_recovers_a_recordings_conductances(tmp_path):
    """`jaxneuron fit` on an NWB file made by HH with other conductances than its
    defaults: it starts from the defaults (120, 36) and ends at the truth."""
    from typer.testing import CliRunner

    from jaxneuron.cli import app

    truth = {"Na.g": 105.0, "K.g": 40.0}
    path, figure = tmp_path / "cell.nwb", tmp_path / "fit.png"
    _write_nwb(path, *_synthetic(jn.set_parameters(jn.build_HH(), truth)))
    command = ["fit", str(path), "--free", "Na.g", "--free", "K.g"]
    result = CliRunner().invoke(app, [*command, "--area", str(AREA), "--plot", str(figure)])
    assert result.exit_code == 0, result.output
    for name, value in truth.items():
        fitted = float(re.search(rf"{re.escape(name)} = ([\d.]+) mS/cm²", result.output)[1])
        assert fitted == pytest.approx(value, rel=0.01), result.output
    assert "3 current-clamp sweep(s) of 60 ms at 10 kHz" in result.output
    assert "condition number" in result.output and "determined" in result.output
    assert figure.stat().st_size > 10_000
    # predictable failures: one line, exit status 2, before any simulation
    for args, says in [
        (command, "--area"),
        ([*command, "--area", "-1"], "--area must be > 0"),
        ([*command, "--area", "1e-4", "--sweeps", "7"], "no sweep 7"),
        (["fit", str(tmp_path / "none.nwb"), "--free", "Na.g", "--area", "1e-4"], "no such file"),
        ([*command, "--area", "1e-4", "--plot", str(tmp_path / "fit.xyz")], "figure format"),
    ]:
        bad = CliRunner().invoke(app, args)
        assert bad.exit_code == 2 and says in bad.output, (args, bad.output)
        assert len(bad.output.strip().splitlines()) == 1, bad.output


def test_the_fit_command_fits_a_features_file(tmp_path):
    """A features file: HH's firing rate at 10 µA/cm² with K.g = 30 mS/cm² as the target;
    `jaxneuron fit` from K.g = 36 reaches the rate; bad files are refused in one line."""
    from typer.testing import CliRunner

    from jaxneuron.cli import app

    target = jf.FeatureLoss([jf.FiringRate()], t1=200.0, start=50.0, stimulus=10.0)
    rate = target.report(jn.set_parameters(jn.build_HH(10.0), {"K.g": 30.0}))["FiringRate"]
    spec = {"t1": 200.0, "start": 50.0, "current": 10.0,
            "features": [{"feature": "FiringRate", "target": rate, "scale": 1.0}]}  # fmt: skip
    path = tmp_path / "features.json"
    path.write_text(json.dumps(spec))
    result = CliRunner().invoke(
        app, ["fit", str(path), "--free", "K.g", "--plot", str(tmp_path / "f.png")]
    )
    assert "1 feature(s) (FiringRate), 200 ms" in result.output, result.output
    fitted = float(re.search(r"K.g = ([\d.]+) mS/cm²", result.output)[1])
    check = target.report(jn.set_parameters(jn.build_HH(10.0), {"K.g": fitted}))["FiringRate"]
    assert check == pytest.approx(rate, abs=1.0), result.output  # Hz
    for content, says in [
        ("{not json", "not a JSON features file"),
        (json.dumps({"t1": 100, "features": [{"feature": "Nonsense", "target": 1}]}), "Nonsense"),
        (json.dumps({"features": []}), "'t1'"),
        (json.dumps({"t1": 100, "features": [{"feature": "FiringRate"}]}), "needs a 'target'"),
        (json.dumps({"t1": 100, "bogus": 1, "features": []}), "unknown keys"),
    ]:
        path.write_text(content)
        bad = CliRunner().invoke(app, ["fit", str(path), "--free", "K.g"])
        assert bad.exit_code == 2 and says in bad.output, (content, bad.output)
        assert len(bad.output.strip().splitlines()) == 1, bad.output
