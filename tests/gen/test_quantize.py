import json

import numpy as np
import pytest

from spikeshift import predict
from spikeshift.gen.cli.main import main
from spikeshift.gen.flow.evaluate import evaluate_quantization
from spikeshift.gen.frontends.quantize import (
    FloatLayer,
    FloatNetwork,
    load_float_network,
    quantize_network,
    simulate_float,
)
from spikeshift.gen.ir.formats import IntFormat
from spikeshift.gen.ir.kinds.dense import DenseLayer
from spikeshift.gen.ir.network import InputSpec, Network, OutputSpec
from spikeshift.gen.ir.neuron import Neuron
from spikeshift.gen.ir.weights import IntWeights, PotWeights


def float_description(rng, beta=1.0):
    w1 = rng.normal(0, 0.3, (16, 12))
    w2 = rng.normal(0, 0.5, (4, 16))
    return {
        "format": "spikeshift-float-network", "version": 1, "name": "float", "timesteps": 8,
        "input": {"size": 12, "bits": 2},
        "layers": [
            {"kind": "dense", "size": 16, "weights": w1.tolist(), "bias": None,
             "neuron": {"model": "lif" if beta < 1 else "if", "threshold": 1.0, "beta": beta,
                        "reset": "subtract", "v_init": 0.5, "spike_bits": 1}},
            {"kind": "dense", "size": 4, "weights": w2.tolist(), "bias": [0.1, 0, 0, -0.1],
             "neuron": {"model": "integrator"}},
        ],
        "output": {"mode": "membrane"},
    }


# The first layer's largest |w| is 0.719. Int weights of 8 bits: the largest power-of-two scale
# that keeps it within 127 is 2^7 (0.719 * 128 = 92), so the threshold 1.0 becomes 128 and the
# codes are round(w * 128). PoT weights of 5 bits (e_max 14): the scale 2^14 maps 0.719 to at
# most 2^14, and the threshold 1.0 becomes 16384 (already at least MIN_THRESHOLD, no boost).
@pytest.mark.parametrize("weights, bits, threshold, scale, codes", [
    ("int", 8, 128, "2^7", IntWeights),
    ("pot", 5, 16384, "2^14", PotWeights),
])
def test_quantized_network_agrees_with_the_float_network(tmp_path, weights, bits, threshold,
                                                         scale, codes):
    rng = np.random.default_rng(0)
    description = float_description(rng)
    (tmp_path / "float.json").write_text(json.dumps(description))
    net = load_float_network(tmp_path / "float.json")
    x = rng.integers(0, 4, (300, 8, 12))
    quantized, report = quantize_network(net, weights=weights, bits=bits)
    evaluate_quantization(net, quantized, report, x)
    assert report.accuracy["agreement with the float network"] > 0.95
    first = quantized.layers[0]
    assert first.neuron.threshold == threshold
    assert report.layers[0]["scale"] == scale
    assert report.layers[0]["threshold_error"] == "0.000%"
    assert type(first.weights) is codes
    w = np.array(description["layers"][0]["weights"])
    if weights == "int":
        assert first.weights.bits == 8
        expected = np.round(w * 128)
    else:
        assert (first.weights.e_min, first.weights.e_max) == (0, 14)
        # each code is the nearest of 0, ±1, ±2, ..., ±2^14 to w * 2^14 (ties away from zero)
        u = w * 16384
        levels = np.array([2.0 ** e for e in range(14, -1, -1)] + [0.0])
        nearest = levels[np.argmin(np.abs(np.abs(u)[..., None] - levels), axis=-1)]
        expected = np.sign(u) * nearest
    np.testing.assert_array_equal(first.weights.values, expected)
    # the float threshold is 1.0, so the integer threshold is the scale
    relative_rms = np.sqrt(np.mean((expected / threshold - w) ** 2) / np.mean(w ** 2))
    assert report.layers[0]["weight_rms_error"] == round(float(relative_rms), 4)
    assert "membrane_headroom" in report.layers[1]


def test_beta_maps_to_the_nearest_shift_and_is_reported(tmp_path):
    rng = np.random.default_rng(1)
    (tmp_path / "float.json").write_text(json.dumps(float_description(rng, beta=0.9)))
    quantized, report = quantize_network(load_float_network(tmp_path / "float.json"))
    assert quantized.layers[0].neuron.leak.shift == 3
    assert report.layers[0]["leak"] == "beta 0.9 -> shift 3 (beta 0.875)"


def test_float_simulation_of_integer_valued_network_equals_the_golden_model():
    rng = np.random.default_rng(2)
    w1, w2 = rng.integers(-4, 6, (16, 12)), rng.integers(-4, 5, (4, 16))
    net = Network(name="i", timesteps=8, input=InputSpec(size=12, bits=2), layers=(
        DenseLayer(size=16, weights=IntWeights(bits=8, values=w1),
                   neuron=Neuron(model="if", v=IntFormat(bits=24), threshold=8, v_init=4)),
        DenseLayer(size=4, weights=IntWeights(bits=8, values=w2),
                   neuron=Neuron(model="integrator", v=IntFormat(bits=24)))),
        output=OutputSpec(mode="membrane"))
    fnet = FloatNetwork(name="f", timesteps=8, input=net.input, output=net.output, layers=(
        FloatLayer(weights=w1.astype(float), bias=None, model="if", threshold=8.0, beta=1.0,
                   reset="subtract", v_init=4.0, spike_bits=1),
        FloatLayer(weights=w2.astype(float), bias=None, model="integrator", threshold=None,
                   beta=1.0, reset="none", v_init=0.0, spike_bits=1)))
    x = rng.integers(0, 4, (20, 8, 12))
    np.testing.assert_array_equal(simulate_float(fnet, x)[0], predict(net, x)[0])


def test_quantize_command_writes_a_loadable_description_and_the_report(tmp_path, capsys):
    rng = np.random.default_rng(3)
    (tmp_path / "float.json").write_text(json.dumps(float_description(rng)))
    x = rng.integers(0, 4, (50, 8, 12))
    np.save(tmp_path / "x.npy", x)
    assert main(["quantize", str(tmp_path / "float.json"), "-o", str(tmp_path / "net.json"),
                 "--weights", "pot", "--bits", "4", "--data", str(tmp_path / "x.npy"),
                 "--report", str(tmp_path / "report.txt")]) == 0
    text = (tmp_path / "report.txt").read_text()
    assert "weight_rms_error" in text and "agreement with the float network" in text
    assert main(["predict", str(tmp_path / "net.json"), str(tmp_path / "x.npy"), "-o",
                 str(tmp_path / "out.npz")]) == 0
