"""The optimizer table: one entry per update rule, and the formulas courses write for it.

A ``Rule`` declares once what every check of that rule needs: its state, its hyper-parameters
and how to draw them, and which ``torch.optim`` class is its twin. A ``Variant`` is *how* one
implementation computes the rule: the knobs on which courses differ (eps inside or outside the
sqrt, Saito's Adam folding the bias correction into the step size, CS231n's velocity
``v = mu v - lr g`` against torch's ``b = mu b + g``, where ``t`` starts) and the knobs a buggy
implementation turns (state not stored, squared gradient not squared, learning rate applied
twice...). ``oracles.optim.formula.simulate`` runs any Variant in numpy; the torch twin runs the
ones torch can express.

``STYLE_RULES`` binds the table to the course styles: which function or class teaches which
rule, under which names it takes its hyper-parameters, which constants it hard-codes (Saito's
1e-7), and which Variants the course documents (``conventions``: the first is the course's
formula; later ones are other years' formulas, detected and stated, never called a bug).

Numpy only: the sandbox child imports this table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

__all__ = [
    "Hyper",
    "Rule",
    "RULES",
    "RULE_NAMES",
    "Variant",
    "Convention",
    "Binding",
    "STYLE_RULES",
    "OPTIM_STYLES",
    "binding",
    "bindings",
    "BUG_VARIANTS",
]


@dataclass(frozen=True)
class Hyper:
    """A hyper-parameter: its canonical name, torch's default, and how a Case draws it.

    ``draw``: ("log", lo, hi) log-uniform, ("uniform", lo, hi), or ("fixed", value)."""

    name: str
    default: float
    draw: tuple
    doc: str = ""

    def sample(self, rng: np.random.Generator) -> float:
        kind = self.draw[0]
        if kind == "log":
            lo, hi = self.draw[1], self.draw[2]
            return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))
        if kind == "uniform":
            return float(rng.uniform(self.draw[1], self.draw[2]))
        return float(self.draw[1])


@dataclass(frozen=True)
class Rule:
    """One update rule: state it carries, hyper-parameters, the torch.optim twin, a one-line formula."""

    name: str
    formula: str
    state: tuple[str, ...]
    hypers: tuple[Hyper, ...]
    torch_class: str
    stateful: bool = True

    def hyper(self, name: str) -> Hyper:
        for h in self.hypers:
            if h.name == name:
                return h
        raise KeyError(f"rule {self.name!r} has no hyper-parameter {name!r}; it has {[h.name for h in self.hypers]}")


_LR = Hyper("lr", 1e-2, ("log", 1e-3, 1.0), "learning rate")
_MU = Hyper("momentum", 0.9, ("uniform", 0.3, 0.99), "momentum coefficient mu")
_EPS = Hyper("eps", 1e-8, ("log", 1e-8, 1e-1), "added to the denominator (drawn large enough to be seen)")

RULES: dict[str, Rule] = {
    r.name: r
    for r in (
        Rule("sgd", "p -= lr g", (), (_LR,), "SGD", stateful=False),
        Rule("momentum", "b = mu b + g; p -= lr b  (CS231n: v = mu v - lr g; p += v, v = -lr b)", ("velocity",),
             (_LR, _MU), "SGD(momentum=mu)"),
        Rule("nesterov", "b = mu b + g; p -= lr (g + mu b)  (= p += mu^2 v_old - (1 + mu) lr g)", ("velocity",),
             (_LR, _MU), "SGD(momentum=mu, nesterov=True)"),
        Rule("adagrad", "h += g^2; p -= lr g / (sqrt(h) + eps)", ("accumulator",),
             (_LR, Hyper("eps", 1e-10, ("log", 1e-8, 1e-1))), "Adagrad"),
        Rule("rmsprop", "c = a c + (1 - a) g^2; p -= lr g / (sqrt(c) + eps)", ("cache",),
             (_LR, Hyper("decay", 0.99, ("uniform", 0.5, 0.999), "decay rate alpha"), _EPS), "RMSprop"),
        Rule("adam", "m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; p -= lr m^ / (sqrt(v^) + eps), "
             "m^ = m / (1 - b1^t), v^ = v / (1 - b2^t)", ("m", "v", "t"),
             (_LR, Hyper("beta1", 0.9, ("uniform", 0.5, 0.99)), Hyper("beta2", 0.999, ("uniform", 0.8, 0.9999)), _EPS),
             "Adam"),
        Rule("adamw", "p *= 1 - lr wd; then Adam's step", ("m", "v", "t"),
             (_LR, Hyper("beta1", 0.9, ("uniform", 0.5, 0.99)), Hyper("beta2", 0.999, ("uniform", 0.8, 0.9999)), _EPS,
              Hyper("weight_decay", 1e-2, ("log", 1e-3, 0.5))), "AdamW"),
    )
}
RULE_NAMES = tuple(RULES)


@dataclass(frozen=True)
class Variant:
    """How an implementation computes its rule. The defaults are torch.optim's formulas.

    Course knobs: ``momentum_form`` ("torch": b = mu b + g, p -= lr b; "cs231n": v = mu v - lr g,
    p += v, the same steps with v = -lr b; "ema": deeplearning.ai's v = mu v + (1 - mu) g, p -= lr v),
    ``nesterov_form`` ("sutskever": p += mu^2 v_old - (1 + mu) lr g, torch's and the Saito book's
    since its 2021 fix; "saito2016": the book's original p += mu^2 v_new - (1 + mu) lr g),
    ``eps_inside`` (sqrt(v + eps) instead of sqrt(v) + eps), ``bias_correction`` ("both", "none",
    "m_only", "v_only", "folded": Saito's lr_t = lr sqrt(1 - b2^t) / (1 - b1^t) with eps on the raw
    sqrt(v)), ``t_offset`` (the t used at step s is s + t_offset), ``accum_init`` (AdaGrad's first h).

    Bug knobs: ``t_frozen`` (t never incremented), ``square`` (False: g where g^2 belongs),
    ``lr_power`` (2: the learning rate applied twice), ``direction`` (+1: uphill), ``stateless``
    (the state is re-created at every call: never stored), ``shared_state`` (one state for every
    parameter), ``ema_swapped`` (c = (1 - a) c + a g^2), ``mu_sign`` (-1: v = -mu v ...),
    ``wd_mode`` for AdamW ("decoupled" torch, "after": decay of the updated p, "coupled": L2 in g,
    "none").
    """

    momentum_form: str = "torch"
    nesterov_form: str = "sutskever"
    eps_inside: bool = False
    bias_correction: str = "both"
    t_offset: int = 0
    accum_init: float = 0.0
    t_frozen: bool = False
    square: bool = True
    lr_power: int = 1
    direction: int = -1
    stateless: bool = False
    shared_state: bool = False
    ema_swapped: bool = False
    mu_sign: int = 1
    wd_mode: str = "decoupled"

    def with_(self, **changes) -> Variant:
        return replace(self, **changes)

    def torch_expressible(self, rule: str) -> bool:
        """Can the torch twin run this Variant exactly (directly or through a change of variables)?"""
        course_knobs = {"momentum_form": self.momentum_form, "nesterov_form": self.nesterov_form,
                        "bias_correction": self.bias_correction, "t_offset": self.t_offset,
                        "accum_init": self.accum_init}
        if self != Variant(**course_knobs):
            return False  # a bug knob (or eps inside the sqrt) is turned: no torch.optim class computes it
        if rule in ("adam", "adamw"):
            return self.bias_correction in ("both", "folded") and self.t_offset >= 0
        return self.bias_correction == "both" and self.t_offset == 0 and self.nesterov_form == "sutskever"


@dataclass(frozen=True)
class Convention:
    """A formula a course documents for a rule (not a bug): detected in a file and stated. A formula the
    course itself later corrected is not a convention but a bug variant (BUG_VARIANTS)."""

    name: str
    variant: Variant
    description: str


@dataclass(frozen=True)
class Binding:
    """One rule as one course style teaches it.

    ``entry``: the function or class name(s) (the first one the file defines is used); ``hypers``:
    canonical hyper name -> the style's name (config key, constructor or function argument);
    ``fixed``: canonical hyper -> a constant the course hard-codes (Saito's eps = 1e-7), never
    fuzzed; ``defaults``: the style's documented defaults (a file that ignores a fuzzed value
    usually uses these); ``state``: canonical state name -> the style's name where the course's
    contract exposes the state (CS231n's config keys, deeplearning.ai's v and s), checked each step.
    """

    rule: str
    entry: tuple[str, ...]
    hypers: dict[str, str]
    conventions: tuple[Convention, ...]
    defaults: dict[str, float] = field(default_factory=dict)
    fixed: dict[str, float] = field(default_factory=dict)
    state: dict[str, str] = field(default_factory=dict)
    init: str | None = None  # deeplearning.ai: the initializer of the state (initialize_velocity ...)
    constants: dict[str, float] = field(default_factory=dict)  # style-named arguments always passed (momentum=0)
    # MyTorch: the model's layers as the course's autograder builds them ("linear": only Linear layers, the SGD
    # tests' PseudoModel; "interleaved": Linear, activation, ... as MLP4, which the Adam starter slices [::2])
    model_layers: str = "linear"

    @property
    def convention(self) -> Convention:
        return self.conventions[0]


def _c(name: str, description: str, **knobs) -> Convention:
    return Convention(name, Variant(**knobs), description)


_TORCH = "torch.optim's formula"

STYLE_RULES: dict[str, dict[str, Binding]] = {
    # CS231n assignment 2 optim.py: next_w, config = rule(w, dw, config); the Solver keeps one config per
    # parameter, built from its optim_config, and passes back what the rule returned.
    "cs231n": {
        "sgd": Binding("sgd", ("sgd",), {"lr": "learning_rate"}, (_c("cs231n", _TORCH),), {"lr": 1e-2}),
        "momentum": Binding(
            "momentum", ("sgd_momentum",), {"lr": "learning_rate", "momentum": "momentum"},
            (_c("cs231n", "v = mu v - lr dw; next_w = w + v (torch's rule with v = -lr b)", momentum_form="cs231n"),),
            {"lr": 1e-2, "momentum": 0.9}, state={"velocity": "velocity"}),
        "rmsprop": Binding(
            "rmsprop", ("rmsprop", "RMSprop", "rmsProp"),
            {"lr": "learning_rate", "decay": "decay_rate", "eps": "epsilon"},
            (_c("cs231n", _TORCH),), {"lr": 1e-2, "decay": 0.99, "eps": 1e-8}, state={"cache": "cache"}),
        "adam": Binding(
            "adam", ("adam",), {"lr": "learning_rate", "beta1": "beta1", "beta2": "beta2", "eps": "epsilon"},
            (_c("cs231n", "t starts at 0 and is incremented before use (the 2016 and 2018+ handouts; "
                "torch.optim's formula)"),
             _c("cs231n-t1", "t starts at 1 (the 2017 starter's config.setdefault('t', 1)) and is incremented "
                "before use: the bias correction runs one step ahead of torch.optim.Adam", t_offset=1)),
            {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}, state={"m": "m", "v": "v", "t": "t"}),
    },
    # deeplearning.ai course 2 week 2 (Optimization methods): parameters W1, b1 (n, 1); grads dW1, db1.
    "dlai": {
        "sgd": Binding("sgd", ("update_parameters_with_gd",), {"lr": "learning_rate"}, (_c("dlai", _TORCH),),
                       {"lr": 0.01}),
        "momentum": Binding(
            "momentum", ("update_parameters_with_momentum",), {"lr": "learning_rate", "momentum": "beta"},
            (_c("dlai", "v = beta v + (1 - beta) dW; W -= lr v (an exponential average: torch's SGD with "
                "dampening beta and a zero first buffer)", momentum_form="ema"),),
            {"lr": 0.01, "momentum": 0.9}, state={"velocity": "v"}, init="initialize_velocity"),
        "adam": Binding(
            "adam", ("update_parameters_with_adam",),
            {"lr": "learning_rate", "beta1": "beta1", "beta2": "beta2", "eps": "epsilon"},
            (_c("dlai", "t passed by the caller (1, 2, ...), eps outside the sqrt (torch.optim's formula)"),),
            {"lr": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}, state={"m": "v", "v": "s"},
            init="initialize_adam"),
    },
    # Saito, Deep Learning from Scratch ch. 6, common/optimizer.py: update(params, grads) in place; eps 1e-7
    # hard-coded.
    "saito": {
        "sgd": Binding("sgd", ("SGD",), {"lr": "lr"}, (_c("saito", _TORCH),), {"lr": 0.01}),
        "momentum": Binding("momentum", ("Momentum",), {"lr": "lr", "momentum": "momentum"},
                            (_c("saito", "v = mu v - lr g; p += v (torch's rule with v = -lr b)",
                                momentum_form="cs231n"),), {"lr": 0.01, "momentum": 0.9}),
        "nesterov": Binding(
            "nesterov", ("Nesterov",), {"lr": "lr", "momentum": "momentum"},
            # The book's code before its 2021-01-18 fix updated v first; the publisher corrected it because it is
            # not Nesterov momentum, so it is a bug here (BUG_VARIANTS "nesterov_order"), not a convention.
            (_c("saito", "p += mu^2 v - (1 + mu) lr g, then v = mu v - lr g (the book since its 2021-01-18 fix; "
                "torch.optim's nesterov=True)"),),
            {"lr": 0.01, "momentum": 0.9}),
        "adagrad": Binding("adagrad", ("AdaGrad", "Adagrad"), {"lr": "lr"},
                           (_c("saito", "h += g^2; p -= lr g / (sqrt(h) + 1e-7)"),), {"lr": 0.01}, fixed={"eps": 1e-7}),
        "rmsprop": Binding("rmsprop", ("RMSprop", "RMSProp"), {"lr": "lr", "decay": "decay_rate"},
                           (_c("saito", "h = a h + (1 - a) g^2; p -= lr g / (sqrt(h) + 1e-7)"),),
                           {"lr": 0.01, "decay": 0.99}, fixed={"eps": 1e-7}),
        "adam": Binding(
            "adam", ("Adam",), {"lr": "lr", "beta1": "beta1", "beta2": "beta2"},
            (_c("saito", "lr_t = lr sqrt(1 - b2^t) / (1 - b1^t); p -= lr_t m / (sqrt(v) + 1e-7): the bias "
                "correction folded into the step size (torch.optim.Adam with eps rescaled each step)",
                bias_correction="folded"),
             _c("saito-torch", "the bias-corrected m^ / (sqrt(v^) + 1e-7) of the Adam paper and torch.optim")),
            {"lr": 0.001, "beta1": 0.9, "beta2": 0.999}, fixed={"eps": 1e-7}),
    },
    # CMU 11-785 MyTorch hw1: SGD(model, lr, momentum).step() and the bonus Adam / AdamW(model, lr, ...).step(),
    # stepping W, b of every layer in model.layers from its dLdW, dLdb (the S24 writeup and bonus writeup).
    "mytorch": {
        "sgd": Binding("sgd", ("SGD",), {"lr": "lr"}, (_c("mytorch", _TORCH),), {"lr": 0.1},
                       constants={"momentum": 0.0}),
        "momentum": Binding("momentum", ("SGD",), {"lr": "lr", "momentum": "momentum"},
                            (_c("mytorch", "v = mu v + dLdW; W -= lr v (torch.optim.SGD's formula)"),),
                            {"lr": 0.1, "momentum": 0.0}),
        "adam": Binding(
            "adam", ("Adam",), {"lr": "lr", "beta1": "beta1", "beta2": "beta2", "eps": "eps"},
            (_c("mytorch", "bias-corrected moments, W -= lr m^ / (sqrt(v^) + eps) (the S24 bonus writeup; "
                "torch.optim's formula)"),
             _c("mytorch-eps-inside", "bias-corrected moments, W -= lr m^ / sqrt(v^ + eps): eps inside the sqrt "
                "(the writeup's typeset sqrt read as covering eps, as many real files do)", eps_inside=True)),
            {"beta1": 0.9, "beta2": 0.999, "eps": 1e-8}, model_layers="interleaved"),
        # the writeup: decay with the *previous* weights, W_t = W_t - W_{t-1} lr wd ("observe the subscripts"),
        # which is torch's decoupled decay; decaying the updated weights is a different rule (a bug class)
        "adamw": Binding(
            "adamw", ("AdamW",),
            {"lr": "lr", "beta1": "beta1", "beta2": "beta2", "eps": "eps", "weight_decay": "weight_decay"},
            (_c("mytorch", "W_t = W_{t-1} - lr wd W_{t-1} + Adam's step (torch.optim.AdamW's formula)"),
             _c("mytorch-eps-inside", "the same with eps inside the sqrt", eps_inside=True)),
            {"beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.01}, model_layers="interleaved"),
    },
}
OPTIM_STYLES = tuple(STYLE_RULES)


def bindings(style: str) -> dict[str, Binding]:
    if style not in STYLE_RULES:
        raise ValueError(f"no optimizer rules for style {style!r}; styles with optimizers: {', '.join(OPTIM_STYLES)}")
    return STYLE_RULES[style]


def binding(style: str, rule: str) -> Binding:
    b = bindings(style)
    if rule not in b:
        raise ValueError(f"style {style!r} teaches no {rule!r}; it teaches {', '.join(b)}")
    return b[rule]


# Known deviations, each a bug class with its Variant change (applied on top of the file's convention).
# rule names: which rules the hypothesis applies to (None: every stateful rule).
BUG_VARIANTS: tuple[tuple[str, dict, tuple[str, ...] | None, str], ...] = (
    ("state_not_stored", {"stateless": True}, None,
     "the state (velocity / squared averages / t) is re-created at every call instead of stored and reused: "
     "every step behaves like the first"),
    ("state_shared", {"shared_state": True}, None,
     "one state is shared by all parameters instead of one per parameter"),
    ("update_sign", {"direction": 1}, None, "the update moves uphill: the sign of the step is flipped"),
    ("momentum_sign", {"mu_sign": -1}, ("momentum", "nesterov"), "the momentum term has the wrong sign"),
    ("lr_twice", {"lr_power": 2}, None, "the learning rate is applied twice (lr^2)"),
    ("nesterov_order", {"nesterov_form": "saito2016"}, ("nesterov",),
     "Nesterov updates v before the parameter step (v = mu v - lr g, then p += mu^2 v - (1 + mu) lr g): that is "
     "not Nesterov momentum; step the parameters with the old v first (the book's code before its 2021-01-18 "
     "fix, which the publisher corrected)"),
    ("not_squared", {"square": False}, ("rmsprop", "adagrad", "adam", "adamw"),
     "the second-moment average uses g where g^2 belongs"),
    ("eps_inside", {"eps_inside": True}, ("rmsprop", "adagrad", "adam", "adamw"),
     "eps is inside the sqrt (sqrt(v + eps)) where the course has it outside (sqrt(v) + eps)"),
    ("eps_outside", {"eps_inside": False}, ("rmsprop", "adagrad", "adam", "adamw"),
     "eps is outside the sqrt (sqrt(v) + eps) where the course has it inside (sqrt(v + eps))"),
    ("no_bias_correction", {"bias_correction": "none"}, ("adam", "adamw"), "the bias correction is missing"),
    ("bias_correction_m_only", {"bias_correction": "m_only"}, ("adam", "adamw"),
     "only the first moment m is bias-corrected (v^ = v)"),
    ("bias_correction_v_only", {"bias_correction": "v_only"}, ("adam", "adamw"),
     "only the second moment v is bias-corrected (m^ = m)"),
    ("t_not_incremented", {"t_frozen": True}, ("adam", "adamw"),
     "the bias correction stays at its first step's value, 1 - beta: t is never incremented, or beta is used "
     "where beta ** t belongs"),
    ("bias_correction_t_minus_1", {"t_offset": -1}, ("adam", "adamw"),
     "the bias correction uses t - 1 (t used before it is incremented): 1 - beta^0 = 0 at the first step"),
    ("bias_correction_t_plus_1", {"t_offset": 1}, ("adam", "adamw"),
     "the bias correction uses t + 1 (t incremented twice, or starting at 1 and incremented first)"),
    ("ema_swapped", {"ema_swapped": True}, ("rmsprop", "adam", "adamw"),
     "the decay rate multiplies the new squared gradient instead of the old average ((1 - a) c + a g^2)"),
    ("weight_decay_after", {"wd_mode": "after"}, ("adamw",), "the weight decay is applied to the updated parameters"),
    ("weight_decay_coupled", {"wd_mode": "coupled"}, ("adamw",),
     "the weight decay is added to the gradient (L2, Adam's coupled form) instead of decoupled"),
    ("weight_decay_missing", {"wd_mode": "none"}, ("adamw",), "the weight decay is missing"),
)
