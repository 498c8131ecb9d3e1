"""The docstrings document exactly what the estimator has.

- every constructor parameter is in the class docstring's Parameters section,
  with the default the constructor really uses, and nothing else is;
- every fitted attribute (a public name ending in ``_`` that some ``fit`` or
  ``partial_fit`` sets) is in the Attributes section, and nothing else is;
- every attribute ``MLPClassifier`` documents is documented here too;
- every public method has a numpydoc docstring: a summary, every argument
  under Parameters, and a Returns section;
- the Examples in the docstrings run.

Docstrings are parsed with ``numpydoc.docscrape`` when numpydoc is installed
(the ``docs`` extra), and always with a small parser written here, so the
checks run with or without numpydoc.
"""

import ast
import doctest
import importlib.util
import inspect
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor

import skbackprop
from skbackprop import MLPBackpropClassifier, MLPBackpropRegressor

HAVE_NUMPYDOC = importlib.util.find_spec("numpydoc") is not None
# Each estimator, and the scikit-learn estimator it replaces.
REPLACES = {MLPBackpropClassifier: MLPClassifier, MLPBackpropRegressor: MLPRegressor}
ESTIMATORS = pytest.mark.parametrize(
    "Estimator", list(REPLACES), ids=lambda e: e.__name__
)


# --------------------------------------------------------------------------
# Two docstring parsers with one interface: name -> {section: [entries]}
# --------------------------------------------------------------------------

# Sections whose entries are "name : type" lines followed by an indented
# description.
ENTRY_SECTIONS = ("Parameters", "Attributes", "Returns", "Yields", "Raises")


def parse_by_hand(docstring):
    """Split a numpydoc docstring into sections.

    Returns a dict with ``"Summary"`` (the lines of the first paragraph)
    and, for every section in ``ENTRY_SECTIONS`` that is present, a list of
    ``(name, type)`` pairs. ``"a, b : int"`` yields two entries.
    """
    lines = inspect.cleandoc(docstring or "").splitlines()
    sections = {"Summary": []}
    current = "Summary"
    i = 0
    while i < len(lines):
        line = lines[i]
        underline = lines[i + 1].strip() if i + 1 < len(lines) else ""
        is_header = (
            line.strip()
            and not line[0].isspace()
            and underline
            and set(underline) == {"-"}
            and len(underline) >= len(line.strip())
        )
        if is_header:
            current = line.strip()
            sections[current] = []
            i += 2
            continue
        sections[current].append(line)
        i += 1

    # The summary is the first paragraph; numpydoc calls the rest of the text
    # before the first section the extended summary.
    summary = []
    for line in sections["Summary"]:
        if not line.strip():
            if summary:
                break
            continue
        summary.append(line)
    parsed = {"Summary": summary}
    for name in ENTRY_SECTIONS:
        if name not in sections:
            continue
        entries = []
        for line in sections[name]:
            if not line.strip() or line[0].isspace():
                continue  # descriptions are indented
            head, _, type_ = line.partition(" : ")
            for entry in head.split(","):
                entries.append((entry.strip(), type_.strip()))
        parsed[name] = entries
    return parsed


def parse_with_numpydoc(docstring):
    """The same structure as `parse_by_hand`, from numpydoc.docscrape."""
    from numpydoc.docscrape import NumpyDocString

    with warnings.catch_warnings():
        # Unknown sections only warn in numpydoc; make them fail here.
        warnings.simplefilter("error")
        doc = NumpyDocString(inspect.cleandoc(docstring or ""))
    parsed = {"Summary": [line for line in doc["Summary"] if line.strip()]}
    for name in ENTRY_SECTIONS:
        if doc[name]:
            entries = []
            for param in doc[name]:
                for entry in param.name.split(","):
                    entries.append((entry.strip(), param.type.strip()))
            parsed[name] = entries
    return parsed


PARSERS = {"by_hand": parse_by_hand}
if HAVE_NUMPYDOC:
    PARSERS["numpydoc"] = parse_with_numpydoc


@pytest.fixture(params=sorted(PARSERS))
def parse(request):
    return PARSERS[request.param]


def test_numpydoc_parser_is_used_when_installed():
    # The hand parser always runs; numpydoc's runs too whenever it is there.
    assert "by_hand" in PARSERS
    assert ("numpydoc" in PARSERS) == HAVE_NUMPYDOC


def test_hand_parser_on_a_known_docstring():
    doc = """Do a thing.

    More words.

    Parameters
    ----------
    a, b : int, default=1
        Two numbers.
            Indented more.

    c : str
        A name.

    Returns
    -------
    out : float
        The result.
    """
    parsed = parse_by_hand(doc)
    assert parsed["Summary"] == ["Do a thing."]
    assert parsed["Parameters"] == [
        ("a", "int, default=1"),
        ("b", "int, default=1"),
        ("c", "str"),
    ]
    assert parsed["Returns"] == [("out", "float")]
    assert "Attributes" not in parsed


