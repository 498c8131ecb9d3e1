"""The network's parameters and its forward and backward pass.

Notation follows Manuel Serna-Aguilera's *Neural Network Notes* and Asher
Labovich's *Neural Networks Math* in row-vector form, vectorised over a
mini-batch of ``n`` samples, layer ``l = 1 .. L``:

- forward: ``Z_l = A_{l-1} W_l + b_l`` and ``A_l = f_l(Z_l)``, with
  ``A_0 = X``; ``W_l`` has shape ``(n_{l-1}, n_l)`` as in ``coefs_``.
- backward, the four equations:

  1. output error  ``dZ_L = A_L - Y``  (the canonical link of Henrik Lund
     Mortensen's *Neural Networks: A simple example*)
  2. hidden error  ``dZ_l = (dZ_{l+1} W_{l+1}^T) * f_l'(Z_l)``
  3. weight gradient  ``dW_l = A_{l-1}^T dZ_l``
  4. bias gradient  ``db_l = sum over rows of dZ_l``

The network computes the data term of the objective, the sample-weighted
mean loss, and its gradient; the penalty on the weights is added by
:class:`~skbackprop._penalty.WeightPenalty`. The weights enter through
``dZ_L``, already divided by ``sum(sample_weight)``, so equations 3 and 4
give the mean's gradient directly.

All weights and biases live in one contiguous vector (weights first, then
biases) and ``coefs_``/``intercepts_`` are views into it: an optimizer updates
every parameter with a single vector operation, and the L2 penalty and its
gradient touch one contiguous slice.
"""

from itertools import pairwise

import numpy as np
import scipy.sparse as sp

from ._activations import buffered
from ._array_api import NUMPY
from ._losses import OUTPUT_LAYERS

__all__ = ["Network", "forward", "forward_logits", "layer_views", "segment_bounds"]


def _dot(A, W, out):
    """``out[...] = A @ W`` for dense or sparse ``A`` without a temporary."""
    if isinstance(A, np.ndarray):  # a type check: cheaper than issparse
        return np.matmul(A, W, out=out)
    out[...] = A @ W
    return out


def segment_bounds(layer_units):
    """Where each layer's weights, then each layer's biases, lie in the flat
    parameter vector: the segments an optimizer step walks.

    Parameters
    ----------
    layer_units : sequence of int
        Units per layer, input first and output last.

    Returns
    -------
    bounds : ndarray of int64, shape (2 * n_layers + 1,)
        Offsets: ``bounds[l]`` to ``bounds[l + 1]`` hold layer ``l``'s
        weights (row-major, ``n_in x n_out``), and ``bounds[L + l]`` to
        ``bounds[L + l + 1]`` its biases.
    """
    sizes = [n_in * n_out for n_in, n_out in pairwise(layer_units)]
    sizes += list(layer_units[1:])
    return np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)


def layer_views(flat, layer_units, xp=np):
    """Per-layer weight matrices and bias vectors, as views into ``flat``.

    Parameters
    ----------
    flat : array of shape (n_params,)
        Laid out as :func:`segment_bounds` says.
    layer_units : sequence of int
        Units per layer, input first and output last.
    xp : array namespace, default=numpy
        The namespace of ``flat``.

    Returns
    -------
    coefs, intercepts : list of array
    """
    bounds = segment_bounds(layer_units)
    shapes = list(pairwise(layer_units))
    n = len(shapes)
    coefs = [
        xp.reshape(flat[int(bounds[k]) : int(bounds[k + 1])], shape)
        for k, shape in enumerate(shapes)
    ]
    intercepts = [flat[int(bounds[n + k]) : int(bounds[n + k + 1])] for k in range(n)]
    return coefs, intercepts


