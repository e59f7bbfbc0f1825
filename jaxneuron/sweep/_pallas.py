r"""The population engine as one Pallas kernel: the whole time loop on chip.

The XLA engine (`_engine._run`) keeps the state of every model in device memory and
reads and writes it at every step (or every few unrolled steps). Here each kernel
program takes ``block`` models, loads their parameters and initial states once, runs all
``n_steps`` exponential-Euler steps with the state, its Kahan compensation and the
streaming-feature state in registers, and writes only the summary features and the class.
Memory traffic is then independent of the simulated time.

The kernel body is the same model code as everywhere else (`ConductanceNeuron`'s
increments and `StreamingFeatures`), vmapped over the models of a block: every operation
is elementwise, so it lowers to one thread per model. Only single conductance-based
neurons with scalar parameters are supported (circuits use the XLA engine), and no traces
are recorded. On CPU the kernel runs in Pallas' interpreter, which is how it is tested;
it is meant for GPUs (Triton backend).
"""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ..neurons import ConductanceNeuron
from ..parameters import _locate

#: models per kernel program (a power of two for Triton)
BLOCK = 128


def pallas_unsupported_reason(model, names) -> str | None:
    """Why ``model`` cannot run in the Pallas kernel (None if it can)."""
    if not isinstance(model, ConductanceNeuron):
        return f"the Pallas kernel runs single neurons, not {type(model).__name__}"
    for leaf in jax.tree_util.tree_leaves(model):
        if eqx.is_array(leaf) and (leaf.ndim > 0 or not eqx.is_inexact_array(leaf)):
            return "the Pallas kernel needs every parameter of the model to be a real scalar"
    for name in names:
        if _locate(model, name)[1] is not None:
            return f"the Pallas kernel cannot sweep an element of a vector ({name!r})"
    return None


def _with_values(model, wheres, values):
    for where, value in zip(wheres, values, strict=True):
        model = eqx.tree_at(where, model, value)
    return model


