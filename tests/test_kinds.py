"""Every registered layer kind is complete: an IR class, a hardware core, a golden current
and a loop reference, found through the registries."""

import numpy as np
import pytest

from spikeshift.gen.ir.design import plan
from spikeshift.gen.ir.kinds import KINDS
from spikeshift.gen.ir.layer import Layer, LayerPlan
from spikeshift.gen.ir.synthetic import random_network
from spikeshift.hdl.cores import CORES
from spikeshift.sim.currents import CURRENTS

from .sim.reference import LOOP_CURRENTS


def test_every_kind_has_a_core_a_golden_current_and_a_loop_reference():
    assert KINDS.names() == CORES.names() == CURRENTS.names() == tuple(sorted(LOOP_CURRENTS))
    assert "dense" in KINDS
    for name in KINDS:
        assert issubclass(KINDS[name], Layer) and KINDS[name].kind == name


def test_a_kinds_plan_is_a_layer_plan_with_its_memories():
    design = plan(random_network(np.random.default_rng(0), max_layers=3))
    for layer, lp in design.pairs():
        assert isinstance(lp, LayerPlan) and lp.kind == layer.kind
        assert lp.memories and all(m.bits == m.depth * m.width for m in lp.memories)


def test_an_unknown_kind_is_named_with_the_registered_ones():
    with pytest.raises(KeyError, match=r"no hardware core for layer kind 'conv9d'; "
                                       r"registered: 'dense'"):
        CORES["conv9d"]
