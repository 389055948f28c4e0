"""Every numbered figure and table of the papers is claimed by a notebook or listed as not
reproduced, with the reason; the claims name real paper items."""
from __future__ import annotations

import re

import pytest

from lattice_utils.core import paths
from lattice_utils.repro import outputs as M

SEEDS = paths.ROOT.parent / "shared" / "seeds"


def test_every_numbered_item_is_claimed_or_explained():
    claimed = M.claimed_items()
    missing = [f"{d} {it}" for d, items in M.PAPER_ITEMS.items() for it in items
               if f"{d} {it}" not in claimed and f"{d} {it}" not in M.NOT_REPRODUCED]
    assert not missing, missing
    for key in list(claimed) + list(M.NOT_REPRODUCED):
        doc, item = key.split(" ", 1)
        assert item in M.PAPER_ITEMS[doc], key
    assert not set(claimed) & set(M.NOT_REPRODUCED)
    assert all(len(why) > 20 for why in M.NOT_REPRODUCED.values())


def test_every_notebook_is_in_the_registry():
    assert sorted(M.CLAIMS) == sorted(p.name for p in paths.NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the papers' texts are not next to this checkout")
def test_the_item_list_matches_the_papers_texts():
    pat = re.compile(r"(Supplementary Fig\.|Supplementary Table|SI Table|Figure|Fig\.|Table)[ ~]?(S?\d+|[A-Z])\b")
    for doc, items in M.PAPER_ITEMS.items():
        text = next(SEEDS.glob(f"{doc}_*.txt")).read_text()
        found = set()
        for kind, num in pat.findall(text):
            kind = {"Figure": "Fig.", "SI Table": "Table"}.get(kind, kind)
            if kind == "Table" and doc == "003":
                continue            # 003 cites only its Supplementary Table 1
            found.add(f"{kind} {num}")
        found = {f for f in found if not re.fullmatch(r"(Fig\.|Table) [A-Z]", f) or doc == "004"}
        assert found <= set(items), (doc, sorted(found - set(items)))


def test_citation_and_licence_files():
    import yaml
    cff = yaml.safe_load((paths.ROOT / "CITATION.cff").read_text())
    for key in ("cff-version", "message", "title", "authors", "license"):
        assert key in cff, key
    assert cff["license"] == "MIT" and "MIT License" in (paths.ROOT / "LICENSE").read_text()
    assert len(cff["references"]) == len(M.DOCUMENTS)


def test_nothing_outside_the_tests_points_outside_the_repository():
    """A reader of the repository has none of its neighbours: no README, notebook, doc or module
    names the folder the papers' texts came from (a test may read them where they are present)."""
    import subprocess

    files = subprocess.run(["git", "ls-files"], cwd=paths.ROOT, capture_output=True, text=True,
                           check=True).stdout.split()
    bad = []
    for name in files:
        if name.startswith("tests/") or not name.endswith((".md", ".py", ".ipynb", ".sh", ".cff", ".toml", ".yml",
                                                            ".txt", ".csv", ".json")):
            continue
        text = (paths.ROOT / name).read_text(errors="replace")
        if re.search(r"\.\./shared\b|shared/seeds|shared/data", text):
            bad.append(name)
    assert not bad, bad


def test_a_paper_is_cited_by_its_short_name_never_by_its_file_number():
    import pandas as pd

    from lattice_utils.repro import report

    assert M.cite("000 Table S1") == "Chakrabarty et al. (main paper), Table S1"
    assert M.cite("004 section 3.2 (\"60%\")") == "XRD zone-axis paper, section 3.2 (\"60%\")"
    assert M.cite("JARVIS-Leaderboard") == "JARVIS-Leaderboard"
    ours = pd.DataFrame({"dataset": ["jv2d", "c2db"], "model": ["densenet121", "googlenet"]})
    cited = report.beside_paper(ours, "table_s1", ["dataset", "model"], ["accuracy_pct"])["paper_source"]
    assert list(cited) == ["Chakrabarty et al. (main paper), Table S1"] * 2
    # the notebooks' own text names no paper by its number either
    for nb in sorted(paths.NOTEBOOKS.glob("*.ipynb")):
        hits = re.findall(r"\b00[0-4] (?:Table|Fig|Figure|section|Supplementary)", nb.read_text())
        assert not hits, f"{nb.name} names a paper by its file number: {hits[:3]}"


def test_the_papers_values_reach_tables_with_the_papers_names():
    from lattice_utils.repro import report

    # every table a notebook builds from the paper's values (Table 1's baseline, Table S6 as
    # printed, ...) takes the source column from here
    for csv in sorted(paths.PAPER_VALUES.glob("*.csv")):
        sources = report.paper_values(csv.stem)["source"].dropna().astype(str)
        numbered = [s for s in sources if re.match(r"00[0-9]\b", s)]
        assert not numbered, f"{csv.name}: sources shown by file number: {numbered[:3]}"
    assert report.paper_values("table_1")["source"].iloc[0] == "Chakrabarty et al. (main paper), Table 1"


def test_the_published_pages_name_no_paper_by_its_file_number():
    pages = [paths.ROOT / "README.md", *sorted((paths.ROOT / "docs").rglob("*.md")),
             *sorted((paths.ROOT / "docs").rglob("*.ipynb"))]
    for page in pages:
        hits = re.findall(r"\b00[0-4] (?:Table|Fig|Figure|section|Supplementary|SI|main text)", page.read_text())
        assert not hits, f"{page.relative_to(paths.ROOT)} names a paper by its file number: {hits[:3]}"
