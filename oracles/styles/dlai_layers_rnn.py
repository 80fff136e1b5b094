"""deeplearning.ai course 5 week 1 ("Building your Recurrent Neural Network - Step by Step") entry points.

The course is column-major with time last (reference/dlai_rnn.py): xt (n_x, m), a_prev (n_a, m), x (n_x, m, T_x),
a (n_a, m, T_x); parameters in a dict, gradients returned in a dict. The layer kinds are CS231n's recurrent ones
(oracles/layers/recurrent.py: rows, packed inputs, loss sum(out * dout)); this driver is the adapter between the
two layouts, so the math (and the torch twin, and the recurrent diagnoses) exists once:

* ``fn:rnn_cell`` (kind rnn_step): ``rnn_cell_forward(xt, a_prev, parameters) -> (a_next, yt_pred, cache)``,
  ``rnn_cell_backward(da_next, cache) -> {dxt, da_prev, dWax, dWaa, dba}``; Wax = Wx.T, Waa = Wh.T, ba = b (n_a, 1).
* ``fn:rnn`` (kind rnn): ``rnn_forward(x, a0, parameters) -> (a, y_pred, caches)``, ``rnn_backward(da, caches)
  -> {dx, da0, dWax, dWaa, dba}``.
* ``fn:lstm_cell`` (kind lstm_step): ``lstm_cell_forward(xt, a_prev, c_prev, parameters) -> (a_next, c_next,
  yt_pred, cache)``, ``lstm_cell_backward(da_next, dc_next, cache) -> {dxt, da_prev, dc_prev, dWf, dbf, dWi, dbi,
  dWc, dbc, dWo, dbo}``. Each W_g (n_a, n_a + n_x) acts on [a_prev; xt]: W_g = [Wh_g.T, Wx_g.T], the table's gate
  g of (i, f, o, g) being the course's (i, f, o, c).
* ``fn:lstm`` (kind lstm, c0 = 0 as the course's lstm_forward): ``lstm_forward(x, a0, parameters) -> (a, y, c,
  caches)``, ``lstm_backward(da, caches) -> {dx, da0, dWf, dbf, ...}``.

The prediction yt_pred = softmax(Wya a + by) is not judged (no gradient flows back through it in the course's
backwards); Wya / Wy (n_y = 2, n_a) and by are drawn from the Case's seed only so that the forwards can run (they
read n_a from Wya.shape). The backwards are the notebook's optional, ungraded exercise: a backward left as the
notebook hands it (every gradient None) is an ERROR that says so, never a FAIL.
"""

from __future__ import annotations

import numpy as np

from oracles.layers.recurrent import seq_dims, step_dims
from oracles.styles._common import Recorder, Snapshot
from oracles.styles.conv_entries import BWD, FWD, Entry, function_pair, layer_space, pair, register
from oracles.styles.conv_entries import pair_taking as _present
from oracles.styles.cs231n_layers_rnn import SEQ_WIDTHS, STEP_WIDTHS
from oracles.styles.own_code import UNWRITTEN

__all__ = ["GATES", "course_params", "from_course_grads", "left_as_none", "out_weights"]

# the table's gate order (i, f, o, g) -> the course's parameter letters
GATES = ("i", "f", "o", "c")
_N_Y = 2


def out_weights(case, H: int, lstm: bool) -> dict[str, np.ndarray]:
    """Wya / Wy (n_y, n_a) and by for the forwards' prediction (not judged), drawn from the Case's seed."""
    rng = np.random.default_rng([int(case.seed), 5])
    W, b = rng.standard_normal((_N_Y, H)), rng.standard_normal((_N_Y, 1))
    names = ("Wy", "by") if lstm else ("Wya", "by")
    return {names[0]: case.typed(W), names[1]: case.typed(b)}


def course_params(p: dict[str, np.ndarray], lstm: bool) -> dict[str, np.ndarray]:
    """The table's Wx (D, G*H), Wh (H, G*H), b (G*H,) as the course's parameters dict (without Wya/Wy, by)."""
    Wx, Wh, b = p["Wx"], p["Wh"], p["b"]
    H = Wh.shape[0]
    if not lstm:
        return {"Wax": np.ascontiguousarray(Wx.T), "Waa": np.ascontiguousarray(Wh.T), "ba": b.reshape(H, 1).copy()}
    out = {}
    for k, g in enumerate(GATES):
        cols = slice(k * H, (k + 1) * H)
        out["W" + g] = np.ascontiguousarray(np.concatenate([Wh[:, cols].T, Wx[:, cols].T], axis=1))
        out["b" + g] = b[cols].reshape(H, 1).copy()
    return out


def _read(rec, grads, key: str, what: str, shape, *, bias: bool = False, hint: str = ""):
    """grads[key] as an array of the course's shape ((n_a, 1) or (n_a,) for a bias), or None with why."""
    if key not in grads:
        rec.error(BWD, f"{what} returned no {key!r} (keys: {', '.join(map(repr, grads)) or 'none'})")
        return None
    v = grads[key]
    if bias and isinstance(v, np.ndarray) and v.shape == (shape[0],):
        v = v.reshape(shape)  # a bias gradient as a flat vector: the same numbers
    fam = "grad_b" if bias else ("grad_W" if key.startswith("dW") else "grad_x")
    return rec.array(fam, f"{what} {key}", v, shape, hint=hint)


