"""``gnn``: a graph isomorphism network (GIN) on the architecture's graph (extra ``train``: torch).

The graphs are those the search space declares (:meth:`SearchSpace.graph_view`:
one node per operation; NB201, NB101, DARTS and NAS-Bench-Macro have one).  Each of ``num_layers``
layers updates a node from its own state and the *sums* of the states of its
predecessors and of its successors, each sum kept apart so the direction of
the data flow is seen (GIN's sum aggregation, which tells multisets of
neighbours apart, on a directed graph):

    h_v <- MLP([h_v, sum_{u -> v} h_u, sum_{v -> w} h_w])

then a graph's embedding is the sum of its nodes' final states, and a small
MLP maps it to the prediction.  Trained with Adam on the mean squared error
of the (by default normal-scored) targets, minibatches in an order drawn
from the predictor's generator; the initial weights come from a torch seed
drawn from it too, inside :func:`torch.random.fork_rng`, so the caller's
torch random state is left as it was and a fit is reproducible.

Sized for a CPU: 32 hidden units, 3 layers, 60 epochs of minibatches of
64.  Torch runs on one thread while fitting and predicting (the graphs are
tiny: threads would only contend with parallel trials); the previous thread
count is restored after.  On 2 shared cores a fit on NB201 cells takes about
0.1 s at 20 cells, 0.25 s at 100, 0.6 s at 300 and 1.1 s at 500 (the vector
predictors: 0.005-0.27 s at 500); scoring all 15,625 cells 0.1-0.2 s
(``benchmarks/bench_predictors.py``, ``archscape predictors eval``).  No
standard deviation.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from archscape.errors import UnsupportedOperation
from archscape.params import Interval, Options, Param
from archscape.predictors.base import Prediction, Predictor
from archscape.predictors.targets import TARGETS, TargetMap
from archscape.predictors.vector import seed_from
from archscape.spaces import GraphBatch, spaces_with
from archscape.torch_support import require_torch, torch_threads
from archscape.spaces.base import Genotype, SearchSpace

#: graphs scored per forward pass when predicting
PREDICT_CHUNK = 8192


def _network(torch, n_features: int, hidden: int, layers: int):
    nn = torch.nn

    class DirectedGIN(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Linear(n_features, hidden)
            self.layers = nn.ModuleList(
                nn.Sequential(nn.Linear(3 * hidden, hidden), nn.ReLU(), nn.Linear(hidden, hidden)) for _ in range(layers)
            )
            self.head = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 1))

        def forward(self, x, adjacency, mask):
            keep = mask.unsqueeze(-1)
            h = self.embed(x) * keep
            incoming = adjacency.transpose(1, 2)
            for layer in self.layers:
                update = layer(torch.cat([h, incoming @ h, adjacency @ h], dim=-1))
                h = torch.relu(update) * keep
            return self.head(h.sum(dim=1)).squeeze(-1)

    return DirectedGIN()


class GNNPredictor(Predictor):
    """A directed GIN on the graph of each architecture; no std."""

    name = "gnn"
    has_std = False
    #: what the evaluation calls this predictor's input (it reads graphs, not a space encoding)
    encoding = "graph"
    params = {
        "target": Param("normal_scores", Options(TARGETS)),
        "hidden": Param(32, Interval(int, 1, None)),
        "num_layers": Param(3, Interval(int, 1, None)),
        "epochs": Param(60, Interval(int, 1, None)),
        "batch_size": Param(64, Interval(int, 1, None)),
        "learning_rate": Param(0.003, Interval(float, 0, None, closed="neither")),
        "weight_decay": Param(1e-4, Interval(float, 0, None)),
    }

    def requirements(self) -> tuple[str, ...]:
        return ()  # a graph view, checked in _start

    def choose_encoding(self, space: SearchSpace) -> str:
        return self.encoding

    def _start(self) -> None:
        self.torch_ = require_torch("the gnn predictor")
        self.view_ = self.space_.graph_view()
        if self.view_ is None:
            raise UnsupportedOperation(
                f"GNNPredictor needs a graph view of the architectures, which search space {self.space_.name!r} "
                f"does not have (spaces with one: {', '.join(spaces_with('graph'))})"
            )

    def encode(self, genotypes) -> np.ndarray:
        raise UnsupportedOperation("GNNPredictor reads graphs, not an encoding; see graphs(genotypes)")

    def graphs(self, genotypes: list[Genotype]) -> GraphBatch:
        """The padded graph arrays of ``genotypes``."""
        return self.view_.graphs(self.space_, genotypes)

    def _tensors(self, batch: GraphBatch) -> tuple[Any, Any, Any]:
        t = self.torch_
        return t.from_numpy(batch.features), t.from_numpy(batch.adjacency), t.from_numpy(batch.mask)

    def _fit(self, genotypes: list[Genotype], y: np.ndarray) -> None:
        torch = self.torch_
        self.targets_ = TargetMap(self.target, y)
        x, a, m = self._tensors(self.graphs(genotypes))
        z = torch.from_numpy(self.targets_.z.astype(np.float32))
        n = len(genotypes)
        seed = seed_from(self.rng_)
        with torch_threads(1), torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            net = _network(torch, self.view_.n_features, self.hidden, self.num_layers)
            optimiser = torch.optim.Adam(net.parameters(), lr=self.learning_rate, weight_decay=self.weight_decay)
            batch = min(self.batch_size, n)
            for _ in range(self.epochs):
                order = torch.from_numpy(self.rng_.permutation(n))
                for start in range(0, n, batch):
                    rows = order[start : start + batch]
                    optimiser.zero_grad()
                    loss = torch.mean((net(x[rows], a[rows], m[rows]) - z[rows]) ** 2)
                    loss.backward()
                    optimiser.step()
        net.eval()
        self.net_ = net

    def _predict(self, genotypes: list[Genotype]) -> Prediction:
        torch = self.torch_
        out = []
        with torch_threads(1), torch.no_grad():
            for start in range(0, len(genotypes), PREDICT_CHUNK):
                x, a, m = self._tensors(self.graphs(genotypes[start : start + PREDICT_CHUNK]))
                out.append(self.net_(x, a, m).numpy().astype(np.float64))
        return Prediction(self.targets_.inverse(np.concatenate(out)), None)


__all__ = ["GNNPredictor"]
