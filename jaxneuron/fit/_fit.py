r"""`fit`: gradient-based fitting of named model parameters with optax."""

from __future__ import annotations

import abc
import dataclasses
import time
import warnings
from collections.abc import Callable, Mapping, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from tqdm.auto import tqdm

from ..parameters import get_parameter, is_pattern, match, parameter_names, set_parameters
from ._gradients import choose_mode, value_and_gradient
from ._losses import as_loss, forward_mode_adjoint
from ._optimizers import with_extra_args
from ._transforms import Transform, default_transform, unit_of


class AbstractVariables(eqx.Module):
    """What `fit` optimises: an unconstrained vector u of length ``size`` holding the free
    parameters (``names``, each under its transform) and, for some losses, more (the
    segment states of `MultipleShooting`)."""

    names: eqx.AbstractVar[tuple[str, ...]]
    transforms: eqx.AbstractVar[tuple[Transform, ...]]

    @property
    @abc.abstractmethod
    def size(self) -> int:
        """The length of u."""

    @abc.abstractmethod
    def values(self, u) -> dict:
        """The free parameters' values by name, from u of shape (..., size)."""

    @abc.abstractmethod
    def apply(self, model, u):
        """What the loss is evaluated on, for the unconstrained vector ``u``."""

    @abc.abstractmethod
    def fitted(self, model, u):
        """The model with the free parameters from ``u`` (what `FitResult.model` holds)."""

    @abc.abstractmethod
    def unconstrained(self, values):
        """u of shape (..., size) from parameter values of shape (..., P)."""

    @abc.abstractmethod
    def initial_values(self, model) -> np.ndarray:
        """(P,) the values of ``names`` that a fit of ``model`` starts from."""


class FreeParameters(AbstractVariables):
    """Which parameters are free and how they are transformed: θᵢ = transformᵢ(uᵢ)."""

    names: tuple[str, ...] = eqx.field(static=True)
    transforms: tuple[Transform, ...]

    @property
    def size(self) -> int:
        return len(self.names)

    def fitted(self, model, u):
        return self.apply(model, u)

    def initial_values(self, model):
        return np.asarray([float(get_parameter(model, n)) for n in self.names])

    def values(self, u) -> dict:
        return {
            n: t.forward(u[..., i])
            for i, (n, t) in enumerate(zip(self.names, self.transforms, strict=True))
        }

    def apply(self, model, u):
        """``model`` with the free parameters set from the unconstrained vector ``u``."""
        return set_parameters(model, self.values(u))

    def unconstrained(self, values):
        """u from parameter values of shape (..., P)."""
        values = jnp.asarray(values)
        return jnp.stack(
            [t.inverse(values[..., i]) for i, t in enumerate(self.transforms)], axis=-1
        )


def select_parameters(model, params) -> FreeParameters:
    """Free parameters from ``params``:

    - a name or glob pattern (``"Na.g"``, ``"*.g"``, ``"AB/PD.*.g"``), or a sequence of them;
    - a mapping name → `Transform` (None for the default transform);
    - a filter: a callable ``name → bool`` over `parameter_names(model)`.

    Unknown names raise `KeyError` (with the known names); the default transform is
    `default_transform` (`Log` for conductances, scales, time constants).
    """
    known = parameter_names(model)
    if isinstance(params, str):
        params = [params]
    if callable(params) and not isinstance(params, Mapping):
        names = [n for n in known if params(n)]
        if not names:
            raise KeyError(f"the filter selects none of the parameters {known}")
        spec = dict.fromkeys(names)
    elif isinstance(params, Mapping):
        spec = dict(params)
    elif isinstance(params, Sequence):
        spec = {}
        for p in params:
            if is_pattern(p):
                found = match(p, known)
                if not found:
                    raise KeyError(f"pattern {p!r} matches none of the parameters: {known}")
                spec.update(dict.fromkeys(found))
            else:
                spec[p] = None
    else:
        raise TypeError(
            "params must be a name, a sequence of names or patterns, a mapping name → "
            f"Transform, or a callable filter; got {type(params).__name__}"
        )
    if not spec:
        raise ValueError("no free parameters selected")
    transforms = []
    for name, transform in spec.items():
        get_parameter(model, name)  # raises the KeyError with suggestions
        transform = default_transform(name) if transform is None else transform
        if not isinstance(transform, Transform):
            raise TypeError(f"{name}: expected a Transform, got {transform!r}")
        transforms.append(transform)
    return FreeParameters(tuple(spec), tuple(transforms))


