"""Conv/pool entry points of the CS231n, deeplearning.ai and Saito drivers: references pass, every conv mutant
is killed and named by the diagnosis, max-pool ties are reported as the file's convention (never a failure),
and ``bpcheck validate`` judges unmodified student-like files (correct PASS with its conv functions counted,
a wrong backward FAILs naming the bug)."""

from __future__ import annotations

import types
from pathlib import Path

import numpy as np
import pytest

from oracles import styles
from oracles import torch_autograd as ta
from oracles.compare import compare_observation
from oracles.strategies import draw_case
from oracles.styles import conv_entries
from reference import cs231n, cs231n_conv
from reference.mutants import MUTANTS
from reference.mutants_conv import CONV_MUTANTS, conv_reference_impl
from reports.mutation_run import run_mutant
from reports.validate import validate_file

SUB = Path(__file__).parent / "submissions" / "conv"
REFS = {
    "cs231n": ["reference/cs231n_conv.py", "reference/cs231n_cnn.py"],
    "dlai": ["reference/dlai_conv.py"],
    "saito": ["reference/saito_conv.py"],
}


def _conv_entries(style, impl):
    return [e for e in styles.entry_points(style, impl) if conv_entries.owns(style, e)]


def test_every_reference_conv_entry_agrees_with_torch():
    seen = set()
    for style, sources in REFS.items():
        for source in sources:
            impl = conv_reference_impl(source)
            for entry in _conv_entries(style, impl):
                space = styles.spec_space(style, impl, entry)
                for seed in range(4):
                    case = draw_case(space, 100 + seed)
                    obs = styles.run(style, impl, case, entry)
                    assert not obs.errors, (style, entry, obs.errors)
                    bad = [v for v in compare_observation(case, obs, ta.expected(case)) if not v.passed]
                    assert not bad, (style, entry, case.describe(), [v.message for v in bad])
                seen.add((style, entry))
    assert {("cs231n", "fn:conv"), ("cs231n", "fn:max_pool"), ("cs231n", "fn:conv_relu_pool"),
            ("cs231n", "ThreeLayerConvNet"), ("dlai", "fn:conv"), ("dlai", "fn:pool"), ("dlai", "fn:zero_pad"),
            ("dlai", "fn:conv_single_step"), ("dlai", "fn:create_mask_from_window"), ("dlai", "fn:distribute_value"),
            ("saito", "Convolution"), ("saito", "Pooling"), ("saito", "fn:im2col"), ("saito", "SimpleConvNet")} <= seen


def test_conv_mutants_are_in_the_zoo():
    assert set(CONV_MUTANTS) <= set(MUTANTS) and len(CONV_MUTANTS) >= 19


@pytest.mark.parametrize("name", sorted(CONV_MUTANTS))
def test_each_conv_mutant_is_killed_and_named(name):
    m = CONV_MUTANTS[name]
    r = run_mutant(m, cases=8, entries=[m.entry])
    assert r.killed and not r.false_alarms, (name, r.kills, r.false_alarms, r.problems)
    assert r.named, (name, str(r.diagnosis))


def _split_pool_backward(dout, cache):
    """A max_pool_backward_naive that shares a tied window's gradient equally (CS231n's reshape pool)."""
    x, pp = cache
    ph, pw, s = pp["pool_height"], pp["pool_width"], pp["stride"]
    dx = np.zeros_like(x)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            win = x[:, :, i * s:i * s + ph, j * s:j * s + pw]
            mask = win == win.max(axis=(2, 3), keepdims=True)
            dx[:, :, i * s:i * s + ph, j * s:j * s + pw] += mask / mask.sum(axis=(2, 3), keepdims=True) * \
                dout[:, :, i, j][:, :, None, None]
    return dx


@pytest.mark.parametrize("backward,says", [
    (cs231n_conv.max_pool_backward_naive, "first maximum"),
    (_split_pool_backward, "shared equally"),
])
def test_max_pool_ties_are_a_reported_convention_never_a_failure(backward, says):
    impl = types.ModuleType("student")
    impl.max_pool_forward_naive, impl.max_pool_backward_naive = cs231n_conv.max_pool_forward_naive, backward
    impl.affine_forward = cs231n.affine_forward  # (a layers.py has more; the conv entries ignore it)
    space = styles.spec_space("cs231n", impl, "fn:max_pool")
    notes = set()
    for seed in range(6):
        case = draw_case(space, seed)
        obs = styles.run("cs231n", impl, case, "fn:max_pool")
        assert all(v.passed for v in compare_observation(case, obs, ta.expected(case)))
        notes |= {n for n in obs.notes if "ties" in n}
    assert notes and all(says in n for n in notes), notes
    if says != "first maximum":
        assert all("a convention, not a bug" in n for n in notes)


FIXTURES = [
    ("cs231n/conv_layers_correct.py", "pass", None),
    ("cs231n/conv_backward_pad_minus_pad.py", "fail", ("fn:conv: grad_x", "pad_zero_crop")),
]
SLOW_FIXTURES = [
    ("dlai/conv_step_by_step_correct.py", "pass", None),
    ("dlai/conv_backward_stride_ignored.py", "fail", ("fn:conv: grad_W", "stride_backward")),
    ("saito/conv_simple_convnet_correct.py", "pass", None),
    ("saito/conv_dW_without_transpose.py", "fail", ("Convolution: grad_W", "reshape_order")),
]


def _validate(path, verdict, failing):
    r = validate_file(SUB / path, cases=10, shrink=False, timeout=5.0)
    assert r.verdict == verdict, r.render()
    conv_units = {"conv_backward_naive", "conv_backward", "Convolution.backward"} & set(r.coverage.defined)
    assert conv_units and conv_units <= set(r.coverage.checked)  # counted as checked, never silently passed
    if failing is not None:
        name, bug = failing
        bad = {c.name: c for c in r.checks if c.verdict == "fail"}
        assert name in bad and bad[name].bug_class == bug, r.render()
        unit = sorted(conv_units)[0]
        assert unit.split(".")[0] in r.render()


@pytest.mark.parametrize("path,verdict,failing", FIXTURES)
def test_validate_judges_conv_files_unmodified(path, verdict, failing):
    _validate(path, verdict, failing)


@pytest.mark.slow
@pytest.mark.parametrize("path,verdict,failing", SLOW_FIXTURES)
def test_validate_judges_dlai_and_saito_conv_files(path, verdict, failing):
    _validate(path, verdict, failing)


def test_report_has_conv_subjects_and_the_references_pass_both_dtypes(tmp_path):
    from reports import campaign

    names = {s.name for s in campaign.default_subjects()}
    for want in ("cs231n:reference.cs231n_conv[fn:conv]", "cs231n:reference.cs231n_conv[fn:max_pool]",
                 "cs231n:reference.cs231n_cnn[ThreeLayerConvNet]", "dlai:reference.dlai_conv[fn:pool]",
                 "saito:reference.saito_conv[Convolution]", "saito:reference.saito_conv[SimpleConvNet]"):
        assert want in names
    subjects = campaign.parse_subjects("cs231n:reference.cs231n_conv[fn:conv],dlai:reference.dlai_conv[fn:pool],"
                                       "saito:reference.saito_conv[Pooling],saito:reference.saito_conv[SimpleConvNet]")
    for dtype in ("float64", "float32"):
        config = campaign.CampaignConfig(cases=12, dtype=dtype, shrink=False)
        results = campaign.run_campaign(subjects, config, cases_dir=tmp_path / dtype, progress=False)
        assert results["discrepancies"] == [], (dtype, results["discrepancies"][:1])
