"""Every Python block of README.md and of the documentation runs as written.

Each page is one test: its Python blocks run top to bottom in one namespace,
as a reader pasting them into one session would run them (the namespace is
the session's ``__main__`` module, so that pickle and ``save_model`` find the
functions a page defines, as in a script), in a temporary
working directory (files the blocks write land there), offline, with one BLAS
thread and matplotlib's non-interactive backend. The short fits of the pages
may stop before converging, so ``ConvergenceWarning`` is ignored; any
exception fails the page, and the traceback points at the line of the page.

A Python block is one that Sphinx highlights as Python: ``.. code-block::
python`` (or ``code``, ``sourcecode``; ``python3``, ``py``) in reST, and a
```` ```python ```` fence in Markdown. A reST block that Sphinx would show as
Python without saying so, a plain ``::`` literal block or a ``code-block``
without a language, fails :func:`test_python_is_marked_as_python` when its
text is valid Python: mark it ``.. code-block:: python``, so that it runs
here, or ``.. code-block:: text``.

Blocks that must not run
------------------------
Only a block that needs a cluster or a network may be left out. Mark it with
a comment that gives the reason, on the last non-blank line before it. In
reST::

    .. skip-test: needs a dask cluster

    .. code-block:: python

and in Markdown::

    <!-- skip-test: needs a network connection -->
    ```python

A skipped block is still compiled, so a syntax error in it fails its page,
and it is reported as a skipped test of its own whose message gives the page,
the line and the reason (``pytest -ra`` lists them).

The end of the module checks claims the pages make about results, and that
their formulas display offline: the build converts them to MathML
(``docs/_ext/mathml.py``) instead of loading MathJax from a CDN.
"""

import ast
import html
import re
import socket
import sys
import textwrap
import types
from pathlib import Path

import matplotlib

# Select a non-interactive backend before pyplot is first imported anywhere.
matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from _doc_pages import (  # noqa: E402
    CODE_DIRECTIVE,
    DOCS,
    FENCE,
    PYTHON,
    ROOT,
    SKIP_MD,
    SKIP_RST,
    Block,
    find_pages,
    indent_of,
    markdown_blocks,
    page_blocks,
    python_blocks,
    rst_blocks,
)
from _extras import import_extra  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

# Optional packages that a page's blocks import (from the test and dask
# extras): without them the page is skipped locally, and fails on CI.
PAGE_NEEDS = {
    "docs/scaling_out.rst": ["dask", "distributed", "dask_ml"],
    "docs/persistence.rst": ["skops"],
    "docs/user_guide/deploying.rst": ["skl2onnx", "onnxruntime"],
}


PAGES = find_pages()
PAGES_WITH_CODE = [page for page in PAGES if python_blocks(page)]
SKIPPED_BLOCKS = [
    block for page in PAGES_WITH_CODE for block in python_blocks(page) if block.skip
]


def _page_id(page):
    return str(page.relative_to(ROOT))


def _compile(block):
    """Compile a block so that tracebacks show the page's own lines."""
    source = "\n" * (block.line - 1) + block.code
    return compile(source, str(block.page), "exec")


# --------------------------------------------------------------------------
# Running the pages
# --------------------------------------------------------------------------


@pytest.fixture
def reader_session(monkeypatch, tmp_path):
    """A scratch directory, no network, one BLAS thread, no windows."""

    def refuse(*args, **kwargs):
        raise OSError(
            "the documentation's blocks run offline; mark a block that needs "
            "the network with a skip-test comment"
        )

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.chdir(tmp_path)
    with threadpool_limits(limits=1, user_api="blas"):
        yield tmp_path
    plt.close("all")


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("page", PAGES_WITH_CODE, ids=_page_id)
def test_page_runs_top_to_bottom(page, reader_session, monkeypatch):
    for name in PAGE_NEEDS.get(_page_id(page), []):
        import_extra(name)
    blocks = python_blocks(page)
    compiled = [_compile(block) for block in blocks]
    session = types.ModuleType("__main__")
    monkeypatch.setitem(sys.modules, "__main__", session)
    namespace = vars(session)
    for block, code in zip(blocks, compiled, strict=True):
        if block.skip is None:
            exec(code, namespace)


@pytest.mark.parametrize("block", SKIPPED_BLOCKS, ids=lambda block: block.where)
def test_skipped_block(block):
    pytest.skip(f"{block.where}: {block.skip}")