def _check_values(free: FreeParameters, values: np.ndarray, what: str):
    for i, (name, t) in enumerate(zip(free.names, free.transforms, strict=True)):
        column = values[..., i]
        if not t.contains(column):
            unit = unit_of(name)
            bad = np.ravel(column)[~np.asarray([t.contains(v) for v in np.ravel(column)])]
            raise ValueError(
                f"{what} of {name!r} = {bad[0]:g} {unit} is outside {t.domain(unit)} allowed "
                f"by its transform {t!r}; change the bounds or the initial value"
            )


class FitWarning(UserWarning):
    """A fit that stopped at a loss far above the data's noise floor: its answer cannot be
    trusted (see `FitResult.diagnosis`)."""


#: a fit stops "converged" only at a loss within this factor of the data's noise floor
#: (`Loss.noise_floor`), where the loss can tell: at the optimum of noisy data the loss
#: is about the noise variance σ²(1 − P/N), and σ̂² errs by a few percent
NOISE_FACTOR = 2.0

#: `fit` restarts a trace or protocol fit (its ``recover``) that stops above this factor of
#: the noise floor the data alone set: at the optimum the loss is about σ²(1 − P/N) and σ̂²
#: errs by a few percent, while spikes out of step cost far more; a restart that finds no
#: lower loss only costs time
RESTART_FACTOR = 1.25

#: the coupling gains (mS/cm², then 0: uncoupled) of `fit`'s recovery by synchronisation
#: (how often it succeeds: ``scripts/fit_robustness.py`` and docs/performance.md)
RECOVERY_GAINS = (10.0, 1.0, 0.0)


@dataclasses.dataclass(frozen=True)
class FitResult:
    """What `fit` returns.

    - ``model``: the fitted model (best start, lowest loss seen);
    - ``values``: fitted values by name (Python floats); ``initial_values`` likewise;
    - ``loss``: the lowest loss reached; ``loss_history``: (steps,) loss of the best start
      at each step (before that step's update); ``grad_norm_history``: ‖∇ᵤL‖ likewise;
    - ``start_losses``: (starts,) best loss of each start; ``start_values``: name → (starts,)
      best values of each start; ``best_start``: its index;
    - ``steps`` taken, ``wall_time_s`` (including compilation), ``compile_time_s`` (the
      first block: compilation and its steps), ``stop_reason`` (``"loss_tol"``,
      ``"grad_tol"``, ``"step_tol"`` — no start moved: a minimum, possibly a local one, or
      a line search that found no decrease — ``"steps"``: the step budget ran out — or
      ``"interrupted"``: Ctrl-C, the best point of the finished blocks kept),
      ``converged`` (a criterion held — ``stop_reason`` is none of ``"steps"``,
      ``"interrupted"`` — and the loss is within `NOISE_FACTOR` of the data's noise floor,
      where the loss can estimate one), ``gradient`` (the mode used), ``names``;
    - ``noise_floor``: the loss the data's noise sets (`Loss.noise_floor`; None where the
      loss cannot estimate it); ``diagnosis``: one line, what happened and, for a fit
      that is not converged, why and what to try;
    - ``recovery``: None, or what `fit` did after a first fit stopped far above the noise
      floor (a restart by synchronisation, and whether it helped).
    """

    model: object
    values: dict
    initial_values: dict
    loss: float
    loss_history: np.ndarray
    grad_norm_history: np.ndarray
    start_losses: np.ndarray
    start_values: dict
    best_start: int
    steps: int
    wall_time_s: float
    compile_time_s: float
    converged: bool
    stop_reason: str
    gradient: str
    names: tuple[str, ...]
    noise_floor: float | None = None
    diagnosis: str = ""
    recovery: str | None = None

    def relative_errors(self, true_values: Mapping[str, float]) -> dict[str, float]:
        """|fitted − true| / |true| by name."""
        return {n: abs(self.values[n] - float(v)) / abs(float(v)) for n, v in true_values.items()}

    def __str__(self):
        lines = [
            self.diagnosis,
            f"fit of {len(self.names)} parameter(s), {self.gradient} mode, {self.steps} steps, "
            f"{len(self.start_losses)} start(s), {self.wall_time_s:.1f} s "
            f"(compile {self.compile_time_s:.1f} s): loss {self.loss:.4g}"
            + f" (stopped by {self.stop_reason})",
        ]
        for n in self.names:
            lines.append(
                f"  {n:>16} = {self.values[n]:.6g} {unit_of(n)}  "
                f"(from {self.initial_values[n]:.6g})"
            )
        return "\n".join(lines)


