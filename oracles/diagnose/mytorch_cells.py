"""Diagnosis hypotheses for MyTorch hw3p1's RNNCell and GRUCell: which classic cell bug the numbers are.

``cell_hypotheses(case, observed, expected, grad_bad)`` (called by oracles.diagnose.core) recomputes the
Case's cell (oracles/layers/mytorch_cells.py: packed [x, h_prev_t], loss sum(h_t * delta)) in float64 numpy
with ONE bug planted, in the driver's canonical form (gradients summed over the batch; RNNCell's read from
two backward calls, delta x 1/4 then x 3/4), and names the bug whose gradients the observation equals:

* ``cell_grads_assigned`` (RNNCell): dW, db assigned (``=``) where the handout accumulates (``+=``): only the
  last call's share is left (3/4 of the gradient here); dx and dh_prev_t are right;
* ``rnn_tanh_derivative`` (RNNCell): tanh' taken as 1 - tanh(h_t)^2 (tanh applied to h_t again);
* ``cell_hidden_mixed`` (RNNCell): dW_hh from h_t (``dz.T @ h_t``) where the step's input is h_prev_t;
* ``gru_z_sign``: dL/dz taken as delta * (n - h) where h_t = (1 - z) n + z h gives delta * (h - n);
* ``gru_dh_path_missing``: dh_prev_t without the direct path delta * z (h_t = ... + z * h);
* ``gru_r_path``: dWnh, dbnh (and the hidden side of n) without the factor r (n = tanh(... + r * (Wnh h + bnh)));
* ``cell_weight_transposed`` (GRUCell): dh_prev_t through Wrh.T, Wzh.T, Wnh.T (square, so no shape error).

Every "equal" is oracles.compare's, through _close.
"""

from __future__ import annotations

import numpy as np

from oracles.case import Case
from oracles.diagnose._base import BUG_CLASSES, Diagnosis, _close
from oracles.layers.mytorch_cells import CELL_KINDS, GRU_PARAMS, RNN_PARAMS
from oracles.layers.recurrent import step_dims
from oracles.observation import Observation

__all__ = ["CELL_BUG_CLASSES", "cell_hypotheses", "cell_model"]

CELL_BUG_CLASSES = {
    "cell_grads_assigned": "the cell's dW, db assigned (=) where the handout accumulates them (+=) across calls",
    "cell_hidden_mixed": "dW_hh computed from h_t where the step's hidden input is h_prev_t",
    "gru_z_sign": "the update gate's gradient has the wrong sign: dL/dz = delta * (h_prev - n), not (n - h_prev)",
    "gru_dh_path_missing": "dh_prev_t misses the direct path delta * z of h_t = (1 - z) * n + z * h_prev",
    "gru_r_path": "the candidate's hidden side misses the reset gate: n = tanh(... + r * (Wnh h + bnh))",
    "cell_weight_transposed": "dh_prev_t taken through the transposed hidden weights",
}
BUG_CLASSES.update(CELL_BUG_CLASSES)
# rnn_tanh_derivative is oracles/diagnose/recurrent.py's (the same bug in CS231n's rnn_step_backward)

_BUGS = {
    "assigned": ("cell_grads_assigned", "self.dW_ih = ... (and dW_hh, db_ih, db_hh) assigns what the handout "
                 "accumulates (self.dW_ih += ...): a cell called once per time step keeps only the last call's "
                 "gradient (here 3/4 of it: backward was called with delta x 1/4, then x 3/4)"),
    "tanh_twice": ("rnn_tanh_derivative", "tanh' taken as 1 - tanh(h_t)**2 (tanh applied to h_t again); h_t is "
                   "already tanh(z), so it is 1 - h_t**2"),
    "dWhh_h_t": ("cell_hidden_mixed", "dW_hh += dz.T @ h_t: the hidden input of this step is h_prev_t "
                 "(dW_hh += dz.T @ h_prev_t / batch_size)"),
    "z_sign": ("gru_z_sign", "dL/dz = delta * (n - h_prev): h_t = (1 - z) * n + z * h_prev gives "
               "delta * (h_prev - n)"),
    "dh_direct": ("gru_dh_path_missing", "dh_prev_t misses delta * z, the direct path of h_t = (1 - z) * n + "
                  "z * h_prev"),
    "r_path": ("gru_r_path", "dWnh and dbnh (and dh_prev_t through Wnh) miss the factor r: n = tanh(Wnx x + bnx + "
               "r * (Wnh h + bnh))"),
    "transposed": ("cell_weight_transposed", "dh_prev_t taken through Wrh.T, Wzh.T, Wnh.T: it is "
                   "dr @ Wrh + dz @ Wzh + (dn * r) @ Wnh"),
}
_FOR_KIND = {"mytorch_rnn_cell": ("assigned", "tanh_twice", "dWhh_h_t"),
             "mytorch_gru_cell": ("z_sign", "dh_direct", "r_path", "transposed")}


