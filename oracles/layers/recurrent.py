"""Table entries: CS231n assignment 3's recurrent layers (vanilla RNN, LSTM: one step and a whole sequence)
and the temporal affine layer.

A recurrent function takes several inputs (x and prev_h; x, prev_h and prev_c) and an LSTM step returns two
outputs (next_h, next_c). The table's contract is one input and one output per sample, so the inputs are
packed side by side in one vector per sample, in the order the course's signature lists them, and the two
outputs of an LSTM step likewise; the driver (oracles/styles/cs231n_layers_rnn.py) unpacks them for the
file and packs what it returns. The hyper-parameter ``dims`` says where the parts begin:

* ``rnn_step``   dims (D, H):    per sample [x (D), prev_h (H)] -> next_h (H)
* ``lstm_step``  dims (D, H):    [x (D), prev_h (H), prev_c (H)] -> [next_h (H), next_c (H)]
* ``rnn``        dims (T, D, H): [x (T*D, row-major over (T, D)), h0 (H)] -> h (T*H)
* ``lstm``       dims (T, D, H): the same; c0 = 0 as the handout's lstm_forward sets it
* ``temporal_affine``  (T, D) -> (T, M): out[t] = x[t] @ W + b with W (D, M) (the course's layout)

So a gradient of the packed input is [dx, dprev_h(, dprev_c)], or [dx, dh0]. The weights keep the course's
layout (Wx (D, H) or (D, 4H), Wh (H, H) or (H, 4H), b (H,) or (4H,)): the canonical layout here. LSTM gates
come in the handout's order i, f, o, g (a = x Wx + h Wh + b; ai = a[:, :H], af, ao, ag after it).

Every forward is written once over an array namespace (numpy for finite differences and the sandbox child,
torch for the autograd oracle), so the two oracles cannot drift apart.
"""

from __future__ import annotations

import numpy as np

from oracles.layers.table import Hyper, LayerKind, Param, register

__all__ = ["RECURRENT_KINDS", "step_dims", "seq_dims", "rnn_step", "lstm_step", "rnn_seq", "lstm_seq"]

RECURRENT_KINDS = ("rnn_step", "lstm_step", "rnn", "lstm")


class _NP:
    tanh = staticmethod(np.tanh)

    @staticmethod
    def sigmoid(a):
        return 1.0 / (1.0 + np.exp(-a))

    @staticmethod
    def cat(parts):
        return np.concatenate(parts, axis=1)

    @staticmethod
    def zeros_like(a):
        return np.zeros_like(a)


class _TORCH:
    @staticmethod
    def _t():
        import torch  # only the autograd oracle calls the twins; the sandbox child never does

        return torch

    @classmethod
    def tanh(cls, a):
        return cls._t().tanh(a)

    @classmethod
    def sigmoid(cls, a):
        return cls._t().sigmoid(a)

    @classmethod
    def cat(cls, parts):
        return cls._t().cat(parts, dim=1)

    @classmethod
    def zeros_like(cls, a):
        return cls._t().zeros_like(a)


def rnn_step(xp, x, h, Wx, Wh, b):
    """next_h = tanh(x Wx + h Wh + b)."""
    return xp.tanh(x @ Wx + h @ Wh + b)


def lstm_step(xp, x, h, c, Wx, Wh, b):
    """(next_h, next_c) with the handout's gate order i, f, o, g."""
    H = h.shape[1]
    a = x @ Wx + h @ Wh + b
    i, f, o = xp.sigmoid(a[:, :H]), xp.sigmoid(a[:, H:2 * H]), xp.sigmoid(a[:, 2 * H:3 * H])
    g = xp.tanh(a[:, 3 * H:])
    c_next = f * c + i * g
    return o * xp.tanh(c_next), c_next


def rnn_seq(xp, x, h0, Wx, Wh, b):
    """Hidden states (N, T*H) of a vanilla RNN over x (N, T, D)."""
    h, hs = h0, []
    for t in range(x.shape[1]):
        h = rnn_step(xp, x[:, t, :], h, Wx, Wh, b)
        hs.append(h)
    return xp.cat(hs)


def lstm_seq(xp, x, h0, Wx, Wh, b):
    """Hidden states (N, T*H) of an LSTM over x (N, T, D), c0 = 0."""
    h, c, hs = h0, xp.zeros_like(h0), []
    for t in range(x.shape[1]):
        h, c = lstm_step(xp, x[:, t, :], h, c, Wx, Wh, b)
        hs.append(h)
    return xp.cat(hs)


def step_dims(hp) -> tuple[int, int]:
    D, H = (int(v) for v in hp["dims"])
    return D, H


def seq_dims(hp) -> tuple[int, int, int]:
    T, D, H = (int(v) for v in hp["dims"])
    return T, D, H