def _objective(free, model, loss):
    return lambda u: loss(free.apply(model, u))


def _one_step(u, opt_state, best_u, best_loss, free, model, loss, optimizer, mode):
    """One optimiser step of one start."""
    objective = _objective(free, model, loss)
    value, grad = value_and_gradient(objective, u, mode)
    finite = jnp.isfinite(value) & jnp.all(jnp.isfinite(grad))
    # a failed simulation (NaN) skips the update rather than poisoning Adam's moments
    grad = jnp.where(finite, grad, 0.0)
    updates, new_state = optimizer.update(
        grad, opt_state, u, value=value, grad=grad, value_fn=objective
    )
    new_u = optax.apply_updates(u, updates)
    finite = finite & jnp.all(jnp.isfinite(new_u))
    new_u = jnp.where(finite, new_u, u)
    new_state = jax.tree.map(lambda a, b: jnp.where(finite, a, b), new_state, opt_state)
    better = finite & (value < best_loss)
    best_u = jnp.where(better, u, best_u)
    best_loss = jnp.where(better, value.astype(best_loss.dtype), best_loss)
    moved = jnp.max(jnp.abs(new_u - u))
    return new_u, new_state, best_u, best_loss, value, jnp.linalg.norm(grad), moved


class _Stop(eqx.Module):
    """When the optimisation stops (checked after every step, on device)."""

    loss_tol: float | None = eqx.field(static=True)
    grad_tol: float | None = eqx.field(static=True)
    step_tol: float | None = eqx.field(static=True)

    #: what each code of `__call__` means (0: go on)
    REASONS = ("steps", "loss_tol", "grad_tol", "step_tol")

    def __call__(self, value, norm, moved):
        """0 to go on, else the index in `REASONS` of the first criterion that holds."""
        finite = jnp.isfinite(value)
        false = jnp.asarray(False)
        met = (
            false if self.loss_tol is None else jnp.any(finite & (value <= self.loss_tol)),
            false if self.grad_tol is None else jnp.all(finite & (norm <= self.grad_tol)),
            false if self.step_tol is None else jnp.all(moved <= self.step_tol),
        )
        code = jnp.asarray(0, jnp.int32)
        for k in (3, 2, 1):
            code = jnp.where(met[k - 1], k, code)
        return code


@eqx.filter_jit
def _block(carry, free, model, loss, optimizer, mode, stop: _Stop, length: int):
    """``length`` optimiser steps for every start (vmapped), in one `jax.lax.scan` on
    device; once ``stop`` holds, the remaining steps of the block do nothing."""
    step = jax.vmap(
        lambda u, s, bu, bl: _one_step(u, s, bu, bl, free, model, loss, optimizer, mode)
    )

    def body(carry, _):
        u, opt_state, best_u, best_loss, code = carry

        def run(_):
            new_u, new_state, best_u2, best_loss2, value, norm, moved = step(
                u, opt_state, best_u, best_loss
            )
            record = (value.astype(best_loss.dtype), norm.astype(best_loss.dtype))
            return (new_u, new_state, best_u2, best_loss2, stop(value, norm, moved)), (
                *record,
                jnp.asarray(True),
            )

        def skip(_):
            nan = jnp.full_like(best_loss, jnp.nan)
            return (u, opt_state, best_u, best_loss, code), (nan, nan, jnp.asarray(False))

        return jax.lax.cond(code > 0, skip, run, None)

    return jax.lax.scan(body, carry, None, length=length)


