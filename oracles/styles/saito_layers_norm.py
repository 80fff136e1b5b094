"""Saito's BatchNormalization and Dropout layer classes ("Deep Learning from Scratch", ch. 6), checked one
layer at a time (entries ``BatchNormalization`` and ``Dropout``, hooked into oracles/styles/saito.py).

* ``BatchNormalization(gamma, beta, momentum, running_mean, running_var)``: ``forward(x, train_flg)``,
  ``backward(dout) -> dx``, then ``dgamma``, ``dbeta``, ``running_mean``, ``running_var`` attributes. The
  book's eps (10e-7 = 1e-6) is hard-coded in the file: read it from one probe (a batch whose variance is
  of the order of eps) and judge under it. Running statistics: biased variance, momentum on the running side.
* ``Dropout(dropout_ratio)``: the ratio DROPS a unit (the book); ``forward(x, train_flg)``, ``backward(dout)``,
  the mask in ``self.mask``. Not inverted in the book (test multiplies by 1 - ratio); an inverted one
  (train divides by 1 - ratio, test is the identity) is a convention, read from a probe and stated. A keep
  rate that fits 1 - ratio neither (the binomial test of oracles.keep_rate) fails ``output``.
"""

from __future__ import annotations

import numpy as np

from oracles.case import ACTIVATION_NAMES, Case, SpecSpace
from oracles.keep_rate import read_dropout
from oracles.observation import Observation
from oracles.styles._common import (
    Recorder,
    Snapshot,
    UnsupportedCase,
    _signature,
    accepts,
    get,
    probed,
    read_row_grads,
    require,
)
from oracles.styles._configs import activation_words, string_constants
from oracles.styles.cs231n_layers_norm import find_mask

__all__ = ["ENTRIES", "entry_points", "spec_space", "run", "own_loss"]

ENTRIES = ("BatchNormalization", "Dropout", "MultiLayerNetExtend", "MultiLayerNetExtend[dropout]")
# MultiLayerNetExtend takes one dropout ratio for the whole net, so every dropout layer of a Case shares it
_NET_DROPOUT = 0.3
_EPS_CHOICES = (1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3)


def _cls(impl, name: str):
    """The file's class: the book's name, or it with "Layer" (DropoutLayer, as real files name the ch. 5 layers)."""
    for spelling in (name, f"{name}Layer"):
        c = get(impl, spelling)
        if isinstance(c, type) and callable(getattr(c, "forward", None)) and callable(getattr(c, "backward", None)):
            return c
    return None


def _net_cls(impl):
    c = get(impl, "MultiLayerNetExtend")
    return c if isinstance(c, type) and callable(getattr(c, "gradient", None)) else None


def _dropout_kw(impl) -> str | None:
    """The constructor's dropout-ratio keyword (the book spells it dropout_ration), when it has use_dropout."""
    sig = _signature(_net_cls(impl)) if _net_cls(impl) is not None else None
    names = set(sig.parameters) if sig is not None else set()
    return next((k for k in ("dropout_ration", "dropout_ratio") if k in names), None) if "use_dropout" in names \
        else None


def entry_points(impl) -> list[str]:
    out = [n for n in ENTRIES[:2] if _cls(impl, n) is not None]
    if _net_cls(impl) is not None and _cls(impl, "BatchNormalization"):
        out.append("MultiLayerNetExtend")
        if _cls(impl, "Dropout") is not None and _dropout_kw(impl) is not None:
            out.append("MultiLayerNetExtend[dropout]")
    return out


def probe_eps(cls) -> float | None:
    """The eps inside the file's sqrt: a batch with variance 1e-6 makes out = xc / sqrt(var + eps) tell it."""
    x = np.array([[-1.0], [1.0], [-1.0], [1.0]]) * 1e-3  # var = 1e-6 exactly, xc = +-1e-3
    try:
        layer = cls(np.ones(1), np.zeros(1), 0.9)
        with np.errstate(all="ignore"):
            out = np.asarray(layer.forward(x, True), dtype=np.float64).reshape(-1)
        eps = float(np.median((x.reshape(-1) / out) ** 2) - 1e-6)
    except Exception:  # noqa: BLE001
        return None
    best = min(_EPS_CHOICES, key=lambda e: abs(np.log(max(eps, 1e-30) / e)))
    return best if abs(eps - best) <= 0.05 * best else None


