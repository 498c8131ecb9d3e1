"""Optional compiled kernels: one pass over the parameters per optimizer step.

A numpy optimizer step streams the parameter-sized vectors through memory
once per operation: Adam takes nine passes (scale ``m``, add ``g``, scale
``v``, square ``g``, add it, square root, add ``eps``, divide, add to the
weights), plus one to add the L2 gradient ``alpha W / sum(sw)`` and one per
layer for the gradient norms. Each kernel here does all of that in a single
loop that reads every vector once and writes it once, which measured 3-4x
faster than the numpy passes (235k parameters, one core).

The kernels are compiled with numba when it is installed (the ``fast``
extra); without numba, or with the environment variable
``SKBACKPROP_DISABLE_NUMBA`` set to a non-empty value other than ``0``,
:func:`enabled` is False and the optimizers take their numpy path, which the
tests hold to the same results.

Every kernel walks the parameters in *segments* given by ``bounds``: the
weights of each layer first, then the biases of each layer, as laid out in
:class:`~skbackprop._network.Network`. For the first ``n_weight_segments``
segments the kernel adds the L2 gradient ``l2 * p`` to ``g`` before using
it; for every segment it writes the squared norm of the (penalised)
gradient to ``sq_norms[0, segment]`` and the squared norm of the parameters
before the step (for the penalty's term of the loss) to
``sq_norms[1, segment]``. Scalars must be passed in the dtype of the vectors,
so that float32 arithmetic stays float32 and vectorises.

Numerics: ``fastmath`` is limited to contraction (fused multiply-add) and
reassociation, which the norm's sum needs to vectorise; the update itself
performs the same operations as the numpy path in the same order, so the two
agree to rounding (a few units in the last place per step).
"""

import importlib.util
import os
import warnings

import numpy as np

_KERNELS = (
    "adam_step",
    "sgd_step",
    "rmsprop_step",
    "adagrad_step",
    "bias_relu",
    "relu_backward",
    "softmax_and_loss",
)
__all__ = ["enabled", *_KERNELS]

_DISABLED = os.environ.get("SKBACKPROP_DISABLE_NUMBA", "") not in ("", "0")
_KERNEL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))

# Switched off by tests to exercise the numpy path in the same process.
use_kernels = not _DISABLED and importlib.util.find_spec("numba") is not None

# name -> compiled function, filled on first use: importing numba takes
# ~0.2 s, which only a fit that runs a kernel should pay.
_compiled = {}
# The compiled segment loops, which the compiled steps call (set on first use).
_adam_segment_kernel = _sgd_segment_kernel = None
_rmsprop_segment_kernel = _adagrad_segment_kernel = None


# Dtypes whose kernels have been compiled (or loaded from the cache) and run.
_ready = set()


def enabled(dtype):
    """Whether compiled kernels handle vectors of this dtype.

    The first call for a dtype imports numba and compiles every kernel for it
    on tiny arrays, so that a numba that cannot (an incompatible version, a
    broken installation) fails here, with a warning and the numpy path from
    then on, rather than in the middle of a fit.

    Parameters
    ----------
    dtype : numpy dtype
        Dtype of the parameter vector.

    Returns
    -------
    bool
    """
    global use_kernels
    if not use_kernels:
        return False
    dtype = np.dtype(dtype)
    if dtype in _ready:
        return True
    if dtype not in _KERNEL_DTYPES:
        return False
    try:
        if not _compiled:
            _compile_all()
        _run_once(dtype.type)
    except Exception as exc:  # numba raises many types; any means "not here"
        use_kernels = False
        warnings.warn(
            f"numba is installed but could not compile skbackprop's kernels "
            f"({type(exc).__name__}: {exc}); skbackprop uses its numpy code "
            f"paths instead.",
            RuntimeWarning,
        )
        return False
    _ready.add(dtype)
    return True


def _run_once(scalar):
    """Call every kernel once on tiny arrays of dtype ``scalar``."""
    vector = np.zeros(4, dtype=scalar)
    bounds = np.array([0, 2, 4], dtype=np.int64)
    sq_norms = np.zeros((2, 2), dtype=scalar)
    one, zero = scalar(1), scalar(0)
    _compiled["adam_step"](
        vector.copy(), vector.copy(), vector.copy(), vector.copy(), bounds, 1,
        zero, one, one, zero, one, zero, one, one, sq_norms,
    )  # fmt: skip
    for nesterov in (False, True):
        _compiled["sgd_step"](
            vector.copy(), vector.copy(), vector.copy(), bounds, 1, zero,
            one, one, nesterov, sq_norms,
        )  # fmt: skip
    _compiled["rmsprop_step"](
        vector.copy(), vector.copy(), vector.copy(), bounds, 1, zero,
        one, zero, one, one, sq_norms,
    )  # fmt: skip
    _compiled["adagrad_step"](
        vector.copy(), vector.copy(), vector.copy(), bounds, 1, zero, one, one,
        sq_norms,
    )  # fmt: skip
    block = np.zeros((2, 2), dtype=scalar)
    _compiled["bias_relu"](block, vector[:2])
    _compiled["relu_backward"](block, block.copy())
    for weights in (None, np.ones(2)):
        _compiled["softmax_and_loss"](block, block.copy(), block.copy(), weights)


