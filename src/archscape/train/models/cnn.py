"""The network of the Learning-from-NAS CNN design space (``cnn-broad`` / ``cnn-narrow``).

The layers are those of :func:`archscape.spaces.cnn.network_plan`: input
dropout; three blocks of ``stack_i`` convolutions (``filters_{2i}``, kernel
``k_{2i}``, 'same' padding) with activations, each closed by a 'same' max
pooling (size ``k_{2i+1}``, stride ``s_i``) and a dropout; flatten, dropout,
two dense layers (``dense_size_0``, ``dense_size_1``; size 0 leaves one out)
each with activation and dropout; the linear classifier.

The paper does not publish its network code.  Where it leaves a choice open,
this follows the Keras scripts of the same authors' MIP-EGO CNN experiments
(the family this space comes from), and says so:

* ``filters_1/3/5`` are used only with ``max_pooling=False``, by the strided
  convolution that then replaces the pooling (every published row has
  ``max_pooling=True``, which is why the paper's analysis drops them);
* the pooling has Keras' ``padding='same'`` (output ``ceil(n / s)``): it never
  shrinks a feature map below 1x1, so no clamping is needed, even for a 7x7
  pool of stride 4 on a 1x1 map; a pool smaller than its stride skips pixels,
  as in Keras;
* dropouts: ``dropout_0`` on the input, ``dropout_1..3`` after the blocks,
  ``dropout_4`` after flattening, ``dropout_5/6`` after the dense layers;
  element-wise (Keras ``Dropout``), not channel-wise;
* the dense layers use ``activation`` (ReLU), the classifier ``activ_dense``
  (softmax, inside the cross-entropy: ``forward`` returns logits); no
  activation after a pooling (it is a no-op for ReLU after ReLU);
* flatten, not global pooling (the tables have no ``global_pooling`` column);
* initialisation as Keras' defaults: Glorot-uniform weights, zero biases;
* ``l2`` is Keras' ``l2(l2)`` on the kernel *and* bias of every convolution
  and dense layer (so on all parameters).  Keras adds ``l2 * sum(w**2)`` to
  the loss, whose gradient is ``2 * l2 * w``: torch's ``weight_decay`` is
  therefore :attr:`CNNNetwork.weight_decay` ``= 2 * l2``, and
  :meth:`CNNNetwork.param_groups` hands the trainer ready optimizer groups;
* ``lr`` is the learning rate (:attr:`CNNNetwork.lr`); the reference scripts
  train with SGD, momentum 0.9, batch size 100 (:attr:`CNNNetwork.training_hints`).

``width`` (a network option, default 1) scales every ``filters_*`` and
``dense_size_*`` (rounded; at least 1, a dense size 0 stays 0): a narrower
network of the same design, for searches on a CPU (the narrow space's 250-400
filters at full resolution are GPU-sized).  Scores of a scaled network are
those of a proxy, not of the paper's networks.

Big corners of the broad space are very big (stride 1 everywhere leaves a
32x32 map of up to 599 channels before a dense layer of up to 1,999 units:
over a billion parameters).  :func:`archscape.spaces.cnn.count_network_parameters`
gives the size without building anything, and ``max_params`` makes
:func:`build` refuse such networks with one clear line instead of allocating them.
"""

from __future__ import annotations

from archscape.errors import ArchscapeError
from archscape.spaces.cnn import config_of, network_plan
from archscape.train import require_torch
from archscape.train.models.ops import SamePad2d

torch = require_torch()
nn = torch.nn

ACTIVATION_MODULES = {"relu": nn.ReLU, "elu": nn.ELU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "selu": nn.SELU}
#: training set-up of the authors' reference scripts (MIP-EGO CNN experiments)
REFERENCE_TRAINING = {"optimizer": "sgd", "momentum": 0.9, "nesterov": False, "batch_size": 100}