class Network:
    """Weights and biases of a multilayer perceptron, and its backpropagation.

    Parameters
    ----------
    layer_units : sequence of int
        Units per layer, input first and output last.
    hidden_activations : sequence of Activation or str
        Activation of each hidden layer, or its canonical name.
    output : OutputLayer or {'softmax', 'logistic'}
        The output layer and its loss (see :mod:`._losses`), or the name of
        a classification output layer.
    dtype : numpy dtype
        Floating dtype of parameters and buffers.

    Attributes
    ----------
    params : ndarray of shape (n_params,)
        All weights, then all biases.
    grads : ndarray of shape (n_params,)
        Gradient of the objective, laid out like ``params``.
    coefs, intercepts : list of ndarray
        Per-layer views into ``params``.
    coef_grads, intercept_grads : list of ndarray
        Per-layer views into ``grads``.
    n_coef : int
        Number of weights; ``params[:n_coef]`` are all the weights.
    segment_bounds : ndarray of shape (2 * n_layers + 1,)
        Offsets of each layer's weights, then each layer's biases, in
        ``params``.
    """

    # Where the parameters live: NumPy here; see PortableNetwork for others.
    space = NUMPY

    def __init__(self, layer_units, hidden_activations, output, dtype):
        self.layer_units = tuple(int(u) for u in layer_units)
        self.hidden_activations = tuple(buffered(a) for a in hidden_activations)
        self.output = OUTPUT_LAYERS[output] if isinstance(output, str) else output
        self.dtype = np.dtype(dtype)

        self.segment_bounds = segment_bounds(self.layer_units)
        self.n_coef = int(self.segment_bounds[self.n_layers])
        n_params = int(self.segment_bounds[-1])
        self.params = np.zeros(n_params, dtype=self.dtype)
        self.grads = np.zeros(n_params, dtype=self.dtype)
        self.coefs, self.intercepts = layer_views(self.params, self.layer_units)
        self.coef_grads, self.intercept_grads = layer_views(
            self.grads, self.layer_units
        )

    @property
    def n_layers(self):
        """Number of weight layers ``L``."""
        return len(self.layer_units) - 1

    def set_weights(self, coefs, intercepts):
        """Copy per-layer weights and biases into the flat buffer.

        Raises
        ------
        ValueError
            If a shape does not match the architecture.
        """
        for name, given, views in (
            ("coefs_", coefs, self.coefs),
            ("intercepts_", intercepts, self.intercepts),
        ):
            if len(given) != len(views):
                raise ValueError(
                    f"{name} has {len(given)} layers; the network has {len(views)}."
                )
            for layer, (src, dst) in enumerate(zip(given, views)):
                src = np.asarray(src)
                if src.shape != dst.shape:
                    raise ValueError(
                        f"{name}[{layer}] has shape {src.shape}; the network "
                        f"expects {dst.shape}."
                    )
                np.copyto(dst, src, casting="same_kind")

    def allocate(self, batch_size, dropout_rates=()):
        """Preallocate the per-layer buffers of a batch of ``batch_size`` rows.

        Parameters
        ----------
        batch_size : int
            Largest batch.
        dropout_rates : sequence of float, default=()
            Drop probability per hidden layer; layers with a positive rate get
            mask buffers.
        """
        return _Workspace(self, batch_size, dropout_rates)

    def loss_and_gradient(self, X, Y, sample_weight, workspace, dropout=None):
        """Data term of the objective on a batch; its gradient goes to ``grads``.

        Parameters
        ----------
        X : ndarray or sparse matrix of shape (n, n_features)
            Batch inputs ``A_0``; never written to.
        Y : ndarray of shape (n, n_outputs)
            Binarized targets in the network's dtype.
        sample_weight : ndarray of shape (n,) or None
            Per-sample weights.
        workspace : _Workspace
            Buffers from :meth:`allocate` with at least ``n`` rows.
        dropout : DropoutBatch or None, default=None
            Draws the inverted-dropout masks of the hidden layers.

        Returns
        -------
        loss : float
            Weighted mean cross-entropy.
        """
        n = X.shape[0]
        Zs, As, dZs = workspace.views(n)
        masks, dropped = workspace.dropout_views(n) if dropout else ((), ())
        L = self.n_layers

        # Forward: Z_l = A_{l-1} W_l + b_l,  A_l = f_l(Z_l)
        A_prev = X
        for l, activation in enumerate(self.hidden_activations):
            _dot(A_prev, self.coefs[l], out=Zs[l])
            # + b_l and f_l together (one pass where a kernel does both)
            A_prev = activation.forward_with_bias(Zs[l], self.intercepts[l], As[l])
            if dropout is not None and masks[l] is not None:
                # Inverted dropout: the next layer sees A_l * mask; the
                # derivative below still reads the undropped A_l.
                dropout.fill_mask(l, out=masks[l])
                A_prev = np.multiply(A_prev, masks[l], out=dropped[l])
        _dot(A_prev, self.coefs[L - 1], out=Zs[L - 1])
        Zs[L - 1] += self.intercepts[L - 1]

        if sample_weight is None:
            weight_sum = float(n)
            sample_scale = 1.0 / n
        else:
            weight_sum = float(sample_weight.sum())
            sample_scale = workspace.sample_scale(sample_weight, weight_sum)
        loss = self.output.activate_and_loss(Zs[L - 1], As[L - 1], Y, sample_weight)
        loss /= weight_sum

        # (1) output error
        self.output.error(As[L - 1], Y, sample_scale, out=dZs[L - 1])
        for l in range(L - 1, -1, -1):
            if l == 0:
                A_prev = X
            elif dropout is not None and masks[l - 1] is not None:
                A_prev = dropped[l - 1]
            else:
                A_prev = As[l - 1]
            # (3) weight gradient and (4) bias gradient
            _dot(A_prev.T, dZs[l], out=self.coef_grads[l])
            # column sums as a product with ones: one BLAS call instead of
            # numpy's reduction, which is slower on a batch's few hundred rows
            np.matmul(workspace.ones[:n], dZs[l], out=self.intercept_grads[l])
            if l > 0:
                # (2) hidden error, through the dropout mask if any
                np.matmul(dZs[l], self.coefs[l].T, out=dZs[l - 1])
                if dropout is not None and masks[l - 1] is not None:
                    dZs[l - 1] *= masks[l - 1]
                activation = self.hidden_activations[l - 1]
                kept_Z = None if activation.in_place else Zs[l - 1]
                scratch = (
                    None
                    if activation.scratch_free(self.dtype)
                    else workspace.scratch(dZs[l - 1].shape)
                )
                activation.multiply_derivative(dZs[l - 1], As[l - 1], kept_Z, scratch)
        return loss

    def layer_gradient_norms(self, out):
        """Squared norm of each layer's gradient (weights and biases together).

        Parameters
        ----------
        out : ndarray of shape (n_layers,)
            Receives the squared norms.

        Returns
        -------
        out : ndarray
        """
        for l, (dW, db) in enumerate(zip(self.coef_grads, self.intercept_grads)):
            flat = dW.reshape(-1)
            out[l] = np.dot(flat, flat) + np.dot(db, db)
        return out


