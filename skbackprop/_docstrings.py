"""Docstring sections shared by the estimators, written once.

An estimator's class docstring holds the placeholder lines ``{parameters}``
and ``{attributes}``; :func:`fill_docstring` replaces the first with the
entry of every constructor parameter, in the signature's order, and the second
with the fitted attributes that every estimator of the family has. An entry
the class defines in its ``_parameter_docs`` overrides the shared one.
"""

import inspect
import re
import textwrap

__all__ = ["fill_docstring"]

PARAMETERS = """
hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
    The ith element is the number of units in the ith hidden layer.

activation : str, Activation or list of them, default='relu'
    Activation of the hidden layers: one for all of them, or one per hidden
    layer. Names: 'identity', 'logistic' (alias 'sigmoid'), 'tanh', 'relu',
    'leaky_relu' (slope 0.01), 'elu', 'softplus', 'gelu' (exact, with the
    normal distribution function) and 'silu'. A :class:`~skbackprop.Activation`
    brings a function and its derivative of your own, which are checked
    against each other before training. Functions without a usable
    derivative, such as a step function, are refused.

solver : {'lbfgs', 'sgd', 'adam', 'adamw', 'rmsprop', 'adagrad'}, \
default='adam'
    The weight optimizer: 'lbfgs' is scipy's L-BFGS-B on the full batch,
    'sgd' stochastic gradient descent with momentum, 'adam' the Adam
    optimizer of Kingma and Ba, 'adamw' Adam with decoupled weight decay
    (``weight_decay``), 'rmsprop' RMSprop (decay rate ``beta_2``) and
    'adagrad' Adagrad.

alpha : float, default=0.0001
    Strength of the L2 penalty ``0.5 * alpha * sum ||W||^2``, divided by
    the sum of the sample weights like the loss.

batch_size : int or 'auto', default='auto'
    Size of the mini-batches of the stochastic solvers;
    'auto' means ``min(200, n_samples)``. Ignored by 'lbfgs'.

learning_rate : {'constant', 'invscaling', 'adaptive', 'cosine'} or \
callable, default='constant'
    Learning-rate schedule of every stochastic solver (scikit-learn's MLP
    applies it to 'sgd' only): 'constant' keeps ``learning_rate_init``;
    'invscaling' uses ``learning_rate_init / pow(t + 1, power_t)`` after
    ``t`` (weighted) samples; 'adaptive' divides the rate by 5 each time
    ``n_iter_no_change`` consecutive epochs fail to improve by ``tol``,
    and stops below 1e-6; 'cosine' gives epoch ``e`` the rate
    ``learning_rate_init * 0.5 * (1 + cos(pi * e / max_iter))``; a callable
    ``schedule(epoch, learning_rate_init)`` returns the rate of each epoch,
    a finite number >= 0. Epochs are counted from 0 across ``partial_fit``
    calls and warm starts.

learning_rate_init : float, default=0.001
    Initial step size of the stochastic solvers.

power_t : float, default=0.5
    Exponent of the 'invscaling' schedule.

max_iter : int, default=200
    Maximum number of epochs (stochastic solvers) or iterations ('lbfgs').

shuffle : bool, default=True
    Whether to shuffle the samples every epoch (stochastic solvers).

random_state : int, RandomState instance or None, default=None
    Seeds weight initialisation, shuffling, the early-stopping split and
    the dropout masks. Pass an int for reproducible results.

tol : float, default=1e-4
    Tolerance of the optimisation: training stops when the loss (or the
    validation score with ``early_stopping``) has not improved by at least
    ``tol`` for ``n_iter_no_change`` consecutive epochs; for 'lbfgs' it is
    the projected-gradient tolerance.

verbose : bool, default=False
    Whether to print the loss after every epoch or iteration.

warm_start : bool, default=False
    Reuse the previous solution as initialisation of the next ``fit``,
    together with the optimizer's state (Adam's moments and step count,
    SGD's velocity and learning rate) as long as the optimizer's
    hyperparameters are unchanged, and the random generator that shuffles
    the batches: two warm fits of n epochs equal one fit of 2n. A warm refit
    runs up to ``max_iter`` epochs again.

momentum : float, default=0.9
    Momentum of 'sgd', in [0, 1].

nesterovs_momentum : bool, default=True
    Whether 'sgd' uses Nesterov's momentum.

early_stopping : bool, default=False
    Stop when the validation score (see ``scoring``) has not improved by
    ``tol`` for ``n_iter_no_change`` epochs, and restore the weights of the
    best epoch (of the latest, among epochs tied on the best score). The
    validation data are ``X_val`` and ``y_val`` when ``fit`` receives them,
    otherwise ``validation_fraction`` of the training data, held out with
    identical rows together, so duplicates never leak into validation and a
    sample weight of k acts exactly like k copies. Stochastic solvers only;
    ``partial_fit`` is then unavailable.

validation_fraction : float, default=0.1
    Fraction of the training data held out for early stopping; ignored
    when ``fit`` receives ``X_val`` and ``y_val``.

beta_1 : float, default=0.9
    Decay rate of the first-moment estimates of 'adam' and 'adamw', in
    [0, 1).

beta_2 : float, default=0.999
    Decay rate of the second-moment estimates of 'adam' and 'adamw', and of
    the squared-gradient average of 'rmsprop', in [0, 1).

epsilon : float, default=1e-8
    Added to the denominator of 'adam', 'adamw', 'rmsprop' and 'adagrad'
    for numerical stability.

n_iter_no_change : int, default=10
    Number of epochs without a ``tol`` improvement before stopping (or
    lowering the rate, with ``learning_rate='adaptive'``).

max_fun : int, default=15000
    Maximum number of loss evaluations of 'lbfgs'.

dropout : float or sequence of float, default=0.0
    Inverted dropout: during training each hidden unit's output is zeroed
    with this probability and the others scaled by ``1 / (1 - p)``; one
    rate for every hidden layer or one per hidden layer, each in [0, 1).
    Prediction uses no dropout and is deterministic. The masks depend on
    the sample, the epoch, the unit and ``random_state`` only, so repeated
    samples share them and sample weights act as repetitions. Stochastic
    solvers only.

alpha_l1 : float, default=0.0
    Strength of an L1 penalty ``alpha_l1 * sum |W|``, divided by the sum of
    the sample weights, beside ``alpha``'s L2 penalty; its gradient is
    ``alpha_l1 * sign(W)``.

max_grad_norm : float or None, default=None
    Clip the gradient by its global norm: when the norm over all weights
    and biases exceeds this value, the whole gradient is rescaled to it
    before the step. Stochastic solvers only.

init : {'glorot_uniform', 'glorot_normal', 'he_uniform', 'he_normal', \
'lecun_uniform', 'lecun_normal'}, default='glorot_uniform'
    Initial weights. 'glorot_uniform' is scikit-learn's scheme (same
    draws for the same ``random_state``); He variants scale with
    ``2 / fan_in`` (suits rectifiers), LeCun with ``1 / fan_in``; their
    biases start at zero.

weight_decay : float, default=0.01
    Decoupled weight decay of 'adamw': after every step the weights (not
    the biases) shrink by ``learning_rate * weight_decay``.
"""

