"""CS231n assignment 2's FullyConnectedNet with ``normalization`` and ``dropout_keep_ratio``: entries
``FullyConnectedNet[batchnorm]``, ``FullyConnectedNet[layernorm]`` and ``FullyConnectedNet[dropout]``
(hooked into oracles/styles/cs231n.py), each a layer sequence of one or two hidden layers:
affine > batchnorm|layernorm > relu [> dropout] > ... > affine, softmax cross-entropy on labels, L2 on the W's.

The driver builds the net with ``normalization=`` / ``dropout_keep_ratio=``, installs the Case's W, b,
gamma, beta in ``net.params`` (course layout W (D, H)) and the running statistics in ``net.bn_params``,
calls ``loss(X, y) -> (loss, grads)`` and reads the running statistics back (the ``state`` check). The
dropout masks are drawn inside ``loss``: the driver wraps the ``dropout_forward`` that ``loss`` calls (its
module's global, restored afterwards) to read each mask from the cache it returns, and hands the masks to
the oracle. The keep rate must follow ``dropout_keep_ratio`` (the net's API: it keeps): checked by the
exact binomial test on the masks of 10^4 units.
"""

from __future__ import annotations

import numpy as np

from oracles.case import Case, SpecSpace
from oracles.keep_rate import read_dropout
from oracles.observation import Observation
from oracles.styles._common import (
    Recorder,
    Snapshot,
    UnsupportedCase,
    accepts,
    get,
    probed,
    read_row_grads,
    require,
)
from oracles.styles.cs231n_layers_norm import (
    convention_notes,
    find_mask,
    probe_eps_at_test,
    probe_running_var,
)

__all__ = ["ENTRIES", "entry_points", "spec_space", "run", "own_loss"]

ENTRIES = ("FullyConnectedNet[batchnorm]", "FullyConnectedNet[layernorm]", "FullyConnectedNet[dropout]")
_KEEP = 0.7  # one dropout_keep_ratio for the whole net
_FAMS = ("loss", "grad_W", "grad_b", "grad_param", "state", "output")


def _cls(impl):
    c = get(impl, "FullyConnectedNet")
    return c if isinstance(c, type) and callable(getattr(c, "loss", None)) else None


def entry_points(impl) -> list[str]:
    c = _cls(impl)
    if c is None:
        return []
    # only what the file's net implements: a skeleton that takes normalization= / dropout_keep_ratio= but never
    # builds gamma or calls dropout_forward is not checked there (its plain FullyConnectedNet still is); it is
    # listed as not checked (``declined_options``), never passed over in silence
    out = [e for e, norm in zip(ENTRIES[:2], ("batchnorm", "layernorm"))
           if _option_kw(c, norm) is not None and probed(impl, f"fcnet:{norm}", lambda n=norm: _has_norm(c, n))]
    if _option_kw(c, "dropout") is not None and probed(impl, "fcnet:keep", lambda: _probe_keep(impl)) is not None:
        out.append(ENTRIES[2])
    return out


def _option_kw(cls, option: str) -> dict | None:
    """The constructor arguments that turn an option on in this file's API year, None when it has none.

    2018 on: normalization='batchnorm' | 'layernorm'; 2016-2017: use_batchnorm=True (no layernorm). Dropout:
    dropout_keep_ratio (2020 on), or dropout=keep probability with 1 meaning none (2018-2019); 2016-2017's
    dropout=0 meaning none is a drop strength read by each year's own dropout_forward: not driven."""
    init = cls.__init__
    if option in ("batchnorm", "layernorm"):
        if accepts(init, "normalization"):
            return {"normalization": option}
        return {"use_batchnorm": True} if option == "batchnorm" and accepts(init, "use_batchnorm") else None
    if accepts(init, "dropout_keep_ratio"):
        return {"dropout_keep_ratio": _KEEP}
    if accepts(init, "dropout") and _default(init, "dropout") == 1:
        return {"dropout": _KEEP}
    return None


def _default(fn, name: str):
    import inspect

    try:
        p = inspect.signature(fn).parameters.get(name)
    except (TypeError, ValueError):
        return None
    return None if p is None or p.default is inspect.Parameter.empty else p.default


def declined_options(impl) -> dict[str, str]:
    """The net's options its constructor takes but bpcheck did not check: shown as not checked in the headline."""
    c = _cls(impl)
    if c is None:
        return {}
    out: dict[str, str] = {}
    checked = entry_points(impl)
    for entry, norm in zip(ENTRIES[:2], ("batchnorm", "layernorm")):
        kw = _option_kw(c, norm)
        if kw is not None and entry not in checked:
            shown = ", ".join(f"{k}={v!r}" for k, v in kw.items())
            out[f"FullyConnectedNet({shown})"] = "it builds no gamma/beta: the option is not implemented"
    if ENTRIES[2] not in checked and (accepts(c.__init__, "dropout") or accepts(c.__init__, "dropout_keep_ratio")):
        kw = _option_kw(c, "dropout")
        if kw is None:
            out["FullyConnectedNet(dropout=...)"] = ("the 2016-2017 dropout strength (0 = none) is read by that "
                                                     "year's own dropout_forward: bpcheck does not drive it")
        else:
            shown = ", ".join(f"{k}={v!r}" for k, v in kw.items())
            out[f"FullyConnectedNet({shown})"] = "it never calls dropout_forward: the option is not implemented"
    return out


