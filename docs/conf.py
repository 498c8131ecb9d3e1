"""Sphinx configuration for the skbackprop documentation.

Build with ``sphinx-build -W --keep-going -b html docs docs/_build/html`` from
the repository root (or ``make html`` in this folder). The build runs every
example in ``examples/`` and needs no network connection.
"""

import os
import sys
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.parsers.rst.directives.misc import Include
from sphinx.util.docutils import SphinxDirective

DOCS_DIR = Path(__file__).resolve().parent
REPO_ROOT = DOCS_DIR.parent

# Document the working tree even when it is not installed, so that autodoc
# and the gallery see the same code as the source links.
sys.path.insert(0, str(REPO_ROOT))
# Local helpers: the gallery's reading order, and math rendered as MathML.
sys.path.insert(0, str(DOCS_DIR / "_ext"))

# -- Project information ----------------------------------------------------

project = "skbackprop"
author = "The skbackprop developers"
copyright = "The skbackprop developers, BSD-3-Clause licence"
try:
    release = package_version("skbackprop")
except PackageNotFoundError:  # a bare checkout: read the package itself
    import skbackprop

    release = skbackprop.__version__
version = ".".join(release.split(".")[:3])

# -- General configuration --------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "sphinx_design",
    "mathml",
]

# Formulas are converted to MathML when the pages are written (_ext/mathml.py),
# so that they display without MathJax, which Sphinx would load from a CDN:
# the pages work offline. The extension also warns about any page that loads
# a script or style sheet from the network.
html_math_renderer = "mathml"

# Markdown pages (the benchmarks' README) render through MyST when it is
# installed; without it they are shown as literal Markdown.
try:
    import myst_parser  # noqa: F401
except ImportError:
    HAVE_MYST = False
else:
    HAVE_MYST = True
    extensions.append("myst_parser")
    myst_heading_anchors = 3
    # The README links to files of the repository, which are no pages here;
    # such links are shown as plain text rather than failing the build. Its
    # "# Title" line is skipped (the page has its own), so its headings start
    # at "##", which is what the page needs.
    suppress_warnings = ["myst.xref_missing", "myst.header"]

templates_path = ["_templates"]
exclude_patterns = [
    "_build",
    "Thumbs.db",
    ".DS_Store",
    "auto_examples/*.ipynb",
    # Left by builds that wrote sphinx-gallery's execution times (see below).
    "sg_execution_times.rst",
]
source_suffix = {".rst": "restructuredtext"}
root_doc = "index"
default_role = "literal"
pygments_style = "sphinx"

# -- autodoc, autosummary, numpydoc -----------------------------------------

autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": True}
autodoc_typehints = "none"
# numpydoc renders the members through our class template instead.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
# Cross-references to other projects would need their inventories, which an
# offline build cannot download; unresolved types stay plain text, and the
# few references that scikit-learn's own docstrings make (in the methods our
# class inherits) are linked by `link_to_scikit_learn` below.
numpydoc_xref_param_type = False

# -- sphinx-gallery ---------------------------------------------------------

sphinx_gallery_conf = {
    "doc_module": ("skbackprop",),
    "backreferences_dir": os.path.join("generated"),
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "within_subsection_order": "gallery_order.ReadingOrder",
    # A failing example must fail the build, not leave a broken page.
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
    "remove_config_comments": True,
    "show_memory": False,
    "min_reported_time": 0,
    "matplotlib_animations": False,
    # The execution-time pages load jQuery and DataTables from CDNs, and the
    # documentation must work offline.
    "write_computation_times": False,
}

# -- HTML output -------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = f"skbackprop {version}"
html_theme_options = {
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "header_links_before_dropdown": 8,
    "secondary_sidebar_items": ["page-toc", "sourcelink"],
}
html_sidebars = {
    "quick_start": [],
    "migrating": [],
    "benchmarks": [],
}
html_static_path = ["_static"]
# Spacing and sideways scrolling of displayed formulas (see _ext/mathml.py).
html_css_files = ["mathml.css"]
html_show_sourcelink = True


