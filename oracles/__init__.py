"""What decides right from wrong: cases, oracles, comparison, diagnosis, sandbox.

Modules (import them directly; torch is loaded only by ``torch_autograd``):
``case`` (Spec, Case), ``observation``, ``strategies``, ``styles`` (course-style drivers),
``torch_autograd`` and ``finite_diff`` (the oracles), ``error_model`` (rounding bounds),
``compare`` (the one comparison), ``diagnose``, ``shrink``, ``sandbox`` (untrusted code).
"""

__all__ = [
    "case",
    "observation",
    "strategies",
    "styles",
    "torch_autograd",
    "finite_diff",
    "error_model",
    "compare",
    "diagnose",
    "shrink",
    "sandbox",
]
