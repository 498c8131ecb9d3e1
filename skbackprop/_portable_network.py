"""The network and its backpropagation on any array-API namespace and device.

The equations are those of :mod:`._network`, in the same row-vector notation
(Manuel Serna-Aguilera's *Neural Network Notes*, Asher Labovich's *Neural
Networks Math*):

- forward: ``Z_l = A_{l-1} W_l + b_l`` and ``A_l = f_l(Z_l)``;
- (1) output error ``dZ_L = A_L - Y`` for the canonical links (Henrik Lund
  Mortensen, *Neural Networks: A simple example*), scaled per sample;
- (2) hidden error ``dZ_l = (dZ_{l+1} W_{l+1}^T) * f_l'(Z_l)``;
- (3) weight gradient ``dW_l = A_{l-1}^T dZ_l``;
- (4) bias gradient ``db_l = sum over rows of dZ_l``.

:class:`~skbackprop._network.Network` computes them for NumPy with
preallocated buffers, compiled kernels and BLAS; this class computes them
with the namespace's own operators and functions, fresh arrays for each
intermediate, so that the work runs where the data is (a GPU, say). The
parameters keep the same layout: one flat vector, weights first, with
``coefs`` and ``intercepts`` views into it, so the optimizers update every
parameter with a few vector operations in either case.
"""

import numpy as np

from ._activations import as_activation
from ._losses import OUTPUT_LAYERS
from ._network import forward_logits, layer_views, segment_bounds
from ._portable_functions import (
    activation_derivative,
    activation_function,
    output_error,
    output_loss,
)

__all__ = ["PortableNetwork", "forward_logits_in", "portable_forward"]


