"""Math as MathML, written into the pages at build time: no script, no network.

Sphinx's default math renderer, MathJax, leaves the TeX source in the page and
typesets it in the browser with a script loaded from a CDN, so pages built or
read offline show raw TeX. This extension converts every formula to MathML
with ``latex2mathml`` while the HTML is written; browsers display MathML
themselves (Firefox, Safari, and Chrome or Edge from version 109).

It also checks that no page loads a script or a style sheet from another
host: such a page would not work offline, and the build warns (an error under
``-W``).
"""

import re

from docutils import nodes
from latex2mathml.converter import convert
from sphinx.locale import _
from sphinx.util import logging
from sphinx.util.math import get_node_equation_number

logger = logging.getLogger(__name__)

# A URL on another host: "https://...", "//..." and the like.
REMOTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)
# A script or style sheet that raw HTML in a page loads from another host.
REMOTE_TAG = re.compile(
    r"<(?:script\b[^>]*\bsrc|link\b[^>]*\bhref)\s*=\s*[\"']?"
    r"(?P<url>(?:[a-z][a-z0-9+.-]*:)?//[^\"'\s>]*)",
    re.IGNORECASE,
)

# Chrome's MathML ignores ``mathvariant`` except on single-letter <mi>, so
# latex2mathml's <mn mathvariant="double-struck">1</mn> for \mathbb{1} would
# show a plain 1. Letters and digits are spelled with the double-struck
# characters of Unicode instead, which every browser displays.
_DOUBLE_STRUCK_EXCEPTIONS = {
    "C": "\u2102",
    "H": "\u210d",
    "N": "\u2115",
    "P": "\u2119",
    "Q": "\u211a",
    "R": "\u211d",
    "Z": "\u2124",
}
_VARIANT = re.compile(
    r'<(?P<tag>mi|mn|mo|mtext) mathvariant="double-struck">(?P<text>[^<]*)</(?P=tag)>'
)


def _double_struck(text):
    """Return ``text`` with its ASCII letters and digits in double-struck form.

    Parameters
    ----------
    text : str
        Letters, digits and any other characters.

    Returns
    -------
    str
        The same text, with A-Z, a-z and 0-9 replaced by the corresponding
        characters of Unicode's mathematical double-struck alphabet.
    """
    out = []
    for char in text:
        if char in _DOUBLE_STRUCK_EXCEPTIONS:
            out.append(_DOUBLE_STRUCK_EXCEPTIONS[char])
        elif "A" <= char <= "Z":
            out.append(chr(0x1D538 + ord(char) - ord("A")))
        elif "a" <= char <= "z":
            out.append(chr(0x1D552 + ord(char) - ord("a")))
        elif "0" <= char <= "9":
            out.append(chr(0x1D7D8 + ord(char) - ord("0")))
        else:
            out.append(char)
    return "".join(out)


def to_mathml(latex, display):
    """Convert a TeX formula to a MathML ``<math>`` element.

    Parameters
    ----------
    latex : str
        The formula, as written between ``:math:`` backquotes or in a
        ``.. math::`` directive.
    display : bool
        True for a displayed (block) formula, False for one in running text.

    Returns
    -------
    str
        The ``<math>`` element, as HTML.

    Raises
    ------
    ValueError
        If the formula cannot be converted, or converts to an error element
        or to a command left as literal text.
    """
    try:
        mathml = convert(latex, display="block" if display else "inline")
    except Exception as error:  # latex2mathml raises several types
        raise ValueError(f"cannot convert {latex!r} to MathML: {error}") from error
    if "<merror" in mathml or re.search(r">\\[A-Za-z]", mathml):
        raise ValueError(f"{latex!r} uses a command that MathML output lacks")
    return _VARIANT.sub(
        lambda m: f"<{m['tag']}>{_double_struck(m['text'])}</{m['tag']}>", mathml
    )


def _render(self, node, latex, display):
    try:
        return to_mathml(latex, display)
    except ValueError as error:
        logger.warning(str(error), location=node)
        return f"<code>{self.encode(latex)}</code>"


def visit_math(self, node):
    """Write an inline formula as MathML."""
    self.body.append(self.starttag(node, "span", "", CLASS="math notranslate"))
    self.body.append(_render(self, node, node.astext(), display=False))
    self.body.append("</span>")
    raise nodes.SkipNode


def visit_displaymath(self, node):
    """Write a displayed formula as MathML, one block per equation."""
    self.body.append(self.starttag(node, "div", CLASS="math notranslate"))
    if node["number"]:
        number = get_node_equation_number(self, node)
        self.body.append(f'<span class="eqno">({number})')
        self.add_permalink_ref(node, _("Link to this equation"))
        self.body.append("</span>")
    # As for MathJax, equations separated by a blank line are shown one
    # below the other (the style sheet lays each out as a centred line).
    parts = [part for part in node.astext().split("\n\n") if part.strip()]
    self.body.append("<br/>".join(_render(self, node, p, True) for p in parts))
    self.body.append("</div>\n")
    raise nodes.SkipNode


def remote_assets(context):
    """Return the URLs of the scripts and style sheets a page loads remotely.

    Parameters
    ----------
    context : dict
        The page's template context, as the ``html-page-context`` event
        passes it: the files the theme and extensions add to the page
        (``script_files``, ``css_files``) and its ``body``, whose raw HTML
        may load more.

    Returns
    -------
    list of str
        Every URL on another host, in the order found.
    """
    urls = []
    for asset in [*context.get("script_files", []), *context.get("css_files", [])]:
        url = getattr(asset, "filename", asset)
        if isinstance(url, str) and REMOTE.match(url):
            urls.append(url)
    urls += [m["url"] for m in REMOTE_TAG.finditer(context.get("body") or "")]
    return urls


def check_offline(app, pagename, templatename, context, doctree):
    """Warn about a page that loads a script or style sheet over the network."""
    for url in remote_assets(context):
        logger.warning(
            "page %s loads %s from the network; the documentation must work offline",
            pagename,
            url,
        )


def setup(app):
    app.add_html_math_renderer(
        "mathml",
        inline_renderers=(visit_math, None),
        block_renderers=(visit_displaymath, None),
    )
    app.connect("html-page-context", check_offline, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
