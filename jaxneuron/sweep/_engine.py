r"""The population engine: fixed-step exponential Euler over many parameter sets at once.

One compiled call integrates ``n`` copies of a model that differ in the named parameters,
with the state stored batch-minor — an array of shape (n_states, n), so each state
variable of all models is contiguous (structure of arrays) — and the streaming features
of every observed voltage updated in the loop carry after every step. Nothing of size
n × n_steps is ever stored: traces are kept only for a requested subset of models.

The time loop is a `lax.scan` over blocks of ``block`` steps, each an unrolled
`lax.fori_loop`; the models are sharded across the given devices along the batch axis
(the computation is elementwise across models, so no communication is needed).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from ..analysis import ACTIVITY_CLASSES, StreamingFeatures
from ..integrate._exponential import UNROLL
from ..neurons import as_dtype
from ..parameters import set_parameters

FEATURE_NAMES = (
    "n_spikes",
    "first_spike",
    "isi_mean",
    "isi_cv",
    "V_min",
    "V_max",
    "V_mean",
    "burst_period",
    "burst_duration",
    "duty_cycle",
    "spikes_per_burst",
    "n_bursts",
)


def observed_voltages(model) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """Prefixes (``""`` for a neuron, ``"AB."`` … for a circuit) and state indices of
    the membrane potentials whose features a sweep records."""
    names = tuple(model.state_names)
    if "V" in names:
        return ("",), (names.index("V"),)
    found = [(n[: -len("V")], i) for i, n in enumerate(names) if n.endswith(".V")]
    if not found:
        raise ValueError(f"{type(model).__name__} has no state named 'V' or '<cell>.V'")
    prefixes, indices = zip(*found, strict=True)
    return tuple(prefixes), tuple(indices)


class Engine(eqx.Module):
    """Simulate a population of one model structure and reduce it to features online.

    **Fields:** ``model`` (the base model: every parameter not swept keeps its value),
    ``names`` (the swept parameters, see `jaxneuron.parameters`), ``t1`` (ms, simulated
    time from t = 0), ``dt`` (ms, the exponential-Euler step), ``features`` (a
    `StreamingFeatures`: threshold, analysis start and burst gap), ``regularity`` (the
    coefficient of variation below which intervals count as regular, for the class),
    ``record_every`` (ms between stored samples of the recorded traces), ``block`` (steps
    per scan iteration), ``compensated`` (add each step's increment with Kahan summation;
    default: in float32 only).

    **Compensated summation.** In float32, adding a small increment to a state rounds
    away its low-order bits, so a slow gate (τ ≈ 1 s, increments near 10⁻⁸) drifts or
    stalls. The engine therefore asks the model for the increment
    (``exponential_euler_increment``) and carries the rounded-away part to the next step.
    This makes the float32 trace of AB/PD-like models about 6× closer to the float64
    one, for about 7% more time on CPU. It cannot make float32 agree with float64 on
    models whose fate is decided by perturbations at the rounding level (see
    ``scripts/validate_engine.py --noise``).
    """

    model: eqx.Module
    names: tuple[str, ...] = eqx.field(static=True)
    t1: float = eqx.field(static=True)
    dt: float = eqx.field(static=True, default=0.025)
    features: StreamingFeatures = eqx.field(static=True, default=StreamingFeatures())
    regularity: float = eqx.field(static=True, default=0.1)
    record_every: float = eqx.field(static=True, default=1.0)
    block: int = eqx.field(static=True, default=400)
    compensated: bool | None = eqx.field(static=True, default=None)

    def __check_init__(self):
        if not (self.dt > 0 and math.isfinite(self.dt)):
            raise ValueError(f"dt (exponential-Euler step) must be > 0 ms, got {self.dt}")
        if not self.t1 > 0:
            raise ValueError(f"t1 (simulated time) must be > 0 ms, got {self.t1}")
        if not hasattr(self.model, "exponential_euler_increment"):
            raise TypeError(
                f"{type(self.model).__name__} has no exponential_euler_increment: the population "
                "engine runs conductance-based neurons and circuits"
            )

    @property
    def n_steps(self) -> int:
        return int(round(self.t1 / self.dt))

    @property
    def record_stride(self) -> int:
        k = round(self.record_every / self.dt)
        if k < 1 or abs(k * self.dt - self.record_every) > 1e-9 * self.record_every:
            raise ValueError(
                f"record_every ({self.record_every} ms) must be a whole number of steps of "
                f"dt = {self.dt} ms"
            )
        return k

    def dtype(self):
        leaves = [x for x in jax.tree_util.tree_leaves(self.model) if eqx.is_inexact_array(x)]
        return jnp.result_type(*leaves)

    def __call__(
        self, values: Mapping[str, jax.Array], record: Sequence[int] = ()
    ) -> dict[str, jax.Array]:
        """Run the population whose swept parameters are ``values`` (name → array (n,)).

        Returns arrays of shape (n,) — every feature of `StreamingFeatures.summary` per
        observed voltage (keys prefixed by the cell name in circuits), ``class`` (an index
        into `ACTIVITY_CLASSES`), ``finite`` (False where the integration produced NaN or
        inf) — and, with ``record`` (indices into the population), ``traces`` of shape
        (n_samples, len(record), n_states) sampled every ``record_every`` ms.
        """
        return _run(self, dict(values), tuple(int(i) for i in record))


def compensated_add(y, d, c):
    """Kahan summation: ``y + d`` with ``c`` the low-order bits that earlier additions
    rounded away; returns the new sum and the new ``c``."""
    a = d + c
    s = y + a
    return s, a - (s - y)


def _population(engine: Engine, values):
    dtype = engine.dtype()
    values = {k: jnp.asarray(v, dtype) for k, v in values.items()}
    return jax.vmap(lambda v: set_parameters(engine.model, v))(values)


def _shard(x, mesh):
    if mesh is None:
        return x
    spec = PartitionSpec(*([None] * (x.ndim - 1) + ["models"]))
    return jax.lax.with_sharding_constraint(x, NamedSharding(mesh, spec))


@eqx.filter_jit
def _run(engine: Engine, values, record, mesh=None):
    models = _population(engine, values)
    dtype = engine.dtype()
    dt = jnp.asarray(engine.dt, dtype)
    prefixes, v_index = observed_voltages(engine.model)
    v_index = jnp.asarray(v_index)
    features = engine.features

    # batch-minor: y[s, i] is state s of model i
    y0 = jax.vmap(lambda m: m.initial_state(), out_axes=1)(models)
    y = _shard(y0, mesh)
    increment = jax.vmap(
        lambda m, y, t: m.exponential_euler_increment(t, y, dt), in_axes=(0, 1, None), out_axes=1
    )
    compensated = engine.compensated
    if compensated is None:
        compensated = jnp.finfo(dtype).bits < 64

    def step(y, c, t):
        d = increment(models, y, t)
        return compensated_add(y, d, c) if compensated else (y + d, c)

    # feature states: leaves of shape (n_cells, n)
    update = jax.vmap(jax.vmap(features.update, in_axes=(0, None, 0)), in_axes=(0, None, 0))
    fs = jax.vmap(jax.vmap(features.init, in_axes=(None, 0)), in_axes=(None, 0))(
        jnp.zeros((), dtype), y[v_index]
    )

    n_steps = engine.n_steps
    stride = engine.record_stride if record else engine.block
    n_blocks, rest = divmod(n_steps, stride)
    record_idx = jnp.asarray(record, jnp.int32)

    def advance(carry, k):
        def one(i, carry):
            y, c, fs, n = carry
            t = n.astype(dtype) * dt
            y, c = step(y, c, t)
            fs = update(fs, t + dt, y[v_index])
            return y, c, fs, n + 1

        return jax.lax.fori_loop(0, k, one, carry, unroll=min(k, UNROLL))

    def block(carry, _):
        carry = advance(carry, stride)
        out = carry[0][:, record_idx].T if record else None
        return carry, out

    carry = (y, jnp.zeros_like(y), fs, jnp.asarray(0, jnp.int32))
    carry, traces = jax.lax.scan(block, carry, None, length=n_blocks)
    if rest:
        carry = advance(carry, rest)
    y, _, fs, _ = carry

    summarize = jax.vmap(jax.vmap(features.summary))
    summary = summarize(fs)
    classes = jax.vmap(jax.vmap(lambda s: features.classify(s, engine.regularity)))(fs)
    finite = jnp.all(jnp.isfinite(y), axis=0)
    out = {}
    for c, prefix in enumerate(prefixes):
        for key in FEATURE_NAMES:
            out[prefix + key] = summary[key][c]
        out[prefix + "class"] = jnp.where(finite, classes[c], -1)
    out["finite"] = finite
    if record:
        out["traces"] = jnp.concatenate([y0[:, record_idx].T[None], traces], axis=0)
    return out


def run_sharded(
    engine: Engine,
    values: Mapping[str, np.ndarray],
    devices=None,
    record=(),
    size: int | None = None,
):
    """`Engine.__call__` with the population split evenly across ``devices`` (default:
    all local devices). The population is padded with copies of its last model to
    ``size`` (so that a short last chunk reuses the compiled program) and to a multiple of
    the device count; the padding is dropped from the result."""
    devices = list(jax.local_devices() if devices is None else devices)
    values = {k: np.asarray(v) for k, v in values.items()}
    n = len(next(iter(values.values())))
    padded = max(n, size or 0)
    padded += (-padded) % len(devices)
    if padded > n:
        values = {k: np.concatenate([v, np.repeat(v[-1:], padded - n)]) for k, v in values.items()}
    if len(devices) == 1:
        with jax.default_device(devices[0]):
            out = _run(engine, values, tuple(record))
        return {k: (v if k == "traces" else v[:n]) for k, v in out.items()}
    mesh = Mesh(np.asarray(devices), ("models",))
    sharding = NamedSharding(mesh, PartitionSpec("models"))
    values = {k: jax.device_put(v.astype(engine.dtype()), sharding) for k, v in values.items()}
    out = _run(engine, values, tuple(record), mesh)
    return {k: (v if k == "traces" else v[:n]) for k, v in out.items()}


def class_names(codes) -> np.ndarray:
    """Class indices → names (``"failed"`` for −1, a model whose integration blew up)."""
    table = np.asarray(("failed",) + ACTIVITY_CLASSES, dtype=object)
    return table[np.asarray(codes) + 1]


def engine_for(model, names, t1, dt, dtype, **kwargs) -> Engine:
    """An `Engine` for ``model`` cast to ``dtype`` (float32 by default in sweeps)."""
    return Engine(as_dtype(model, dtype), tuple(names), float(t1), float(dt), **kwargs)