@eqx.filter_jit
def _loss_values(u, free, model, loss):
    return jax.vmap(_objective(free, model, loss))(u)


def _initial_values(free, model, starts, key, spread, dtype):
    x0 = free.initial_values(model)
    _check_values(free, x0, "the initial value")
    if starts is None:
        return x0[None]
    if isinstance(starts, int):
        if starts < 1:
            raise ValueError(f"starts must be >= 1, got {starts}")
        key = jax.random.key(0) if key is None else key
        keys = jax.random.split(key, len(free.names))
        columns = [
            np.asarray(t.sample(k, x0[i], spread, starts - 1))
            for i, (t, k) in enumerate(zip(free.transforms, keys, strict=True))
        ]
        samples = np.stack(columns, axis=-1).reshape(starts - 1, len(free.names))
        return np.concatenate([x0[None], samples], axis=0)
    if isinstance(starts, Mapping):
        missing = set(free.names) - set(starts)
        if missing:
            raise KeyError(f"starts: no initial values for {sorted(missing)}")
        starts = np.stack([np.asarray(starts[n], dtype=float) for n in free.names], axis=-1)
    starts = np.asarray(starts, dtype=float)
    if starts.ndim != 2 or starts.shape[1] != len(free.names):
        raise ValueError(
            f"starts has shape {starts.shape}; expected (n_starts, {len(free.names)}) initial "
            f"values for {free.names}"
        )
    _check_values(free, starts, "a start value")
    return starts


def fit(
    model,
    loss,
    params,
    *,
    optimizer: optax.GradientTransformation | None = None,
    steps: int = 100,
    starts: int | np.ndarray | Mapping | None = None,
    key=None,
    spread: float = 0.3,
    gradient: str = "auto",
    loss_tol: float | None = None,
    grad_tol: float | None = None,
    step_tol: float | None = 1e-9,
    block: int = 10,
    progress: bool = False,
    recover: bool = True,
) -> FitResult:
    r"""Fit the free parameters of ``model`` by gradient descent on ``loss(model)``.

    The optimiser updates unconstrained values u; the model sees θᵢ = transformᵢ(uᵢ)
    (`Log`, `Softplus`, `Bounded`, `Identity`), so constraints hold at every step. Each
    step — simulation, loss, gradient and optax update, for every start at once
    (`jax.vmap`) — runs on device, ``block`` steps per call (`jax.lax.scan`), with one
    host synchronisation per block; a step whose loss or gradient is not finite (a
    failed simulation) leaves that start where it was. The result keeps, per start, the
    parameters with the lowest loss seen. A fit that ends far above the data's noise
    floor warns (`FitWarning`) and says why in ``FitResult.diagnosis``; with ``recover``
    (the default) it is first retried by synchronisation.

    **Arguments:**

    - ``model``: any neuron or circuit (`jaxneuron.parameters` names its parameters).
    - ``loss``: a `Loss` (`TraceLoss`, `FeatureLoss`, sums of them) or any function
      ``model → scalar``.
    - ``params``: the free parameters — a name or glob pattern (``"*.g"``), a sequence of
      them, a mapping name → `Transform` (None: `default_transform`), or a filter
      ``name → bool``.
    - ``optimizer``: an optax transformation; it is given the loss function too
      (``value``, ``grad``, ``value_fn``), so line searches work. Default:
      ``loss.default_optimizer()`` — `lbfgs` for smooth deterministic losses (`TraceLoss`),
      ``optax.adam(0.05)`` otherwise (steps of ≈ 5% for parameters under `Log`).
    - ``steps``: the maximum number of steps.
    - ``starts``: multi-start — an int N (the model's values plus N − 1 random ones:
      uniform within `Bounded`, log-normal of width ``spread`` for `Log`/`Softplus`,
      normal of relative width ``spread`` for `Identity`; drawn with ``key``), or an array
      (N, P) of initial values in parameter units, or a mapping name → (N,) values.
    - ``gradient``: ``"reverse"``, ``"forward"`` or ``"auto"`` (forward mode for at most
      `FORWARD_MAX_PARAMETERS` free parameters). Reverse mode costs a few forward solves
      whatever P, with memory bounded by checkpointing; forward mode costs ≈ P forward
      solves and stores no trajectory (see `loss_and_gradient`).
    - ``loss_tol``, ``grad_tol``, ``step_tol``: stop when some start reaches loss ≤
      ``loss_tol``, when every start's ‖∇ᵤL‖ ≤ ``grad_tol``, or when no start moved more
      than ``step_tol`` in u (a line search that found no decrease); None disables one.
    - ``block``: optimiser steps per device call (and per progress-bar update).
    - ``progress``: a tqdm progress bar.
    - ``recover``: when the fit stops above `RESTART_FACTOR` times the noise floor that the
      data alone set (``loss.noise_floor()``) and the model can be coupled to the
      recording (``loss.synchronisable()``: a `TraceLoss` of one neuron, a current-clamp
      `ProtocolLoss`, a `JunctionPotential` of them), restart from the same initial
      values by synchronisation: one fit per coupling gain of `RECOVERY_GAINS` (the model
      coupled to the recording, as in `anneal`), the last uncoupled; the better of the
      two results is returned and
      ``FitResult.recovery`` says what happened.

    **Example:**

    >>> import optax
    >>> from jaxneuron import build_HH, set_parameters
    >>> from jaxneuron.fit import FiringRate, FeatureLoss, fit
    >>> loss = FeatureLoss([FiringRate(60.0)], t1=100.0, stimulus=10.0, save_every=0.05)
    >>> result = fit(build_HH(), loss, "Na.g", optimizer=optax.adam(0.02), steps=20)
    >>> result.steps, result.names, len(result.loss_history)
    (20, ('Na.g',), 20)
    """
    kwargs = dict(
        optimizer=optimizer,
        steps=steps,
        gradient=gradient,
        loss_tol=loss_tol,
        grad_tol=grad_tol,
        step_tol=step_tol,
        block=block,
        progress=progress,
    )
    result = _fit_once(model, loss, params, starts=starts, key=key, spread=spread, **kwargs)
    if (
        recover
        and as_loss(loss).synchronisable()
        and result.stop_reason != "interrupted"
        # the data alone set this floor: a misfit spread over the trace, which raises the
        # residuals' variance (and so `noise_floor(model)`), does not hide from it
        and _above_floor(result.loss, loss.noise_floor(), RESTART_FACTOR)
    ):
        result = _recovered(result, model, loss, params, kwargs)
    if _above_floor(result.loss, result.noise_floor):
        warnings.warn(result.diagnosis, FitWarning, stacklevel=2)
    return result