def _sigmoid(a):
    return 1 / (1 + np.exp(-a))


def _rnn(x, h, p, dout, bug):
    h_t = np.tanh(x @ p["W_ih"].T + p["b_ih"] + h @ p["W_hh"].T + p["b_hh"])
    dz = dout * (1 - (np.tanh(h_t) ** 2 if bug == "tanh_twice" else h_t ** 2))
    k = 0.75 if bug == "assigned" else 1.0
    g = {"W_ih": k * dz.T @ x, "W_hh": k * dz.T @ (h_t if bug == "dWhh_h_t" else h),
         "b_ih": k * dz.sum(axis=0), "b_hh": k * dz.sum(axis=0)}
    return h_t, np.concatenate([dz @ p["W_ih"], dz @ p["W_hh"]], axis=1), g


def _gru(x, h, p, dout, bug):
    r = _sigmoid(x @ p["Wrx"].T + p["brx"] + h @ p["Wrh"].T + p["brh"])
    z = _sigmoid(x @ p["Wzx"].T + p["bzx"] + h @ p["Wzh"].T + p["bzh"])
    nh = h @ p["Wnh"].T + p["bnh"]
    n = np.tanh(x @ p["Wnx"].T + p["bnx"] + r * nh)
    h_t = (1 - z) * n + z * h
    dn = dout * (1 - z) * (1 - n ** 2)
    dz = dout * ((n - h) if bug == "z_sign" else (h - n)) * z * (1 - z)
    dr = dn * nh * r * (1 - r)
    dnh = dn if bug == "r_path" else dn * r
    g = {"Wnx": dn.T @ x, "bnx": dn.sum(0), "Wnh": dnh.T @ h, "bnh": dnh.sum(0), "Wzx": dz.T @ x, "bzx": dz.sum(0),
         "Wzh": dz.T @ h, "bzh": dz.sum(0), "Wrx": dr.T @ x, "brx": dr.sum(0), "Wrh": dr.T @ h, "brh": dr.sum(0)}
    T = (lambda W: W.T) if bug == "transposed" else (lambda W: W)
    dh = (0 if bug == "dh_direct" else dout * z) + dnh @ T(p["Wnh"]) + dz @ T(p["Wzh"]) + dr @ T(p["Wrh"])
    dx = dn @ p["Wnx"] + dz @ p["Wzx"] + dr @ p["Wrx"]
    return h_t, np.concatenate([dx, dh], axis=1), g


def cell_model(case: Case, bug: str | None) -> dict[str, np.ndarray]:
    """'out' and the canonical gradients ('x' packed, 'W_ih1' ...) of the Case's cell with one bug planted."""
    slot = case.spec.slots[0]
    D, _H = step_dims(slot.layer.hp)

    def t(a):
        return np.asarray(case.typed(np.asarray(a)), dtype=np.float64)

    packed, dout = t(case.x), t(case.y)
    rnn = slot.layer.kind == "mytorch_rnn_cell"
    names = RNN_PARAMS if rnn else GRU_PARAMS
    p = {n: t(case.params[slot.params[n]]) for n in names}
    out, gx, g = (_rnn if rnn else _gru)(packed[:, :D], packed[:, D:], p, dout, bug)
    res = {slot.params[n]: v for n, v in g.items()}
    res.update(out=out, x=gx)
    return res


def cell_hypotheses(case: Case, observed: Observation, expected: Observation, grad_bad) -> list[Diagnosis]:
    """The cell bug whose gradients the observation equals (empty for other Specs or no match)."""
    spec = case.spec
    if spec.is_mlp or len(spec.layers) != 1 or spec.layers[0].kind not in CELL_KINDS:
        return []
    bad = [k for k in grad_bad if k in observed.grads]
    if not bad:
        return []
    dtype = spec.dtype
    for bug in _FOR_KIND[spec.layers[0].kind]:
        cls, text = _BUGS[bug]
        model = cell_model(case, bug)
        keys = [k for k in model if k != "out" and k in observed.grads and k in expected.grads]
        if all(_close(model[k], expected.grads[k], dtype) for k in keys):
            continue  # this input cannot tell the bug from the right answer
        if all(_close(observed.grads[k], model[k], dtype) for k in keys):
            return [Diagnosis(cls, f"{text} (the numbers are exactly that bug's)", tuple(keys))]
    return []
