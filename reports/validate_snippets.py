"""The smallest failing case as a snippet a student pastes next to their file: literals, the call, the answer."""

from __future__ import annotations

from pathlib import Path

from oracles.case import Case
from oracles.styles._common import array_literal

__all__ = ["snippet_for", "NoSnippet"]

_lit = array_literal


class NoSnippet(Exception):
    """No faithful snippet can be written for this check (the reason, one short line): the report says so
    instead of printing a snippet that would not run as pasted."""


def snippet_for(style: str, entry: str, case: Case, path: str, oracle, names: set[str] | None = None,
                family: str = "", calls: dict | None = None) -> str:
    """A runnable snippet: the Case's numbers as literals, the call in the submission's style, and
    the oracle's expected values to compare with.

    calls: ``Observation.calls`` the driver recorded for this Case (Nielsen: the bound calls it judged the
    file through, which the snippet replays). Raises NoSnippet when no faithful snippet can be written."""
    from oracles.styles.cell_snippets import cell_snippet  # MyTorch hw3p1's RNNCell / GRUCell alone
    from oracles.styles.conv_snippets import conv_snippet  # a single conv/pool layer: its own call
    from oracles.styles.cs231n_linear import snippet as linear_snippet  # assignment 1's linear classifiers
    from oracles.styles.dlai_rnn_snippets import dlai_rnn_snippet  # course 5's cells: the notebook's layout
    from oracles.styles.mytorch_snippets import mytorch_snippet  # MyTorch layers, losses alone
    from oracles.styles.norm_snippets import layer_snippet  # a single norm/dropout layer: its own call
    from oracles.styles.rnn_snippets import rnn_snippet  # a single recurrent layer: the handout's own calls
    from oracles.styles.saito_naive import snippet as pair_snippet  # MulLayer / AddLayer alone

    for write in (layer_snippet, pair_snippet, conv_snippet, rnn_snippet, dlai_rnn_snippet, cell_snippet,
                  mytorch_snippet, linear_snippet):
        if (layer := write(style, entry, case, path, oracle)) is not None:
            return layer
    if not case.spec.is_mlp:
        # the calls below spell an MLP (W, b per layer, one activation each); a net with normalization or dropout
        # layers (FullyConnectedNet[batchnorm], ...[dropout]) would get a wrong call or none: say so instead
        raise NoSnippet(f"not written for {entry} yet: a net with normalization or dropout layers")
    exp = oracle.expected(case, estimate=False)
    module = Path(path).stem
    if style == "nielsen":
        from oracles.styles.nielsen_snippets import nielsen_snippet

        text, why = nielsen_snippet(case, family, calls or {}, exp, module)
        if text is None:
            raise NoSnippet(why)
        return text
    spec = case.spec
    L = spec.n_layers
    lines = ["import numpy as np", f"import {module} as student", "",
             f"# {spec.describe()}, batch {case.m}"]
    x, y = case.x, case.y
    row_layout = style in ("saito", "cs231n")
    for l in range(1, L + 1):
        W, b = case.params[f"W{l}"], case.params[f"b{l}"]
        lines.append(f"W{l} = {_lit(W.T if row_layout else W)}")
        lines.append(f"b{l} = {_lit(b if row_layout else b.reshape(-1, 1))}")
    layout = "one sample per row" if row_layout else "one sample per column"
    lines.append(f"x = {_lit(x if row_layout else x.T)}  # {layout}")
    yv = y if (row_layout or spec.target == 'labels') else y.T
    lines.append(f"y = {_lit(yv)}")
    if style == "dlai":
        lines.append("parameters = {" + ", ".join(f"'W{l}': W{l}, 'b{l}': b{l}" for l in range(1, L + 1)) + "}")
        if entry == "two_layer":
            lines += ["A2, cache = student.forward_propagation(x, parameters)",
                      "grads = student.backward_propagation(parameters, cache, x, y)"]
        else:
            lines += ["AL, caches = student.L_model_forward(x, parameters)",
                      "grads = student.L_model_backward(AL, y, caches)"]
    elif style == "saito":
        lines += _saito_call(entry, case, names)
    elif style == "cs231n":
        lines += _cs231n_call(entry, case, names)
    lines.append("")
    lines.append("# what a correct implementation returns (torch float64 autograd, canonical layout "
                 "W (n_out, n_in)):")
    if exp.loss is not None:
        lines.append(f"expected_loss = {float(exp.loss)!r}")
    for k in sorted(exp.grads):
        if k[0] in "Wb":
            lines.append(f"expected_d{k} = {_lit(exp.grads[k])}")
    return "\n".join(lines)


