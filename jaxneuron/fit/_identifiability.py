r"""Which parameter combinations a loss pins down: the sensitivity matrix and its SVD.

For a least-squares loss L(θ) = Σᵢ rᵢ(θ)² (`TraceLoss`, `FeatureLoss` and their sums), the
relative sensitivity matrix

    Sᵢⱼ = ∂rᵢ/∂ln θⱼ = θⱼ·∂rᵢ/∂θⱼ

linearises the residuals around θ: a small relative change δ (δⱼ = Δθⱼ/θⱼ) raises the loss
by ‖S δ‖² near a minimum (the Gauss–Newton approximation). Its singular value decomposition
S = U diag(σ) Vᵀ orders the parameter combinations: the right singular vector vₖ is a
direction in relative-parameter space, and moving 1% along it changes the loss by
(0.01 σₖ)². Directions whose σₖ is many orders below σ₁ are not determined by the data
(Gutenkunst et al. 2007, "sloppy" models); with independent noise of variance ν in the
residuals the standard deviation of ln θ along vₖ is √ν / σₖ.
"""

from __future__ import annotations

import dataclasses

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ..parameters import get_parameter, set_parameters
from ._fit import select_parameters
from ._gradients import choose_mode
from ._losses import as_loss, forward_mode_adjoint


@dataclasses.dataclass(frozen=True)
class Identifiability:
    """What `sensitivity` returns.

    - ``names``, ``values``: the parameters and their values at the point (Python floats);
    - ``matrix``: (m, P) relative sensitivities ∂rᵢ/∂ln θⱼ (a parameter at 0 is taken in
      its own units, ∂rᵢ/∂θⱼ);
    - ``singular_values``: (P,) σ₁ ≥ … ≥ σ_P; ``directions``: (P, P), row k the k-th right
      singular vector (a combination of relative parameter changes);
    - ``loss``: the loss at the point.
    """

    names: tuple[str, ...]
    values: dict
    matrix: np.ndarray
    singular_values: np.ndarray
    directions: np.ndarray
    loss: float

    @property
    def condition_number(self) -> float:
        """σ₁/σ_P (infinite when some combination has no effect at all)."""
        s = self.singular_values
        return float(s[0] / s[-1]) if s[-1] > 0 else float("inf")

    def poorly_determined(self, rtol: float = 1e-3) -> list[dict[str, float]]:
        """The directions with σₖ < rtol·σ₁, each as name → weight (weights of magnitude
        below 0.05 left out): the combinations the data does not pin down."""
        s = self.singular_values
        out = []
        for k in np.flatnonzero(s < rtol * s[0]):
            v = self.directions[k]
            out.append({n: float(w) for n, w in zip(self.names, v, strict=True) if abs(w) >= 0.05})
        return out

    def standard_errors(self, residual_variance: float) -> dict[str, float]:
        """Relative standard errors sd(ln θⱼ) ≈ sd(θⱼ)/θⱼ of a least-squares fit whose
        residuals carry independent noise of variance ``residual_variance``: the square
        roots of the diagonal of ν (SᵀS)⁻¹ (infinite where S is singular). For a
        `TraceLoss` over N samples with σ mV of noise, ν = σ²/N."""
        s = self.singular_values
        inverse = np.where(s > s[0] * 1e-12, 1.0 / np.where(s > 0, s, 1.0) ** 2, np.inf)
        variance = float(residual_variance) * (self.directions.T**2 @ inverse)
        return {n: float(np.sqrt(v)) for n, v in zip(self.names, variance, strict=True)}

    def __str__(self):
        lines = [
            f"sensitivity of {len(self.names)} parameter(s) at loss {self.loss:.4g}: "
            f"condition number {self.condition_number:.3g}",
            "  σ (relative)   loss change for a 1% move   direction (largest weights)",
        ]
        for s, v in zip(self.singular_values, self.directions, strict=True):
            order = np.argsort(-np.abs(v))[:3]
            what = ", ".join(f"{v[i]:+.2f}·{self.names[i]}" for i in order if abs(v[i]) >= 0.05)
            rel = s / self.singular_values[0] if self.singular_values[0] > 0 else 0.0
            lines.append(f"  {rel:12.3g}   {(0.01 * s) ** 2:25.3g}   {what}")
        return "\n".join(lines)

    def plot(self, axes=None):
        """Singular values (log scale) beside the directions as a heat map; returns the
        figure."""
        import matplotlib.pyplot as plt

        if axes is None:
            fig, axes = plt.subplots(
                1, 2, figsize=(4 + 0.5 * len(self.names), 3.5), width_ratios=(1, 2)
            )
        else:
            fig = axes[0].figure
        s = self.singular_values
        k = np.arange(1, len(s) + 1)
        axes[0].semilogy(k, np.maximum(s / s[0], 1e-16), "o-")
        axes[0].set_xlabel("direction k")
        axes[0].set_ylabel("σₖ / σ₁")
        axes[0].set_xticks(k)
        image = axes[1].imshow(self.directions, cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto")
        axes[1].set_xticks(range(len(self.names)), self.names, rotation=60, ha="right")
        axes[1].set_yticks(range(len(s)), [str(i) for i in k])
        axes[1].set_ylabel("direction k")
        fig.colorbar(image, ax=axes[1], label="weight (relative change)")
        fig.tight_layout()
        return fig


def sensitivity(model, loss, params, *, gradient: str = "auto") -> Identifiability:
    r"""The relative sensitivity matrix of ``loss``'s residuals to ``params`` at ``model``,
    and its singular directions (see the module docstring for the equations).

    **Arguments:**

    - ``model``: the point (usually a fitted model, or the truth for a designed protocol).
    - ``loss``: a least-squares loss — `TraceLoss`, `FeatureLoss`, or a non-negative sum.
    - ``params``: names or patterns, as for `fit`.
    - ``gradient``: ``"forward"`` (P Jacobian–vector products), ``"reverse"`` (one
      vector–Jacobian product per residual) or ``"auto"`` (forward mode).

    **Example:**

    >>> from jaxneuron import build_HH, simulate
    >>> from jaxneuron.fit import TraceLoss, sensitivity
    >>> true = build_HH(10.0)
    >>> target = simulate(true, 20.0, solver="exponential_euler", save_every=0.1).V
    >>> report = sensitivity(true, TraceLoss(target, dt=0.1), ["Na.g", "K.g"])
    >>> report.singular_values.shape
    (2,)
    """
    loss = as_loss(loss)
    names = select_parameters(model, params).names
    mode = "forward" if gradient == "auto" else choose_mode(gradient, len(names))
    if mode == "forward":
        loss = loss.with_adjoint(forward_mode_adjoint())
    loss.check(model)
    x = jnp.stack([jnp.asarray(get_parameter(model, n)) for n in names])
    value, matrix = _jacobian(x, names, model, loss, mode)
    matrix = np.asarray(matrix, dtype=float)
    if not np.all(np.isfinite(matrix)):
        raise FloatingPointError(
            "the sensitivities are not finite at "
            f"{dict(zip(names, np.asarray(x).tolist(), strict=True))}: the simulation failed"
        )
    scale = np.where(np.asarray(x) != 0, np.abs(np.asarray(x, dtype=float)), 1.0)
    relative = matrix * scale[None, :]
    # full V: with fewer residuals than parameters, the missing σ are 0 (not determined)
    _, s, vt = np.linalg.svd(relative, full_matrices=True)
    s = np.concatenate([s, np.zeros(len(names) - len(s))])
    # a sign convention: each direction's largest weight is positive
    signs = np.sign(vt[np.arange(len(vt)), np.argmax(np.abs(vt), axis=1)])
    vt = vt * np.where(signs == 0, 1.0, signs)[:, None]
    return Identifiability(
        names=names,
        values={n: float(v) for n, v in zip(names, np.asarray(x), strict=True)},
        matrix=relative,
        singular_values=s,
        directions=vt,
        loss=float(value),
    )


@eqx.filter_jit
def _jacobian(x, names, model, loss, mode):
    def residuals(x):
        r = loss.residuals(set_parameters(model, dict(zip(names, x, strict=True))))
        return r, r

    jacobian = jax.jacfwd if mode == "forward" else jax.jacrev
    matrix, r = jacobian(residuals, has_aux=True)(x)
    return jnp.sum(r**2), matrix
