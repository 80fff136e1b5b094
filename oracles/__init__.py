"""What decides right from wrong: cases, oracles, comparison, diagnosis, sandbox."""

__all__ = ["case", "observation"]
