"""
========================================
Hidden layers as features in a pipeline
========================================

A trained network's hidden layers are a representation of the data, learned
to separate the classes. :meth:`skbackprop.MLPBackpropClassifier.transform`
returns the activations of a hidden layer (by default the last one), which
makes the classifier a transformer as well: a
:class:`~sklearn.pipeline.Pipeline` can end with it to produce features, or
use it as an intermediate step in front of another estimator.

This example draws the 8x8 digits through a hidden layer of two units, next to
their first two principal components, and then stacks a logistic regression
on a network's last hidden layer.
"""

# License: BSD-3-Clause

# %%
# Data
# ----
# The 1,797 digits of :func:`sklearn.datasets.load_digits`, 30% of them held
# out for testing.

from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, stratify=y, random_state=0
)

# %%
# A network with a two-unit bottleneck
# ------------------------------------
# The last hidden layer has two units with the identity activation, so the
# softmax output layer has to separate ten classes from a linear 2-D map of
# the first layer's 64 ReLU features. Because the classifier is the
# pipeline's last step and has a ``transform`` method, the fitted pipeline
# transforms too: ``embed.transform(X)`` scales ``X`` and returns the two
# hidden units' activations.

import warnings

from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skbackprop import MLPBackpropClassifier

embed = make_pipeline(
    StandardScaler(),
    MLPBackpropClassifier(
        hidden_layer_sizes=(64, 2),
        activation=["relu", "identity"],
        max_iter=300,
        random_state=0,
    ),
)
with warnings.catch_warnings():
    # 300 epochs are enough for a picture; the loss still creeps down.
    warnings.simplefilter("ignore", ConvergenceWarning)
    embed.fit(X_train, y_train)

Z_train, Z_test = embed.transform(X_train), embed.transform(X_test)
print("features:", embed.get_feature_names_out())
print(f"test accuracy of the network itself: {embed.score(X_test, y_test):.3f}")

# %%
# The map keeps what the classes need
# -----------------------------------
# Principal component analysis also maps the digits to two dimensions, but
# without looking at the labels. A 5-nearest-neighbour classifier on each
# 2-D map measures how well it keeps the classes apart.

from sklearn.decomposition import PCA
from sklearn.neighbors import KNeighborsClassifier

pca = make_pipeline(StandardScaler(), PCA(n_components=2, random_state=0))
P_train = pca.fit_transform(X_train)
P_test = pca.transform(X_test)

for name, (train, test) in {
    "2 principal components": (P_train, P_test),
    "2 hidden units": (Z_train, Z_test),
}.items():
    knn = KNeighborsClassifier(n_neighbors=5).fit(train, y_train)
    print(f"5-NN on {name}: test accuracy {knn.score(test, y_test):.3f}")

# %%
# Any hidden layer
# ----------------
# ``transform`` takes the index of the layer, as in ``hidden_layer_sizes``;
# negative indices count from the last one. Inside a pipeline the earlier steps
# must be applied first.

first_layer = embed[-1].transform(embed[:-1].transform(X_test), layer=0)
print("first hidden layer:", first_layer.shape)

# %%
# The network as an intermediate step
# -----------------------------------
# In the middle of a pipeline, ``fit`` trains the network on the labels and
# passes the activations of its last hidden layer (here 16 units) to the next
# step, a logistic regression. With ``set_output(transform="pandas")`` the
# features keep the names of ``get_feature_names_out``.
#
# The logistic regression is trained on features of the very samples the
# network was fitted to, which the network separates better than new ones;
# score such a pipeline on held-out data or by cross-validation.

from sklearn.linear_model import LogisticRegression

stacked = make_pipeline(
    StandardScaler(),
    MLPBackpropClassifier(hidden_layer_sizes=(64, 16), max_iter=300, random_state=0),
    LogisticRegression(max_iter=1000),
).set_output(transform="pandas")
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    stacked.fit(X_train, y_train)
print(stacked[:-1].transform(X_test[:3]).iloc[:, :4].round(2).to_string())
print(f"test accuracy of the stacked pipeline: {stacked.score(X_test, y_test):.3f}")

# %%
# The two maps
# ------------
# Each test digit drawn at its two coordinates, coloured by its class, with
# the class's label at the centre of its points. The principal components
# leave most classes overlapping; the hidden units, trained to classify, pull
# them apart.

import matplotlib.pyplot as plt
import numpy as np

fig, axes = plt.subplots(1, 2, figsize=(12, 5.5))
cmap = plt.get_cmap("tab10")
for ax, points, title in (
    (axes[0], P_test, "First two principal components"),
    (axes[1], Z_test, "Two hidden units (transform)"),
):
    ax.scatter(points[:, 0], points[:, 1], c=cmap(y_test), s=8, alpha=0.6)
    for digit in range(10):
        centre = np.median(points[y_test == digit], axis=0)
        ax.text(
            *centre,
            str(digit),
            fontsize=14,
            fontweight="bold",
            ha="center",
            va="center",
            color=cmap(digit),
            bbox={"boxstyle": "circle", "facecolor": "white", "alpha": 0.8},
        )
    # A few far-out digits would shrink the rest to a corner: zoom on 99%.
    low, high = np.percentile(points, [0.5, 99.5], axis=0)
    margin = 0.05 * (high - low)
    ax.set(
        title=title,
        xlim=(low[0] - margin[0], high[0] + margin[0]),
        ylim=(low[1] - margin[1], high[1] + margin[1]),
        xticks=[],
        yticks=[],
    )
fig.suptitle("Test digits mapped to two dimensions")
fig.tight_layout()
plt.show()
