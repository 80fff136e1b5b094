"""Jupyter notebooks and their exports as Python source.

``.ipynb`` files are read with nbformat (any nbformat version, upgraded to v4); their code cells are
joined in order. IPython-only lines become ``pass`` so the rest parses and keeps its line numbers:
line magics (``%matplotlib inline``), shell lines (``!pip install ...``, ``files = !ls``), help
(``np.dot?``). A cell magic decides its cell: ``%%time``/``%%capture`` cells run their code, cells of
another language (``%%bash``, ``%%html``, ``%%writefile``) are dropped, and so is a cell that defines
no function or class and parses neither as Python 3 nor as Python 2 (Jupyter runs cells one by one).
Messages name the cell:
``cell 12, line 3`` (``Notebook.where``).

nbconvert ``.py`` exports need no reading here: their ``get_ipython().run_line_magic(...)`` lines
are top-level script code, which the loader never runs.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Notebook", "NotebookError", "read_notebook", "strip_magics"]

# Cell magics whose body is still Python.
_PYTHON_CELL_MAGICS = ("time", "timeit", "capture", "prun", "debug", "autoreload", "tensorflow_version")
# `x = !ls`, `x = %time f()`: an assignment from a shell or magic line
_MAGIC_ASSIGN = re.compile(r"^\s*[\w.,\s\[\]]+=\s*[!%]")
_HELP = re.compile(r"^\s*[\w.]+\s*\?{1,2}\s*$|^\s*\?{1,2}\s*[\w.]+\s*$")


class NotebookError(Exception):
    pass


@dataclass
class Notebook:
    source: str
    cells: list[tuple[int, int]] = field(default_factory=list)  # (first line, cell number), 1-based
    magic_lines: list[int] = field(default_factory=list)
    dropped_cells: list[tuple[int, str]] = field(default_factory=list)  # (cell number, magic)
    unparsed_cells: list[tuple[int, str]] = field(default_factory=list)  # (cell number, syntax error)

    def where(self, line: int | None) -> str:
        """'cell 12, line 3' for a line of the joined source."""
        if line is None:
            return "?"
        cell, first = None, 1
        for start, number in self.cells:
            if start > line:
                break
            cell, first = number, start
        return f"cell {cell}, line {line - first + 1}" if cell is not None else f"line {line}"


def _is_magic(stripped: str) -> bool:
    return (stripped.startswith(("%", "!")) and not stripped.startswith("!=")) or bool(
        _MAGIC_ASSIGN.match(stripped)) or bool(_HELP.match(stripped))


class _Logical:
    """Which physical lines continue a logical line (inside brackets or a string, after a backslash):
    black puts `% value` at the start of such lines, and that is Python, not a magic."""

    def __init__(self) -> None:
        self.depth = 0
        self.quote: str | None = None
        self.backslash = False

    def continues(self) -> bool:
        return self.depth > 0 or self.quote is not None or self.backslash

    def feed(self, line: str) -> None:
        j, n = 0, len(line)
        while j < n:
            c = line[j]
            if self.quote:
                if c == "\\":
                    j += 2
                    continue
                if line.startswith(self.quote, j):
                    j += len(self.quote)
                    self.quote = None
                    continue
            elif c == "#":
                break
            elif c in "\"'":
                self.quote = line[j:j + 3] if line[j:j + 3] in ('"""', "'''") else c
                j += len(self.quote)
                continue
            elif c in "([{":
                self.depth += 1
            elif c in ")]}":
                self.depth = max(0, self.depth - 1)
            j += 1
        body = line.rstrip("\n")
        self.backslash = body.endswith("\\") and self.quote is None
        if self.quote in ("'", '"') and not self.backslash:
            self.quote = None  # an unterminated one-line string: tolerate, do not swallow the cell


