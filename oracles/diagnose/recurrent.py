"""Diagnosis hypotheses for CS231n assignment 3's recurrent layers (and deeplearning.ai course 5's, driven through
the same layer kinds by oracles/styles/dlai_layers_rnn.py): which classic RNN/LSTM bug the numbers are.

``recurrent_hypotheses(case, observed, expected, grad_bad)`` (called by oracles.diagnose.core; the word
embedding's and the temporal loss's hypotheses are oracles/diagnose/words.py's, asked first) rebuilds the
Case's single recurrent layer (oracles/layers/recurrent.py: packed inputs, loss sum(out * dout)) in float64
torch with ONE bug planted, and names the bug whose output or gradients the observation equals:

* ``rnn_tanh_derivative``: tanh' taken as 1 - z^2 of the pre-activation z, or as 1 - tanh(next_h)^2 (tanh
  applied twice), or left out (the upstream gradient used as dz), where the right one is 1 - next_h^2;
* ``rnn_carry_dropped``: backward through time without the gradient carried from step t + 1 (dprev_h, or
  the LSTM's dprev_c, or both: real course-5 lstm_backward files pass da[:, :, t] and a dc_prevt left at 0);
* ``rnn_upstream_dropped``: backward through time that starts from dh[:, T-1] and never adds the upstream
  dh[:, t] of the earlier steps;
* ``lstm_gate_order``: the four gates sliced in another order than the handout's i, f, o, g (the forward
  output is another function, and the gradients are that function's);
* ``lstm_gate_derivative``: the gate gradients without the activations' derivatives (a real course-5 file:
  dot = da_next * tanh(c_next), dcct = (...) * it, with no ot (1 - ot), no 1 - cct^2, ...);
* ``lstm_states_aliased``: a sequence forward whose returned hidden states are the cell states (course 5's
  ``c = a``: one array, so writing c[:, :, t] overwrites a[:, :, t]; a real file's pattern);
* ``lstm_dx_wrong_columns``: an LSTM step's dx computed with the hidden-state columns of the gates' weights
  (course 5's W[:, :n_a], the da_prev formula; a shape error unless n_x == n_a, a real file's pattern);
* ``lstm_cell_path``: the cell gradient without the path through next_h = o * tanh(next_c)
  (dc = dnext_c instead of dnext_c + dnext_h * o * (1 - tanh(next_c)^2)).

A backward bug is planted with a surrogate that keeps the forward value and changes only the derivative
(value.detach() + (z - z.detach()) * wrong_derivative), or by cutting a path with detach(). Every "equal"
is oracles.compare's, through _close.
"""

from __future__ import annotations

import numpy as np

from oracles.case import Case
from oracles.diagnose._base import BUG_CLASSES, Diagnosis, _close
from oracles.diagnose.words import word_hypotheses
from oracles.layers.recurrent import RECURRENT_KINDS, seq_dims, step_dims
from oracles.observation import Observation

__all__ = ["RECURRENT_BUG_CLASSES", "recurrent_hypotheses", "recurrent_model"]

RECURRENT_BUG_CLASSES = {
    "rnn_tanh_derivative": "tanh' computed from the wrong value (1 - z^2 of the pre-activation, or tanh applied "
                           "to next_h again) or left out, instead of 1 - next_h^2",
    "rnn_carry_dropped": "backward through time does not add the gradient carried back from step t + 1",
    "rnn_upstream_dropped": "backward through time ignores the upstream gradient dh[:, t] of the earlier steps",
    "lstm_gate_order": "LSTM gates sliced in another order than the handout's i, f, o, g",
    "lstm_cell_path": "the cell-state gradient misses the path through next_h = o * tanh(next_c)",
    "lstm_gate_derivative": "the LSTM gate gradients miss the activations' derivatives (sigmoid' = g (1 - g) of "
                            "the gates, 1 - cct^2 of the candidate)",
    "lstm_states_aliased": "the hidden states returned are the cell states: one array holds both (c = a)",
    "lstm_dx_wrong_columns": "an LSTM step's input gradient computed with the hidden-state columns of the gate "
                             "weights (the da_prev formula) instead of the input's",
}
BUG_CLASSES.update(RECURRENT_BUG_CLASSES)

