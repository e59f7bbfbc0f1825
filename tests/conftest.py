"""Test configuration.

The suite runs in float64 (accuracy tests need it); float32 behaviour is tested by
casting models with `jaxneuron.as_dtype`. This flips a JAX flag for the test process
only — the library itself never does.
"""

import os
import sys

import jax

jax.config.update("jax_enable_x64", True)
os.environ.setdefault("MPLBACKEND", "Agg")
sys.path.insert(0, os.path.dirname(__file__))
