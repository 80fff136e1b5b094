"""The layer table: one entry per layer kind (see table.py for the contract, ARCHITECTURE.md for the rules).

    from oracles.layers import KINDS, Layer, kind
    Layer.of("affine", out=3)          # a layer of a Spec
    kind("batchnorm").conventions      # {'running_var': ('biased', 'unbiased'), ...}

Importing this package registers every kind (numpy only at import time: the sandbox child imports it).
"""

from oracles.layers import conv, dense, linear, mytorch_cells, mytorch_kinds, norm, pair, recurrent, words  # noqa: F401  (registration)
from oracles.layers.table import KINDS, Ctx, Hyper, Layer, LayerKind, MissingAux, Param, Slot, kind, out_shapes, slots

__all__ = ["KINDS", "Ctx", "Hyper", "Layer", "LayerKind", "MissingAux", "Param", "Slot", "kind", "out_shapes", "slots"]
