"""Issue 9 section 2, "take the file as it is", end to end: each loading pattern real submissions show
(Python 2, notebooks, packages, numpy 1.x APIs, course helpers) on fixtures written for bpcheck
(tests/submissions/loading/), through `bpcheck validate` / `bpcheck grade` and the loader's units."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from oracles.import_guard import RootFinder

PROJECT = Path(__file__).resolve().parents[1]
FIX = Path(__file__).resolve().parent / "submissions" / "loading"


# ---------------------------------------------------------------- bpcheck's own packages


def test_bpcheck_packages_are_never_served_as_the_learners():
    """The root of reference/mytorch/__init__.py is bpcheck's checkout: oracles.* imported by the child
    after loading must come from bpcheck (not run 'prepared', definitions only, as a learner's helper)."""
    ran = []
    finder = RootFinder([PROJECT], lambda module, path: ran.append(path), package="reference.mytorch")
    for name, path in (("oracles.optim.drivers", [str(PROJECT / "oracles" / "optim")]),
                       ("reports.validate", [str(PROJECT / "reports")]), ("oracles", None),
                       ("reference.functions", [str(PROJECT / "reference")])):
        assert finder.find_spec(name, path) is None, name
    spec = finder.find_spec("reference.mytorch.nn", [str(PROJECT / "reference" / "mytorch")])
    assert spec is not None and type(spec.loader).__name__ == "_PreparedLoader"  # the submission's own package


# ---------------------------------------------------------------- end to end: bpcheck validate

FAST = {"cases": 3, "shrink": False, "timeout": 5.0}


def _validate(path: Path, **kw):
    from reports.validate import validate_file

    return validate_file(path, **{**FAST, **kw})


def _notes(report) -> str:
    return "\n".join(report.notes)


def _converted(report) -> str:
    return next((n for n in report.notes if "automatic Python 2 -> 3 conversion" in n), "")


@pytest.mark.parametrize("name, style, traps", [
    # print statements, xrange in backprop, cPickle in update_mini_batch, 0L, 'except E, e', 'raise E, msg'
    ("network_book_style.py", "nielsen", ("print statements", "xrange", "cPickle", "number literals", "'except E, e'")),
    # zip iterated twice, map sliced, range reversed in place: lists in Python 2
    ("network_lists.py", "nielsen", ("zip as a list", "map as a list")),
    # len(parameters) / 2 feeds range(); parameters.iteritems() in the update
    ("deep_nn.py", "dlai", ("dict.iteritems", "print statements", "xrange")),
])
def test_python2_runs_after_conversion_and_passes(name, style, traps):
    report = _validate(FIX / "python2" / name)
    assert report.verdict == "pass", report.render()
    assert report.style == style
    note = _converted(report)
    assert note and "'/' kept its Python 2 meaning" in note, report.notes
    for trap in traps:
        assert trap in note, (trap, note)
    assert "replaced by stubs" not in _notes(report)  # cPickle is pickle, not a stub
    assert "truncated" not in _notes(report)  # len(parameters) / 2 == 2: nothing truncated, nothing to say


def test_python2_integer_division_keeps_its_meaning_and_fails_a_1_over_m_bug():
    """`1 / m` with an int m is 0 in Python 2: every dW, db is zero on the course's own Python. Judged as
    Python 3 would divide, the file would pass; bpcheck keeps Python 2's '/' and fails it."""
    report = _validate(FIX / "python2" / "deep_nn_int_division_bug.py")
    assert report.verdict == "fail", report.render()
    assert "zero_grad" in report.bug_classes()
    assert _converted(report)
    # and the line is named: the truncating divisions are listed with their values
    assert ("Python 2 integer division truncated (judged as Python 2 runs it): deep_nn_int_division_bug.py "
            "line 52: '/' between integers (1 / 3 = 0 in Python 2); deep_nn_int_division_bug.py line 53") \
        in _notes(report), report.notes


def test_python2_file_the_converter_cannot_read_is_an_error_naming_the_line():
    report = _validate(FIX / "python2" / "unconvertible.py")
    assert report.verdict == "error" and report.style is None
    (load,) = report.checks
    assert load.name == "load" and "conversion failed at line 15" in load.message, load.message
    assert "'(' was never closed" in load.message


# ---------------------------------------------------------------- notebooks


def test_ipynb_is_read_with_its_magics_and_shell_lines_dropped():
    """%magics, !shell, `x = !ls`, `obj?`, a %%bash cell dropped; a %%time cell's definition kept (without
    it L_model_forward has no linear_forward); `% activation` continuing a bracket (black's layout) is the
    modulo, not a magic; the data-loading cell is not run; dnn_utils supplied."""
    report = _validate(FIX / "notebook" / "deep_nn_step_by_step.ipynb")
    assert report.verdict == "pass", report.render()
    assert report.style == "dlai"
    names = {c.name.split(":")[0] for c in report.checks if c.verdict == "pass"}
    assert "L_model" in names, names
    notes = _notes(report)
    assert "IPython magics/shell lines skipped: cell 2, line 6" in notes
    assert "cells in another language dropped: cell 8 (%%bash)" in notes
    assert "course helper module(s) not included with the submission, bpcheck's stand-ins used: dnn_utils_v2" in notes
    assert "cell 3, line 3: train_x_orig, train_y" in notes  # the data load: listed as not run
    # Jupyter runs cells one by one: a broken test cell and an `if` on a name never set do not stop loading
    assert "cells that define nothing and do not parse, skipped: cell 10 (line 2: '(' was never closed)" in notes
    assert ("top-level statement(s) that raised while loading, skipped (1): cell 12, line 2: if choice == 'fast': "
            "(NameError: name 'choice' is not defined)") in notes


def test_nbconvert_export_drops_statements_that_depend_on_skipped_ones():
    """`X, Y = load_planar_dataset()` is skipped (a data load), so `X = np.array(X)` and everything that
    uses X is dropped with it (listed as not run, never run and failed); definitions and the constant
    LEARNING_RATE used as a default argument are kept."""
    report = _validate(FIX / "notebook" / "planar_classification.py")
    assert report.verdict == "pass", report.render()
    assert report.style == "dlai"
    notes = _notes(report)
    assert "line 26: X = np.array(X) (needs X from line 25, not run)" in notes, notes
    assert "raised while loading" not in notes
    assert "bpcheck's stand-ins used: planar_utils" in notes
    # a course helper the file imports but never calls: stubbed, and listed as the course's
    assert "stubbed (test cases, data loaders, plotting; fine unless backprop calls them): testCases_v2" in notes
    assert "replaced by stubs (fine unless backprop calls them): matplotlib, sklearn\n" in notes + "\n", notes


# ---------------------------------------------------------------- packages


def test_package_with_relative_imports_and_a_missing_compiled_extension():
    """cs231n/classifiers/fc_net.py (classifiers/ has no __init__.py, as in the 2023 layout) imports
    `from ..layers import *`; layer_utils imports `from .fast_layers import *`, which imports the compiled
    im2col_cython that was never built. No --root: the root is found from the package chain."""
    report = _validate(FIX / "packages" / "assignment2" / "cs231n" / "classifiers" / "fc_net.py")
    assert report.verdict == "pass", report.render()
    assert report.style == "cs231n"
    notes = _notes(report)
    assert f"imports resolved from {FIX / 'packages' / 'assignment2'} (package cs231n.classifiers" in notes, notes
    # the compiled extension, never built by a grader: bpcheck's numpy stand-in (oracles/standins_conv.py)
    assert "bpcheck's stand-ins used: cs231n.im2col_cython" in notes, notes
    assert "compiled course extension" not in notes
    assert any(c.name.startswith("TwoLayerNet") and c.verdict == "pass" for c in report.checks)


def test_a_compiled_extension_without_a_stand_in_is_stubbed_with_a_note(tmp_path):
    from oracles.sandbox import Sandbox

    pkg = tmp_path / "hw" / "mylib"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "fast_ops.pyx").write_text("def fast_dot(double[:] a):\n    pass\n")
    (pkg / "layers.py").write_text("from .fast_ops import fast_dot\n\n\ndef affine_forward(x, w, b):\n"
                                   "    return x @ w + b, (x, w, b)\n")
    with Sandbox(pkg / "layers.py") as sb:
        info = sb.load()
    assert info.ok, info.message
    assert any("compiled course extension(s) not built here, replaced by stubs (fine unless backprop calls them): "
               "mylib.fast_ops" in n for n in info.notes), info.notes
    assert "fast_dot" not in info.names and "affine_forward" in info.names


