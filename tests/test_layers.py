"""The package's floors are a contract: each subpackage imports only those below it
(``[tool.importlinter]`` in pyproject.toml), each says what it holds, and an import hidden in a
function says why it is there."""
from __future__ import annotations

import ast
import importlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from lattice_utils.core import paths
from lattice_utils.repro import package_map

PACKAGE = paths.ROOT / "lattice_utils"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(cwd: Path, env_path: Path | None = None) -> subprocess.CompletedProcess:
    env = None if env_path is None else dict(os.environ, PYTHONPATH=str(env_path))
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", "--config", "pyproject.toml"], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_the_package_keeps_its_floors():
    out = lint_imports(paths.ROOT)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert "lattice_utils floors KEPT" in out.stdout


def test_an_import_up_a_floor_breaks_the_contract(tmp_path):
    """The same kind of contract on a two-floor package whose ground floor imports the floor above:
    the check must fail, naming the import (a contract that cannot fail checks nothing)."""
    pkg = tmp_path / "house"
    for name, code in {"__init__.py": "", "core/__init__.py": "", "core/paths.py": "from ..repro import report\n",
                       "repro/__init__.py": "", "repro/report.py": "X = 1\n"}.items():
        (pkg / name).parent.mkdir(parents=True, exist_ok=True)
        (pkg / name).write_text(code)
    (tmp_path / "pyproject.toml").write_text(textwrap.dedent("""\
        [tool.importlinter]
        root_package = "house"

        [[tool.importlinter.contracts]]
        name = "house floors"
        type = "layers"
        layers = ["repro", "core"]
        containers = ["house"]
        """))
    out = lint_imports(tmp_path, env_path=tmp_path)
    assert out.returncode != 0
    assert "house floors BROKEN" in out.stdout and "house.core.paths -> house.repro.report" in out.stdout


def _subpackages() -> list[str]:
    return sorted(p.parent.name for p in PACKAGE.glob("*/__init__.py"))


def test_every_subpackage_says_what_it_holds_and_lists_every_module():
    for name in _subpackages():
        module = importlib.import_module(f"lattice_utils.{name}")
        files = sorted(p.stem for p in (PACKAGE / name).glob("*.py") if p.stem != "__init__")
        assert module.__doc__ and len(module.__doc__.strip()) > 40, f"lattice_utils/{name}/__init__.py has no docstring"
        assert sorted(module.__all__) == files, f"lattice_utils/{name}.__all__ is not its modules {files}"
        for mod in files:        # the docstring has a line for each module
            assert f"``{mod}``" in module.__doc__, f"lattice_utils/{name}/__init__.py says nothing of {mod}"


def test_the_top_level_holds_few_modules_besides_the_floors():
    top = sorted(p.stem for p in PACKAGE.glob("*.py"))
    assert len(top) <= 10, top
    import lattice_utils

    assert sorted(lattice_utils.__all__) == sorted(_subpackages() + [t for t in top if not t.startswith("__")])


def _function_level_imports(source: str):
    tree = ast.parse(source)
    for fn in ast.walk(tree):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(fn):
                if isinstance(node, ast.ImportFrom) and node.level > 0:
                    yield node


def test_an_import_of_the_package_inside_a_function_says_why():
    """The package's own modules are imported at the top of a module, where its floor shows; one
    imported inside a function (to keep torch or matplotlib out of a light command) carries a
    comment on its line or the line above."""
    silent = []
    for f in sorted(PACKAGE.rglob("*.py")):
        lines = f.read_text().splitlines()
        for node in _function_level_imports(f.read_text()):
            here, above = lines[node.lineno - 1], lines[node.lineno - 2].strip()
            if "#" not in here and not above.startswith("#"):
                silent.append(f"{paths.relative(f)}:{node.lineno}: {here.strip()}")
    assert not silent, "imports inside functions without a reason:\n" + "\n".join(silent)


def test_the_comment_rule_sees_a_silent_import():
    code = "def f():\n    from . import plots\n    return plots\n\n\ndef g():\n    # why\n    from . import plots\n"
    found = list(_function_level_imports(code))
    assert [n.lineno for n in found] == [2, 8]


def test_the_design_pages_module_list_follows_the_code():
    text = package_map.DESIGN.read_text()
    block = text.split("<!-- modules:start -->", 1)[1].split("<!-- modules:end -->", 1)[0]
    assert block.strip() == package_map.module_list().strip(), \
        "docs/design.md's module list is stale: python -m lattice_utils.repro.package_map rewrites it"
