"""The Nielsen driver's update checks: one SGD step, the step trajectory and one epoch of the file's SGD.

``update_mini_batch(batch, eta)`` (or ``update_batch``; network2's ``lmbda, n``; a momentum ``mu``
of 0) and seed 004's ``backprop_matrix(x, y, m, eta)`` that steps the network are called ``case.steps``
times and the parameters read after each step; the default configuration also runs one epoch of the
file's ``SGD`` on a training set with a shorter last mini-batch. Split from nielsen.py (the driver:
entry points, spec spaces, gradients, ``run``) to keep modules small; ``step_values`` and
``sgd_values`` are what the snippets (nielsen_snippets.py) show the same calls with.

Numpy only: this runs inside the sandbox child (see oracles/styles/nielsen.py).
"""

from __future__ import annotations

import numpy as np

from oracles.case import Case
from oracles.styles._common import Recorder, Snapshot, bind_roles, role_of
from oracles.styles._configs import split_entry
from oracles.styles.nielsen_build import _FORMS, _columns, _describe_call, _form, _params, _update_name
from oracles.styles.nielsen_read import _read_params

__all__ = ["N_TRAIN", "step_values", "sgd_values"]

# network2's L2 is lmbda / n with n the size of the training set: we pick n != m so that a
# division by len(mini_batch) instead of n shows.
N_TRAIN = 50


def step_values(case: Case, form: str = "matrix") -> dict:
    """What bpcheck can hand an update method, by role (see _common.ROLE_NAMES)."""
    spec = case.spec
    eta = case.lr * (case.m if spec.reduction == "sum" else 1)
    X, Y = np.ascontiguousarray(case.typed(case.x).T), np.ascontiguousarray(case.typed(case.y).T)
    X, Y = _form(X, form), _form(Y, form)
    # network2's L2 is lmbda / n with n the training-set size; mu = 0 makes a momentum method plain SGD
    return {"eta": eta, "lmbda": spec.reg * N_TRAIN * case.lr / eta, "n": N_TRAIN, "mu": 0.0, "m": case.m,
            "x": X, "y": Y}


def _update_call(net, cls, case: Case, rec: Recorder):
    """(callable(batch), description) for one SGD step in the course's form, or None when declined."""
    name = _update_name(cls)
    fn = getattr(net, name)
    values = step_values(case, _FORMS.get(id(cls), "matrix"))
    got = bind_roles(fn, {**values, "batch": []})
    if isinstance(got, str):
        rec.decline(fn, f"{name}(mini_batch, eta)", got)
        return None
    rec.bound("update", name, fn, got, form=_FORMS.get(id(cls), "matrix"))
    what = _describe_call(name, fn, got)
    used = {role_of(p) for p in what[len(name) + 1:-1].split(", ")}
    if "mu" in used:
        rec.note(f"{what} called with a momentum coefficient of 0 (plain SGD)")
    if "lmbda" in used:
        rec.note(f"network2-style {what}: lmbda / n = reg with n = {N_TRAIN}")

    def step(batch):
        got2 = bind_roles(fn, {**values, "batch": batch})
        return fn(*got2[0], **got2[1])

    return step, what


def _matrix_values(case: Case) -> dict:
    values = step_values(case)
    values["batch"] = _columns(case)
    return values


def _matrix_is_step(net, case: Case) -> bool:
    """Seed 004's backprop_matrix(x, y, m, eta) steps the network; a (X, Y) form returns gradients."""
    got = bind_roles(net.backprop_matrix, _matrix_values(case))
    return not isinstance(got, str) and "eta" in {role_of(p.name) for p in _params(net.backprop_matrix)}


def _matrix_step(net, case: Case, rec: Recorder):
    """Seed 004's backprop_matrix(x, y, m, eta): mean gradients of the (n, m) batch, stepped by eta."""
    fn = net.backprop_matrix
    got = bind_roles(fn, _matrix_values(case))
    if isinstance(got, str):
        rec.decline(fn, "backprop_matrix(x, y, m, eta)", got)
        return None
    rec.bound("update", "backprop_matrix", fn, got, form="matrix")
    what = _describe_call("backprop_matrix", fn, got)

    def step(_batch):
        got2 = bind_roles(fn, _matrix_values(case))
        return fn(*got2[0], **got2[1])

    return step, what