def test_package_whose_init_imports_its_own_submodules():
    """assignment 1: cs231n/classifiers/__init__.py imports neural_net (the file being checked) and
    linear_svm by the package's absolute name; the root is found by walking up the __init__.py files."""
    report = _validate(FIX / "packages" / "assignment1" / "cs231n" / "classifiers" / "neural_net.py")
    assert report.verdict == "pass", report.render()
    assert report.style == "cs231n"
    assert "package cs231n.classifiers (its __init__.py files)" in _notes(report)


def test_a_root_above_the_package_still_finds_the_learners_package(tmp_path):
    """--root one level above the package (grade's guess: the student's folder): loss() calls the learner's
    own cs231n.classifiers.softmax helper, which must be loaded from the package, never stubbed."""
    student = tmp_path / "dan"
    shutil.copytree(FIX / "packages" / "assignment1", student / "hw1")
    report = _validate(student / "hw1" / "cs231n" / "classifiers" / "neural_net.py", root=str(student))
    assert report.verdict == "pass", report.render()
    assert "cs231n" not in _notes(report).replace("cs231n.classifiers", ""), report.notes


def test_a_refused_library_in_a_helper_module_is_stubbed_there_not_in_the_file():
    """fast_layers.py (a helper) imports torch; fc_net.py, the file checked, never calls it: judged on its
    hand-written numpy, with a note. The file itself importing torch is still refused (test_sandbox_faults)."""
    report = _validate(FIX / "packages" / "assignment2_torch_helper" / "cs231n" / "classifiers" / "fc_net.py")
    assert report.verdict == "pass", report.render()
    assert "torch is imported by helper module(s) fast_layers.py, not by the file checked: replaced there by a stub" \
        in _notes(report)


