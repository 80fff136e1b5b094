"""A learner's own helper package that happens to be named micrograd (not the micrograd library)."""
