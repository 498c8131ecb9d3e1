"""
=========================================================
Checking backpropagation against finite differences
=========================================================

Backpropagation computes the gradient of the training objective with four
equations (see "The math" in the user guide). This example checks the
gradient that :class:`skbackprop.MLPBackpropClassifier` actually trains with
against central finite differences of the objective, for every hidden
activation and for a per-layer mix, using nothing but the public API.

The objective is the one the classifier minimises, scikit-learn's:

.. math::

    J(W, b) = \\frac{1}{n} \\sum_{i=1}^{n} -\\log p_{i, y_i}
              + \\frac{\\alpha}{2n} \\sum_{l} \\lVert W_l \\rVert_F^2

where :math:`p_{i, k}` is the predicted probability of class :math:`k` for
sample :math:`i`, as returned by ``predict_proba``.
"""

# License: BSD-3-Clause

# %%
# Reading the gradient off one training step
# ------------------------------------------
# With plain gradient descent (``solver="sgd"``, no momentum, a constant
# learning rate ``eta``) and a single mini-batch holding the whole training
# set in a fixed order, one call to ``partial_fit`` performs exactly one
# update ``theta <- theta - eta * grad J(theta)``. The difference between the
# parameters before and after the call, divided by ``eta``, is therefore the
# gradient backpropagation computed, the one the optimiser applied.

import numpy as np
from sklearn.datasets import load_digits
from sklearn.preprocessing import StandardScaler

from skbackprop import MLPBackpropClassifier

X, y = load_digits(return_X_y=True)
# A small, standardised subset keeps every finite difference cheap.
rng = np.random.RandomState(0)
subset = rng.choice(len(X), size=300, replace=False)
X = StandardScaler().fit_transform(X[subset])
y = y[subset]
classes = np.unique(y)
n_samples = len(X)
alpha = 1e-2
eta = 1.0


def make_network(activation):
    return MLPBackpropClassifier(
        hidden_layer_sizes=(12, 8),
        activation=activation,
        solver="sgd",
        learning_rate="constant",
        learning_rate_init=eta,
        momentum=0.0,
        nesterovs_momentum=False,
        batch_size=n_samples,
        shuffle=False,
        alpha=alpha,
        random_state=0,
    )


def parameters(clf):
    """All weights then all biases as one float64 vector (a copy)."""
    return np.concatenate([a.ravel() for a in clf.coefs_ + clf.intercepts_])


def backprop_gradient(clf):
    """Gradient at clf's current parameters, read off one SGD step."""
    before = parameters(clf)
    clf.partial_fit(X, y)
    after = parameters(clf)
    return (before - after) / eta, before


# %%
# The objective through ``predict_proba``
# ---------------------------------------
# The finite differences never touch the training code: they perturb one
# entry of ``coefs_`` or ``intercepts_`` in place, recompute the objective from
# ``predict_proba``, and put the entry back.


def objective(clf):
    proba = clf.predict_proba(X)
    log_loss = -np.mean(
        np.log(proba[np.arange(n_samples), np.searchsorted(classes, y)])
    )
    penalty = 0.5 * alpha * sum(np.sum(W**2) for W in clf.coefs_) / n_samples
    return log_loss + penalty


def parameter_slot(clf, flat_index):
    """The array and index that hold entry ``flat_index`` of ``parameters``."""
    for array in clf.coefs_ + clf.intercepts_:
        if flat_index < array.size:
            return array, np.unravel_index(flat_index, array.shape)
        flat_index -= array.size
    raise IndexError(flat_index)


def finite_difference_gradient(clf, indices, h=1e-5):
    grad = np.empty(len(indices))
    for k, flat_index in enumerate(indices):
        array, idx = parameter_slot(clf, flat_index)
        original = array[idx]
        array[idx] = original + h
        j_plus = objective(clf)
        array[idx] = original - h
        j_minus = objective(clf)
        array[idx] = original
        grad[k] = (j_plus - j_minus) / (2 * h)
    return grad


# %%
# Running the check
# -----------------
# Each network is first trained for a few steps so that the check happens at
# a typical point, not at the random initialisation. The step that yields
# the backpropagated gradient moves the parameters, so they are put back to
# where that gradient was taken before differencing. 150 parameters, drawn
# from every layer's weights and biases, are checked per network.
#
# The comparison uses a relative error that is small only when the two
# vectors agree in every coordinate that matters:
# ``||g_bp - g_fd|| / (||g_bp|| + ||g_fd||)``.

candidates = [
    "identity",
    "logistic",
    "tanh",
    "relu",
    "leaky_relu",
    "elu",
    "softplus",
    "gelu",
    "silu",
    ["tanh", "relu"],
]
results = {}
for activation in candidates:
    clf = make_network(activation)
    for _ in range(5):
        clf.partial_fit(X, y, classes=classes)
    g_bp, theta = backprop_gradient(clf)
    # Restore the parameters at which g_bp was computed.
    for k in range(theta.size):
        array, idx = parameter_slot(clf, k)
        array[idx] = theta[k]
    indices = np.sort(rng.choice(theta.size, size=150, replace=False))
    g_fd = finite_difference_gradient(clf, indices)
    g_bp = g_bp[indices]
    error = np.linalg.norm(g_bp - g_fd) / (np.linalg.norm(g_bp) + np.linalg.norm(g_fd))
    label = "/".join(activation) if isinstance(activation, list) else activation
    results[label] = (g_bp, g_fd, error)
    print(f"{label:<12} relative error {error:.2e}")

# %%
# Two curves of the same gradient
# -------------------------------
# Left: each checked parameter's backpropagated derivative against its finite
# difference, all networks together; every point should lie on the diagonal.
# Right: the relative error per network. Central differences with step
# ``h = 1e-5`` are accurate to roughly ``h**2``, so errors around 1e-8 or below
# mean the two agree to the precision of the check. ReLU and leaky ReLU can
# show a slightly larger error when a perturbation crosses the kink at zero.

import matplotlib.pyplot as plt

fig, (ax_scatter, ax_bar) = plt.subplots(1, 2, figsize=(12, 4.8))
cmap = plt.get_cmap("tab10")
for k, (label, (g_bp, g_fd, _)) in enumerate(results.items()):
    ax_scatter.scatter(g_fd, g_bp, s=10, color=cmap(k % 10), label=label)
limit = max(np.abs(np.concatenate([r[0] for r in results.values()])).max(), 1e-12)
ax_scatter.plot([-limit, limit], [-limit, limit], color="black", lw=0.8)
ax_scatter.set(
    xlabel="finite difference",
    ylabel="backpropagation",
    title="Gradient entries, all networks",
)
ax_scatter.legend(fontsize="x-small", ncol=2)

labels = list(results)
errors = [results[label][2] for label in labels]
ax_bar.barh(labels, errors, color=[cmap(k % 10) for k in range(len(labels))])
ax_bar.set_xscale("log")
ax_bar.invert_yaxis()
ax_bar.set(xlabel="relative error", title="Backpropagation vs finite differences")
fig.tight_layout()
plt.show()
