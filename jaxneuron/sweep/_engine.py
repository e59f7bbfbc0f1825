r"""The population engine: one model structure over many parameter sets, reduced online.

One compiled call runs ``n`` copies of a model that differ in the named parameters
through the fixed-step driver (`jaxneuron.integrate.fixed_step_loop`), with

- the state batch-minor: each state variable of all models in one array of shape (n,);
- only the swept parameters batched (`jaxneuron.parameters.population`): the rest are
  shared scalars;
- the streaming features of every observed voltage updated after every step
  (`jaxneuron.integrate.VoltageFeatures`), and the activity class from them at the end;
- traces kept only for a requested subset of models.

The models are sharded across the given devices along the batch axis (the computation is
elementwise across models, so no communication is needed). The step, the compensation and
the observer are those of `simulate` with `ExponentialEuler`: a model gives the same
numbers here and there.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from .._precision import model_dtype
from .._protocols import AbstractFixedStepModel, AbstractSpikingModel, as_state_tuple
from ..analysis import ACTIVITY_CLASSES, StreamingFeatures, StreamingRhythm
from ..integrate import (
    AbstractObserver,
    VoltageFeatures,
    fixed_step_loop,
    initial_carry,
    model_step,
    needs_compensation,
    steps_before,
    steps_in,
    unroll_for,
)
from ..parameters import match, population
from ._cell_stack import (
    StackedVoltageFeatures,
    shared_synapse_states,
    split_for,
    stack_population,
    stackable,
)

#: The feature columns a sweep reports per observed voltage (`StreamingFeatures.names`).
FEATURE_NAMES = StreamingFeatures.names()


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
    time from t = 0), ``dt`` (ms, the fixed step), ``features`` (a `StreamingFeatures`:
    threshold, analysis start and burst gap), ``regularity`` (the coefficient of variation
    below which intervals count as regular, for the class), ``record_every`` (ms between
    stored samples of the recorded traces), ``block`` (steps per scan iteration when
    nothing is recorded), ``compensated`` (Kahan summation of the increments of the
    states the model's ``compensated_states`` names; None: in
    float32 and lower, as `jaxneuron.ExponentialEuler`), ``rhythm`` (a circuit's
    `StreamingRhythm` over some of its cells, measured in the same loop; its ``features``
    must be the engine's; with a ``rule`` its spike buffers are classified on the host
    when the compiled call returns, so the outputs hold its final columns), ``initial``
    (state name → value, in the state's unit: these states start at the value in every
    model instead of at the model's ``initial_state()``; see `initial_values`),
    ``unroll`` (steps unrolled per loop iteration: the same scheme, equal to rounding; None:
    `unroll_for` the model's size; `sweep` passes 1 for a sweep too short to repay the
    compile time that unrolling multiplies, see `unroll_for_work`).

    The features and the rhythm count nothing before the analysis start
    (``features.start``), so the loop runs the steps before it without them
    (`quiet_steps`); the outputs are those of observing every step.

    In float32, compensated summation keeps slow gates (τ ≈ 1 s) moving whose increments
    fall below float32's resolution; it cannot make float32 agree with float64 on models
    whose fate is decided by perturbations at the rounding level (see
    ``scripts/validate_engine.py --noise``).
    """

    model: AbstractFixedStepModel
    names: tuple[str, ...] = eqx.field(static=True)
    t1: float = eqx.field(static=True)
    dt: float = eqx.field(static=True, default=0.025)
    features: StreamingFeatures = eqx.field(static=True, default=StreamingFeatures())
    regularity: float = eqx.field(static=True, default=0.1)
    record_every: float = eqx.field(static=True, default=1.0)
    block: int = eqx.field(static=True, default=400)
    compensated: bool | None = eqx.field(static=True, default=None)
    rhythm: StreamingRhythm | None = eqx.field(static=True, default=None)
    initial: tuple[tuple[str, float], ...] = eqx.field(static=True, default=())
    unroll: int | None = eqx.field(static=True, default=None)

    def __check_init__(self):
        if self.unroll is not None and not int(self.unroll) >= 1:
            raise ValueError(f"unroll (steps per loop iteration) must be >= 1, got {self.unroll}")
        if not (self.dt > 0 and math.isfinite(self.dt)):
            raise ValueError(f"dt (fixed step) must be > 0 ms, got {self.dt}")
        if not self.t1 > 0:
            raise ValueError(f"t1 (simulated time) must be > 0 ms, got {self.t1}")
        if not isinstance(self.model, AbstractFixedStepModel) or isinstance(
            self.model, AbstractSpikingModel
        ):
            raise TypeError(
                f"the population engine runs conductance-based neurons and circuits, not "
                f"{type(self.model).__name__} (a PopulationNetwork sweeps with "
                "jaxneuron.sweep.sweep_populations)"
            )
        if self.rhythm is not None:
            _rhythm_cells(self)
        names = tuple(self.model.state_names)
        for name, value in self.initial:
            if name not in names:
                raise ValueError(f"initial: {name!r} is not a state of {self.model.name}")
            if not math.isfinite(value):
                raise ValueError(f"initial: {name} must be finite, got {value}")

    @property
    def output_names(self) -> tuple[str, ...]:
        """The keys of the outputs other than ``traces``, in order."""
        prefixes, _ = observed_voltages(self.model)
        names = [p + k for p in prefixes for k in (*FEATURE_NAMES, "class")]
        if self.rhythm is not None:
            names += self.rhythm.names()
        return (*names, "finite")

    @property
    def n_steps(self) -> int:
        return steps_in(self.t1, self.dt, "t1 (simulated time)")

    @property
    def record_stride(self) -> int:
        return steps_in(self.record_every, self.dt, "record_every (trace sampling interval)")

    def dtype(self):
        return model_dtype(self.model)

    def __call__(
        self,
        values: Mapping[str, jax.Array],
        record: Sequence[int] = (),
        *,
        devices=None,
        pad_to: int | None = None,
    ) -> dict[str, jax.Array]:
        """Run the population whose swept parameters are ``values`` (name → array (n,)).

        Returns arrays of shape (n,) — every feature of `FEATURE_NAMES` per observed
        voltage (keys prefixed by the cell name in circuits), ``class`` (an index into
        `jaxneuron.analysis.ACTIVITY_CLASSES`; −1 where the integration failed),
        ``finite`` (False where it produced NaN or inf) — and, with ``record`` (indices
        into the population), ``traces`` of shape (n_samples, len(record), n_states)
        sampled every ``record_every`` ms from t = 0.

        ``devices``: split the population evenly across these devices (default: the
        default device). ``pad_to``: pad the population with copies of its last model to
        this size, so that populations of different sizes share one compiled program.
        """
        return _run_on(self, values, tuple(int(i) for i in record), devices, pad_to)


