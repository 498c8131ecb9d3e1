"""The code blocks of README.md and of the documentation, as the docs tests read them.

:func:`find_pages` lists the pages (README.md and the sources of the
documentation, none of what its build writes); :func:`rst_blocks` and
:func:`markdown_blocks` return the code blocks of a page as :class:`Block`
objects, with the line they start on and the reason of a ``skip-test`` marker
before them. ``tests/test_docs.py`` runs the Python ones and checks the rest.
"""

import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
# What the documentation build writes into docs/; none of it is a source page.
GENERATED = {"_build", "auto_examples", "generated", "sg_execution_times.rst"}

PYTHON = {"python", "python3", "py"}
SKIP_RST = re.compile(r"^\s*\.\. skip-test:\s*(?P<reason>\S.*?)\s*$")
SKIP_MD = re.compile(r"^\s*<!--\s*skip-test:\s*(?P<reason>\S.*?)\s*-->\s*$")
CODE_DIRECTIVE = re.compile(
    r"^(?P<indent>\s*)\.\. (?:code-block|code|sourcecode)::\s*(?P<language>\S*)\s*$"
)
FENCE = re.compile(r"^(?P<indent>\s*)```\s*(?P<language>[\w+-]*)\s*$")


@dataclass(frozen=True)
class Block:
    """A code block of a page.

    Attributes
    ----------
    page : Path
        The page the block is on.
    line : int
        The line of the page on which the block's code starts (1-based).
    language : str
        The language the block is marked with, lower case; '' if none.
    code : str
        The code, dedented.
    skip : str or None
        Why the block must not run, from a ``skip-test`` marker; None if it
        runs.
    """

    page: Path
    line: int
    language: str
    code: str
    skip: str | None = None

    @property
    def where(self):
        """The page and line, as ``path:line`` relative to the repository."""
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def _previous_text_line(lines, index):
    """Return the last non-blank line before ``lines[index]``, or ''."""
    for line in reversed(lines[:index]):
        if line.strip():
            return line
    return ""


def indent_of(line):
    """The number of whitespace characters that ``line`` starts with."""
    return len(line) - len(line.lstrip())


def rst_blocks(page, text=None):
    """Return the code blocks of a reST page, in page order.

    Parameters
    ----------
    page : Path
        The page; read unless ``text`` is given.
    text : str, optional
        The page's text.

    Returns
    -------
    list of Block
        Every ``code-block`` directive, and every ``::`` literal block (with
        language ``'::'``), with its code dedented.
    """
    lines = (page.read_text(encoding="utf-8") if text is None else text).split("\n")
    blocks = []
    i = 0
    while i < len(lines):
        line = lines[i]
        directive = CODE_DIRECTIVE.match(line)
        literal = (
            not directive
            and line.rstrip().endswith("::")
            and not line.lstrip().startswith("..")
        )
        if not (directive or literal):
            i += 1
            continue
        indent = indent_of(line)
        if directive:
            language = directive["language"].lower()
            marker = SKIP_RST.match(_previous_text_line(lines, i))
        else:
            # The block is indented relative to the paragraph that ends in
            # "::", whose first line may sit above this one.
            language, marker = "::", None
            j = i
            while j > 0 and lines[j - 1].strip() and indent_of(lines[j - 1]) == indent:
                j -= 1
            indent = indent_of(lines[j])
        i += 1
        # A directive's options, then the blank line before its content.
        while i < len(lines) and (
            not lines[i].strip()
            or (
                directive
                and lines[i].lstrip().startswith(":")
                and indent_of(lines[i]) > indent
            )
        ):
            i += 1
        start = i
        while i < len(lines) and (not lines[i].strip() or indent_of(lines[i]) > indent):
            i += 1
        code = textwrap.dedent("\n".join(lines[start:i])).strip("\n")
        if code:
            blocks.append(
                Block(
                    page=page,
                    line=start + 1,
                    language=language,
                    code=code + "\n",
                    skip=marker["reason"] if marker else None,
                )
            )
    return blocks


def markdown_blocks(page, text=None):
    """Return the fenced code blocks of a Markdown page, in page order.

    Parameters
    ----------
    page : Path
        The page; read unless ``text`` is given.
    text : str, optional
        The page's text.

    Returns
    -------
    list of Block
        Every fenced block, with its info string as the language.
    """
    lines = (page.read_text(encoding="utf-8") if text is None else text).split("\n")
    blocks = []
    i = 0
    while i < len(lines):
        fence = FENCE.match(lines[i])
        if not fence:
            i += 1
            continue
        marker = SKIP_MD.match(_previous_text_line(lines, i))
        start = i + 1
        end = start
        while end < len(lines) and lines[end].strip() != "```":
            end += 1
        code = textwrap.dedent("\n".join(lines[start:end]))
        blocks.append(
            Block(
                page=page,
                line=start + 1,
                language=fence["language"].lower(),
                code=code + "\n",
                skip=marker["reason"] if marker else None,
            )
        )
        i = end + 1
    return blocks


def page_blocks(page):
    """Return the code blocks of a README.md or reST page.

    Parameters
    ----------
    page : Path
        A ``.md`` or ``.rst`` file.

    Returns
    -------
    list of Block
    """
    return markdown_blocks(page) if page.suffix == ".md" else rst_blocks(page)


def python_blocks(page):
    """Return the Python blocks of a page: the ones test_docs.py runs.

    Parameters
    ----------
    page : Path
        A ``.md`` or ``.rst`` file.

    Returns
    -------
    list of Block
    """
    return [block for block in page_blocks(page) if block.language in PYTHON]


def find_pages():
    """README.md and every source page of the documentation, sorted."""
    pages = [ROOT / "README.md"]
    for path in sorted([*DOCS.rglob("*.rst"), *DOCS.rglob("*.md")]):
        parts = path.relative_to(DOCS).parts
        if not GENERATED.intersection(parts) and not parts[0].startswith("_"):
            pages.append(path)
    return pages