def _has_norm(cls, norm: str) -> bool:
    """Whether the net builds normalisation parameters: a constructor that raises counts as building them
    (its cases then fail on the raise: a bug on a valid option, not a skeleton)."""
    kw = _option_kw(cls, norm) or {}
    try:
        net = cls(**{k: v for k, v in {"hidden_dims": [3, 3], "input_dim": 4, "num_classes": 2,
                                       "dtype": np.float64, **kw}.items() if accepts(cls.__init__, k)})
    except Exception:  # noqa: BLE001
        return True
    params = getattr(net, "params", None)
    return isinstance(params, dict) and any(str(k).startswith(("gamma", "beta")) for k in params)


def spec_space(impl, entry: str) -> SpecSpace:
    if entry not in entry_points(impl):
        raise UnsupportedCase(f"cs231n[{entry}]: the file's FullyConnectedNet takes no such option")
    norm = entry[len("FullyConnectedNet["):-1]
    if norm == "dropout":
        seqs = ("affine>relu>dropout>affine", "affine>relu>dropout>affine>relu>dropout>affine")
        fixed = (("dropout", "p", _KEEP), ("dropout", "p_means", "keep"), ("dropout", "scaling", "inverted"))
    else:
        seqs = (f"affine>{norm}>relu>affine", f"affine>{norm}>relu>affine>{norm}>relu>affine")
        fixed = ((norm, "eps", 1e-5),)
        if norm == "batchnorm":
            # the conventions of the batchnorm_forward the net calls, probed as for fn:batchnorm alone (the
            # same code: a convention there is one here, never a failure of the net)
            rv = probed(impl, "running_var:batchnorm", lambda: probe_running_var(impl, "batchnorm")) or "biased"
            at_test = probed(impl, "eps_at_test:batchnorm", lambda: probe_eps_at_test(impl, "batchnorm")) or "inside"
            fixed += (("batchnorm", "momentum", 0.9), ("batchnorm", "running_var", rv),
                      ("batchnorm", "momentum_on", "running"), ("batchnorm", "eps_at_test", at_test))
    # test mode (loss(X) without y: the scores, with running statistics and no dropout) where it differs
    modes = ("train",) if norm == "layernorm" else ("train", "test")
    return SpecSpace(layout="rows", sequences=seqs, fixed=fixed, outputs=(("softmax_cross_entropy", ("identity",)),),
                     targets=("labels",), allow_reg=True, min_outputs=2, modes=modes)


class _Recording:
    """dropout_forward wrapped in the net's module for one call of loss: the masks it drew, in order."""

    def __init__(self, net) -> None:
        self.g = getattr(type(net).loss, "__globals__", {})
        self.orig = self.g.get("dropout_forward")
        self.masks: list = []

    def __enter__(self):
        if callable(self.orig):
            orig, masks = self.orig, self.masks

            def dropout_forward(x, dropout_param):
                out, cache = orig(x, dropout_param)
                masks.append((np.array(x, copy=True), np.array(out, copy=True), find_mask(cache, np.shape(x), out, x)))
                return out, cache

            self.g["dropout_forward"] = dropout_forward
        return self

    def __exit__(self, *exc) -> None:
        if callable(self.orig):
            self.g["dropout_forward"] = self.orig


def run(impl, case: Case, entry: str) -> Observation:
    space = spec_space(impl, entry)
    require(space, case, "cs231n", entry)
    rec = Recorder(case)
    for n in convention_notes(space, entry):
        rec.note(n)
    _run(impl, case, entry, rec)
    return rec.obs


def _build(impl, case: Case, entry: str, rec: Recorder):
    spec = case.spec
    widths = [s.out_shape[0] for s in spec.slots if s.layer.kind == "affine"]
    kw = {"hidden_dims": widths[:-1], "input_dim": spec.input_shape[0], "num_classes": widths[-1], "reg": spec.reg,
          "dtype": np.dtype(spec.dtype).type}
    cls = _cls(impl)
    kw.update(_option_kw(cls, entry[len("FullyConnectedNet["):-1]) or {})
    kw = {k: v for k, v in kw.items() if accepts(cls.__init__, k)}
    ok, net = rec.call(_FAMS, f"FullyConnectedNet({', '.join(f'{k}=...' for k in kw)})", cls, **kw)
    return net if ok else None


