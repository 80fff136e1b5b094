"""Table entries: CS231n assignment 3's word embedding and temporal softmax loss, the two layers of
rnn_layers.py whose inputs are integers (word indices; labels and a mask).

Integer inputs, float-encoded. A Case carries one float input x, so its integer parts are stored in x as
exact integer values (0.0, 1.0, ...): the kind's ``encode`` writes them from the Case's seed when the Case is
built (oracles/strategies_layers.py), and the driver (oracles/styles/cs231n_layers_rnn.py) casts them back
to np.int64 / bool (``word_indices``, ``split_scores``) before it calls the file. Chosen over a new kind of
Case field: the indices, labels and mask are then saved in the case file, replayed and shrunk with the rest,
and the oracles, compare and the reports need no change. The forwards read them through rint / > 0.5, so a
finite-difference step never moves an index: their derivative is 0, as torch gives for an integer cast.

* ``word_embedding``: per sample x (T,) word indices in [0, V), W (V, D) -> out (T, D) = W[x]. Hyper-parameters
  ``vocab`` V and ``dim`` D. ``encode`` puts a repeated word in every sequence (T >= 2) and one word shared by
  two sequences (N >= 2): repeats are where ``dW[x] += dout`` loses gradient (np.add.at is right).
* ``temporal_softmax_loss``: per sample x (T, V + 2), each step's row [scores (V), label, mask]; output (1,)
  = sum_t mask_t * -log softmax(scores_t)[label_t], the sequence's masked cross-entropy. The layer is a loss
  (``loss_layer``): dout = 1 and the Spec's reduction 'mean' divides by N, so the Case's loss is the course's
  sum / N (not / (N T), not / mask.sum()). ``encode`` draws labels in [0, V) and a mask with one all-False
  sequence when N >= 2 (and at least one True step elsewhere).

numpy only at import time (the sandbox child imports the table); torch is imported by the twins alone.
"""

from __future__ import annotations

import numpy as np

from oracles.layers.table import Hyper, LayerKind, Param, register

__all__ = ["WORD_KINDS", "word_indices", "split_scores", "pack_scores"]

WORD_KINDS = ("word_embedding", "temporal_softmax_loss")


def word_indices(x: np.ndarray) -> np.ndarray:
    """The float-encoded word indices of x as the course passes them: np.int64."""
    return np.rint(np.asarray(x, dtype=np.float64)).astype(np.int64)


def split_scores(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Packed (N, T, V + 2) -> scores (N, T, V) in x's dtype, labels (N, T) np.int64, mask (N, T) bool."""
    V = x.shape[2] - 2
    return (np.ascontiguousarray(x[:, :, :V]), word_indices(x[:, :, V]),
            np.asarray(x[:, :, V + 1], dtype=np.float64) > 0.5)


def pack_scores(dx: np.ndarray) -> np.ndarray:
    """A gradient of the scores (N, T, V) in the packed layout: labels and mask get 0 (integers)."""
    N, T, V = dx.shape
    out = np.zeros((N, T, V + 2), dtype=np.result_type(dx, np.float32))
    out[:, :, :V] = dx
    return out


# ---- word embedding


def _embed_numpy(x, p, hp, ctx):
    return p["W"][word_indices(x)]


def _embed_torch(x, p, hp, ctx):
    import torch  # the autograd oracle only

    # x reaches the output only through the cast: autograd gives it no gradient (torch_autograd fills in 0)
    return p["W"][torch.round(x.detach()).long()]


def _embed_shape(s, hp) -> tuple[int, int]:
    if len(s) != 1:
        raise ValueError(f"takes sequences of word indices (T,) per sample, got shape {tuple(s)}")
    return (int(s[0]), int(hp["dim"]))


def _embed_encode(rng: np.random.Generator, x: np.ndarray, hp) -> np.ndarray:
    m, T = x.shape
    V = int(hp["vocab"])
    idx = rng.integers(0, V, size=(m, T))
    pairs = [tuple(int(t) for t in rng.choice(T, size=2, replace=False)) for _ in range(m)] if T >= 2 else []
    for n, (i, j) in enumerate(pairs):  # a word repeated inside every sequence
        idx[n, j] = idx[n, i]
    if m >= 2:  # and a word two sequences share (both uses of another sequence's repeated word, if it has one)
        n = int(rng.integers(1, m))
        for t in pairs[n] if pairs else (int(rng.integers(T)),):
            idx[n, t] = idx[0, 0]
    return idx.astype(np.float64)


register(LayerKind(
    name="word_embedding",
    out_shape=_embed_shape,
    numpy=_embed_numpy,
    torch=_embed_torch,
    params=(Param("W", lambda s, hp: (int(hp["vocab"]), int(hp["dim"])), family="grad_W", init="fan_in"),),
    hyper=(Hyper("vocab", 4, lambda rng, s: int(rng.integers(1, 9)), "vocabulary size V"),
           Hyper("dim", 3, lambda rng, s: int(rng.integers(1, 5)), "word vector size D")),
    encode=_embed_encode,
    numbered=True,
    doc="CS231n word_embedding_forward: word indices x (m, T) (float-encoded), W (V, D) -> W[x] (m, T, D)",
))


# ---- temporal softmax loss


def _loss_numpy(x, p, hp, ctx):
    scores, y, mask = split_scores(x)
    scores = scores.astype(np.float64)
    shifted = scores - scores.max(axis=2, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=2, keepdims=True))
    picked = np.take_along_axis(logp, y[:, :, None], axis=2)[:, :, 0]
    return -(mask * picked).sum(axis=1, keepdims=True)


def _loss_torch(x, p, hp, ctx):
    import torch  # the autograd oracle only

    V = x.shape[2] - 2
    logp = torch.log_softmax(x[:, :, :V], dim=2)
    y = torch.round(x[:, :, V].detach()).long()
    mask = (x[:, :, V + 1].detach() > 0.5).to(x.dtype)  # a constant: the labels and mask get gradient 0
    picked = logp.gather(2, y.unsqueeze(2)).squeeze(2)
    return -(mask * picked).sum(dim=1, keepdim=True)


def _loss_shape(s, hp) -> tuple[int]:
    if len(s) != 2 or s[1] < 3:
        raise ValueError(f"takes (T, V + 2) per sample (each step: V scores, its label, its mask), V >= 1; "
                         f"got shape {tuple(s)}")
    return (1,)


def _loss_encode(rng: np.random.Generator, x: np.ndarray, hp) -> np.ndarray:
    m, T, w = x.shape
    V = w - 2
    x = x.copy()
    x[:, :, V] = rng.integers(0, V, size=(m, T))
    mask = rng.random((m, T)) < 0.7
    empty = int(rng.integers(m)) if m >= 2 else -1
    if empty >= 0:  # a sequence with every step masked out (padding only): adds nothing, still counts in N
        mask[empty] = False
    if not mask.any():  # something to check besides the empty sequence
        n = (empty + 1 + int(rng.integers(m - 1))) % m if m >= 2 else 0
        mask[n, int(rng.integers(T))] = True
    x[:, :, V + 1] = mask
    return x


register(LayerKind(
    name="temporal_softmax_loss",
    out_shape=_loss_shape,
    numpy=_loss_numpy,
    torch=_loss_torch,
    encode=_loss_encode,
    loss_layer=True,
    doc="CS231n temporal_softmax_loss on packed (m, T, V + 2) [scores, label, mask] -> per-sequence masked "
        "cross-entropy (m, 1); reduction 'mean' divides by N",
))