def initial_values(model, values: Mapping[str, float] | None) -> tuple[tuple[str, float], ...]:
    """``values`` (state name or shell-style pattern → value) as `Engine.initial`: every
    state of ``model`` whose name matches, in state order. A name or pattern that matches
    no state is an error; where several match a state, the last given wins.

    >>> import jaxneuron as jn
    >>> initial_values(jn.pyloric_circuit(), {"*.s": 0.0, "LP.V": -60.0})[:2]
    (('LP.V', -60.0), ('AB->LP.s', 0.0))
    """
    if not values:
        return ()
    names = tuple(model.state_names)
    chosen = {}
    for key, value in values.items():
        matched = match(key, names)
        if not matched:
            raise ValueError(
                f"initial state: {key!r} matches no state of {model.name}; states: {names}"
            )
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"initial state: {key} must be finite, got {value}")
        chosen.update(dict.fromkeys(matched, value))
    return tuple((n, chosen[n]) for n in names if n in chosen)


def initial_states(engine: Engine, models, axes) -> tuple:
    """The state tuple of (n,) arrays the population starts from: each model's
    ``initial_state()``, with the states of ``engine.initial`` set to their values."""
    y0 = list(as_state_tuple(jax.vmap(lambda m: m.initial_state(), in_axes=(axes,))(models)))
    names = tuple(engine.model.state_names)
    for name, value in engine.initial:
        i = names.index(name)
        y0[i] = jnp.full_like(y0[i], value)
    return tuple(y0)


