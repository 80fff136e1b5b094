"""MyTorch hw3p1's recurrent cells, checked alone as the course's autograder checks them (one time step).

* ``cell:RNNCell``: ``RNNCell(input_size, hidden_size)``, ``init_weights(W_ih, W_hh, b_ih, b_hh)``,
  ``forward(x (N, D), h_prev_t (N, H)) -> h_t``, ``backward(delta, h_t, h_prev_l, h_prev_t) -> (dx,
  dh_prev_t)`` with h_prev_l the step's input x. The handout's backward AVERAGES dW_ih, dW_hh, db_ih, db_hh
  over the batch (``/ batch_size``, every real file) and ACCUMULATES them (``self.dW_ih += ...``: the
  skeleton's own lines), because the classifier calls one cell once per time step and steps once. So the
  driver calls backward twice on one forward, with delta split as 1/4 + 3/4 of the Case's upstream gradient,
  sums the two dx and dh_prev_t, and reads the stored gradients times N. A backward that assigns
  (``self.dW_ih = ...``) keeps only the second call's 3/4 and is named (``cell_grads_assigned``).
* ``cell:GRUCell``: ``GRUCell(input_size, hidden_size)``, ``init_weights(Wrx, Wzx, Wnx, Wrh, Wzh, Wnh, brx,
  bzx, bnx, brh, bzh, bnh)``, ``forward(x (D,), h_prev_t (H,))`` for ONE sample (the handout's asserts),
  ``backward(delta) -> (dx, dh_prev_t)`` filling dWrx ... dbnh. Driven per sample as the autograder does: a
  fresh cell for each sample of the Case (so ``=`` and ``+=`` are both right: the handout never calls a
  GRU cell's backward twice), delta of shape (H,) (F21 on: ``delta.squeeze(0)``), or (1, H) when the
  file's backward only takes that (earlier autograders); dx and dh_prev_t as (D,) / (H,) or (1, D) / (1, H)
  (the docstrings of different years say either). The per-sample gradients are summed.
  The S20 handout's GRU (``init_weights(Wzh, Wrh, Wh, Wzx, Wrx, Wx)``, no biases, candidate tanh(Wx x +
  Wh (r * h))) is another cell: listed as not checked, with that reason.

Both against the layer table's ``mytorch_rnn_cell`` / ``mytorch_gru_cell`` (oracles/layers/mytorch_cells.py:
packed inputs [x, h_prev_t], loss sum(h_t * delta)).
"""

from __future__ import annotations

import inspect
import re

import numpy as np

from oracles.case import Case, SpecSpace
from oracles.layers.mytorch_cells import GRU_PARAMS, RNN_PARAMS
from oracles.layers.recurrent import step_dims
from oracles.styles._common import Recorder, Snapshot, UnsupportedCase, positional_count
from oracles.styles._common import layer_class as _cls

__all__ = ["PREFIX", "CELLS", "SPLIT", "entry_points", "owns", "spec_space", "run"]

PREFIX = "cell:"
CELLS = {"RNNCell": ("mytorch_rnn_cell", RNN_PARAMS), "GRUCell": ("mytorch_gru_cell", GRU_PARAMS)}
SPLIT = (0.25, 0.75)  # RNNCell's two backward calls: unequal, so an assigning file shows 3/4, not a 1/2
# packed widths D + H per sample: every split is drawn, so D = 1, H = 1 and D != H all come up
WIDTHS = ((3,), (5,), (7,), (8,))
_FAMS = ("output", "grad_x", "grad_W", "grad_b")
_OUT = (("dot", ("identity",)),)


def _returned_pair(rec: Recorder, what: str, ret) -> bool:
    """Whether a cell's backward returned (dx, dh_prev_t), as both handouts have it; an error row if not."""
    if isinstance(ret, (tuple, list)) and len(ret) == 2:
        return True
    rec.error(_FAMS[1:], f"{what} returned {type(ret).__name__}; expected (dx, dh_prev_t)")
    return False


def entry_points(impl) -> list[str]:
    return [PREFIX + n for n in CELLS if _cls(impl, n) is not None]