def test_every_page_is_found():
    names = {_page_id(page) for page in PAGES_WITH_CODE}
    expected = {
        "README.md",
        "docs/index.rst",
        "docs/quick_start.rst",
        "docs/persistence.rst",
        "docs/scaling_out.rst",
        "docs/user_guide/validation.rst",
        "docs/user_guide/robust_training.rst",
        "docs/user_guide/regression.rst",
        "docs/user_guide/deploying.rst",
    }
    assert expected <= names


def test_python_is_marked_as_python():
    # Sphinx highlights a plain "::" block, or a code-block that names no
    # language, as Python when it parses as Python, so such a block reads as
    # code; it must then also run.
    for page in PAGES:
        if page.suffix != ".rst":
            continue
        for block in page_blocks(page):
            if block.language not in {"::", ""}:
                continue
            try:
                ast.parse(block.code)
            except SyntaxError:
                continue
            raise AssertionError(
                f"{block.where}: a block of Python that is never run; write "
                "'.. code-block:: python' (or '.. code-block:: text')"
            )


def test_skip_markers_give_a_reason_and_precede_a_python_block():
    for page in PAGES:
        markdown = page.suffix == ".md"
        lines = page.read_text(encoding="utf-8").split("\n")
        for i, line in enumerate(lines):
            if not line.lstrip().startswith(("<!-- skip-test", ".. skip-test")):
                continue
            where = f"{_page_id(page)}:{i + 1}"
            assert (SKIP_MD if markdown else SKIP_RST).match(line), (
                f"{where}: a skip-test marker needs a reason"
            )
            following = next((text for text in lines[i + 1 :] if text.strip()), "")
            opener = (FENCE if markdown else CODE_DIRECTIVE).match(following)
            assert opener and opener["language"].lower() in PYTHON, (
                f"{where}: a skip-test marker must stand just before a Python block"
            )


# --------------------------------------------------------------------------
# The block reader itself
# --------------------------------------------------------------------------

RST_SAMPLE = """\
Title
=====

.. code-block:: python
   :caption: Setup

   x = 1
   if x:
       y = 2

* A list item::

      z = x + y

.. skip-test: needs a dask cluster

.. code-block:: python

    client.run(print)

.. code-block:: text

    not python
"""

MD_SAMPLE = """\
```bash
echo hello
```

<!-- skip-test: needs a network connection -->
```python
fetch()
```

```python
a = 1
```
"""


def test_rst_reader():
    blocks = rst_blocks(Path("sample.rst"), RST_SAMPLE)
    assert [b.language for b in blocks] == ["python", "::", "python", "text"]
    assert blocks[0].code == "x = 1\nif x:\n    y = 2\n"
    assert blocks[0].line == 7 and blocks[0].skip is None
    assert blocks[1].code == "z = x + y\n"
    assert blocks[2].code == "client.run(print)\n"
    assert blocks[2].skip == "needs a dask cluster"
    assert blocks[3].skip is None


def test_markdown_reader():
    blocks = markdown_blocks(Path("sample.md"), MD_SAMPLE)
    assert [b.language for b in blocks] == ["bash", "python", "python"]
    assert blocks[1].skip == "needs a network connection"
    assert blocks[1].code == "fetch()\n"
    assert blocks[2].skip is None and blocks[2].line == 11


def test_tracebacks_point_at_the_page():
    block = Block(Path("page.rst"), line=12, language="python", code="1 / 0\n")
    with pytest.raises(ZeroDivisionError) as info:
        exec(_compile(block), {})
    frame = info.traceback[-1]
    # TracebackEntry.lineno counts from 0.
    assert Path(frame.path) == Path("page.rst") and frame.lineno + 1 == 12


# --------------------------------------------------------------------------
# Claims the pages make
# --------------------------------------------------------------------------