# -- A small directive: include a file only if it exists --------------------


class OptionalInclude(SphinxDirective):
    """Include a reST or Markdown file if it exists, else show a fallback.

    ``.. optional-include:: ../path/to/file.md`` followed by indented
    content: the content is rendered when the file is missing. Markdown is
    parsed with MyST when available, otherwise shown as a literal block.
    """

    required_arguments = 1
    has_content = True
    option_spec = {"start-line": directives.nonnegative_int}

    def run(self):
        rel_path, abs_path = self.env.relfn2path(self.arguments[0])
        path = Path(abs_path)
        if not path.is_file():
            container = nodes.container()
            self.state.nested_parse(self.content, self.content_offset, container)
            return container.children

        self.env.note_dependency(rel_path)
        options = dict(self.options)
        if path.suffix == ".md":
            if not HAVE_MYST:
                text = path.read_text(encoding="utf-8")
                lines = text.splitlines()[options.get("start-line", 0) :]
                literal = nodes.literal_block("\n".join(lines), "\n".join(lines))
                literal["language"] = "markdown"
                return [literal]
            options["parser"] = directives.parser_name("myst_parser.sphinx_")
            # The page has its own title: skip a leading "# Title" line.
            lines = path.read_text(encoding="utf-8").splitlines()
            first = next((i for i, line in enumerate(lines) if line.strip()), None)
            if first is not None and lines[first].startswith("# "):
                options.setdefault("start-line", first + 1)
        include = Include(
            "include",
            [str(path)],
            options,
            [],
            self.lineno,
            self.content_offset,
            self.block_text,
            self.state,
            self.state_machine,
        )
        return include.run()


# -- Links into scikit-learn's documentation, without its inventory ---------

SKLEARN_DOCS = "https://scikit-learn.org/stable/"
# Glossary terms and labels that docstrings inherited from scikit-learn (and
# ours, which follow its wording) refer to.
SKLEARN_TERMS = {"fit", "meta-estimator", "estimator", "predict", "sample_weight"}
SKLEARN_LABELS = {
    "metadata_routing": "metadata_routing.html",
    "accuracy_score": "modules/model_evaluation.html#accuracy-score",
    "r2_score": "modules/model_evaluation.html#r2-score",
    "user_guide": "user_guide.html",
    "df_output_transform": "auto_examples/miscellaneous/plot_set_output.html",
    "sphx_glr_auto_examples_miscellaneous_plot_set_output.py": (
        "auto_examples/miscellaneous/plot_set_output.html"
    ),
}


def link_to_scikit_learn(app, env, node, contnode):
    """Resolve references to scikit-learn objects, terms and pages by URL.

    Only names listed above, and Python objects under ``sklearn.``, are
    resolved; anything else stays a missing reference and fails the build.
    """
    domain, reftype = node.get("refdomain"), node.get("reftype")
    target = node.get("reftarget", "")
    url = None
    if domain == "std" and reftype == "term" and target.lower() in SKLEARN_TERMS:
        url = f"{SKLEARN_DOCS}glossary.html#term-{target.lower()}"
    elif domain == "std" and reftype == "ref" and target in SKLEARN_LABELS:
        url = SKLEARN_DOCS + SKLEARN_LABELS[target]
    elif domain == "py" and target.startswith("sklearn."):
        if reftype == "mod":
            url = f"{SKLEARN_DOCS}api/{target}.html"
        elif reftype in {"meth", "attr"}:
            # Methods and attributes are anchors on their class's page.
            owner = target.rsplit(".", 1)[0]
            url = f"{SKLEARN_DOCS}modules/generated/{owner}.html#{target}"
        else:
            url = f"{SKLEARN_DOCS}modules/generated/{target}.html"
    if url is None:
        return None
    reference = nodes.reference("", "", internal=False, refuri=url)
    reference.append(contnode)
    return reference


def setup(app):
    app.add_directive("optional-include", OptionalInclude)
    app.connect("missing-reference", link_to_scikit_learn)
    return {"parallel_read_safe": True}