class PortableNetwork:
    """Weights, biases and backpropagation of an MLP in an array space.

    Parameters
    ----------
    layer_units : sequence of int
        Units per layer, input first and output last.
    hidden_activations : sequence of Activation or str
        Activation of each hidden layer.
    output : OutputLayer or str
        The output layer and its loss.
    dtype : numpy dtype
        Floating dtype of the parameters (float32 or float64).
    space : ArraySpace
        Namespace and device of the parameters.

    Attributes
    ----------
    params, grads : array of shape (n_params,)
        All weights then all biases, and the gradient laid out alike.
    coefs, intercepts, coef_grads, intercept_grads : list of array
        Per-layer views into ``params`` and ``grads``.
    n_coef : int
        Number of weights.
    segment_bounds : ndarray of shape (2 * n_layers + 1,)
        Offsets of each layer's weights, then biases, in ``params`` (host).
    """

    def __init__(self, layer_units, hidden_activations, output, dtype, space):
        self.layer_units = tuple(int(u) for u in layer_units)
        self.hidden_activations = tuple(as_activation(a) for a in hidden_activations)
        self.output = OUTPUT_LAYERS[output] if isinstance(output, str) else output
        self.dtype = np.dtype(dtype)
        self.space = space
        xp = space.xp
        self.segment_bounds = segment_bounds(self.layer_units)
        self.n_coef = int(self.segment_bounds[self.n_layers])
        n_params = int(self.segment_bounds[-1])
        xp_dtype = space.dtype(self.dtype)
        self.params = xp.zeros(n_params, dtype=xp_dtype, device=space.device)
        self.grads = xp.zeros(n_params, dtype=xp_dtype, device=space.device)
        self.coefs, self.intercepts = layer_views(self.params, self.layer_units, xp)
        self.coef_grads, self.intercept_grads = layer_views(
            self.grads, self.layer_units, xp
        )

    @property
    def n_layers(self):
        """Number of weight layers ``L``."""
        return len(self.layer_units) - 1

    def set_weights(self, coefs, intercepts):
        """Copy per-layer weights and biases (host or here) into ``params``."""
        for given, views in ((coefs, self.coefs), (intercepts, self.intercepts)):
            for src, dst in zip(given, views, strict=True):
                dst[...] = self.space.asarray(src, self.dtype)

    def allocate(self, batch_size, dropout_rates=()):
        """No buffers: intermediates are fresh arrays of the namespace."""
        return None

    def loss_and_gradient(self, X, Y, sample_weight, workspace=None, dropout=None):
        """Data term of the objective on a batch; its gradient goes to ``grads``.

        Parameters are those of
        :meth:`skbackprop._network.Network.loss_and_gradient`, as arrays of
        this space (``workspace`` is unused). Dropout masks are computed
        here, by the same row hash as with NumPy and equal to its masks.

        Returns
        -------
        loss : 0-d array
            Weighted mean loss, left on the device so that a batch costs no
            synchronisation.
        """
        xp, n = self.space.xp, X.shape[0]
        # Forward: Z_l = A_{l-1} W_l + b_l,  A_l = f_l(Z_l)
        inputs, Zs, As, masks = [X], [], [], []
        A_prev = X
        for layer, activation in enumerate(self.hidden_activations):
            Z = A_prev @ self.coefs[layer] + self.intercepts[layer]
            A = activation_function(activation, xp, Z)
            Zs.append(Z)
            As.append(A)
            mask = self._mask(dropout, layer)
            masks.append(mask)
            # Inverted dropout: the next layer sees A_l * mask.
            A_prev = A if mask is None else A * mask
            inputs.append(A_prev)
        Z_L = A_prev @ self.coefs[-1] + self.intercepts[-1]
        A_L, per_sample = output_loss(self.output, xp, Z_L, Y)
        if sample_weight is None:
            weight_sum = n
            loss = xp.sum(per_sample) / n
            scale = 1.0 / n
        else:
            weight_sum = xp.sum(sample_weight)
            loss = xp.sum(per_sample * sample_weight) / weight_sum
            scale = (sample_weight / weight_sum)[:, None]

        # (1) output error
        dZ = output_error(self.output, xp, A_L, Y) * scale
        for layer in range(self.n_layers - 1, -1, -1):
            # (3) weight gradient and (4) bias gradient
            self.coef_grads[layer][...] = inputs[layer].T @ dZ
            self.intercept_grads[layer][...] = xp.sum(dZ, axis=0)
            if layer > 0:
                # (2) hidden error, through the dropout mask if any
                below = layer - 1
                dZ = dZ @ self.coefs[layer].T
                if masks[below] is not None:
                    dZ = dZ * masks[below]
                derivative = activation_derivative(
                    self.hidden_activations[below], xp, Zs[below], As[below]
                )
                if derivative is not None:
                    dZ = dZ * derivative
        return loss

    def _mask(self, dropout, layer):
        """Layer ``layer``'s dropout mask of the batch here, or None."""
        if dropout is None or dropout.dropout.rates[layer] <= 0:
            return None
        return dropout.mask(layer)

    def layer_gradient_norms(self, out):
        """Squared norm of each layer's gradient, into the host array ``out``."""
        xp = self.space.xp
        for layer, (dW, db) in enumerate(zip(self.coef_grads, self.intercept_grads)):
            out[layer] = float(xp.sum(dW * dW) + xp.sum(db * db))
        return out


def portable_forward(X, coefs, intercepts, activations, xp):
    """Forward pass of a block of layers in namespace ``xp``.

    Parameters
    ----------
    X : array of shape (n_samples, n_features)
        Input data, never modified.
    coefs, intercepts : list of array
        Weights and biases of the layers to run, first layer first.
    activations : list of Activation, str or None
        Activation of each layer; None leaves a layer linear.
    xp : module
        The array namespace of ``X`` and the weights.

    Returns
    -------
    out : array of shape (n_samples, coefs[-1].shape[1])
    """
    A = X
    for W, b, activation in zip(coefs, intercepts, activations):
        A = A @ W + b
        if activation is not None:
            A = activation_function(as_activation(activation), xp, A)
    return A


def forward_logits_in(space, X, coefs, intercepts, hidden_activations):
    """Output-layer pre-activations ``Z_L`` of ``X``, computed in ``space``.

    NumPy takes :func:`~skbackprop._network.forward_logits` (blocked, with
    the compiled kernels); other namespaces :func:`portable_forward`.
    """
    if space.is_numpy:
        return forward_logits(X, coefs, intercepts, hidden_activations)
    return portable_forward(X, coefs, intercepts, [*hidden_activations, None], space.xp)
