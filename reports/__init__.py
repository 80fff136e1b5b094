"""Campaigns, renderers and the bpcheck command line."""

__all__ = ["cli"]