@pytest.mark.skipif(not HAVE_NUMPYDOC, reason="compares with numpydoc")
def test_hand_parser_agrees_with_numpydoc():
    for doc in (MLPBackpropClassifier.__doc__, MLPBackpropClassifier.fit.__doc__):
        assert parse_by_hand(doc) == parse_with_numpydoc(doc)


# --------------------------------------------------------------------------
# Parameters
# --------------------------------------------------------------------------


def _names(entries):
    return [name for name, _ in entries]


@ESTIMATORS
def test_every_parameter_is_documented(parse, Estimator):
    documented = _names(parse(Estimator.__doc__)["Parameters"])
    # The signature's order, which get_params (alphabetical) does not keep.
    actual = [
        name
        for name in inspect.signature(Estimator.__init__).parameters
        if name != "self"
    ]
    assert sorted(actual) == sorted(Estimator().get_params(deep=False))
    assert sorted(set(actual) - set(documented)) == [], "undocumented parameters"
    assert sorted(set(documented) - set(actual)) == [], "documented, not parameters"
    assert len(documented) == len(set(documented)), "a parameter is listed twice"
    # In the constructor's order, as readers of the signature expect.
    assert documented == actual


_DEFAULT = re.compile(r"default=(?P<value>.+)$")


@ESTIMATORS
def test_documented_defaults_are_the_real_ones(parse, Estimator):
    signature = inspect.signature(Estimator.__init__)
    for name, type_ in parse(Estimator.__doc__)["Parameters"]:
        match = _DEFAULT.search(type_)
        assert match, f"{name}: the type line gives no default=..."
        text = match.group("value").strip()
        actual = signature.parameters[name].default
        try:
            documented = ast.literal_eval(text)
        except ValueError:
            pytest.fail(f"{name}: default={text} is not a Python literal")
        assert documented == actual and type(documented) is type(actual), (
            f"{name}: documented default={text}, constructor uses {actual!r}"
        )


# --------------------------------------------------------------------------
# Fitted attributes
# --------------------------------------------------------------------------


def _public_fitted_attributes(estimator):
    # dir(), not vars(): the training state's attributes are properties.
    return {
        name
        for name in dir(estimator)
        if name.endswith("_") and not name.startswith("_") and hasattr(estimator, name)
    }


def _fits(Estimator):
    """Fits that together set every attribute an estimator's fits set."""
    X, y = load_digits(n_class=4, return_X_y=True)
    X, y = X[:120] / 16.0, y[:120]
    frame = pd.DataFrame(X, columns=[f"pixel_{j}" for j in range(X.shape[1])])
    small = {"hidden_layer_sizes": (8,), "max_iter": 5, "random_state": 0}
    make = lambda **params: Estimator(**small, **params)  # noqa: E731
    common = [
        lambda: make().fit(X, y),
        lambda: make(early_stopping=True).fit(X, y),
        lambda: make(solver="sgd").fit(X, y),
        lambda: make(solver="lbfgs").fit(X, y),
        # Feature names are recorded only for DataFrames with string columns.
        lambda: make().fit(frame, y),
    ]
    if Estimator is MLPBackpropRegressor:
        return [
            *common,
            lambda: make().partial_fit(X, y),
            lambda: make().fit(X, np.column_stack([y, -y])),
            lambda: make(loss="poisson").fit(X, y),
        ]
    return [
        *common,
        lambda: make().partial_fit(X, y, classes=np.unique(y)),
        # Binary and multilabel targets use logistic outputs.
        lambda: make().fit(X, y == 0),
        lambda: make().fit(X, np.eye(4, dtype=int)[y]),
    ]


@pytest.fixture(scope="module")
def fitted_attributes():
    """Per estimator, the union of the attributes that its fits set."""
    found = {}
    with warnings.catch_warnings():
        # Five epochs are enough to set every attribute, not to converge.
        warnings.simplefilter("ignore", ConvergenceWarning)
        for Estimator in REPLACES:
            found[Estimator] = set()
            for fit in _fits(Estimator):
                found[Estimator] |= _public_fitted_attributes(fit())
    return found


@ESTIMATORS
def test_unfitted_estimator_has_no_fitted_attributes(Estimator):
    assert _public_fitted_attributes(Estimator()) == set()


