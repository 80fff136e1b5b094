"""A CS231n file is judged on what it defines, on the inputs its course allows (issue 9, real fc_net.py files).

* fc_net.py imports layers.py and the course's fast layers (`from cs231n.layers import *`): those are not its
  code; checking them blamed correct nets for layers.py's bugs and for the unbuilt Cython extension.
* An unbuilt course extension (col2im_6d_cython undefined) is "not checked" (ERROR), never a FAIL.
* FullyConnectedNet is drawn with at least one hidden layer (the course never builds one without).
* CS231n conv/pool entries draw windows that tile the input (the course's stated assumption), still with
  rectangular windows, non-square images and stride > 1.
"""

from __future__ import annotations

import sys
import types
from pathlib import Path

import numpy as np

from oracles import styles
from oracles.layers.conv import fit_window
from oracles.strategies import random_case
from oracles.styles import conv_entries
from oracles.styles.own_code import missing_extension
from reference import cs231n_conv, cs231n_fc_net, cs231n_norm
from reports.validate import validate_file

FX = Path(__file__).resolve().parent / "submissions" / "real_layers" / "fx"


def _learner_module(name: str) -> types.SimpleNamespace:
    """A learner's fc_net.py as the loader hands it over: its own class beside imported layer functions."""
    mod = types.ModuleType(name)
    own = type("FullyConnectedNet", (cs231n_fc_net.FullyConnectedNet,), {"__module__": name})
    mod.__dict__.update(FullyConnectedNet=own, np=np,
                        batchnorm_forward=cs231n_norm.batchnorm_forward,
                        batchnorm_backward=cs231n_norm.batchnorm_backward,
                        conv_forward_naive=cs231n_conv.conv_forward_naive,
                        conv_backward_naive=cs231n_conv.conv_backward_naive)
    sys.modules[name] = mod
    return types.SimpleNamespace(**{k: v for k, v in vars(mod).items() if not k.startswith("__")})


def test_imported_layer_functions_are_not_the_files_entry_points():
    impl = _learner_module("learner_fc_net_own_code")
    try:
        entries = styles.entry_points("cs231n", impl)
    finally:
        del sys.modules["learner_fc_net_own_code"]
    assert "FullyConnectedNet" in entries and "FullyConnectedNet[batchnorm]" in entries, entries
    assert not [e for e in entries if e.startswith("fn:") or e == "layers"], entries


def test_a_module_of_its_own_keeps_every_entry_point():
    entries = styles.entry_points("cs231n", cs231n_norm)  # our reference: it defines what it has
    assert "fn:batchnorm" in entries and "fn:dropout" in entries, entries


def test_unbuilt_extension_is_not_checked_never_fail():
    assert missing_extension("conv_backward_fast(dout, cache) raised NameError: name 'col2im_6d_cython' is not "
                             "defined (at fast_layers.py:102)")
    assert missing_extension("raised NameError: name 'x_cols' is not defined") is None
    r = validate_file(FX / "cs231n_fcnet_pkg" / "cs231n" / "conv_sandwich.py", cases=2, shrink=False, timeout=10.0)
    d = r.to_dict()
    assert d["verdict"] == "error", r.render()
    bad = [c for c in d["checks"] if c["verdict"] != "pass"]
    assert bad and all(c["verdict"] == "error" and "compiled extension" in c["message"] for c in bad), r.render()


def test_fully_connected_net_has_a_hidden_layer():
    space = styles.spec_space("cs231n", cs231n_fc_net, "FullyConnectedNet")
    rng = np.random.default_rng(0)
    assert space.min_layers >= 2
    assert all(random_case(rng, space).spec.n_layers >= 2 for _ in range(50))


def _windows(entry: str, n: int = 200):
    space = conv_entries.ENTRIES[("cs231n", entry)].space(None)
    rng = np.random.default_rng(1)
    for _ in range(n):
        case = random_case(rng, space)
        for s in case.spec.slots:
            if s.layer.kind in ("conv", "max_pool"):
                yield s.layer.hp, s.in_shape


def test_cs231n_conv_and_pool_windows_tile_the_input():
    rect = strided = nonsquare = 0
    for entry in ("fn:conv", "fn:max_pool", "fn:conv_relu_pool"):
        for hp, (_, H, W) in _windows(entry):
            kh = int(hp["kh"])
            kw = kh if hp.get("kw") is None else int(hp["kw"])
            pad, st = int(hp.get("pad", 0)), int(hp["stride"])
            assert (H + 2 * pad - kh) % st == 0 and (W + 2 * pad - kw) % st == 0, (entry, hp, H, W)
            rect += kh != kw and st > 1
            strided += st > 1
            nonsquare += H != W
    # the cases that caught real bugs stay: rectangular windows with a stride, non-square images
    assert rect >= 20 and strided >= 100 and nonsquare >= 100, (rect, strided, nonsquare)


def test_fit_window_keeps_pinned_values_and_default_draws():
    hp = {"kh": 1, "kw": 3, "stride": 2, "fit": "exact"}
    got = fit_window("max_pool", hp, (1, 4, 4))
    assert (4 - got["kh"]) % got["stride"] == 0 and (4 - got["kw"]) % got["stride"] == 0, got
    assert fit_window("max_pool", dict(hp, fit="any"), (1, 4, 4)) == dict(hp, fit="any")
    pinned = fit_window("max_pool", hp, (1, 4, 4), pinned={"kh": 1, "kw": 3})
    assert pinned["kh"] == 1 and pinned["kw"] == 3 and pinned["stride"] == 1, pinned