def _compile_all():
    """Wrap every kernel for numba, which compiles each on its first call.

    The machine code is cached on disk where numba finds a writable place.
    ``error_model='numpy'`` lets a division by zero give inf/nan as numpy
    does, instead of a check per element that stops vectorisation.
    """
    import numba

    options = dict(
        nogil=True,
        error_model="numpy",
        fastmath={"contract", "reassoc"},
        boundscheck=False,
    )

    def jit(function):
        try:
            return numba.njit(cache=True, **options)(function)
        except RuntimeError:  # pragma: no cover - no writable cache location
            return numba.njit(**options)(function)

    # The segment loops first: the steps call them through these globals,
    # which numba resolves when it compiles a step.
    for name in ("adam", "sgd", "rmsprop", "adagrad"):
        globals()[f"_{name}_segment_kernel"] = jit(globals()[f"_{name}_segment"])
    for name in _KERNELS:
        _compiled[name] = jit(globals()["_" + name])
    # From now on the module's names are the dispatchers themselves, which
    # saves the forwarding call on every use (about a microsecond).
    globals().update(_compiled)


def _entry(name):
    """The public face of kernel ``name``: calls its compiled version."""

    def call(*args):
        return _compiled[name](*args)

    call.__name__ = call.__qualname__ = name
    call.__doc__ = f"Compiled :func:`_{name}` (call :func:`enabled` first)."
    return call


adam_step = _entry("adam_step")
sgd_step = _entry("sgd_step")
rmsprop_step = _entry("rmsprop_step")
adagrad_step = _entry("adagrad_step")
bias_relu = _entry("bias_relu")
relu_backward = _entry("relu_backward")
softmax_and_loss = _entry("softmax_and_loss")


# Each step is an outer loop over the segments and an inner loop over one
# segment's elements. The inner loop gets array slices that start at zero and
# scalars fixed for the segment: written that way it vectorises (measured 3x
# faster than the same loop indexing the whole vectors between two bounds).


def _adam_segment(
    params, grads, m, v, lam, shrink,
    beta_1, one_minus_beta_1, beta_2, one_minus_beta_2, step_size, epsilon,
):  # fmt: skip
    total = params.dtype.type(0)
    squares = params.dtype.type(0)
    for i in range(params.shape[0]):
        p = params[i]
        squares += p * p
        g = grads[i] + lam * p
        total += g * g
        m_i = beta_1 * m[i] + one_minus_beta_1 * g
        v_i = beta_2 * v[i] + one_minus_beta_2 * (g * g)
        m[i] = m_i
        v[i] = v_i
        params[i] = shrink * p - step_size * (m_i / (np.sqrt(v_i) + epsilon))
    return total, squares


def _adam_step(
    params, grads, m, v, bounds, n_weight_segments, l2, decay,
    beta_1, one_minus_beta_1, beta_2, one_minus_beta_2, step_size, epsilon,
    sq_norms,
):  # fmt: skip
    """Adam, and AdamW when ``decay`` < 1 (weights only), in one pass.

    ``g = grad + l2 p``; ``m = b1 m + (1 - b1) g``; ``v = b2 v + (1 - b2) g^2``;
    ``p = decay p - step_size m / (sqrt(v) + eps)``.
    """
    for k in range(bounds.shape[0] - 1):
        a, b = bounds[k], bounds[k + 1]
        is_weight = k < n_weight_segments
        sq_norms[0, k], sq_norms[1, k] = _adam_segment_kernel(
            params[a:b], grads[a:b], m[a:b], v[a:b],
            l2 if is_weight else params.dtype.type(0),
            decay if is_weight else params.dtype.type(1),
            beta_1, one_minus_beta_1, beta_2, one_minus_beta_2, step_size, epsilon,
        )  # fmt: skip