def test_a_refused_library_called_through_a_helper_fails_the_check(tmp_path):
    tree = tmp_path / "hw"
    shutil.copytree(FIX / "packages" / "assignment2_torch_helper", tree)
    utils = tree / "cs231n" / "layer_utils.py"
    utils.write_text(utils.read_text().replace("out, relu_cache = relu_forward(a)",
                                               "out, relu_cache = relu_fast(a), a"))
    report = _validate(tree / "cs231n" / "classifiers" / "fc_net.py")
    assert report.verdict == "fail", report.render()
    failing = [c for c in report.checks if c.verdict == "fail"]
    assert failing and "'torch' is an autograd library, refused in submissions" in failing[0].message, \
        failing[0].message


def test_a_local_package_named_like_a_refused_library_is_the_learners():
    report = _validate(FIX / "packages" / "micrograd_local" / "network.py")
    assert report.verdict == "pass", report.render()
    assert "micrograd is the learner's own module (found next to the file), not the micrograd library" \
           in _notes(report)


def test_the_real_micrograd_is_still_refused(tmp_path):
    f = tmp_path / "network.py"
    f.write_text((FIX / "packages" / "micrograd_local" / "network.py").read_text())
    report = _validate(f)
    assert report.verdict == "fail" and report.checks[0].name == "load"
    assert "not allowed: the submission imports 'micrograd'" in report.checks[0].message


def test_scipy_special_is_supplied_where_scipy_is_not_installed():
    """expit as the sigmoid (from scipy.special import expit), `import scipy` then scipy.special.erf."""
    report = _validate(FIX / "helpers" / "network_scipy_expit.py")
    assert report.verdict == "pass", report.render()
    assert "not installed here, bpcheck's stand-ins used: scipy.special (scipy.special: erf, erfc, expit" \
        in _notes(report)


def test_past_builtins_xrange_is_supplied():
    """CS231n 2017 files: `from past.builtins import xrange` (the `future` package, not installed here)
    with xrange in the loss loop: without a stand-in every check FAILs on a StubError."""
    report = _validate(FIX / "helpers" / "svm_past_xrange.py")
    assert report.verdict == "pass", report.render()
    assert "bpcheck's stand-ins used: past.builtins" in _notes(report)


def test_functions_imported_from_stubbed_helpers_are_never_driven_as_the_learners():
    """Course 2 imports forward_propagation/backward_propagation from reg_utils (not submitted): driving
    those stubs as the learner's two-layer entry points FAILed every correct file with a StubError."""
    report = _validate(FIX / "helpers" / "regularization_c2.py")
    assert report.verdict == "pass", report.render()
    assert not any("StubError" in c.message or "not available here" in c.message for c in report.checks)
    assert "forward_propagation" not in report.style_reason
    # compute_cost_with_regularization calls reg_utils.compute_cost: the course's formula, supplied
    assert "bpcheck's stand-ins used: reg_utils" in _notes(report)


def test_course_helper_stand_ins_are_not_style_evidence():
    """dnn_utils' relu_backward/sigmoid_backward (bpcheck's stand-ins) are not the learner's functions."""
    report = _validate(FIX / "notebook" / "deep_nn_step_by_step.ipynb")
    assert "relu_backward" not in report.style_reason and "L_model_forward" in report.style_reason


