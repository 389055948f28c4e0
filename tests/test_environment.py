"""The pinned environment: requirements.txt and environment.yml agree; torchvision loads."""
from __future__ import annotations

import re

from lattice_utils.core import paths


def _requirements():
    pins = {}
    for line in (paths.ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, version = line.split("==")
            pins[name.lower()] = version
    return pins


def _environment_yml():
    pins = {}
    for line in (paths.ROOT / "environment.yml").read_text().splitlines():
        m = re.match(r"^\s*-\s+([A-Za-z0-9_.\-]+)\s*(==|=)\s*([^\s#]+)\s*$", line)
        if m and m.group(1) != "python":
            pins[m.group(1).lower()] = m.group(3)
    return pins


def test_requirements_and_environment_yml_carry_the_same_pins():
    req, env = _requirements(), _environment_yml()
    assert req == env, {k: (req.get(k), env.get(k)) for k in set(req) | set(env)
                        if req.get(k) != env.get(k)}
    assert req["torch"] == "2.13.0" and req["torchvision"] == "0.28.0"


def test_installed_versions_match_the_pins():
    from importlib.metadata import version

    for name, pinned in _requirements().items():
        assert version(name).split("+")[0] == pinned, name


def test_torchvision_imports_and_builds_densenet121():
    from lattice_utils.core.compat import import_torchvision

    tv = import_torchvision()
    model = tv.models.densenet121(weights=None, num_classes=5)
    assert model.classifier.out_features == 5
    from torchvision import transforms  # noqa: F401  (pure-Python parts work)


def test_no_absolute_paths_in_module_or_notebooks():
    offenders = []
    for f in list((paths.ROOT / "lattice_utils").rglob("*.py")) + list(paths.NOTEBOOKS.glob("*.ipynb")):
        text = f.read_text()
        if re.search(r"(/work/|/home/|/root/|/tmp/|C:\\\\)", text):
            offenders.append(paths.relative(f))
    assert not offenders


def test_scratch_dirs_redirects_every_generated_location(scratch_dirs):
    from pathlib import Path

    from lattice_utils.core import paths

    generated = paths.layout(Path("d"), Path("o"))
    fixed = {"ROOT", "NOTEBOOKS", "PAPER_VALUES", "DOCS"}       # parts of the checkout, never written by a run
    constants = {k for k, v in vars(paths).items() if k.isupper() and isinstance(v, Path)}
    assert constants - fixed == set(generated), "a path constant of paths.py is missing from paths.layout"
    for name in generated:
        assert scratch_dirs in getattr(paths, name).parents or getattr(paths, name) == scratch_dirs, name


def test_path_constants_are_the_layout_of_the_environments_roots():
    from lattice_utils.core import paths

    for name, value in paths._LAYOUT.items():
        assert getattr(paths, name) == value, name
    assert paths.RAW == paths.DATA / "raw" and paths.SITE == paths.REPORTS / "site"
