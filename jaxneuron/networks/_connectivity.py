"""A projection's synapses, by presynaptic neuron: `Connectivity` holds ``targets`` of shape
(n_pre, width), padded with ``n_post``; `fixed_probability`, `fixed_indegree` and
`from_pairs` build it (seeded)."""

from __future__ import annotations

import math

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Int


class Connectivity(eqx.Module):
    """A projection's synapses by presynaptic neuron: row i of ``targets`` (n_pre, width)
    lists the postsynaptic neurons of neuron i, padded with ``n_post``."""

    targets: Int[Array, "n_pre width"]
    n_post: int = eqx.field(static=True)

    @property
    def n_pre(self) -> int:
        return self.targets.shape[0]

    @property
    def n_synapses(self) -> int:
        return int(np.sum(np.asarray(self.targets) < self.n_post))

    def pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """(pre, post) index arrays of every synapse."""
        targets = np.asarray(self.targets)
        pre, slot = np.nonzero(targets < self.n_post)
        return pre, targets[pre, slot]


def _padded(rows: list[np.ndarray], n_post: int) -> Connectivity:
    width = max((len(r) for r in rows), default=0)
    targets = np.full((len(rows), max(width, 1)), n_post, np.int32)
    for i, r in enumerate(rows):
        targets[i, : len(r)] = r
    return Connectivity(jnp.asarray(targets), n_post)


def from_pairs(pre, post, n_pre: int, n_post: int) -> Connectivity:
    """Synapses from explicit (pre, post) index lists."""
    pre, post = np.asarray(pre, np.int64), np.asarray(post, np.int64)
    if pre.shape != post.shape or pre.ndim != 1:
        raise ValueError(f"pre and post must be 1-D of equal length, got {pre.shape}, {post.shape}")
    if pre.size and not (0 <= pre.min() and pre.max() < n_pre):
        raise ValueError(f"pre indices must lie in 0 … {n_pre - 1}")
    if post.size and not (0 <= post.min() and post.max() < n_post):
        raise ValueError(f"post indices must lie in 0 … {n_post - 1}")
    order = np.argsort(pre, kind="stable")
    pre, post = pre[order], post[order]
    bounds = np.searchsorted(pre, np.arange(n_pre + 1))
    return _padded([post[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)], n_post)


def fixed_probability(
    n_pre: int, n_post: int, p: float, *, seed: int, autapses: bool = True
) -> Connectivity:
    """Every (pre, post) pair connected independently with probability ``p`` (seeded).
    ``autapses=False`` leaves out i → i (for a population projecting onto itself)."""
    if not 0 <= p <= 1:
        raise ValueError(f"p (connection probability) must lie in [0, 1], got {p}")
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_pre):
        # the gaps between successes of Bernoulli(p) trials are geometric
        expected = n_post * p
        k = int(expected + 6 * math.sqrt(expected + 1) + 8)
        while True:
            hits = np.cumsum(rng.geometric(p, size=k)) - 1 if p > 0 else np.empty(0, int)
            if p == 0 or hits[-1] >= n_post:
                break
            k *= 2
        hits = hits[hits < n_post]
        rows.append(hits if autapses else hits[hits != i])
    return _padded(rows, n_post)


def fixed_indegree(
    n_pre: int, n_post: int, k: int, *, seed: int, autapses: bool = True
) -> Connectivity:
    """Every postsynaptic neuron receives exactly ``k`` synapses from distinct presynaptic
    neurons drawn uniformly (seeded)."""
    if not 0 <= k <= n_pre - (0 if autapses else 1):
        raise ValueError(f"k (in-degree) must lie in 0 … {n_pre}, got {k}")
    rng = np.random.default_rng(seed)
    pool = n_pre if autapses else n_pre - 1
    pre = rng.integers(0, pool, size=(n_post, k))
    while True:  # redraw the rows with a repeated source (rare when k ≪ n_pre)
        ordered = np.sort(pre, axis=1)
        repeated = np.flatnonzero(np.any(ordered[:, 1:] == ordered[:, :-1], axis=1))
        if repeated.size == 0:
            break
        pre[repeated] = rng.integers(0, pool, size=(repeated.size, k))
    if not autapses:
        pre = pre + (pre >= np.arange(n_post)[:, None])
    post = np.repeat(np.arange(n_post), k)
    return from_pairs(pre.ravel(), post, n_pre, n_post)