def probe_dropout(cls, ratio: float = 0.3):
    """(reading at this ratio, test-mode scale of x) from one train call on 10^4 units and one test call."""
    x = np.random.default_rng(11).uniform(0.5, 1.5, (100, 100))
    try:
        layer = cls(ratio)
        with np.errstate(all="ignore"):
            out = np.asarray(layer.forward(x, True), dtype=np.float64)
            test = np.asarray(layer.forward(x, False), dtype=np.float64)
        mask = getattr(layer, "mask", None)
        r = read_dropout(x, out, ratio, mask=mask if isinstance(mask, np.ndarray) else None)
        return r, float(np.median(test / x))
    except Exception:  # noqa: BLE001
        return None, None


def _dropout_fixed(impl, cls) -> tuple:
    r, test_scale = probed(impl, "saito:dropout", lambda: probe_dropout(cls))
    inverted = r is not None and r.inverted is True and test_scale is not None and abs(test_scale - 1) < 1e-9
    return ("dropout", "p_means", "drop"), ("dropout", "scaling", "inverted" if inverted else "at_test")


def spec_space(impl, entry: str) -> SpecSpace:
    if entry == "MultiLayerNetExtend":
        return _net_space(impl)
    if entry == "MultiLayerNetExtend[dropout]":
        return _net_space(impl, dropout=True)
    cls = _cls(impl, entry) if entry in ENTRIES else None
    if cls is None:
        raise UnsupportedCase(f"saito[{entry}]: the file defines no {entry} class with forward/backward")
    if entry == "BatchNormalization":
        eps = probed(impl, "saito:eps", lambda: probe_eps(cls)) or 1e-6
        fixed = (("batchnorm", "eps", eps), ("batchnorm", "running_var", "biased"),
                 ("batchnorm", "momentum_on", "running"), ("batchnorm", "eps_at_test", "inside"))
        seq = "batchnorm"
    else:
        fixed = _dropout_fixed(impl, cls)
        seq = "dropout"
    return SpecSpace(layout="rows", sequences=(seq,), fixed=fixed, modes=("train", "test"),
                     outputs=(("dot", ("identity",)),), reductions=("sum",), targets=("dense",))


def run(impl, case: Case, entry: str) -> Observation:
    space = spec_space(impl, entry)
    require(space, case, "saito", entry)
    rec = Recorder(case)
    if entry in ENTRIES[:2] and get(impl, entry) is None:
        rec.note(f"the file's {entry}Layer is read as the book's {entry}")
    if entry.startswith("MultiLayerNetExtend"):
        _run_net(impl, case, rec)
        for option, why in declined_net_options(impl).items():
            rec.obs.not_checked.setdefault(option, why)
        return rec.obs
    for _, k, v in space.fixed:
        if (k, v) == ("scaling", "inverted"):
            rec.note("convention: Dropout: inverted dropout (train divides by 1 - dropout_ratio, test is the "
                     "identity; the book scales by 1 - dropout_ratio at test time instead): judged under it")
        if k == "eps" and v != 1e-6:
            rec.note(f"BatchNormalization: eps = {v:g} inside the sqrt (the book's 10e-7 = 1e-6): judged under it")
    _run(impl, case, entry, rec)
    return rec.obs


