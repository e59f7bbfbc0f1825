"""Benchmark: the sweep engine on Prinz 2004 network-database circuits against single
Prinz neurons, in cell-steps per second (issue: the network database).

One process, one machine: the engine (`jaxneuron.sweep.Engine`: exponential Euler,
streaming features per cell, float32 by default) runs, each for ``--t1`` ms:

- ``--networks`` random database circuits (3 cells and 7 graded synapses each) without a
  rhythm, with the streaming fixed-gap rhythm (`StreamingRhythm` + `PyloricCriteria`),
  and with Prinz's routine (spike times buffered in the loop, `PrinzRhythm` on the host:
  the database sweep's default);
- the circuits' three cells in one model without synapses (the same networks' cells,
  their 24 conductances swept): what the structure costs apart from the synapses;
- the circuits with every synapse started at s = 0 (the four distinct s of the seven
  synapses held once, as by default) and at seven different s (all seven held): what
  sharing them saves;
- the circuits with Prinz's routine and a spike buffer of 32 instead of 512 per cell:
  what the buffer's size costs;
- 3 × ``--networks`` random Prinz 2003 neurons, the baseline.

Timed runs alternate, best of ``--repeats``. Prints the rates, their ratios, and the
projected time of the whole database (20,250,000 networks × ``--database-t1`` ms) at the
measured rate.

    python scripts/bench_pyloric.py [--networks 1024] [--t1 500] [--dtype float32]
"""

from __future__ import annotations

import argparse
import os
import platform

import jax

jax.config.update("jax_enable_x64", True)  # a script: float64 is available

import numpy as np  # noqa: E402
from _timing import best_wall_and_cpu  # noqa: E402

import jaxneuron as jn  # noqa: E402
from jaxneuron.analysis import (  # noqa: E402
    PrinzAdaptive,
    PyloricCriteria,
    StreamingFeatures,
    StreamingRhythm,
)
from jaxneuron.sweep import Engine, PyloricDatabase  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--networks", type=int, default=1024)
parser.add_argument("--t1", type=float, default=500.0)
parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
parser.add_argument("--repeats", type=int, default=3)
parser.add_argument("--database-t1", type=float, default=12_000.0)
args = parser.parse_args()
dtype = np.dtype(args.dtype)
DT = 0.025

space = PyloricDatabase(sample=args.networks, seed=0)
net_values = {k: np.asarray(v, dtype) for k, v in space.values(0, len(space)).items()}
features = StreamingFeatures(start=args.t1 / 2)
circuit = jn.as_dtype(jn.pyloric_circuit(), dtype)


def circuit_engine(rule=None, rhythm=True, max_spikes=512):
    """The engine over the database circuits: no rhythm, or the rhythm with ``rule``
    (and a spike buffer of ``max_spikes`` per cell with a rule)."""
    online = StreamingRhythm(features=features, criteria=PyloricCriteria(), rule=rule,
                             max_spikes=max_spikes)  # fmt: skip
    return Engine(circuit, space.names, args.t1, DT, features=features,
                  rhythm=online if rhythm else None)  # fmt: skip


network = circuit_engine(rhythm=False)
# the same three cells in one model without synapses: what the circuit's structure costs
# apart from its synapses (the cells of the same database networks, all 24 conductances
# swept as in the circuits)
cells = {c: circuit.neuron(c) for c in circuit.neuron_names}
cell_names = tuple(n for n in space.names if n.split(".")[0] in cells)
bare = Engine(jn.as_dtype(jn.build_network([], cells), dtype), cell_names, args.t1, DT,
              features=features)  # fmt: skip
