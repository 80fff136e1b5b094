"""Worked examples and structural guarantees of the reference implementations.

The torch / finite-difference cross-checks over random cases live in the property suite
(through the drivers); here: the seed 002 shopping graphs, shapes and keys each style
documents, agreement between the two Nielsen variants, numerical stability at saturation,
float32 in -> float32 out, and that nothing writes into its arguments.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from oracles.compare import compare_tensor
from reference import cs231n, dlai, dlai_two_layer, layer_net, layers, matrix, nielsen


def assert_same(name, actual, expected, *, dtype="float64", oracle="impl"):
    verdict = compare_tensor(name, actual, expected, dtype=dtype, oracle=oracle)
    assert verdict.passed, verdict.message


def frozen_copy(*arrays):
    return [np.array(a, copy=True) for a in arrays]


def assert_untouched(names, before, after):
    for name, b, a in zip(names, before, after):
        assert np.array_equal(a, b), f"{name} was written into by the function it was passed to"


# ---- seed 002: the shopping examples -------------------------------------------------------


def test_two_books_with_tax():
    book, book_num, tax = 100, 2, 1.1
    mul_book, mul_tax = layers.MulLayer(), layers.MulLayer()
    price = mul_tax.forward(mul_book.forward(book, book_num), tax)
    assert_same("price", price, 220.0)
    dbook_price, dtax = mul_tax.backward(1)
    dbook, dbook_num = mul_book.backward(dbook_price)
    assert_same("dprice/dbook", dbook, 2.2)
    assert_same("dprice/dbook_num", dbook_num, 110.0)
    assert_same("dprice/dtax", dtax, 200.0)


def test_books_and_pens_with_tax():
    book, book_num, pen, pen_num, tax = 100, 2, 10, 3, 1.1
    mul_book, mul_pen, add, mul_tax = layers.MulLayer(), layers.MulLayer(), layers.AddLayer(), layers.MulLayer()
    all_price = add.forward(mul_book.forward(book, book_num), mul_pen.forward(pen, pen_num))
    price = mul_tax.forward(all_price, tax)
    assert_same("price", price, 253.0)
    dall_price, dtax = mul_tax.backward(1)
    dbook_price, dpen_price = add.backward(dall_price)
    dbook, dbook_num = mul_book.backward(dbook_price)
    dpen, dpen_num = mul_pen.backward(dpen_price)
    for name, got, want in [
        ("dbook", dbook, 2.2),
        ("dbook_num", dbook_num, 110.0),
        ("dpen", dpen, 3.3),
        ("dpen_num", dpen_num, 11.0),
        ("dtax", dtax, 230.0),
    ]:
        assert_same(name, got, want)


# ---- Saito layers --------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(layers.ACTIVATION_LAYERS))
def test_activation_layers_do_not_write_into_x_or_dout(name):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 5))
    x[0, 0] = 0.0  # an exact kink
    dout = rng.standard_normal((4, 5))
    before = frozen_copy(x, dout)
    layer = layers.ACTIVATION_LAYERS[name]()
    out = layer.forward(x)
    dx = layer.backward(dout)
    assert_untouched(["x", "dout"], before, [x, dout])
    assert out.shape == x.shape and dx.shape == x.shape
    # a second backward with the same dout gives the same answer (nothing was consumed)
    assert np.array_equal(layer.backward(dout), dx)


def test_relu_backward_zeroes_the_gradient_where_x_was_not_positive():
    x = np.array([[-1.0, 0.0, 2.0]])
    dout = np.array([[5.0, 6.0, 7.0]])
    relu = layers.Relu()
    relu.forward(x)
    assert np.array_equal(relu.backward(dout), np.array([[0.0, 0.0, 7.0]]))
    assert np.array_equal(dout, np.array([[5.0, 6.0, 7.0]])), "Relu.backward wrote into dout"


def test_affine_flattens_4d_input_and_returns_dx_in_its_shape():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 2, 2, 2))
    W = rng.standard_normal((8, 4))
    b = rng.standard_normal(4)
    before = frozen_copy(x, W, b)
    affine = layers.Affine(W, b)
    out = affine.forward(x)
    assert out.shape == (3, 4)
    assert_same("out", out, x.reshape(3, 8) @ W + b)
    dout = rng.standard_normal((3, 4))
    dx = affine.backward(dout)
    assert dx.shape == x.shape
    assert affine.dW.shape == W.shape and affine.db.shape == b.shape
    # independent of the layer: the gradient of sum(dout * (x W + b)) written out by hand
    assert_same("dx", dx, (dout @ W.T).reshape(x.shape))
    assert_same("dW", affine.dW, np.einsum("ni,nj->ij", x.reshape(3, 8), dout))
    assert_same("db", affine.db, dout.sum(axis=0))
    assert_untouched(["x", "W", "b"], before, [x, W, b])


def test_affine_sees_parameters_set_in_place():
    W, b = np.zeros((2, 2)), np.zeros(2)
    affine = layers.Affine(W, b)
    W[...] = np.eye(2)
    b[...] = 1.0
    assert np.array_equal(affine.forward(np.array([[2.0, 3.0]])), np.array([[3.0, 4.0]]))


def test_softmax_with_loss_one_hot_and_labels_agree():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((5, 4))
    labels = np.array([0, 3, 1, 1, 2])
    one_hot = np.eye(4)[labels]
    by_label, by_one_hot = layers.SoftmaxWithLoss(), layers.SoftmaxWithLoss()
    loss_l, loss_o = by_label.forward(x, labels), by_one_hot.forward(x, one_hot)
    assert_same("loss", loss_l, loss_o)
    dx_l, dx_o = by_label.backward(), by_one_hot.backward()
    assert_same("dx", dx_l, dx_o)
    # the same values written out: softmax rows minus targets, over N
    p = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
    assert_same("loss vs by hand", loss_l, -np.log(p[np.arange(5), labels]).mean())
    assert_same("dx vs by hand", dx_l, (p - one_hot) / 5)
    # backward does not consume its cache
    assert np.array_equal(by_label.backward(), dx_l)


def test_softmax_with_loss_is_exact_at_huge_logits():
    x = np.array([[1000.0, 0.0], [0.0, 1000.0]])
    layer = layers.SoftmaxWithLoss()
    # sample 0 is right with certainty (loss 0), sample 1 wrong by 1000: mean 500, no 1e-7 floor
    assert_same("loss", layer.forward(x, np.array([0, 0])), 500.0)
    dx = layer.backward()
    assert np.all(np.isfinite(dx))
    assert_same("dx", dx, np.array([[0.0, 0.0], [-0.5, 0.5]]))


def test_softmax_with_loss_at_equal_logits_is_log_C():
    layer = layers.SoftmaxWithLoss()
    assert_same("loss", layer.forward(np.zeros((3, 7)), np.array([0, 4, 6])), math.log(7))


def test_squared_loss_value_gradient_and_column_targets():
    y = np.array([[1.0], [3.0]])
    t = np.array([0.0, 1.0])  # (N,) against (N, 1): must not broadcast to (N, N)
    layer = layers.SquaredLoss()
    assert_same("loss", layer.forward(y, t), (0.5 * 1 + 0.5 * 4) / 2)
    assert_same("dy", layer.backward(), np.array([[0.5], [1.0]]))


def test_layer_nets_have_params_and_grads_in_the_documented_shapes():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((6, 5))
    t = rng.integers(0, 3, 6)
    for net in [
        layer_net.TwoLayerNet(5, 4, 3, seed=0),
        layer_net.MultiLayerNet(5, [4, 7], 3, activation="tanh", weight_decay_lambda=0.1, seed=0),
    ]:
        before = frozen_copy(x, t, *net.params.values())
        grads = net.gradient(x, t)
        assert list(grads) == list(net.params)
        for k, p in net.params.items():
            assert grads[k].shape == p.shape, f"grads[{k!r}] {grads[k].shape} vs params {p.shape}"
        assert net.params["W1"].shape == (5, 4) and net.params["b1"].shape == (4,)
        assert_untouched(["x", "t", *net.params], before, [x, t, *net.params.values()])


def test_multilayernet_weight_decay_adds_half_lambda_W_squared_and_lambda_W():
    rng = np.random.default_rng(5)
    x, t = rng.standard_normal((4, 3)), rng.integers(0, 2, 4)
    plain = layer_net.MultiLayerNet(3, [4], 2, weight_init_std=0.5, seed=7)
    decayed = layer_net.MultiLayerNet(3, [4], 2, weight_init_std=0.5, weight_decay_lambda=0.3, seed=7)
    penalty = 0.5 * 0.3 * sum(np.sum(plain.params[k] ** 2) for k in ("W1", "W2"))
    assert_same("loss", decayed.loss(x, t), plain.loss(x, t) + penalty)
    g_plain, g_decayed = plain.gradient(x, t), decayed.gradient(x, t)
    assert_same("W1", g_decayed["W1"], g_plain["W1"] + 0.3 * plain.params["W1"])
    assert_same("b1", g_decayed["b1"], g_plain["b1"])


# ---- Nielsen: per-sample and full-matrix ---------------------------------------------------


def _batch(rng, sizes, m):
    return [(rng.standard_normal((sizes[0], 1)), rng.random((sizes[-1], 1))) for _ in range(m)]


@pytest.mark.parametrize(
    "acts, cost, lmbda",
    [
        (None, nielsen.QuadraticCost, 0.0),
        (["tanh", "relu", "sigmoid"], nielsen.CrossEntropyCost, 0.0),
        (["leaky_relu", "softplus", "identity"], nielsen.QuadraticCost, 2.0),
    ],
)
def test_per_sample_and_full_matrix_updates_agree(acts, cost, lmbda):
    rng = np.random.default_rng(6)
    sizes = [3, 5, 4, 2]
    batch = _batch(rng, sizes, 7)
    per_sample = nielsen.Network(sizes, acts, cost=cost, seed=11)
    full = matrix.Network(sizes, acts, cost=cost, seed=11)
    before = frozen_copy(*per_sample.weights, *[a for xy in batch for a in xy])
    old_weights = per_sample.weights
    per_sample.update_mini_batch(batch, 0.5, lmbda, n=20)
    full.update_mini_batch(batch, 0.5, lmbda, n=20)
    for l in range(len(sizes) - 1):
        assert_same(f"weights[{l}]", full.weights[l], per_sample.weights[l])
        assert_same(f"biases[{l}]", full.biases[l], per_sample.biases[l])
        assert full.biases[l].shape == (sizes[l + 1], 1)
    # the step built new arrays: the old weights and the batch are as they were
    assert_untouched(["weights", "batch"], before, [*old_weights, *[a for xy in batch for a in xy]])


def test_full_matrix_backprop_is_the_mean_of_per_sample_backprops():
    rng = np.random.default_rng(7)
    sizes = [4, 3, 2]
    batch = _batch(rng, sizes, 5)
    per_sample = nielsen.Network(sizes, ["tanh", "sigmoid"], seed=3)
    full = matrix.Network(sizes, ["tanh", "sigmoid"], seed=3)
    X = np.hstack([x for x, _ in batch])
    Y = np.hstack([y for _, y in batch])
    nabla_b, nabla_w = full.backprop(X, Y)
    per = [per_sample.backprop(x, y) for x, y in batch]
    for l in range(2):
        assert_same(f"nabla_w[{l}]", nabla_w[l], sum(p[1][l] for p in per) / 5)
        assert_same(f"nabla_b[{l}]", nabla_b[l], sum(p[0][l] for p in per) / 5)
    # one column: the two are the same computation
    x, y = batch[0]
    for a, b in zip(full.backprop(x, y), per[0]):
        for l in range(2):
            assert_same(f"m=1 layer {l}", a[l], b[l])


def test_nielsen_shapes_and_output_layer_gradient_by_hand():
    net = nielsen.Network([2, 3, 1], seed=0)
    assert [w.shape for w in net.weights] == [(3, 2), (1, 3)]
    assert [b.shape for b in net.biases] == [(3, 1), (1, 1)]
    x, y = np.array([[0.5], [-1.0]]), np.array([[1.0]])
    nabla_b, nabla_w = net.backprop(x, y)
    # output layer written out: delta = (a - y) sigma'(z), dW = delta a_prev^T
    s = lambda z: 1 / (1 + np.exp(-z))
    a1 = s(net.weights[0] @ x + net.biases[0])
    z2 = net.weights[1] @ a1 + net.biases[1]
    delta = (s(z2) - y) * s(z2) * (1 - s(z2))
    assert_same("nabla_b[-1]", nabla_b[-1], delta)
    assert_same("nabla_w[-1]", nabla_w[-1], delta @ a1.T)


def test_cross_entropy_cost_requires_sigmoid_output():
    with pytest.raises(ValueError, match="sigmoid output"):
        nielsen.Network([2, 2], ["identity"], cost=nielsen.CrossEntropyCost)


def test_nielsen_cross_entropy_is_finite_when_saturated():
    net = nielsen.Network([1, 1], cost=nielsen.CrossEntropyCost, seed=0)
    net.weights, net.biases = [np.array([[100.0]])], [np.array([[0.0]])]
    x, y = np.array([[10.0]]), np.array([[0.0]])  # z = 1000: a rounds to exactly 1
    nabla_b, nabla_w = net.backprop(x, y)
    assert_same("nabla_b", nabla_b[0], np.array([[1.0]]))
    assert math.isfinite(net.total_cost([(x, y)]))
    assert_same("cost from z", nielsen.CrossEntropyCost.fn(None, y, np.array([[1000.0]])), 1000.0)


# ---- deeplearning.ai -----------------------------------------------------------------------


def test_dlai_shapes_keys_and_no_mutation():
    rng = np.random.default_rng(8)
    dims = [4, 5, 3, 1]
    params = dlai.initialize_parameters_deep(dims, seed=0)
    assert {k: v.shape for k, v in params.items()} == {
        "W1": (5, 4), "b1": (5, 1), "W2": (3, 5), "b2": (3, 1), "W3": (1, 3), "b3": (1, 1)
    }
    X = rng.standard_normal((4, 6))
    Y = (rng.random((1, 6)) > 0.5).astype(float)
    before = frozen_copy(X, Y, *params.values())
    AL, caches = dlai.L_model_forward(X, params)
    assert AL.shape == (1, 6) and len(caches) == 3
    cost = dlai.compute_cost(AL, Y)
    assert np.shape(cost) == ()
    grads = dlai.L_model_backward(AL, Y, caches)
    assert set(grads) == {"dA0", "dA1", "dA2", "dW1", "dW2", "dW3", "db1", "db2", "db3"}
    assert grads["dA0"].shape == X.shape
    for l in (1, 2, 3):
        assert grads[f"dW{l}"].shape == params[f"W{l}"].shape
        assert grads[f"db{l}"].shape == params[f"b{l}"].shape
    new = dlai.update_parameters(params, grads, 0.1)
    assert new is not params
    assert_same("W2 updated", new["W2"], params["W2"] - 0.1 * grads["dW2"])
    assert_untouched(["X", "Y", *params], before, [X, Y, *params.values()])


def test_dlai_output_layer_by_hand():
    # one sigmoid layer: dZ = AL - Y, dW = dZ X^T / m, db = mean dZ, dA0 = W^T dZ (summed cost)
    X = np.array([[1.0, -2.0, 0.5]])
    Y = np.array([[1.0, 0.0, 1.0]])
    params = {"W1": np.array([[0.3]]), "b1": np.array([[-0.1]])}
    AL, caches = dlai.L_model_forward(X, params)
    grads = dlai.L_model_backward(AL, Y, caches)
    dZ = 1 / (1 + np.exp(-(0.3 * X - 0.1))) - Y
    assert_same("dW1", grads["dW1"], dZ @ X.T / 3)
    assert_same("db1", grads["db1"], dZ.mean(axis=1, keepdims=True))
    assert_same("dA0", grads["dA0"], 0.3 * dZ)


def test_dlai_saturated_output_gives_finite_cost_and_gradients():
    X = np.array([[50.0, -50.0]])
    Y = np.array([[0.0, 1.0]])  # confidently wrong on both
    params = {"W1": np.array([[10.0]]), "b1": np.array([[0.0]])}  # ZL = +-500: AL is exactly 1 and ~0
    AL, caches = dlai.L_model_forward(X, params)
    grads = dlai.L_model_backward(AL, Y, caches)
    assert all(np.all(np.isfinite(g)) for g in grads.values())
    assert_same("dW1", grads["dW1"], np.array([[(50.0 * 1 + -50.0 * -1) / 2]]))
    assert math.isfinite(float(dlai.compute_cost(AL, Y)))
    assert_same("cost from ZL", dlai.compute_cost(AL, Y, caches[-1][1]), 500.0)


def test_dlai_two_layer_shapes_and_values():
    rng = np.random.default_rng(9)
    X = rng.standard_normal((2, 5))
    Y = (rng.random((1, 5)) > 0.5).astype(float)
    n_x, n_h, n_y = dlai_two_layer.layer_sizes(X, Y)
    assert (n_x, n_h, n_y) == (2, 4, 1)
    params = dlai_two_layer.initialize_parameters(n_x, n_h, n_y, seed=0)
    before = frozen_copy(X, Y, *params.values())
    A2, cache = dlai_two_layer.forward_propagation(X, params)
    assert A2.shape == (1, 5) and set(cache) == {"Z1", "A1", "Z2", "A2"}
    grads = dlai_two_layer.backward_propagation(params, cache, X, Y)
    assert {k: v.shape for k, v in grads.items()} == {"dW1": (4, 2), "db1": (4, 1), "dW2": (1, 4), "db2": (1, 1)}
    new = dlai_two_layer.update_parameters(params, grads)
    assert_same("b2 updated", new["b2"], params["b2"] - 1.2 * grads["db2"])
    assert_untouched(["X", "Y", *params], before, [X, Y, *params.values()])
    # at W = 0 the cost is log 2 whatever the data: a = 1/2 everywhere
    zero = {k: np.zeros_like(v) for k, v in params.items()}
    assert_same("cost", dlai_two_layer.compute_cost(dlai_two_layer.forward_propagation(X, zero)[0], Y), math.log(2))


# ---- CS231n --------------------------------------------------------------------------------


def test_cs231n_affine_on_image_batch():
    rng = np.random.default_rng(10)
    x = rng.standard_normal((2, 3, 4))
    w, b = rng.standard_normal((12, 5)), rng.standard_normal(5)
    out, cache = cs231n.affine_forward(x, w, b)
    assert out.shape == (2, 5)
    dout = rng.standard_normal((2, 5))
    before = frozen_copy(x, w, b, dout)
    dx, dw, db = cs231n.affine_backward(dout, cache)
    assert dx.shape == x.shape and dw.shape == w.shape and db.shape == b.shape
    assert_untouched(["x", "w", "b", "dout"], before, [x, w, b, dout])


@pytest.mark.parametrize("act", ["relu", "sigmoid", "tanh"])
def test_cs231n_activation_backward_leaves_dout_and_cache(act):
    rng = np.random.default_rng(11)
    x, dout = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    forward, backward = getattr(cs231n, f"{act}_forward"), getattr(cs231n, f"{act}_backward")
    out, cache = forward(x)
    before = frozen_copy(x, dout, out)
    dx = backward(dout, cache)
    assert dx.shape == x.shape
    assert_untouched(["x", "dout", "out"], before, [x, dout, out])


def test_cs231n_losses_at_zero_scores():
    y = np.array([0, 2, 1, 2])
    before = frozen_copy(y)
    loss, dx = cs231n.softmax_loss(np.zeros((4, 3)), y)
    assert_same("softmax loss", loss, math.log(3))
    assert_same("softmax dx", dx, (np.full((4, 3), 1 / 3) - np.eye(3)[y]) / 4)
    # every wrong class has margin exactly 1: loss C - 1, each wrong class +1/N, the right one -(C-1)/N
    loss, dx = cs231n.svm_loss(np.zeros((4, 3)), y)
    assert_same("svm loss", loss, 2.0)
    assert_same("svm dx", dx, (np.ones((4, 3)) - 3 * np.eye(3)[y]) / 4)
    assert_untouched(["y"], before, [y])


def test_cs231n_softmax_loss_at_huge_logits():
    loss, dx = cs231n.softmax_loss(np.array([[0.0, 1000.0]]), np.array([0]))
    assert_same("loss", loss, 1000.0)
    assert_same("dx", dx, np.array([[-1.0, 1.0]]))


def test_cs231n_nets_return_scores_or_loss_and_grads_like_params():
    rng = np.random.default_rng(12)
    X, y = rng.standard_normal((5, 2, 3)), rng.integers(0, 4, 5)
    for net in [
        cs231n.TwoLayerNet(input_dim=6, hidden_dim=7, num_classes=4, reg=0.1, seed=0),
        cs231n.FullyConnectedNet([7, 3], input_dim=6, num_classes=4, reg=0.1, activation="tanh", seed=0),
        cs231n.FullyConnectedNet([7], input_dim=6, num_classes=4, loss="svm", seed=0),
    ]:
        before = frozen_copy(X, y, *net.params.values())
        assert net.loss(X).shape == (5, 4)
        loss, grads = net.loss(X, y)
        assert np.shape(loss) == ()
        assert set(grads) == set(net.params)
        for k, p in net.params.items():
            assert grads[k].shape == p.shape
        assert net.dX.shape == X.shape
        assert_untouched(["X", "y", *net.params], before, [X, y, *net.params.values()])


def test_cs231n_reg_is_half_reg_W_squared():
    rng = np.random.default_rng(13)
    X, y = rng.standard_normal((3, 4)), rng.integers(0, 2, 3)
    plain = cs231n.TwoLayerNet(4, 5, 2, weight_scale=0.5, seed=1)
    reg = cs231n.TwoLayerNet(4, 5, 2, weight_scale=0.5, reg=0.7, seed=1)
    penalty = 0.5 * 0.7 * (np.sum(plain.params["W1"] ** 2) + np.sum(plain.params["W2"] ** 2))
    (l0, g0), (l1, g1) = plain.loss(X, y), reg.loss(X, y)
    assert_same("loss", l1, l0 + penalty)
    assert_same("W2", g1["W2"], g0["W2"] + 0.7 * plain.params["W2"])


def test_cs231n_sgd_returns_new_weights():
    w, dw = np.ones(3), np.full(3, 2.0)
    next_w, config = cs231n.sgd(w, dw, {"learning_rate": 0.25})
    assert_same("next_w", next_w, np.full(3, 0.5))
    assert np.array_equal(w, np.ones(3)) and config["learning_rate"] == 0.25


# ---- float32 in, float32 out ---------------------------------------------------------------


def test_float32_stays_float32_and_finite_when_saturated():
    f32 = np.float32
    rng = np.random.default_rng(14)
    big = (rng.standard_normal((4, 3)) * 200).astype(f32)  # saturates sigmoid, overflows naive exp

    net = nielsen.Network([3, 2], seed=0)
    net.weights = [w.astype(f32) for w in net.weights]
    net.biases = [b.astype(f32) for b in net.biases]
    nb, nw = net.backprop(big[:1].T, np.ones((2, 1), f32))
    assert nw[0].dtype == f32 and nb[0].dtype == f32
    full = matrix.Network([3, 2], seed=0)
    full.weights, full.biases = net.weights, net.biases
    full.update_mini_batch([(big[:1].T, np.ones((2, 1), f32))], 0.1)
    assert full.weights[0].dtype == f32

    for name, layer_cls in layers.ACTIVATION_LAYERS.items():
        layer = layer_cls()
        out, dx = layer.forward(big), layer.backward(np.ones_like(big))
        assert out.dtype == f32 and dx.dtype == f32, name
        assert np.all(np.isfinite(out)) and np.all(np.isfinite(dx)), name
    sl = layers.SoftmaxWithLoss()
    loss = sl.forward(big, np.array([0, 1, 2, 0]))
    dx = sl.backward()
    assert dx.dtype == f32 and np.isfinite(loss) and np.all(np.isfinite(dx))
    sl.forward(big, np.eye(3)[[0, 1, 2, 0]])  # float64 one-hot: the gradient keeps the logits' dtype
    assert sl.backward().dtype == f32

    net = layer_net.MultiLayerNet(3, [4], 3, activation="sigmoid", weight_decay_lambda=0.1, seed=0, dtype=f32)
    grads = net.gradient(big, np.array([0, 1, 2, 0]))
    assert all(g.dtype == f32 and np.all(np.isfinite(g)) for g in grads.values())

    params = {k: v.astype(f32) for k, v in dlai.initialize_parameters_deep([3, 4, 1], seed=0).items()}
    AL, caches = dlai.L_model_forward(big.T, params)
    grads = dlai.L_model_backward(AL, np.ones((1, 4), f32), caches)
    assert all(g.dtype == f32 and np.all(np.isfinite(g)) for g in grads.values())
    assert np.isfinite(dlai.compute_cost(AL, np.zeros((1, 4), f32)))

    loss, dx = cs231n.softmax_loss(big, np.array([0, 1, 2, 0]))
    assert dx.dtype == f32 and np.isfinite(loss)
    loss, dx = cs231n.svm_loss(big, np.array([0, 1, 2, 0]))
    assert dx.dtype == f32
    out, cache = cs231n.affine_forward(big, np.ones((3, 2), f32), np.zeros(2, f32))
    assert all(g.dtype == f32 for g in cs231n.affine_backward(out, cache))


# ---- read-only inputs: any write into an argument raises -----------------------------------


def readonly(a):
    a = np.array(a, copy=True)
    a.setflags(write=False)
    return a


def test_every_style_runs_on_read_only_arrays():
    rng = np.random.default_rng(15)
    x = readonly(rng.standard_normal((5, 3)))
    labels = readonly(rng.integers(0, 2, 5))
    dout = readonly(rng.standard_normal((5, 3)))

    for layer_cls in layers.ACTIVATION_LAYERS.values():
        layer = layer_cls()
        layer.forward(x)
        layer.backward(dout)
    affine = layers.Affine(readonly(rng.standard_normal((3, 2))), readonly(np.zeros(2)))
    affine.backward(readonly(affine.forward(x)))
    for t in (labels, readonly(np.eye(2)[labels])):
        loss_layer = layers.SoftmaxWithLoss()
        loss_layer.forward(readonly(affine.forward(x)), t)
        loss_layer.backward()
        loss_layer.backward()

    net = layer_net.MultiLayerNet(3, [4], 2, weight_decay_lambda=0.1, seed=0)
    net.params = {k: readonly(v) for k, v in net.params.items()}
    for i in (1, 2):
        net.layers[f"Affine{i}"].W, net.layers[f"Affine{i}"].b = net.params[f"W{i}"], net.params[f"b{i}"]
    net.gradient(x, labels)

    for module in (nielsen, matrix):
        nn = module.Network([3, 4, 2], ["relu", "sigmoid"], cost=nielsen.CrossEntropyCost, seed=0)
        nn.weights = [readonly(w) for w in nn.weights]
        nn.biases = [readonly(b) for b in nn.biases]
        batch = [(readonly(x[i : i + 1].T), readonly(np.eye(2)[labels[i]][:, None])) for i in range(5)]
        nn.update_mini_batch(batch, 0.1, 0.5, 10)

    params = {k: readonly(v) for k, v in dlai.initialize_parameters_deep([3, 4, 1], seed=0).items()}
    X, Y = readonly(x.T), readonly(labels[None, :].astype(float))
    AL, caches = dlai.L_model_forward(X, params, ["tanh", "sigmoid"])
    dlai.update_parameters(params, dlai.L_model_backward(AL, Y, caches, ["tanh", "sigmoid"]), 0.1)
    dlai.compute_cost(AL, Y)
    dlai.relu_backward(readonly(np.ones((4, 5))), readonly(rng.standard_normal((4, 5))))

    params = {k: readonly(v) for k, v in dlai_two_layer.initialize_parameters(3, 4, 1, seed=0).items()}
    A2, cache = dlai_two_layer.forward_propagation(X, params)
    dlai_two_layer.update_parameters(params, dlai_two_layer.backward_propagation(params, cache, X, Y))

    for loss in ("softmax", "svm"):
        fc = cs231n.FullyConnectedNet([4], input_dim=3, num_classes=2, reg=0.1, loss=loss, seed=0)
        fc.params = {k: readonly(v) for k, v in fc.params.items()}
        fc.loss(x, labels)
    cs231n.sgd(readonly(np.ones(2)), readonly(np.ones(2)))


# ---- saturation: gradients stay exact where the output has rounded to 1 --------------------


def test_output_gradients_are_exact_when_the_output_rounds_to_one():
    z = 30.0  # sigmoid(30) - 1 as a difference of rounded numbers keeps ~3 digits
    exact = -math.exp(-z) / (1 + math.exp(-z))  # sigmoid(z) - 1 = -sigmoid(-z)
    X, Y = np.array([[1.0]]), np.array([[1.0]])

    AL, caches = dlai.L_model_forward(X, {"W1": np.array([[z]]), "b1": np.zeros((1, 1))})
    assert_same("dlai db1", dlai.L_model_backward(AL, Y, caches)["db1"], np.array([[exact]]))

    params = {"W1": np.ones((1, 1)), "b1": np.zeros((1, 1)), "W2": np.zeros((1, 1)), "b2": np.array([[z]])}
    A2, cache = dlai_two_layer.forward_propagation(X, params)
    assert_same("planar db2", dlai_two_layer.backward_propagation(params, cache, X, Y)["db2"], np.array([[exact]]))

    net = nielsen.Network([1, 1], cost=nielsen.CrossEntropyCost)
    net.weights, net.biases = [np.array([[z]])], [np.zeros((1, 1))]
    assert_same("nielsen nabla_b", net.backprop(X, Y)[0][0], np.array([[exact]]))

    # softmax: p_t - 1 = -(sum of the other probabilities)
    x = np.array([[25.0, 0.0, 1.0]])
    e = np.exp(x - 25.0)
    expected = e / e.sum()
    expected[0, 0] = -(e[0, 1] + e[0, 2]) / e.sum()
    for t in (np.array([0]), np.array([[1.0, 0.0, 0.0]])):
        layer = layers.SoftmaxWithLoss()
        layer.forward(x, t)
        assert_same(f"SoftmaxWithLoss dx, t={t.tolist()}", layer.backward(), expected)
    assert_same("softmax_loss dx", cs231n.softmax_loss(x, np.array([0]))[1], expected)
