"""Fault injection: every way a sweep directory or a run has been seen to go wrong.

Each case asserts one of two outcomes: the dataset ends equal to an uninterrupted run —
nothing lost, nothing duplicated, nothing mislabelled — or the input is refused early in
one line that names the cause.
"""

import json
import os
import shutil
import subprocess
import sys
import textwrap
import warnings

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import jaxneuron as jn
import jaxneuron.fit as jf
from jaxneuron.cli import app
from jaxneuron.sweep import Grid, Random, SweepResult, sweep
from jaxneuron.sweep._store import SweepStore

SPACE = Random({"CaS.g": (2.0, 10.0), "H.g": (0.001, 0.1, "log")}, n=14, seed=5)
SETTINGS = dict(t1=40.0, chunk_size=4, progress=False)  # 4 chunks, the last of 2 models
runner = CliRunner()


def run(path=None, space=SPACE, **kwargs):
    return sweep(jn.build_Prinz(), space, path=path, **{**SETTINGS, **kwargs})


@pytest.fixture(scope="module")
def reference():
    return run().table


def finished(tmp_path, name="done"):
    path = tmp_path / name
    run(path)
    return path


def assert_same(path, reference):
    result = SweepResult.load(path)
    assert result.complete
    assert result.table["model_id"].tolist() == list(range(len(SPACE)))
    pd.testing.assert_frame_equal(result.table, reference)
    # and as a plain Parquet dataset: nothing extra in parts/
    assert len(pd.read_parquet(path / "parts")) == len(SPACE)


class Interrupt(Exception):
    pass


def interrupt_after(chunk):
    def callback(c, table):
        if c == chunk:
            raise Interrupt

    return callback


# ---- 1. a random sweep resumes ------------------------------------------------------------


def test_random_sweep_resumes(tmp_path, reference):
    """Random's description has tuples, which JSON reads back as lists: it used to be
    "a different sweep" on every resume."""
    with pytest.raises(Interrupt):
        run(tmp_path / "r", callback=interrupt_after(1))
    resumed = run(tmp_path / "r")
    assert resumed.models_run == 6  # chunks 2 and 3
    assert_same(tmp_path / "r", reference)


# ---- 2. leftover parts are never adopted ---------------------------------------------------


def test_parts_of_another_sweep_are_set_aside(tmp_path, reference):
    path = finished(tmp_path)
    (path / "sweep.json").unlink()
    other = run(path, t1=20.0)  # another sweep into the same directory
    assert other.models_run == len(SPACE)  # nothing adopted
    assert len(list((path / "quarantine").glob("part-*"))) == 4  # set aside, not deleted
    pd.testing.assert_frame_equal(other.table, run(t1=20.0).table)


