"""``mlp``: the BANANAS ensemble of MLPs as a predictor (White et al., AAAI 2021).

:class:`EnsembleMLP` is a small numpy ensemble of fully connected ReLU
regressors: ``num_ensemble`` members of ``num_layers`` x ``layer_width``
units, mean absolute error, Adam, full-batch by default.  All members are
trained at once: member ``m``'s weights of layer ``l`` are the slice ``m`` of
one ``(members, fan_in, fan_out)`` tensor, so a training step is a handful of
batched matrix products whatever the ensemble size.  On a few hundred points,
numpy call overhead dominates, so the parameters of every layer live in one
flat buffer (and so do the gradients and Adam's moments): one Adam update is
a few vector operations on that buffer instead of a few per layer.  Every
random number (initial weights, minibatch order) comes from the generator
passed in, so training is reproducible.

:class:`MLPPredictor` trains it on an encoding (targets standardised); the
mean and standard deviation are over the members.  ``encoding="auto"`` reads
the path encoding where the space has a compact one (BANANAS' choice), else
one-hot.  The ``bananas`` optimizer is predictor search with this predictor.
"""

from __future__ import annotations

import math

import numpy as np

from archscape.params import Interval, Is, Param
from archscape.predictors.vector import VECTOR_PARAMS, VectorPredictor

#: the hyper-parameters of an ensemble, as the ``mlp`` predictor and the ``bananas`` optimizer declare them
ENSEMBLE_PARAMS: dict[str, Param] = {
    "num_ensemble": Param(5, Interval(int, 1, None)),
    "num_layers": Param(10, Interval(int, 1, None)),
    "layer_width": Param(20, Interval(int, 1, None)),
    "epochs": Param(150, Interval(int, 1, None)),
    "learning_rate": Param(0.01, Interval(float, 0, None, closed="neither")),
    "fit_batch_size": Param(None, Interval(int, 1, None), Is(type(None))),
}


