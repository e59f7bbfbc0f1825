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