def _rhythm_cells(engine: Engine) -> tuple[int, ...]:
    """Positions among the observed voltages of the rhythm's cells, checked."""
    rhythm = engine.rhythm
    prefixes, _ = observed_voltages(engine.model)
    cells = [p[:-1] for p in prefixes]
    missing = [c for c in rhythm.order if c not in cells]
    if missing:
        raise ValueError(f"rhythm cells {missing} are not cells of the model (cells: {cells})")
    if rhythm.features != engine.features:
        raise ValueError(
            f"the rhythm's features ({rhythm.features}) must be the engine's ({engine.features})"
        )
    if rhythm.buffered:  # spike times buffered, bursts cut after the run: any gap works
        return tuple(cells.index(c) for c in rhythm.order)
    # ms per observer update, at most
    span = (engine.unroll or unroll_for(len(engine.model.state_names))) * engine.dt
    if not rhythm.features.burst_gap > span:
        raise ValueError(
            f"burst_gap ({rhythm.features.burst_gap} ms) must exceed the {span} ms between "
            f"the rhythm's updates (one burst edge per update)"
        )
    return tuple(cells.index(c) for c in rhythm.order)


class VoltageRhythm(AbstractObserver):
    """`VoltageFeatures` (or `StackedVoltageFeatures`) of every observed voltage plus the
    `StreamingRhythm` of the cells at positions ``cells`` among them: state
    ``(feature_states, rhythm_state, last)``.

    With ``per_block``, the rhythm is updated at the end of each block of steps
    (`AbstractObserver.end_block`) from the cells' feature states at its last update
    (``last``) to the current ones, instead of after every group: the rhythm reads only
    burst edges, with their times, from the feature states, and a cell starts at most
    one burst within any ``burst_gap``, so it sees the same edges at the same times as
    long as a block spans less than ``burst_gap`` (`rhythm_per_block` asks for at most
    half); where a burst's end and a new cycle fall into one update, the offset is summed
    in the open cycle instead of the closed one, which can change its phase by rounding.
    Otherwise ``last`` is None."""

    voltages: VoltageFeatures | StackedVoltageFeatures
    rhythm: StreamingRhythm = eqx.field(static=True)
    cells: tuple[int, ...] = eqx.field(static=True)
    per_block: bool = eqx.field(static=True, default=False)

    def init(self, t0, carry):
        features = self.voltages.init(t0, carry)
        like = jnp.full(jnp.shape(self.voltages.per_voltage(features)[0].V_prev), t0)
        last = self.voltages.select(features, self.cells) if self.per_block else None
        return features, self.rhythm.init(like), last

    def update(self, state, ts, carries, events):
        before, rhythm, last = state
        after = self.voltages.update(before, ts, carries, events)
        if self.per_block:
            return after, rhythm, last
        pick = self.voltages.select
        return (
            after,
            self.rhythm.update(rhythm, pick(before, self.cells), pick(after, self.cells)),
            None,
        )

    def end_block(self, state):
        features, rhythm, last = state
        features = self.voltages.end_block(features)
        if not self.per_block:
            return features, rhythm, last
        now = self.voltages.select(features, self.cells)
        return features, self.rhythm.update(rhythm, last, now), now

    def per_voltage(self, state):
        """The final state as `summarize` reads it: (one `FeatureState` per observed
        potential, the rhythm's state)."""
        features, rhythm, _ = state
        return self.voltages.per_voltage(features), rhythm


def rhythm_per_block(engine: Engine, stride: int) -> bool:
    """Whether the engine's streaming (fixed-gap) rhythm is updated once per block of
    ``stride`` steps (see `VoltageRhythm`): where a block spans at most half the rhythm's
    ``burst_gap`` (never with a burst rule, whose spike buffers take every spike)."""
    rhythm = engine.rhythm
    return not rhythm.buffered and stride * engine.dt <= rhythm.features.burst_gap / 2


