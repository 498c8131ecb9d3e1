"""
==============================
Comparing hidden activations
==============================

:class:`skbackprop.MLPBackpropClassifier` accepts nine hidden-layer
activations. This example trains the same two-layer network on the 8x8
digits once per activation, one epoch at a time with
:meth:`~skbackprop.MLPBackpropClassifier.partial_fit`, and draws two curves
for each: the training objective that backpropagation minimises
(``loss_curve_``) and the log-loss and accuracy on held-out validation digits
after every epoch.
"""

# License: BSD-3-Clause

# %%
# Data
# ----
# The 1,797 digits of :func:`sklearn.datasets.load_digits`, standardised, with a
# quarter held out for validation.

from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

X, y = load_digits(return_X_y=True)
X_train, X_val, y_train, y_val = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)
scaler = StandardScaler().fit(X_train)
X_train, X_val = scaler.transform(X_train), scaler.transform(X_val)

# %%
# One network per activation
# --------------------------
# Every network starts from the same seed and sees the same mini-batches.
# Each call to ``partial_fit`` runs one epoch of Adam and appends that epoch's
# training objective (mean log-loss plus the L2 penalty) to ``loss_curve_``;
# between calls we score the held-out digits.
#
# ``SKBACKPROP_EXAMPLES_QUICK`` is set by the project's test suite to train
# for fewer epochs; leave it unset to reproduce the figure.

import os

import numpy as np
from sklearn.metrics import log_loss

from skbackprop import MLPBackpropClassifier

quick = os.environ.get("SKBACKPROP_EXAMPLES_QUICK") == "1"
n_epochs = 5 if quick else 40
classes = np.unique(y)

activations = [
    "identity",
    "logistic",
    "tanh",
    "relu",
    "leaky_relu",
    "elu",
    "softplus",
    "gelu",
    "silu",
]
history = {}
for name in activations:
    clf = MLPBackpropClassifier(
        hidden_layer_sizes=(64, 64),
        activation=name,
        alpha=1e-4,
        learning_rate_init=1e-3,
        random_state=0,
    )
    val_loss, val_acc = [], []
    for _ in range(n_epochs):
        clf.partial_fit(X_train, y_train, classes=classes)
        val_loss.append(log_loss(y_val, clf.predict_proba(X_val), labels=classes))
        val_acc.append(clf.score(X_val, y_val))
    history[name] = {
        "train_loss": list(clf.loss_curve_),
        "val_loss": val_loss,
        "val_acc": val_acc,
    }

print(f"{'activation':<12}{'train loss':>12}{'val loss':>10}{'val acc':>9}")
for name, h in history.items():
    print(
        f"{name:<12}{h['train_loss'][-1]:>12.4f}{h['val_loss'][-1]:>10.4f}"
        f"{h['val_acc'][-1]:>9.3f}"
    )

# %%
# Training and validation curves
# ------------------------------
# ``identity`` makes the whole network linear: it is a multinomial logistic
# regression in disguise. It drops fastest at first, then its validation loss
# levels off above every non-linear network's. The logistic sigmoid learns
# slowest by far: its derivative is at most 1/4, which shrinks the hidden
# error ``dZ_l = (dZ_{l+1} W_{l+1}^T) * f'(Z_l)`` at every layer it passes
# through. ReLU, leaky ReLU, GELU and SiLU behave almost alike on a problem
# this small; tanh, ELU and softplus take a few more epochs to get there.

import matplotlib.pyplot as plt

epochs = np.arange(1, n_epochs + 1)
cmap = plt.get_cmap("tab10")
fig, axes = plt.subplots(1, 3, figsize=(13, 4.2))
for k, (name, h) in enumerate(history.items()):
    style = {"color": cmap(k), "label": name}
    axes[0].plot(epochs, h["train_loss"], **style)
    axes[1].plot(epochs, h["val_loss"], **style)
    axes[2].plot(epochs, h["val_acc"], **style)
axes[0].set(title="Training objective (loss_curve_)", ylabel="loss", yscale="log")
axes[1].set(title="Validation log-loss", ylabel="log-loss", yscale="log")
axes[2].set(title="Validation accuracy", ylabel="accuracy", ylim=(0.8, 1.0))
for ax in axes:
    ax.set_xlabel("epoch")
    ax.grid(alpha=0.3)
axes[2].legend(loc="lower right", fontsize="small", ncol=2)
fig.tight_layout()
plt.show()
