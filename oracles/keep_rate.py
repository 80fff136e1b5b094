"""What a dropout implementation does with its ``p``: an exact binomial test on the units it kept,
and the scale it gave them.

A dropout layer's train-time output is ``x * keep * scale``: ``keep`` a Bernoulli mask, ``scale``
one number. Courses disagree on what ``p`` means (CS231n: the keep probability since 2018, the drop
probability in 2016-2017; Saito's ``dropout_ratio`` drops; deeplearning.ai's ``keep_prob`` keeps)
and on where the rescaling happens (inverted dropout scales by 1/keep at train time and is the
identity at test time; Saito's scales by keep at test time). Whatever the convention, test mode
must give the train-time expectation: ``test(x) = keep_probability * scale * x``.

``read_dropout`` counts the kept units (from the mask the implementation used, or from out != 0
where x != 0), tests "keeps with probability p" and "keeps with probability 1 - p" with an exact
two-sided binomial test, and measures the scale on the kept units. It needs many units (10^4 make
p = 0.45 and 0.55 some 20 standard deviations apart). Numpy only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["ALPHA", "binomial_pvalue", "DropoutReading", "read_dropout", "keep_from", "declared_meaning"]

import re

# A reading is rejected below this p-value: over a 10^4-case campaign the chance of rejecting a
# correct implementation even once stays below 1e-5.
ALPHA = 1e-9


def binomial_pvalue(k: int, n: int, p: float) -> float:
    """Exact two-sided p-value of k successes in n Bernoulli(p) trials: the probability of every
    outcome no likelier than k (the convention of scipy.stats.binomtest)."""
    if not 0 <= k <= n:
        raise ValueError(f"k={k} successes out of n={n} trials: need 0 <= k <= n")
    if p <= 0.0:
        return 1.0 if k == 0 else 0.0
    if p >= 1.0:
        return 1.0 if k == n else 0.0
    j = np.arange(1, n + 1)
    log_choose = np.concatenate([[0.0], np.cumsum(np.log(n - j + 1) - np.log(j))])  # log C(n, j)
    outcomes = np.arange(n + 1)
    log_pmf = log_choose + outcomes * math.log(p) + (n - outcomes) * math.log1p(-p)
    at_k = log_pmf[k]
    tail = log_pmf[log_pmf <= at_k + 1e-7 * max(1.0, abs(at_k))]  # ties within rounding count as tail
    top = tail.max()
    return float(min(1.0, math.exp(top) * np.sum(np.exp(tail - top))))


def keep_from(x: np.ndarray, out: np.ndarray, mask=None) -> tuple[np.ndarray, np.ndarray]:
    """(keep, known): which units were kept, and where that is known.

    From the implementation's own mask when given (any nonzero entry keeps: masks come as booleans,
    0/1 integers or 0 / (1/p) floats); otherwise from out != 0 where x != 0 (a zero input tells
    nothing)."""
    if mask is not None:
        m = np.asarray(mask)
        if m.shape == np.shape(x):
            return m != 0, np.ones(m.shape, dtype=bool)
    x, out = np.asarray(x), np.asarray(out)
    known = x != 0
    return (out != 0) & known, known


@dataclass(frozen=True)
class DropoutReading:
    """How one dropout call used its p (the nominal value it was given)."""

    p: float
    kept: int
    n: int
    p_value_keep: float  # "keeps each unit with probability p"
    p_value_drop: float  # "keeps each unit with probability 1 - p"
    scale: float | None  # out / x on the kept units (None: nothing kept, or not one number)
    scale_spread: float  # the largest relative deviation of out / x from scale on kept units
    # "keeps with probability Phi(p)" or "1 - Phi(p)": a mask drawn as np.random.randn(...) < p (or > p)
    # instead of rand (seen in a real CS231n file: p = 0.5 kept 69% of the units)
    p_value_normal: float = 0.0

    @property
    def meaning(self) -> str:
        """'keep', 'drop', 'either' (indistinguishable here, e.g. p = 0.5) or 'neither'."""
        keep, drop = self.p_value_keep >= ALPHA, self.p_value_drop >= ALPHA
        if keep and drop:
            return "either"
        return "keep" if keep else "drop" if drop else "neither"

    @property
    def keep_probability(self) -> float | None:
        """The nominal keep probability of the reading (p or 1 - p), None when undecided."""
        return {"keep": self.p, "drop": 1.0 - self.p}.get(self.meaning)

    @property
    def inverted(self) -> bool | None:
        """True: kept units scaled by 1 / keep probability; False: not scaled; None: neither."""
        kp = self.keep_probability
        if kp is None or self.scale is None:
            return None
        if math.isclose(self.scale, 1.0, rel_tol=1e-6):
            return False
        if math.isclose(self.scale, 1.0 / kp, rel_tol=1e-6):
            return True
        return None

    def describe(self) -> str:
        rate = self.kept / self.n if self.n else float("nan")
        what = {
            "keep": f"p = {self.p:g} is the probability of KEEPING a unit",
            "drop": f"p = {self.p:g} is the probability of DROPPING a unit",
            "either": f"p = {self.p:g} cannot tell keep from drop",
            "neither": f"the keep rate fits neither p = {self.p:g} nor 1 - p",
        }[self.meaning]
        if self.meaning == "neither" and self.p_value_normal >= ALPHA:
            what += (f"; it fits the chance that a standard normal draw falls below (or above) p, "
                     f"Phi({self.p:g}) = {_phi(self.p):.4f}: the mask compares np.random.randn with p, where a "
                     f"uniform draw (np.random.rand) belongs")
        elif self.meaning == "neither" and self.n and self.kept in (0, self.n):
            # e.g. mask = np.random.rand(*x.shape) < p / p (a real CS231n file): a mask that is all ones
            what += ("; every unit was kept: the mask drops nothing (no dropout at all)" if self.kept
                     else "; no unit was kept: the mask drops everything")
        scale = "no unit kept" if self.scale is None else f"kept units scaled by {self.scale:.6g}"
        if self.inverted is True:
            scale += " (inverted dropout: 1 / keep probability)"
        elif self.inverted is False:
            scale += " (not inverted)"
        return f"{what}: kept {self.kept} of {self.n} units ({rate:.4f}); {scale}"


def read_dropout(x: np.ndarray, out: np.ndarray, p: float, mask=None) -> DropoutReading:
    """Read one train-time dropout call: x its input, out its output, p the value it was given."""
    x64 = np.asarray(x, dtype=np.float64)
    out64 = np.asarray(out, dtype=np.float64)
    keep, known = keep_from(x, out, mask)
    kept, n = int(np.count_nonzero(keep & known)), int(np.count_nonzero(known))
    usable = keep & known & (x64 != 0)
    scale, spread = None, 0.0
    if usable.any():
        ratios = out64[usable] / x64[usable]
        scale = float(np.median(ratios))
        if scale != 0 and np.isfinite(scale):
            spread = float(np.max(np.abs(ratios - scale)) / abs(scale))
        else:
            scale, spread = None, float("inf")
    normal = max(binomial_pvalue(kept, n, _phi(p)), binomial_pvalue(kept, n, 1.0 - _phi(p))) if n else 0.0
    return DropoutReading(p=float(p), kept=kept, n=n, p_value_keep=binomial_pvalue(kept, n, p),
                          p_value_drop=binomial_pvalue(kept, n, 1.0 - p), scale=scale, scale_spread=spread,
                          p_value_normal=normal)


def _phi(v: float) -> float:
    """The standard normal CDF."""
    return 0.5 * math.erfc(-float(v) / math.sqrt(2.0))


_DECLARED = (
    # CS231n's docstring since 2018 / in 2016-2017; deeplearning.ai's and Saito's keywords
    (re.compile(r"\bkeep(s|ing)?\b[^.]*\bprobability\s+p\b|\bp\s+is\s+the\s+probability\s+of\s+keep", re.I), "keep"),
    (re.compile(r"\bdrop(s|ping)?\b[^.]*\bprobability\s+p\b|\bp\s+is\s+the\s+probability\s+of\s+drop", re.I), "drop"),
)


def declared_meaning(doc: str | None) -> str | None:
    """What a docstring says p means: 'keep', 'drop', or None when it says neither (or both).

    CS231n's skeleton says "We keep each neuron output with probability p." (2018 on) or "We drop
    each neuron output with probability p." (2016-2017); a student file usually keeps it."""
    if not doc:
        return None
    found = {meaning for pattern, meaning in _DECLARED if pattern.search(doc)}
    return found.pop() if len(found) == 1 else None