class EnsembleMLP:
    """``members`` independent MLPs ``inputs -> num_layers x layer_width (ReLU) -> 1``."""

    def __init__(self, members: int, inputs: int, num_layers: int, layer_width: int, rng: np.random.Generator) -> None:
        widths = [inputs] + [layer_width] * num_layers + [1]
        shapes = [(members, a, b) for a, b in zip(widths[:-1], widths[1:])]
        sizes = [int(np.prod(s)) + members * s[2] for s in shapes]
        self.members = members
        self.params = np.empty(sum(sizes), dtype=np.float32)
        self.grads = np.zeros_like(self.params)
        self.weights, self.biases = self._views(self.params, shapes)
        self.grad_weights, self.grad_biases = self._views(self.grads, shapes)
        for layer, (w, b) in enumerate(zip(self.weights, self.biases)):
            fan_in, fan_out = w.shape[1], w.shape[2]
            last = layer == len(shapes) - 1
            # He initialisation keeps a deep ReLU stack's activations from vanishing;
            # the linear output layer uses Glorot's variance instead.
            scale = np.sqrt(2.0 / (fan_in + fan_out)) if last else np.sqrt(2.0 / fan_in)
            w[...] = rng.standard_normal(w.shape, dtype=np.float32) * np.float32(scale)
            b[...] = 0.0

    @staticmethod
    def _views(buffer: np.ndarray, shapes: list[tuple[int, int, int]]) -> tuple[list[np.ndarray], list[np.ndarray]]:
        weights, biases, at = [], [], 0
        for m, a, b in shapes:
            weights.append(buffer[at : at + m * a * b].reshape(m, a, b))
            at += m * a * b
            biases.append(buffer[at : at + m * b].reshape(m, 1, b))
            at += m * b
        return weights, biases

    # ------------------------------------------------------------ inference
    def predict(self, x: np.ndarray) -> np.ndarray:
        """Predictions of every member, shape ``(members, len(x))``."""
        h = np.broadcast_to(np.asarray(x, dtype=np.float32), (self.members, *np.shape(x)))
        last = len(self.weights) - 1
        for layer, (w, b) in enumerate(zip(self.weights, self.biases)):
            h = h @ w + b
            if layer < last:
                np.maximum(h, 0.0, out=h)
        return h[:, :, 0]

    # ------------------------------------------------------------ training
    def fit(
        self,
        x: np.ndarray,
        y: np.ndarray,
        rng: np.random.Generator,
        *,
        epochs: int,
        learning_rate: float,
        batch_size: int | None = None,
        betas: tuple[float, float] = (0.9, 0.99),
        eps: float = 1e-7,
    ) -> EnsembleMLP:
        """Minimise the mean absolute error with Adam; ``batch_size=None`` trains on the full batch."""
        x = np.asarray(x, dtype=np.float32)
        y = np.asarray(y, dtype=np.float32)
        n = len(x)
        batch = n if batch_size is None else min(batch_size, n)
        first_moment = np.zeros_like(self.params)
        second_moment = np.zeros_like(self.params)
        scratch = np.empty_like(self.params)
        beta1, beta2 = betas
        step = 0
        full = batch == n
        xs = np.broadcast_to(x, (self.members, *x.shape))
        ys = np.broadcast_to(y, (self.members, n))
        for _ in range(epochs):
            if not full:
                # Each member sees its own shuffle, as separately trained networks would.
                order = rng.permuted(np.broadcast_to(np.arange(n), (self.members, n)), axis=1)
                xs = x[order]
                ys = y[order]
            for start in range(0, n, batch):
                stop = start + batch
                self._gradient(xs[:, start:stop], ys[:, start:stop])
                step += 1
                # Adam, in place on the flat buffers (temporaries cost more than the arithmetic here).
                g = self.grads
                first_moment *= beta1
                np.multiply(g, 1 - beta1, out=scratch)
                first_moment += scratch
                second_moment *= beta2
                np.multiply(g, g, out=scratch)
                scratch *= 1 - beta2
                second_moment += scratch
                np.sqrt(second_moment, out=scratch)
                scratch += eps
                np.divide(first_moment, scratch, out=scratch)
                scratch *= learning_rate * math.sqrt(1 - beta2**step) / (1 - beta1**step)
                self.params -= scratch
        return self

    def _gradient(self, x: np.ndarray, y: np.ndarray) -> None:
        """Fill :attr:`grads` with the gradient of each member's mean absolute error on its batch."""
        activations = [x]
        h = x
        last = len(self.weights) - 1
        for layer, (w, b) in enumerate(zip(self.weights, self.biases)):
            h = h @ w + b
            if layer < last:
                np.maximum(h, 0.0, out=h)
                activations.append(h)
        # d|pred - y| / d pred = sign(pred - y); averaged over the batch.
        delta = np.sign(h - y[:, :, None])
        delta /= y.shape[1]
        # Summing over the batch as a product with a row of ones is several times faster than .sum(axis=1).
        ones = np.ones((1, y.shape[1]), dtype=delta.dtype)
        for layer in range(last, -1, -1):
            np.matmul(activations[layer].transpose(0, 2, 1), delta, out=self.grad_weights[layer])
            np.matmul(ones, delta, out=self.grad_biases[layer])
            if layer:
                delta = delta @ self.weights[layer].transpose(0, 2, 1)
                delta *= activations[layer] > 0


class MLPPredictor(VectorPredictor):
    """An ensemble of MLPs on an encoding; std over the members."""

    name = "mlp"
    has_std = True
    params = {
        **VECTOR_PARAMS,
        "target": VECTOR_PARAMS["target"].with_default("values"),
        **ENSEMBLE_PARAMS,
    }

    def _fit_rows(self, x: np.ndarray, z: np.ndarray) -> None:
        self.net_ = EnsembleMLP(self.num_ensemble, x.shape[1], self.num_layers, self.layer_width, self.rng_)
        self.net_.fit(x, z, self.rng_, epochs=self.epochs, learning_rate=self.learning_rate, batch_size=self.fit_batch_size)

    def _predict_rows(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        members = self.net_.predict(x).astype(np.float64)
        return members.mean(axis=0), members.std(axis=0)


__all__ = ["ENSEMBLE_PARAMS", "EnsembleMLP", "MLPPredictor"]