VALIDATION_PAGE = DOCS / "user_guide" / "validation.rst"
ROBUST_TRAINING_PAGE = DOCS / "user_guide" / "robust_training.rst"


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize(
    "params, task_name",
    [
        (dict(solver="adam"), "epoch"),
        (dict(solver="adam", early_stopping=True, n_iter_no_change=3), "epoch"),
        (dict(solver="lbfgs"), "lbfgs-iter"),
    ],
    ids=["adam", "adam-early-stopping", "lbfgs"],
)
def test_scoring_monitor_rows(small_digits, params, task_name):
    # validation.rst: one row per epoch (per iteration for lbfgs), counted
    # from 0, and one 'fit' row that scores the model fit returns.
    from sklearn.callback import ScoringMonitor

    from skbackprop import MLPBackpropClassifier

    X, y = small_digits
    monitor = ScoringMonitor(scoring=["accuracy"])
    clf = MLPBackpropClassifier(
        hidden_layer_sizes=(16,), max_iter=25, random_state=0, **params
    )
    clf.set_callbacks(monitor).fit(X, y)

    scores = monitor.get_logs().data_as_pandas
    counts = scores["task_name"].value_counts().to_dict()
    assert counts == {task_name: clf.n_iter_, "fit": 1}
    steps = scores[scores["task_name"] == task_name]
    assert steps["task_id"].tolist() == list(range(clf.n_iter_))
    fit_row = scores[scores["task_name"] == "fit"]
    assert fit_row["accuracy"].item() == pytest.approx(clf.score(X, y))

    text = VALIDATION_PAGE.read_text(encoding="utf-8")
    assert "one row for the fit as a whole" in text


def _report_rows(text):
    """Parse a printed ``check_gradients`` report into tuples of strings."""
    row = re.compile(
        r"^\s*\d+\s+(\d+)\s+(\w+)\s+(\([\d, ]*\))\s+(\d+)\s+(\S+)\s+(\S+)\s*$"
    )
    return [match.groups() for line in text.splitlines() if (match := row.match(line))]


def test_check_gradients_report_matches_the_page(reader_session):
    # robust_training.rst prints a report whose digits vary between
    # installations (numba or not, BLAS and its threads), as the page says;
    # its layout must match exactly, and its errors must be of the same size.
    blocks = rst_blocks(ROBUST_TRAINING_PAGE)
    index = next(
        i
        for i, block in enumerate(blocks)
        if block.language in PYTHON and "check_gradients(clf" in block.code
    )
    assert blocks[index + 1].language == "text"
    documented = _report_rows(blocks[index + 1].code)
    assert len(documented) == 6

    namespace = {"__name__": "__main__"}
    exec(_compile(blocks[index]), namespace)
    report = namespace["report"]
    assert list(report.columns) == [
        "layer",
        "parameter",
        "shape",
        "n_checked",
        "max_abs_error",
        "relative_error",
    ]
    assert len(report) == len(documented)
    for (_, got), expected in zip(report.iterrows(), documented, strict=True):
        layer, parameter, shape, n_checked, max_abs, relative = expected
        assert (got["layer"], got["parameter"]) == (int(layer), parameter)
        assert (str(tuple(got["shape"])), got["n_checked"]) == (shape, int(n_checked))
        for column, value in [("max_abs_error", max_abs), ("relative_error", relative)]:
            ratio = got[column] / float(value)
            assert 1e-2 < ratio < 1e2, (column, got[column], value)
        # "Relative errors around 1e-7 or below mean that the two agree."
        assert got["relative_error"] < 1e-6


# --------------------------------------------------------------------------
# Math that displays offline
# --------------------------------------------------------------------------

CONF = DOCS / "conf.py"
MATH_ROLE = re.compile(r":math:`(?P<latex>[^`]+)`")
MATH_DIRECTIVE = re.compile(r"^(?P<indent>\s*)\.\. math::(?P<argument>.*)$")


def _literal(node):
    """Evaluate a literal, or a dict with some literal values; else None."""
    if isinstance(node, ast.Dict):
        pairs = zip(node.keys, node.values, strict=True)
        return {_literal(key): _literal(value) for key, value in pairs}
    try:
        return ast.literal_eval(node)
    except ValueError:
        return None


def _conf_assignments():
    """Return the names docs/conf.py assigns at top level, with their values.

    Values that are not literals are None, and so are the non-literal values
    of a dict; docs/conf.py is read, not run.
    """
    tree = ast.parse(CONF.read_text(encoding="utf-8"))
    values = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    values[target.id] = _literal(node.value)
    return values