# Model-steps of a whole job below which unrolling does not pay: it multiplies XLA's
# compile time (16 steps of a 4-state neuron with features: several-fold) and saves
# 10–30 ns per model-step, so it pays back only over ~10⁸ model-steps
# (scripts/bench_engine_unroll.py); below 2²⁴ a job is a test, a notebook cell or a short
# exploratory sweep, whose time is mostly compilation.
UNROLL_MIN_WORK = 2**24


def unroll_for_work(work: int) -> int | None:
    """`Engine.unroll` for a job of ``work`` model-steps in all (every call of the engine
    together): 1 below `UNROLL_MIN_WORK`, else None (the engine's choice by model size)."""
    return None if work >= UNROLL_MIN_WORK else 1


def population_loop(
    engine: Engine,
    models,
    axes,
    y0,
    *,
    shard=None,
    record=(),
    stack=True,
    shared=None,
):
    """The engine's time loop for a population (``models``, ``axes`` from
    `jaxneuron.parameters.population`; ``y0`` the state tuple of (n,) arrays): returns
    ``(y, observed, traces)`` (``observed``: the observer's final state, for
    `summarize`). A circuit whose cells share their structure runs with its cells
    stacked (`CellStack`; ``stack=False`` runs them one by one); ``y`` and ``traces`` are
    in the model's own state order either way; stacked, its synapses hold one state per
    set that ``shared`` (`shared_synapse_states`) says start and evolve equal. Shared by
    the XLA engine and the Pallas kernel (which cannot unroll: it passes an engine with
    ``unroll=1``)."""
    dtype = engine.dtype()
    dt = jnp.asarray(engine.dt, dtype)
    compensated = needs_compensation(dtype, engine.compensated)
    _, v_index = observed_voltages(engine.model)
    if stack and stackable(engine.model):
        n = jnp.shape(y0[0])[0]
        split = split_for(n, sharded=shard is not None)
        cells = stack_population(engine.model, models, axes, n, shared, split)

        def step(t, carry):
            return cells.fixed_step(t, carry[0], dt, carry[1]), None

        pack, unpack, pack_flags = cells.pack, cells.unpack, cells.pack_flags
        observer = StackedVoltageFeatures(engine.features, cells.n_cells)
    else:
        step = model_step(models, dt, axes=axes)
        pack = unpack = pack_flags = tuple
        observer = VoltageFeatures(engine.features, v_index)
    which = compensated and engine.model.compensated_states(engine.dt)
    carry = initial_carry(pack(y0), which if which is False else pack_flags(which))
    if shard is not None:
        carry = jax.tree_util.tree_map(shard, carry)
    save, stride = None, engine.block
    if record:
        record_idx = jnp.asarray(record, jnp.int32)
        stride = engine.record_stride

        def save(carry):
            return jnp.stack([x[record_idx] for x in unpack(carry[0])], axis=-1)

    unroll = unroll_for(len(carry[0])) if engine.unroll is None else engine.unroll
    if engine.rhythm is not None:
        observer = VoltageRhythm(
            observer, engine.rhythm, _rhythm_cells(engine), rhythm_per_block(engine, stride)
        )
    carry, observed, traces = fixed_step_loop(
        step,
        carry,
        t0=jnp.zeros((), dtype),
        dt=dt,
        n_steps=engine.n_steps,
        observer=observer,
        save=save,
        save_stride=stride,
        unroll=unroll,
        observe_from=quiet_steps(engine),
    )
    return unpack(carry[0]), observer.per_voltage(observed), traces


def quiet_steps(engine: Engine) -> int:
    """The steps that end at least one step before the analysis start: no sample of
    them changes the features or the rhythm (spikes and bursts count from the start),
    so the loop runs them without its observer (`fixed_step_loop`'s ``observe_from``)."""
    return steps_before(engine.features.start, 0.0, engine.dt)


