"""Test configuration.

The suite runs in float64 (accuracy tests need it); float32 behaviour is tested by
casting models with `jaxneuron.as_dtype`. This flips a JAX flag for the test process
only — the library itself never does.
"""

import gc
import os
import sys
from pathlib import Path

import jax
import pytest

jax.config.update("jax_enable_x64", True)
os.environ.setdefault("MPLBACKEND", "Agg")
# One on-disk compilation cache for the test processes and the processes their tests start
# (CLI commands, notebook kernels, a resumed sweep): a program that takes XLA more than a
# second to compile is compiled once and loaded afterwards (the cache is keyed by the
# program, the compile options and the JAX version). The suite is mostly compilation.
os.environ.setdefault(
    "JAX_COMPILATION_CACHE_DIR", str(Path(__file__).parent.parent / ".pytest_cache" / "jax")
)
jax.config.update("jax_compilation_cache_dir", os.environ["JAX_COMPILATION_CACHE_DIR"])
sys.path.insert(0, os.path.dirname(__file__))


def _mappings() -> int:
    try:
        with open("/proc/self/maps") as f:
            return sum(1 for _ in f)
    except OSError:
        return -1


@pytest.fixture(autouse=True)
def _float64_after_each_test():
    """The suite's float64, back after every test: the CLI's commands, run in this
    process by the CLI tests, set the precision they promise (float32 unless ``--x64``)."""
    yield
    jax.config.update("jax_enable_x64", True)


@pytest.fixture(autouse=True, scope="module")
def _release_compiled_programs():
    """Drop JAX's compiled programs after each test module. Every XLA:CPU executable holds
    memory mappings; a whole-suite process otherwise accumulates thousands of them and
    reaches the kernel's per-process limit (vm.max_map_count, 65,530 by default), where
    LLVM aborts inside a later compilation."""
    yield
    before = _mappings()
    jax.clear_caches()
    gc.collect()
    if os.environ.get("JAXNEURON_TEST_MAPPINGS"):
        print(f"\n[memory mappings after the module: {before}; released: {_mappings()}]")


# The files that take the most CPU time (in a two-worker run, from `pytest --durations=0`
# on 2026-12-07: 325 s for the notebooks down to 40 s, of 1,900 s in all), run first.
# pytest-xdist's ``--dist loadfile`` hands the files to the two workers in collection order
# (``--no-loadscope-reorder`` in pyproject.toml keeps it from ordering them by number of
# tests, which put these few-test, long files last): the longest first leaves short files
# to fill the end, so both workers finish together.
LONGEST_FIRST = (
    "tests/test_notebooks.py",
    "tests/test_stg.py",
    "tests/test_fit.py",
    "tests/test_sweep.py",
    "tests/test_network.py",
    "tests/test_cli.py",
    "tests/test_recordings.py",
    "tests/test_faults.py",
    "tests/test_pyloric_database.py",
    "tests/test_hh_accuracy.py",
    "tests/test_populations.py",
    "tests/test_projections.py",
    "tests/test_analysis.py",
    "tests/test_integrate_and_fire.py",
    "tests/test_regulation.py",
    "tests/test_paths.py",
)


def pytest_collection_modifyitems(config, items):
    root = Path(config.rootpath)
    rank = {name: k for k, name in enumerate(LONGEST_FIRST)}

    def key(item):
        try:
            name = Path(item.path).relative_to(root).as_posix()
        except ValueError:
            name = str(item.path)
        return rank.get(name, len(rank))

    items.sort(key=key)  # stable: the rest keep their order, a file's tests stay together
