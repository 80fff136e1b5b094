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

* ``fn:word_embedding``: ``word_embedding_forward(x (N, T) int, W (V, D)) -> (out (N, T, D), cache)``,
  ``word_embedding_backward(dout, cache) -> dW``: out and dW (no gradient for integer indices); every Case
  has repeated words (oracles/layers/words.py), where ``dW[x] += dout`` loses gradient.
* ``fn:temporal_softmax_loss``: ``temporal_softmax_loss(x (N, T, V), y (N, T) int, mask (N, T) bool)
  -> (loss, dx)``: the loss (sum over the unmasked steps / N) and dx, with one all-False mask row.

Their integer arguments travel float-encoded in the Case's x and are cast back here (words.py says why).
"""

from __future__ import annotations

import numpy as np

from oracles.case import SpecSpace
from oracles.layers.recurrent import seq_dims, step_dims
from oracles.layers.words import pack_scores, split_scores, word_indices
from oracles.styles._common import Snapshot, get, positional_count
from oracles.styles.conv_entries import BWD, FWD, Entry, function_pair, layer_space, pair, pair_taking, register

__all__ = ["STEP_WIDTHS", "SEQ_WIDTHS", "EMBED_SHAPES", "LOSS_SHAPES"]

# Packed input widths per sample: every (D, H) / (T, D, H) split of them is drawn (recurrent.py), so
# D = 1, H = 1 and D != H all come up; T from 1 to 5. Small: the oracle's sequence loop is per step.
STEP_WIDTHS = ((3,), (5,), (7,), (8,))
SEQ_WIDTHS = ((5,), (7,), (9,), (11,))
_TAFFINE_SHAPES = ((1, 3), (3, 2), (4, 1), (2, 5))
# word indices (T,): T >= 2, so every sequence can hold a repeated word (words.py puts one in each)
EMBED_SHAPES = ((2,), (3,), (4,), (6,))
# (T, V + 2): V scores, the label and the mask of each step; T = 1 too, V from 2 to 10
LOSS_SHAPES = ((1, 5), (3, 5), (4, 4), (2, 7), (5, 6), (3, 12))


def _watch(rec, snap: Snapshot, what: str) -> None:
    for path in snap.changed():
        head = path.split("'")[1] if "'" in path else path
        rec.mutated({"x": "x", "y": "y", "mask": "mask", "dout": "dout", "cache": "caches"}.get(head, f"params:{head}"))
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


def _embedding_core(impl, rec, case, x, p, hp, dout, *, loss_only):
    fwd, bwd = function_pair(impl, "word_embedding_forward", "word_embedding_backward")
    idx = word_indices(x)  # the course passes integers: float indices would fail W[x] in a correct file
    snap = Snapshot({"x": idx, "W": p["W"]}, "in")
    ok, ret = rec.call(("output", "grad_W"), "word_embedding_forward(x, W)", fwd, idx, p["W"])
    _watch(rec, snap, "word_embedding_forward")
    ret = pair(rec, ("output", "grad_W"), "word_embedding_forward", ret, 2, "(out, cache)") if ok else None
    if ret is None:
        return None
    if ret[0] is None:  # the skeleton's out = None; said here, for the families this layer has (no dx, no db)
        rec.error(("output", "grad_W"), "word_embedding_forward returned no output (None): nothing to check")
        return None
    res = {"out": ret[0]}
    if loss_only:
        return res
    snap = Snapshot({"dout": dout, "cache": ret[1]}, "in")
    ok, dW = rec.call(("grad_W",), "word_embedding_backward(dout, cache)", bwd, dout, ret[1])
    _watch(rec, snap, "word_embedding_backward")
    if ok:
        res["W1"] = dW
    return res


def _loss_core(impl, rec, case, x, p, hp, dout, *, loss_only):
    fn = get(impl, "temporal_softmax_loss")
    scores, y, mask = split_scores(x)
    snap = Snapshot({"x": scores, "y": y, "mask": mask}, "in")
    ok, ret = rec.call(("loss", "grad_x"), "temporal_softmax_loss(x, y, mask)", fn, scores, y, mask)
    _watch(rec, snap, "temporal_softmax_loss")
    ret = pair(rec, ("loss", "grad_x"), "temporal_softmax_loss", ret, 2, "(loss, dx)") if ok else None
    if ret is None:
        return None
    if ret[0] is None and ret[1] is None:  # the skeleton: loss, dx = None, None
        rec.error(("loss", "grad_x"), "temporal_softmax_loss returned no output (None): nothing to check")
        return None
    res = {"loss": ret[0]}
    if loss_only:
        return res
    dx = _check(rec, "grad_x", "temporal_softmax_loss dx", ret[1], scores.shape)
    if dx is not None:
        res["x"] = pack_scores(dx)  # the labels' and mask's entries of the Case's x: no gradient, 0
    return res


def _loss_space(impl) -> SpecSpace:
    # dout = 1 (a loss layer) and reduction 'mean': the Case's loss is sum(mask * CE) / N, the course's
    return SpecSpace(layout="rows", sequences=("temporal_softmax_loss",), outputs=(("dot", ("identity",)),),
                     targets=("dense",), reductions=("mean",), input_shapes=LOSS_SHAPES)


def _present(fwd: str, bwd: str, n_args: int = 3):
    """Both functions, the forward taking the course's positional arguments (conv_entries.pair_taking)."""
    return pair_taking(fwd, bwd, n_args)


for _kind, _shapes, _n in (("rnn_step", STEP_WIDTHS, 5), ("lstm_step", STEP_WIDTHS, 6), ("rnn", SEQ_WIDTHS, 5),
                           ("lstm", SEQ_WIDTHS, 5)):
    register(Entry("cs231n", f"fn:{_kind}", _present(f"{_kind}_forward", f"{_kind}_backward", _n),
                   (lambda k, s: lambda impl: layer_space(k, shapes=s))(_kind, _shapes),
                   _recurrent_core(_kind), (f"{_kind}_forward", f"{_kind}_backward")))

register(Entry("cs231n", "fn:temporal_affine", _present("temporal_affine_forward", "temporal_affine_backward"),
               lambda impl: layer_space("temporal_affine", shapes=_TAFFINE_SHAPES), _taffine_core,
               ("temporal_affine_forward", "temporal_affine_backward")))

register(Entry("cs231n", "fn:word_embedding", _present("word_embedding_forward", "word_embedding_backward", 2),
               lambda impl: layer_space("word_embedding", shapes=EMBED_SHAPES), _embedding_core,
               ("word_embedding_forward", "word_embedding_backward")))


def _loss_present(impl) -> bool:
    fn = get(impl, "temporal_softmax_loss")
    if not callable(fn) or isinstance(fn, type):
        return False
    low, high = positional_count(fn)
    return low <= 3 <= high


register(Entry("cs231n", "fn:temporal_softmax_loss", _loss_present, _loss_space, _loss_core,
               ("temporal_softmax_loss",)))