def _updates(net, cls, case: Case, rec: Recorder, entry: str = "Network") -> None:
    if split_entry(entry)[0] == "Network[backprop_matrix]" and _matrix_is_step(net, case):
        rec.note("backprop_matrix updates the network itself and returns nothing: only the update is observed")
        _step_loop(net, case, rec, _matrix_step(net, case, rec))
    else:
        _plain_updates(net, cls, case, rec)
        if "[" not in entry and "(" not in entry:  # the default configuration: one training-loop row per file
            _sgd_epoch(net, case, rec)


def _plain_updates(net, cls, case: Case, rec: Recorder) -> None:
    if _update_name(cls) is None:
        rec.note("no update_mini_batch/update_batch method: update not checked")
        return
    _step_loop(net, case, rec, _update_call(net, cls, case, rec))


def sgd_values(case: Case) -> dict:
    """What the SGD check hands the file's SGD, by role: the samples repeated up to at least 3 (the training
    data), a mini-batch size that leaves a shorter last mini-batch, one epoch; n is the training-set size."""
    data = _columns(case)
    while len(data) < 3:
        data = data + _columns(case)
    n = len(data)
    return {**step_values(case), "batch": data, "m": 2 if n % 2 else n - 1, "epochs": 1, "n": n}


def _sgd_epoch(net, case: Case, rec: Recorder) -> None:
    """One epoch of the file's own SGD loop on a training set whose size is not a multiple of the mini-batch
    size (a valid input: the last mini-batch is shorter). Only that it runs and leaves finite parameters of
    the same shapes is judged; its shuffle makes the numbers the file's own business."""
    fn = getattr(net, "SGD", None)
    if not callable(fn):
        return
    values = sgd_values(case)
    n, mbs = values["n"], values["m"]
    got = bind_roles(fn, values)
    if isinstance(got, str):
        rec.decline(fn, "SGD(training_data, epochs, mini_batch_size, eta)", got)
        return
    rec.bound("training_loop", "SGD", fn, got)
    what = _describe_call("SGD", fn, got) + f" with {n} samples, mini_batch_size {mbs}"
    shapes = [np.shape(w) for w in net.weights] + [np.shape(b) for b in net.biases]
    ok, _ = rec.call("training_loop", what, fn, *got[0], **got[1])
    if not ok:
        return
    after = list(getattr(net, "weights", [])) + list(getattr(net, "biases", []))
    if [np.shape(a) for a in after] != shapes or not all(np.all(np.isfinite(np.asarray(a, float))) for a in after):
        rec.error("training_loop", f"{what} left parameters of other shapes or non-finite values")


def _step_loop(net, case: Case, rec: Recorder, made) -> None:
    spec = case.spec
    if made is None:
        return
    fn, what = made
    if spec.reduction == "sum":
        rec.note(f"{what} called with eta = lr * m: a step of eta on mean gradients is an SGD step on the summed loss")
    shapes0 = {f"W{l}": np.shape(w) for l, w in enumerate(net.weights, 1)}
    shapes0.update({f"b{l}": np.shape(b) for l, b in enumerate(net.biases, 1)})
    trajectory = []
    for step in range(int(case.steps)):
        family = "update" if step == 0 else "trajectory"
        batch = _columns(case)
        inputs = Snapshot(batch, "batch")
        ok, _ = rec.call(("update", "trajectory") if step == 0 else "trajectory", what, fn, batch)
        if inputs.changed():
            rec.mutated("x")
            rec.note(f"{what} wrote into the mini-batch arrays")
        if not ok:
            break
        params = _read_params(net, case, rec, family, what, shapes0)
        if params is None or len(params) != 2 * spec.n_layers:
            if step == 0:
                rec.error("trajectory", f"the first step failed ({what})")
            break
        trajectory.append(params)
    if trajectory:
        rec.obs.updated = trajectory[0]
    if len(trajectory) == int(case.steps):
        rec.obs.trajectory = trajectory
