"""
=================================================
Tuning activations, layer sizes and weight decay
=================================================

:class:`skbackprop.MLPBackpropClassifier` is an ordinary scikit-learn
estimator, so :class:`~sklearn.model_selection.GridSearchCV` tunes it like
any other. Its ``activation`` may name one function for every hidden layer or
give a list with one name per layer; this example searches both kinds,
together with the layer sizes and the L2 penalty ``alpha``, on the 8x8 digits.
"""

# License: BSD-3-Clause

# %%
# Data and pipeline
# -----------------
# Scaling sits inside the pipeline so that each cross-validation fold is
# standardised with its own training part only.

from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skbackprop import MLPBackpropClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)

pipe = Pipeline(
    [
        ("scale", StandardScaler()),
        (
            "mlp",
            MLPBackpropClassifier(max_iter=500, random_state=0),
        ),
    ]
)

# %%
# The grid
# --------
# A per-layer list only makes sense for a network with that many hidden
# layers, so the grid is a list of two sub-grids: single names for the
# one-layer network, and single names plus two mixed lists for the two-layer
# one. Each list inside the ``activation`` values is one candidate.
#
# ``SKBACKPROP_EXAMPLES_QUICK`` is set by the project's test suite to search a
# smaller grid; leave it unset to reproduce the figure.

import os
import warnings

from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

quick = os.environ.get("SKBACKPROP_EXAMPLES_QUICK") == "1"
alphas = [1e-4, 10.0] if quick else [1e-4, 1e-2, 1.0, 10.0]

param_grid = [
    {
        "mlp__hidden_layer_sizes": [(32,)],
        "mlp__activation": ["relu", "tanh"] if quick else ["relu", "tanh", "gelu"],
        "mlp__alpha": alphas,
    },
    {
        "mlp__hidden_layer_sizes": [(64, 32)],
        "mlp__activation": (
            ["relu", ["tanh", "relu"]]
            if quick
            else ["relu", "tanh", "gelu", ["tanh", "relu"], ["relu", "tanh"]]
        ),
        "mlp__alpha": alphas,
    },
]
search = GridSearchCV(pipe, param_grid, cv=3, n_jobs=1)
with warnings.catch_warnings():
    # The strongest penalty slows Adam's last steps enough that a few fits
    # stop at max_iter; the cross-validated score is what judges them.
    warnings.simplefilter("ignore", ConvergenceWarning)
    search.fit(X_train, y_train)

print(f"{len(search.cv_results_['params'])} candidates, 3 folds each")
print("Best parameters:", search.best_params_)
print(f"Best cross-validated accuracy: {search.best_score_:.3f}")
test_accuracy = search.score(X_test, y_test)
print(f"Test accuracy of the refitted best pipeline: {test_accuracy:.3f}")

# %%
# Results
# -------
# One line per architecture, accuracy against ``alpha``, with the spread
# over the folds as error bars. Moderate weight decay helps a little on 1,347
# training digits; ``alpha=10`` shrinks the weights until the networks
# underfit.

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

results = pd.DataFrame(search.cv_results_)


def describe(params):
    """Short legend label for one candidate's architecture."""
    act = params["mlp__activation"]
    act = "/".join(act) if isinstance(act, list) else act
    sizes = "x".join(map(str, params["mlp__hidden_layer_sizes"]))
    return f"{sizes} {act}"


results["architecture"] = results["params"].map(describe)
results["alpha"] = results["params"].map(lambda p: p["mlp__alpha"])

fig, ax = plt.subplots(figsize=(8, 5))
for k, (label, group) in enumerate(results.groupby("architecture", sort=False)):
    group = group.sort_values("alpha")
    ax.errorbar(
        group["alpha"] * (1.04**k),  # nudge apart the error bars
        group["mean_test_score"],
        yerr=group["std_test_score"],
        marker="o",
        capsize=3,
        label=label,
    )
ax.set_xscale("log")
ax.set_xlabel("alpha (L2 penalty)")
ax.set_ylabel("mean cross-validated accuracy")
ax.set_title("Grid search on the digits")
ax.set_ylim(top=1.0)
ax.grid(alpha=0.3)
ax.legend(fontsize="small", title="hidden layers, activation")
best = results.loc[np.argmax(results["mean_test_score"])]
ax.annotate(
    "best",
    (best["alpha"], best["mean_test_score"]),
    xytext=(25, -45),
    textcoords="offset points",
    ha="center",
    arrowprops={"arrowstyle": "->"},
)
fig.tight_layout()
plt.show()