def owns(entry: str) -> bool:
    return entry.startswith(PREFIX)


def _name(impl, entry: str) -> tuple[str, type]:
    name = entry[len(PREFIX):]
    c = _cls(impl, name) if name in CELLS else None
    if c is None:
        raise UnsupportedCase(f"the file defines no {name} with forward and backward")
    return name, c


def spec_space(impl, entry: str) -> SpecSpace:
    name, _c = _name(impl, entry)
    return SpecSpace(layout="rows", sequences=(CELLS[name][0],), outputs=_OUT, reductions=("sum",),
                     targets=("dense",), input_shapes=WIDTHS)


def run(impl, case: Case, entry: str, rec: Recorder) -> None:
    name, cls = _name(impl, entry)
    why = _foreign_activations(cls)
    if why:  # declined, not an error: the judge reports the entry as not checked, with why
        rec.decline(cls.forward, name, why)
        rec.decline(cls.backward, name, why)
        return
    (_rnn if name == "RNNCell" else _gru)(case, cls, rec)


_ACT_ATTRS = ("activation", "r_act", "z_act", "h_act")


def _foreign_activations(cls: type) -> str | None:
    """Why the cell cannot be judged here, when its activations come from a module that is not hw3's.

    The hw3p1 handout ships mytorch/activation.py with callable Sigmoid/Tanh objects (``__call__``) whose
    backward takes ``state``; real repositories often carry hw1's activation.py there instead (no ``__call__``:
    ``self.activation(z)`` raises), and the autograd variant's Tanh(autograd_engine) needs an engine. Either way the
    cell's own code never runs: not the cell's bug, and nothing bpcheck can judge (ERROR, not checked)."""
    probe = Recorder(None)
    ok, obj = probe.call(("x",), "probe", cls, 2, 3)
    if not ok:
        message = next(iter(probe.obs.errors.values()), "")
        if "autograd_engine" in message:
            return (f"{cls.__name__}'s activations take an autograd_engine (hw3p1's autograd variant, another API): "
                    f"not judged")
        return None
    try:
        source = inspect.getsource(cls)
    except (OSError, TypeError):
        return None
    for attr in _ACT_ATTRS:
        act = getattr(obj, attr, None)
        if (act is not None and not callable(act) and type(act).__module__ != cls.__module__
                and re.search(rf"self\.{attr}\(", source)):  # only a cell that calls it: .forward() would run
            return (f"{cls.__name__} calls self.{attr}(...) as hw3's handout activation.py defines it (with "
                    f"__call__), but the {type(act).__name__} it imported ({type(act).__module__}) has no __call__: "
                    f"another homework's activation.py; not judged (validate it beside hw3's activation.py)")
    return None


def _weights(case: Case, names) -> dict[str, np.ndarray]:
    slot = case.spec.slots[0]
    return {n: np.ascontiguousarray(case.typed(case.params[slot.params[n]])) for n in names}


def _new_cell(rec: Recorder, cls: type, name: str, D: int, H: int, P: dict, order) -> object | None:
    """cls(D, H) holding the Case's weights: through init_weights(...) in the handout's order, else set."""
    ok, obj = rec.call(_FAMS, f"{name}({D}, {H})", cls, D, H)
    if not ok:
        return None
    init = getattr(obj, "init_weights", None)
    if callable(init) and positional_count(init)[0] <= len(order) <= positional_count(init)[1]:
        ok, _ = rec.call(_FAMS, f"{name}.init_weights({', '.join(order)})", init, *(P[n].copy() for n in order))
        if not ok:
            return None
    else:
        for n in order:
            setattr(obj, n, P[n].copy())
    return obj


def _forward_fn(obj):
    """obj.__call__ when the class defines one (the classifier calls ``self.rnn[l](x, h)``), else forward."""
    return obj if "__call__" in vars(type(obj)) else obj.forward


def _watch(rec: Recorder, snap: Snapshot, as_name: str) -> None:
    if snap.changed():
        rec.mutated(as_name)