# bug -> (bug class, what it looks like in the file, whether the forward output shows it)
_BUGS = {
    "tanh_preact": ("rnn_tanh_derivative", "tanh' taken as 1 - z**2 of the pre-activation z = x Wx + prev_h Wh + b; "
                    "it is 1 - tanh(z)**2 = 1 - next_h**2", False),
    "tanh_twice": ("rnn_tanh_derivative", "tanh' taken as 1 - tanh(next_h)**2 (tanh applied to next_h again); it "
                   "is 1 - next_h**2", False),
    "carry_h": ("rnn_carry_dropped", "each step's backward gets only dh[:, t]: the dprev_h returned by step t + 1 "
                "is never added (dh_t = dh[:, t] + dprev_h)", False),
    "carry_c": ("rnn_carry_dropped", "each step's backward starts from dnext_c = 0: the dprev_c returned by step "
                "t + 1 is never passed on", False),
    "tanh_missing": ("rnn_tanh_derivative", "tanh' left out: the step's backward uses the upstream gradient "
                     "(da_next / dnext_h) as the gradient of the pre-activation; it is da_next * (1 - a_next**2)",
                     False),
    "carry_both": ("rnn_carry_dropped", "each step's backward gets only the upstream gradient of its own hidden "
                   "state and a cell gradient that stays 0: neither the da_prev nor the dc_prev returned by step "
                   "t + 1 is passed on (da_next = da[:, :, t] + da_prevt, dc_next = dc_prevt)", False),
    "dx_from_h": ("lstm_dx_wrong_columns", "dxt is computed with the a_prev columns of the gate weights "
                  "(W[:, :n_a].T @ dgate, the da_prev formula); the input's columns are W[:, n_a:]", False),
    "gate_no_derivative": ("lstm_gate_derivative", "the gate gradients stop at the gate values: dot = da_next * "
                           "tanh(c_next) without ot * (1 - ot), dit / dft without it * (1 - it) / ft * (1 - ft), "
                           "dcct without (1 - cct**2)", False),
    "aliased": ("lstm_states_aliased", "the hidden states a returned are the cell states c: `c = a` makes both "
                "names one array, so c[:, :, t] = c_next overwrites a[:, :, t] (allocate c with np.zeros of its own)",
                True),
    "upstream": ("rnn_upstream_dropped", "the backward starts from dh[:, T-1] and then only carries dprev_h: the "
                 "upstream dh[:, t] of every earlier step is never added (dh_t = dh[:, t] + dprev_h)", False),
    "gate_ifgo": ("lstm_gate_order", "the gates are sliced as i, f, g, o; the handout's order is i, f, o, g "
                  "(o = a[:, 2H:3H], g = a[:, 3H:])", True),
    "gate_ifog_swap": ("lstm_gate_order", "the gates are sliced as f, i, o, g; the handout's order is i, f, o, g",
                       True),
    "cell_path": ("lstm_cell_path", "dc = dnext_c: the path through next_h = o * tanh(next_c) is missing "
                  "(dc = dnext_c + dnext_h * o * (1 - tanh(next_c)**2))", False),
}
_FOR_KIND = {
    "rnn_step": ("tanh_preact", "tanh_twice", "tanh_missing"),
    "rnn": ("carry_h", "upstream", "tanh_preact", "tanh_twice", "tanh_missing"),
    "lstm_step": ("gate_ifgo", "gate_ifog_swap", "cell_path", "dx_from_h", "gate_no_derivative"),
    "lstm": ("aliased", "gate_ifgo", "gate_ifog_swap", "gate_no_derivative", "dx_from_h", "carry_h", "carry_c",
             "carry_both", "upstream", "cell_path"),
}


def _surrogate(value, z, derivative):
    """value in the forward, derivative (times the upstream) in the backward."""
    return value.detach() + (z - z.detach()) * derivative.detach()


def _rnn_step(torch, x, h, Wx, Wh, b, bug):
    z = x @ Wx + h @ Wh + b
    t = torch.tanh(z)
    if bug == "tanh_preact":
        return _surrogate(t, z, 1 - z ** 2)
    if bug == "tanh_twice":
        return _surrogate(t, z, 1 - torch.tanh(t) ** 2)
    if bug == "tanh_missing":
        return _surrogate(t, z, torch.ones_like(z))
    return t


_ORDER = {"gate_ifgo": "ifgo", "gate_ifog_swap": "fiog"}


def _lstm_step(torch, x, h, c, Wx, Wh, b, bug):
    H = h.shape[1]
    a = x @ Wx + h @ Wh + b
    order = _ORDER.get(bug, "ifog")
    part = {name: a[:, k * H:(k + 1) * H] for k, name in enumerate(order)}
    i, f, o, g = (torch.sigmoid(part["i"]), torch.sigmoid(part["f"]), torch.sigmoid(part["o"]),
                  torch.tanh(part["g"]))
    if bug == "gate_no_derivative":  # each activation passes its upstream gradient through unchanged
        i, f, o, g = (_surrogate(v, part[k], torch.ones_like(v)) for v, k in ((i, "i"), (f, "f"), (o, "o"), (g, "g")))
    c_next = f * c + i * g
    c_for_h = c_next.detach() if bug == "cell_path" else c_next
    return o * torch.tanh(c_for_h), c_next


