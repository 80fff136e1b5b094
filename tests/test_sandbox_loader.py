"""The loader's pure parts (parse, filter, Python 2) and the child<->parent codec, in-process."""

from __future__ import annotations

import ast
import struct
from pathlib import Path

import numpy as np
import pytest

from oracles.child import DecodeError, Opaque, decode, encode
from oracles.loader import LoadError, filter_module, imported_roots, parse
from oracles.notebook import strip_magics
from oracles.sandbox import _result, validate_observation

FAULTS = Path(__file__).parent / "faults"


def test_syntax_error_names_the_line():
    with pytest.raises(LoadError) as e:
        parse((FAULTS / "syntax_error.py").read_text(), "syntax_error.py")
    assert e.value.kind == "syntax"
    assert e.value.line == 8
    assert "syntax error at line 8" in e.value.message


@pytest.mark.parametrize(
    "source, what",
    [
        ('x = 1\nprint "hello"\n', "print"),
        ("try:\n    pass\nexcept ValueError, e:\n    pass\n", "except E, e"),
        ("def f():\n    return 0777\n", "number literals"),
        ("def f(n):\n    return [i for i in xrange(n)]\n", "xrange"),  # parses as Python 3: found by its names
    ],
)
def test_python2_is_converted(source, what):
    tree, notes, converted = parse(source, "old.py")
    assert converted is not None and any("Python 2 -> 3 conversion" in n and what in n for n in notes), notes
    compile(tree, "old.py", "exec")


def test_python2_file_the_converter_cannot_read_names_the_broken_line():
    with pytest.raises(LoadError) as e:
        parse((FAULTS / "python2_print.py").read_text(), "python2_print.py")
    assert (e.value.kind, e.value.line) == ("python2", 15)
    assert "Python 2 syntax at line 12" in e.value.message and "line 15" in e.value.message
    assert "never closed" in e.value.message


def test_notebook_magics_are_commented_out():
    tree, notes, _ = parse(strip_magics("%matplotlib inline\n!pip install numpy\ndef f():\n    return 1\n")[0],
                           "nb.py")
    assert any(isinstance(s, ast.FunctionDef) for s in tree.body)


def test_filter_keeps_definitions_and_skips_script_code():
    tree, _, _ = parse((FAULTS / "notebook_export.py").read_text(), "notebook_export.py")
    kept, skipped = filter_module(tree)
    kinds = {type(s).__name__ for s in kept.body}
    assert "ClassDef" in kinds and "FunctionDef" in kinds
    text = ast.unparse(ast.Module(body=kept.body[1:], type_ignores=[]))  # without the docstring
    for bad in ("get_ipython", "load_data_wrapper", "SGD", "plt.plot", "undefined_name_that_would_crash"):
        assert bad not in text
    assert "np_seed = 1" in text  # a simple constant stays
    assert len(skipped) >= 5


def test_main_guard_never_runs():
    tree, _, _ = parse("def f():\n    return 1\nif __name__ == '__main__':\n    f()\n", "m.py")
    kept, skipped = filter_module(tree)
    assert [type(s).__name__ for s in kept.body] == ["FunctionDef"]
    assert skipped and skipped[0][1] == "if-block"


def test_local_call_tables_are_kept_guarded():
    src = "def make(k):\n    return lambda x: k * x\nTABLE = {'a': make(2)}\nnet = train()\n"
    kept, skipped = filter_module(parse(src, "t.py")[0])
    guarded = [s for s in kept.body if getattr(s, "_bpcheck_guarded", False)]
    assert [ast.unparse(s).split(" =")[0] for s in guarded] == ["def make(k)", "TABLE"][1:] or any(
        "TABLE" in ast.unparse(s) for s in guarded)
    assert not any("train()" in ast.unparse(s) for s in kept.body)
    assert any("train()" in d for _, d in skipped)


def test_imported_roots_sees_imports_inside_functions():
    tree, _, _ = parse("def f():\n    import torch.nn as nn\n    return nn\n", "t.py")
    assert ("torch", 2) in imported_roots(tree)


# -- codec: what the child sends is untrusted


def test_codec_round_trip():
    obj = {"loss": 1.5, "grads": {"W1": np.arange(6.0).reshape(2, 3), "b1": np.zeros(2, np.float32)},
           "mutated": ["x"], "flag": True, "n": np.int64(3), "none": None, "t": (1, 2)}
    back = decode(encode(obj))
    assert back["loss"] == 1.5 and back["flag"] is True and back["n"] == 3 and back["none"] is None
    np.testing.assert_array_equal(back["grads"]["W1"], obj["grads"]["W1"])
    assert back["grads"]["b1"].dtype == np.float32
    assert back["t"] == [1, 2]


def test_codec_never_carries_objects():
    back = decode(encode({"g": np.array([object()], dtype=object), "f": open}))
    assert isinstance(back["g"], Opaque) and isinstance(back["f"], Opaque)


@pytest.mark.parametrize("mangle", ["truncate", "dtype", "ref", "trailing", "garbage"])
def test_decode_rejects_malformed_answers(mangle):
    data = encode({"a": np.ones(3)})
    (n,) = struct.unpack("<Q", data[:8])
    head = data[8 : 8 + n].decode()
    if mangle == "truncate":
        data = data[:-5]
    elif mangle == "dtype":
        data = _rehead(data, n, head.replace("<f8", "|O8"))
    elif mangle == "ref":
        data = _rehead(data, n, head.replace('"__nd__": 0', '"__nd__": 7'))
    elif mangle == "trailing":
        data = data + b"xx"
    else:
        data = b"\x00" * 3
    with pytest.raises(DecodeError):
        decode(data)


def _rehead(data: bytes, n: int, head: str) -> bytes:
    h = head.encode()
    return struct.pack("<Q", len(h)) + h + data[8 + n :]


def test_observation_validation_is_strict():
    ok = validate_observation({"loss": 1.0, "grads": {"W1": np.ones((2, 2))}, "errors": {}, "notes": []})
    assert ok.loss == 1.0 and ok.grads["W1"].shape == (2, 2)
    for bad in ({"loss": "1.0"}, {"grads": {"W1": Opaque("str: 'x'")}}, {"grads": [1, 2]},
                {"mutated": [1]}, {"evil": 1}, {"errors": {"grad_W": 3}}):
        with pytest.raises(ValueError):
            validate_observation(bad)
    # the oracle's error estimate is never taken from a submission
    assert validate_observation({"err_est": {"W1": 1e9}}).err_est == {}


def test_result_reports_patching_and_bad_losses():
    r = _result({"i": 0, "error": None, "obs": {"loss": 1.0}, "patched": ["np.dot"]}, 0)
    assert r.fault == "patched" and "np.dot" in r.message
    r = _result({"i": 0, "error": None, "own_loss": "nan"}, 0)
    assert r.fault == "protocol"
    r = _result({"i": 3, "error": None}, 0)
    assert r.fault == "protocol"