def _rnn(case: Case, cls: type, rec: Recorder) -> None:
    D, H = step_dims(case.spec.slots[0].layer.hp)
    m, t, slot = case.m, case.typed, case.spec.slots[0]
    P = _weights(case, RNN_PARAMS)
    obj = _new_cell(rec, cls, "RNNCell", D, H, P, RNN_PARAMS)
    if obj is None:
        return
    packed = np.ascontiguousarray(t(case.x))
    x, h = np.ascontiguousarray(packed[:, :D]), np.ascontiguousarray(packed[:, D:])
    snap = Snapshot((x, h), "x, h_prev_t")
    ok, h_t = rec.call(_FAMS, "RNNCell.forward(x, h_prev_t)", _forward_fn(obj), x, h)
    _watch(rec, snap, "x")
    out = rec.array(_FAMS, "RNNCell.forward(x, h_prev_t)", h_t, (m, H)) if ok else None
    if out is None:
        return
    rec.obs.out = out
    rec.note(f"RNNCell: the handout averages dW, db over the batch and accumulates them (+=); backward was called "
             f"twice (delta x {SPLIT[0]}, then x {SPLIT[1]}, as the classifier calls a cell once per time step) and "
             f"the stored gradients read times N = {m}")
    dout = np.asarray(t(case.y))
    h_t = np.ascontiguousarray(h_t)
    dx_sum, dh_sum = 0.0, 0.0
    for k in SPLIT:
        delta = np.ascontiguousarray((dout * k).astype(dout.dtype))
        args = (delta, h_t.copy(), x.copy(), h.copy())
        snap = Snapshot(args, "delta, h_t, h_prev_l, h_prev_t")
        what = "RNNCell.backward(delta, h_t, h_prev_l, h_prev_t)"
        ok, ret = rec.call(_FAMS[1:], what, obj.backward, *args)
        _watch(rec, snap, "dout")
        if not ok:
            return
        if not _returned_pair(rec, what, ret):
            return
        dx = rec.array("grad_x", f"{what} dx", ret[0], (m, D))
        dh = rec.array("grad_x", f"{what} dh_prev_t", ret[1], (m, H))
        if dx is None or dh is None:
            dx_sum = None
        elif dx_sum is not None:
            dx_sum, dh_sum = dx_sum + dx, dh_sum + dh
    if dx_sum is not None:
        rec.obs.grads["x"] = np.concatenate([dx_sum, dh_sum], axis=1)
    for n in RNN_PARAMS:
        fam = "grad_b" if n.startswith("b") else "grad_W"
        v = rec.array(fam, f"RNNCell.d{n}", getattr(obj, "d" + n, None), P[n].shape, loose=True)
        if v is not None:
            rec.obs.grads[slot.params[n]] = v * m


# an earlier handout names the GRU's biases as torch does (init_weights(..., bir, biz, bin, bhr, bhz, bhn), gradients
# dbir ...): same order, same meaning (neelpawarcmu/mytorch-library's gru_cell.py)
_ALIAS = {"brx": "bir", "bzx": "biz", "bnx": "bin", "brh": "bhr", "bzh": "bhz", "bnh": "bhn"}


def _torch_bias_names(obj) -> bool:
    return not hasattr(obj, "dbrx") and hasattr(obj, "dbir")


def _s20_gru(cls: type) -> bool:
    """The S20 handout's GRU: init_weights(Wzh, Wrh, Wh, Wzx, Wrx, Wx), six weights and no biases."""
    init = getattr(cls, "init_weights", None)
    return callable(init) and positional_count(init)[1] == 7  # self + six


