import numpy as np
import pytest

torch = pytest.importorskip("torch")

import spikeshift  # noqa: E402
from spikeshift.gen.frontends.torch_qcfs import QCFS, enable_pot_qat, sequential_to_network  # noqa: E402


def test_qcfs_quantizes_clips_and_passes_gradients_straight_through():
    act = QCFS(levels=4, clip=2.0)
    x = torch.tensor([-1.0, 0.2, 0.3, 0.76, 1.9, 5.0], requires_grad=True)
    y = act(x)
    # floor(x * 4 / 2 + 0.5) / 4 * 2, clipped to [0, 2]
    np.testing.assert_allclose(y.detach().numpy(), [0, 0, 0.5, 1.0, 2.0, 2.0])
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0, 1, 1, 1, 1, 0])
    # dλ: 1 per clipped input, floor(q) - q per unclipped one (q = x / λ, floor on L levels)
    assert act.clip.grad.item() == pytest.approx(1 + (0 - 0.1) + (0.25 - 0.15) + (0.5 - 0.38)
                                                 + (1.0 - 0.95))


def test_pot_qat_forward_uses_exactly_the_weights_the_converter_writes():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(6, 5), QCFS(levels=4, clip=1.5),
                                torch.nn.Linear(5, 3))
    enable_pot_qat(model, e_max=4)
    net, _ = sequential_to_network(model, input_bits=4, timesteps=4, e_max=4)
    for linear, layer in zip([model[0], model[2]], net.layers):
        w = linear.weight.detach().numpy()
        nonzero = layer.weights.values != 0
        ratio = w[nonzero] / layer.weights.values[nonzero]
        np.testing.assert_allclose(ratio, ratio[0], rtol=1e-6)      # one scale per layer
        assert ((w == 0) == ~nonzero).all()


def test_converted_snn_tracks_the_qcfs_ann_on_random_data():
    torch.manual_seed(1)
    model = torch.nn.Sequential(torch.nn.Linear(20, 32), QCFS(levels=8, clip=1.0),
                                torch.nn.Linear(32, 5))
    enable_pot_qat(model, e_max=7)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 16, (200, 20))
    with torch.no_grad():
        ann = model(torch.tensor(x / 15, dtype=torch.float32)).argmax(1).numpy()
    net, errors = sequential_to_network(model, input_bits=4, timesteps=32)
    _, snn = spikeshift.predict(net, np.repeat(x[:, None], 32, axis=1))
    assert (snn == ann).mean() > 0.9
    assert errors[0].threshold_error < 0.002


def test_converter_names_the_module_it_cannot_convert():
    model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    with pytest.raises(TypeError, match=r"^model\[1\] \(ReLU\) cannot be converted: a QCFS "
                                        r"model holds only Linear, Conv2d, QCFS, AvgPool2d, "
                                        r"MaxPool2d, Flatten, Identity and Dropout "
                                        r"\(and a first Unflatten\)$"):
        sequential_to_network(model, input_bits=1, timesteps=4)


def test_hybrid_spikes_reproduce_the_quantized_ann_in_one_timestep():
    torch.manual_seed(2)
    levels = 3                                            # 2-bit spikes
    model = torch.nn.Sequential(torch.nn.Linear(20, 32),
                                QCFS(levels=levels, clip=1.3, pow2_step=True),
                                torch.nn.Linear(32, 16),
                                QCFS(levels=levels, clip=0.7, pow2_step=True),
                                torch.nn.Linear(16, 5))
    enable_pot_qat(model, e_max=6)
    x = np.random.default_rng(0).integers(0, 16, (300, 20))
    with torch.no_grad():
        ann = model(torch.tensor(x / 16, dtype=torch.float32)).argmax(1).numpy()
    net, errors = sequential_to_network(model, input_bits=4, timesteps=1, e_max=6,
                                        spike_bits=2, input_scale=1 / 16)
    assert [layer.neuron.spike_bits for layer in net.layers[:-1]] == [2, 2]
    assert all(e.threshold_error == 0 for e in errors)
    _, snn = spikeshift.predict(net, x[:, None, :])
    assert (snn == ann).mean() > 0.97


def test_hybrid_conversion_refuses_thresholds_that_are_not_powers_of_two():
    model = torch.nn.Sequential(torch.nn.Linear(4, 4), QCFS(levels=3, clip=1.3),
                                torch.nn.Linear(4, 2))
    with pytest.raises(ValueError, match=r"^layer 0: with spike_bits=2 the threshold"):
        sequential_to_network(model, input_bits=4, timesteps=1, spike_bits=2, input_scale=1 / 16)
