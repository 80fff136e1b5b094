"""Every entry point of every reference, driven on small hand-made Cases: the Observation agrees
with finite differences of the canonical loss (float64), one SGD step with p - lr * grad, the
trajectory with torch, and nothing is reported mutated or broken."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from submissions.cases import small_cases

from oracles import finite_diff, styles
from oracles.case import Case, Spec
from oracles.compare import compare_tensor, failures
from oracles.observation import check_of
from oracles.styles._common import public_names

REFERENCES = [
    "reference.nielsen",
    "reference.matrix",
    "reference.dlai",
    "reference.dlai_two_layer",
    "reference.layers",
    "reference.layer_net",
    "reference.cs231n",
]


def _subjects():
    out = []
    for mod in REFERENCES:
        impl = importlib.import_module(mod)
        style, _ = styles.detect(public_names(impl))
        for entry in styles.entry_points(style, impl):
            if styles.spec_space(style, impl, entry).sequences:
                continue  # one-layer entries (Saito's MulLayer ...): tests/test_saito_simple_layers.py drives them
            out.append((mod, style, entry))
    return out


SUBJECTS = _subjects()


def _fd_verdicts(case: Case, obs):
    """Compare obs with central differences of the canonical loss; kinked elements are masked."""
    fd = finite_diff.full(case)
    verdicts = []
    scale = max(float(np.nanmax(np.abs(g))) for g in fd.grads.values())
    for key, got in obs.grads.items():
        if key not in fd.grads:
            continue
        exp = fd.grads[key].copy()
        nd = fd.nondiff[key]
        got = got.copy()
        got[nd] = exp[nd] = 0.0
        verdicts.append(compare_tensor(f"grads[{key!r}]", got, exp, dtype="float64", oracle="fd", scale=scale,
                                       err_est=fd.norm_err_est(key), check=check_of(key)))
    if obs.loss is not None:
        verdicts.append(compare_tensor("loss", obs.loss, finite_diff.loss(case), dtype="float64", oracle="torch"))
    if obs.updated is not None:
        for key, got in obs.updated.items():
            exp = case.params[key] - case.lr * np.nan_to_num(fd.grads[key])
            verdicts.append(compare_tensor(f"updated[{key!r}]", got, exp, dtype="float64", oracle="fd",
                                           err_est=case.lr * fd.norm_err_est(key), check="update"))
    return fd, verdicts


@pytest.mark.parametrize("mod, style, entry", SUBJECTS, ids=[f"{m.split('.')[1]}[{e}]" for m, _, e in SUBJECTS])
def test_reference_matches_finite_differences(mod, style, entry):
    impl = importlib.import_module(mod)
    space = styles.spec_space(style, impl, entry)
    for case in small_cases(space):
        obs = styles.run(style, impl, case, entry)
        assert obs.errors == {}, (case.describe(), obs.errors)
        assert obs.mutated == [] and obs.shape_changes == {}, (obs.mutated, obs.shape_changes, obs.notes)
        assert {f"W{l}" for l in range(1, case.spec.n_layers + 1)} <= set(obs.grads)
        assert {f"b{l}" for l in range(1, case.spec.n_layers + 1)} <= set(obs.grads)
        _, verdicts = _fd_verdicts(case, obs)
        bad = failures(verdicts)
        assert not bad, f"{style}[{entry}] {case.describe()}\n" + "\n".join(v.message for v in bad)


@pytest.mark.parametrize("mod, style, entry", SUBJECTS, ids=[f"{m.split('.')[1]}[{e}]" for m, _, e in SUBJECTS])
def test_reference_own_loss_is_the_canonical_loss(mod, style, entry):
    impl = importlib.import_module(mod)
    case = small_cases(styles.spec_space(style, impl, entry))[-1]
    own = styles.own_loss(style, impl, case, entry)
    assert own is not None
    v = compare_tensor("loss", own, finite_diff.loss(case), dtype="float64", oracle="torch")
    assert v.passed, v.message


@pytest.mark.parametrize("mod, style, entry", SUBJECTS, ids=[f"{m.split('.')[1]}[{e}]" for m, _, e in SUBJECTS])
def test_reference_float32_and_trajectory_match_torch(mod, style, entry):
    from oracles.compare import compare_observation
    from oracles.torch_autograd import expected

    impl = importlib.import_module(mod)
    space = styles.spec_space(style, impl, entry)
    for case in small_cases(space, dtype="float32", seed=1)[:2]:
        obs = styles.run(style, impl, case, entry)
        assert obs.errors == {}, obs.errors
        verdicts = compare_observation(case, obs, expected(case))
        bad = failures(verdicts)
        assert not bad, "\n".join(v.message for v in bad)
        if obs.trajectory is not None:
            assert len(obs.trajectory) == case.steps


def test_exposed_tensors_per_style():
    """What each style exposes, in canonical shapes: dA/dx where the course returns them."""
    import reference.cs231n
    import reference.dlai
    import reference.layers
    import reference.nielsen

    for style, impl, entry, extra in [
        ("dlai", reference.dlai, "L_model", {"x", "A1", "A2"}),
        ("saito", reference.layers, "layers", {"x", "A1", "A2"}),
        ("cs231n", reference.cs231n, "layers", {"x", "A1", "A2"}),
        ("nielsen", reference.nielsen, "Network", set()),
    ]:
        space = styles.spec_space(style, impl, entry)
        case = next(c for c in small_cases(space) if c.spec.n_layers == 3)
        obs = styles.run(style, impl, case, entry)
        assert extra <= set(obs.grads), (style, sorted(obs.grads))
        for key, g in obs.grads.items():
            want = {"x": (case.m, case.spec.sizes[0])}.get(key) or (
                (case.m, case.spec.sizes[int(key[1:])]) if key[0] == "A" else case.spec.param_shapes()[key])
            assert g.shape == want and g.dtype == np.float64, (style, key, g.shape)


def test_unsupported_case_is_a_value_error_naming_the_space():
    import reference.dlai_two_layer

    spec = Spec(sizes=(2, 3, 3, 1), activations=("tanh", "tanh", "sigmoid"), loss="binary_cross_entropy")
    rng = np.random.default_rng(0)
    params = {k: rng.normal(size=s) for k, s in spec.param_shapes().items()}
    case = Case(spec, params, rng.normal(size=(2, 2)), rng.uniform(size=(2, 1)))
    with pytest.raises(ValueError, match=r"dlai\[two_layer\] cannot run .*3 layers .*spec_space"):
        styles.run("dlai", reference.dlai_two_layer, case, "two_layer")
