"""The type the golden model multiplies in: exact at the edge of each range, and the next one
chosen where the narrower would round."""

import numpy as np
import pytest

from spikeshift import predict
from spikeshift.gen.ir.formats import IntFormat
from spikeshift.gen.ir.kinds.dense import DenseLayer
from spikeshift.gen.ir.network import InputSpec, Network, OutputSpec
from spikeshift.gen.ir.neuron import Neuron
from spikeshift.gen.ir.weights import IntWeights
from spikeshift.sim import golden
from spikeshift.sim.currents.products import product_dtype

from .reference import loop_reference


@pytest.mark.parametrize("magnitude, dtype", [
    (0, np.float32), (2**24 - 1, np.float32), (2**24, np.float64),
    (2**53 - 1, np.float64), (2**53, np.int64), (2**62, np.int64)])
def test_product_type_is_the_narrowest_exact_one(magnitude, dtype):
    assert product_dtype(magnitude) is dtype


def integrator(weights, *, bits=1):
    """One integrator neuron whose membrane (wide enough never to saturate) is the current."""
    values = np.array([weights])
    layer = DenseLayer(size=1, weights=IntWeights(bits=24, values=values),
                       neuron=Neuron(model="integrator", v=IntFormat(bits=30)))
    return Network(name="bound", timesteps=1, input=InputSpec(size=values.shape[1], bits=bits),
                   layers=(layer,), output=OutputSpec(mode="membrane"))


def test_float32_products_are_exact_at_their_bound():
    """Partial sums up to 2**24 - 1, the largest that float32 holds with its neighbours:
    float32 is chosen and every current is exact."""
    net = integrator([2**23 - 1, 2**23 - 1, 1])
    assert net.layers[0].current_range(1).magnitude == 2**24 - 1
    assert product_dtype(2**24 - 1) is np.float32
    x = np.array([[[a, b, c]] for a in (0, 1) for b in (0, 1) for c in (0, 1)])
    outputs = predict(net, x)[0]
    np.testing.assert_array_equal(outputs, loop_reference(net, x)[0])
    assert outputs.max() == 2**24 - 1


def test_products_one_past_the_float32_bound_are_not_rounded():
    """Partial sums reaching 2**24 + 1, which float32 rounds to 2**24 in any order of
    summation: the chooser must take a wider type."""
    weights = [2**23 - 1, 2**23 - 1, 3]
    net = integrator(weights)
    assert net.layers[0].current_range(1).magnitude == 2**24 + 1
    as_float32 = np.ones((1, 3), np.float32) @ np.array(weights, np.float32)[:, None]
    assert as_float32[0, 0] == 2**24                       # float32 would be wrong here
    np.testing.assert_array_equal(predict(net, np.ones((1, 1, 3), int))[0], [[2**24 + 1]])


def test_partial_sums_bound_the_type_even_when_the_current_is_small():
    """Weights 2**23 - 1 twice and -(2**24 - 2): every current is at most 3, but a partial
    sum reaches 2**24 + 1, beyond float32's exact integers."""
    net = integrator([2**23 - 1, 2**23 - 1, -(2**23 - 1), -(2**23 - 1), 3])
    assert net.layers[0].current_range(1).magnitude == 2**24 + 1
    x = np.array([[[1, 1, 1, 1, 1]], [[1, 1, 0, 1, 1]], [[0, 0, 1, 1, 1]]])
    np.testing.assert_array_equal(predict(net, x)[0], [[3], [2**23 + 2], [-(2**24 - 2) + 3]])
    np.testing.assert_array_equal(predict(net, x)[0], loop_reference(net, x)[0])


def test_the_golden_model_multiplies_on_one_blas_thread_and_restores_the_pool(monkeypatch):
    threadpoolctl = pytest.importorskip("threadpoolctl")

    def blas_threads():
        # numpy's own BLAS, which the golden model's products run on; another package's,
        # loaded later in the same process (scipy's), is not the golden model's to limit
        pools = [pool for pool in threadpoolctl.threadpool_info() if pool["user_api"] == "blas"]
        own = [pool for pool in pools if "numpy" in pool["filepath"]] or pools
        return [pool["num_threads"] for pool in own]
    before = blas_threads()
    net = integrator([1, 2, 3])
    feed_forward = golden._currents(net)[0][0]
    seen = []

    def recording(s):
        seen.append(blas_threads())
        return feed_forward(s)
    monkeypatch.setitem(golden._CURRENTS, net,
                        [(recording, *golden._CURRENTS[net][0][1:])])
    predict(net, np.ones((2, 1, 3), int))
    assert seen and all(threads == [1] * len(before) for threads in seen)
    assert blas_threads() == before
