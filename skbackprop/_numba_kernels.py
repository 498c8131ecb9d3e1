"""The compiled kernels, written for numba; imported through :mod:`._kernels`.

Each optimizer step is an outer loop over the parameter *segments* (the
weights of each layer, then the biases of each layer, as laid out in
:class:`~skbackprop._network.Network`) and an inner loop over one segment's
elements. The inner loop gets array slices that start at zero and scalars
fixed for the segment: written that way it vectorises, where the same loop
indexing the whole vectors between two bounds does not.

For the first ``n_weight_segments`` segments a step adds the gradient term
``penalty_factor * p`` of the weights' penalty (its factor comes from
:class:`~skbackprop._penalty.WeightPenalty`) to ``g`` before using it; for
every segment it writes the squared norm of that gradient to
``sq_norms[0, segment]`` and the squared norm of the parameters before the
step (the penalty's value needs it) to ``sq_norms[1, segment]``. Scalars come
in the dtype of the vectors, so that float32 arithmetic stays float32 and
vectorises.

Numerics: ``fastmath`` is limited to contraction (fused multiply-add) and
reassociation, which the norms' sums need to vectorise; the updates perform
the numpy path's operations in the same order, so the two agree to rounding.
"""

import numba
import numpy as np

__all__ = [
    "adagrad_step",
    "adam_step",
    "bias_relu",
    "relu_backward",
    "rmsprop_step",
    "sgd_step",
    "softmax_and_loss",
]

# error_model='numpy' lets a division by zero give inf/nan as numpy does,
# instead of a check per element that stops vectorisation.
_OPTIONS = dict(
    nogil=True,
    error_model="numpy",
    fastmath={"contract", "reassoc"},
    boundscheck=False,
)


def _jit(function):
    """Compile on first call; cache the machine code on disk where possible."""
    try:
        return numba.njit(cache=True, **_OPTIONS)(function)
    except RuntimeError:  # pragma: no cover - no writable cache location
        return numba.njit(**_OPTIONS)(function)


@_jit
def _adam_segment(
    params, grads, m, v, penalty_factor, shrink,
    beta_1, one_minus_beta_1, beta_2, one_minus_beta_2, step_size, epsilon,
):  # fmt: skip
    total = params.dtype.type(0)
    squares = params.dtype.type(0)
    for i in range(params.shape[0]):
        p = params[i]
        squares += p * p
        g = grads[i] + penalty_factor * p
        total += g * g
        m_i = beta_1 * m[i] + one_minus_beta_1 * g
        v_i = beta_2 * v[i] + one_minus_beta_2 * (g * g)
        m[i] = m_i
        v[i] = v_i
        params[i] = shrink * p - step_size * (m_i / (np.sqrt(v_i) + epsilon))
    return total, squares


@_jit
def adam_step(
    params, grads, m, v, bounds, n_weight_segments, penalty_factor, decay,
    beta_1, one_minus_beta_1, beta_2, one_minus_beta_2, step_size, epsilon,
    sq_norms,
):  # fmt: skip
    """Adam, and AdamW when ``decay`` < 1 (weights only), in one pass.

    ``g = grad + penalty_factor p``; ``m = b1 m + (1 - b1) g``;
    ``v = b2 v + (1 - b2) g^2``; ``p = decay p - step_size m / (sqrt(v) + eps)``.
    """
    for k in range(bounds.shape[0] - 1):
        a, b = bounds[k], bounds[k + 1]
        is_weight = k < n_weight_segments
        sq_norms[0, k], sq_norms[1, k] = _adam_segment(
            params[a:b], grads[a:b], m[a:b], v[a:b],
            penalty_factor if is_weight else params.dtype.type(0),
            decay if is_weight else params.dtype.type(1),
            beta_1, one_minus_beta_1, beta_2, one_minus_beta_2, step_size, epsilon,
        )  # fmt: skip


@_jit
def _sgd_segment(
    params, grads, velocity, penalty_factor, momentum, learning_rate, nesterov
):
    total = params.dtype.type(0)
    squares = params.dtype.type(0)
    for i in range(params.shape[0]):
        p = params[i]
        squares += p * p
        g = grads[i] + penalty_factor * p
        total += g * g
        v_i = momentum * velocity[i] - learning_rate * g
        velocity[i] = v_i
        if nesterov:
            params[i] = p + momentum * v_i - learning_rate * g
        else:
            params[i] = p + v_i
    return total, squares


@_jit
def sgd_step(
    params, grads, velocity, bounds, n_weight_segments, penalty_factor,
    momentum, learning_rate, nesterov, sq_norms,
):  # fmt: skip
    """SGD with momentum in one pass.

    ``v = momentum v - lr g``, then ``p += v`` or, with Nesterov's momentum,
    ``p += momentum v - lr g``.
    """
    for k in range(bounds.shape[0] - 1):
        a, b = bounds[k], bounds[k + 1]
        sq_norms[0, k], sq_norms[1, k] = _sgd_segment(
            params[a:b], grads[a:b], velocity[a:b],
            penalty_factor if k < n_weight_segments else params.dtype.type(0),
            momentum, learning_rate, nesterov,
        )  # fmt: skip


