"""Campaign configuration: the oracles, the case-seed rule, CampaignConfig and the one-time imports.

Separate from reports/campaign.py because every other campaign module (subjects, one case, results)
needs these few names, and they need none of them: the bottom of the campaign's import graph.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

__all__ = ["ORACLES", "DEFAULT_CASES", "RUN_CHECK", "HARNESS_CHECK", "CampaignConfig", "case_seed", "preload"]

ORACLES = ("torch", "fd")
# Measured (11 subjects x 100 cases x both oracles, one worker): 16 s of CPU, about 20 s on an idle
# 2-core machine and 45 s on one loaded to 4x; `bpcheck report` with no arguments stays near a minute.
DEFAULT_CASES = 100
# Pseudo-checks beside oracles.observation.CHECKS.
RUN_CHECK = "run"  # the subject raised something the driver did not catch
HARNESS_CHECK = "harness"  # our own case generator or oracle failed: a bpcheck bug, reported loudly


@dataclass(frozen=True)
class CampaignConfig:
    cases: int = DEFAULT_CASES
    seed: int = 0
    dtype: str = "float64"
    oracles: tuple[str, ...] = ORACLES
    workers: int = 1
    shrink: bool = True
    fd_directions: int = 8
    cluster: str | None = None  # a Dask scheduler address (reports.executors): the cases run there


def case_seed(seed: int, index: int) -> int:
    """The seed of case ``index`` in a campaign with seed ``seed`` (documented, stable)."""
    return int(seed) * 1_000_003 + int(index)


def _optional(module: str):
    """An oracles module that may not exist yet (diagnose, shrink): None when absent."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as e:
        if e.name != module:
            raise
        return None


def preload() -> None:
    """Import the drivers and oracles now (a few seconds: torch, hypothesis) rather than inside case 0."""
    for mod in ("oracles.styles", "oracles.strategies", "oracles.torch_autograd", "oracles.finite_diff",
                "oracles.compare"):
        importlib.import_module(mod)
    _init_torch()


def _init_torch() -> None:
    import torch

    torch.set_num_threads(1)  # tiny tensors: one thread is ~60x faster here
