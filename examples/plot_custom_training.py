"""
==========================================================
Your own activation, a cosine schedule and a checkpoint
==========================================================

A network is defined by its activations and their derivatives, and
:class:`skbackprop.Activation` lets you bring both. This example:

- writes the Mish activation and its derivative as two NumPy functions, and
  shows the check that every custom activation goes through before training
  refusing a derivative with a mistake in it;
- trains it with ``learning_rate='cosine'``, which anneals the rate from
  ``learning_rate_init`` to zero over ``max_iter`` epochs, beside the
  built-in ReLU on the same schedule;
- keeps the epoch with the lowest validation loss on disk with
  :class:`skbackprop.callbacks.Checkpoint`, and loads it back with
  :func:`skbackprop.load_model`.
"""

# License: BSD-3-Clause

# %%
# Mish and its derivative
# -----------------------
# Mish is :math:`f(z) = z \tanh(\operatorname{softplus}(z))`, with
# :math:`\operatorname{softplus}(z) = \log(1 + e^z)`. Its derivative, by the
# product and chain rules, is
# :math:`f'(z) = \tanh(s) + z\,\sigma(z)\,(1 - \tanh^2(s))` where
# :math:`s = \operatorname{softplus}(z)` and :math:`\sigma` is the logistic
# function. ``derivative(Z, A)`` also receives ``A = f(Z)``, which Mish does
# not need. Both are defined with ``def`` at the top level of the script, so
# that copies of the model (pickle, the workers of ``n_jobs``, saved files)
# can refer to them by name.

import os
import tempfile
import warnings

import matplotlib.pyplot as plt
import numpy as np
from scipy.special import expit
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skbackprop import Activation, MLPBackpropClassifier, load_model
from skbackprop.callbacks import Checkpoint


def mish(Z):
    return Z * np.tanh(np.logaddexp(0, Z))


def mish_derivative(Z, A):
    t = np.tanh(np.logaddexp(0, Z))
    return t + Z * expit(Z) * (1 - t * t)


MISH = Activation("mish", mish, mish_derivative)

# %%
# A derivative with a mistake is refused
# --------------------------------------
# Forgetting the chain rule's inner factor is an easy slip. Before any
# weight moves, ``fit`` compares the derivative with central differences of
# the function, on a grid over [-6, 6] and on the first batch's
# pre-activations, and names the worst point.


def mish_derivative_without_chain_rule(Z, A):
    t = np.tanh(np.logaddexp(0, Z))
    return t + Z * (1 - t * t)  # the factor sigma(z) is missing


X, y = load_digits(return_X_y=True)
X_train, X_rest, y_train, y_rest = train_test_split(
    X, y, train_size=0.6, stratify=y, random_state=0
)
X_val, X_test, y_val, y_test = train_test_split(
    X_rest, y_rest, train_size=0.5, stratify=y_rest, random_state=0
)
scaler = StandardScaler().fit(X_train)
X_train, X_val, X_test = (scaler.transform(part) for part in (X_train, X_val, X_test))

wrong = Activation("mish_wrong", mish, mish_derivative_without_chain_rule)
try:
    MLPBackpropClassifier(activation=wrong).fit(X_train, y_train)
except ValueError as error:
    print(error)

# %%
# Mish and ReLU on a cosine schedule
# ----------------------------------
# The rate of epoch :math:`e` (from 0) is
# :math:`\eta_0 \cdot \frac{1}{2}(1 + \cos(\pi e / T))` with ``T = max_iter``;
# ``history_['learning_rate']`` records the rate each epoch used. The
# validation data passed to ``fit`` give the validation loss of every epoch,
# which the checkpoint monitors: whenever it improves, the model is written,
# atomically, to a file of its own for each activation.
#
# ``SKBACKPROP_EXAMPLES_QUICK`` is set by the project's test suite to train
# for fewer epochs; leave it unset to reproduce the numbers.

quick = os.environ.get("SKBACKPROP_EXAMPLES_QUICK") == "1"
max_iter = 8 if quick else 60
folder = tempfile.mkdtemp()
models, checkpoints = {}, {}
for activation in (MISH, "relu"):
    name = activation if isinstance(activation, str) else activation.name
    checkpoints[name] = os.path.join(folder, f"{name}-best.skbp")
    clf = MLPBackpropClassifier(
        hidden_layer_sizes=(64, 64),
        activation=activation,
        solver="sgd",
        momentum=0.9,
        learning_rate="cosine",
        learning_rate_init=0.05,
        max_iter=max_iter,
        n_iter_no_change=max_iter,  # run the whole schedule
        random_state=0,
    )
    clf.set_callbacks(Checkpoint(checkpoints[name], monitor="val_loss"))
    with warnings.catch_warnings():
        # The schedule ends at max_iter by design.
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X_train, y_train, X_val=X_val, y_val=y_val)
    models[name] = clf
    best_epoch = int(np.argmin(clf.history_["val_loss"]))
    print(
        f"{name:>4}: best validation loss {min(clf.history_['val_loss']):.4f} "
        f"at epoch {best_epoch}, test accuracy after the last epoch "
        f"{clf.score(X_test, y_test):.4f}"
    )

# %%
# The schedule and the validation loss, epoch by epoch; the dots mark the
# epochs the checkpoints hold.

fig, (ax_rate, ax_loss) = plt.subplots(1, 2, figsize=(10, 3.8))
rates = models["mish"].history_["learning_rate"]
epochs = np.arange(len(rates))
ax_rate.plot(epochs, rates, label="recorded")
ax_rate.plot(
    epochs,
    0.05 * 0.5 * (1 + np.cos(np.pi * epochs / max_iter)),
    "k:",
    label="the formula",
)
ax_rate.set(xlabel="epoch", ylabel="learning rate", title="learning_rate='cosine'")
ax_rate.legend()
for name, clf in models.items():
    val_loss = np.asarray(clf.history_["val_loss"])
    (line,) = ax_loss.plot(val_loss, label=name)
    best = int(np.argmin(val_loss))
    ax_loss.plot(best, val_loss[best], "o", color=line.get_color())
ax_loss.set(
    xlabel="epoch",
    ylabel="validation log-loss",
    yscale="log",
    title="Checkpointed epochs",
)
ax_loss.legend()
fig.tight_layout()
plt.show()

# %%
# Load the best epoch
# -------------------
# :func:`~skbackprop.load_model` never imports code a file names: a model
# with a custom activation stores references to its functions, and is loaded
# with the functions passed in (here, the activation that holds them). The
# loaded model is the one of the best epoch: its validation loss is the
# lowest that training recorded.

best = load_model(checkpoints["mish"], functions=[MISH])
print(f"Checkpoint after epoch {len(best.loss_curve_) - 1}")
print(f"its validation loss: {best.history_['val_loss'][-1]:.4f}")
print(f"its test accuracy:   {best.score(X_test, y_test):.4f}")
