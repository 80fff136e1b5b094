"""Table entries: CMU 11-785 MyTorch hw3p1's recurrent cells, ``RNNCell`` and ``GRUCell`` (one time step).

As the CS231n step kinds (oracles/layers/recurrent.py), a cell's two inputs are packed side by side in one
vector per sample, [x (D), h_prev_t (H)] -> h_t (H), and the hyper-parameter ``dims`` = (D, H) says where
h_prev_t begins; a gradient of the packed input is [dx, dh_prev_t]. The weights keep the course's layout
(torch's): W (H, D) for the input side, (H, H) for the hidden side, biases (H,).

* ``mytorch_rnn_cell``: h_t = tanh(W_ih x + b_ih + W_hh h + b_hh) (torch.nn.RNNCell, tanh);
* ``mytorch_gru_cell``: the handout's equations, which are torch.nn.GRUCell's:
  r = sigmoid(Wrx x + brx + Wrh h + brh), z = sigmoid(Wzx x + bzx + Wzh h + bzh),
  n = tanh(Wnx x + bnx + r * (Wnh h + bnh)), h_t = (1 - z) * n + z * h.

Each forward is written once over an array namespace (numpy for finite differences and the sandbox child,
torch for the autograd oracle), so the two oracles cannot drift apart; tests pin them to torch.nn's cells.
"""

from __future__ import annotations

from oracles.layers.recurrent import _NP, _TORCH, _draw_step, _step_shape, step_dims
from oracles.layers.table import Hyper, LayerKind, Param, register

__all__ = ["CELL_KINDS", "RNN_PARAMS", "GRU_PARAMS", "rnn_cell", "gru_cell"]

CELL_KINDS = ("mytorch_rnn_cell", "mytorch_gru_cell")
RNN_PARAMS = ("W_ih", "W_hh", "b_ih", "b_hh")
# the order of GRUCell.init_weights(Wrx, Wzx, Wnx, Wrh, Wzh, Wnh, brx, bzx, bnx, brh, bzh, bnh)
GRU_PARAMS = ("Wrx", "Wzx", "Wnx", "Wrh", "Wzh", "Wnh", "brx", "bzx", "bnx", "brh", "bzh", "bnh")


def rnn_cell(xp, x, h, p):
    """h_t (m, H) from x (m, D), h (m, H); p holds W_ih, W_hh, b_ih, b_hh."""
    return xp.tanh(x @ p["W_ih"].T + p["b_ih"] + h @ p["W_hh"].T + p["b_hh"])


def gru_cell(xp, x, h, p):
    """h_t (m, H): the handout's GRU (torch.nn.GRUCell's equations, gates r, z, n)."""
    r = xp.sigmoid(x @ p["Wrx"].T + p["brx"] + h @ p["Wrh"].T + p["brh"])
    z = xp.sigmoid(x @ p["Wzx"].T + p["bzx"] + h @ p["Wzh"].T + p["bzh"])
    n = xp.tanh(x @ p["Wnx"].T + p["bnx"] + r * (h @ p["Wnh"].T + p["bnh"]))
    return (1 - z) * n + z * h


def _forward(xp, cell):
    def forward(x, p, hp, ctx):
        D, H = step_dims(hp)
        return cell(xp, x[:, :D], x[:, D:D + H], p)

    return forward


def _param(name: str) -> Param:
    def shape(s, hp):
        D, H = step_dims(hp)
        if name.startswith("b"):
            return (H,)
        return (H, D) if name.endswith(("x", "_ih")) else (H, H)

    if name.startswith("b"):
        return Param(name, shape, family="grad_b", init="bias")
    return Param(name, shape, family="grad_W", regularised=True, init="fan_in")


for _name, _cell, _params in (("mytorch_rnn_cell", rnn_cell, RNN_PARAMS), ("mytorch_gru_cell", gru_cell, GRU_PARAMS)):
    register(LayerKind(
        name=_name,
        out_shape=_step_shape(1),
        numpy=_forward(_NP, _cell),
        torch=_forward(_TORCH, _cell),
        params=tuple(_param(n) for n in _params),
        hyper=(Hyper("dims", (2, 2), _draw_step(1), "(D, H): input and hidden sizes"),),
        numbered=True,
        doc=f"MyTorch hw3p1 {_name[8:]} on packed inputs [x, h_prev_t] (see the module docstring)",
    ))