@_jit
def _rmsprop_segment(params, grads, v, penalty_factor, rho, one_minus_rho, lr, eps):
    total = params.dtype.type(0)
    squares = params.dtype.type(0)
    for i in range(params.shape[0]):
        p = params[i]
        squares += p * p
        g = grads[i] + penalty_factor * p
        total += g * g
        v_i = rho * v[i] + one_minus_rho * (g * g)
        v[i] = v_i
        params[i] = p - lr * (g / (np.sqrt(v_i) + eps))
    return total, squares


@_jit
def rmsprop_step(
    params, grads, v, bounds, n_weight_segments, penalty_factor,
    rho, one_minus_rho, learning_rate, epsilon, sq_norms,
):  # fmt: skip
    """RMSprop in one pass: ``v = rho v + (1 - rho) g^2``,
    ``p -= lr g / (sqrt(v) + eps)``."""
    for k in range(bounds.shape[0] - 1):
        a, b = bounds[k], bounds[k + 1]
        sq_norms[0, k], sq_norms[1, k] = _rmsprop_segment(
            params[a:b], grads[a:b], v[a:b],
            penalty_factor if k < n_weight_segments else params.dtype.type(0),
            rho, one_minus_rho, learning_rate, epsilon,
        )  # fmt: skip


@_jit
def _adagrad_segment(params, grads, G, penalty_factor, lr, epsilon):
    total = params.dtype.type(0)
    squares = params.dtype.type(0)
    for i in range(params.shape[0]):
        p = params[i]
        squares += p * p
        g = grads[i] + penalty_factor * p
        total += g * g
        G_i = G[i] + g * g
        G[i] = G_i
        params[i] = p - lr * (g / (np.sqrt(G_i) + epsilon))
    return total, squares


@_jit
def adagrad_step(
    params, grads, G, bounds, n_weight_segments, penalty_factor,
    learning_rate, epsilon, sq_norms,
):  # fmt: skip
    """Adagrad in one pass: ``G += g^2``, ``p -= lr g / (sqrt(G) + eps)``."""
    for k in range(bounds.shape[0] - 1):
        a, b = bounds[k], bounds[k + 1]
        sq_norms[0, k], sq_norms[1, k] = _adagrad_segment(
            params[a:b], grads[a:b], G[a:b],
            penalty_factor if k < n_weight_segments else params.dtype.type(0),
            learning_rate, epsilon,
        )  # fmt: skip


# Element-wise passes of the forward and backward pass. A numpy expression
# spends one pass per operation plus a call overhead per operation, which at
# the output layer (a batch x 10 array) is most of the time.


@_jit
def bias_relu(Z, bias):
    """``Z = max(Z + b, 0)`` in place, row by row (NaN stays NaN, as in numpy)."""
    zero = Z.dtype.type(0)
    for i in range(Z.shape[0]):
        row = Z[i]
        for j in range(row.shape[0]):
            z = row[j] + bias[j]
            row[j] = zero if z < zero else z


@_jit
def relu_backward(delta, A):
    """``delta *= (A > 0)`` in one pass (numpy takes two: the 0/1 factor, the
    product)."""
    zero = delta.dtype.type(0)
    one = delta.dtype.type(1)
    for i in range(delta.shape[0]):
        d = delta[i]
        a = A[i]
        for j in range(d.shape[0]):
            d[j] = d[j] * (one if a[j] > zero else zero)


@_jit
def softmax_and_loss(Z, A, Y, sample_weight):
    """Softmax of each row of ``Z`` into ``A``; the summed cross-entropy.

    Row by row: ``A_i = exp(z_i - max z_i) / sum exp(z_i - max z_i)`` and
    ``C_i = log sum exp(z_i) - y_i . z_i``; returns ``sum_i w_i C_i`` in
    float64 (``w_i = 1`` when ``sample_weight`` is None).
    """
    total = 0.0
    for i in range(Z.shape[0]):
        z = Z[i]
        a = A[i]
        row_max = z[0]
        for k in range(1, z.shape[0]):
            if z[k] > row_max or z[k] != z[k]:  # NaN wins, as in numpy's max
                row_max = z[k]
        row_sum = z.dtype.type(0)
        for k in range(z.shape[0]):
            e = np.exp(z[k] - row_max)
            a[k] = e
            row_sum += e
        target_logit = z.dtype.type(0)
        for k in range(z.shape[0]):
            a[k] /= row_sum
            target_logit += Y[i, k] * z[k]
        loss = np.log(row_sum) + row_max - target_logit
        if sample_weight is None:
            total += loss
        else:
            total += sample_weight[i] * loss
    return total
