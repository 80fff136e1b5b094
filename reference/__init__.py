"""Model numpy backpropagation in the styles courses teach. Pure numpy; no harness imports."""

__all__ = ["functions"]
