"""
==========================================================
Training control: validation data, dropout, class weights
==========================================================

This example puts three of the training controls of
:class:`skbackprop.MLPBackpropClassifier` to work on small synthetic problems:

- a validation set passed to :meth:`~skbackprop.MLPBackpropClassifier.fit`
  (``X_val``, ``y_val``), recorded in ``history_`` and monitored by early
  stopping with ``scoring='loss'``;
- ``dropout``, whose effect shows in the training and validation curves;
- ``class_weight='balanced'`` on an imbalanced problem, judged by balanced
  accuracy.

It ends with :func:`skbackprop.check_gradients`, which confirms that the
gradient trained with dropout and class weights is the gradient of the
objective they define.
"""

# License: BSD-3-Clause

# %%
# A noisy problem that invites overfitting
# ----------------------------------------
# Three classes in 20 dimensions, with 10% of the labels flipped at random. A
# network of two layers of 128 units can memorise 500 training samples,
# noise included. The data are split into training, validation and test sets
# of 500 samples each, and standardised with the training part's statistics.

import numpy as np
from sklearn.datasets import make_classification
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

X, y = make_classification(
    n_samples=1500,
    n_features=20,
    n_informative=6,
    n_redundant=2,
    n_classes=3,
    flip_y=0.1,
    random_state=0,
)
X_train, X_rest, y_train, y_rest = train_test_split(
    X, y, train_size=500, stratify=y, random_state=0
)
X_val, X_test, y_val, y_test = train_test_split(
    X_rest, y_rest, train_size=500, stratify=y_rest, random_state=0
)
scaler = StandardScaler().fit(X_train)
X_train, X_val, X_test = (scaler.transform(part) for part in (X_train, X_val, X_test))

# %%
# Training and validation curves, with and without dropout
# ---------------------------------------------------------
# Passing ``X_val`` and ``y_val`` to ``fit`` records the validation loss and
# score after every epoch in ``history_``, next to the training loss. With
# ``n_iter_no_change=np.inf`` nothing stops training before ``max_iter``, so
# the whole curves are visible; the expected ``ConvergenceWarning`` is
# silenced.
#
# ``dropout=0.5`` zeroes each hidden unit's output with probability one half
# during training (and scales the others by two); prediction uses the whole
# network. Both networks start from the same weights and see the same
# mini-batches.

import warnings

import pandas as pd
from sklearn.exceptions import ConvergenceWarning

from skbackprop import MLPBackpropClassifier

network = {
    "hidden_layer_sizes": (128, 128),
    "batch_size": 50,
    "max_iter": 150,
    "random_state": 0,
}
rates = {"no dropout": 0.0, "dropout 0.5": 0.5}
curves = {}
for name, rate in rates.items():
    clf = MLPBackpropClassifier(dropout=rate, n_iter_no_change=np.inf, **network)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X_train, y_train, X_val=X_val, y_val=y_val)
    curves[name] = pd.DataFrame(clf.history_)
    curves[name]["test accuracy"] = clf.score(X_test, y_test)

summary = pd.DataFrame(
    {
        "final training loss": [h["loss"].iloc[-1] for h in curves.values()],
        "lowest validation loss": [h["val_loss"].min() for h in curves.values()],
        "at epoch": [h["val_loss"].idxmin() + 1 for h in curves.values()],
        "final validation loss": [h["val_loss"].iloc[-1] for h in curves.values()],
        "test accuracy": [h["test accuracy"].iloc[0] for h in curves.values()],
    },
    index=list(curves),
)
print(summary.round(3).to_string())

# %%
# Without dropout the training loss falls towards zero while the validation
# loss, after an early minimum, climbs back: the
# network learns the flipped labels. With dropout the training loss (measured
# with the masks, hence higher) falls more slowly, and the validation loss
# stays lower for much longer.
#
# Early stopping on the validation loss
# -------------------------------------
# ``early_stopping=True`` with a validation set of our own monitors that set
# instead of holding out part of the training data. ``scoring='loss'``
# monitors the negative validation log-loss rather than the accuracy (the
# default), which moves in small steps and is a finer signal. Training stops
# after ``n_iter_no_change`` epochs without improvement and the weights of the
# best epoch are restored.
#
# Because the validation set is not carved out of ``X_train``, these fits see
# exactly the same mini-batches as the runs above: their histories are the
# first epochs of those curves.

