import numpy as np
import pytest

from spikeshift.gen.ir.codec import network_from_dict
from spikeshift.gen.ir.design import current_range, default_lanes, plan_network

from .test_description import valid


@pytest.mark.parametrize("size, lanes", [(10, 10), (16, 16), (17, 9), (128, 16), (100, 15),
                                         (1, 1)])
def test_default_lanes_keep_the_fewest_chunks_with_the_fewest_idle_lanes(size, lanes):
    assert default_lanes(size) == lanes


def test_accumulator_holds_the_worst_case_current_and_no_more():
    net = network_from_dict(valid())
    # layer 0: inputs up to 15; rows [1, -2, 0] and [8, 4, -1] -> I in [-30, 180]
    assert current_range(net, 0) == (-30, 180, -30, 180)
    plan = plan_network(net)
    assert plan.layers[0].accumulator.bits == 9          # [-256, 255] holds 180, not [-128, 127]
    # layer 1: binary spikes, rows [3, -4] and [-8, 7] -> I in [-8, 7]
    assert plan.layers[1].accumulator.bits == 4
    assert plan.result.bits == 16                         # membrane read-out


def test_lanes_option_accepts_one_value_or_one_per_layer_and_names_bad_ones():
    net = network_from_dict(valid())
    assert plan_network(net, 1).lanes == (1, 1)
    assert plan_network(net, [2, 1]).lanes == (2, 1)
    with pytest.raises(ValueError, match=r"^lanes\[0\] must be an integer in \[1, 2\], "
                                         r"not 3$"):
        plan_network(net, [3, 1])
    with pytest.raises(ValueError, match=r"^lanes must give one value per layer \(2\), not 1$"):
        plan_network(net, [1])


def test_step_cycles_formula():
    plan = plan_network(network_from_dict(valid()), [1, 2])
    np.testing.assert_array_equal(plan.layers[0].step_cycles([0, 3]), [2 * 1 + 3, 2 * 4 + 3])
    assert plan.layers[1].step_cycles(2) == 1 * 3 + 3