_SAITO_ACT = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "leaky_relu": "LeakyRelu",
              "softplus": "Softplus", "identity": None}


# Stand-ins for layer classes a file does not define (the driver used reference.layers for them).
_SAITO_STANDINS = {
    "Sigmoid": "class Sigmoid:\n    def forward(self, x):\n        self.out = 1 / (1 + np.exp(-x))\n"
               "        return self.out\n    def backward(self, dout):\n"
               "        return dout * self.out * (1 - self.out)",
    "Tanh": "class Tanh:\n    def forward(self, x):\n        self.out = np.tanh(x)\n        return self.out\n"
            "    def backward(self, dout):\n        return dout * (1 - self.out ** 2)",
    "Relu": "class Relu:\n    def forward(self, x):\n        self.x = x\n        return np.maximum(x, 0)\n"
            "    def backward(self, dout):\n        return dout * (self.x > 0)",
    "LeakyRelu": "class LeakyRelu:\n    def forward(self, x):\n        self.x = x\n"
                 "        return np.where(x > 0, x, 0.01 * x)\n    def backward(self, dout):\n"
                 "        return dout * np.where(self.x > 0, 1.0, 0.01)",
    "Softplus": "class Softplus:\n    def forward(self, x):\n        self.x = x\n        return np.logaddexp(0, x)\n"
                "    def backward(self, dout):\n        return dout / (1 + np.exp(-self.x))",
    "SquaredLoss": "class SquaredLoss:\n    def forward(self, y, t):\n        self.y, self.t = y, t\n"
                   "        return 0.5 * np.sum((y - t) ** 2) / y.shape[0]\n    def backward(self, dout=1):\n"
                   "        return dout * (self.y - self.t) / self.y.shape[0]",
}


def _saito_call(entry: str, case: Case, names: set[str] | None = None) -> list[str]:
    spec, L = case.spec, case.spec.n_layers
    params = ", ".join(f"'W{l}': W{l}, 'b{l}': b{l}" for l in range(1, L + 1))
    if entry in ("TwoLayerNet", "MultiLayerNet"):
        if entry == "TwoLayerNet":
            ctor = f"student.TwoLayerNet(input_size={spec.sizes[0]}, hidden_size={spec.sizes[1]}, " \
                   f"output_size={spec.sizes[-1]})"
        else:
            ctor = f"student.MultiLayerNet(input_size={spec.sizes[0]}, hidden_size_list={list(spec.sizes[1:-1])}, " \
                   f"output_size={spec.sizes[-1]}, activation={spec.activations[0]!r})"
        return [f"net = {ctor}",
                f"for k, v in {{{params}}}.items():",
                "    net.params[k][...] = v  # in place: the layers hold these arrays",
                "print(net.loss(x, y))",
                "grads = net.gradient(x, y)"]
    out, layers = [], []
    last = "SoftmaxWithLoss" if spec.loss == "softmax_cross_entropy" else "SquaredLoss"
    used = {_SAITO_ACT.get(a) for a in spec.activations} | {last}
    def spelled(cls: str) -> str:  # the file's own spelling: the book's name, or it with "Layer" (ReluLayer)
        return f"{cls}Layer" if names is not None and cls not in names and f"{cls}Layer" in names else cls

    for cls in sorted(c for c in used if c in _SAITO_STANDINS and names is not None and spelled(c) not in names):
        out += [f"{line}" for line in _SAITO_STANDINS[cls].splitlines()]
        out.append(f"student.{cls} = {cls}  # not in your file: a stand-in")
    last = spelled(last)
    for l in range(1, L + 1):
        out.append(f"affine{l} = student.{spelled('Affine')}(W{l}, b{l})")
        layers.append(f"affine{l}")
        # the output activation is a layer of its own before SquaredLoss; softmax lives in the loss layer
        act = _SAITO_ACT.get(spec.activations[l - 1])
        if act:
            out.append(f"act{l} = student.{spelled(act)}()")
            layers.append(f"act{l}")
    names = layers
    out += ["h = x", f"for layer in [{', '.join(names)}]:", "    h = layer.forward(h)",
            f"last = student.{last}()", "loss = last.forward(h, y)", "dout = last.backward(1)",
            f"for layer in reversed([{', '.join(names)}]):", "    dout = layer.backward(dout)",
            "print(loss, affine1.dW, affine1.db)  # your dW is (fan_in, fan_out): compare with expected_dW1.T"]
    return out


