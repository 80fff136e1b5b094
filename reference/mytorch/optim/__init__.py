"""mytorch.optim: SGD (with momentum), and the bonus Adam and AdamW; each steps every Linear of model.layers."""

from reference.mytorch.optim.adam import Adam
from reference.mytorch.optim.adamW import AdamW
from reference.mytorch.optim.sgd import SGD

__all__ = ["SGD", "Adam", "AdamW"]
