"""A NumPy MLP with QCFS activations and PoT quantization-aware training (no deep-learning
framework needed), trained on scikit-learn's bundled digits."""

from dataclasses import dataclass, field

import numpy as np
from tqdm import tqdm

from spikeshift.gen.frontends.convert import pot_fake_quantize


def qcfs(z: np.ndarray, clip: float, levels: int) -> np.ndarray:
    """QCFS: λ * clip(floor(z L / λ + 1/2) / L, 0, 1)."""
    return clip * np.clip(np.floor(z * levels / clip + 0.5) / levels, 0, 1)


@dataclass
class QcfsMlp:
    """Weights (out, in), biases, and one trainable clip λ per hidden layer."""

    weights: list
    biases: list
    clips: list
    levels: int
    input_scale: float                    # ANN value of one input unit (1 / x_max)
    e_max: int
    quantize: bool = False
    _cache: list = field(default_factory=list, repr=False)

    @classmethod
    def create(cls, sizes, *, levels, input_scale, e_max, seed=0):
        rng = np.random.default_rng(seed)
        weights = [rng.normal(0, np.sqrt(2 / a), (b, a)) for a, b in zip(sizes[:-1], sizes[1:])]
        return cls(weights=weights, biases=[np.zeros(b) for b in sizes[1:]],
                   clips=[2.0] * (len(sizes) - 2), levels=levels, input_scale=input_scale,
                   e_max=e_max)

    def effective_weights(self):
        """The weights the forward pass uses: PoT-rounded when quantizing (straight-through)."""
        if not self.quantize:
            return self.weights
        return [pot_fake_quantize(w, self.e_max) for w in self.weights]

    def forward(self, x: np.ndarray) -> np.ndarray:
        a = x * self.input_scale
        self._cache = [a]
        weights = self.effective_weights()
        for index, (w, b) in enumerate(zip(weights, self.biases)):
            z = a @ w.T + b
            if index == len(weights) - 1:
                self._cache.append(z)
                return z
            a = qcfs(z, self.clips[index], self.levels)
            self._cache += [z, a]
        raise AssertionError("unreachable")

    def backward(self, grad: np.ndarray):
        """Gradients (weights, biases, clips): straight-through floor and PoT rounding."""
        weights = self.effective_weights()
        gw, gb, gc = [None] * len(weights), [None] * len(weights), [0.0] * len(self.clips)
        for index in reversed(range(len(weights))):
            a_in = self._cache[2 * index]
            gw[index] = grad.T @ a_in
            gb[index] = grad.sum(0)
            if index == 0:
                break
            grad_a = grad @ weights[index]
            z = self._cache[2 * index - 1]
            clip = self.clips[index - 1]
            gc[index - 1] = float((grad_a * (z >= clip)).sum())
            grad = grad_a * ((z > 0) & (z < clip))
        return gw, gb, gc


def train(model: QcfsMlp, x, y, *, epochs: int, lr: float = 3e-3, batch: int = 64, seed: int = 0,
          desc: str = "training"):
    """Adam on softmax cross-entropy."""
    rng = np.random.default_rng(seed)
    params = model.weights + model.biases
    m = [np.zeros_like(p) for p in params] + [0.0] * len(model.clips)
    v = [np.zeros_like(p) for p in params] + [0.0] * len(model.clips)
    step = 0
    for _ in tqdm(range(epochs), desc=desc, unit="epoch"):
        order = rng.permutation(len(x))
        for start in range(0, len(x), batch):
            idx = order[start:start + batch]
            logits = model.forward(x[idx])
            p = np.exp(logits - logits.max(1, keepdims=True))
            p /= p.sum(1, keepdims=True)
            p[np.arange(len(idx)), y[idx]] -= 1
            gw, gb, gc = model.backward(p / len(idx))
            grads = gw + gb + gc
            step += 1
            values = model.weights + model.biases + model.clips
            for k, (value, g) in enumerate(zip(values, grads)):
                m[k] = 0.9 * m[k] + 0.1 * g
                v[k] = 0.999 * v[k] + 0.001 * g * g
                update = lr * (m[k] / (1 - 0.9 ** step)) / (np.sqrt(v[k] / (1 - 0.999 ** step))
                                                            + 1e-8)
                if k < len(model.weights) + len(model.biases):
                    value -= update
                else:
                    model.clips[k - len(model.weights) - len(model.biases)] = max(
                        0.05, value - 0.1 * update)
    return model


def accuracy(model: QcfsMlp, x, y) -> float:
    return float((model.forward(x).argmax(1) == y).mean())
