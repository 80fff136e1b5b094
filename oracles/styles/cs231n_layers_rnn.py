"""CS231n assignment 3's recurrent entry points (rnn_layers.py); the shared machinery is conv_entries'.

* ``fn:rnn_step``: ``rnn_step_forward(x, prev_h, Wx, Wh, b) -> (next_h, cache)``,
  ``rnn_step_backward(dnext_h, cache) -> (dx, dprev_h, dWx, dWh, db)``.
* ``fn:rnn``: ``rnn_forward(x (N, T, D), h0, Wx, Wh, b) -> (h (N, T, H), cache)``,
  ``rnn_backward(dh, cache) -> (dx, dh0, dWx, dWh, db)``.
* ``fn:lstm_step``: ``lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b) -> (next_h, next_c, cache)``,
  ``lstm_step_backward(dnext_h, dnext_c, cache) -> (dx, dprev_h, dprev_c, dWx, dWh, db)``.
* ``fn:lstm``: ``lstm_forward`` / ``lstm_backward`` as the RNN's, gates (4H) in the order i, f, o, g.
* ``fn:temporal_affine``: ``temporal_affine_forward(x, w, b) -> (out, cache)``, ``_backward -> (dx, dw, db)``.

Each is checked as the course checks it: the forward output and every gradient its backward returns for
loss = sum(out * dout), dout the Case's seeded y. The Case packs several inputs (and an LSTM step's two
outputs) in one vector per sample (oracles/layers/recurrent.py); here they are unpacked for the file and
its answers packed back: gradient 'x' is [dx, dprev_h(, dprev_c)] or [dx, dh0], 'out' [next_h, next_c].
word_embedding_* and temporal_softmax_loss are not driven (integer inputs and a mask the Case cannot
carry yet): the coverage line lists them as not checked.
"""

from __future__ import annotations

import numpy as np

from oracles.layers.recurrent import seq_dims, step_dims
from oracles.styles._common import Snapshot, positional_count
from oracles.styles.conv_entries import BWD, FWD, Entry, function_pair, layer_space, pair, register

__all__ = ["STEP_WIDTHS", "SEQ_WIDTHS"]

# Packed input widths per sample: every (D, H) / (T, D, H) split of them is drawn (recurrent.py), so
# D = 1, H = 1 and D != H all come up; T from 1 to 5. Small: the oracle's sequence loop is per step.
STEP_WIDTHS = ((3,), (5,), (7,), (8,))
SEQ_WIDTHS = ((5,), (7,), (9,), (11,))
_TAFFINE_SHAPES = ((1, 3), (3, 2), (4, 1), (2, 5))


def _watch(rec, snap: Snapshot, what: str) -> None:
    for path in snap.changed():
        head = path.split("'")[1] if "'" in path else path
        rec.mutated({"x": "x", "dout": "dout", "cache": "caches"}.get(head, f"params:{head}"))
        rec.note(f"{what} wrote into its argument {path}")


def _check(rec, fams, what: str, value, shape) -> np.ndarray | None:
    return rec.array(fams, what, value, shape)