def _step(xp, gates: int):
    def forward(x, p, hp, ctx):
        D, H = step_dims(hp)
        if gates == 1:
            return rnn_step(xp, x[:, :D], x[:, D:D + H], p["Wx"], p["Wh"], p["b"])
        return xp.cat(lstm_step(xp, x[:, :D], x[:, D:D + H], x[:, D + H:], p["Wx"], p["Wh"], p["b"]))

    return forward


def _seq(xp, gates: int):
    def forward(x, p, hp, ctx):
        T, D, H = seq_dims(hp)
        xs = x[:, :T * D].reshape(x.shape[0], T, D)
        run = rnn_seq if gates == 1 else lstm_seq
        return run(xp, xs, x[:, T * D:], p["Wx"], p["Wh"], p["b"])

    return forward


def _step_shape(n_states: int):
    def shape(s, hp) -> tuple[int]:
        D, H = step_dims(hp)
        if len(s) != 1 or s[0] != D + n_states * H:
            raise ValueError(f"dims (D={D}, H={H}) pack into ({D + n_states * H},) per sample, got {tuple(s)}")
        return (n_states * H,) if n_states == 2 else (H,)

    return shape


def _seq_shape(s, hp) -> tuple[int]:
    T, D, H = seq_dims(hp)
    if len(s) != 1 or s[0] != T * D + H:
        raise ValueError(f"dims (T={T}, D={D}, H={H}) pack into ({T * D + H},) per sample, got {tuple(s)}")
    return (T * H,)


# ---- draws: every (D, H) or (T, D, H) that packs into the drawn input width, one at random


def _draw_step(n_states: int):
    def draw(rng, s):
        n = int(s[0])
        options = [(n - n_states * H, H) for H in range(1, n) if n - n_states * H >= 1]
        if not options:
            raise ValueError(f"no (D, H) packs into {n}")
        return tuple(options[int(rng.integers(len(options)))])

    return draw


def _draw_seq(rng, s):
    n = int(s[0])
    options = [(T, (n - H) // T, H) for H in range(1, n) for T in range(1, 6)
               if n - H >= T and (n - H) % T == 0]
    if not options:
        raise ValueError(f"no (T, D, H) packs into {n}")
    return tuple(options[int(rng.integers(len(options)))])


def _weights(gates: int, dims):
    def wx(s, hp):
        D, H = dims(hp)[-2:]
        return (D, gates * H)

    def wh(s, hp):
        H = dims(hp)[-1]
        return (H, gates * H)

    def b(s, hp):
        return (gates * dims(hp)[-1],)

    return (Param("Wx", wx, family="grad_W", regularised=True, init="fan_in"),
            Param("Wh", wh, family="grad_W", regularised=True, init="fan_in"),
            Param("b", b, family="grad_b", init="bias"))


for _name, _gates, _states in (("rnn_step", 1, 1), ("lstm_step", 4, 2)):
    register(LayerKind(
        name=_name,
        out_shape=_step_shape(_states),
        numpy=_step(_NP, _gates),
        torch=_step(_TORCH, _gates),
        params=_weights(_gates, step_dims),
        hyper=(Hyper("dims", (2, 2), _draw_step(_states), "(D, H): input and hidden sizes"),),
        numbered=True,
        doc=f"CS231n {_name}_forward on packed inputs (see the module docstring)",
    ))

for _name, _gates in (("rnn", 1), ("lstm", 4)):
    register(LayerKind(
        name=_name,
        out_shape=_seq_shape,
        numpy=_seq(_NP, _gates),
        torch=_seq(_TORCH, _gates),
        params=_weights(_gates, seq_dims),
        hyper=(Hyper("dims", (2, 1, 2), _draw_seq, "(T, D, H): time steps, input and hidden sizes"),),
        numbered=True,
        doc=f"CS231n {_name}_forward over a whole sequence on packed inputs (see the module docstring)",
    ))


# ---- temporal affine: the same affine map at every time step


def _taffine_shape(s, hp) -> tuple[int, int]:
    if len(s) != 2:
        raise ValueError(f"takes sequences (T, D) per sample, got shape {tuple(s)}")
    return (int(s[0]), int(hp["out"]))


register(LayerKind(
    name="temporal_affine",
    out_shape=_taffine_shape,
    numpy=lambda x, p, hp, ctx: x @ p["W"] + p["b"],
    torch=lambda x, p, hp, ctx: x @ p["W"] + p["b"],
    params=(
        Param("W", lambda s, hp: (int(s[-1]), int(hp["out"])), family="grad_W", regularised=True, init="fan_in"),
        Param("b", lambda s, hp: (int(hp["out"]),), family="grad_b", init="bias"),
    ),
    hyper=(Hyper("out", 3, lambda rng, s: int(rng.integers(1, 6)), "output size M"),),
    numbered=True,
    doc="CS231n temporal_affine_forward: x (m, T, D) @ W (D, M) + b (M,) -> (m, T, M)",
))