def synchronised_stages(model, loss, params, gains, **fit_kwargs) -> list[FitResult]:
    """One fit per coupling gain (mS/cm², decreasing; 0: uncoupled), the model coupled to
    the recording of ``loss`` by k·(V − V_data), each stage starting where the last ended
    (`anneal` and `fit`'s recovery)."""
    stages = []
    for gain in gains:
        stage = _fit_once(
            model, loss.with_nudging(gain if gain > 0 else None), params, **fit_kwargs
        )
        stages.append(stage)
        model, loss = stage.model, loss.continued(stage)
    return stages


def _recovered(first: FitResult, model, loss, params, kwargs) -> FitResult:
    """`fit`'s recovery: synchronised stages from the first fit's best initial values."""
    # the model's own parameters; a loss's variables (a junction potential) restart from
    # the loss's initial value
    names = select_parameters(model, params).names
    start = set_parameters(model, {n: first.initial_values[n] for n in names})
    stages = synchronised_stages(start, loss, params, RECOVERY_GAINS, **kwargs)
    last = stages[-1]
    gains = ", ".join(f"{g:g}" for g in RECOVERY_GAINS[:-1])
    wall = first.wall_time_s + sum(s.wall_time_s for s in stages)
    steps = first.steps + sum(s.steps for s in stages)
    floor = first.noise_floor
    level = "" if floor is None else f" ({first.loss / floor:.3g}× the noise floor)"
    tried = (
        f"the first fit stopped at loss {first.loss:.4g}{level}; restarted from the same "
        f"values by synchronisation (gains {gains} mS/cm², then uncoupled)"
    )
    if not last.loss < first.loss:
        helpless = " (a restart by synchronisation did not help)" if not first.converged else ""
        return dataclasses.replace(
            first,
            wall_time_s=wall,
            recovery=f"{tried}: no better (loss {last.loss:.4g})",
            diagnosis=first.diagnosis + helpless,
        )
    diagnosis = last.diagnosis
    if last.converged:
        diagnosis = diagnosis.replace(
            "converged", "converged after a restart by synchronisation", 1
        )
    return dataclasses.replace(
        last,
        initial_values=first.initial_values,
        steps=steps,
        wall_time_s=wall,
        recovery=f"{tried}: loss {last.loss:.4g}",
        diagnosis=diagnosis,
    )


