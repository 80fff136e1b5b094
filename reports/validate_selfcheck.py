"""The own-loss self check of ``bpcheck validate``: the submission's own loss against its own gradient.

For a few cases per entry point, the directional derivative of the file's own loss (finite
differences, evaluated in the child in one round trip) must match its gradient along the same
direction, allowing for the file's cost convention. Split from validate_judge.py (the Judge mixes
this in, as it does validate_rows.RowsMixin) because it is one check with its own finite-difference
plumbing, independent of how the other families are judged.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from reports.validate_losses import fd_value

__all__ = ["SelfCheckMixin"]


class SelfCheckMixin:
    """Judge's own-loss check (needs its sandbox, style, rows, notes and the conventions it learnt)."""

    def self_consistency(self, entry: str, items) -> None:
        try:
            from oracles import finite_diff
        except ImportError:
            self.notes.append("own loss vs own gradient not checked: oracles.finite_diff is not available")
            return
        from oracles.compare import compare_tensor

        row = self.row(entry, "self_consistency")
        # every point of every case of this entry in one request to the child (speed: one round trip, not
        # four per case), in the order the per-point calls made: the same calls, the same answers
        prepared, points = [], []
        for case, obs, _own in items:
            names = [k for k in case.params if k in obs.grads]
            rng = np.random.default_rng([case.seed, 0xD1])
            direction = {k: rng.standard_normal(case.params[k].shape) for k in names}
            norm = math.sqrt(sum(float(np.sum(d * d)) for d in direction.values()))
            direction = {k: d / norm for k, d in direction.items()}
            failed_eval: list[str] = []
            try:
                h, moved = finite_diff.directional_points({k: case.params[k] for k in names}, direction)
            except Exception as e:  # noqa: BLE001
                prepared.append((case, obs, names, direction, failed_eval, e, 0.0, []))
                break  # (the cases after it were never evaluated)
            slots = []
            for params in moved:
                full = dict(case.params)
                full.update({k: np.asarray(v, dtype=np.float64) for k, v in params.items()})
                try:
                    slots.append(len(points))
                    points.append(replace(case, params=full))
                except ValueError as e:
                    slots[-1] = str(e)
            prepared.append((case, obs, names, direction, failed_eval, None, h, slots))
        answers = self.sb.own_losses(self.style, self.child_entry(entry), points,
                                     give_up_after=len(points) + 1) if points else []
        for case, obs, names, direction, failed_eval, raised, h, slots in prepared:
            if raised is not None:
                self.notes.append(f"{entry}: own-loss finite differences failed ({type(raised).__name__}: {raised})")
                return
            values = []
            for slot in slots:
                if isinstance(slot, str):  # the moved parameters did not make a Case
                    failed_eval.append(slot)
                    values.append(float("nan"))
                    continue
                r = answers[slot]
                if r.fault or r.own_loss is None:
                    failed_eval.append(r.message or "no loss")
                    values.append(float("nan"))
                else:
                    values.append(r.own_loss)
            fd = finite_diff.directional_value(h, values) if slots else (0.0, 0.0)
            value, err = fd_value(fd)
            analytic = sum(float(np.sum(np.asarray(obs.grads[k], dtype=np.float64) * direction[k]))
                           for k in names if np.shape(obs.grads[k]) == direction[k].shape)
            row.n_cases += 1
            if failed_eval or value is None or not math.isfinite(value):
                row.statuses["error"] += 1
                row.ordinary_statuses["error"] += 1
                row.bad_ordinary += 1
                if row.first is None:
                    row.first = (case, f"own loss could not be evaluated: {(failed_eval or ['?'])[0]}", [], [],
                                 obs, None, "error")
                continue
            scale = math.sqrt(sum(float(np.sum(np.asarray(obs.grads[k], dtype=np.float64) ** 2)) for k in names))
            v = compare_tensor("own gradient . d vs d/dt own loss(p + t d)", analytic, value,
                               dtype=case.spec.dtype, oracle="fd", scale=scale, err_est=err, check="loss")
            conv = self.conventions_by_entry.get(entry)
            if not v.passed and conv is not None:
                # the file's convention scales its data gradient (a summed batch gradient beside a mean cost);
                # the L2 part of both is the same
                f = {"sum": case.m, "mean": 1.0 / case.m}.get(dict(conv.spec_changes).get("reduction"),
                                                              conv.grad_factor / conv.loss_factor)
                reg_slope = case.spec.reg * sum(float(np.sum(case.typed(case.params[k]).astype(np.float64)
                                                             * direction[k])) for k in names if k[0] == "W")
                for g in {f, f * conv.loss_factor}:
                    if compare_tensor("own gradient", analytic, g * (value - reg_slope) + reg_slope,
                                      dtype=case.spec.dtype, oracle="fd", scale=scale, err_est=g * (err or 0.0),
                                      check="loss").passed:
                        v.status = "pass"
                        break
            if v.passed:
                row.statuses["pass"] += 1
            else:
                row.statuses["fail"] += 1
                row.ordinary_statuses["fail"] += 1
                row.bad_ordinary += 1
                if row.first is None:
                    row.first = (case, f"the submission's own loss and its own gradient disagree: directional "
                                 f"derivative of its loss {value:.6g}, its gradient gives {analytic:.6g} "
                                 f"({v.message})", [], [], obs, None, "fail")