def _gru(case: Case, cls: type, rec: Recorder) -> None:
    if _s20_gru(cls):
        why = ("GRUCell follows the S20 handout (init_weights(Wzh, Wrh, Wh, Wzx, Wrx, Wx): no biases, candidate "
               "tanh(Wx x + Wh (r * h))); bpcheck checks the S21-on GRU (Wrx ... bnh) only, so it was not judged")
        rec.decline(cls.backward, "GRUCell", why)  # declined, not an error: the judge reports it as not checked
        rec.decline(cls.forward, "GRUCell", why)
        return
    D, H = step_dims(case.spec.slots[0].layer.hp)
    m, t, slot = case.m, case.typed, case.spec.slots[0]
    P = _weights(case, GRU_PARAMS)
    packed = np.ascontiguousarray(t(case.x))
    dout = np.asarray(t(case.y))
    rec.note("GRUCell: driven one sample at a time (x (D,), h_prev_t (H,)), a fresh cell per sample as the "
             "autograder does; the per-sample gradients are summed")
    outs, gxs = [], []
    sums = {n: 0.0 for n in GRU_PARAMS}
    row_delta = False
    for i in range(m):
        x, h = np.ascontiguousarray(packed[i, :D]), np.ascontiguousarray(packed[i, D:])
        obj = _new_cell(rec, cls, "GRUCell", D, H, P, GRU_PARAMS)
        if obj is None:
            return
        snap = Snapshot((x, h), "x, h_prev_t")
        ok, h_t = rec.call(_FAMS, "GRUCell.forward(x, h_prev_t)", _forward_fn(obj), x.copy(),
                             h.copy())
        _watch(rec, snap, "x")
        out = rec.array(_FAMS, "GRUCell.forward(x, h_prev_t)", h_t, (H,), loose=True) if ok else None
        if out is None:
            return
        outs.append(out)
        delta = np.ascontiguousarray(dout[i])
        if i == 0:
            if _torch_bias_names(obj):
                rec.note("GRUCell: the bias gradients read as dbir, dbiz, dbin, dbhr, dbhz, dbhn (torch's names, an "
                         "earlier handout's) for dbrx, dbzx, dbnx, dbrh, dbzh, dbnh")
            row_delta = _takes_row_delta(cls, D, H, P, x, h, delta)
            if row_delta:
                rec.note("GRUCell.backward raises on delta of shape (H,) and runs on (1, H): given (1, H), as the "
                         "earlier autograders did")
        arg = delta.reshape(1, H).copy() if row_delta else delta.copy()
        snap = Snapshot(arg, "delta")
        what = f"GRUCell.backward(delta{' (1, H)' if row_delta else ''})"
        ok, ret = rec.call(_FAMS[1:], what, obj.backward, arg)
        _watch(rec, snap, "dout")
        if not ok:
            return
        if not _returned_pair(rec, what, ret):
            return
        dx = rec.array("grad_x", f"{what} dx", ret[0], (D,), loose=True)
        dh = rec.array("grad_x", f"{what} dh_prev_t", ret[1], (H,), loose=True)
        gxs.append(None if dx is None or dh is None else np.concatenate([dx, dh]))
        for n in GRU_PARAMS:
            if sums[n] is None:
                continue
            fam = "grad_b" if n.startswith("b") else "grad_W"
            attr = "d" + _ALIAS.get(n, n) if _torch_bias_names(obj) else "d" + n
            v = rec.array(fam, f"GRUCell.{attr}", getattr(obj, attr, None), P[n].shape, loose=True)
            sums[n] = None if v is None else sums[n] + v
    rec.obs.out = np.stack(outs)
    if all(g is not None for g in gxs):
        rec.obs.grads["x"] = np.stack(gxs)
    for n in GRU_PARAMS:
        if sums[n] is not None:
            rec.obs.grads[slot.params[n]] = np.asarray(sums[n], dtype=np.float64)


def _takes_row_delta(cls: type, D: int, H: int, P: dict, x, h, delta) -> bool:
    """True when backward raises on delta (H,) but runs on (1, H) (a probe on spare cells, nothing recorded)."""
    def runs(arg) -> bool:
        probe = Recorder(None)
        obj = _new_cell(probe, cls, "GRUCell", D, H, P, GRU_PARAMS)
        ok = obj is not None and probe.call(("x",), "probe", obj.forward, x.copy(), h.copy())[0]
        return ok and probe.call(("x",), "probe", obj.backward, arg)[0]

    return not runs(delta.copy()) and runs(delta.reshape(1, H).copy())