@ESTIMATORS
def test_every_fitted_attribute_is_documented(parse, fitted_attributes, Estimator):
    fitted_attributes = fitted_attributes[Estimator]
    documented = _names(parse(Estimator.__doc__)["Attributes"])
    assert len(documented) == len(set(documented)), "an attribute is listed twice"
    assert sorted(fitted_attributes - set(documented)) == [], (
        "set by fit but not documented"
    )
    assert sorted(set(documented) - fitted_attributes) == [], (
        "documented but never set by fit"
    )


@ESTIMATORS
def test_attributes_of_the_replaced_estimator_are_documented(parse, Estimator):
    # A drop-in replacement offers every attribute the replaced one documents.
    ours = set(_names(parse(Estimator.__doc__)["Attributes"]))
    theirs = set(_names(parse(REPLACES[Estimator].__doc__)["Attributes"]))
    assert sorted(theirs - ours) == []


# --------------------------------------------------------------------------
# Methods
# --------------------------------------------------------------------------


def _public_methods(Estimator):
    return sorted(
        name
        for name, member in inspect.getmembers(Estimator)
        if not name.startswith("_") and callable(member)
    )


def _own_methods(Estimator):
    """Public methods defined by skbackprop rather than inherited."""
    return [
        name
        for name in _public_methods(Estimator)
        if getattr(Estimator, name).__module__.startswith("skbackprop")
    ]


def _methods(select):
    return [(E, name) for E in REPLACES for name in select(E)]


def test_method_lists_are_not_empty():
    # Guards the parametrisations below against collecting nothing.
    assert {"fit", "partial_fit", "predict", "transform"} <= set(
        _own_methods(MLPBackpropRegressor)
    )
    own = set(_own_methods(MLPBackpropClassifier))
    expected = {
        "fit",
        "partial_fit",
        "predict",
        "predict_proba",
        "predict_log_proba",
        "decision_function",
    }
    assert expected <= own
    assert {"score", "get_params", "set_params"} <= set(
        _public_methods(MLPBackpropClassifier)
    )


@pytest.mark.parametrize("Estimator, name", _methods(_public_methods))
def test_public_method_has_a_numpydoc_docstring(name, parse, Estimator):
    method = getattr(Estimator, name)
    parsed = parse(method.__doc__)
    assert parsed["Summary"], f"{name} has no summary line"
    assert "Returns" in parsed or name.startswith("set_"), f"{name}: no Returns"


@pytest.mark.parametrize("Estimator, name", _methods(_own_methods))
def test_own_method_documents_its_arguments(name, parse, Estimator):
    method = getattr(Estimator, name)
    arguments = [
        p.name
        for p in inspect.signature(method).parameters.values()
        if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    parsed = parse(method.__doc__)
    assert _names(parsed.get("Parameters", [])) == arguments
    assert parsed.get("Returns"), f"{name}: empty Returns section"
    # The summary is one sentence on its own line, as numpydoc asks.
    assert parsed["Summary"][0].endswith("."), f"{name}: summary line"


# --------------------------------------------------------------------------
# The docstrings' examples run
# --------------------------------------------------------------------------


@ESTIMATORS
def test_class_docstring_has_an_example(Estimator):
    assert "Examples\n    --------" in Estimator.__doc__
    assert ">>> " in Estimator.__doc__


def test_docstring_examples_run():
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    tests = [
        test
        for test in finder.find(skbackprop, "skbackprop")
        + finder.find(MLPBackpropClassifier, "MLPBackpropClassifier")
        + finder.find(MLPBackpropRegressor, "MLPBackpropRegressor")
        if test.examples
    ]
    assert tests, "no docstring examples found"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for test in tests:
            runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0
    assert result.attempted > 0


def test_parameter_entries_say_what_the_parameters_do(parse):
    # Entries that once said less than the code does.
    entries = {
        name: text for name, text in _entry_texts(MLPBackpropClassifier.__doc__).items()
    }
    assert "scoring" in entries["early_stopping"]
    assert "X_val" in entries["early_stopping"]
    assert "ignored" in entries["validation_fraction"]
    assert "X_val" in entries["validation_fraction"]
    for name in ("beta_2", "epsilon"):
        assert all(s in entries[name] for s in ("rmsprop", "adamw")), name
    assert "adagrad" in entries["epsilon"]
    assert "dropout" in entries["random_state"]
    assert "Examples" in skbackprop.load_model.__doc__


def _entry_texts(docstring):
    """Each parameter's entry in a class docstring, type line and text."""
    lines = inspect.cleandoc(docstring).splitlines()
    start = lines.index("Parameters") + 2
    stop = lines.index("Attributes")
    entries, name = {}, None
    for line in lines[start:stop]:
        if line and not line.startswith(" ") and " : " in line:
            name = line.split(" : ")[0]
            entries[name] = line
        elif name:
            entries[name] += " " + line.strip()
    return entries