def _run(impl, case: Case, entry: str, rec: Recorder) -> None:
    cls = _cls(impl, entry)
    slot, hp, train = case.spec.slots[0], case.spec.layers[0].hp, case.spec.mode == "train"
    x = np.ascontiguousarray(case.typed(case.x))
    dout = np.ascontiguousarray(case.typed(case.y))
    fams = ("output", "grad_x", "grad_param", "state") if entry == "BatchNormalization" else ("output", "grad_x")
    if entry == "BatchNormalization":
        gamma, beta = (case.typed(case.params[slot.params[k]]).copy() for k in ("gamma", "beta"))
        rm, rv = (case.typed(case.state[slot.state[k]]).copy() for k in ("running_mean", "running_var"))
        ok, layer = rec.call(fams, f"{entry}(gamma, beta, momentum, running_mean, running_var)", cls, gamma, beta,
                             float(hp["momentum"]), rm, rv)
        what = f"{entry}.forward(x, train_flg={train})"
    else:
        ok, layer = rec.call(fams, f"{entry}(dropout_ratio)", cls, float(hp["p"]))
        what = f"{entry}.forward(x, train_flg={train})"
        if train:
            rec.obs.aux[slot.aux["mask"]] = np.ones(x.shape)  # replaced below by the layer's own mask
    if not ok:
        return
    out = rec.forward(fams, what, layer.forward, (x, train), x.shape, {"x": x})
    if out is None:
        return
    if entry == "Dropout" and train:
        mask = find_mask(getattr(layer, "mask", None), x.shape, out)
        rec.obs.aux[slot.aux["mask"]] = (mask != 0 if mask is not None else out != 0).astype(np.float64)
        r = probed(impl, f"saito:dropout:{hp['p']}", lambda: probe_dropout(cls, float(hp["p"])))[0]
        if r is not None and r.meaning not in ("drop", "either"):
            rec.error("output", f"Dropout keep rate: {r.describe()}; dropout_ratio is the probability of "
                                f"DROPPING a unit (exact binomial test)")
    if entry == "BatchNormalization" and train:
        for short, full in slot.state.items():
            got = rec.array("state", f"{entry}.{short} after forward", getattr(layer, short, None),
                            (x.shape[1],), loose=True)
            if got is not None:
                rec.obs.state[full] = got
    if not train:
        return  # the book never backpropagates in test mode (Dropout.backward needs a train-time mask)
    dsnap = Snapshot(dout, "dout")
    ok, dx = rec.call(fams[1:], f"{entry}.backward(dout)", layer.backward, dout)
    if dsnap.changed():
        rec.mutated("dout")
        rec.note(f"{entry}.backward wrote into its dout argument")
    if not ok:
        return
    g = rec.array("grad_x", f"{entry}.backward dx", dx, x.shape)
    if g is not None:
        rec.obs.grads["x"] = g
    if entry == "BatchNormalization":
        for k in ("gamma", "beta"):
            g = rec.array("grad_param", f"{entry}.d{k}", getattr(layer, f"d{k}", None), (x.shape[1],), loose=True)
            if g is not None:
                rec.obs.grads[slot.params[k]] = g


def own_loss(impl, case: Case, entry: str) -> float | None:
    return None  # the one-layer 'dot' loss is ours; 'output' judges the forward itself


# ---- MultiLayerNetExtend(use_batchnorm=True): {Affine - BatchNorm - Relu} x hidden - Affine - SoftmaxWithLoss

# The book's MultiLayerNetExtend takes activation='relu' or 'sigmoid' (its docstring); the net is driven with its
# default relu only, so the other option is listed as not checked, never passed over in silence.
_BOOK_ACTIVATIONS = ("sigmoid",)


def declined_net_options(impl) -> dict[str, str]:
    """``MultiLayerNetExtend(activation='sigmoid')`` -> why it is not checked: the activations the constructor
    offers (the book's, and those the class's own strings name) other than the relu every Case uses."""
    cls = _net_cls(impl)
    if cls is None or not accepts(cls.__init__, "activation"):
        return {}
    words = [g for _, g in activation_words(string_constants(cls)) if g in ACTIVATION_NAMES]
    return {f"MultiLayerNetExtend(activation={a!r})": "bpcheck drives MultiLayerNetExtend with activation='relu' "
            "(the book's default, which its batch-norm and dropout experiments use) only"
            for a in dict.fromkeys((*_BOOK_ACTIVATIONS, *words)) if a not in ("relu", "identity")}



def _net_space(impl, dropout: bool = False) -> SpecSpace:
    if _net_cls(impl) is None:
        raise UnsupportedCase("saito[MultiLayerNetExtend]: the file defines no MultiLayerNetExtend with gradient()")
    if dropout and (_cls(impl, "Dropout") is None or _dropout_kw(impl) is None):
        raise UnsupportedCase("saito[MultiLayerNetExtend[dropout]]: the net takes no use_dropout / Dropout layer")
    cls = _cls(impl, "BatchNormalization")
    eps = probed(impl, "saito:eps", lambda: probe_eps(cls)) if cls is not None else None
    fixed = (("batchnorm", "eps", eps or 1e-6), ("batchnorm", "momentum", 0.9), ("batchnorm", "running_var", "biased"),
             ("batchnorm", "momentum_on", "running"), ("batchnorm", "eps_at_test", "inside"))
    hidden = "affine>batchnorm>relu>dropout" if dropout else "affine>batchnorm>relu"
    if dropout:
        fixed += (*_dropout_fixed(impl, _cls(impl, "Dropout")), ("dropout", "p", _NET_DROPOUT))
    return SpecSpace(layout="rows", sequences=(f"{hidden}>affine", f"{hidden}>{hidden}>affine"),
                     fixed=fixed, modes=("train", "test"), outputs=(("softmax_cross_entropy", ("identity",)),),
                     targets=("labels",), allow_reg=True, min_outputs=2)