ATTRIBUTES = """
loss_ : float
    Value of the objective after the last epoch or iteration.

best_loss_ : float or None
    Lowest training loss reached; None with ``early_stopping``, which
    tracks ``best_validation_score_`` instead.

loss_curve_ : list of float
    Objective after every epoch (stochastic solvers) or iteration
    ('lbfgs').

validation_scores_ : list of float or None
    The score that ``scoring`` defines on the validation data after every
    epoch with ``early_stopping``, otherwise None.

best_validation_score_ : float or None
    Best of ``validation_scores_``, or None without ``early_stopping``.

t_ : int
    Number of training samples seen by the stochastic solver.

coefs_ : list of ndarray of shape (n_units_in, n_units_out)
    Weight matrix of every layer.

intercepts_ : list of ndarray of shape (n_units_out,)
    Bias vector of every layer.

n_features_in_ : int
    Number of features seen during :term:`fit`.

feature_names_in_ : ndarray of shape (`n_features_in_`,)
    Names of features seen during :term:`fit`. Defined only when ``X`` has
    feature names that are all strings.

n_iter_ : int
    Number of epochs or iterations run by the last call to ``fit`` or
    ``partial_fit``.

n_layers_ : int
    Number of layers, input and output included.

n_outputs_ : int
    Number of output units.

history_ : dict of list
    One entry per epoch (per iteration for 'lbfgs'), across warm starts:
    ``'loss'`` the training objective, ``'val_loss'`` and ``'val_score'``
    on validation data (None without any), ``'learning_rate'`` the rate
    used (NaN for 'lbfgs'), and ``'grad_norm'`` the root mean square over
    the epoch's batches of each layer's gradient norm, one value per
    layer. ``pandas.DataFrame(history_)`` makes it a table to plot.
"""


def _entries(text):
    """Split a numpydoc section into ``{name: entry}``, in order."""
    entries = {}
    for block in re.split(r"\n(?=\S)", text.strip("\n")):
        entries[block.split(" : ", 1)[0]] = block.rstrip("\n")
    return entries


SHARED_PARAMETERS = _entries(PARAMETERS)
SHARED_ATTRIBUTES = _entries(ATTRIBUTES)


def _insert(docstring, placeholder, entries):
    """Replace the line holding ``placeholder`` by ``entries``, indented alike."""
    pattern = re.compile(rf"^( *){re.escape(placeholder)}\n", re.MULTILINE)
    match = pattern.search(docstring)
    if match is None:
        raise ValueError(f"the docstring has no line {placeholder!r}")
    text = "\n\n".join(entries) + "\n"
    return (
        docstring[: match.start()]
        + textwrap.indent(text, match.group(1), lambda line: line.strip() != "")
        + docstring[match.end() :]
    )


def fill_docstring(cls):
    """Class decorator: complete the docstring's parameters and attributes.

    Parameters
    ----------
    cls : type
        An estimator class whose docstring holds ``{parameters}`` and
        ``{attributes}`` lines, and which may override entries in a
        ``_parameter_docs`` dict of numpydoc entries.

    Returns
    -------
    cls : type
    """
    own = _entries(getattr(cls, "_parameter_docs", ""))
    names = [
        name for name in inspect.signature(cls.__init__).parameters if name != "self"
    ]
    parameters = [own.get(name, SHARED_PARAMETERS.get(name)) for name in names]
    missing = [name for name, entry in zip(names, parameters) if entry is None]
    if missing:
        raise ValueError(f"{cls.__name__}: no documentation for {missing}")
    doc = _insert(cls.__doc__, "{parameters}", parameters)
    cls.__doc__ = _insert(doc, "{attributes}", SHARED_ATTRIBUTES.values())
    return cls
