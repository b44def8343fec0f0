"""The hybrid-spiking Legendre Memory Unit on row-sequential MNIST, from spikeshift's blocks.

    python examples/lmu/run.py                    # make example-lmu

A Legendre Memory Unit (LMU) keeps a window of its input u_t in d Legendre coefficients,
``m_t = Ā m_{t-1} + B̄ u_t`` (Ā, B̄: the LMU's continuous A, B discretised by zero-order
hold over a window of 28 steps), and a hidden layer ``h_t = relu(W_m m_t + W_h h_{t-1} + b)``
reads it; here ``u_t = e · x_t`` of the image row x_t, and the class is ``W_o`` applied to
the mean of h over the 28 rows. The float LMU is trained first.

Its hybrid-spiking form quantizes every activation to multi-bit spikes. The memory's
quantizers diffuse their error in time, which is exactly an IF neuron with reset by
subtraction: it adds its input to v, emits s = min(floor(v / θ), 2^S - 1) and keeps v - sθ,
the quantization error, for the next step, so θ·s tracks the memory with an error that never
accumulates. The memory is signed, so its neurons carry an offset c in whole spikes
(``m + c >= 0``: a bias (I - Ā) c on the memory, its r(-1) = c / θ, -W_m c on the hidden
layer), and a change of basis gives every coefficient the same range, so one θ suits them
all. The hidden ReLU cannot diffuse its error in DESIGN §3 arithmetic (an IF neuron would
integrate the negative pre-activations that the ReLU drops), so it quantizes each step on its
own: a neuron with the β = 0 leak v - (v >> 0), s = min(floor(z / θ + 1/2), 2^S - 1). In
spikeshift's blocks:

- layer 0 (memory, d neurons): dense weights B̄ e, recurrent weights Ā θ_m, IF, reset by
  subtraction, v_init = θ/2 (round to nearest), S_m spike bits;
- layer 1 (hidden, H neurons): dense weights W_m θ_m, recurrent W_h θ_h, the β = 0 neuron
  with a bias of θ/2 (round to nearest), S_h spike bits;
- layer 2 (read-out): dense W_o θ_h, an integrator whose final membrane is T times the
  logits.

Every weight is an integer at one power-of-two unit per layer (``--weight-bits``), so the
PyTorch simulation of the spiking network is exact integer arithmetic; a few epochs of
quantization-aware training (straight-through gradients through the quantizers and the
weight grid) recover what conversion lost. The table gives float LMU, converted and trained
hybrid-spiking accuracy (PyTorch and spikeshift's golden model, which agree on every image),
the average activity bits per neuron and timestep (the bits of each spike value,
ceil(log2(s + 1))), and the synaptic operations (SOPs) per image.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from scipy.linalg import expm
from tqdm import tqdm

import spikeshift
from spikeshift.gen.frontends.convert import membrane_format_for
from spikeshift.gen.ir.formats import signed_bits_for
from spikeshift.gen.ir.kinds.dense import DenseLayer
from spikeshift.gen.ir.network import InputSpec, Network, OutputSpec
from spikeshift.gen.ir.neuron import Neuron, ShiftLeak
from spikeshift.gen.ir.weights import IntWeights

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from datasets import load_rows  # noqa: E402  (examples/datasets.py)

ROWS = COLUMNS = 28
INPUT_BITS = 4
#: log2 of a threshold in integer units: θ = 2^THETA_SHIFT units, so the units are θ / 2^8.
THETA_SHIFT = 8


def lmu_matrices(order: int, window: float) -> tuple[np.ndarray, np.ndarray]:
    """Ā, B̄ of the LMU (Voelker et al. 2019) for `order` coefficients over `window` steps."""
    i = np.arange(order)[:, None]
    j = np.arange(order)[None, :]
    a = (2 * i + 1) / window * np.where(i < j, -1.0, (-1.0) ** (i - j + 1))
    b = (2 * np.arange(order) + 1) * (-1.0) ** np.arange(order) / window
    a_bar = expm(a)
    b_bar = np.linalg.solve(a, (a_bar - np.eye(order)) @ b)
    return a_bar, b_bar


def on_grid(w, step: float, bits: int):
    """`w` as ``step * round(w / step)`` within `bits` signed integers, with the
    straight-through gradient."""
    limit = ((1 << (bits - 1)) - 1) * step
    q = torch.clamp(torch.round(w / step) * step, -limit, limit)
    return w + (q - w).detach()


def relu_quantize(drive, theta, levels):
    """The hidden layer's quantized ReLU, min(floor(z / θ + 1/2), 2^S - 1) of each step's
    pre-activation z, with the gradient of the clipped ReLU z / θ in [0, 2^S - 1]."""
    exact = torch.clamp(torch.floor(drive / theta + 0.5), 0, levels)
    smooth = torch.clamp(drive / theta, 0, levels)
    return smooth + (exact - smooth).detach()


def quantize(v, drive, theta, levels):
    """One step of the quantizer with diffused error (IF, reset by subtraction, multi-bit
    spikes); the straight-through gradient treats s as (v + drive) / θ."""
    v = v + drive
    exact = torch.clamp(torch.floor(v / theta), 0, levels)
    s = v / theta + (exact - v / theta).detach()
    return s, v - theta * exact


class LMU(torch.nn.Module):
    """The float LMU, and its hybrid-spiking form once `to_spiking` has set the quantizers.

    In the spiking form every weight is on the integer grid of the neuron it feeds (a unit of
    θ / 2^THETA_SHIFT), so the float32 arithmetic of `forward` is exact and equals
    spikeshift's; it then returns the exact logits times 28 (the read-out integrates)."""

    def __init__(self, order: int, hidden: int):
        super().__init__()
        a_bar, b_bar = lmu_matrices(order, ROWS)
        self.register_buffer("a_bar", torch.tensor(a_bar, dtype=torch.float32))
        self.register_buffer("b_bar", torch.tensor(b_bar, dtype=torch.float32))
        self.encoder = torch.nn.Parameter(torch.randn(COLUMNS) / COLUMNS / 15)
        self.w_m = torch.nn.Linear(order, hidden)
        self.w_h = torch.nn.Linear(hidden, hidden, bias=False)
        self.w_o = torch.nn.Linear(hidden, 10)
        with torch.no_grad():
            self.w_h.weight.mul_(0.2)
        self.spiking = None

    def memory_input(self) -> torch.Tensor:
        """B̄ e: the (d, 28) weights of the image row into the memory."""
        return self.b_bar[:, None] * self.encoder[None, :]

    def ranges(self, x, quantile: float = 0.999):
        """Per memory coefficient its `quantile` range (low <= 0 <= high) on `x`, and the
        hidden activity's `quantile`, in the float model (rarer values saturate)."""
        with torch.no_grad():
            xt = torch.tensor(x, dtype=torch.float32)
            m = xt.new_zeros(len(x), self.a_bar.shape[0])
            h = xt.new_zeros(len(x), self.w_h.weight.shape[0])
            memories, hiddens = [], []
            for t in range(ROWS):
                m = xt[:, t] @ self.memory_input().T + m @ self.a_bar.T
                h = torch.relu(self.w_m(m) + self.w_h(h))
                memories.append(m)
                hiddens.append(h)
            memories = torch.cat(memories)
            low = torch.quantile(memories, 1 - quantile, dim=0).clamp_max(0)
            high = torch.quantile(memories, quantile, dim=0).clamp_min(0)
            h_top = float(torch.quantile(torch.cat(hiddens).flatten()[::7], quantile))
        return low, high, h_top

    def balance_memory(self, x) -> None:
        """Change the memory's basis so that every coefficient spans the same range on `x`:
        m' = D m with Ā' = D Ā D^-1, B̄' = D B̄, W_m' = W_m D^-1. The float LMU computes the
        same function; one threshold then suits every memory neuron."""
        low, high, _ = self.ranges(x)
        span = (high - low).clamp_min(1e-9)
        scale = span.max() / span
        with torch.no_grad():
            self.a_bar.copy_(scale[:, None] * self.a_bar / scale[None, :])
            self.b_bar.mul_(scale)
            self.w_m.weight.div_(scale[None, :])

    def to_spiking(self, x, spike_bits: tuple, weight_bits: int) -> None:
        """Thresholds from the float model's ranges on `x` (2^S - 1 spikes cover the memory's
        span and the hidden activity), the memory offset c in whole spikes (m + c >= 0), Ā on
        the memory's grid, and the read-out's unit."""
        self.balance_memory(x)
        low, high, h_top = self.ranges(x)
        levels_m, levels_h = (1 << spike_bits[0]) - 1, (1 << spike_bits[1]) - 1
        theta_m = float(2.0 ** np.ceil(np.log2(float((high - low).max()) / levels_m)))
        theta_h = float(2.0 ** np.ceil(np.log2(h_top / levels_h)))
        peak_o = float(self.w_o.weight.detach().abs().max()) * theta_h
        self.spiking = {
            "theta_m": theta_m, "theta_h": theta_h, "levels_m": levels_m,
            "levels_h": levels_h, "bits": weight_bits,
            "offset": torch.ceil(-low / theta_m) * theta_m,
            "a_q": torch.round(self.a_bar * 2 ** THETA_SHIFT) / 2 ** THETA_SHIFT,
            "unit_o": float(2.0 ** np.ceil(np.log2(peak_o / ((1 << (weight_bits - 1)) - 1))))}

    def grids(self) -> dict:
        """The spiking form's weights, each on its grid (straight-through)."""
        sp, bits = self.spiking, self.spiking["bits"]
        u_m = sp["theta_m"] / 2 ** THETA_SHIFT
        u_h = sp["theta_h"] / 2 ** THETA_SHIFT
        return {"w_in": on_grid(self.memory_input(), u_m, bits),
                "w_m": on_grid(self.w_m.weight, u_h / sp["theta_m"], bits),
                "b_h": on_grid(self.w_m.bias, u_h, bits),
                "w_h": on_grid(self.w_h.weight, u_h / sp["theta_h"], bits),
                "w_o": on_grid(self.w_o.weight, sp["unit_o"] / sp["theta_h"], bits),
                "b_o": on_grid(self.w_o.bias, sp["unit_o"], bits)}

    def forward(self, x, record: bool = False):
        if self.spiking is None:
            return self._float(x)
        sp, g = self.spiking, self.grids()
        batch, d = x.shape[0], self.a_bar.shape[0]
        offset, hidden = sp["offset"], g["w_h"].shape[0]
        bias_m = offset @ (torch.eye(d) - sp["a_q"]).T      # keeps m + c on its own track
        v_m = x.new_full((batch, d), sp["theta_m"] / 2)
        s_m = (offset / sp["theta_m"]).expand(batch, d)     # m(-1) = 0: m + c = c
        h = x.new_zeros(batch, hidden)
        total, counts = torch.zeros_like(h), []
        for t in range(ROWS):
            drive_m = x[:, t] @ g["w_in"].T + (sp["theta_m"] * s_m) @ sp["a_q"].T + bias_m
            s_m, v_m = quantize(v_m, drive_m, sp["theta_m"], sp["levels_m"])
            m = sp["theta_m"] * s_m - offset
            drive_h = m @ g["w_m"].T + g["b_h"] + h @ g["w_h"].T
            s_h = relu_quantize(drive_h, sp["theta_h"], sp["levels_h"])
            h = sp["theta_h"] * s_h
            total = total + h
            if record:
                counts.append((s_m.detach(), s_h.detach()))
        logits = total @ g["w_o"].T + ROWS * g["b_o"]
        return (logits, counts) if record else logits

    def _float(self, x):
        m = x.new_zeros(x.shape[0], self.a_bar.shape[0])
        h = x.new_zeros(x.shape[0], self.w_h.weight.shape[0])
        total = torch.zeros_like(h)
        for t in range(ROWS):
            m = x[:, t] @ self.memory_input().T + m @ self.a_bar.T
            h = torch.relu(self.w_m(m) + self.w_h(h))
            total = total + h
        return self.w_o(total / ROWS)


