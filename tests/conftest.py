"""Test configuration.

The suite runs in float64 (accuracy tests need it); float32 behaviour is tested by
casting models with `jaxneuron.as_dtype`. This flips a JAX flag for the test process
only — the library itself never does.
"""

import gc
import os
import sys

import jax
import pytest

jax.config.update("jax_enable_x64", True)
os.environ.setdefault("MPLBACKEND", "Agg")
sys.path.insert(0, os.path.dirname(__file__))


def _mappings() -> int:
    try:
        with open("/proc/self/maps") as f:
            return sum(1 for _ in f)
    except OSError:
        return -1


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