class _Workspace:
    """Per-layer buffers for batches of up to ``batch_size`` rows.

    ``Z[l]`` holds the pre-activation of layer ``l + 1`` and ``A[l]`` its
    activation; for in-place activations they are the same array. The output
    layer keeps both because the loss needs the logits. ``dZ[l]`` holds the
    error of layer ``l + 1``. Hidden layers with dropout also get a mask and
    the dropped activations.
    """

    def __init__(self, network, batch_size, dropout_rates=()):
        dtype = network.dtype
        units = network.layer_units[1:]
        n_hidden = len(network.hidden_activations)
        self.batch_size = batch_size
        self.dtype = dtype
        self.Z = [np.empty((batch_size, u), dtype=dtype) for u in units]
        self.A = [
            Z
            if l < n_hidden and network.hidden_activations[l].in_place
            else np.empty_like(Z)
            for l, Z in enumerate(self.Z)
        ]
        self.dZ = [np.empty((batch_size, u), dtype=dtype) for u in units]
        rates = tuple(dropout_rates) or (0.0,) * n_hidden
        self.masks = [
            np.empty((batch_size, u), dtype=dtype) if rate > 0 else None
            for u, rate in zip(units[:n_hidden], rates)
        ]
        self.dropped = [None if m is None else np.empty_like(m) for m in self.masks]
        # Allocated on first use: the derivatives of some activations (ReLU
        # with the compiled kernels, identity) never need it.
        self._scratch = None
        self._scratch_size = batch_size * max(units)
        self.ones = np.ones(batch_size, dtype=dtype)
        self._sample_scale = np.empty((batch_size, 1), dtype=dtype)

    def views(self, n):
        """Buffers trimmed to the first ``n`` rows (contiguous views)."""
        if n == self.batch_size:
            return self.Z, self.A, self.dZ
        return (
            [b[:n] for b in self.Z],
            [b[:n] for b in self.A],
            [b[:n] for b in self.dZ],
        )

    def dropout_views(self, n):
        """Masks and dropped activations trimmed to ``n`` rows (or None)."""
        return (
            [None if m is None else m[:n] for m in self.masks],
            [None if d is None else d[:n] for d in self.dropped],
        )

    def scratch(self, shape):
        """A scratch view of the given 2-D shape."""
        if self._scratch is None:
            self._scratch = np.empty(self._scratch_size, dtype=self.dtype)
        return self._scratch[: shape[0] * shape[1]].reshape(shape)

    def sample_scale(self, sample_weight, weight_sum):
        """``sample_weight / weight_sum`` as a column, without allocating."""
        column = self._sample_scale[: sample_weight.shape[0], 0]
        np.divide(sample_weight, weight_sum, out=column)
        return self._sample_scale[: sample_weight.shape[0]]