def strip_magics(source: str) -> tuple[str, list[int]]:
    """IPython-only lines replaced by ``pass`` (same indentation, so blocks stay valid); their lines.
    Only the start of a logical line can be a magic (`% value` continuing a bracket is the modulo)."""
    out, hit = [], []
    logical = _Logical()
    for i, line in enumerate(source.splitlines(keepends=True), start=1):
        stripped = line.lstrip()
        if logical.continues():
            logical.feed(line)
            out.append(line)
            continue
        if _is_magic(stripped.rstrip("\n")):
            hit.append(i)
            indent = line[: len(line) - len(stripped)]
            out.append(indent + "pass\n")
        else:
            logical.feed(line)
            out.append(line)
    return "".join(out), hit


def _plain_cells(text: str) -> list[dict]:
    """Code cells straight from the JSON (v4 ``cells``, v3 ``worksheets[].cells`` with ``input``)."""
    try:
        d = json.loads(text)
    except ValueError as e:
        raise NotebookError(f"not JSON: {e}") from None
    if not isinstance(d, dict):
        raise NotebookError("not a notebook object")
    cells = d.get("cells")
    if cells is None:
        cells = [c for ws in d.get("worksheets") or [] if isinstance(ws, dict) for c in ws.get("cells") or []]
    if not isinstance(cells, list):
        raise NotebookError("its cells are not a list")
    return [dict(c, source=c.get("source", c.get("input", ""))) for c in cells if isinstance(c, dict)]


def _cells(text: str) -> list[tuple[int, str]]:
    """(cell number counting every cell from 1, source) of each code cell."""
    try:
        import nbformat

        nb = nbformat.reads(text, as_version=4, capture_validation_error={})
        cells = nb.cells
    except Exception:  # noqa: BLE001 - nbformat refuses slightly malformed files; their code is still there
        cells = _plain_cells(text)
    out = []
    for number, cell in enumerate(cells, start=1):
        if cell.get("cell_type") != "code":
            continue
        src = cell.get("source", "")
        out.append((number, "".join(src) if isinstance(src, list) else str(src)))
    return out


_DEFINES = re.compile(r"^(async\s+def|def|class)\s", re.M)


def _unparsable(src: str, filename: str) -> str | None:
    """None when the cell parses as Python 3 or converts from Python 2; else 'line N: why'."""
    import ast

    try:
        ast.parse(src, filename=filename)
        return None
    except SyntaxError as e:
        why = f"line {e.lineno}: {e.msg}"
    try:
        from oracles import py2

        ast.parse(py2.convert(src, filename).source, filename=filename)
        return None
    except Exception:  # noqa: BLE001 - any failure of the converter means: not Python 2 either
        return why


def read_notebook(path: Path) -> Notebook:
    """The code cells of a .ipynb file as one Python source (IPython lines neutralised)."""
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        cells = _cells(text)
    except NotebookError as e:
        raise NotebookError(f"{path.name} is not a readable notebook ({e}); open and save it in Jupyter, or export "
                            f"it as a .py file (File > Download as > Python)") from None
    nb = Notebook(source="")
    parts: list[str] = []
    line = 1
    for number, src in cells:
        first = src.lstrip().splitlines()[0] if src.strip() else ""
        if first.startswith("%%"):
            magic = first[2:].split()[0] if first[2:].split() else ""
            if magic not in _PYTHON_CELL_MAGICS:
                nb.dropped_cells.append((number, f"%%{magic}"))
                continue
        src, magics = strip_magics(src)
        if not src.endswith("\n"):
            src += "\n"
        broken = _unparsable(src, path.name)
        if broken and not _DEFINES.search(src):
            # Jupyter runs each cell alone: a test cell that does not parse here (an f-string with nested
            # quotes, valid from Python 3.12) never stopped the notebook's functions from being defined
            nb.unparsed_cells.append((number, broken))
            continue
        nb.cells.append((line, number))
        nb.magic_lines += [line + m - 1 for m in magics]
        parts.append(src)
        line += src.count("\n")
    nb.source = "".join(parts)
    return nb