def _sgd_segment(params, grads, velocity, lam, momentum, learning_rate, nesterov):
    total = params.dtype.type(0)
    squares = params.dtype.type(0)
    for i in range(params.shape[0]):
        p = params[i]
        squares += p * p
        g = grads[i] + lam * p
        total += g * g
        v_i = momentum * velocity[i] - learning_rate * g
        velocity[i] = v_i
        if nesterov:
            params[i] = p + momentum * v_i - learning_rate * g
        else:
            params[i] = p + v_i
    return total, squares


def _sgd_step(
    params, grads, velocity, bounds, n_weight_segments, l2,
    momentum, learning_rate, nesterov, sq_norms,
):  # fmt: skip
    """SGD with momentum in one pass.

    ``v = momentum v - lr g``, then ``p += v`` or, with Nesterov's momentum,
    ``p += momentum v - lr g``.
    """
    for k in range(bounds.shape[0] - 1):
        a, b = bounds[k], bounds[k + 1]
        sq_norms[0, k], sq_norms[1, k] = _sgd_segment_kernel(
            params[a:b], grads[a:b], velocity[a:b],
            l2 if k < n_weight_segments else params.dtype.type(0),
            momentum, learning_rate, nesterov,
        )  # fmt: skip


def _rmsprop_segment(params, grads, v, lam, rho, one_minus_rho, lr, epsilon):
    total = params.dtype.type(0)
    squares = params.dtype.type(0)
    for i in range(params.shape[0]):
        p = params[i]
        squares += p * p
        g = grads[i] + lam * p
        total += g * g
        v_i = rho * v[i] + one_minus_rho * (g * g)
        v[i] = v_i
        params[i] = p - lr * (g / (np.sqrt(v_i) + epsilon))
    return total, squares


def _rmsprop_step(
    params, grads, v, bounds, n_weight_segments, l2,
    rho, one_minus_rho, learning_rate, epsilon, sq_norms,
):  # fmt: skip
    """RMSprop in one pass: ``v = rho v + (1 - rho) g^2``,
    ``p -= lr g / (sqrt(v) + eps)``."""
    for k in range(bounds.shape[0] - 1):
        a, b = bounds[k], bounds[k + 1]
        sq_norms[0, k], sq_norms[1, k] = _rmsprop_segment_kernel(
            params[a:b], grads[a:b], v[a:b],
            l2 if k < n_weight_segments else params.dtype.type(0),
            rho, one_minus_rho, learning_rate, epsilon,
        )  # fmt: skip


def _adagrad_segment(params, grads, G, lam, lr, epsilon):
    total = params.dtype.type(0)
    squares = params.dtype.type(0)
    for i in range(params.shape[0]):
        p = params[i]
        squares += p * p
        g = grads[i] + lam * p
        total += g * g
        G_i = G[i] + g * g
        G[i] = G_i
        params[i] = p - lr * (g / (np.sqrt(G_i) + epsilon))
    return total, squares


def _adagrad_step(
    params, grads, G, bounds, n_weight_segments, l2,
    learning_rate, epsilon, sq_norms,
):  # fmt: skip
    """Adagrad in one pass: ``G += g^2``, ``p -= lr g / (sqrt(G) + eps)``."""
    for k in range(bounds.shape[0] - 1):
        a, b = bounds[k], bounds[k + 1]
        sq_norms[0, k], sq_norms[1, k] = _adagrad_segment_kernel(
            params[a:b], grads[a:b], G[a:b],
            l2 if k < n_weight_segments else params.dtype.type(0),
            learning_rate, epsilon,
        )  # fmt: skip


# Element-wise passes of the forward and backward pass. A numpy expression
# spends one pass per operation plus a call overhead of about a microsecond
# per operation, which at the output layer (a batch x 10 array) is most of
# the time.


def _bias_relu(Z, bias):
    """``Z = max(Z + b, 0)`` in place, row by row (NaN stays NaN, as in numpy)."""
    zero = Z.dtype.type(0)
    for i in range(Z.shape[0]):
        row = Z[i]
        for j in range(row.shape[0]):
            z = row[j] + bias[j]
            row[j] = zero if z < zero else z


def _relu_backward(delta, A):
    """``delta *= (A > 0)`` in one pass (numpy takes two: the 0/1 factor, the
    product)."""
    zero = delta.dtype.type(0)
    one = delta.dtype.type(1)
    for i in range(delta.shape[0]):
        d = delta[i]
        a = A[i]
        for j in range(d.shape[0]):
            d[j] = d[j] * (one if a[j] > zero else zero)


def _softmax_and_loss(Z, A, Y, sample_weight):
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
