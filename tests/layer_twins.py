"""A layer-table row's numpy forward against its torch twin, for the reference tests of table rows."""

from __future__ import annotations

import numpy as np
import torch

from oracles.case import Case
from oracles.layers import kind

__all__ = ["assert_forward_twins_agree"]


def assert_forward_twins_agree(case: Case):
    """The first layer of ``case``: its row's numpy forward equals its torch forward in float64 (to 1e-13).
    Returns (the slot, its parameters, the numpy output), for the test's further checks."""
    slot = case.spec.slots[0]
    k = kind(slot.layer.kind)
    p = {s: case.params[f] for s, f in slot.params.items()}
    a = k.numpy(case.x, p, slot.layer.hp, None)
    b = k.torch(torch.tensor(case.x), {s: torch.tensor(v) for s, v in p.items()}, slot.layer.hp, None)
    np.testing.assert_allclose(a, b.numpy(), rtol=1e-13, atol=1e-13)
    return slot, p, a
