"""Optional PyTorch baseline: a plain CPU training loop for the same MLP.

The loop mirrors what :class:`sklearn.neural_network.MLPClassifier` does with
``solver="adam"`` so the three columns of the benchmark train the same model:

* the same layer sizes, ReLU hidden activations and a softmax output trained
  on the mean cross-entropy;
* Glorot-uniform initialisation of weights *and* biases with bound
  ``sqrt(6 / (fan_in + fan_out))``, as scikit-learn does for ReLU;
* Adam with scikit-learn's defaults (``lr=1e-3``, ``betas=(0.9, 0.999)``,
  ``eps=1e-8``) and its L2 penalty: scikit-learn adds ``alpha * W / batch``
  to the weight gradients (not to the biases), which is Adam's coupled
  ``weight_decay = alpha / batch_size`` on the weight tensors only;
* a fresh shuffle of the rows every epoch and mini-batches of ``batch_size``
  rows, the last one possibly shorter;
* the same dtype as the numpy estimators and an explicit thread count.

Importing this module never imports torch; :func:`torch_available` does.
"""

from __future__ import annotations

import importlib.util
import math
from itertools import pairwise

import numpy as np


def torch_available():
    """Return whether PyTorch can be imported, without importing it."""
    return importlib.util.find_spec("torch") is not None


def torch_version():
    """Return the installed PyTorch version, or ``None`` without torch."""
    if not torch_available():
        return None
    import torch

    return torch.__version__


class TorchMLPClassifier:
    """Minimal estimator-like wrapper around a PyTorch MLP training loop.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int
        Width of each hidden layer.
    batch_size : int
        Rows per mini-batch.
    max_iter : int
        Number of epochs; training always runs exactly this many.
    alpha : float, default=1e-4
        L2 penalty, with scikit-learn's scaling (see module docstring).
    learning_rate_init : float, default=1e-3
        Adam step size.
    random_state : int, default=0
        Seed of the initial weights and of the per-epoch shuffles.
    dtype : numpy dtype, default=np.float32
        Dtype of the parameters and of the data.
    n_threads : int or None, default=None
        Passed to :func:`torch.set_num_threads` for the duration of ``fit``
        and ``predict_proba``; ``None`` leaves torch's setting alone.
    """

    def __init__(
        self,
        hidden_layer_sizes,
        batch_size,
        max_iter,
        alpha=1e-4,
        learning_rate_init=1e-3,
        random_state=0,
        dtype=np.float32,
        n_threads=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.alpha = alpha
        self.learning_rate_init = learning_rate_init
        self.random_state = random_state
        self.dtype = dtype
        self.n_threads = n_threads

    def _torch_dtype(self):
        import torch

        return torch.float64 if np.dtype(self.dtype) == np.float64 else torch.float32

    def _build_model(self, n_features, n_classes, generator):
        """Create the layer stack with scikit-learn's Glorot-uniform init."""
        import torch
        from torch import nn

        widths = [n_features, *self.hidden_layer_sizes, n_classes]
        layers = []
        for fan_in, fan_out in pairwise(widths):
            linear = nn.Linear(fan_in, fan_out, dtype=self._torch_dtype())
            bound = math.sqrt(6.0 / (fan_in + fan_out))
            with torch.no_grad():
                linear.weight.uniform_(-bound, bound, generator=generator)
                linear.bias.uniform_(-bound, bound, generator=generator)
            layers += [linear, nn.ReLU()]
        return nn.Sequential(*layers[:-1])  # no activation after the output

    def _make_optimizer(self):
        """Adam with the L2 penalty applied to weights only, as scikit-learn."""
        import torch

        weights = [p for name, p in self.model_.named_parameters() if "weight" in name]
        biases = [p for name, p in self.model_.named_parameters() if "bias" in name]
        return torch.optim.Adam(
            [
                {"params": weights, "weight_decay": self.alpha / self.batch_size},
                {"params": biases, "weight_decay": 0.0},
            ],
            lr=self.learning_rate_init,
            betas=(0.9, 0.999),
            eps=1e-8,
        )

    def _thread_guard(self):
        """Context manager that pins torch's intra-op thread count."""
        import contextlib

        import torch

        @contextlib.contextmanager
        def guard():
            previous = torch.get_num_threads()
            if self.n_threads is not None:
                torch.set_num_threads(self.n_threads)
            try:
                yield
            finally:
                torch.set_num_threads(previous)

        return guard()

    def fit(self, X, y):
        """Train for exactly ``max_iter`` epochs.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
        y : ndarray of shape (n_samples,)
            Integer labels.

        Returns
        -------
        self : TorchMLPClassifier
        """
        import torch
        import torch.nn.functional as F

        with self._thread_guard():
            self.classes_, y_codes = np.unique(y, return_inverse=True)
            generator = torch.Generator().manual_seed(int(self.random_state))
            self.model_ = self._build_model(X.shape[1], len(self.classes_), generator)
            optimizer = self._make_optimizer()
            # from_numpy shares memory: no copy of the training data is made.
            X_t = torch.from_numpy(np.ascontiguousarray(X, dtype=self.dtype))
            y_t = torch.from_numpy(y_codes.astype(np.int64))
            n_samples = X_t.shape[0]
            for _ in range(self.max_iter):
                order = torch.randperm(n_samples, generator=generator)
                for start in range(0, n_samples, self.batch_size):
                    batch = order[start : start + self.batch_size]
                    optimizer.zero_grad(set_to_none=True)
                    loss = F.cross_entropy(self.model_(X_t[batch]), y_t[batch])
                    loss.backward()
                    optimizer.step()
        return self

    def predict_proba(self, X):
        """Return class probabilities (softmax of the output layer).

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        import torch

        with self._thread_guard(), torch.no_grad():
            logits = self.model_(torch.from_numpy(np.asarray(X, dtype=self.dtype)))
            return torch.softmax(logits, dim=1).numpy()

    def score(self, X, y):
        """Return the accuracy on ``(X, y)``."""
        predicted = self.classes_[np.argmax(self.predict_proba(X), axis=1)]
        return float(np.mean(predicted == y))
