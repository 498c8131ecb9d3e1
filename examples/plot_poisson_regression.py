"""
=============================
Poisson regression on counts
=============================

Counts (claims per policy, visits per day, defects per batch) are
non-negative, and their spread grows with their mean. With
``loss="poisson"``, :class:`skbackprop.MLPBackpropRegressor` predicts the
exponential of its output layer, a rate that is always positive, and
minimises the Poisson deviance, which weighs a miss against the noise
expected at that rate. This example fits counts whose rate spans nearly
four orders of magnitude with the Poisson loss and with the squared error,
and compares the two by their mean Poisson deviance on held-out data.
"""

# License: BSD-3-Clause

# %%
# Counts with a known rate
# ------------------------
# Four features drawn uniformly from :math:`[-1, 1]`, and a count drawn from
# a Poisson distribution whose rate :math:`\lambda(x)` has a non-linear
# logarithm,
#
# .. math::
#
#     \log \lambda(x) = -1 + 2.5 \sin(2 x_1) + 1.5 x_2^2 + 1.5 x_3 x_4 .
#
# Knowing the true rate lets the example show how close each model gets to
# it. A quarter of the samples are held out.

import numpy as np
from sklearn.model_selection import train_test_split

rng = np.random.RandomState(0)
n_samples = 8000
X = rng.uniform(-1, 1, size=(n_samples, 4))
log_rate = -1 + 2.5 * np.sin(2 * X[:, 0]) + 1.5 * X[:, 1] ** 2 + 1.5 * X[:, 2] * X[:, 3]
rate = np.exp(log_rate)
y = rng.poisson(rate).astype(np.float64)
X_train, X_test, y_train, y_test, rate_train, rate_test = train_test_split(
    X, y, rate, test_size=0.25, random_state=0
)
print(
    f"True rates from {rate.min():.3f} to {rate.max():.1f}; "
    f"{np.mean(y == 0):.0%} of the counts are 0, the largest is {y.max():.0f}."
)

# %%
# Two losses, one network
# -----------------------
# Both models have the same network and training parameters; only ``loss``
# differs. The Poisson model's output activation is ``exp``
# (``out_activation_``), the squared-error model's the identity.
#
# ``SKBACKPROP_EXAMPLES_QUICK`` is set by the project's test suite to train
# for fewer epochs; leave it unset to reproduce the figure.

import os
import warnings

from sklearn.exceptions import ConvergenceWarning

from skbackprop import MLPBackpropRegressor

quick = os.environ.get("SKBACKPROP_EXAMPLES_QUICK") == "1"
params = {
    "hidden_layer_sizes": (32, 32),
    "learning_rate_init": 0.003,
    "n_iter_no_change": 20,
    "max_iter": 20 if quick else 300,
    "random_state": 0,
}
models = {}
with warnings.catch_warnings():
    # In quick mode training stops at max_iter, which is no problem here.
    warnings.simplefilter("ignore", ConvergenceWarning)
    for loss in ("poisson", "squared_error"):
        models[loss] = MLPBackpropRegressor(loss=loss, **params).fit(X_train, y_train)
        print(f"{loss}: out_activation_={models[loss].out_activation_!r}")

# %%
# Mean Poisson deviance
# ---------------------
# :func:`~sklearn.metrics.mean_poisson_deviance` scores predicted rates
# against observed counts; lower is better. It needs positive predictions, and
# the squared-error model predicts a negative rate for some samples: those
# are raised to 0.01 before scoring. Two references frame the numbers: the
# training mean predicted for every sample, and the true rate, whose deviance
# is what the noise of the counts alone costs. :math:`R^2`, the estimators'
# default score, is printed too: it measures squared errors, which the
# squared-error model minimises.

from sklearn.metrics import mean_poisson_deviance, r2_score

floor = 0.01
predictions = {loss: model.predict(X_test) for loss, model in models.items()}
candidates = {
    "training mean": np.full_like(y_test, y_train.mean()),
    "squared error": predictions["squared_error"],
    "Poisson": predictions["poisson"],
    "true rate": rate_test,
}
deviances = {}
for name, predicted in candidates.items():
    deviances[name] = mean_poisson_deviance(y_test, np.maximum(predicted, floor))
    print(
        f"{name:<14} mean Poisson deviance {deviances[name]:.4f}, "
        f"R2 {r2_score(y_test, predicted):.4f}"
    )
non_positive = predictions["squared_error"] <= 0
print(
    f"Squared error predicts a rate <= 0 for {non_positive.mean():.1%} of the samples."
)

# %%
# Predicted against true rates
# ----------------------------
# On logarithmic axes, the Poisson model follows the true rate from the
# rarest events to the most frequent ones. The squared error weighs a miss of
# 1 on a rate of 50 like a miss of 1 on a rate of 0.05: it fits the large
# rates and leaves the small ones to chance, down to negative predictions,
# drawn in red at the bottom of the plot.

import matplotlib.pyplot as plt

fig, axes = plt.subplots(1, 2, figsize=(11, 4.6), sharex=True, sharey=True)
limits = [floor / 2, rate_test.max() * 2]
for ax, (loss, title) in zip(
    axes, [("poisson", "Poisson"), ("squared_error", "squared error")], strict=True
):
    predicted = predictions[loss]
    shown = predicted > 0
    ax.scatter(rate_test[shown], predicted[shown], s=4, alpha=0.5, color="tab:blue")
    if not shown.all():
        ax.scatter(
            rate_test[~shown],
            np.full(np.sum(~shown), limits[0] * 1.3),
            s=10,
            marker="x",
            color="tab:red",
            label=f"prediction <= 0 ({np.sum(~shown)} samples)",
        )
        ax.legend(loc="upper left", fontsize="small")
    ax.plot(limits, limits, color="black", lw=1)
    ax.set(
        xscale="log",
        yscale="log",
        xlim=limits,
        ylim=limits,
        xlabel="true rate",
        title=f"{title}: mean Poisson deviance {deviances[title]:.3f}",
    )
axes[0].set_ylabel("predicted rate")
fig.tight_layout()
plt.show()