def recurrent_model(case: Case, bug: str | None) -> dict[str, np.ndarray]:
    """'out' and the gradients ('x' packed, 'Wx1', 'Wh1', 'b1') of the Case's recurrent layer with one bug."""
    import torch

    slot = case.spec.slots[0]
    kind, hp = slot.layer.kind, slot.layer.hp

    def t(a):
        return torch.tensor(np.asarray(case.typed(np.asarray(a)), dtype=np.float64))

    x = t(case.x).requires_grad_(True)
    Wx, Wh, b = (t(case.params[slot.params[k]]).requires_grad_(True) for k in ("Wx", "Wh", "b"))
    dout = t(case.y)
    m = x.shape[0]
    if kind.endswith("_step"):
        D, H = step_dims(hp)
        if kind == "rnn_step":
            out = _rnn_step(torch, x[:, :D], x[:, D:D + H], Wx, Wh, b, bug)
        else:
            out = torch.cat(_lstm_step(torch, x[:, :D], x[:, D:D + H], x[:, D + H:], Wx, Wh, b, bug), dim=1)
        loss = (out * dout).sum()
    else:
        T, D, H = seq_dims(hp)
        xs = x[:, :T * D].reshape(m, T, D)
        h, c, hs, cs, h_ins = x[:, T * D:], torch.zeros(m, H, dtype=torch.float64), [], [], []
        for s in range(T):
            h_in = h.detach() if bug in ("carry_h", "carry_both") and s > 0 else h * 1.0  # a node of its own
            h_ins.append(h_in)
            c_in = c.detach() if bug in ("carry_c", "carry_both") else c
            if kind == "rnn":
                h = _rnn_step(torch, xs[:, s], h_in, Wx, Wh, b, bug)
            else:
                h, c = _lstm_step(torch, xs[:, s], h_in, c_in, Wx, Wh, b, bug)
            hs.append(h)
            cs.append(c)
        out = torch.cat(cs if bug == "aliased" else hs, dim=1)
        dh = dout.reshape(m, T, H)
        loss = (hs[-1] * dh[:, -1]).sum() if bug == "upstream" else (out.reshape(m, T, H) * dh).sum()
    seq_dx_from_h = bug == "dx_from_h" and not kind.endswith("_step")
    grads = torch.autograd.grad(loss, [x, Wx, Wh, b] + (h_ins if seq_dx_from_h else []))
    res = {k: g.detach().numpy() for k, g in zip(("x", "Wx1", "Wh1", "b1"), grads)}
    res["out"] = out.detach().numpy()
    if bug == "dx_from_h":  # dx = dgates @ Wh.T, the dprev_h formula: only a shape that D == H allows
        D, H = step_dims(hp) if kind.endswith("_step") else seq_dims(hp)[1:]
        if D != H:
            raise ValueError("dx from the hidden columns has the wrong shape unless D == H")
        res["x"] = res["x"].copy()
        if seq_dx_from_h:  # each step's dx is the gradient its own step sends to the hidden state it received
            T = seq_dims(hp)[0]
            res["x"][:, :T * D] = np.concatenate([g.detach().numpy() for g in grads[4:]], axis=1)
        else:
            res["x"][:, :D] = res["x"][:, D:D + H]
    return res


# forward bugs whose backward (run on the file's own caches) is untouched: a gradient bug may sit beside them
_ALIASES = ("aliased",)


def recurrent_hypotheses(case: Case, observed: Observation, expected: Observation, grad_bad) -> list[Diagnosis]:
    """The recurrent bug whose numbers the observation equals (empty for other Specs or no match)."""
    spec = case.spec
    words = word_hypotheses(case, observed, expected, grad_bad)  # the embedding and the temporal loss
    if words:
        return words
    if spec.is_mlp or len(spec.layers) != 1 or spec.layers[0].kind not in RECURRENT_KINDS or spec.loss != "dot":
        return []
    dtype = spec.dtype
    out_bad = (observed.out is not None and expected.out is not None
               and not _close(observed.out, expected.out, dtype))
    bad = [k for k in grad_bad if k in observed.grads]
    if not bad and not out_bad:
        return []
    found: list[Diagnosis] = []
    for bug in _FOR_KIND[spec.layers[0].kind]:
        cls, text, forward = _BUGS[bug]
        if forward and (not out_bad or found):
            continue
        try:
            model = recurrent_model(case, bug)
        except Exception:  # noqa: BLE001 - a hypothesis that cannot be tested is skipped
            continue
        if forward:
            if _close(model["out"], expected.out, dtype) or not _close(observed.out, model["out"], dtype):
                continue
            keys = ["out"]
        else:
            keys = [k for k in ("x", "Wx1", "Wh1", "b1") if k in observed.grads and k in expected.grads]
            if not bad or all(_close(model[k], expected.grads[k], dtype) for k in keys):
                continue  # this input cannot tell the bug from the right answer
            if not all(_close(observed.grads[k], model[k], dtype) for k in keys):
                continue
        found.append(Diagnosis(cls, f"{text} (the numbers are exactly that bug's)", tuple(keys)))
        if not forward or bug not in _ALIASES:
            return found
        # a forward bug that leaves the backward's own numbers alone (the returned a aliased to c): a wrong gradient
        # beside it is a second bug of its own, looked for among the backward hypotheses below
    return found