def _run_net(impl, case: Case, rec: Recorder) -> None:
    """Parameters written INTO the net's arrays (its layers hold references, as the book's do), running
    statistics into its BatchNorm layers; train: gradient(x, t) and the statistics after it; test: predict."""
    spec, fams = case.spec, ("output", "grad_W", "grad_b", "grad_param", "state")
    widths = [s.out_shape[0] for s in spec.slots if s.layer.kind == "affine"]
    drops = [s for s in spec.slots if s.layer.kind == "dropout"]
    extra, what = {}, "use_batchnorm=True"
    if drops:
        kw = _dropout_kw(impl)
        extra = {"use_dropout": True, kw: float(drops[0].layer.hp["p"])}
        what += f", use_dropout=True, {kw}={drops[0].layer.hp['p']!r}"
        if spec.mode == "train":
            for s in drops:
                rec.obs.aux[s.aux["mask"]] = np.ones((case.m, *s.in_shape))  # replaced by the net's own masks
    ok, net = rec.call(fams, "MultiLayerNetExtend(input_size, hidden_size_list, output_size, "
                             f"weight_decay_lambda, {what})", _net_cls(impl), spec.input_shape[0],
                       widths[:-1], widths[-1], weight_decay_lambda=spec.reg, use_batchnorm=True, **extra)
    if not ok:
        return
    params = getattr(net, "params", None)
    for k, v in case.params.items():
        cur = params.get(k) if isinstance(params, dict) else None
        want = case.typed(v.T if k.startswith("W") else v)
        if not isinstance(cur, np.ndarray) or cur.shape != want.shape:
            rec.error(fams, f"net.params[{k!r}] is {type(cur).__name__} {getattr(cur, 'shape', '')}; expected "
                            f"an array of shape {want.shape}")
            return
        cur[...] = want
    layers = getattr(net, "layers", {})
    bns = [layers.get(f"BatchNorm{i}") for i in range(1, len(widths))] if isinstance(layers, dict) else []
    slots = [s for s in spec.slots if s.state]
    for layer, s in zip(bns, slots):
        for short, full in s.state.items():
            setattr(layer, short, case.typed(case.state[full]).copy())
    x = np.ascontiguousarray(case.typed(case.x))
    t = np.asarray(case.y).copy()
    if spec.mode == "test":
        ok, out = rec.call("output", "MultiLayerNetExtend.predict(x, train_flg=False)", net.predict, x, False)
        if ok:
            g = rec.array("output", "predict(x, train_flg=False)", out, (case.m, widths[-1]))
            if g is not None:
                rec.obs.out = g
        return
    ok, grads = rec.call(fams[1:], "MultiLayerNetExtend.gradient(x, t)", net.gradient, x, t)
    if not ok:
        return
    for layer, s in zip(bns, slots):
        for short, full in s.state.items():
            got = rec.array("state", f"BatchNorm.{short} after gradient", getattr(layer, short, None),
                            case.state[full].shape, loose=True)
            if got is not None:
                rec.obs.state[full] = got
    for i, s in enumerate(drops, 1):  # the masks gradient() drew, read back from the net's Dropout layers
        mask = getattr(layers.get(f"Dropout{i}"), "mask", None)
        if not isinstance(mask, np.ndarray) or mask.shape != (case.m, *s.in_shape):
            rec.error(fams[1:], f"net.layers['Dropout{i}'].mask after gradient(x, t) is not a mask of shape "
                                f"{(case.m, *s.in_shape)}: the dropout mask cannot be read back")
            return
        rec.obs.aux[s.aux["mask"]] = (np.asarray(mask) != 0).astype(np.float64)
    if not isinstance(grads, dict):
        rec.error(fams[1:4], f"gradient(x, t) returned {type(grads).__name__}; expected a dict")
        return
    read_row_grads(rec, spec, grads)
