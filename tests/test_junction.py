"""A fitted liquid-junction potential: recovered beside a conductance from recordings
offset by it, and refused where it does not apply (voltage clamp)."""

import numpy as np
import pytest

import jaxneuron as jn
import jaxneuron.fit as jf
from jaxneuron.clamp import VoltageClamp
from jaxneuron.protocols import noisy

SOLVER = jn.ExponentialEuler(dt=0.025)


def test_junction_potential_and_conductance_recovered_from_offset_subthreshold_steps():
    protocol = jn.Protocol.steps([-4.0, -2.0, 1.0], onset=10.0, offset=50.0, t1=60.0)
    truth = jn.build_HH()
    loss = jf.ProtocolLoss.from_model(truth, protocol, dt=0.1, solver=SOLVER)
    recorded = np.asarray(loss.targets) + 9.0  # what the amplifier read: V + V_LJ
    recorded = noisy(recorded, 0.5, seed=1)
    fitted = jf.JunctionPotential(
        jf.ProtocolLoss(protocol, recorded, dt=0.1, solver=SOLVER), initial=0.0
    )
    start = jn.set_parameters(truth, {"K.g": 30.0})
    result = jf.fit(start, fitted, "K.g", steps=60)
    assert result.names == ("K.g", "junction_potential")
    assert result.values["junction_potential"] == pytest.approx(9.0, abs=0.1)
    assert result.values["K.g"] == pytest.approx(36.0, rel=0.01)
    assert result.initial_values["junction_potential"] == 0.0
    # evaluated on a plain model, the loss uses the initial junction potential
    assert float(fitted(truth)) == pytest.approx(
        float(jf.ProtocolLoss(protocol, recorded, dt=0.1, solver=SOLVER)(truth)), rel=1e-12
    )


def test_junction_potential_refuses_voltage_clamp_and_feature_losses():
    clamp = VoltageClamp.steps(holding=-70.0, levels=[0.0], onset=5.0, offset=15.0, t1=20.0)
    vc = jf.ProtocolLoss(clamp, np.zeros((1, 201)), dt=0.1)
    with pytest.raises(ValueError, match="command potentials"):
        jf.JunctionPotential(vc)
    with pytest.raises(TypeError, match="TraceLoss"):
        jf.JunctionPotential(jf.FeatureLoss([jf.FiringRate(10.0)], t1=40.0))


def test_junction_potential_knows_its_noise_floor_and_anneals():
    """The noise floor is the wrapped loss's (an offset leaves the noise as it is), so a
    fit that stops far above it says so; `anneal` (and `fit`'s recovery) couple the model
    to the corrected recording and carry the junction potential from stage to stage."""
    protocol = jn.Protocol.steps([-4.0, 1.0], onset=10.0, offset=50.0, t1=60.0)
    truth = jn.build_HH()
    plain = jf.ProtocolLoss.from_model(truth, protocol, dt=0.1, solver=SOLVER, noise_sd=0.5)
    recorded = jf.ProtocolLoss(protocol, np.asarray(plain.targets) + 9.0, dt=0.1, solver=SOLVER)
    fitted = jf.JunctionPotential(recorded, initial=0.0)
    assert fitted.noise_floor() == pytest.approx(plain.noise_floor(), rel=1e-9)
    assert 0.2 < fitted.noise_floor() < 0.3  # 0.5² mV²
    assert (
        fitted.synchronisable()
        and not jf.FeatureLoss([jf.FiringRate(1.0)], t1=9.0).synchronisable()
    )
    start = jn.set_parameters(truth, {"K.g": 30.0})
    annealed = jf.anneal(start, fitted, "K.g", gains=(3.0, 0.0), steps=30)
    first, last = annealed.stages
    assert last.initial_values["junction_potential"] == first.values["junction_potential"]
    assert last.values["junction_potential"] == pytest.approx(9.0, abs=0.1)
    assert last.values["K.g"] == pytest.approx(36.0, rel=0.01) and last.converged
