"""Every registered layer kind is complete: an IR class, a hardware core, a golden current
and a loop reference, found through the registries."""

import numpy as np
import pytest

from spikeshift.gen.ir.design import plan
from spikeshift.gen.ir.kinds import KINDS
from spikeshift.gen.ir.layer import TAKES, Layer, LayerPlan, SimulationOnlyLayer
from spikeshift.gen.ir.synthetic import random_network
from spikeshift.hdl.cores import CORES
from spikeshift.sim.currents import CURRENTS

from .sim.reference import LOOP_CURRENTS


def test_every_kind_has_a_golden_current_a_loop_reference_and_a_core_if_it_says_so():
    assert KINDS.names() == CURRENTS.names() == tuple(sorted(LOOP_CURRENTS))
    with_core = tuple(name for name in KINDS if KINDS[name].has_core)
    assert with_core == CORES.names()           # both ways: no core undeclared, none missing
    assert {"dense", "conv2d", "sumpool2d", "maxpool2d", "flatten"} <= set(with_core)
    for name in KINDS:
        assert issubclass(KINDS[name], Layer) and KINDS[name].kind == name
        assert KINDS[name].takes in TAKES
        assert issubclass(KINDS[name], SimulationOnlyLayer) == (not KINDS[name].has_core)


def test_a_convolution_as_the_last_layer_is_planned_with_one_lane():
    net = random_network(np.random.default_rng(3), kinds=("conv2d",), max_layers=2)
    assert all(layer.kind == "conv2d" for layer in net.layers)
    design = plan(net, 4)
    assert design.lanes[-1] == 1
    assert design.layers[-1].out_banks == 1 and design.layers[-1].out_depth == net.n_out


@pytest.mark.parametrize("kinds", [None, ("conv2d", "sumpool2d", "maxpool2d", "flatten",
                                          "dense")])
def test_a_kinds_plan_is_a_layer_plan_with_its_memories(kinds):
    design = plan(random_network(np.random.default_rng(0), max_layers=3, kinds=kinds))
    for layer, lp in design.pairs():
        assert isinstance(lp, LayerPlan) and lp.kind == layer.kind
        assert lp.memories or layer.kind == "flatten"     # flatten only copies entries
        assert all(m.bits == m.depth * m.width for m in lp.memories)


def test_an_unknown_kind_is_named_with_the_registered_ones():
    with pytest.raises(KeyError, match=r"no hardware core for layer kind 'conv9d'; "
                                       r"registered: 'conv2d', 'dense', 'flatten', 'maxpool2d', "
                                       r"'sumpool2d'"):
        CORES["conv9d"]
