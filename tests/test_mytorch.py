"""MyTorch (CMU 11-785), the fifth style: references pass, course years are told apart, bugs are caught and named."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

import reference.mytorch as mt
from oracles import styles
from oracles.compare import compare_observation
from oracles.optim import drivers as optim_drivers
from oracles.strategies import REGIMES, draw_case
from oracles.styles import mytorch as driver
from reports.optim_run import check_optim_case, plan_optim_cases

FIXTURES = Path(__file__).parent / "submissions" / "mytorch"


def _names(impl) -> list[str]:
    names = [n for n in dir(impl) if not n.startswith("_")]
    return names + [f"{n}.{m}" for n in names if isinstance(getattr(impl, n), type)
                    for m in dir(getattr(impl, n)) if not m.startswith("_")]


def _mlp_failures(impl, entry: str, n: int, *, dtype: str = "float64") -> Counter:
    """Bug classes of the failing Cases of one MLP-style entry point (empty when every Case passes)."""
    from oracles.diagnose import diagnose
    from oracles.torch_autograd import expected

    space = styles.spec_space("mytorch", impl, entry)
    out = Counter()
    for i in range(n):
        regime = REGIMES[i % len(REGIMES)] if not space.sequences else (None, "tiny")[i % 2]  # layer: 2 regimes
        case = draw_case(space, 1000 + i, regime=regime, dtype=dtype, max_batch=8)
        obs = styles.run("mytorch", impl, case, entry)
        exp = expected(case)
        verdicts = compare_observation(case, obs, exp)
        if any(not v.passed for v in verdicts):
            ds = diagnose(case, verdicts, obs, exp)
            out[ds[0].bug_class if ds else "unclassified"] += 1
    return out


def test_detected_by_its_names():
    assert styles.detect(_names(mt))[0] == "mytorch"
    assert optim_drivers.detect(["SGD", "SGD.step", "SGD.__init__"])[0] == "mytorch"


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_reference_passes(dtype):
    entries = styles.entry_points("mytorch", mt)
    assert entries == ["layers", "MLP0", "MLP1", "MLP4", "layer:GELU", "layer:Softmax", "layer:BatchNorm1d",
                       "layer:Flatten",
                       *(f"layer:{n}" for n in ("Conv2d_stride1", "Conv2d", "MaxPool2d_stride1", "MaxPool2d",
                                                "MeanPool2d_stride1", "MeanPool2d", "Conv1d_stride1", "Conv1d",
                                                "ConvTranspose1d", "ConvTranspose2d", "Downsample1d", "Upsample1d",
                                                "Downsample2d", "Upsample2d"))]
    for entry in entries:
        assert not _mlp_failures(mt, entry, 20, dtype=dtype), entry
    for entry in optim_drivers.entry_points("mytorch", mt):
        for case in plan_optim_cases("mytorch", optim_drivers.entry_rule(entry), 12, seed=4, dtype=dtype):
            _obs, j = check_optim_case("mytorch", mt, case, entry)
            assert j.passed, [v.message for v in j.verdicts if not v.passed]


@pytest.mark.parametrize("name,api,scale", [("s24_correct", "nn", "sum"), ("f22_mean_scale", "nn", "mean"),
                                            ("api2021", "2021", "mean")])
def test_course_year_is_detected_and_judged_by_its_own_scale(name, api, scale):
    from submissions import load

    impl, _names_ = load(FIXTURES / f"{name}.py")
    got_api, got_scale, text = driver.era(impl)
    assert (got_api, got_scale) == (api, scale), text
    assert not _mlp_failures(impl, "layers", 12), name


REAL = Path(__file__).parent / "submissions" / "real_layers" / "fx"


@pytest.mark.parametrize("rel,entries,scale", [
    ("mytorch_f24/mytorch/nn/linear.py", ["layer:Linear"], "sum"),
    ("mytorch_s22/mytorch/nn/modules/linear.py", ["layer:Linear"], "mean"),
    ("mytorch_s22/mytorch/nn/modules/activation.py", [f"layer:{n}" for n in ("Identity", "Sigmoid", "Tanh", "ReLU")],
     None),
    ("mytorch_s22/mytorch/nn/modules/loss.py", ["loss:MSELoss", "loss:CrossEntropyLoss"], "mean"),
    ("mytorch_f24/mytorch/nn/loss.py", ["loss:MSELoss", "loss:CrossEntropyLoss"], "sum"),
])
def test_a_module_file_alone_is_checked_part_by_part_in_its_own_year(rel, entries, scale):
    """linear.py, activation.py, loss.py validated alone: each part is an entry point, the year read off it."""
    from submissions import load

    from oracles.styles import mytorch_parts

    impl, names = load(REAL / rel)
    assert styles.detect(names)[0] == "mytorch"
    assert styles.entry_points("mytorch", impl) == entries
    if entries[0] == "layer:Linear":
        assert driver.era(impl)[1] == scale
    elif entries[0].startswith("loss:"):
        assert mytorch_parts.loss_scale(impl)[0] == scale
    for entry in entries:
        assert not _mlp_failures(impl, entry, 10), entry


def test_a_loss_file_of_mixed_years_is_judged_by_the_current_one():
    from submissions import load

    from oracles.styles import mytorch_parts

    impl, _ = load(FIXTURES / "loss_alone_mixed_years.py")
    scale, why = mytorch_parts.loss_scale(impl)
    assert scale == "sum" and "different course years" in why, why


def test_the_halved_mse_of_f22_is_judged_by_its_own_forward():
    """F22-F23's MSE (forward SSE / (2 N C), backward (A - Y) / (N C)): a right forward passes even when the
    backward is wrong (the precedence slip (A - Y) / n * c * 0.25 fails alone), read off the forward, not the
    backward (which coincides with the halved form at C = 2, the probe's width)."""
    from submissions import load

    from oracles.styles import mytorch_parts

    fx = REAL / "mytorch_f22"
    ok, _ = load(fx / "loss_halved_mse.py")
    bad, _ = load(fx / "loss_halved_mse_backward_precedence.py")
    assert mytorch_parts.mse_halved(ok.MSELoss) and mytorch_parts.mse_halved(bad.MSELoss)
    assert mytorch_parts.loss_scale(ok)[0] == "mean"
    from oracles.torch_autograd import expected

    assert not _mlp_failures(ok, "loss:MSELoss", 10)
    space, failed = styles.spec_space("mytorch", bad, "loss:MSELoss"), set()
    for i in range(6):
        regime = REGIMES[i % len(REGIMES)] if not space.sequences else (None, "tiny")[i % 2]
        case = draw_case(space, 1000 + i, regime=regime, max_batch=8)
        verdicts = compare_observation(case, styles.run("mytorch", bad, case, "loss:MSELoss"), expected(case))
        failed |= {v.name for v in verdicts if not v.passed}
    assert failed == {"grads['x']"}, failed


def _expect(path: Path) -> tuple[str, str]:
    words = path.read_text().splitlines()[0].removeprefix("# expect:").split()
    return words[0], (words[1] if len(words) > 1 else "")


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.py")), ids=lambda p: p.stem)
def test_fixture_verdicts(path):
    from submissions import load

    impl, names = load(path)
    verdict, cls = _expect(path)
    failing, conventions = Counter(), set()
    if styles.detect(names)[0] == "mytorch" or "Flatten" in names:
        for entry in styles.entry_points("mytorch", impl):
            failing += _mlp_failures(impl, entry, 12)
    for entry in optim_drivers.entry_points("mytorch", impl):
        for case in plan_optim_cases("mytorch", optim_drivers.entry_rule(entry), 12, seed=1):
            _obs, j = check_optim_case("mytorch", impl, case, entry)
            conventions.add(j.convention.name)
            if not j.passed:
                failing[j.diagnoses[0].bug_class if j.diagnoses else "unclassified"] += 1
    if verdict == "fail":
        assert failing and failing.most_common(1)[0][0] == cls, failing
    else:
        assert not failing, failing
    if verdict == "convention":
        assert cls in conventions, conventions


def _mytorch_mutants():
    from reference.mutants import MUTANTS

    return [n for n, m in MUTANTS.items() if m.style == "mytorch"]


@pytest.mark.parametrize("name", _mytorch_mutants())
def test_mutant_killed_and_named(name):
    from reference.mutants import MUTANTS
    from reports.mutation_run import run_mutant

    m = MUTANTS[name]
    r = run_mutant(m, cases=12, seed=0, entries=None if m.entry.startswith("optim:") else [m.entry])
    assert r.killed, name
    assert not r.false_alarms, r.false_alarms
    assert r.named, f"{name}: planted {m.bug_class}, diagnosed {[d.bug_class for d in r.diagnoses]}"


def test_validate_the_reference_package():
    from reports.validate import validate_file

    root = Path(mt.__file__).parent
    report = validate_file(root / "__init__.py", cases=5, shrink=False)
    assert report.verdict == "pass", report.render()
    names = {c.name.split(":")[0] for c in report.checks}
    assert {"layers", "MLP0", "MLP1", "MLP4", "optim"} <= names, names
    assert any("S24 on" in n for n in report.notes), report.notes


def test_a_handout_folder_is_validated_as_one_submission(tmp_path):
    """Students submit the handout tree: mytorch/nn/*.py, mytorch/optim/*.py, models/mlp.py with absolute
    imports; the autograder next to them is not theirs."""
    from reports.validate import validate_file

    src = (FIXTURES / "s24_correct.py").read_text()
    (tmp_path / "mytorch" / "nn").mkdir(parents=True)
    (tmp_path / "mytorch" / "optim").mkdir()
    (tmp_path / "models").mkdir()
    for d in ("mytorch", "mytorch/nn", "mytorch/optim", "models"):
        (tmp_path / d / "__init__.py").write_text("")
    (tmp_path / "mytorch" / "nn" / "layers.py").write_text(src.split("class SGD")[0])
    (tmp_path / "mytorch" / "optim" / "sgd.py").write_text("import numpy as np\n\n\nclass SGD" +
                                                           src.split("class SGD")[1].split("class MLP1")[0])
    (tmp_path / "models" / "mlp.py").write_text("from mytorch.nn.layers import Linear, ReLU\n\n\nclass MLP1" +
                                                 src.split("class MLP1")[1])
    (tmp_path / "hw1p1_autograder.py").write_text("raise SystemExit('the autograder must not run')\n")
    report = validate_file(tmp_path, cases=4, shrink=False)
    assert report.verdict == "pass", report.render()
    names = {c.name.split(":")[0] for c in report.checks}
    assert {"layers", "MLP1", "optim"} <= names, names
    assert any("3 modules loaded" in n for n in report.notes) or any("modules loaded" in n for n in report.notes)
    assert any("hw1p1_autograder.py" in n for n in report.notes), report.notes


def test_batchnorm_in_the_sandbox_reads_the_cases_running_statistics():
    """Eval mode and the running statistics need Case.state in the child: a right file passes, the real
    pattern 'old running value never enters' fails on the state check only."""
    from reports.validate import validate_file

    ok = validate_file(FIXTURES / "api2021.py", cases=6, shrink=False)
    rows = {c.name: c.verdict for c in ok.checks if c.name.startswith("layer:BatchNorm:")}
    assert set(rows) == {f"layer:BatchNorm: {f}" for f in ("output", "grad_param", "grad_x", "state")}, rows
    assert set(rows.values()) == {"pass"}, ok.render()
    bad = validate_file(FIXTURES / "bn_running_old_dropped.py", cases=6, shrink=False)
    failed = {c.name for c in bad.checks if c.verdict == "fail"}
    assert failed == {"layer:BatchNorm1d: state"}, bad.render()


def test_s20_np_zeros_none_placeholders_are_a_numpy2_warn_not_a_fail():
    """MyTorch S20's `self.dW = np.zeros(None)`: a 0-d array on numpy 1.x, a TypeError on numpy 2 (the real
    killian2k/MyTorch linear.py). Judged through the compatibility rewrite and WARNed; --strict-numpy fails it."""
    import ast

    from oracles.numpy_compat import scan_and_rewrite
    from reports.validate import validate_file

    src = "import numpy as np\nclass L:\n    def __init__(self):\n        self.dW = np.zeros(None)\n"
    tree, uses = scan_and_rewrite(ast.parse(src), "linear.py")
    assert [(u.what, u.line) for u in uses] == [("np.zeros(None)", 4)]
    assert "np.zeros(())" in ast.unparse(tree)
    path = REAL / "mytorch_s20" / "mytorch" / "linear.py"
    assert validate_file(path, cases=4, shrink=False).verdict == "warn"
    assert validate_file(path, cases=4, shrink=False, strict_numpy=True).verdict == "fail"


@pytest.mark.parametrize("entry", ["layer:Linear", "layer:Softmax", "layer:Conv1d_stride1", "layer:Upsample2d",
                                   "layer:ConvTranspose1d", "layer:BatchNorm1d", "loss:CrossEntropyLoss"])
def test_the_snippet_of_a_single_layer_runs_the_files_own_calls_and_shows_what_is_right(entry):
    """Pasted next to a correct file, the snippet's own calls give exactly its expected_* values (one sample per
    row, the course's constructor, forward(A) / backward(dLdZ) or forward(A, Y) / backward())."""
    import numpy as np

    from oracles import torch_autograd
    from oracles.styles.mytorch_layers import _find
    from oracles.styles.mytorch_snippets import mytorch_snippet

    impl = mt
    if entry in ("layer:Linear", "loss:CrossEntropyLoss"):  # a linear.py / loss.py alone
        impl = type("module", (), {"Linear": mt.Linear, "CrossEntropyLoss": mt.CrossEntropyLoss})
    case = draw_case(styles.spec_space("mytorch", impl, entry), 5, max_batch=3)
    snippet = mytorch_snippet("mytorch", entry, case, "hw1.py", torch_autograd)
    assert "one sample per row" in snippet and max(map(len, snippet.splitlines())) < 160
    ns = {"student": impl}
    exec(snippet.replace("import hw1 as student", ""), ns)
    expected = {k[len("expected_"):]: v for k, v in ns.items() if k.startswith("expected_")}
    assert "Z" in expected or {"L", "dLdA"} <= set(expected)  # (eval mode: no backward)
    for k, v in expected.items():
        got = ns[k] if k in ("Z", "dLdA", "L") else _find(ns["layer"], k)[1]  # Conv*d: on the inner _stride1
        np.testing.assert_allclose(np.asarray(got, dtype=float), v, rtol=1e-12, atol=1e-12, err_msg=k)