def from_course_grads(rec, grads, what: str, D: int, H: int, lstm: bool) -> dict[str, np.ndarray]:
    """The course's weight and bias gradients as the table's 'Wx1', 'Wh1', 'b1' (those it could read)."""
    if not lstm:
        dWax = _read(rec, grads, "dWax", what, (H, D))
        dWaa = _read(rec, grads, "dWaa", what, (H, H))
        dba = _read(rec, grads, "dba", what, (H, 1), bias=True)
        res = {"Wx1": None if dWax is None else dWax.T, "Wh1": None if dWaa is None else dWaa.T,
               "b1": None if dba is None else dba.reshape(-1)}
        return {k: v for k, v in res.items() if v is not None}
    dW = [_read(rec, grads, "dW" + g, what, (H, H + D)) for g in GATES]
    db = [_read(rec, grads, "db" + g, what, (H, 1), bias=True) for g in GATES]
    res = {}
    if all(w is not None for w in dW):
        res["Wh1"] = np.concatenate([w[:, :H].T for w in dW], axis=1)
        res["Wx1"] = np.concatenate([w[:, H:].T for w in dW], axis=1)
    if all(v is not None for v in db):
        res["b1"] = np.concatenate([v.reshape(-1) for v in db])
    return res


def _watch(rec, snap: Snapshot, what: str) -> None:
    for path in snap.changed():
        head = path.split("'")[1] if "'" in path else path
        rec.mutated({"x": "x", "dout": "dout", "cache": "caches"}.get(head, f"params:{head}"))
        rec.note(f"{what} wrote into its argument {path}")


# the gradient names the notebook's backward skeletons assign `= None` for the student to fill in
_SKELETON_NAMES = {"dtanh", "dxt", "da_prev", "dc_prev", "dWax", "dWaa", "dba", "dx", "da0", "da_prevt", "dc_prevt",
                   "dot", "dcct", "dit", "dft", *(f"d{w}{g}" for w in "Wb" for g in GATES)}


def left_as_none(fn) -> list[str]:
    """The skeleton's gradient names that fn only ever assigns None (`dxt = None` as the notebook hands it out),
    read from its bytecode: a function that assigns them anything else is the student's and is judged."""
    import dis

    try:
        code = fn.__code__
    except AttributeError:
        return []
    none_only: dict[str, bool] = {}
    prev = None
    blanks = []
    for ins in dis.get_instructions(code):
        if ins.opname in ("STORE_FAST", "STORE_NAME", "STORE_DEREF") and ins.argval in _SKELETON_NAMES:
            is_none = prev is not None and prev.opname == "LOAD_CONST" and prev.argval is None
            none_only[ins.argval] = none_only.get(ins.argval, True) and is_none
        if (prev is not None and prev.opname in ("LOAD_GLOBAL", "LOAD_NAME") and prev.argval == "range"
                and ins.opname == "LOAD_CONST" and ins.argval is None):
            blanks.append("range(None)")  # the skeleton's `for t in reversed(range(None))` left unfilled
        prev = ins
    return sorted(n for n, only in none_only.items() if only) + blanks


def _unwritten(rec, fn, what: str, grads=None, *, raised: bool = False) -> bool:
    """The notebook's skeleton left unfilled (gradient names still `= None`): an ERROR (the backward is optional
    and ungraded), not a FAIL. Said when the call raised or returned None gradients. A body the student wrote
    whose only blank is the loop's range(None) is theirs: it raises on every input, a FAIL (see _left_blank)."""
    if not raised and not (isinstance(grads, dict) and any(v is None for v in grads.values())):
        return False
    nones = [n for n in left_as_none(fn) if n != "range(None)"]
    if not nones:
        return False
    more = " and range(None)" if "range(None)" in left_as_none(fn) else ""
    rec.error(BWD, f"{what} {UNWRITTEN}: {', '.join(nones[:4])}{', ...' if len(nones) > 4 else ''} = None{more} "
                   f"left as the notebook hands it out, so there is nothing to check")
    return True


def _left_blank(fn, message: str) -> str:
    """The raise of a written backward, with the skeleton's blank that caused it named."""
    if "range(None)" in left_as_none(fn) and "NoneType" in message:
        return f"{message}; the loop over range(None) is left from the notebook's skeleton (its bound is T_x)"
    return message


