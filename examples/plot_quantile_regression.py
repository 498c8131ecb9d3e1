"""
=============================================
Prediction intervals with quantile regression
=============================================

A regression model trained with the squared error predicts the conditional
mean of the target; it says nothing about how far the target may fall from
it. With ``loss="quantile"``, :class:`skbackprop.MLPBackpropRegressor`
estimates a chosen quantile of the target instead. Two such models, one for
the 5% quantile and one for the 95% quantile, bound a 90% prediction
interval whose width follows the noise of the data. This example measures
how often held-out targets fall inside that interval, and compares it with
the interval of constant width that a squared-error fit gives.
"""

# License: BSD-3-Clause

# %%
# Data whose noise grows
# ----------------------
# One feature :math:`x` between 0 and 10, a target :math:`x \sin x` plus
# Gaussian noise whose standard deviation grows from 0.3 at :math:`x = 0`
# to 2.8 at :math:`x = 10`. A good interval must be narrow on the left and
# wide on the right. A quarter of the samples are held out to measure the
# intervals.

import numpy as np
from sklearn.model_selection import train_test_split

rng = np.random.RandomState(0)
n_samples = 4000
x = rng.uniform(0, 10, size=n_samples)
noise_scale = 0.3 + 0.25 * x
y = x * np.sin(x) + rng.normal(scale=noise_scale)
X = x.reshape(-1, 1)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, random_state=0
)

# %%
# Three models
# ------------
# The pinball loss of quantile :math:`q` charges :math:`q\,(y - \hat y)` when
# the prediction is too low and :math:`(1 - q)(\hat y - y)` when it is too
# high, so that its minimum lies where a fraction :math:`q` of the targets
# fall below the prediction. Its gradient has the same size however close the
# prediction is to that minimum, so a constant learning rate keeps the
# predictions jittering around it. ``learning_rate="adaptive"``, which this
# package applies to Adam too, divides the step by 5 each time the training
# loss stalls, and training stops once the step is negligible. The
# squared-error model uses the same network and schedule.
#
# ``SKBACKPROP_EXAMPLES_QUICK`` is set by the project's test suite to train
# for fewer epochs; leave it unset to reproduce the figure.

import os
import warnings

from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skbackprop import MLPBackpropRegressor

quick = os.environ.get("SKBACKPROP_EXAMPLES_QUICK") == "1"
params = {
    "hidden_layer_sizes": (64, 64),
    "learning_rate_init": 0.01,
    "learning_rate": "adaptive",
    "max_iter": 30 if quick else 300,
    "random_state": 0,
}
losses = {
    "5% quantile": {"loss": "quantile", "quantile": 0.05},
    "95% quantile": {"loss": "quantile", "quantile": 0.95},
    "squared error": {"loss": "squared_error"},
}
models = {}
with warnings.catch_warnings():
    # In quick mode training stops at max_iter, which is no problem here.
    warnings.simplefilter("ignore", ConvergenceWarning)
    for name, loss in losses.items():
        model = make_pipeline(StandardScaler(), MLPBackpropRegressor(**params, **loss))
        models[name] = model.fit(X_train, y_train)

# %%
# Coverage on held-out data
# -------------------------
# The quantile models' interval is :math:`[\hat q_{0.05}(x), \hat
# q_{0.95}(x)]`. From the squared-error model, the usual interval is its
# prediction plus the 5% and 95% quantiles of its training residuals: the
# same width everywhere. Both are meant to hold 90% of the targets; the test
# set shows how many they hold, overall and on each half of the range.

lower = models["5% quantile"].predict(X_test)
upper = models["95% quantile"].predict(X_test)
mean = models["squared error"].predict(X_test)
residuals = y_train - models["squared error"].predict(X_train)
offset_low, offset_high = np.quantile(residuals, [0.05, 0.95])

intervals = {
    "quantile models": (lower, upper),
    "squared error + residuals": (mean + offset_low, mean + offset_high),
}
left = X_test[:, 0] < 5
for name, (low, high) in intervals.items():
    inside = (y_test >= low) & (y_test <= high)
    print(
        f"{name:<26} coverage {inside.mean():.3f} "
        f"(x < 5: {inside[left].mean():.3f}, x >= 5: {inside[~left].mean():.3f}), "
        f"mean width {np.mean(high - low):.2f}"
    )
print(
    f"Below the 5% model: {np.mean(y_test < lower):.3f}, "
    f"above the 95% model: {np.mean(y_test > upper):.3f}"
)

# %%
# Both intervals hold close to 90% of the test targets overall. The
# constant-width interval gets there by holding nearly all of them where the
# noise is small and too few where it is large. The quantile models' interval
# holds close to 90% along the whole range (each bin of the right-hand plot
# has about 100 targets, so its share varies by a few points by chance),
# narrow where the data are precise and wide where they are not, and it is
# narrower on average.

import matplotlib.pyplot as plt

grid = np.linspace(0, 10, 400).reshape(-1, 1)
grid_low = models["5% quantile"].predict(grid)
grid_high = models["95% quantile"].predict(grid)
grid_mean = models["squared error"].predict(grid)

bins = np.linspace(0, 10, 11)
which_bin = np.digitize(X_test[:, 0], bins[1:-1])
centres = (bins[:-1] + bins[1:]) / 2

fig, (ax_band, ax_cover) = plt.subplots(1, 2, figsize=(12, 4.2))
ax_band.scatter(X_test[:, 0], y_test, s=4, color="0.6", label="test data")
ax_band.fill_between(
    grid[:, 0],
    grid_low,
    grid_high,
    color="tab:blue",
    alpha=0.3,
    label="5%-95% quantile models",
)
ax_band.plot(grid[:, 0], grid_mean, color="tab:orange", label="squared error")
for offset, label in [(offset_low, "squared error + residuals"), (offset_high, None)]:
    ax_band.plot(
        grid[:, 0], grid_mean + offset, "--", color="tab:orange", lw=1, label=label
    )
ax_band.set(xlabel="x", ylabel="y", title="90% prediction intervals")
ax_band.legend(fontsize="small", loc="upper left")

for (name, (low, high)), color in zip(
    intervals.items(), ["tab:blue", "tab:orange"], strict=True
):
    inside = (y_test >= low) & (y_test <= high)
    coverage = [inside[which_bin == k].mean() for k in range(len(centres))]
    ax_cover.plot(centres, coverage, "o-", color=color, label=name)
ax_cover.axhline(0.9, color="black", lw=1, ls=":", label="90%")
ax_cover.set(
    xlabel="x", ylabel="share of test targets inside", title="Coverage along x"
)
ax_cover.set_ylim(0.5, 1.02)
ax_cover.legend(fontsize="small", loc="lower left")
fig.tight_layout()
plt.show()
