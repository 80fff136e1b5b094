"""The optimizer table and its oracles (issue 11): update rules checked against torch.optim.

Modules (import them directly; only ``torch_twin`` loads torch):
``rules`` (the table: rules, Variants, course conventions, style bindings), ``case`` (OptimCase),
``formula`` (any Variant in numpy), ``torch_twin`` (torch.optim in float64), ``observation``
(what a driver saw), ``drivers`` (course-style drivers, numpy only: they run in the sandbox
child), ``judge`` (comparison, conventions, diagnosis).
"""

__all__ = ["rules", "case", "formula", "torch_twin", "observation", "drivers", "judge"]