def summarize(engine: Engine, y, observed) -> dict[str, jax.Array]:
    """The engine's outputs from the final state and the observer's: every feature per
    observed voltage, the class (−1 where the integration failed), the rhythm's values
    (with a rhythm) and ``finite``."""
    prefixes, _ = observed_voltages(engine.model)
    feature_states, rhythm_state = observed, None
    if engine.rhythm is not None:
        feature_states, rhythm_state = observed
    finite = jnp.ones(jnp.shape(y[0]), bool)
    for x in y:
        finite = finite & jnp.isfinite(x)
    out = {}
    for prefix, state in zip(prefixes, feature_states, strict=True):
        summary = engine.features.summary(state)
        for key in FEATURE_NAMES:
            out[prefix + key] = summary[key]
        out[prefix + "class"] = jnp.where(
            finite, engine.features.classify(state, engine.regularity), -1
        )
    if rhythm_state is not None:
        cells = tuple(feature_states[i] for i in _rhythm_cells(engine))
        for key, value in engine.rhythm.summary(rhythm_state, cells).items():
            # no rhythm from a failed integration: NaN, False, −1
            blank = jnp.nan if jnp.issubdtype(value.dtype, jnp.floating) else -1
            mask = finite.reshape(finite.shape + (1,) * (value.ndim - finite.ndim))
            out[key] = jnp.where(mask, value, False if value.dtype == bool else blank)
    out["finite"] = finite
    return out


def _shard_fn(mesh):
    """Shard an array of the carry along its last axis, the models' (a stacked circuit's
    (cells, models) arrays included)."""
    if mesh is None:
        return None

    def shard(x):
        spec = PartitionSpec(*([None] * (jnp.ndim(x) - 1)), "models")
        return jax.lax.with_sharding_constraint(x, NamedSharding(mesh, spec))

    return shard


@eqx.filter_jit
def _run(engine: Engine, values, record, mesh=None, shared=None):
    dtype = engine.dtype()
    models, axes = population(engine.model, {k: jnp.asarray(v, dtype) for k, v in values.items()})
    y0 = initial_states(engine, models, axes)
    y, feature_states, traces = population_loop(
        engine, models, axes, y0, shard=_shard_fn(mesh), record=record, shared=shared
    )
    out = summarize(engine, y, feature_states)
    if record:
        first = jnp.stack([x[jnp.asarray(record)] for x in y0], axis=-1)
        out["traces"] = jnp.concatenate([first[None], traces], axis=0)
    return out


def _run_on(engine: Engine, values, record, devices, size):
    """`Engine.__call__`: pad the population to ``size`` and to a multiple of the device
    count, shard it, run, and drop the padding."""
    devices = list(jax.devices()[:1] if devices is None else devices)
    values = {k: np.asarray(v) for k, v in values.items()}
    n = len(next(iter(values.values())))
    padded = max(n, size or 0)
    padded += (-padded) % len(devices)
    if padded > n:
        values = {k: np.concatenate([v, np.repeat(v[-1:], padded - n)]) for k, v in values.items()}
    # found on the concrete model, out of the compiled call (static there)
    shared = None
    if stackable(engine.model):
        shared = shared_synapse_states(engine.model, engine.names, engine.initial)
    if len(devices) == 1:
        with jax.default_device(devices[0]):
            out = _run(engine, values, tuple(record), shared=shared)
    else:
        mesh = Mesh(np.asarray(devices), ("models",))
        sharding = NamedSharding(mesh, PartitionSpec("models"))
        values = {k: jax.device_put(v.astype(engine.dtype()), sharding) for k, v in values.items()}
        out = _run(engine, values, tuple(record), mesh, shared)
    out = {k: (v if k == "traces" else v[:n]) for k, v in out.items()}
    # a rhythm from buffered spike times is classified here, on the host
    return out if engine.rhythm is None else engine.rhythm.finish(out)


def class_names(codes) -> np.ndarray:
    """Class indices → names (``"failed"`` for −1, a model whose integration blew up)."""
    table = np.asarray(("failed",) + ACTIVITY_CLASSES, dtype=object)
    return table[np.asarray(codes) + 1]
