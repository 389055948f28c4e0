"""The package's public interface is declared and documented: every module lists its public names
in ``__all__``; every name another module or a notebook takes from a module is in that list; and
every public function documents its parameters and what it returns (Google style, ``Args:`` and
``Returns:``, with units where a quantity has one), every public class says what it is."""
from __future__ import annotations

import ast
import importlib
from pathlib import Path

import nbformat
import pytest

from lattice_utils.core import paths

PACKAGE = paths.ROOT / "lattice_utils"
MODULES = sorted(p for p in PACKAGE.rglob("*.py") if p.name not in ("__init__.py", "__main__.py"))


def dotted(path: Path) -> str:
    return ".".join(path.relative_to(paths.ROOT).with_suffix("").parts)


def declared(path: Path) -> list[str] | None:
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            return list(ast.literal_eval(node.value))
    return None


@pytest.mark.parametrize("path", MODULES, ids=lambda p: dotted(p))
def test_every_module_declares_its_public_names(path):
    names = declared(path)
    assert names is not None, f"{paths.relative(path)} has no __all__"
    module = importlib.import_module(dotted(path))
    missing = [n for n in names if not hasattr(module, n)]
    assert not missing, f"{paths.relative(path)}: __all__ names {missing}, which it does not define"
    assert len(set(names)) == len(names), f"{paths.relative(path)}: __all__ repeats a name"


def _uses(tree: ast.AST, resolve) -> set[tuple[str, str]]:
    """(module, name) pairs that ``tree`` takes from package modules: ``from m import name`` and
    ``alias.name`` of an imported module. ``resolve`` turns an ImportFrom into an absolute module."""
    out, aliases = set(), {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = resolve(node)
            if not base or not base.startswith("lattice_utils"):
                continue
            for a in node.names:
                sub = f"{base}.{a.name}"
                if (PACKAGE.parent / (sub.replace(".", "/") + ".py")).exists():
                    aliases[a.asname or a.name] = sub
                elif (PACKAGE.parent / sub.replace(".", "/")).is_dir():
                    continue
                else:
                    out.add((base, a.name))
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases:
            out.add((aliases[node.value.id], node.attr))
    return out


def _package_resolver(path: Path):
    package = dotted(path).rpartition(".")[0] if path.name != "__init__.py" else dotted(path.parent)

    def resolve(node: ast.ImportFrom) -> str | None:
        if not node.level:
            return node.module
        parts = package.split(".")
        parts = parts[:len(parts) - node.level + 1]
        return ".".join(parts + ([node.module] if node.module else []))
    return resolve


def _consumers() -> set[tuple[str, str, str]]:
    """(who, module, name) for every package module, notebook and benchmark."""
    found = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        for mod, name in _uses(ast.parse(path.read_text()), _package_resolver(path)):
            if mod != dotted(path):
                found.add((paths.relative(path), mod, name))
    absolute = lambda node: node.module if not node.level else None  # noqa: E731
    for nb in sorted(paths.NOTEBOOKS.glob("*.ipynb")):
        code = "\n".join(c.source for c in nbformat.read(nb, as_version=4).cells if c.cell_type == "code")
        code = "\n".join("" if ln.lstrip().startswith(("%", "!")) else ln for ln in code.splitlines())
        found |= {(nb.name, m, n) for m, n in _uses(ast.parse(code), absolute)}
    for path in sorted((paths.ROOT / "benchmarks").glob("*.py")):
        found |= {(paths.relative(path), m, n) for m, n in _uses(ast.parse(path.read_text()), absolute)}
    return found


def test_every_name_taken_from_a_module_is_in_its_all():
    undeclared = []
    for who, mod, name in sorted(_consumers()):
        path = PACKAGE.parent / (mod.replace(".", "/") + ".py")
        if name.startswith("__") or not path.exists():
            continue
        names = declared(path)
        if names is not None and name not in names:
            undeclared.append(f"{who} uses {mod}.{name}")
    assert not undeclared, "names used outside their module but not in its __all__:\n" + "\n".join(undeclared)


def _returns_value(fn: ast.FunctionDef) -> bool:
    for node in ast.walk(fn):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) and node is not fn:
            continue
        if isinstance(node, ast.Return) and node.value is not None and not (
                isinstance(node.value, ast.Constant) and node.value.value is None):
            return True
    return False


def _params(fn: ast.FunctionDef) -> list[str]:
    a = fn.args
    names = [x.arg for x in a.posonlyargs + a.args + a.kwonlyargs]
    names += [f"*{a.vararg.arg}"] if a.vararg else []
    names += [f"**{a.kwarg.arg}"] if a.kwarg else []
    return [n for n in names if n not in ("self", "cls")]


def undocumented(path: Path, label: str | None = None) -> list[str]:
    """What the public functions and classes of ``path`` (named ``label`` in the messages) leave
    undocumented."""
    tree = ast.parse(path.read_text())
    names = set(declared(path) or [])
    problems = []
    for node in tree.body:
        if not isinstance(node, (ast.FunctionDef, ast.ClassDef)) or node.name not in names:
            continue
        doc = ast.get_docstring(node) or ""
        where = f"{label or paths.relative(path)}:{node.lineno} {node.name}"
        if not doc:
            problems.append(f"{where}: no docstring")
            continue
        if isinstance(node, ast.FunctionDef):
            params = _params(node)
            if params and "Args:" not in doc:
                problems.append(f"{where}: no Args: section")
            elif params:
                section = doc.split("Args:", 1)[1]
                for p in params:
                    if not any(line.strip().startswith((f"{p}:", f"{p} (")) for line in section.splitlines()):
                        problems.append(f"{where}: Args: lacks {p}")
            if _returns_value(node) and "Returns:" not in doc and "Yields:" not in doc:
                problems.append(f"{where}: no Returns: section")
    return problems


@pytest.mark.parametrize("path", MODULES, ids=lambda p: dotted(p))
def test_every_public_function_documents_its_parameters_and_result(path):
    problems = undocumented(path)
    assert not problems, "\n".join(problems)


def test_the_docstring_rule_sees_what_is_missing(tmp_path):
    f = tmp_path / "m.py"
    f.write_text('__all__ = ["good", "bare", "half"]\n\n\n'
                 'def good(x, *, unit="A"):\n    """Scale.\n\n    Args:\n        x: length (Å).\n'
                 '        unit: its unit.\n\n    Returns:\n        The length (Å)."""\n    return x\n\n\n'
                 'def bare(x):\n    return x\n\n\n'
                 'def half(x, y):\n    """Sum.\n\n    Args:\n        x: one.\n    """\n    return x + y\n\n\n'
                 'def _private(x):\n    return x\n')
    problems = [p.split(" ", 1)[1] for p in undocumented(f, "m.py")]
    assert problems == ["bare: no docstring", "half: Args: lacks y", "half: no Returns: section"]

