import diffrax
import jax.numpy as jnp
import numpy as np
import optimistix as optx

from jaxneuron import TRBDF2


def _solve_fixed(n):
    # y' = −y + sin 3t, y(0) = 1;  y(t) = 1.3 e^{−t} + (sin 3t − 3 cos 3t)/10
    term = diffrax.ODETerm(lambda t, y, args: -y + jnp.sin(3 * t))
    solver = TRBDF2(root_finder=optx.Newton(rtol=1e-13, atol=1e-13))
    sol = diffrax.diffeqsolve(term, solver, 0.0, 2.0, 2.0 / n, jnp.asarray(1.0))
    exact = 1.3 * np.exp(-2.0) + (np.sin(6.0) - 3 * np.cos(6.0)) / 10
    return abs(float(sol.ys[-1]) - exact)


def test_second_order_convergence():
    ns = [20, 40, 80, 160]
    errors = [_solve_fixed(n) for n in ns]
    order = -np.polyfit(np.log(ns), np.log(errors), 1)[0]
    print(f"TRBDF2 measured order {order:.3f}")
    assert 1.95 < order < 2.05


def test_tableau_is_tr_bdf2():
    tab = TRBDF2.tableau
    gamma = 2 - np.sqrt(2)
    np.testing.assert_allclose(tab.c, [gamma, 1.0])
    # the second stage is the trapezoidal rule on [0, γh]
    np.testing.assert_allclose(tab.a_lower[0], [gamma / 2])
    np.testing.assert_allclose(tab.a_diagonal, [0, gamma / 2, gamma / 2])
    # stiffly accurate: the solution is the last stage
    np.testing.assert_allclose(tab.b_sol, [*tab.a_lower[1], tab.a_diagonal[-1]])


def test_l_stability():
    # R(z) = 1 + z bᵀ (I − zA)⁻¹ 1 → 0 as z → −∞
    tab = TRBDF2.tableau
    A = np.zeros((3, 3))
    A[1, :1] = tab.a_lower[0]
    A[2, :2] = tab.a_lower[1]
    A += np.diag(tab.a_diagonal)
    for z in (-1e3, -1e6):
        R = 1 + z * tab.b_sol @ np.linalg.solve(np.eye(3) - z * A, np.ones(3))
        assert abs(R) < 10 / abs(z)


def test_stiff_problem_needs_few_steps():
    # Robertson's chemical kinetics: rates spanning 10⁻² … 10⁷ (a classic stiff test)
    def robertson(t, y, args):
        y1, y2, y3 = y
        return jnp.stack(
            [
                -0.04 * y1 + 1e4 * y2 * y3,
                0.04 * y1 - 1e4 * y2 * y3 - 3e7 * y2**2,
                3e7 * y2**2,
            ]
        )

    term = diffrax.ODETerm(robertson)
    y0 = jnp.asarray([1.0, 0.0, 0.0])
    controller = diffrax.PIDController(rtol=1e-6, atol=1e-9)
    implicit = diffrax.diffeqsolve(
        term, TRBDF2(), 0.0, 100.0, 1e-4, y0, stepsize_controller=controller, max_steps=10_000
    )
    explicit = diffrax.diffeqsolve(
        term,
        diffrax.Tsit5(),
        0.0,
        100.0,
        1e-4,
        y0,
        stepsize_controller=controller,
        max_steps=10_000,
        throw=False,
    )
    reference = diffrax.diffeqsolve(
        term,
        diffrax.Kvaerno5(),
        0.0,
        100.0,
        1e-6,
        y0,
        stepsize_controller=diffrax.PIDController(rtol=1e-10, atol=1e-14),
        max_steps=100_000,
    )
    steps_implicit = int(implicit.stats["num_steps"])
    print(
        f"Robertson to t=100: TRBDF2 {steps_implicit} steps, Tsit5 "
        f"{int(explicit.stats['num_steps'])} steps ({explicit.result})"
    )
    assert steps_implicit < 1000
    assert int(explicit.stats["num_steps"]) > 10 * steps_implicit
    np.testing.assert_allclose(implicit.ys[-1], reference.ys[-1], rtol=1e-3, atol=1e-9)
    assert abs(float(jnp.sum(implicit.ys[-1])) - 1.0) < 1e-6  # mass conservation
