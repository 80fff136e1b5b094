"""The FD screen's rounding floor counts what the loss is computed from, not only its value."""

from pathlib import Path

import numpy as np

from oracles.case import Case
from oracles.finite_diff import screen
from oracles.torch_autograd import expected

CASE = Path(__file__).parent / "data" / "confident_softmax_fd_floor.npz"


def test_confident_softmax_is_not_a_false_alarm():
    # loss ~1e-5 computed as log-sum-exp(z) - z_t with |z| ~ 10: the FD rounding is eps * 10 / h,
    # 1e5 times what eps * |loss| / h claims; a 2000-case campaign flagged correct code here
    case = Case.load(CASE)
    results = screen(case, expected(case, estimate=False).grads, seed=case.seed)
    assert {k: r.status for k, r in results.items()} == {"W1": "pass", "b1": "pass", "x": "pass"}


def test_one_percent_bug_still_fails_on_that_case():
    case = Case.load(CASE)
    grads = expected(case, estimate=False).grads
    grads["W1"] = grads["W1"] * np.array([[1.01], [1.0]])
    assert screen(case, grads, seed=case.seed)["W1"].status == "fail"