def _fit_once(
    model,
    loss,
    params,
    *,
    optimizer: optax.GradientTransformation | None = None,
    steps: int = 100,
    starts: int | np.ndarray | Mapping | None = None,
    key=None,
    spread: float = 0.3,
    gradient: str = "auto",
    loss_tol: float | None = None,
    grad_tol: float | None = None,
    step_tol: float | None = 1e-9,
    block: int = 10,
    progress: bool = False,
) -> FitResult:
    """One fit (see `fit`), without the recovery and without warning."""
    loss = as_loss(loss)
    free = select_parameters(model, params)
    dtype = jnp.result_type(*(get_parameter(model, n) for n in free.names))
    free = loss.variables(model, free)
    if int(steps) < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    if int(block) < 1:
        raise ValueError(f"block must be >= 1 optimiser step, got {block}")
    optimizer = loss.default_optimizer() if optimizer is None else optimizer
    optimizer = with_extra_args(optimizer)
    stop = _Stop(loss_tol, grad_tol, step_tol)
    mode = choose_mode(gradient, free.size)
    if mode == "forward":
        loss = loss.with_adjoint(forward_mode_adjoint())
    loss.check(model)
    x0 = _initial_values(free, model, starts, key, spread, dtype)
    u = free.unconstrained(jnp.asarray(x0, dtype))
    shape = jax.eval_shape(_objective(free, model, loss), u[0])
    if shape.shape != ():
        raise ValueError(f"the loss must return a scalar, got shape {shape.shape}")

    n_starts = u.shape[0]
    carry = (
        u,
        jax.vmap(optimizer.init)(u),
        u,
        jnp.full((n_starts,), jnp.inf, dtype),
        jnp.asarray(0, jnp.int32),
    )
    losses, norms = [], []
    t_begin = time.perf_counter()
    compile_time = 0.0
    length = min(int(block), int(steps))
    bar = tqdm(total=int(steps), disable=not progress, desc="fit")
    interrupted = False
    while len(losses) < int(steps) and int(carry[-1]) == 0:
        try:
            carry, (value, norm, ran) = _block(
                carry, free, model, loss, optimizer, mode, stop, length
            )
        except KeyboardInterrupt:
            if not losses:
                raise  # nothing evaluated yet: nothing to keep
            interrupted = True  # keep the best point of the blocks that finished
            break
        ran = np.asarray(ran)
        value, norm = np.asarray(value)[ran], np.asarray(norm)[ran]
        if not losses:
            compile_time = time.perf_counter() - t_begin
            if not np.any(np.isfinite(value[0])):
                raise FloatingPointError(
                    "the loss is not finite at the initial values "
                    f"{dict(zip(free.names, x0[0].tolist(), strict=True))}: the simulation "
                    "probably failed (try a smaller dt or other initial values)"
                )
        take = min(len(value), int(steps) - len(losses))
        losses.extend(value[:take])
        norms.extend(norm[:take])
        bar.update(take)
        if progress and take:
            bar.set_postfix(loss=f"{np.nanmin(value[:take]):.4g}")
    bar.close()
    u, _, best_u, best_loss, code = carry
    reason = "interrupted" if interrupted else _Stop.REASONS[int(code)]
    if not interrupted:
        # the last update has not been evaluated yet
        final = _loss_values(u, free, model, loss)
        better = jnp.isfinite(final) & (final < best_loss)
        best_u = jnp.where(better[:, None], u, best_u)
        best_loss = jnp.where(better, final, best_loss)
    if loss_tol is not None:
        if reason == "steps" and bool(jnp.any(best_loss <= loss_tol)):
            reason = "loss_tol"
    wall = time.perf_counter() - t_begin

    best_loss = np.asarray(best_loss)
    best = int(np.nanargmin(np.where(np.isfinite(best_loss), best_loss, np.inf)))
    floor = loss.noise_floor(free.fitted(model, best_u[best]))
    fitted = np.asarray(jnp.stack(list(free.values(best_u).values()), axis=-1))
    result = FitResult(
        model=free.fitted(model, best_u[best]),
        values={n: float(fitted[best, i]) for i, n in enumerate(free.names)},
        initial_values={n: float(x0[best, i]) for i, n in enumerate(free.names)},
        loss=float(best_loss[best]),
        loss_history=np.stack(losses)[:, best],
        grad_norm_history=np.stack(norms)[:, best],
        start_losses=best_loss,
        start_values={n: fitted[:, i] for i, n in enumerate(free.names)},
        best_start=best,
        steps=len(losses),
        wall_time_s=wall,
        compile_time_s=compile_time,
        converged=reason not in ("steps", "interrupted")
        and not _above_floor(float(best_loss[best]), floor),
        stop_reason=reason,
        gradient=mode,
        names=free.names,
        noise_floor=floor,
        diagnosis=_diagnosis(reason, float(best_loss[best]), floor, n_starts),
    )
    return result


