import re

from typer.testing import CliRunner

from jaxneuron.cli import app

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


def test_simulate_with_exponential_euler_and_bad_input():
    result = runner.invoke(
        app, ["simulate", "hh", "--solver", "exponential_euler", "--dt", "0.025", "--t1", "100"]
    )
    assert result.exit_code == 0, result.output
    bad = runner.invoke(app, ["simulate", "hh", "--t1", "-5"])
    assert bad.exit_code == 2 and "t1" in bad.output
    unknown = runner.invoke(app, ["simulate", "hh", "--solver", "rk99"])
    assert unknown.exit_code == 2 and "unknown solver" in unknown.output


def test_demo_writes_figures(tmp_path):
    result = runner.invoke(app, ["demo", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "f–I curve" in result.output and "AB/PD 2  bursting" in result.output
    assert "pyloric = True" in result.output
    for name in (
        "hh_trace.png",
        "hh_fi_curve.png",
        "prinz_2004_cells.png",
        "abpd2_currentscape.png",
    ):
        assert (tmp_path / name).stat().st_size > 10_000


def test_pyloric_command(tmp_path):
    result = runner.invoke(app, ["pyloric", "--t1", "9000", "--plot", str(tmp_path / "p.png")])
    assert result.exit_code == 0, result.output
    assert "pyloric = True" in result.output and "LP" in result.output
    bad = runner.invoke(app, ["pyloric", "--lp", "LP 9"])
    assert bad.exit_code == 2 and "unknown Prinz 2004 preset" in bad.output