# Stand-ins for activation functions a file does not define (its own are used where it has them).
_CS231N_ACTS = {
    "relu": ("lambda h: (np.maximum(h, 0), h)", "lambda d, h: d * (h > 0)"),
    "leaky_relu": ("lambda h: (np.where(h > 0, h, 0.01 * h), h)", "lambda d, h: d * np.where(h > 0, 1.0, 0.01)"),
    "sigmoid": ("lambda h: (1 / (1 + np.exp(-h)), 1 / (1 + np.exp(-h)))", "lambda d, s: d * s * (1 - s)"),
    "tanh": ("lambda h: (np.tanh(h), np.tanh(h))", "lambda d, t: d * (1 - t ** 2)"),
    "softplus": ("lambda h: (np.logaddexp(0, h), h)", "lambda d, h: d / (1 + np.exp(-h))"),
}


def _cs231n_call(entry: str, case: Case, names: set[str] | None = None) -> list[str]:
    spec, L = case.spec, case.spec.n_layers
    params = ", ".join(f"'W{l}': W{l}, 'b{l}': b{l}" for l in range(1, L + 1))
    if entry == "TwoLayerNet":
        # positional: assignment 1's TwoLayerNet(input_size, hidden_size, output_size) and assignment 2's
        # TwoLayerNet(input_dim, hidden_dim, num_classes) take the sizes in the same order
        out = [f"net = student.TwoLayerNet({spec.sizes[0]}, {spec.sizes[1]}, {spec.sizes[-1]})  # input, hidden, "
               f"classes", f"net.params.update({{{params}}})"]
        if not spec.reg:
            return out + ["loss, grads = net.loss(x, y)"]
        return out + [f"net.reg = {spec.reg!r}  # assignment 2 reads self.reg; assignment 1 takes loss(X, y, reg)",
                      "import inspect",
                      f"loss, grads = (net.loss(x, y, reg={spec.reg!r}) if 'reg' in inspect.signature(net.loss)"
                      f".parameters else net.loss(x, y))"]
    if entry == "FullyConnectedNet":
        return [f"net = student.FullyConnectedNet({list(spec.sizes[1:-1])}, input_dim={spec.sizes[0]}, "
                f"num_classes={spec.sizes[-1]}, reg={spec.reg!r}, dtype=np.float64)",
                f"net.params.update({{{params}}})", "loss, grads = net.loss(x, y)"]
    out, back = [], []
    for act in sorted({a for a in spec.activations[:-1] if a != "identity"}):
        for part, code in zip(("forward", "backward"), _CS231N_ACTS.get(act, ())):
            if names is not None and f"{act}_{part}" not in names:
                out.append(f"student.{act}_{part} = {code}  # not in your file: a stand-in")
    out.append("h = x")
    for l in range(1, L + 1):
        out.append(f"h, cache_a{l} = student.affine_forward(h, W{l}, b{l})")
        back.insert(0, f"dout, dW{l}, db{l} = student.affine_backward(dout, cache_a{l})")
        act = spec.activations[l - 1]
        if l < L and act != "identity":
            out.append(f"h, cache_f{l} = student.{act}_forward(h)")
            back.insert(0, f"dout = student.{act}_backward(dout, cache_f{l})")
    fn = "svm_loss" if spec.loss == "hinge" else "softmax_loss"
    return out + [f"loss, dout = student.{fn}(h, y)"] + back + ["dx = dout",
                                                                 "print(loss, dW1)  # dW1 is (fan_in, fan_out)"]
