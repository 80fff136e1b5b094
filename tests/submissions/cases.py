"""Small hand-made Cases inside a SpecSpace, for driving implementations in tests."""

from __future__ import annotations

import numpy as np

from oracles.case import Case, Spec, SpecSpace

__all__ = ["small_cases"]


def _targets(rng, spec: Spec, m: int):
    n = spec.sizes[-1]
    if spec.target == "labels":
        return rng.integers(0, n, size=m)
    if spec.loss == "softmax_cross_entropy":
        return np.eye(n)[rng.integers(0, n, size=m)]
    return rng.uniform(0.05, 0.95, size=(m, n))


def small_cases(space: SpecSpace, *, dtype: str = "float64", seed: int = 0) -> list[Case]:
    """A few hand-picked small Cases inside space: each loss, the shallowest and a deeper net,
    each target kind, regularisation where allowed; numbers from a fixed seed."""
    rng = np.random.default_rng(seed)
    cases = []
    for loss, out_acts in space.outputs:
        depths = {space.min_layers, min(space.min_layers + 1, space.max_layers), min(3, space.max_layers)}
        for n_layers in sorted(depths):
            # labels only where the loss takes them (quadratic/BCE want dense targets)
            targets = ["labels"] if loss == "hinge" else [
                t for t in space.targets if t == "dense" or loss == "softmax_cross_entropy"]
            for target in targets:
                hidden = [space.hidden_activations[(i + n_layers) % len(space.hidden_activations)]
                          for i in range(n_layers - 1)]
                if space.uniform_hidden and hidden:
                    hidden = [hidden[0]] * len(hidden)
                n_out = 3 if loss in ("softmax_cross_entropy", "hinge") or target == "labels" else 2
                n_out = max(n_out, space.min_outputs)
                if space.max_outputs is not None:
                    n_out = min(n_out, space.max_outputs)
                sizes = (4, *[3 + i for i in range(n_layers - 1)], n_out)
                spec = Spec(sizes=sizes, activations=(*hidden, out_acts[len(cases) % len(out_acts)]), loss=loss,
                            reduction=space.reductions[len(cases) % len(space.reductions)], layout=space.layout,
                            dtype=dtype, target=target, reg=0.05 if space.allow_reg else 0.0)
                assert space.allows(spec) is None, space.allows(spec)
                params = {}
                for l in range(1, spec.n_layers + 1):
                    params[f"W{l}"] = rng.normal(0, 0.7, (sizes[l], sizes[l - 1]))
                    params[f"b{l}"] = rng.normal(0, 0.3, sizes[l])
                m = 3
                cases.append(Case(spec, params, rng.normal(0, 1, (m, sizes[0])), _targets(rng, spec, m),
                                  lr=0.1, seed=seed, steps=2))
    return cases