stopped = {}
for name, rate in rates.items():
    clf = MLPBackpropClassifier(
        dropout=rate, early_stopping=True, scoring="loss", **network
    )
    clf.fit(X_train, y_train, X_val=X_val, y_val=y_val)
    scores = np.asarray(clf.validation_scores_)
    # Among epochs tied on the best score, the latest one is restored.
    best_epoch = len(scores) - np.argmax(scores[::-1])
    stopped[name] = best_epoch
    print(
        f"{name:>11}: stopped after {clf.n_iter_} epochs, restored epoch "
        f"{best_epoch} (validation loss {-clf.best_validation_score_:.3f}), "
        f"test accuracy {clf.score(X_test, y_test):.3f}"
    )

# %%
# Class weights on an imbalanced problem
# --------------------------------------
# A second problem has three classes in proportions 90%, 7% and 3%. A network
# trained on it as it is can reach a high accuracy by favouring the majority
# class. ``class_weight='balanced'`` weights every sample by
# ``n_samples / (n_classes * n_samples_of_its_class)``, so that each class
# carries the same total weight in the loss. Balanced accuracy, the mean of
# the recalls of the classes, shows the difference.

from sklearn.metrics import accuracy_score, balanced_accuracy_score, recall_score

X_imb, y_imb = make_classification(
    n_samples=3000,
    n_features=10,
    n_informative=4,
    n_redundant=2,
    n_classes=3,
    n_clusters_per_class=1,
    weights=[0.9, 0.07, 0.03],
    class_sep=0.8,
    random_state=1,
)
X_imb_train, X_imb_test, y_imb_train, y_imb_test = train_test_split(
    X_imb, y_imb, test_size=0.5, stratify=y_imb, random_state=0
)
imb_scaler = StandardScaler().fit(X_imb_train)
X_imb_train = imb_scaler.transform(X_imb_train)
X_imb_test = imb_scaler.transform(X_imb_test)
print("training samples per class:", np.bincount(y_imb_train))

recalls = {}
for class_weight in (None, "balanced"):
    clf = MLPBackpropClassifier(
        hidden_layer_sizes=(32,),
        alpha=1e-2,
        class_weight=class_weight,
        max_iter=300,
        random_state=0,
    )
    with warnings.catch_warnings():
        # A few hundred epochs are plenty here; convergence to tol is not
        # needed to compare the two.
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X_imb_train, y_imb_train)
    y_pred = clf.predict(X_imb_test)
    label = f"class_weight={class_weight!r}"
    recalls[label] = recall_score(y_imb_test, y_pred, average=None)
    print(
        f"{label:>24}: accuracy {accuracy_score(y_imb_test, y_pred):.3f}, "
        f"balanced accuracy {balanced_accuracy_score(y_imb_test, y_pred):.3f}"
    )

# %%
# The weighted model gives up a little accuracy on the majority class and
# recovers much of the two rare ones.
#
# Checking the gradient that was trained
# --------------------------------------
# Dropout and class weights change the objective that backpropagation
# differentiates. :func:`~skbackprop.check_gradients` compares that gradient,
# layer by layer, with central finite differences of the same objective (for
# dropout, with the masks of one epoch held fixed). Relative errors around
# 1e-7 or below mean the two agree.

from skbackprop import check_gradients

probe = MLPBackpropClassifier(
    hidden_layer_sizes=(16, 8),
    dropout=0.3,
    class_weight="balanced",
    alpha=1e-2,
    random_state=0,
)
report = check_gradients(probe, X_imb_train[:300], y_imb_train[:300])
print(report.to_string())

# %%
# The figure
# ----------
# Left and middle: training and validation loss per epoch, with the epoch
# that early stopping restored marked on the validation curve. Right: the
# recall of each class on the imbalanced problem, without and with class
# weights.

import matplotlib.pyplot as plt

fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
for ax, (name, history) in zip(axes[:2], curves.items()):
    epochs = np.arange(1, len(history) + 1)
    ax.plot(epochs, history["loss"], label="training loss")
    ax.plot(epochs, history["val_loss"], label="validation loss")
    best = stopped[name]
    ax.plot(
        best,
        history["val_loss"].iloc[best - 1],
        "o",
        color="black",
        label=f"restored by early stopping (epoch {best})",
    )
    ax.set(title=name, xlabel="epoch", ylabel="log-loss", ylim=(0, 2.0))
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")

ax = axes[2]
width = 0.38
positions = np.arange(3)
for k, (label, recall) in enumerate(recalls.items()):
    bars = ax.bar(positions + (k - 0.5) * width, recall, width, label=label)
    ax.bar_label(bars, fmt="%.2f", fontsize="small")
ax.set_xticks(
    positions, [f"class {c}\n({share})" for c, share in enumerate(["90%", "7%", "3%"])]
)
ax.set(ylabel="recall on test data", ylim=(0, 1.1), title="Imbalanced classes")
ax.legend(fontsize="small", loc="upper right")
fig.tight_layout()
plt.show()
