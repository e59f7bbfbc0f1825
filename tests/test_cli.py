import re

import pandas as pd
import pytest
from typer.testing import CliRunner

from jaxneuron.cli import app
from jaxneuron.sweep import PyloricDatabase

runner = CliRunner()


def test_simulate_prints_spikes_and_writes_figure(tmp_path):
    figure = tmp_path / "hh.png"
    result = runner.invoke(
        app, ["simulate", "hh", "--current", "10", "--t1", "200", "--plot", str(figure)]
    )
    assert result.exit_code == 0, result.output
    spikes = int(re.search(r"spikes: (\d+)", result.output).group(1))
    assert spikes == 14  # the independent reference fires 14 spikes in 200 ms at 10 µA/cm²
    assert "Hz" in result.output
    assert figure.stat().st_size > 10_000


def test_commands_run_in_the_precision_their_option_names():
    """float32 without ``--x64`` even where the process runs in float64 (this test
    session, or ``JAX_ENABLE_X64`` in the environment), float64 with it."""
    import jax

    base = ["simulate", "hh", "--solver", "exponential_euler", "--t1", "5"]
    assert jax.config.jax_enable_x64  # the suite's
    assert runner.invoke(app, base).exit_code == 0
    assert not jax.config.jax_enable_x64
    assert runner.invoke(app, [*base, "--x64"]).exit_code == 0
    assert jax.config.jax_enable_x64


def test_threads_option():
    """``--threads K`` sizes XLA:CPU's pool before any command (a fresh process: JAX's
    backend must not have started); a number outside 1 … cores is one line, status 2."""
    import subprocess
    import sys

    command = [sys.executable, "-m", "jaxneuron.cli", "--threads", "1"]
    ok = subprocess.run([*command, "solvers"], capture_output=True, text=True)
    assert ok.returncode == 0 and "kvaerno5" in ok.stdout, ok.stderr
    for bad in ("0", "100000"):
        result = runner.invoke(app, ["--threads", bad, "solvers"])
        assert result.exit_code == 2
        assert "--threads (XLA:CPU compute threads) must be a whole number" in result.output


def test_simulate_with_exponential_euler_and_bad_input():
    result = runner.invoke(
        app, ["simulate", "hh", "--solver", "exponential_euler", "--dt", "0.025", "--t1", "100"]
    )
    assert result.exit_code == 0, result.output
    bad = runner.invoke(app, ["simulate", "hh", "--t1", "-5"])
    assert bad.exit_code == 2 and "t1" in bad.output
    unknown = runner.invoke(app, ["simulate", "hh", "--solver", "rk99"])
    assert unknown.exit_code == 2 and "unknown solver" in unknown.output


def test_simulate_uses_each_models_default_solver():
    """The library's defaults: Tsit5 for HH, Kvaerno5 for the stiff STG neurons."""
    hh = runner.invoke(app, ["simulate", "hh", "--t1", "20"])
    assert hh.exit_code == 0 and "solver Tsit5" in hh.output, hh.output
    prinz = runner.invoke(app, ["simulate", "prinz", "--t1", "50"])
    assert prinz.exit_code == 0 and "solver Kvaerno5" in prinz.output, prinz.output


def test_demo_writes_figures(tmp_path):
    result = runner.invoke(app, ["demo", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "f–I curve" in result.output and "AB/PD 2  bursting" in result.output
    assert "pyloric = True" in result.output
    # the sweep and the fit of the tour
    assert re.search(r"Sweep: AB/PD 2 over CaS × Kd \(54 models", result.output)
    found = re.search(r"log transforms\): ([\d.]+) / ([\d.]+) mS/cm²", result.output)
    na, k = map(float, found.groups())
    assert abs(na / 120.0 - 1) < 0.05 and abs(k / 36.0 - 1) < 0.05
    assert "Identifiability of Na.g, K.g, Leak.g" in result.output
    assert re.search(r"COBAHH network .* E [\d.]+ Hz", result.output)
    # Liu's sensors: from Fig. 3 model A's start the neuron is silent, and after 60 s of
    # regulation it bursts, Na.g on its way to the figure's 49 mS/cm²
    found = re.search(r"Liu et al. 1998 regulation.*: (\w+) before, (\w+) after", result.output)
    assert found.groups() == ("silent", "bursting")
    na = float(re.search(r"Na 32.9 → ([\d.]+)", result.output).group(1))
    assert 40.0 < na < 55.0
    for name in (
        "sweep_cas_kd.png",
        "hh_trace.png",
        "hh_fi_curve.png",
        "prinz_2004_cells.png",
        "abpd2_currentscape.png",
        "cobahh_raster.png",
        "regulation.png",
    ):
        assert (tmp_path / name).stat().st_size > 10_000


def test_pyloric_command(tmp_path):
    result = runner.invoke(app, ["pyloric", "--t1", "9000", "--plot", str(tmp_path / "p.png")])
    assert result.exit_code == 0, result.output
    assert "pyloric = True" in result.output and "LP" in result.output
    assert "Prinz et al. 2004's routine: pyloric-like = " in result.output
    bad = runner.invoke(app, ["pyloric", "--lp", "LP 9"])
    assert bad.exit_code == 2 and "unknown Prinz 2004 preset" in bad.output


def test_sweep_command(tmp_path):
    result = runner.invoke(
        app,
        [
            "sweep",
            "prinz",
            "--random",
            "CaS.g=2:8",
            "-n",
            "5",
            "--t1",
            "300",
            "--no-progress",
            "--out",
            str(tmp_path / "s"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "5 models" in result.output and "dataset:" in result.output
    fractions = [float(x) for x in re.findall(r"(\d+\.\d+)%", result.output)]
    assert sum(fractions) == pytest.approx(100.0)
    bad = runner.invoke(app, ["sweep", "prinz", "--grid", "CaS.g=2:8"])
    assert bad.exit_code == 2 and "NAME=LO:HI:N" in bad.output
    unknown = runner.invoke(app, ["sweep", "prinz", "--grid", "Xx.g=1:2:2"])
    assert unknown.exit_code == 2 and "Xx.g" in unknown.output
    both = runner.invoke(app, ["sweep", "prinz", "--database", "--grid", "CaS.g=1:2:2"])
    assert both.exit_code == 2 and "exactly one" in both.output


def test_sweep_of_the_network_database(tmp_path):
    args = ["sweep", "pyloric", "--database", "--sample", "3", "--t1", "300"]
    result = runner.invoke(app, [*args, "--no-progress", "--out", str(tmp_path / "n")])
    assert result.exit_code == 0, result.output
    assert "3 models" in result.output
    for cell in ("AB/PD:", "LP:", "PY:"):
        assert cell in result.output
    classes = "".join(line for line in result.output.splitlines(True) if line.startswith("  "))
    fractions = [float(x) for x in re.findall(r"(\d+\.\d+)%", classes)]
    assert sum(fractions) == pytest.approx(300.0, abs=0.05)  # three cells, 100 % each
    assert "Prinz et al. 2004's routine (PrinzAdaptive)" in result.output  # the protocol
    # the rhythm: 300 ms hold no cycle, so no network is pyloric-like
    assert re.search(r"pyloric-like\s+0\.00% \(95% Wilson interval 0\.00–\d", result.output)
    assert "Prinz et al. 2004: ≈ 2.2%" in result.output
    table = pd.read_parquet(tmp_path / "n" / "parts")
    assert sorted(table["network_number"]) == sorted(
        PyloricDatabase(sample=3).labels(0, 3)["network_number"]
    )