def run_pallas(
    engine, values, block: int = BLOCK, interpret: bool | None = None, num_warps: int = 4
):
    """`Engine.__call__` (without ``record``) as one Pallas kernel per call.

    ``values`` maps each swept name to an array (n,); the population is padded to a
    multiple of ``block`` models. ``interpret`` defaults to True off GPU.
    """
    from jax.experimental import pallas as pl
    from jax.experimental.pallas import triton as plgpu

    from ._engine import FEATURE_NAMES, _population, compensated_add

    reason = pallas_unsupported_reason(engine.model, engine.names)
    if reason:
        raise NotImplementedError(reason + "; use the XLA engine (kernel='xla')")
    if block < 1 or block & (block - 1):
        raise ValueError(f"block (models per kernel program) must be a power of two, got {block}")
    if interpret is None:
        interpret = jax.default_backend() != "gpu"

    dtype = engine.dtype()
    names = tuple(engine.names)
    values = {k: jnp.asarray(v, dtype) for k, v in values.items()}
    n = len(next(iter(values.values())))
    padded = block * math.ceil(n / block)
    if padded > n:
        values = {
            k: jnp.concatenate([v, jnp.repeat(v[-1:], padded - n)]) for k, v in values.items()
        }
    y0 = jax.vmap(lambda m: m.initial_state())(_population(engine, values))  # (n, n_states)
    n_states = y0.shape[1]
    # The model's scalars enter as one small input (a kernel may not capture arrays) and
    # are read as scalars; the swept ones are then replaced by the block's values.
    leaves, treedef = jax.tree_util.tree_flatten(engine.model)
    arrays = [i for i, leaf in enumerate(leaves) if eqx.is_array(leaf)]
    n_consts = 1 << max(len(arrays) - 1, 0).bit_length()  # a power of two, for Triton
    consts = (
        jnp.zeros(n_consts, dtype)
        .at[: len(arrays)]
        .set(jnp.stack([leaves[i].astype(dtype) for i in arrays]))
    )
    wheres = tuple(_locate(engine.model, name)[0] for name in names)
    features = engine.features
    dt = engine.dt
    n_steps = engine.n_steps
    compensated = engine.compensated
    if compensated is None:
        compensated = jnp.finfo(dtype).bits < 64
    outputs = (*FEATURE_NAMES, "class", "finite")

    def increments(base, params, *y):
        model = _with_values(base, wheres, params)
        t, y = y[0], list(y[1:])
        V, Ca, gates = model._unpack(y)
        return tuple(model._flatten(*model._increments(t, V, Ca, gates, dt)))

    def kernel(consts_ref, *refs):
        param_refs = refs[: len(names)]
        state_refs = refs[len(names) : len(names) + n_states]
        out_refs = dict(zip(outputs, refs[len(names) + n_states :], strict=True))
        model_leaves = list(leaves)
        for k, i in enumerate(arrays):
            model_leaves[i] = consts_ref[k]
        base = jax.tree_util.tree_unflatten(treedef, model_leaves)
        params = tuple(r[...] for r in param_refs)
        y = tuple(r[...] for r in state_refs)
        fs = jax.vmap(features.init, in_axes=(None, 0))(jnp.zeros((), dtype), y[0])
        step = jax.vmap(increments, in_axes=(None, 0, None) + (0,) * n_states)
        update = jax.vmap(features.update, in_axes=(0, None, 0))

        def body(i, carry):
            y, c, fs = carry
            t = i.astype(dtype) * dt
            d = step(base, params, t, *y)
            if compensated:
                sums = [compensated_add(*args) for args in zip(y, d, c, strict=True)]
                y, c = (tuple(x) for x in zip(*sums, strict=True))
            else:
                y = tuple(yi + di for yi, di in zip(y, d, strict=True))
            return y, c, update(fs, t + dt, y[0])

        zeros = tuple(jnp.zeros_like(x) for x in y)
        y, _, fs = jax.lax.fori_loop(0, n_steps, body, (y, zeros, fs))
        summary = jax.vmap(features.summary)(fs)
        finite = jnp.isfinite(y[0])
        for x in y[1:]:
            finite = finite & jnp.isfinite(x)
        classes = jax.vmap(lambda s: features.classify(s, engine.regularity))(fs)
        for key in FEATURE_NAMES:
            out_refs[key][...] = summary[key].astype(out_refs[key].dtype)
        out_refs["class"][...] = jnp.where(finite, classes, -1).astype(jnp.int32)
        out_refs["finite"][...] = finite.astype(jnp.int32)

    spec = pl.BlockSpec((block,), lambda i: (i,))
    summary_dtypes = jax.eval_shape(
        lambda: jax.vmap(features.summary)(
            jax.vmap(features.init, in_axes=(None, 0))(jnp.zeros((), dtype), y0[:, 0])
        )
    )
    out_shape = (
        tuple(jax.ShapeDtypeStruct((padded,), summary_dtypes[k].dtype) for k in FEATURE_NAMES)
        + (jax.ShapeDtypeStruct((padded,), jnp.int32),) * 2
    )
    call = pl.pallas_call(
        kernel,
        out_shape=out_shape,
        grid=(padded // block,),
        in_specs=[pl.BlockSpec((n_consts,), lambda i: (0,))] + [spec] * (len(names) + n_states),
        out_specs=tuple(spec for _ in outputs),
        interpret=interpret,
        # Triton: one thread per model; Mosaic GPU (the default backend in JAX 0.10) has
        # no expm1 and wants warpgroup-shaped arrays
        compiler_params=plgpu.CompilerParams(num_warps=num_warps, num_stages=1),
    )
    results = call(consts, *(values[k] for k in names), *(y0[:, s] for s in range(n_states)))
    out = {k: v[:n] for k, v in zip(outputs, results, strict=True)}
    out["finite"] = out["finite"].astype(bool)
    return out


def run_pallas_on(engine, values, devices, size: int | None = None):
    """`run_pallas` with the population split evenly across ``devices`` (one dispatch per
    device, running concurrently), padded to ``size`` models so that the short last chunk
    of a sweep reuses the compiled kernel."""
    values = {k: np.asarray(v) for k, v in values.items()}
    n = len(next(iter(values.values())))
    padded = max(n, size or 0)
    per_device = math.ceil(padded / len(devices))
    per_device = BLOCK * math.ceil(per_device / BLOCK)
    total = per_device * len(devices)
    if total > n:
        values = {k: np.concatenate([v, np.repeat(v[-1:], total - n)]) for k, v in values.items()}
    run = eqx.filter_jit(run_pallas)
    pieces = []
    for d, device in enumerate(devices):
        piece = {
            k: jax.device_put(v[d * per_device : (d + 1) * per_device], device)
            for k, v in values.items()
        }
        pieces.append(run(engine, piece))
    return {k: np.concatenate([np.asarray(p[k]) for p in pieces])[:n] for k in pieces[0]}