def _core(kind: str):
    lstm = kind.startswith("lstm")
    step = kind.endswith("_step")
    prefix = ("lstm" if lstm else "rnn") + ("_cell" if step else "")
    fwd_name, bwd_name = f"{prefix}_forward", f"{prefix}_backward"

    def core(impl, rec, case, x, p, hp, dout, *, loss_only):
        fwd, bwd = function_pair(impl, fwd_name, bwd_name)
        m = case.m
        params = {**course_params(p, lstm), **out_weights(case, p["Wh"].shape[0], lstm)}
        if step:
            D, H = step_dims(hp)
            ins = [x[:, :D].T, x[:, D:D + H].T] + ([x[:, D + H:].T] if lstm else [])
            names = ["xt", "a_prev"] + (["c_prev"] if lstm else [])
        else:
            T, D, H = seq_dims(hp)
            ins = [x[:, :T * D].reshape(m, T, D).transpose(2, 0, 1), x[:, T * D:].T]
            names = ["x", "a0"]
        ins = [np.ascontiguousarray(a) for a in ins]
        snap = Snapshot({**dict(zip(names, ins)), "parameters": params}, "in")
        ok, ret = rec.call(FWD, f"{fwd_name}({', '.join(names)}, parameters)", fwd, *ins, params)
        _watch(rec, snap, fwd_name)
        n_ret = 4 if lstm else 3
        shown = ("(a_next, c_next, yt_pred, cache)" if step else "(a, y, c, caches)") if lstm else (
            "(a_next, yt_pred, cache)" if step else "(a, y_pred, caches)")
        ret = pair(rec, FWD, fwd_name, ret, n_ret, shown) if ok else None
        if ret is None:
            return None
        # the state outputs: a_next (, c_next) of a step; a of a sequence (lstm_forward returns (a, y, c, caches))
        if step:
            outs = [rec.array("output", f"{fwd_name} a_next", ret[0], (H, m))]
            if lstm:
                outs.append(rec.array("output", f"{fwd_name} c_next", ret[1], (H, m)))
            res = {} if any(o is None for o in outs) else {"out": np.concatenate([o.T for o in outs], axis=1)}
        else:
            a = rec.array("output", f"{fwd_name} a", ret[0], (H, m, T))
            res = {} if a is None else {"out": a.transpose(1, 2, 0).reshape(m, T * H)}
        if loss_only:
            return res
        cache = ret[-1]
        if step:
            douts = [dout[:, :H].T.copy()] + ([dout[:, H:].T.copy()] if lstm else [])
            dnames = ["da_next"] + (["dc_next"] if lstm else [])
        else:
            douts, dnames = [np.ascontiguousarray(dout.reshape(m, T, H).transpose(2, 0, 1))], ["da"]
        snap = Snapshot({"dout": douts, "cache": cache}, "in")
        scratch = Recorder(case)  # a skeleton raises (`n_x, m = None`): its exception is no finding, see below
        ok, grads = scratch.call(BWD, f"{bwd_name}({', '.join(dnames)}, {'cache' if step else 'caches'})", bwd,
                                 *douts, cache)
        _watch(rec, snap, bwd_name)
        if not ok:
            if not _unwritten(rec, bwd, bwd_name, raised=bool(scratch.obs.errors)):
                for fam, msg in scratch.obs.errors.items():
                    rec.error(fam, _left_blank(bwd, msg))
                for unit, why in scratch.obs.not_checked.items():
                    rec.obs.not_checked.setdefault(unit, why)
            return res
        if not isinstance(grads, dict):
            rec.error(BWD, f"{bwd_name} returned {'None' if grads is None else 'a ' + type(grads).__name__}; "
                           f"expected the course's gradients dict")
            return res
        if _unwritten(rec, bwd, bwd_name, grads):
            return res
        if step:
            keys = ["dxt", "da_prev"] + (["dc_prev"] if lstm else [])
            # an LSTM dxt of shape (n_a, m): the a_prev columns W[:, :n_a] used where xt's W[:, n_a:] belong
            dxt = grads.get("dxt")
            hint = " (dxt from the a_prev columns W[:, :n_a] of the gate weights? xt's are W[:, n_a:])" if (
                lstm and D != H and getattr(dxt, "shape", None) == (H, m)) else ""
            parts = [_read(rec, grads, k, bwd_name, a.shape, hint=hint if k == "dxt" else "")
                     for k, a in zip(keys, ins)]
            if all(g is not None for g in parts):
                res["x"] = np.concatenate([g.T for g in parts], axis=1)
        else:
            dx = _read(rec, grads, "dx", bwd_name, (D, m, T))
            da0 = _read(rec, grads, "da0", bwd_name, (H, m))
            if dx is not None and da0 is not None:
                res["x"] = np.concatenate([dx.transpose(1, 2, 0).reshape(m, T * D), da0.T], axis=1)
        res.update(from_course_grads(rec, grads, bwd_name, D, H, lstm))
        return res

    return core


for _entry, _kind, _prefix, _n, _shapes in (("fn:rnn_cell", "rnn_step", "rnn_cell", 3, STEP_WIDTHS),
                                            ("fn:lstm_cell", "lstm_step", "lstm_cell", 4, STEP_WIDTHS),
                                            ("fn:rnn", "rnn", "rnn", 3, SEQ_WIDTHS),
                                            ("fn:lstm", "lstm", "lstm", 3, SEQ_WIDTHS)):
    register(Entry("dlai", _entry, _present(f"{_prefix}_forward", f"{_prefix}_backward", _n),
                   (lambda k, s: lambda impl: layer_space(k, shapes=s))(_kind, _shapes), _core(_kind),
                   (f"{_prefix}_forward", f"{_prefix}_backward")))