def _recurrent_core(kind: str):
    fwd_name, bwd_name = f"{kind}_forward", f"{kind}_backward"
    lstm = kind.startswith("lstm")
    step = kind.endswith("_step")

    def core(impl, rec, case, x, p, hp, dout, *, loss_only):
        fwd, bwd = function_pair(impl, fwd_name, bwd_name)
        m = case.m
        if step:
            D, H = step_dims(hp)
            parts = [x[:, :D], x[:, D:D + H]] + ([x[:, D + H:]] if lstm else [])
            names = ["x", "prev_h"] + (["prev_c"] if lstm else [])
            out_shape = (m, H)
        else:
            T, D, H = seq_dims(hp)
            parts = [x[:, :T * D].reshape(m, T, D), x[:, T * D:]]
            names = ["x", "h0"]
            out_shape = (m, T, H)
        parts = [np.ascontiguousarray(a) for a in parts]
        args = [*parts, p["Wx"], p["Wh"], p["b"]]
        snap = Snapshot({n: a for n, a in zip([*names, "Wx", "Wh", "b"], args)}, "in")
        n_out = 3 if lstm and step else 2
        shown = ", ".join([*names, "Wx", "Wh", "b"])
        ok, ret = rec.call(FWD, f"{fwd_name}({shown})", fwd, *args)
        _watch(rec, snap, fwd_name)
        ret = pair(rec, FWD, fwd_name, ret, n_out, "(next_h, next_c, cache)" if n_out == 3 else "(out, cache)") \
            if ok else None
        if ret is None:
            return None
        if all(r is None for r in ret[:n_out - 1]):
            return None  # the handout's skeleton returns None: conv_entries says "returned no output (None)"
        outs = [_check(rec, "output", f"{fwd_name} {'next_h' if step else 'h'}", ret[0], out_shape)]
        if n_out == 3:
            outs.append(_check(rec, "output", f"{fwd_name} next_c", ret[1], out_shape))
        if any(o is None for o in outs):
            res = {}
        else:
            res = {"out": np.concatenate([o.reshape(m, -1) for o in outs], axis=1)}
        if loss_only:
            return res
        cache = ret[-1]
        if step:
            douts = [dout[:, :H].copy()] + ([dout[:, H:].copy()] if lstm else [])
            dnames = ["dnext_h"] + (["dnext_c"] if lstm else [])
        else:
            douts, dnames = [dout.reshape(m, T, H).copy()], ["dh"]
        snap = Snapshot({"dout": douts, "cache": cache}, "in")
        ok, back = rec.call(BWD, f"{bwd_name}({', '.join(dnames)}, cache)", bwd, *douts, cache)
        _watch(rec, snap, bwd_name)
        grad_names = [f"d{n}" for n in names] + ["dWx", "dWh", "db"]
        back = pair(rec, BWD, bwd_name, back, len(grad_names), f"({', '.join(grad_names)})") if ok else None
        if back is None:
            return res
        k = len(names)
        got = [_check(rec, "grad_x", f"{bwd_name} {g}", v, a.shape)
               for g, v, a in zip(grad_names[:k], back[:k], parts)]
        if all(g is not None for g in got):
            res["x"] = np.concatenate([g.reshape(m, -1) for g in got], axis=1)
        res.update(Wx1=back[k], Wh1=back[k + 1], b1=back[k + 2])
        return res

    return core


def _taffine_core(impl, rec, case, x, p, hp, dout, *, loss_only):
    fwd, bwd = function_pair(impl, "temporal_affine_forward", "temporal_affine_backward")
    snap = Snapshot({"x": x, "w": p["W"], "b": p["b"]}, "in")
    ok, ret = rec.call(FWD, "temporal_affine_forward(x, w, b)", fwd, x, p["W"], p["b"])
    _watch(rec, snap, "temporal_affine_forward")
    ret = pair(rec, FWD, "temporal_affine_forward", ret, 2, "(out, cache)") if ok else None
    if ret is None:
        return None
    res = {"out": ret[0]}
    if loss_only:
        return res
    snap = Snapshot({"dout": dout, "cache": ret[1]}, "in")
    ok, back = rec.call(BWD, "temporal_affine_backward(dout, cache)", bwd, dout, ret[1])
    _watch(rec, snap, "temporal_affine_backward")
    back = pair(rec, BWD, "temporal_affine_backward", back, 3, "(dx, dw, db)") if ok else None
    if back is not None:
        res.update(x=back[0], W1=back[1], b1=back[2])
    return res


def _present(fwd: str, bwd: str, n_args: int = 3):
    """Both functions, the forward taking the course's positional arguments: deeplearning.ai course 5 has an
    rnn_forward(x, a0, parameters) too, and calling it with five arguments would blame a file bpcheck misread."""
    def present(impl) -> bool:
        fns = function_pair(impl, fwd, bwd)
        if fns is None:
            return False
        low, high = positional_count(fns[0])
        return low <= n_args <= high

    return present


for _kind, _shapes, _n in (("rnn_step", STEP_WIDTHS, 5), ("lstm_step", STEP_WIDTHS, 6), ("rnn", SEQ_WIDTHS, 5),
                           ("lstm", SEQ_WIDTHS, 5)):
    register(Entry("cs231n", f"fn:{_kind}", _present(f"{_kind}_forward", f"{_kind}_backward", _n),
                   (lambda k, s: lambda impl: layer_space(k, shapes=s))(_kind, _shapes),
                   _recurrent_core(_kind), (f"{_kind}_forward", f"{_kind}_backward")))

register(Entry("cs231n", "fn:temporal_affine", _present("temporal_affine_forward", "temporal_affine_backward"),
               lambda impl: layer_space("temporal_affine", shapes=_TAFFINE_SHAPES), _taffine_core,
               ("temporal_affine_forward", "temporal_affine_backward")))
