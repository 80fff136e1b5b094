"""Campaigns, renderers and the bpcheck command line.

``campaign`` (subjects x cases x oracles), ``render`` (Markdown, HTML, JSON, JUnit), ``validate``
(student files), ``mutation_run`` (the kill matrix), ``cli`` (the thin ``bpcheck`` layer whose
commands live in ``*_cmd`` modules).
"""

__all__ = ["campaign", "render", "validate", "mutation_run", "cli"]
