"""Model files of format version 1, written by skbackprop 0.1.0, still load.

The files in ``tests/data/format_v1`` were written by ``save_model`` of
release 0.1.0 (numpy code path), together with ``expected.npz``: the
probabilities each model gave, and the weights after one more
``partial_fit`` or warm ``fit`` there. Loaded today, each model predicts the
same and continues training the same. The model continued by a warm fit does
not shuffle: 0.1.0 re-seeded the generator at every warm fit, where a warm
fit now continues it.
"""

import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from skbackprop import load_model
from tests._saved_models import archive, edit_metadata

DATA = Path(__file__).parent / "data" / "format_v1"
MODELS = ["adam", "sgd-strings", "lbfgs-binary", "early-stopping-dropout",
          "rmsprop-shared-rng"]  # fmt: skip


@pytest.fixture(scope="module")
def expected():
    with np.load(DATA / "expected.npz") as stored:
        return dict(stored)


@pytest.mark.parametrize("name", MODELS)
def test_version_1_files_predict_as_they_did(expected, name):
    clf = load_model(DATA / f"{name}.npz")
    np.testing.assert_allclose(
        clf.predict_proba(expected["X"]), expected[f"{name}/proba"], rtol=1e-12
    )


@pytest.mark.parametrize("name", ["adam", "sgd-strings", "rmsprop-shared-rng"])
def test_version_1_files_continue_training_as_they_would_have(expected, name):
    clf = load_model(DATA / f"{name}.npz")
    X, target = expected["X"], np.arange(90) % 3
    if name == "sgd-strings":
        target = np.array(["no", "yes", "maybe"])[target]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if clf.warm_start:
            clf.fit(X, target)
        else:
            clf.partial_fit(X, target)
    weights = np.concatenate([w.ravel() for w in clf.coefs_ + clf.intercepts_])
    np.testing.assert_allclose(weights, expected[f"{name}/continued"], rtol=1e-10)


def test_a_shared_generator_of_version_1_stays_one():
    clf = load_model(DATA / "rmsprop-shared-rng.npz")
    assert clf.random_state is clf._training_state.random_state


def test_damaged_version_1_metadata_is_a_clear_value_error():
    with zipfile.ZipFile(DATA / "adam.npz") as zipped:
        contents = {member: zipped.read(member) for member in zipped.namelist()}
    edit_metadata(contents, lambda metadata: metadata["fitted"].pop("attributes"))
    with pytest.raises(
        ValueError,
        match="Invalid skbackprop model file: the version 1 metadata does not "
        "follow its format",
    ):
        load_model(archive(contents))
