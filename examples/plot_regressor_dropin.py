"""
=============================================
A drop-in replacement for MLPRegressor
=============================================

:class:`skbackprop.MLPBackpropRegressor` takes every constructor parameter
of :class:`sklearn.neural_network.MLPRegressor`, with the same defaults, sets
the same fitted attributes and has the same methods. This example trains
both classes with the same parameters and seed, checks that they reach the
same weights, and puts their time per epoch, test :math:`R^2` and training
curves side by side.
"""

# License: BSD-3-Clause

# %%
# Data
# ----
# :func:`~sklearn.datasets.make_friedman1` generates a standard non-linear
# regression problem, so this example needs no download: ten features drawn
# uniformly from :math:`[0, 1]`, of which the target uses the first five,
#
# .. math::
#
#     y = 10 \sin(\pi x_1 x_2) + 20 (x_3 - 0.5)^2 + 10 x_4 + 5 x_5
#         + \varepsilon,
#
# with standard normal noise :math:`\varepsilon`. 15,000 samples train and
# 5,000 test.

import numpy as np
from sklearn.datasets import make_friedman1
from sklearn.model_selection import train_test_split

X, y = make_friedman1(n_samples=20_000, noise=1.0, random_state=0)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, random_state=0
)

# %%
# The same code for both classes
# ------------------------------
# Only the class object changes. Both classes draw their initial weights and
# shuffle their mini-batches from the same random stream, so with the same
# ``random_state`` they start from the same weights and see the same batches.
# Both train for the same number of epochs, which also makes their time per
# epoch comparable.
#
# ``SKBACKPROP_EXAMPLES_QUICK`` is set by the project's test suite to train on
# fewer samples for fewer epochs; leave it unset to reproduce the figure.

import os
import time
import warnings

from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skbackprop import MLPBackpropRegressor

quick = os.environ.get("SKBACKPROP_EXAMPLES_QUICK") == "1"
if quick:
    X_train, y_train = X_train[:2000], y_train[:2000]
params = {
    "hidden_layer_sizes": (64, 32),
    "activation": "relu",
    "solver": "adam",
    "alpha": 1e-4,
    "batch_size": 200,
    "learning_rate_init": 0.003,
    "max_iter": 3 if quick else 30,
    "random_state": 0,
}

# Every MLPRegressor parameter exists here too, with the same default.
sk_defaults = MLPRegressor().get_params()
bp_defaults = MLPBackpropRegressor().get_params()
assert all(bp_defaults[name] == value for name, value in sk_defaults.items())

# The first fit in a process pays one-off costs that later fits do not: with
# numba installed, compiling MLPBackpropRegressor's loops (or loading them
# from its cache); for both classes, lazy imports and first BLAS calls. Each
# class first trains one untimed epoch on a few batches, so that the timed
# fits below measure training alone.
for Estimator in (MLPRegressor, MLPBackpropRegressor):
    warm_up = make_pipeline(StandardScaler(), Estimator(**{**params, "max_iter": 1}))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warm_up.fit(X_train[:400], y_train[:400])

results = {}
for Estimator in (MLPRegressor, MLPBackpropRegressor):
    model = make_pipeline(StandardScaler(), Estimator(**params))
    with warnings.catch_warnings():
        # Stopping at max_iter is the point here, not a problem to report.
        warnings.simplefilter("ignore", ConvergenceWarning)
        tic = time.perf_counter()
        model.fit(X_train, y_train)
        fit_time = time.perf_counter() - tic
    reg = model[-1]
    results[Estimator.__name__] = {
        "seconds per epoch": fit_time / reg.n_iter_,
        "test R2": model.score(X_test, y_test),
        "predictions": model.predict(X_test),
        "loss_curve_": reg.loss_curve_,
        "weights": reg.coefs_ + reg.intercepts_,
    }

for name, r in results.items():
    print(
        f"{name:<21} {r['seconds per epoch']:.4f} s/epoch, "
        f"test R2 {r['test R2']:.4f}, final loss {r['loss_curve_'][-1]:.5f}"
    )
sk, bp = results["MLPRegressor"], results["MLPBackpropRegressor"]
weight_gap = max(
    np.abs(a - b).max() for a, b in zip(sk["weights"], bp["weights"], strict=True)
)
prediction_gap = np.abs(sk["predictions"] - bp["predictions"]).max()
print(f"Largest difference between the trained weights: {weight_gap:.2e}")
print(f"Largest difference between the test predictions: {prediction_gap:.2e}")

# %%
# Several outputs
# ---------------
# With a two-dimensional ``y`` both classes fit one output unit per column,
# and train alike again. One number differs on purpose: ``loss_`` here is
# the objective that training descends, the sum over the outputs of each
# output's loss, whereas MLPRegressor's squared-error ``loss_`` is the mean
# over the outputs, for the same weights. (With ``solver="lbfgs"`` that
# mean is also what MLPRegressor hands to the optimiser, beside the gradient
# of the sum, so its L-BFGS runs with several outputs differ from these.)

Y_train = np.column_stack([y_train, np.sqrt(y_train - y_train.min())])
two_outputs = {**params, "max_iter": 3}
fitted = {}
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    for Estimator in (MLPRegressor, MLPBackpropRegressor):
        model = make_pipeline(StandardScaler(), Estimator(**two_outputs))
        fitted[Estimator.__name__] = model.fit(X_train, Y_train)[-1]
sk_two, bp_two = fitted["MLPRegressor"], fitted["MLPBackpropRegressor"]
gap_two = max(
    np.abs(a - b).max()
    for a, b in zip(
        sk_two.coefs_ + sk_two.intercepts_,
        bp_two.coefs_ + bp_two.intercepts_,
        strict=True,
    )
)
print(f"Two outputs: largest difference between the weights {gap_two:.2e}")
print(
    f"Two outputs: loss_ {bp_two.loss_:.5f} here, {sk_two.loss_:.5f} in "
    f"MLPRegressor, a ratio of {bp_two.loss_ / sk_two.loss_:.4f}"
)

# %%
# Side by side
# ------------
# The loss curves lie on top of each other: the same objective, the same
# starting point and the same batches give the same optimisation, up to
# floating-point rounding (the two sum the same products in different
# orders). Time per epoch depends on the machine and on what else runs on
# it; the benchmarks page has careful measurements, made on classifiers.

import matplotlib.pyplot as plt

names = list(results)
colors = ["tab:gray", "tab:blue"]
fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
for ax, key in zip(axes[:2], ["seconds per epoch", "test R2"], strict=True):
    values = [results[name][key] for name in names]
    bars = ax.bar(names, values, color=colors)
    ax.bar_label(bars, fmt="%.4f")
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