def _load_mathml_extension():
    import importlib.util

    import_extra("latex2mathml")
    spec = importlib.util.spec_from_file_location(
        "docs_ext_mathml", DOCS / "_ext" / "mathml.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def rst_math(text):
    """Return the formulas of reST text, as Sphinx hands them to a renderer.

    Parameters
    ----------
    text : str
        reST source.

    Returns
    -------
    list of tuple
        ``(line, latex, display)`` for every ``:math:`` role (``display``
        False) and every equation of every ``.. math::`` directive (True);
        equations of a directive are separated by blank lines.
    """
    formulas = []
    for match in MATH_ROLE.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        formulas.append((line, match["latex"].replace("\n", " "), False))
    lines = text.split("\n")
    for i, line in enumerate(lines):
        directive = MATH_DIRECTIVE.match(line)
        if not directive:
            continue
        indent = len(directive["indent"])
        argument = [directive["argument"].strip()]
        j = i + 1
        while j < len(lines) and lines[j].strip() and indent_of(lines[j]) > indent:
            if not lines[j].lstrip().startswith(":"):
                argument.append(lines[j].strip())
            j += 1
        body = []
        while j < len(lines) and (not lines[j].strip() or indent_of(lines[j]) > indent):
            body.append(lines[j])
            j += 1
        source = " ".join(part for part in argument if part)
        source += "\n\n" + textwrap.dedent("\n".join(body))
        for equation in source.split("\n\n"):
            if equation.strip():
                formulas.append((i + 1, equation.strip(), True))
    return formulas


def _math_sources():
    """The reST of every page and example, with its path."""
    for page in PAGES:
        if page.suffix == ".rst":
            yield page, page.read_text(encoding="utf-8")
    for example in sorted((ROOT / "examples").glob("*.py")):
        source = example.read_text(encoding="utf-8")
        # sphinx-gallery renders the docstring and the comment blocks as reST.
        docstring = ast.get_docstring(ast.parse(source), clean=False) or ""
        comments = "\n".join(
            line.strip()[2:] if line.strip() != "#" else ""
            for line in source.splitlines()
            if line.strip().startswith("#")
        )
        yield example, docstring + "\n\n" + comments


def test_docs_render_math_without_mathjax():
    # MathJax comes from a CDN; the build renders MathML instead.
    conf = _conf_assignments()
    assert conf["html_math_renderer"] == "mathml"
    assert "mathml" in conf["extensions"]
    assert "sphinx.ext.mathjax" not in conf["extensions"]
    assert not any(name.startswith("mathjax") for name in conf)
    assert (DOCS / "_ext" / "mathml.py").is_file()
    # sphinx-gallery's execution-time pages load jQuery and DataTables from
    # CDNs; they are not written.
    assert conf["sphinx_gallery_conf"]["write_computation_times"] is False


def test_every_formula_converts_to_mathml():
    extension = _load_mathml_extension()
    count = 0
    for path, text in _math_sources():
        for line, latex, display in rst_math(text):
            try:
                mathml = extension.to_mathml(latex, display)
            except ValueError as error:
                where = f"{path.relative_to(ROOT)}:{line}"
                raise AssertionError(f"{where}: {error}") from error
            assert mathml.startswith("<math") and "mathvariant" not in mathml
            count += 1
    # The math page alone has well over a hundred formulas.
    assert count > 150


def test_math_extension_details():
    extension = _load_mathml_extension()
    # \mathbb becomes Unicode's double-struck characters, which every
    # browser displays (Chrome ignores mathvariant="double-struck").
    for latex, char in [(r"\mathbb{1}", "\U0001d7d9"), (r"\mathbb{E}", "\U0001d53c")]:
        mathml = extension.to_mathml(latex + "[k = j]", False)
        assert char in html.unescape(mathml) and "mathvariant" not in mathml
    assert 'display="block"' in extension.to_mathml("a + b", True)
    with pytest.raises(ValueError, match="command"):
        extension.to_mathml(r"\notacommand x", False)
    with pytest.raises(ValueError, match="cannot convert"):
        extension.to_mathml("x^", False)
    # Remote scripts and style sheets are found, local ones are not.
    body = (
        '<script src="https://cdn.example.org/x.js"></script>'
        "<link rel='stylesheet' href='//cdn.example.org/x.css'>"
        '<script src="_static/local.js"></script>'
    )
    context = {"body": body, "script_files": ["_static/doctools.js"]}
    assert extension.remote_assets(context) == [
        "https://cdn.example.org/x.js",
        "//cdn.example.org/x.css",
    ]


def test_math_reader():
    text = (
        "A :math:`x +\ny` role.\n\n"
        ".. math:: a = b\n"
        "          + c\n\n"
        ".. math::\n"
        "   :label: two\n\n"
        "   d = e\n\n"
        "   f = g\n"
    )
    assert rst_math(text) == [
        (1, "x + y", False),
        (4, "a = b + c", True),
        (7, "d = e", True),
        (7, "f = g", True),
    ]