# Prediction walks the rows in blocks whose widest activation takes about
# 1 MiB, so each block's activations stay in the core's cache between one
# layer's product and the next, and the buffers are reused across blocks
# instead of allocating (and page-faulting) full-height arrays.
_BLOCK_BYTES = 1 << 20


def forward(X, coefs, intercepts, activations):
    """Forward pass of a block of layers, for prediction and ``transform``.

    Computes ``A_l = f_l(A_{l-1} W_l + b_l)`` layer after layer; a layer
    whose activation is None is left linear (the output layer's logits).
    Allocates its own buffers and writes nothing shared, so concurrent
    calls are safe and the caller's ``X`` is never modified.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
        Input data.
    coefs, intercepts : list of ndarray
        Weights and biases of the layers to run, first layer first.
    activations : list of Activation, str or None
        Activation of each of these layers, or its canonical name; None for
        a linear layer.

    Returns
    -------
    out : ndarray of shape (n_samples, coefs[-1].shape[1])
        Output of the last layer.
    """
    n = X.shape[0]
    dtype = np.result_type(X.dtype, *coefs)
    out = np.empty((n, coefs[-1].shape[1]), dtype=dtype)
    widest = max(W.shape[1] for W in coefs)
    rows = max(64, _BLOCK_BYTES // (widest * dtype.itemsize))
    if sp.issparse(X):
        rows = n  # slicing sparse rows costs more than blocking saves
    # Per layer: W, b, f, and the buffers of Z and A (None: the output block).
    plan = []
    for index, (W, b, given) in enumerate(zip(coefs, intercepts, activations)):
        activation = None if given is None else buffered(given)
        in_place = activation is None or activation.in_place
        shape = (min(rows, n), W.shape[1])
        if index == len(coefs) - 1:
            Z = None if in_place else np.empty(shape, dtype=dtype)
            A = None
        else:
            Z = np.empty(shape, dtype=dtype)
            A = Z if in_place else np.empty(shape, dtype=dtype)
        plan.append((W, b, activation, Z, A))

    for start in range(0, n, rows):
        stop = min(start + rows, n)
        block_out = out[start:stop]
        A_prev = X if rows >= n else X[start:stop]
        for W, b, activation, Z_buffer, A_buffer in plan:
            Z = block_out if Z_buffer is None else Z_buffer[: stop - start]
            _dot(A_prev, W, out=Z)
            if activation is None:
                Z += b
                A_prev = Z
            else:
                # An in-place f writes into Z itself, passed as the same view
                # so that forward_with_bias can fuse the bias add and f.
                if A_buffer is Z_buffer:
                    A = Z
                elif A_buffer is None:
                    A = block_out
                else:
                    A = A_buffer[: stop - start]
                A_prev = activation.forward_with_bias(Z, b, A)
    return out


def forward_logits(X, coefs, intercepts, hidden_activations):
    """Output-layer pre-activations ``Z_L`` for prediction.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
        Input data.
    coefs, intercepts : list of ndarray
        Per-layer weights and biases.
    hidden_activations : sequence of Activation or str
        Activation of each hidden layer, or its canonical name.

    Returns
    -------
    Z_L : ndarray of shape (n_samples, n_outputs)
    """
    return forward(X, coefs, intercepts, [*hidden_activations, None])
