"""--root: helpers next to the file, Saito's common/ package, CS231n's package with relative imports."""

from __future__ import annotations

from pathlib import Path

from oracles.sandbox import Sandbox

LAYERS = '''import numpy as np
from common.functions import softmax

print("importing layers")  # top-level script code in a helper is filtered too
DATA = np.load("mnist.npz")


class Affine:
    def __init__(self, W, b):
        self.W, self.b = W, b


class SoftmaxWithLoss:
    def forward(self, x, t):
        return softmax(x)
'''


def _tree(tmp_path: Path) -> Path:
    root = tmp_path / "deep-learning-from-scratch"
    (root / "common").mkdir(parents=True)  # no __init__.py, as in the book's repository
    (root / "common" / "functions.py").write_text(
        "import numpy as np\n\ndef softmax(x):\n    e = np.exp(x - x.max(axis=-1, keepdims=True))\n"
        "    return e / e.sum(axis=-1, keepdims=True)\n")
    (root / "common" / "layers.py").write_text(LAYERS)
    (root / "ch05").mkdir()
    (root / "ch05" / "two_layer_net.py").write_text(
        "import sys, os\nsys.path.append(os.pardir)\nimport numpy as np\nfrom common.layers import *\n"
        "from collections import OrderedDict\n\nclass TwoLayerNet:\n    def gradient(self, x, t):\n"
        "        return {}\n")
    return root


def test_saito_common_package_with_root(tmp_path):
    root = _tree(tmp_path)
    with Sandbox(root / "ch05" / "two_layer_net.py", root=root) as sb:
        info = sb.load()
    assert info.ok, info.message
    assert {"Affine", "SoftmaxWithLoss", "TwoLayerNet", "TwoLayerNet.gradient"} <= set(info.names)
    assert any("layers.py: skipped" in n for n in info.notes), info.notes
    assert sb.output_total == 0  # the helper's print never ran


def test_without_root_the_saito_root_is_found(tmp_path):
    # ch05/two_layer_net.py does sys.path.append(os.pardir) and imports common.layers: the folder above
    # holds common/, so it is found without --root (and the note says where from)
    root = _tree(tmp_path)
    with Sandbox(root / "ch05" / "two_layer_net.py") as sb:
        info = sb.load()
    assert info.ok and {"Affine", "SoftmaxWithLoss"} <= set(info.names), info.notes
    assert any("common found in deep-learning-from-scratch/" in n for n in info.notes), info.notes


def test_a_helper_package_found_nowhere_is_stubbed(tmp_path):
    root = _tree(tmp_path)
    (root / "ch05" / "two_layer_net.py").write_text(
        (root / "ch05" / "two_layer_net.py").read_text().replace("common.layers", "dezero.layers"))
    with Sandbox(root / "ch05" / "two_layer_net.py") as sb:
        info = sb.load()
    assert info.ok and "Affine" not in info.names
    assert any("dezero" in n and "stub" in n for n in info.notes), info.notes


def test_cs231n_package_with_relative_imports(tmp_path):
    root = tmp_path / "assignment2"
    pkg = root / "cs231n"
    (pkg / "classifiers").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "classifiers" / "__init__.py").write_text("")
    (pkg / "layers.py").write_text("def affine_forward(x, w, b):\n    return x @ w + b, (x, w, b)\n")
    (pkg / "layer_utils.py").write_text("from .layers import *\n\ndef affine_relu_forward(x, w, b):\n"
                                        "    return affine_forward(x, w, b)\n")
    (pkg / "classifiers" / "fc_net.py").write_text(
        "from builtins import object\nimport numpy as np\nfrom ..layers import *\nfrom ..layer_utils import *\n\n"
        "class TwoLayerNet(object):\n    def loss(self, X, y=None):\n        return affine_relu_forward(X, 1, 0)\n")
    with Sandbox(pkg / "classifiers" / "fc_net.py", root=root) as sb:
        info = sb.load()
    assert info.ok, info.message
    assert {"affine_forward", "affine_relu_forward", "TwoLayerNet", "TwoLayerNet.loss"} <= set(info.names)


def test_relative_import_next_to_the_file(tmp_path):
    (tmp_path / "helpers.py").write_text("def sigmoid_prime(z):\n    return z\n")
    (tmp_path / "student.py").write_text("from .helpers import sigmoid_prime\n"
                                         "from helpers import sigmoid_prime as sp\n")
    with Sandbox(tmp_path / "student.py") as sb:
        info = sb.load()
    assert info.ok, info.message
    assert {"sigmoid_prime", "sp"} <= set(info.names)


def test_future_imports_apply_to_every_statement(tmp_path):
    # statements run one at a time; `from __future__ import annotations` must still cover them all
    (tmp_path / "fut.py").write_text("from __future__ import annotations\n\n"
                                     "def make(n: Network) -> Network:\n    return n\n\n"
                                     "class Network:\n    def backprop(self, x, y) -> tuple[list, list]:\n"
                                     "        return [], []\n")
    with Sandbox(tmp_path / "fut.py") as sb:
        info = sb.load()
    assert info.ok, info.message
    assert {"make", "Network.backprop"} <= set(info.names)


def test_import_fallbacks_are_not_stubbed(tmp_path):
    (tmp_path / "compat.py").write_text(
        "try:\n    import cPickle as pickle\nexcept ImportError:\n    import pickle\n"
        "try:\n    from itertools import izip as zip_\nexcept ImportError:\n    zip_ = zip\n"
        "import testCases\n\ndef backprop(x, y):\n    return pickle.dumps(1)\n")
    with Sandbox(tmp_path / "compat.py") as sb:
        info = sb.load()
    assert info.ok, info.message
    stubs = " ".join(n for n in info.notes if "stub" in n)
    assert "testCases" in stubs and "cPickle" not in stubs and "itertools" not in stubs
