"""models: MLP0 (2-3), MLP1 (2-3-2), MLP4 (2-4-8-8-4-2), ReLU after every Linear."""

from reference.mytorch.models.mlp import MLP0, MLP1, MLP4

__all__ = ["MLP0", "MLP1", "MLP4"]