# ---------------------------------------------------------------- numpy 1.x


def test_numpy_1x_apis_are_judged_with_the_compat_layer_and_warned_with_their_lines():
    report = _validate(FIX / "numpy1x" / "deep_nn_numpy1.py")
    assert report.verdict == "warn", report.render()
    (row,) = [c for c in report.checks if c.verdict != "pass"]
    assert row.name == "numpy 2 compatibility" and row.bug_class == "numpy_1x_api"
    for use in ("np.math (deep_nn_numpy1.py line 20)", "np.int (deep_nn_numpy1.py line 26)",
                "np.float (deep_nn_numpy1.py line 49)",
                "np.reshape(newshape=) (deep_nn_numpy1.py line 56)",
                "float() of an array with ndim > 0 (shape (1, 1)) (deep_nn_numpy1.py line 39)"):
        assert use in row.message, (use, row.message)
    assert "fine on the course's numpy 1.x" in row.message
    assert any(c.name.startswith("L_model") and c.verdict == "pass" for c in report.checks)


def test_strict_numpy_judges_against_the_installed_numpy():
    report = _validate(FIX / "numpy1x" / "deep_nn_numpy1.py", strict_numpy=True)
    assert report.verdict == "fail", report.render()
    assert report.to_dict()["settings"]["strict_numpy"] is True
    failing = [c for c in report.checks if c.verdict == "fail"]
    assert failing and all("has no attribute 'int'" in c.message for c in failing), [c.message for c in failing]
    compat = next(c for c in report.checks if c.name == "numpy 2 compatibility")
    assert "judged strictly against the installed numpy" in compat.message


# ---------------------------------------------------------------- the CLI: validate and grade


def test_cli_validate_reads_an_ipynb_and_takes_strict_numpy(capsys):
    from reports.cli import main

    code = main(["validate", str(FIX / "numpy1x" / "deep_nn_numpy1.py"), "--cases", "3", "--strict-numpy",
                 "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 1 and data["verdict"] == "fail" and data["settings"]["strict_numpy"] is True
    code = main(["validate", str(FIX / "notebook" / "deep_nn_step_by_step.ipynb"), "--cases", "3"])
    out = capsys.readouterr().out
    assert code == 0 and "verdict: PASS" in out and "notebook: only the code cells" in out


def test_grade_a_class_of_every_loading_pattern(tmp_path, capsys):
    """One class folder with each pattern as its own submission (files and package folders), graded with the
    instructor's expected verdicts: every verdict agrees."""
    from reports.cli import main

    d = tmp_path / "class"
    d.mkdir()
    for src, dst in (("python2/network_book_style.py", "py2.py"), ("python2/deep_nn_int_division_bug.py", "py2bug.py"),
                     ("notebook/deep_nn_step_by_step.ipynb", "nb.ipynb"),
                     ("notebook/planar_classification.py", "export.py"), ("numpy1x/deep_nn_numpy1.py", "np1.py")):
        shutil.copy(FIX / src, d / dst)
    for src, dst in (("assignment2", "bob"), ("assignment1", "erin"), ("micrograd_local", "carol")):
        shutil.copytree(FIX / "packages" / src, d / dst)
    exp = tmp_path / "hand.tsv"
    exp.write_text("py2.py\tpass\npy2bug.py\tfail\nnb.ipynb\tpass\nexport.py\tpass\nnp1.py\twarn\nbob\tpass\n"
                   "erin\tpass\ncarol\tpass\n")
    out = tmp_path / "out"
    main(["grade", str(d), "--out", str(out), "--workers", "2", "--cases", "3", "--timeout", "5",
          "--expected", str(exp)])
    printed = capsys.readouterr().out
    assert "agreement: 8/8 exact (100.0%)" in printed, printed


def test_a_mytorch_file_is_judged_on_its_own_classes_not_the_ones_it_imports():
    """pool.py does `from resampling import *` (the handout's layout): a square-only Downsample2d next to it is
    resampling.py's FAIL, not pool.py's (a correct real pool.py and conv.py read FAIL through it)."""
    d = FIX / "packages" / "mytorch_pool_imports"
    pool = _validate(d / "pool.py")
    assert pool.verdict == "pass", pool.render()
    assert {c.name.split(":")[1] for c in pool.checks if c.name.startswith("layer:")} == {"MeanPool2d_stride1"}
    resampling = _validate(d / "resampling.py")
    assert resampling.verdict == "fail" and any(c.name.startswith("layer:Downsample2d") for c in resampling.checks
                                                if c.verdict == "fail"), resampling.render()