def fit(model, x, y, *, epochs, lr, desc):
    """Adam with a cosine schedule; in the spiking form the encoder stays fixed, so that the
    memory keeps the ranges its threshold and offset were chosen for."""
    torch.manual_seed(1)
    model.encoder.requires_grad_(model.spiking is None)
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
    xt, yt = torch.tensor(x, dtype=torch.float32), torch.tensor(y)
    scale = 1 / ROWS if model.spiking is not None else 1.0
    for _ in tqdm(range(epochs), desc=desc, unit="epoch"):
        for idx in torch.randperm(len(xt)).split(64):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(xt[idx]) * scale, yt[idx]).backward()
            opt.step()
        sched.step()


def classes(model, x) -> np.ndarray:
    with torch.no_grad():
        return model(torch.tensor(x, dtype=torch.float32)).argmax(1).numpy()


def network(model, name: str) -> Network:
    """The hybrid-spiking LMU as three spikeshift dense layers (integer weights, exact):
    every PyTorch value over its neuron's unit θ / 2^THETA_SHIFT."""
    sp = model.spiking
    theta = 1 << THETA_SHIFT
    u_m, u_h = sp["theta_m"] / theta, sp["theta_h"] / theta
    with torch.no_grad():
        g = {k: v.double().numpy() for k, v in model.grids().items()}
    a_q, offset = sp["a_q"].double().numpy(), sp["offset"].double().numpy()
    memory = (ints(g["w_in"] / u_m), ints(a_q * sp["theta_m"] / u_m),
              ints((np.eye(len(a_q)) - a_q) @ offset / u_m), sp["levels_m"],
              (1 << INPUT_BITS) - 1, ints(offset / sp["theta_m"]), None, theta // 2)
    hidden = (ints(g["w_m"] * sp["theta_m"] / u_h), ints(g["w_h"] * sp["theta_h"] / u_h),
              ints((g["b_h"] - g["w_m"] @ offset) / u_h) + theta // 2, sp["levels_h"],
              sp["levels_m"], None, ShiftLeak(shift=0), 0)
    layers = []
    for w, u, b, levels, in_max, r_init, leak, v_init in (memory, hidden):
        rows = np.hstack([w * in_max, u * levels])
        v = membrane_format_for(rows, b, 1, ROWS, theta * levels, v_init)
        neuron = Neuron(model="if" if leak is None else "lif", threshold=theta,
                        reset="subtract", leak=leak, v_init=v_init, v=v,
                        spike_bits=int(levels).bit_length())
        layers.append(DenseLayer(size=w.shape[0], weights=int_weights(w), bias=b,
                                 recurrent=int_weights(u), recurrent_init=r_init,
                                 neuron=neuron))
    w_read, b_read = ints(g["w_o"] * sp["theta_h"] / sp["unit_o"]), ints(g["b_o"] / sp["unit_o"])
    v = membrane_format_for(w_read, b_read, sp["levels_h"], ROWS)
    layers.append(DenseLayer(size=10, weights=int_weights(w_read), bias=b_read,
                             neuron=Neuron(model="integrator", v=v)))
    return Network(name=name, timesteps=ROWS, input=InputSpec(size=COLUMNS, bits=INPUT_BITS),
                   layers=tuple(layers), output=OutputSpec(mode="membrane"))


def ints(values: np.ndarray) -> np.ndarray:
    """`values` that are integers up to float rounding, as int64 (the grids make them so)."""
    rounded = np.round(values)
    assert np.allclose(values, rounded, atol=1e-6), float(np.abs(values - rounded).max())
    return rounded.astype(np.int64)


def int_weights(values: np.ndarray) -> IntWeights:
    lo, hi = int(min(values.min(), 0)), int(max(values.max(), 0))
    return IntWeights(bits=max(2, signed_bits_for(lo, hi)), values=values)


def activity(trace, net, x) -> tuple[float, float]:
    """(average bits of the spike values per neuron and timestep over the spiking layers,
    synaptic operations per image: every non-zero input and previous own spike times the
    layer's neurons)."""
    bits, count, sops = 0.0, 0, 0
    for index, layer in enumerate(net.layers):
        spikes = trace.spikes[index]
        inputs = trace.spikes[index - 1] if index else x
        sops += int((inputs != 0).sum()) * layer.size
        if layer.recurrent is not None:
            sops += int((spikes[:, :-1] != 0).sum()) * layer.size
        if layer.neuron.fires:
            bits += float(np.ceil(np.log2(spikes + 1)).sum())
            count += spikes.size
    return bits / count, sops / len(trace.spikes[0])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--order", type=int, default=32, help="Legendre coefficients d")
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--spike-bits", type=int, nargs=2, default=(6, 4),
                        metavar=("S_M", "S_H"), help="spike bits of the memory and the hidden")
    parser.add_argument("--weight-bits", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--qat-epochs", type=int, default=4)
    parser.add_argument("--out", type=Path, default=Path("build/lmu"))
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.time()
    rows_train, rows_test, y_train, y_test = load_rows()

    torch.manual_seed(0)
    model = LMU(args.order, args.hidden)
    fit(model, rows_train, y_train, epochs=args.epochs, lr=2e-3, desc="float LMU")
    results = {"float LMU": float((classes(model, rows_test) == y_test).mean())}
    tqdm.write(f"float LMU: {results['float LMU']:.2%}")
    model.to_spiking(rows_train[:500], args.spike_bits, args.weight_bits)
    results["hybrid-spiking, converted"] = float((classes(model, rows_test) == y_test).mean())
    tqdm.write(f"hybrid-spiking, converted: {results['hybrid-spiking, converted']:.2%}")
    fit(model, rows_train, y_train, epochs=args.qat_epochs, lr=1e-4, desc="hybrid QAT")
    torch_classes = classes(model, rows_test)
    results["hybrid-spiking, trained (PyTorch)"] = float((torch_classes == y_test).mean())

    net = network(model, "lmu")
    net.save(args.out / "lmu.json")
    np.save(args.out / "test_inputs.npy", rows_test)
    trace = spikeshift.trace(net, rows_test)
    results["hybrid-spiking, golden (spikeshift)"] = float((trace.classes == y_test).mean())
    agree = int((trace.classes == torch_classes).sum())
    bits, sops = activity(trace, net, rows_test)
    title = (f"LMU on row-sequential MNIST, d = {args.order}, H = {args.hidden}, spike bits "
             f"{args.spike_bits[0]}/{args.spike_bits[1]}, int{args.weight_bits} weights "
             f"({len(y_test)} test images)")
    summary = (f"average activity: {bits:.2f} bits per neuron and timestep; {sops:,.0f} SOPs "
               f"per image; the golden model and PyTorch agree on {agree} of {len(y_test)}")
    table = "\n".join([title, "", "| stage | accuracy |", "| --- | --- |",
                       *[f"| {key} | {value:.2%} |" for key, value in results.items()], "",
                       summary])
    print("\n" + table)
    (args.out / "results.md").write_text(table + "\n")
    (args.out / "results.json").write_text(json.dumps(
        {**results, "activity_bits": bits, "sops_per_image": sops, "agree": agree}, indent=1))
    print(f"wrote {args.out} ({time.time() - started:.0f} s)")
    return 0 if agree == len(y_test) else 1


if __name__ == "__main__":
    sys.exit(main())
