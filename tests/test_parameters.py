"""Parameters by name: read, replace, vmap, differentiate, and clear errors."""

import dataclasses

import jax
import jax.numpy as jnp
import pytest

import jaxneuron as jn
from jaxneuron.parameters import get_parameter, parameter_names, set_parameters


def test_every_listed_name_round_trips():
    for model in (jn.build_Prinz(), jn.build_HH(), jn.pyloric_circuit(), jn.build_AdEx()):
        for name in parameter_names(model):
            # a shifted value keeps every constructor check (V_T below V_peak, g >= 0, ...)
            value = float(get_parameter(model, name)) + 0.5
            new = set_parameters(model, {name: value})
            assert float(get_parameter(new, name)) == value, name
            # nothing else changed
            for other in parameter_names(model):
                if other != name:
                    assert float(get_parameter(new, other)) == float(get_parameter(model, other)), (
                        name,
                        other,
                    )


def test_matches_direct_construction():
    a = set_parameters(jn.build_Prinz(), {"CaS.g": 4.0, "Kd.g": 50.0})
    b = jn.build_Prinz(config=jn.PrinzConfig(CaS_g=4.0, DRK_g=50.0))
    ya = jn.simulate(a, 50.0, solver=jn.ExponentialEuler(dt=0.025)).ys
    yb = jn.simulate(b, 50.0, solver=jn.ExponentialEuler(dt=0.025)).ys
    assert jnp.allclose(ya, yb)


def test_synapse_entry_of_a_vector_leaf():
    net = jn.pyloric_circuit()
    new = set_parameters(net, {"AB->LP.g_nS": 3.0})
    names = parameter_names(net)
    changed = [n for n in names if float(get_parameter(new, n)) != float(get_parameter(net, n))]
    assert changed == ["AB->LP.g_nS"]


def test_vmap_and_grad():
    model = jn.build_HH(10.0)
    pop = jax.vmap(lambda g: set_parameters(model, {"Na.g": g}))(jnp.arange(3.0))
    assert pop.channel("Na").g.shape == (3,)

    def f(g):
        return get_parameter(set_parameters(model, {"K.g": g}), "K.g") ** 2

    assert float(jax.grad(f)(3.0)) == pytest.approx(6.0)


def test_errors_name_the_parameter():
    model = jn.build_Prinz()
    with pytest.raises(KeyError, match="did you mean 'Na.g'"):
        set_parameters(model, {"Na.gg": 1.0})
    with pytest.raises(KeyError, match="not a number"):
        set_parameters(model, {"CaS": 1.0})
    with pytest.raises(ValueError, match="scalar"):
        set_parameters(model, {"CaS.g": jnp.ones(3)})


def test_one_naming_module_for_neurons_circuits_and_networks_of_populations():
    """A network of populations is named through the same walk as a neuron and a circuit
    (its populations and projections are named parts): names round-trip, a population
    sweeps them, the constructors' checks run on the parts changed, and unknown or
    ambiguous names fail with the known ones."""
    from jaxneuron.parameters import population, swept_axes

    net, _, _ = jn.cobahh(40, p=0.1, seed=0)
    for name in ("E->I.scale", "E->E.receptor.tau", "E.Na.g", "I.C"):
        value = float(get_parameter(net, name)) * 1.5
        assert float(get_parameter(set_parameters(net, {name: value}), name)) == value
    models, axes = population(net, {"E->I.scale": jnp.asarray([1.0, 2.0])})
    k = [p.label for p in net.projections].index("E->I")
    assert models.projections[k].scale.shape == (2,) and axes.projections[k].scale == 0
    assert swept_axes(net, ["E.Na.g"]).populations[0].neuron.channel("Na").g == 0
    with pytest.raises(ValueError, match="must be >= 0"):
        set_parameters(net, {"E.Na.g": -1.0})
    with pytest.raises(KeyError, match="did you mean 'E->I.scale'"):
        get_parameter(net, "E->I.scal")
    first, second, *rest = net.projections
    twice = dataclasses.replace(
        net, projections=(first, dataclasses.replace(second, name=first.label), *rest)
    )
    with pytest.raises(KeyError, match="several projections"):
        get_parameter(twice, net.projections[0].label + ".scale")