def test_overwrite_through_a_symlinked_parts_folder(tmp_path, reference):
    path = finished(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    shutil.move(path / "parts", elsewhere)
    os.symlink(elsewhere, path / "parts")
    run(path, t1=20.0, overwrite=True)
    assert not (path / "parts").is_symlink()
    assert len(list(elsewhere.glob("*.parquet"))) == 4  # the link's target is left alone
    pd.testing.assert_frame_equal(SweepResult.load(path).table, run(t1=20.0).table)


# ---- 3. concurrent processes ---------------------------------------------------------------


def test_a_claimed_chunk_is_not_claimed_twice(tmp_path):
    path = finished(tmp_path)
    first, second = SweepStore(path), SweepStore(path)
    first.attach()
    second.attach()
    claim = first.claim(2)
    assert claim is not None and second.claim(2) is None
    claim.release()
    again = second.claim(2)
    assert again is not None
    again.release()


CLI_SWEEP = [
    sys.executable, "-m", "jaxneuron.cli", "sweep", "prinz", "--random", "CaS.g=2:10",
    "-n", "9", "--seed", "3", "--t1", "40", "--chunk-size", "1", "--no-progress",
]  # fmt: skip


def test_three_concurrent_cli_processes_share_one_directory(tmp_path):
    out = str(tmp_path / "shared")
    procs = [
        subprocess.Popen(CLI_SWEEP + ["--out", out], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(3)
    ]
    results = [p.communicate(timeout=900) for p in procs]
    for p, (_, err) in zip(procs, results, strict=True):
        assert p.returncode == 0, err.decode()[-2000:]
    single = subprocess.run(CLI_SWEEP + ["--out", str(tmp_path / "single")], capture_output=True)
    assert single.returncode == 0
    shared = SweepResult.load(out).table
    assert shared["model_id"].is_unique and len(shared) == 9
    pd.testing.assert_frame_equal(shared, SweepResult.load(tmp_path / "single").table)


# ---- 4. part contents are verified ---------------------------------------------------------


@pytest.mark.parametrize("fault", ["truncated", "garbage", "copied over", "extra", "copy name"])
def test_damaged_or_foreign_parts_are_recomputed(tmp_path, reference, fault, caplog):
    path = finished(tmp_path)
    parts = path / "parts"
    if fault == "truncated":
        data = (parts / "part-000001.parquet").read_bytes()
        (parts / "part-000001.parquet").write_bytes(data[: len(data) // 2])
    elif fault == "garbage":
        (parts / "part-000002.parquet").write_bytes(b"not a parquet file")
    elif fault == "copied over":
        shutil.copy(parts / "part-000000.parquet", parts / "part-000003.parquet")
    elif fault == "extra":
        shutil.copy(parts / "part-000001.parquet", parts / "part-000001-old.parquet")
    else:
        shutil.copy(parts / "part-000001.parquet", parts / "part-000001 (copy).parquet")
    with caplog.at_level("WARNING", logger="jaxneuron.sweep"):
        resumed = run(path)
    assert "set aside" in caplog.text
    recomputed = {"truncated": 4, "garbage": 4, "copied over": 2, "extra": 0, "copy name": 0}
    assert resumed.models_run == recomputed[fault]
    assert_same(path, reference)
    assert len(list((path / "quarantine").iterdir())) == 1


def test_a_part_killed_while_being_written_is_ignored(tmp_path, reference):
    path = tmp_path / "cut"
    with pytest.raises(Interrupt):
        run(path, callback=interrupt_after(0))
    (path / "parts" / ".part-000001.parquet.somehost.1.abcd.tmp").write_bytes(b"half")
    assert len(pd.read_parquet(path / "parts")) == 4  # hidden from Parquet readers
    run(path)
    assert_same(path, reference)


# ---- 5. blown-up adaptive solves stop at once ----------------------------------------------


def test_blown_up_adaptive_solve_stops_and_says_where():
    model = eqx.tree_at(lambda m: m.channel("Leak").g, jn.build_Prinz(), jnp.asarray(-500.0))
    sol = jn.simulate(model, 1000.0, throw=False)
    assert not bool(sol.success) and int(sol.num_steps) < 2000
    with pytest.raises(jn.SimulationError, match=r"blew up at t = [0-9.e-]+ ms"):
        jn.simulate(model, 1000.0)
    exploding = jn.build_HH(jn.TimeVaryingFunction(f=lambda t: jnp.where(t > 5, jnp.nan, 0.0)))
    with pytest.raises(jn.SimulationError, match=r"at t = 5(\.0+\d*)? ms"):
        jn.simulate(exploding, 20.0)
    with pytest.raises(ValueError, match="y0"):
        jn.simulate(jn.build_HH(), 10.0, y0=[np.nan, 0.0, 0.0, 0.0])
    for bad in (-1.0, float("nan")):
        with pytest.raises(ValueError, match="rtol"):
            jn.simulate(jn.build_HH(), 10.0, rtol=bad)
    with pytest.raises(ValueError, match="Constant.amplitude"):
        jn.build_HH(float("nan"))


def test_step_floor_keeps_healthy_float32_solves():
    # the floor that stops stuck solves must not stop a healthy float32 burster (it did at
    # 2 eps |t1|: Newton failed at t = 4502 ms)
    model = jn.as_dtype(jn.build_Prinz(config=jn.PrinzConfig.preset("AB/PD 2")), jnp.float32)
    sol = jn.simulate(model, 5000.0, solver="kvaerno5")
    assert sol.ys.dtype == jnp.float32 and bool(sol.success)


# ---- 6. a function stimulus resumes in a new process ---------------------------------------

FUNCTION_SWEEP = textwrap.dedent(
    """
    import sys
    import jax.numpy as jnp
    import jaxneuron as jn
    from jaxneuron.sweep import Grid, sweep
    model = jn.build_HH(jn.TimeVaryingFunction(f=lambda t: 8.0 + 2.0 * jnp.sin(t / 10.0)))
    result = sweep(model, Grid({"Na.g": [100.0, 120.0, 140.0]}), t1=40.0, chunk_size=1,
                   path=sys.argv[1], progress=False)
    print("ran", result.models_run)
    """
)


def test_function_stimulus_sweep_resumes_in_a_new_process(tmp_path):
    out = str(tmp_path / "f")
    first = subprocess.run([sys.executable, "-c", FUNCTION_SWEEP, out], capture_output=True)
    second = subprocess.run([sys.executable, "-c", FUNCTION_SWEEP, out], capture_output=True)
    assert first.returncode == 0 and b"ran 3" in first.stdout, first.stderr.decode()[-2000:]
    assert second.returncode == 0 and b"ran 0" in second.stdout, second.stderr.decode()[-2000:]


# ---- 7. nothing to simulate ----------------------------------------------------------------


def test_a_run_shorter_than_one_step_is_refused():
    with pytest.raises(ValueError, match="shorter than one step"):
        run(t1=10.0, dt=50.0)
    with pytest.raises(ValueError, match="whole multiple"):
        run(t1=40.01)
    with pytest.raises(ValueError, match="shorter than one step"):
        jn.simulate(jn.build_HH(), 10.0, solver=jn.ExponentialEuler(dt=50.0))


# ---- 8. the command line answers in one line -----------------------------------------------


@pytest.mark.parametrize(
    "args, message",
    [
        (["simulate", "hh", "--current", "1e38", "--t1", "20"], "blew up"),
        (["simulate", "hh", "--t1", "5", "--plot", "figure.xyz"], "unknown figure format"),
        (["simulate", "hh", "--t1", "5", "--plot", "/no/such/folder/f.png"], "does not exist"),
        (["simulate", "hh", "--t1", "1e9"], "more than a loop counts"),
        (["sweep", "prinz", "--grid", "CaS.g=0:1:2", "--grid", "CaS.g=0:2:2"], "twice"),
        (["sweep", "prinz", "--grid", "CaS.g=0:1:2", "--out", ""], "must not be empty"),
    ],
)
def test_cli_failures_are_one_line(args, message):
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output


def test_cli_out_naming_a_file(tmp_path):
    target = tmp_path / "a_file"
    target.write_text("x")
    result = runner.invoke(app, ["sweep", "prinz", "--grid", "CaS.g=0:1:2", "--out", str(target)])
    assert result.exit_code == 2 and "is a file" in result.output


def test_huge_random_spaces_are_drawn_lazily():
    space = Random({"CaS.g": (0.0, 10.0)}, n=10**9, seed=1)
    assert len(space) == 10**9 and space.values(10**9 - 3, 10**9)["CaS.g"].shape == (3,)
    np.testing.assert_array_equal(space.values(5, 8)["CaS.g"], space.values(0, 8)["CaS.g"][5:])


# ---- 9, 10. fit targets and precision -------------------------------------------------------


def test_nan_in_a_fit_target_is_refused():
    V = np.full(200, -60.0)
    V[17] = np.nan
    with pytest.raises(ValueError, match="sample 17"):
        jf.TraceLoss(V, dt=0.1)
    with pytest.raises(ValueError, match="finite"):
        jf.FiringRate(float("nan"))


def test_one_float32_leaf_does_not_make_a_float64_model_float32():
    code = textwrap.dedent(
        """
        import warnings, jax
        jax.config.update("jax_enable_x64", True)
        import equinox as eqx, jax.numpy as jnp, jaxneuron as jn
        model = eqx.tree_at(lambda m: m.channel("Na").g, jn.build_HH(10.0), jnp.float32(120))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            sol = jn.simulate(model, 20.0)
        assert sol.ys.dtype == jnp.float64, sol.ys.dtype
        assert any("cast to float64" in str(w.message) for w in caught)
        print("ok")
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0 and "ok" in done.stdout, done.stderr[-2000:]


# ---- the lesser faults ---------------------------------------------------------------------


def test_negative_conductance_by_name_is_refused():
    with pytest.raises(ValueError, match="Leak.g .maximal conductance. must be >= 0"):
        jn.set_parameters(jn.build_Prinz(), {"Leak.g": -500.0})
    # traced values (a population, a gradient) are not checked: sweeps mark failures instead
    jax.vmap(lambda g: jn.set_parameters(jn.build_Prinz(), {"Leak.g": g}))(jnp.asarray([-1.0]))


def test_corrupt_sweep_json_is_named_and_overwrite_recovers(tmp_path, reference):
    path = finished(tmp_path)
    (path / "sweep.json").write_text("{ not json")
    with pytest.raises(ValueError, match=r"sweep.json is corrupt"):
        run(path)
    run(path, overwrite=True)
    assert_same(path, reference)


def test_refusal_names_both_ways_to_overwrite(tmp_path):
    path = finished(tmp_path)
    with pytest.raises(ValueError, match="--overwrite") as info:
        run(path, t1=20.0)
    assert "overwrite=True" in str(info.value)


def test_resume_without_chunk_size_uses_the_stored_one(tmp_path, reference):
    path = tmp_path / "c"
    with pytest.raises(Interrupt):
        run(path, callback=interrupt_after(0))
    resumed = sweep(jn.build_Prinz(), SPACE, path=path, t1=40.0, progress=False)
    assert resumed.models_run == 10
    assert_same(path, reference)


def test_save_buffers_beyond_the_budget_are_refused():
    with pytest.raises(ValueError, match="GiB.*save_every"):
        jn.simulate(jn.build_HH(), 1e7, solver=jn.ExponentialEuler(0.025), save_every=0.025)


def test_autapses_warn_and_self_gap_junctions_are_refused():
    cells = {"A": jn.build_HH(name="A"), "B": jn.build_HH(name="B")}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        jn.build_network([jn.Glutamatergic("A", "A", 1.0)], cells)
    assert any("onto itself" in str(w.message) for w in caught)
    with pytest.raises(ValueError, match="two different neurons"):
        jn.build_network([jn.Electrical("A", "A", 1.0)], cells)


def test_sweep_of_a_grid_still_equals_memory_run(tmp_path):
    grid = Grid({"CaS.g": [3.0, 6.0, 9.0]})
    on_disk = sweep(jn.build_Prinz(), grid, t1=40.0, path=tmp_path / "g", progress=False)
    in_memory = sweep(jn.build_Prinz(), grid, t1=40.0, progress=False)
    pd.testing.assert_frame_equal(on_disk.table, in_memory.table)


# ---- 11. one sweep owns a directory at a time ----------------------------------------------


def test_a_different_sweep_or_an_overwrite_is_refused_while_a_run_owns_the_directory(
    tmp_path, reference
):
    path = tmp_path / "owned"
    refusals = []

    def intruders(c, table):
        if c == 1:
            for kwargs in ({"t1": 20.0}, {"overwrite": True}, {"t1": 20.0, "overwrite": True}):
                with pytest.raises(ValueError, match="is in use: a running process") as info:
                    run(path, **kwargs)
                refusals.append(str(info.value))

    run(path, callback=intruders)
    assert len(refusals) == 3 and "before overwriting" in refusals[1]
    assert not (path / "quarantine").exists()  # the intruders touched no part
    assert_same(path, reference)
    store = SweepStore(path)  # the owner is gone: now it may be overwritten
    store.open({"n_chunks": 1, "chunk_size": 1, "n_models": 1}, overwrite=True)
    store.close()


def test_two_different_sweeps_opening_at_once_one_owns_it(tmp_path):
    import threading

    meta = {"n_chunks": 1, "chunk_size": 1, "n_models": 1}
    for trial in range(20):
        barrier, outcomes = threading.Barrier(2), []

        def open_(k, path=tmp_path / f"race{trial}", barrier=barrier, outcomes=outcomes):
            store = SweepStore(path)
            barrier.wait()
            try:
                store.open({**meta, "which": k})
                outcomes.append(store)
            except ValueError as err:
                outcomes.append(str(err))

        threads = [threading.Thread(target=open_, args=(k,)) for k in range(2)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        owners = [o for o in outcomes if isinstance(o, SweepStore)]
        assert len(owners) == 1, outcomes
        assert "in use" in next(o for o in outcomes if isinstance(o, str))
        owners[0].close()


# ---- 12. parts prove their content ---------------------------------------------------------


def _flip(path, bit):
    data = bytearray(path.read_bytes())
    data[bit // 8] ^= 1 << (bit % 8)
    path.write_bytes(bytes(data))


def test_a_bit_flipped_in_a_data_page_is_named_set_aside_and_recomputed(
    tmp_path, reference, caplog
):
    path = finished(tmp_path)
    part = path / "parts" / "part-000002.parquet"
    _flip(part, 8 * 200 + 3)  # inside the first column's data page
    loaded = SweepResult.load(path)  # reading never fails on one bad part
    assert not loaded.complete and len(loaded.table) == len(SPACE) - 4
    with caplog.at_level("WARNING", logger="jaxneuron.sweep"):
        resumed = run(path)
    assert resumed.models_run == 4
    assert_same(path, reference)
    assert [p.name for p in (path / "quarantine").iterdir()] == ["part-000002.parquet"]


def test_every_bit_flip_in_a_part_is_caught_or_changes_nothing(tmp_path, reference):
    """A flip anywhere — page data, page headers, the footer — either fails the part's
    checks (CRC, content hash, identity) or leaves every value, name and dtype as read."""
    path = finished(tmp_path)
    part = path / "parts" / "part-000001.parquet"
    original = part.read_bytes()
    expected = reference.iloc[4:8].reset_index(drop=True)
    rng = np.random.default_rng(0)
    caught = 0
    for bit in rng.choice(8 * len(original), size=60, replace=False):
        part.write_bytes(original)
        _flip(part, int(bit))
        store = SweepStore(path)
        store.attach()
        if store.is_done(1):
            pd.testing.assert_frame_equal(pd.read_parquet(part), expected)
        else:
            caught += 1
            assert not part.exists() and (path / "quarantine" / part.name).exists()
            shutil.rmtree(path / "quarantine")
    assert caught > 30


def test_damaged_traces_take_their_part_with_them(tmp_path):
    store = SweepStore(tmp_path / "t")
    store.open({"n_chunks": 1, "chunk_size": 2, "n_models": 2})
    rows = pd.DataFrame({"model_id": np.arange(2), "rate": [1.0, 2.0]})
    store.write(0, rows, {"model_id": np.asarray([1]), "traces": np.zeros((1, 50, 3))})
    assert store.done() == {0}
    trace_file = store.trace_path(0)
    _flip(trace_file, 8 * (trace_file.stat().st_size // 2))
    assert not store.is_done(0) and store.done() == set()
    store.close()


# ---- 13. memory does not grow with the number of models ------------------------------------


def test_chunks_are_enumerated_lazily():
    import tracemalloc

    from jaxneuron.sweep._sweep import _run_chunks, _Settings

    space = Random({"CaS.g": (0.0, 10.0)}, n=10**9, seed=1)
    settings = _Settings.checked(
        jn.build_Prinz(), space, t1=40.0, dt=0.025, start=None, threshold=-20.0,
        burst_gap=100.0, regularity=0.1, rhythm=None, dtype=jnp.float32, chunk_size=2,
        record=(), record_every=1.0, kernel="xla",
    )  # fmt: skip

    def fake_run(values, record):
        return {"finite": np.ones(len(values["CaS.g"]), bool)}

    tracemalloc.start()
    with pytest.raises(Interrupt):
        _run_chunks(space, settings, None, set(), fake_run, False, interrupt_after(3))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 5e6  # bytes; a list of the 5e8 chunks would take gigabytes


def test_a_sweep_that_cannot_fit_in_memory_says_so_in_one_line():
    with pytest.raises(MemoryError, match=r"makes a table of at least [\d,]+ GB"):
        run(space=Random({"CaS.g": (0.0, 10.0)}, n=10**13))
    result = runner.invoke(
        app, ["sweep", "prinz", "--random", "CaS.g=0:1", "-n", str(10**13), "--chunk-size", "10"]
    )
    assert result.exit_code == 2 and "sweep fewer models" in result.output
    assert len(result.output.strip().splitlines()) == 1


# ---- 14. populations are checked as strictly as neurons ------------------------------------


@pytest.fixture(scope="module")
def cobahh():
    return jn.cobahh(40, p=0.1, seed=0)


@pytest.mark.parametrize(
    "axis, message",
    [
        ({"E->E.scale": [-5.0, 1.0]}, r"E->E.scale = -5, outside its domain.*scale"),
        ({"E.Na.g": [-50.0]}, r"E.Na.g = -50, outside its domain.*must be >= 0 mS/cm²"),
    ],
)
def test_population_sweeps_refuse_values_outside_the_domain(tmp_path, cobahh, axis, message):
    from jaxneuron.sweep import sweep_populations

    net, y0, g0 = cobahh
    with pytest.raises(ValueError, match=message):
        sweep_populations(net, Grid(axis), t1=10.0, y0=y0, g0=g0, path=tmp_path / "p")
    assert not (tmp_path / "p").exists()  # refused before anything was written


def test_neuron_sweeps_refuse_values_outside_the_domain():
    with pytest.raises(ValueError, match=r"Leak.g = -1, outside its domain"):
        run(space=Random({"Leak.g": (-1.0, 1.0)}, n=4))


def test_projection_values_are_checked(cobahh):
    net, y0, g0 = cobahh
    conn = net.projections[0].connectivity
    receptor = jn.ExponentialReceptor(tau=5.0, E=0.0)
    with pytest.raises(ValueError, match="scale .weight factor. must be finite"):
        jn.Projection("E", "E", conn, 1.0, receptor, scale=float("nan"))
    with pytest.raises(ValueError, match="E->E: weight must be >= 0 nS"):
        net.set_parameters({"E->E.weight": -1.0})
    with pytest.raises(ValueError, match="scale .weight factor. must be >= 0"):
        net.set_parameters({"E->E.scale": -5.0})


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"start": 20.0}, ValueError, r"start .* must be before t1"),
        ({"start": -1.0}, ValueError, r"start \(analysis start\) must be >= 0 ms"),
        ({"raster": -5}, ValueError, r"raster .* whole number >= 0"),
        ({"raster": 2.5}, ValueError, r"raster .* whole number >= 0"),
        ({"max_spikes_per_step": -1}, ValueError, r"max_spikes_per_step must be a whole number"),
        ({"y0": "unknown population"}, KeyError, r"y0: no population 'X'"),
        ({"y0": "wrong size"}, ValueError, r"y0\['E'\]: state 'V' must have shape \(32,\)"),
    ],
)
def test_simulate_populations_checks_its_arguments(cobahh, kwargs, error, message):
    net, y0, g0 = cobahh
    if kwargs.get("y0") == "unknown population":
        kwargs = {"y0": {**y0, "X": y0["E"]}}
    elif kwargs.get("y0") == "wrong size":
        kwargs = {"y0": {**y0, "E": tuple(x[:3] for x in y0["E"])}}
    with pytest.raises(error, match=message):
        jn.simulate_populations(net, 10.0, **{"y0": y0, "g0": g0, **kwargs})


# ---- 15. the lesser faults of issue 28 -----------------------------------------------------


def test_a_fixed_step_run_ends_at_t1_or_is_refused():
    hh = jn.build_HH()
    with pytest.raises(ValueError, match=r"would end at t = 49.98 ms, not t1 = 50.0 ms"):
        jn.simulate(hh, 50.0, solver=jn.ExponentialEuler(dt=0.03))
    with pytest.raises(ValueError, match=r"save_every .* is longer than the simulation"):
        jn.simulate(hh, 5.0, save_every=10.0)
    with pytest.raises(ValueError, match=r"rtol \(relative tolerance\) must be < 1"):
        jn.simulate(hh, 5.0, rtol=10.0)


def test_a_quarantine_link_is_refused(tmp_path):
    path, elsewhere = tmp_path / "q", tmp_path / "elsewhere"
    elsewhere.mkdir()
    path.mkdir()
    os.symlink(elsewhere, path / "quarantine")
    store = SweepStore(path)
    with pytest.raises(ValueError, match=r"quarantine is a link to .*elsewhere.*must stay inside"):
        store.open({"n_chunks": 1, "chunk_size": 1, "n_models": 1})
    store.close()
    assert list(elsewhere.iterdir()) == []


def test_ctrl_c_during_a_fit_keeps_the_best_point(monkeypatch):
    from jaxneuron.fit import _fit

    calls = []
    block = _fit._block

    def interrupted_block(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return block(*args, **kwargs)

    monkeypatch.setattr(_fit, "_block", interrupted_block)
    start = jn.set_parameters(jn.build_HH(10.0), {"K.g": 30.0})
    loss = lambda model: (jn.get_parameter(model, "K.g") - 36.0) ** 2  # noqa: E731
    result = jf.fit(start, loss, ["K.g"], steps=50, block=5)
    assert result.stop_reason == "interrupted" and not result.converged
    assert result.steps == 10 and result.loss <= result.loss_history[0]
    assert result.values["K.g"] != 30.0


def test_a_dead_owner_does_not_hold_the_directory(tmp_path):
    """A SIGKILLed run leaves its owner lock file behind, unlocked: it is removed, and an
    overwrite (or a resume) goes ahead."""
    path = tmp_path / "dead"
    (path / "owners").mkdir(parents=True)
    stale = path / "owners" / "0123456789abcdef.somehost.4242.beef.lock"
    stale.write_text("")
    store = SweepStore(path)
    store.open({"n_chunks": 1, "chunk_size": 1, "n_models": 1}, overwrite=True)
    assert not stale.exists()
    store.close()


def test_a_part_from_before_content_checksums_is_read_with_a_warning(tmp_path, reference, caplog):
    import pyarrow.parquet as pq

    path = finished(tmp_path)
    part = path / "parts" / "part-000001.parquet"
    table = pq.read_table(part)
    tag = json.loads(table.schema.metadata[b"jaxneuron"])
    del tag["content"], tag["traces"]  # the tag that parts had before content digests
    meta = {**table.schema.metadata, b"jaxneuron": json.dumps(tag).encode()}
    pq.write_table(table.replace_schema_metadata(meta), part)
    with caplog.at_level("WARNING", logger="jaxneuron.sweep"):
        resumed = run(path)
    assert resumed.models_run == 0  # kept, not recomputed
    assert "part-000001.parquet (and any other part like it) was written before" in caplog.text
    assert caplog.text.count("read unverified") == 1  # once per dataset
    assert not (path / "quarantine").exists()
    assert_same(path, reference)
