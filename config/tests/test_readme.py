"""The README stays short and points into docs/; every relative link of the README and the documentation
pages leads to a file that exists (mkdocs build --strict checks the site's own links and anchors too)."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
README_MAX_LINES = 200

FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+\"[^\"]*\")?\s*$", re.MULTILINE)
SNIPPET = re.compile(r"^--8<--\s+\"([^\"]+)\"\s*$", re.MULTILINE)
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)  # http:, https:, mailto:


def markdown_files() -> list[Path]:
    return [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]


def relative_links(path: Path) -> list[str]:
    text = INLINE_CODE.sub("", FENCE.sub("", path.read_text()))
    targets = LINK.findall(text) + REFERENCE.findall(text)
    return [target for target in targets if not EXTERNAL.match(target) and not target.startswith("#")]


def test_readme_is_short():
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= README_MAX_LINES, (
        f"README.md has {len(lines)} lines (at most {README_MAX_LINES}): move the substance into docs/"
    )


def test_readme_points_into_the_docs():
    assert any(link.startswith("docs/") for link in relative_links(ROOT / "README.md"))


def test_every_relative_link_leads_to_a_file():
    broken = []
    for path in markdown_files():
        for target in relative_links(path):
            file_part = target.split("#", 1)[0].split("?", 1)[0]
            if file_part and not (path.parent / file_part).exists():
                broken.append(f"{path.relative_to(ROOT)}: {target}")
    assert not broken, "broken relative links:\n" + "\n".join(broken)


def test_the_link_finder_sees_links_but_not_code(tmp_path):
    sample = tmp_path / "sample.md"
    sample.write_text(
        "[a](a.md) [b](../b.md#part) [web](https://example.com) [here](#top) ![i](img.png)\n"
        "`[not](code.md)`\n```\n[not](fenced.md)\n```\n[ref]: c.md\n"
    )
    assert relative_links(sample) == ["a.md", "../b.md#part", "img.png", "c.md"]


def test_included_files_exist():
    missing = [
        f"{path.relative_to(ROOT)}: {included}"
        for path in DOCS.rglob("*.md")
        for included in SNIPPET.findall(path.read_text())
        if not (ROOT / included).is_file()
    ]
    assert not missing, f"snippets that include a missing file: {missing}"


def test_every_decision_record_is_listed_in_the_index():
    index = (DOCS / "decisions" / "index.md").read_text()
    records = sorted(p.name for p in (DOCS / "decisions").glob("[0-9][0-9][0-9][0-9]-*.md"))
    assert records, "no decision records"
    unlisted = [name for name in records if f"]({name})" not in index]
    assert not unlisted, f"docs/decisions/index.md does not list: {unlisted}"
    numbers = [name[:4] for name in records]
    assert len(numbers) == len(set(numbers)), "two decision records share a number"


def test_the_staff_guide_pictures_are_all_shown_and_small():
    """docs/staff/img holds what `make docs-screenshots` takes: each picture shown by a page, none
    heavier than a page should carry."""
    pictures = sorted((DOCS / "staff" / "img").glob("*.png"))
    pages = "".join(path.read_text() for path in (DOCS / "staff").glob("*.md"))
    assert pictures
    assert [picture.name for picture in pictures if f"(img/{picture.name})" not in pages] == []
    assert [picture.name for picture in pictures if picture.stat().st_size > 200_000] == []
