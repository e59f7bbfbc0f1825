"""What importing the package does to the process: nothing a user would have to undo."""

import os
import subprocess
import sys

SCRIPT = """
import jax
import jaxneuron
# JAX refuses this once a backend has started: importing jaxneuron must not start one,
# so that a user may still choose devices, platforms and threads after importing it
jax.config.update("jax_num_cpu_devices", 2)
print(jax.config.jax_enable_x64, len(jax.devices("cpu")))
"""


def test_importing_the_package_starts_no_backend_and_sets_no_flag():
    env = {k: v for k, v in os.environ.items() if k != "JAX_ENABLE_X64"}
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "2"]