def _above_floor(value: float, floor: float | None, factor: float = NOISE_FACTOR) -> bool:
    return floor is not None and not value <= factor * floor


def _diagnosis(reason: str, value: float, floor: float | None, n_starts: int) -> str:
    """`FitResult.diagnosis`: one line."""
    level = "" if floor is None else f" ({value / floor:.3g}× the noise floor {floor:.4g})"
    if _above_floor(value, floor):
        stopped = {
            "steps": "the step budget ran out",
            "step_tol": "no start could move (a local minimum, or a line search with no decrease)",
            "grad_tol": "the gradient vanished (a local minimum or a flat region)",
            "loss_tol": "loss_tol was reached",
            "interrupted": "interrupted (Ctrl-C)",
        }[reason]
        advice = (
            "more starts (starts=N), a synchronised fit (anneal) or another optimiser"
            if n_starts == 1
            else "more starts, a synchronised fit (anneal) or another optimiser"
        )
        return (
            f"NOT converged: loss {value:.4g}{level} — {stopped}; the data allow a far "
            f"lower loss: a local minimum or a model that cannot reproduce the data. "
            f"Try {advice}"
        )
    if reason == "interrupted":
        return (
            f"NOT converged: interrupted (Ctrl-C) at loss {value:.4g}{level}; the best point so far"
        )
    if reason == "steps":
        within = "" if floor is None else ", within the noise"
        return (
            f"NOT converged: the step budget ran out at loss {value:.4g}{level}{within}; "
            "give more steps"
        )
    return f"converged ({reason}): loss {value:.4g}{level}"


def loss_and_gradient(model, loss, params, *, gradient: str = "reverse"):
    """``(loss(model), {name: ∂loss/∂θ})`` with respect to the named parameters θ in their
    own units (no transform), by reverse or forward mode (for checks and sensitivities).

    >>> from jaxneuron import build_HH
    >>> value, grads = loss_and_gradient(build_HH(), lambda m: m.channel("Na").g ** 2, "Na.g")
    >>> float(grads["Na.g"])
    240.0
    """
    loss = as_loss(loss)
    names = select_parameters(model, params).names
    mode = choose_mode(gradient, len(names))
    if mode == "forward":
        loss = loss.with_adjoint(forward_mode_adjoint())
    loss.check(model)
    x = jnp.stack([jnp.asarray(get_parameter(model, n)) for n in names])
    value, grad = _value_and_grad_values(x, names, model, loss, mode)
    return value, dict(zip(names, grad, strict=True))


@eqx.filter_jit
def _value_and_grad_values(x, names, model, loss, mode):
    f: Callable = lambda x: loss(set_parameters(model, dict(zip(names, x, strict=True))))  # noqa: E731
    return value_and_gradient(f, x, mode)