def _run(impl, case: Case, entry: str, rec: Recorder, *, loss_only: bool = False) -> None:
    spec, m = case.spec, case.m
    for full in spec.aux_names() if spec.mode == "train" else ():  # replaced by the masks the net drew
        slot = next(s for s in spec.slots if full in s.aux.values())
        rec.obs.aux[full] = np.ones((m, *slot.in_shape))
    net = _build(impl, case, entry, rec)
    if net is None:
        return
    params = getattr(net, "params", None)
    if not isinstance(params, dict):
        rec.error(_FAMS, "net.params is not a dict")
        return
    for k, v in case.params.items():
        params[k] = np.ascontiguousarray(case.typed(v).T if k.startswith("W") else case.typed(v))
    bn = [s for s in spec.slots if s.state]
    bn_params = getattr(net, "bn_params", None)
    for i, s in enumerate(bn):
        if not isinstance(bn_params, list) or i >= len(bn_params) or not isinstance(bn_params[i], dict):
            rec.error("state", "net.bn_params holds no dict per batchnorm layer")
            break
        for short, full in s.state.items():
            bn_params[i][short] = case.typed(case.state[full]).copy()
    X = np.ascontiguousarray(case.typed(case.x))
    if spec.mode == "test":
        if loss_only:
            return
        ok, scores = rec.call("output", "FullyConnectedNet.loss(X) (test mode: no y)", net.loss, X)
        if ok:
            out = rec.array("output", "FullyConnectedNet.loss(X) scores", scores, (m, spec.out_shape[0]))
            if out is not None:
                rec.obs.out = out
        return
    y = np.asarray(case.y).copy()
    snap = Snapshot({"x": X, "y": y}, "in")
    with _Recording(net) as recorded:
        ok, ret = rec.call(_FAMS, "FullyConnectedNet.loss(X, y)", net.loss, X, y)
    for path in snap.changed():
        rec.mutated("x" if "'x'" in path else "y")
    if not ok:
        return
    if not isinstance(ret, (tuple, list)) or len(ret) != 2:
        rec.error(_FAMS, f"FullyConnectedNet.loss(X, y) returned {type(ret).__name__}; expected (loss, grads)")
        return
    loss, grads = ret
    rec.obs.loss = rec.scalar("loss", "FullyConnectedNet.loss(X, y)[0]", loss)
    _masks(impl, spec, recorded.masks, rec)
    if loss_only:
        return
    for i, s in enumerate(bn):
        if isinstance(bn_params, list) and i < len(bn_params) and isinstance(bn_params[i], dict):
            for short, full in s.state.items():
                got = rec.array("state", f"bn_params[{i}][{short!r}]", bn_params[i].get(short),
                                case.state[full].shape, loose=True)
                if got is not None:
                    rec.obs.state[full] = got
    if not isinstance(grads, dict):
        rec.error(_FAMS[1:4], f"grads is a {type(grads).__name__}; expected a dict W1, b1, gamma1, ...")
        return
    read_row_grads(rec, spec, grads)


# _probe_keep's answer for a net whose dropout path raised (or drew a mask it could not read): the option is
# there, so its entry runs and its cases show what is wrong. (Read as "not implemented", a net whose loss()
# crashed with dropout on read PASS, the option listed as never calling dropout_forward.)
UNREAD = "unread"


def _probe_keep(impl):
    """The keep rate of the net's dropout over 10^4 units: one hidden layer of 100, a batch of 100. None when the
    net never calls dropout_forward; ``UNREAD`` when building it or its loss raised, or its mask was unreadable."""
    rng = np.random.default_rng(3)
    try:
        cls = _cls(impl)
        kw = {k: v for k, v in {"hidden_dims": [100], "input_dim": 5, "num_classes": 3, "dtype": np.float64,
                                **(_option_kw(cls, "dropout") or {})}.items() if accepts(cls.__init__, k)}
        net = cls(**kw)
        with _Recording(net) as recorded, np.errstate(all="ignore"):
            net.loss(rng.standard_normal((100, 5)), rng.integers(0, 3, 100))
    except Exception:  # noqa: BLE001 - the file's fault on a valid option: its cases show it
        return UNREAD
    if not recorded.masks:
        return None
    x, out, mask = recorded.masks[0]
    try:
        return read_dropout(x, out, _KEEP, mask=mask)
    except Exception:  # noqa: BLE001 - a mask of an odd shape: the keep rate is then not read, the values still are
        return UNREAD


def _masks(impl, spec, recorded: list, rec: Recorder) -> None:
    names = spec.aux_names()
    if not names:
        return
    if len(recorded) != len(names):
        rec.error(("loss", "grad_W", "grad_b"), f"FullyConnectedNet.loss called dropout_forward {len(recorded)} "
                                                f"time(s) for {len(names)} dropout layer(s)")
        return
    for full, (_x, out, mask) in zip(names, recorded):
        rec.obs.aux[full] = ((mask if mask is not None else np.asarray(out)) != 0).astype(np.float64)
    r = probed(impl, "fcnet:keep", lambda: _probe_keep(impl))
    if r is not None and r != UNREAD and r.meaning == "drop":
        rec.error("output", f"dropout keep rate inside the net: {r.describe()}; the net's dropout ratio is the "
                            f"probability of KEEPING a unit (exact binomial test)")


def own_loss(impl, case: Case, entry: str) -> float | None:
    return None  # dropout draws fresh masks; batchnorm updates its running statistics on every call