bare_values = {n: net_values[n] for n in cell_names}
# every synapse from s = 0 (shared as by default) or from seven different s (held apart)
synapse_states = [n for n in circuit.state_names if n.endswith(".s")]
shared_engine, apart_engine = (
    Engine(circuit, space.names, args.t1, DT, features=features,
           initial=tuple((n, step * k) for k, n in enumerate(synapse_states)))
    for step in (0.0, 1e-3)
)  # fmt: skip
rhythmic = circuit_engine()
prinz = circuit_engine(PrinzAdaptive())
prinz_small = circuit_engine(PrinzAdaptive(), max_spikes=32)  # what the buffer's size costs
names = tuple(f"{c}.g" for c in jn.CHANNEL_ORDER)
numbers = np.random.default_rng(0).integers(1, jn.PRINZ_2003_SIZE + 1, size=3 * args.networks)
g = jn.prinz_2003_conductances(numbers)
cell_values = {n: np.asarray(g[:, i], dtype) for i, n in enumerate(names)}
single = Engine(
    jn.as_dtype(jn.build_Prinz(), dtype),
    names,
    args.t1,
    DT,
    features=StreamingFeatures(start=args.t1 / 2),
)
devices = jax.local_devices()
wall, cpu = best_wall_and_cpu(
    {
        "networks": lambda: network(net_values, devices=devices)["LP.class"],
        "rhythm": lambda: rhythmic(net_values, devices=devices)["pyloric"],
        "prinz": lambda: prinz(net_values, devices=devices)["pyloric"],
        "prinz32": lambda: prinz_small(net_values, devices=devices)["pyloric"],
        "neurons": lambda: single(cell_values, devices=devices)["class"],
        "bare": lambda: bare(bare_values, devices=devices)["LP.class"],
        "shared": lambda: shared_engine(net_values, devices=devices)["LP.class"],
        "apart": lambda: apart_engine(net_values, devices=devices)["LP.class"],
    },
    args.repeats,
)
steps = int(round(args.t1 / DT))
cell_steps = 3 * args.networks * steps
print(
    f"{platform.processor() or platform.machine()}, {jax.devices()[0].device_kind}, "
    f"JAX {jax.__version__}, {args.dtype}, dt {DT} ms, {args.t1:g} ms per model; "
    f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
)
for label, times in (("wall", wall), ("CPU", cpu)):
    rate_net = cell_steps / times["networks"]
    rate_cell = cell_steps / times["neurons"]
    rate_rhythm = cell_steps / times["rhythm"]
    print(f"-- {label} time (best of {args.repeats}, interleaved)")
    print(
        f"{args.networks} database networks: {times['networks']:.2f} s, "
        f"{rate_net:.3g} cell-steps/s (each cell-step carries its share of the 7 synapses)"
    )
    print(
        f"{3 * args.networks} Prinz 2003 neurons: {times['neurons']:.2f} s, "
        f"{rate_cell:.3g} cell-steps/s"
    )
    print(
        f"{args.networks} networks with the online rhythm and criteria: "
        f"{times['rhythm']:.2f} s, {rate_rhythm:.3g} cell-steps/s ({rate_rhythm / rate_net:.2f}× "
        "without)"
    )
    rate_prinz = cell_steps / times["prinz"]
    print(
        f"{args.networks} networks with Prinz's routine (spike buffers in the loop, "
        f"classified on the host): {times['prinz']:.2f} s, {rate_prinz:.3g} cell-steps/s "
        f"({rate_prinz / rate_net:.2f}× without a rhythm)"
    )
    print(
        f"  … with a spike buffer of 32 instead of 512 per cell: {times['prinz32']:.2f} s "
        f"({times['prinz'] / times['prinz32']:.2f}× the speed with 512)"
    )
    rate_bare = cell_steps / times["bare"]
    print(
        f"{args.networks} × the 3 cells in one model without synapses: {times['bare']:.2f} s, "
        f"{rate_bare:.3g} cell-steps/s ({rate_bare / rate_cell:.2f}× single neurons)"
    )
    print(
        f"{args.networks} networks from s = 0: {times['shared']:.2f} s (4 synapse states "
        f"held); from 7 different s: {times['apart']:.2f} s (7 held): sharing "
        f"{times['apart'] / times['shared']:.3f}× faster"
    )
    print(
        f"networks / single neurons: {rate_net / rate_cell:.2f}× (with the rhythm "
        f"{rate_rhythm / rate_cell:.2f}×, with Prinz's routine {rate_prinz / rate_cell:.2f}×)"
    )
    total = jn.PYLORIC_2004_SIZE * 3 * args.database_t1 / DT
    print(
        f"the whole database ({jn.PYLORIC_2004_SIZE:,} networks × {args.database_t1:g} ms) at "
        f"the rhythm's rate: {total / rate_rhythm / 3600:.1f} h of this machine"
    )