def _layer(layer):
    if layer.kind == "dropout":
        return nn.Dropout(layer.p)
    if layer.kind == "act":
        return ACTIVATION_MODULES[layer.activation]()
    if layer.kind == "conv":
        if layer.stride == 1 and layer.kernel % 2:  # symmetric 'same' padding
            return nn.Conv2d(layer.c_in, layer.c_out, layer.kernel, padding=layer.kernel // 2)
        return nn.Sequential(SamePad2d(layer.kernel, layer.stride), nn.Conv2d(layer.c_in, layer.c_out, layer.kernel, stride=layer.stride))
    if layer.kind == "maxpool":
        return nn.Sequential(SamePad2d(layer.kernel, layer.stride, float("-inf")), nn.MaxPool2d(layer.kernel, stride=layer.stride))
    if layer.kind == "flatten":
        return nn.Flatten()
    if layer.kind == "linear":
        return nn.Linear(layer.c_in, layer.c_out)
    raise ArchscapeError(f"unknown cnn layer kind {layer.kind!r}")


class CNNNetwork(nn.Module):
    """The sequential CNN of one Learning-from-NAS configuration."""

    def __init__(self, genotype, num_classes: int = 10, *, in_channels: int = 3, input_size: int = 32) -> None:
        super().__init__()
        self.config = config_of(genotype)
        self.plan = network_plan(self.config, num_classes=num_classes, in_channels=in_channels, input_size=input_size)
        self.layers = nn.Sequential(*(_layer(layer) for layer in self.plan))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Keras' default initialisation: Glorot-uniform weights, zero biases."""
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)

    @property
    def lr(self) -> float:
        """The configuration's learning rate."""
        return float(self.config["lr"])

    @property
    def l2(self) -> float:
        """The configuration's Keras L2 factor."""
        return float(self.config["l2"])

    @property
    def weight_decay(self) -> float:
        """torch ``weight_decay`` equivalent to Keras ``l2(l2)``: ``2 * l2``."""
        return 2.0 * self.l2

    def regularized_parameters(self) -> list:
        """The parameters the L2 penalty applies to: weights and biases of every conv and dense layer."""
        return [p for m in self.modules() if isinstance(m, (nn.Conv2d, nn.Linear)) for p in (m.weight, m.bias)]

    def param_groups(self) -> list[dict]:
        """Optimizer parameter groups: the regularised parameters with :attr:`weight_decay`, the rest (none) without."""
        decayed = self.regularized_parameters()
        ids = {id(p) for p in decayed}
        rest = [p for p in self.parameters() if id(p) not in ids]
        groups = [{"params": decayed, "weight_decay": self.weight_decay}]
        if rest:
            groups.append({"params": rest, "weight_decay": 0.0})
        return groups

    @property
    def training_hints(self) -> dict:
        """How the reference scripts train this network: SGD, momentum 0.9, batch 100, ``lr``, ``weight_decay``."""
        return {**REFERENCE_TRAINING, "lr": self.lr, "weight_decay": self.weight_decay}

    def forward(self, x):
        return self.layers(x)


def scaled_config(genotype, width: float) -> dict:
    """The configuration with every ``filters_*`` and ``dense_size_*`` multiplied by ``width`` (see the module docstring)."""
    if not width > 0:
        raise ArchscapeError(f"cnn network width must be > 0; got {width}")
    config = config_of(genotype)
    for name, value in config.items():
        if name.startswith(("filters_", "dense_size_")) and value > 0:
            config[name] = max(1, round(value * width))
    return config


def build(genotype, *, num_classes: int, in_channels: int = 3, input_size: int = 32, max_params: int | None = None,
          width: float = 1.0) -> CNNNetwork:
    """The network of a cnn genotype (a tuple in ``COLUMNS`` order, a mapping such as a CSV row, or text).

    ``max_params``: refuse (ArchscapeError) a network with more parameters, before allocating it.
    ``width``: scale the filters and dense sizes (a CPU-sized proxy of the same design).
    """
    if width != 1.0:
        genotype = scaled_config(genotype, width)
    if max_params is not None:
        plan = network_plan(genotype, num_classes=num_classes, in_channels=in_channels, input_size=input_size)
        n = sum(layer.parameters for layer in plan)
        if n > max_params:
            raise ArchscapeError(f"the cnn network has {n:,} parameters, more than max_params={max_params:,}")
    return CNNNetwork(genotype, num_classes, in_channels=in_channels, input_size=input_size)


__all__ = ["ACTIVATION_MODULES", "REFERENCE_TRAINING", "CNNNetwork", "build"]
