"""The smallest-failing-case snippet of a conv or pool layer: pasted next to a correct file it reproduces the
expected values it prints, in the file's own layout; next to a mutant it shows the difference."""

from __future__ import annotations

import numpy as np
import pytest

from oracles import styles
from oracles import torch_autograd as ta
from oracles.strategies import draw_case
from oracles.styles.conv_snippets import conv_snippet
from reference.mutants import MUTANTS
from reference.mutants_conv import conv_reference_impl

# (style, reference source, entry, the snippet's names for out, dx, dw, db)
CASES = [
    ("cs231n", "reference/cs231n_conv.py", "fn:conv", ("out", "dx", "dw", "db")),
    ("cs231n", "reference/cs231n_conv.py", "fn:max_pool", ("out", "dx")),
    ("cs231n", "reference/cs231n_conv.py", "fn:conv_relu_pool", ("out", "dx", "dw", "db")),
    ("dlai", "reference/dlai_conv.py", "fn:conv", ("Z", "dA_prev", "dW", "db")),
    ("dlai", "reference/dlai_conv.py", "fn:pool", ("A", "dA_prev")),
    ("saito", "reference/saito_conv.py", "Convolution", ("out", "dx", "layer.dW", "layer.db")),
    ("saito", "reference/saito_conv.py", "Pooling", ("out", "dx")),
]


class _Oracle:
    expected = staticmethod(ta.expected)


def _run(snippet: str, student) -> dict:
    scope: dict = {}
    body = "\n".join(ln for ln in snippet.splitlines() if not ln.endswith(" as student"))  # student is given
    exec(body, {"student": student, "np": np}, scope)  # noqa: S102
    return scope


def _matches(scope: dict, names) -> list[bool]:
    want = ("expected_out", "expected_dx", "expected_dw", "expected_db")
    got = []
    for name, exp in zip(names, want):
        obj, _, attr = name.partition(".")
        value = getattr(scope[obj], attr) if attr else scope[obj]
        got.append(np.shape(value) == np.shape(scope[exp]) and np.allclose(value, scope[exp], rtol=1e-10, atol=1e-12))
    return got


@pytest.mark.parametrize("style, source, entry, names", CASES, ids=[f"{c[0]}-{c[2]}" for c in CASES])
def test_snippet_reproduces_the_reference(style, source, entry, names):
    impl = conv_reference_impl(source)
    case = draw_case(styles.spec_space(style, impl, entry), 7)
    snippet = conv_snippet(style, entry, case, source, _Oracle)
    assert snippet is not None and "student." in snippet
    assert max(len(line) for line in snippet.splitlines()) <= 160, snippet  # wrapped, never 400 wide
    assert all(_matches(_run(snippet, impl), names)), snippet


@pytest.mark.parametrize("mutant", ["cs231n_conv_dx_padding_not_cropped", "cs231n_conv_db_not_summed_over_positions"])
def test_snippet_shows_a_mutant_differ(mutant):
    m = MUTANTS[mutant]
    case = next(c for seed in range(40) if (c := draw_case(styles.spec_space(m.style, m.impl, m.entry), seed))
                .spec.layers[0].hp["pad"] > 0)
    snippet = conv_snippet(m.style, m.entry, case, m.source, _Oracle)
    assert not all(_matches(_run(snippet, m.impl), ("out", "dx", "dw", "db"))), snippet
