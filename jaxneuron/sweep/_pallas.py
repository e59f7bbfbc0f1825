r"""The population engine as one Pallas kernel: the whole time loop on chip.

The XLA engine keeps the state of every model in device memory and reads and writes it at
every step (or every few unrolled steps). Here each kernel program takes ``block`` models,
loads their parameters and initial states once, runs all steps with the state, its Kahan
compensation and the streaming-feature state in registers, and writes only the summary
features and the class. Memory traffic is then independent of the simulated time.

The kernel body is the XLA engine's own loop (`_engine.population_loop` and
`_engine.summarize`: the same fixed-step driver, model step and observer) on the block's
models: every operation is elementwise, so it lowers to one thread per model. Only single
conductance-based neurons with scalar parameters are supported (circuits use the XLA
engine), and no traces are recorded. On CPU the kernel runs in Pallas' interpreter, which
is how it is tested; it is meant for GPUs (Triton backend).
"""

from __future__ import annotations

import dataclasses
import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ..neurons import ConductanceNeuron
from ..parameters import population
from ._engine import FEATURE_NAMES, initial_states, population_loop, summarize

#: models per kernel program (a power of two for Triton)
BLOCK = 128


def pallas_unsupported_reason(model) -> str | None:
    """Why ``model`` cannot run in the Pallas kernel (None if it can)."""
    if not isinstance(model, ConductanceNeuron):
        return f"the Pallas kernel runs single neurons, not {type(model).__name__}"
    for leaf in jax.tree_util.tree_leaves(model):
        if eqx.is_array(leaf) and (leaf.ndim > 0 or not eqx.is_inexact_array(leaf)):
            return "the Pallas kernel needs every parameter of the model to be a real scalar"
    return None


def run_pallas(
    engine, values, block: int = BLOCK, interpret: bool | None = None, num_warps: int = 4
):
    """`Engine.__call__` (without ``record``) as one Pallas kernel per call.

    ``values`` maps each swept name to an array (n,); the population is padded to a
    multiple of ``block`` models. ``interpret`` defaults to True off GPU.
    """
    from jax.experimental import pallas as pl
    from jax.experimental.pallas import triton as plgpu

    reason = pallas_unsupported_reason(engine.model)
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
    models, axes = population(engine.model, values)
    y0 = initial_states(engine, models, axes)
    n_states = len(y0)
    # The model's scalars enter as one small input (a kernel may not capture arrays) and
    # are read as scalars; the swept ones then come from the block's values.
    leaves, treedef = jax.tree_util.tree_flatten(engine.model)
    arrays = [i for i, leaf in enumerate(leaves) if eqx.is_array(leaf)]
    n_consts = 1 << max(len(arrays) - 1, 0).bit_length()  # a power of two, for Triton
    consts = (
        jnp.zeros(n_consts, dtype)
        .at[: len(arrays)]
        .set(jnp.stack([leaves[i].astype(dtype) for i in arrays]))
    )
    outputs = (*FEATURE_NAMES, "class", "finite")
    rolled = dataclasses.replace(engine, unroll=1)

    def kernel(consts_ref, *refs):
        param_refs = refs[: len(names)]
        state_refs = refs[len(names) : len(names) + n_states]
        out_refs = dict(zip(outputs, refs[len(names) + n_states :], strict=True))
        model_leaves = list(leaves)
        for k, i in enumerate(arrays):
            model_leaves[i] = consts_ref[k]
        base = jax.tree_util.tree_unflatten(treedef, model_leaves)
        block_models, block_axes = population(
            base, {name: r[...] for name, r in zip(names, param_refs, strict=True)}
        )
        y, feature_states, _ = population_loop(
            rolled,  # a kernel cannot unroll
            block_models,
            block_axes,
            tuple(r[...] for r in state_refs),
            stack=False,
        )
        out = summarize(engine, y, feature_states)
        for key in outputs:
            out_refs[key][...] = out[key].astype(out_refs[key].dtype)

    spec = pl.BlockSpec((block,), lambda i: (i,))
    out_dtypes = jax.eval_shape(
        lambda: summarize(engine, y0, population_loop(engine, models, axes, y0, stack=False)[1])
    )
    out_shape = tuple(
        jax.ShapeDtypeStruct((padded,), jnp.int32 if k == "finite" else out_dtypes[k].dtype)
        for k in outputs
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
    results = call(consts, *(values[k] for k in names), *y0)
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
