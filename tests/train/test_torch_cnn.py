"""QCFS CNNs (Conv2d, AvgPool2d, MaxPool2d, Flatten, Linear) converted to conv SNNs: with
hybrid spikes one timestep reproduces the quantized ANN exactly (every hidden activation and
every logit), the modules that have no exact form are refused by name, and a checkpoint
converts through `spikeshift quantize`."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

import spikeshift  # noqa: E402
from spikeshift.gen.cli.main import main  # noqa: E402
from spikeshift.gen.frontends.torch_qcfs import (  # noqa: E402
    QCFS,
    disable_pot_qat,
    enable_pot_qat,
    sequential_to_network,
)

LEVELS = 3                                           # 2-bit spikes


def hybrid_cnn(seed: int, pool=nn.MaxPool2d) -> nn.Sequential:
    """1x8x8 -> conv 3x3 (pad 1) 4 -> avgpool 2 -> conv 3x3 6 -> pool 2 stride 1 -> dense 5."""
    torch.manual_seed(seed)
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1, bias=False), QCFS(levels=LEVELS, clip=1.5, pow2_step=True),
        nn.AvgPool2d(2),
        nn.Conv2d(4, 6, 3, bias=False), QCFS(levels=LEVELS, clip=0.09375, pow2_step=True),
        pool(2, stride=1), nn.Flatten(), nn.Linear(6, 5, bias=False))
    return enable_pot_qat(model, e_max=6)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("pool", [nn.MaxPool2d, nn.AvgPool2d])
def test_one_hybrid_timestep_reproduces_every_activation_and_logit_exactly(seed, pool):
    model = hybrid_cnn(seed, pool)
    x = np.random.default_rng(seed).integers(0, 16, (40, 1, 8, 8))
    activations = []
    hooks = [m.register_forward_hook(lambda m, i, o: activations.append(o))
             for m in model if isinstance(m, QCFS)]
    with torch.no_grad():
        logits = model(torch.tensor(x / 16, dtype=torch.float32)).numpy()
    for hook in hooks:
        hook.remove()
    net, errors = sequential_to_network(model, input_bits=4, timesteps=1, e_max=6,
                                        spike_bits=2, input_scale=1 / 16,
                                        input_shape=(1, 8, 8))
    kinds = [layer.kind for layer in net.layers]
    assert kinds == ["conv2d", "sumpool2d", "conv2d",
                     "maxpool2d" if pool is nn.MaxPool2d else "sumpool2d", "flatten", "dense"]
    assert all(e.threshold_error == 0 for e in errors)
    result = spikeshift.trace(net, x.reshape(len(x), 1, -1))
    for layer, act, qcfs in zip((0, 2), activations, (model[1], model[4])):
        steps = act.numpy() * LEVELS / float(qcfs.effective_clip().detach())   # levels 0..L
        np.testing.assert_array_equal(result.spikes[layer][:, 0], steps.reshape(len(x), -1))
    read_out = result.outputs.astype(np.float64)
    assert (read_out != 0).mean() > 0.5
    ratio = logits[read_out != 0] / read_out[read_out != 0]
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-6)      # logits = unit * membrane
    assert ((logits == 0) == (read_out == 0)).all()


@pytest.mark.parametrize("module, message", [
    (nn.Conv2d(1, 2, 3, dilation=2), (r"model\[0\] \(Conv2d\) dilation must be 1 to convert, "
                                     r"not \(2, 2\)")),
    (nn.Conv2d(2, 2, 3, groups=2), r"model\[0\] \(Conv2d\) groups must be 1 to convert, not 2"),
    (nn.Conv2d(1, 2, 3, padding="same"), (r"model\[0\] \(Conv2d\) padding must be integers to "
                                         r"convert, not 'same'")),
    (nn.Conv2d(1, 2, 3, padding=1, padding_mode="reflect"),
     r"model\[0\] \(Conv2d\) padding_mode must be 'zeros' to convert, not 'reflect'"),
])
def test_convolutions_without_an_exact_form_are_refused_by_name(module, message):
    model = nn.Sequential(module, QCFS(levels=3), nn.Flatten(), nn.LazyLinear(2))
    with pytest.raises(TypeError, match=f"^{message}$"):
        sequential_to_network(model, input_bits=1, timesteps=2, input_shape=(2, 6, 6))


@pytest.mark.parametrize("pool, message", [
    (nn.AvgPool2d(2, ceil_mode=True), r"model\[2\] \(AvgPool2d\) ceil_mode must be False"),
    (nn.AvgPool2d(2, padding=1), r"model\[2\] \(AvgPool2d\) padding must be 0"),
    (nn.AvgPool2d(2, divisor_override=3), (r"model\[2\] \(AvgPool2d\) divisor_override must be "
                                          r"None")),
    (nn.MaxPool2d(2, dilation=2), r"model\[2\] \(MaxPool2d\) dilation must be 1"),
])
def test_poolings_without_an_exact_form_are_refused_by_name(pool, message):
    model = nn.Sequential(nn.Conv2d(1, 2, 3), QCFS(levels=3), pool, nn.Flatten(),
                          nn.Linear(8, 2))
    with pytest.raises(TypeError, match=f"^{message} to convert"):
        sequential_to_network(model, input_bits=1, timesteps=2, input_shape=(1, 6, 6))


def test_pooling_a_pre_activation_and_a_missing_shape_are_refused():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.AvgPool2d(2), QCFS(levels=3), nn.Flatten(),
                          nn.Linear(8, 2))
    with pytest.raises(TypeError, match=r"^model\[1\] \(AvgPool2d\) must follow a QCFS "
                                        r"activation \(or the input\)"):
        sequential_to_network(model, input_bits=1, timesteps=2, input_shape=(1, 6, 6))
    with pytest.raises(ValueError, match=r"^input_shape \(--input-shape C,H,W\) must be given"):
        sequential_to_network(hybrid_cnn(0), input_bits=1, timesteps=2)


def test_quantize_converts_a_cnn_checkpoint_given_the_input_shape(tmp_path, capsys):
    model = disable_pot_qat(hybrid_cnn(5, nn.AvgPool2d))
    torch.save(model, tmp_path / "cnn.pt")
    args = ["quantize", str(tmp_path / "cnn.pt"), "-o", str(tmp_path / "cnn.json"),
            "--timesteps", "4", "--bits", "4"]
    assert main(args) == 2
    assert "input_shape (--input-shape C,H,W) must be given" in capsys.readouterr().err
    assert not (tmp_path / "cnn.json").exists()
    assert main(args + ["--input-shape", "1,8,8"]) == 0
    net = spikeshift.Network.load(tmp_path / "cnn.json")
    assert [layer.kind for layer in net.layers] == ["conv2d", "sumpool2d", "conv2d",
                                                    "sumpool2d", "flatten", "dense"]
    assert net.input.shape == (1, 8, 8) and net.timesteps == 4
    assert main(args[:-2] + ["--bits", "4", "--input-shape", "1,8"]) == 2
