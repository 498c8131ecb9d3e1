"""MLPBackpropClassifier: the scikit-learn estimator around the network."""

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.callback import CallbackSupportMixin
from sklearn.metrics import check_scoring
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state, column_or_1d
from sklearn.utils._param_validation import (
    Interval,
    Options,
    StrOptions,
)
from sklearn.utils._set_output import _get_output_config
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import (
    _check_partial_fit_first_call,
    check_classification_targets,
    type_of_target,
    unique_labels,
)
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from ._activations import resolve_activations
from ._blas import blas_is_serial
from ._class_weight import class_sample_weights
from ._initializers import INITIALIZERS, initial_weights
from ._losses import OUTPUT_LAYERS
from ._network import Network, forward, forward_logits
from ._optimizers import make_optimizer
from ._training import fit_lbfgs, fit_stochastic

__all__ = ["MLPBackpropClassifier"]

_STOCHASTIC_SOLVERS = ("sgd", "adam", "adamw", "rmsprop", "adagrad")

# Hyperparameters an optimizer's state depends on: a warm refit keeps the
# optimizer (its moments, step count and learning rate) only if none changed.
_OPTIMIZER_PARAMS = (
    "solver",
    "learning_rate",
    "learning_rate_init",
    "power_t",
    "momentum",
    "nesterovs_momentum",
    "beta_1",
    "beta_2",
    "epsilon",
    "weight_decay",
)


def _probability_bounds(dtype):
    """Smallest normal number and largest number below one of ``dtype``."""
    info = np.finfo(dtype)
    return info.tiny, 1 - info.epsneg


class MLPBackpropClassifier(
    CallbackSupportMixin,
    ClassifierMixin,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    BaseEstimator,
):
    """Multilayer-perceptron classifier trained by backpropagation.

    A drop-in replacement for :class:`sklearn.neural_network.MLPClassifier`:
    the same parameters, defaults, fitted attributes and methods, trained on
    the same objective (sample-weighted mean log-loss plus an L2 penalty), with
    per-layer activations, more activation functions, an optimizer state that
    survives ``warm_start``, and a training loop that preallocates its buffers
    and updates all parameters in one vector operation.

    Parameters
    ----------
    hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
        The ith element is the number of units in the ith hidden layer.

    activation : str or sequence of str, default='relu'
        Activation of the hidden layers: one name for all of them, or one name
        per hidden layer. Names: 'identity', 'logistic' (alias 'sigmoid'),
        'tanh', 'relu', 'leaky_relu' (slope 0.01), 'elu', 'softplus', 'gelu'
        (exact, with the normal distribution function) and 'silu'. Functions
        without a usable derivative, such as a step function, are refused.

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

    learning_rate : {'constant', 'invscaling', 'adaptive'}, default='constant'
        Learning-rate schedule of every stochastic solver (MLPClassifier
        applies it to 'sgd' only): 'constant' keeps ``learning_rate_init``;
        'invscaling' uses ``learning_rate_init / pow(t + 1, power_t)`` after
        ``t`` (weighted) samples; 'adaptive' divides the rate by 5 each time
        ``n_iter_no_change`` consecutive epochs fail to improve by ``tol``,
        and stops below 1e-6.

    learning_rate_init : float, default=0.001
        Initial step size of the stochastic solvers.

    power_t : float, default=0.5
        Exponent of the 'invscaling' schedule.

    max_iter : int, default=200
        Maximum number of epochs (stochastic solvers) or iterations ('lbfgs').

    shuffle : bool, default=True
        Whether to shuffle the samples every epoch (stochastic solvers).

    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling and the early-stopping split.
        Pass an int for reproducible results.

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
        hyperparameters are unchanged. A warm refit runs up to ``max_iter``
        epochs again.

    momentum : float, default=0.9
        Momentum of 'sgd', in [0, 1].

    nesterovs_momentum : bool, default=True
        Whether 'sgd' uses Nesterov's momentum.

    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data (stratified by
        class, except for multilabel targets), stop when its accuracy has not
        improved by ``tol`` for ``n_iter_no_change`` epochs, and restore the
        weights of the best epoch (of the latest, among epochs tied on the best
        score). Identical rows are held out together, so duplicates never leak
        into validation and a sample weight of k acts exactly like k copies.
        Stochastic solvers only; ``partial_fit`` is then unavailable.

    validation_fraction : float, default=0.1
        Fraction of the training data held out for early stopping.

    beta_1 : float, default=0.9
        Decay rate of Adam's first-moment estimates, in [0, 1).

    beta_2 : float, default=0.999
        Decay rate of Adam's second-moment estimates, in [0, 1).

    epsilon : float, default=1e-8
        Added to Adam's denominator for numerical stability.

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

    class_weight : dict, 'balanced' or None, default=None
        Weights of the classes, multiplied into ``sample_weight``: a dict
        ``{label: weight}`` (single-label targets), or 'balanced' for
        ``n_samples / (n_classes * n_samples_of_class)`` computed with the
        sample weights; for multilabel targets each label is balanced as a
        binary output and a sample's weight is the product. ``partial_fit`` is
        unavailable with 'balanced'.

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
        Initial weights. 'glorot_uniform' is MLPClassifier's scheme (same
        draws for the same ``random_state``); He variants scale with
        ``2 / fan_in`` (suits rectifiers), LeCun with ``1 / fan_in``; their
        biases start at zero.

    weight_decay : float, default=0.01
        Decoupled weight decay of 'adamw': after every step the weights (not
        the biases) shrink by ``learning_rate * weight_decay``.

    scoring : str, callable or None, default=None
        What early stopping monitors on validation data, and what
        ``history_['val_score']`` records: None for accuracy
        (MLPClassifier's choice), 'loss' for the negative validation log-loss,
        or any scikit-learn scorer name or callable. Larger is better.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels (for multilabel targets, the label indices).

    loss_ : float
        Value of the objective after the last epoch or iteration.

    best_loss_ : float or None
        Lowest training loss reached; None with ``early_stopping``, which
        tracks ``best_validation_score_`` instead.

    loss_curve_ : list of float
        Objective after every epoch (stochastic solvers) or iteration
        ('lbfgs').

    validation_scores_ : list of float or None
        The score that ``scoring`` defines (accuracy by default, the negative
        log-loss for 'loss') on the validation data after every epoch with
        ``early_stopping``, otherwise None.

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

    out_activation_ : str
        Output activation: 'softmax' for multiclass, 'logistic' for binary and
        multilabel targets.

    history_ : dict of list
        One entry per epoch (per iteration for 'lbfgs'), across warm starts:
        ``'loss'`` the training objective, ``'val_loss'`` and ``'val_score'``
        on validation data (None without any), ``'learning_rate'`` the rate
        used (NaN for 'lbfgs'), and ``'grad_norm'`` the root mean square over
        the epoch's batches of each layer's gradient norm, one value per
        layer. ``pandas.DataFrame(history_)`` makes it a table to plot.

    See Also
    --------
    sklearn.neural_network.MLPClassifier : The estimator this one replaces.

    Notes
    -----
    Backpropagation follows the four vectorised equations: output error
    ``dZ_L = A_L - Y``, hidden error ``dZ_l = (dZ_{l+1} W_{l+1}^T) * f'(Z_l)``,
    weight gradient ``dW_l = A_{l-1}^T dZ_l`` and bias gradient the column sum
    of ``dZ_l``; see the user guide's page on the math.

    If training diverges (a non-finite loss or weight), the epoch is undone,
    the last finite weights are kept and a ``ConvergenceWarning`` says so. A
    ``KeyboardInterrupt`` during ``fit`` likewise keeps the weights of the last
    finished epoch.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.model_selection import train_test_split
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skbackprop import MLPBackpropClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> X_train, X_test, y_train, y_test = train_test_split(
    ...     X, y, stratify=y, random_state=0)
    >>> clf = make_pipeline(
    ...     StandardScaler(),
    ...     MLPBackpropClassifier(activation=["relu", "tanh"],
    ...                           hidden_layer_sizes=(64, 32), random_state=0))
    >>> clf.fit(X_train, y_train).score(X_test, y_test) > 0.95
    True
    """

    _parameter_constraints: dict = {
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "activation": [str, "array-like"],
        "solver": [StrOptions({"lbfgs", *_STOCHASTIC_SOLVERS})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [
            StrOptions({"auto"}),
            Interval(Integral, 1, None, closed="left"),
        ],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [
            Interval(Integral, 1, None, closed="left"),
            Options(Real, {np.inf}),
        ],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left"), "array-like"],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "alpha_l1": [Interval(Real, 0, None, closed="left")],
        "max_grad_norm": [Interval(Real, 0, None, closed="neither"), None],
        "init": [StrOptions(set(INITIALIZERS))],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "scoring": [str, callable, None],
    }

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        dropout=0.0,
        class_weight=None,
        alpha_l1=0.0,
        max_grad_norm=None,
        init="glorot_uniform",
        weight_decay=0.01,
        scoring=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.dropout = dropout
        self.class_weight = class_weight
        self.alpha_l1 = alpha_l1
        self.max_grad_norm = max_grad_norm
        self.init = init
        self.weight_decay = weight_decay
        self.scoring = scoring

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(
        self,
        X,
        y,
        sample_weight=None,
        *,
        X_val=None,
        y_val=None,
        sample_weight_val=None,
    ):
        """Fit the model to data matrix X and targets y.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Class labels, or a label indicator matrix for multilabel
            classification.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples; the loss and its gradient are
            weighted means over them.

        X_val : {array-like, sparse matrix} of shape (n_val, n_features), \
default=None
            Validation inputs. Their loss and score are recorded in
            ``history_`` every epoch, and ``early_stopping`` monitors them
            instead of holding out part of ``X``. In a Pipeline, earlier steps
            do not transform ``X_val``; pass it already transformed.

        y_val : array-like of shape (n_val,) or (n_val, n_outputs), default=None
            Validation targets; required with ``X_val``.

        sample_weight_val : array-like of shape (n_val,), default=None
            Weights of the validation samples.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(
            X,
            y,
            sample_weight,
            incremental=False,
            validation=(X_val, y_val, sample_weight_val),
        )

    def _check_solver(self):
        if self.solver not in _STOCHASTIC_SOLVERS:
            raise AttributeError(
                f"partial_fit is only available for stochastic optimizers. "
                f"{self.solver} is not stochastic."
            )
        if self.early_stopping:
            # One epoch on the given data leaves nothing to hold out or restore.
            raise AttributeError(
                "partial_fit is not available with early_stopping=True; set "
                "early_stopping=False to train incrementally."
            )
        if isinstance(self.class_weight, str) and self.class_weight == "balanced":
            # One batch's class frequencies are not the data's.
            raise AttributeError(
                "partial_fit is not available with class_weight='balanced'; "
                "compute the weights once (sklearn.utils.class_weight."
                "compute_class_weight) and pass them as a dict."
            )
        return True

    @available_if(_check_solver)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Update the model with one epoch over the given data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The target values.

        classes : array-like of shape (n_classes,), default=None
            Every class that will ever appear in ``y``. Required on the first
            call, ignored afterwards.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples.

        Returns
        -------
        self : object
            The updated estimator.
        """
        if _check_partial_fit_first_call(self, classes):
            self._label_binarizer = LabelBinarizer()
            if type_of_target(y).startswith("multilabel"):
                self._label_binarizer.fit(y)
            else:
                self._label_binarizer.fit(classes)
        return self._fit(X, y, sample_weight, incremental=True)

    def _hidden_layer_sizes(self):
        sizes = self.hidden_layer_sizes
        if not hasattr(sizes, "__iter__"):
            sizes = [sizes]
        sizes = list(sizes)
        if not all(isinstance(s, Integral) and not isinstance(s, bool) for s in sizes):
            raise ValueError(f"hidden_layer_sizes must contain integers, got {sizes}.")
        if any(s <= 0 for s in sizes):
            raise ValueError(f"hidden_layer_sizes must be > 0, got {sizes}.")
        return [int(s) for s in sizes]

    def _validate_input(self, X, y, sample_weight, incremental, reset):
        """Validate X, y and sample_weight.

        Returns X, the targets as class indices (a 0/1 ``uint8`` indicator for
        multilabel data), and the weights. The one-hot form is built a batch
        at a time during training.
        """
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            multi_output=True,
            dtype=(np.float64, np.float32),
            reset=reset,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        check_classification_targets(y)

        if not hasattr(self, "classes_") or (not self.warm_start and not incremental):
            self._label_binarizer = LabelBinarizer().fit(y)
            self.classes_ = self._label_binarizer.classes_
        else:
            classes = unique_labels(y)
            if self.warm_start and not incremental:
                if set(classes) != set(self.classes_):
                    raise ValueError(
                        "warm_start can only be used where `y` has the same "
                        "classes as in the previous call to fit. Previously "
                        f"got {self.classes_}, `y` has {classes}"
                    )
            else:
                unknown = np.setdiff1d(classes, self.classes_, assume_unique=True)
                if len(unknown):
                    raise ValueError(
                        f"`y` has classes not in `self.classes_`: {unknown}. "
                        f"`self.classes_` has {self.classes_}; every label must "
                        "be among the `classes` given to the first partial_fit "
                        "call."
                    )
        targets = self._encode_targets(y)
        if sample_weight is not None:
            # Weights beyond X's dtype are refused (infinite after the cast, or
            # in their sum) without overflow warnings on the way.
            with np.errstate(over="ignore"):
                sample_weight = _check_sample_weight(
                    sample_weight, X, dtype=X.dtype, ensure_non_negative=True
                )
                weight_sum = sample_weight.sum()
            if not np.isfinite(weight_sum):
                # The loss is a weighted mean: an infinite total is no model.
                raise ValueError(
                    f"The sum of sample_weight overflows {X.dtype}. Divide the "
                    "weights and alpha by a common factor (which leaves the "
                    "objective unchanged)."
                )
        if sp.issparse(X):
            # Row slicing for mini-batches is fast in CSR only.
            X = X.tocsr()
        return X, targets, sample_weight

    def _encode_targets(self, y):
        """Class indices of ``y`` (a 0/1 ``uint8`` indicator for multilabel).

        Indices take the smallest unsigned dtype that holds them (``uint8``
        up to 256 classes): they live through the whole fit, where an int64
        copy of 60,000 labels would cost more than the batch buffers.
        """
        if self._label_binarizer.y_type_ == "multilabel-indicator":
            return self._label_binarizer.transform(y).astype(np.uint8)
        index_dtype = np.min_scalar_type(max(len(self.classes_) - 1, 0))
        return np.searchsorted(self.classes_, column_or_1d(y)).astype(index_dtype)

    def _n_outputs(self, targets):
        """Output units: one per label or class, a single one for binary."""
        if targets.ndim == 2:
            return targets.shape[1]
        return len(self.classes_) if len(self.classes_) > 2 else 1

    def _labels_from_targets(self, targets):
        """Class labels (or the indicator rows) of compact targets."""
        return targets if targets.ndim == 2 else self.classes_[targets]

    def _resolve_dropout(self, n_hidden):
        """One drop probability per hidden layer, checked."""
        if isinstance(self.dropout, Real):
            return (float(self.dropout),) * n_hidden
        rates = tuple(float(r) for r in np.asarray(self.dropout, dtype=float).ravel())
        if len(rates) != n_hidden:
            raise ValueError(
                f"dropout has {len(rates)} entries but hidden_layer_sizes defines "
                f"{n_hidden} hidden layer(s): give one rate per hidden layer, or a "
                "single rate for all of them."
            )
        if not all(0 <= r < 1 for r in rates):
            raise ValueError(f"Every dropout rate must be in [0, 1), got {rates}.")
        return rates

    def _validate_validation_data(self, X_val, y_val, sample_weight_val, dtype):
        if X_val is None and y_val is None:
            if sample_weight_val is not None:
                raise ValueError("sample_weight_val was given without X_val, y_val.")
            return None
        if X_val is None or y_val is None:
            raise ValueError("X_val and y_val must be given together.")
        X_val = validate_data(
            self,
            X_val,
            accept_sparse=["csr", "csc"],
            dtype=dtype,
            reset=False,
        )
        y_val = np.asarray(y_val) if not sp.issparse(y_val) else y_val.toarray()
        if y_val.ndim == 2 and y_val.shape[1] == 1:
            y_val = column_or_1d(y_val, warn=True)
        if y_val.shape[0] != X_val.shape[0]:
            raise ValueError(
                f"X_val has {X_val.shape[0]} samples but y_val has {y_val.shape[0]}."
            )
        if self._label_binarizer.y_type_ != "multilabel-indicator":
            unknown = np.setdiff1d(unique_labels(y_val), self.classes_)
            if len(unknown):
                raise ValueError(
                    f"y_val has classes not in the training data: {unknown}."
                )
        targets = self._encode_targets(y_val)
        if sample_weight_val is not None:
            sample_weight_val = _check_sample_weight(
                sample_weight_val, X_val, dtype=X_val.dtype, ensure_non_negative=True
            )
        sample_weight_val = class_sample_weights(
            self.class_weight, targets, self.classes_, sample_weight_val
        )
        if sp.issparse(X_val):
            X_val = X_val.tocsr()
        return X_val, targets, sample_weight_val

    def _fit(self, X, y, sample_weight, incremental, validation=(None, None, None)):
        hidden_sizes = self._hidden_layer_sizes()
        hidden_activations = resolve_activations(self.activation, len(hidden_sizes))
        dropout_rates = self._resolve_dropout(len(hidden_sizes))
        if self.solver == "lbfgs":
            if any(dropout_rates):
                raise ValueError(
                    "dropout needs a stochastic solver: a full-batch lbfgs line "
                    "search cannot work on a loss that changes with every "
                    "evaluation."
                )
            if self.max_grad_norm is not None:
                raise ValueError(
                    "max_grad_norm needs a stochastic solver: lbfgs takes no "
                    "gradient steps to clip (its line search sets the step)."
                )
        first_pass = not hasattr(self, "coefs_") or (
            not self.warm_start and not incremental
        )
        X, targets, sample_weight = self._validate_input(
            X, y, sample_weight, incremental, reset=first_pass
        )
        layer_units = [X.shape[1], *hidden_sizes, self._n_outputs(targets)]
        # Everything that can refuse the data is checked before a fresh model
        # replaces the fitted one.
        sample_weight = class_sample_weights(
            self.class_weight, targets, self.classes_, sample_weight
        )
        if sample_weight is not None:
            sample_weight = sample_weight.astype(X.dtype, copy=False)
        validation = self._validate_validation_data(*validation, dtype=X.dtype)

        if first_pass or not incremental:
            self._random_state = check_random_state(self.random_state)
        if first_pass:
            self._initialize(layer_units, hidden_activations, X.dtype)
        else:
            self._check_architecture(layer_units)
        self._hidden_activations = hidden_activations
        self._dropout_rates = dropout_rates
        if any(dropout_rates) and self._dropout_seed is None:
            # Dropout masks hash the sample with this seed (see _dropout). It is
            # drawn only when needed, so that without dropout the generator
            # gives the same batches as scikit-learn's MLP.
            self._dropout_seed = int(self._random_state.randint(np.iinfo(np.int32).max))

        # One subtask per epoch; L-BFGS also opens one for the iteration that
        # never runs after the last.
        callback_context = self._init_callback_context(
            max_subtasks=self.max_iter + (self.solver == "lbfgs")
        )
        metadata = None if sample_weight is None else {"sample_weight": sample_weight}
        callback_context.call_on_fit_task_begin(
            estimator=self, X=X, y=y, metadata=metadata
        )
        callbacks = (callback_context, X, y, metadata)

        use_blas = blas_is_serial()
        network = Network(
            layer_units, hidden_activations, self.out_activation_, X.dtype
        )
        network.set_weights(self.coefs_, self.intercepts_)
        # From here on the fitted weights are views of the training buffer.
        self.coefs_, self.intercepts_ = network.coefs, network.intercepts

        if self.solver in _STOCHASTIC_SOLVERS:
            self._prepare_stochastic_state(network, first_pass)
            self._optimizer.use_blas(use_blas)
            fit_stochastic(
                self,
                network,
                X,
                targets,
                sample_weight,
                incremental,
                validation,
                callbacks,
            )
        else:
            fit_lbfgs(self, network, X, targets, sample_weight, validation, callbacks)
        callback_context.call_on_fit_task_end(
            estimator=self,
            X=X,
            y=y,
            metadata=metadata,
            reconstruction_attributes={
                "coefs_": self.coefs_,
                "intercepts_": self.intercepts_,
            },
        )
        return self

    def _initialize(self, layer_units, hidden_activations, dtype):
        """Set the fitted attributes of a fresh model and draw its weights."""
        self.n_iter_ = 0
        self.t_ = 0
        self.n_outputs_ = layer_units[-1]
        self.n_layers_ = len(layer_units)
        if self._label_binarizer.y_type_ == "multiclass":
            self.out_activation_ = "softmax"
        else:
            self.out_activation_ = "logistic"

        # The output layer's weights are scaled like the last hidden layer's.
        if hidden_activations:
            init_names = [*hidden_activations, hidden_activations[-1]]
        else:
            single = self.activation if isinstance(self.activation, str) else ""
            init_names = [resolve_activations(single, 1)[0] if single else "identity"]
        self.coefs_, self.intercepts_ = initial_weights(
            self.init, layer_units, init_names, self._random_state, dtype
        )
        self._dropout_seed = None
        self._epochs_seen = 0
        self._weight_seen = 0.0
        self.history_ = {
            name: []
            for name in ("loss", "val_loss", "val_score", "learning_rate", "grad_norm")
        }
        self.loss_curve_ = []
        self._no_improvement_count = 0
        self._optimizer = None
        self._optimizer_params = None
        self._best_params = None
        if self.early_stopping and self.solver in _STOCHASTIC_SOLVERS:
            self.validation_scores_ = []
            self.best_validation_score_ = -np.inf
            self.best_loss_ = None
        else:
            self.best_loss_ = np.inf
            self.validation_scores_ = None
            self.best_validation_score_ = None

    def _check_architecture(self, layer_units):
        fitted_units = [self.coefs_[0].shape[0]] + [c.shape[1] for c in self.coefs_]
        if fitted_units != list(layer_units):
            raise ValueError(
                f"Cannot continue training: the fitted network has layer sizes "
                f"{fitted_units} but the parameters and data now give "
                f"{list(layer_units)}. Refit with warm_start=False."
            )

    def _prepare_stochastic_state(self, network, first_pass):
        """Keep or rebuild the optimizer, and the early-stopping bookkeeping."""
        optimizer_params = tuple(getattr(self, name) for name in _OPTIMIZER_PARAMS)
        optimizer = getattr(self, "_optimizer", None)
        if (
            first_pass
            or optimizer is None
            or self._optimizer_params != optimizer_params
            or optimizer.n_params != network.params.size
            or optimizer.dtype != network.dtype
        ):
            self._optimizer = make_optimizer(
                self, network.params.size, network.n_coef, network.dtype
            )
            self._optimizer_params = optimizer_params

        if self.early_stopping:
            if self.validation_scores_ is None:
                self.validation_scores_ = []
                self.best_validation_score_ = -np.inf
                self.best_loss_ = None
            best = getattr(self, "_best_params", None)
            if best is None or best.shape != network.params.shape:
                self._best_params = network.params.copy()
            else:
                self._best_params = best.astype(network.dtype, copy=False)
        else:
            self._best_params = None
            if self.best_loss_ is None:
                self.best_loss_ = np.inf

    # -------------------------------------------------------------- predict
    def _logits(self, X):
        X = validate_data(
            self,
            X,
            accept_sparse=["csr", "csc"],
            dtype=(np.float64, np.float32),
            reset=False,
        )
        with np.errstate(over="ignore", invalid="ignore"):
            logits = forward_logits(
                X, self.coefs_, self.intercepts_, self._hidden_activations
            )
        if not np.isfinite(logits).all():
            # Inputs far beyond the training data's scale overflow the network:
            # refuse them rather than return NaN probabilities.
            raise ValueError(
                "The network's output overflowed (it is not finite) for some "
                "samples of X: their values are too large for the fitted weights. "
                "Scale the inputs, e.g. with sklearn.preprocessing.StandardScaler."
            )
        return logits

    def _is_single_output(self):
        return self.n_outputs_ == 1 and self._label_binarizer.y_type_ != (
            "multilabel-indicator"
        )

    def _output_probabilities(self, logits):
        """Output-layer probabilities, one column per output unit."""
        return OUTPUT_LAYERS[self.out_activation_].activate(logits, out=logits)

    def _labels_from_probabilities(self, probabilities):
        if self._is_single_output():
            probabilities = probabilities.ravel()
        return self._label_binarizer.inverse_transform(probabilities)

    def _labels_from_logits(self, logits):
        return self._labels_from_probabilities(self._output_probabilities(logits))

    def _validation_scorer(self):
        """None (accuracy), 'loss', or a scorer callable for validation data."""
        if self.scoring is None or self.scoring == "loss":
            return self.scoring
        return check_scoring(self, scoring=self.scoring)

    def transform(self, X, layer=-1):
        """Activations of a hidden layer: the network as a feature extractor.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        layer : int, default=-1
            Index of the hidden layer, as in ``hidden_layer_sizes``; negative
            values count from the last hidden layer.

        Returns
        -------
        activations : ndarray of shape (n_samples, n_units)
            ``A_l = f_l(Z_l)`` of the chosen hidden layer, without dropout.
        """
        check_is_fitted(self)
        n_hidden = len(self._hidden_activations)
        if n_hidden == 0:
            raise ValueError(
                "transform needs a hidden layer, and this network has 0 hidden "
                "layers (hidden_layer_sizes=())."
            )
        if (
            not isinstance(layer, Integral)
            or isinstance(layer, bool)
            or not -n_hidden <= layer < n_hidden
        ):
            raise ValueError(
                f"layer must be an integer in [{-n_hidden}, {n_hidden - 1}] for a "
                f"network with {n_hidden} hidden layer(s); got {layer!r}."
            )
        X = validate_data(
            self,
            X,
            accept_sparse=["csr", "csc"],
            dtype=(np.float64, np.float32),
            reset=False,
        )
        depth = layer % n_hidden + 1
        if depth != n_hidden and _get_output_config("transform", self)["dense"] != (
            "default"
        ):
            # set_output names the columns after the last hidden layer.
            raise ValueError(
                f"transform(layer={layer}) cannot produce set_output's "
                "DataFrame output, whose column names describe the last hidden "
                "layer; use set_output(transform='default') for other layers."
            )
        return forward(
            X,
            self.coefs_[:depth],
            self.intercepts_[:depth],
            self._hidden_activations[:depth],
        )

    def predict(self, X):
        """Predict class labels.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_classes)
            Predicted labels, or a label indicator matrix for multilabel
            targets.
        """
        check_is_fitted(self)
        return self._labels_from_logits(self._logits(X))

    def _class_logits(self, X):
        """Logits with one column per entry of ``predict_proba``.

        A binary model has one output unit ``z`` for ``classes_[1]``; the two
        columns ``[-z, z]`` give ``[sigma(-z), sigma(z)]``, which avoids the
        cancellation of ``1 - sigma(z)``.
        """
        logits = self._logits(X)
        if self._is_single_output() and len(self.classes_) == 2:
            return np.hstack([-logits, logits]), OUTPUT_LAYERS["logistic"]
        return logits, OUTPUT_LAYERS[self.out_activation_]

    def predict_proba(self, X):
        """Probability estimates.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probability of each class, in the order of ``classes_``. For
            multilabel targets, the probability of each label independently.
            In the open interval (0, 1): probabilities are kept between the
            smallest normal number of their dtype and the largest number below
            one, so ``log(proba)`` stays finite and agrees with
            :meth:`predict_log_proba`.
        """
        check_is_fitted(self)
        logits, output = self._class_logits(X)
        if len(self.classes_) == 1:
            return np.ones_like(logits)
        probabilities = output.activate(logits, out=logits)
        # Rounding to exactly 0 or 1 would make log(proba) infinite although
        # the log-probability is finite; the bounds change no row sum and no
        # argmax.
        low, high = _probability_bounds(probabilities.dtype)
        return np.clip(probabilities, low, high, out=probabilities)

    def predict_log_proba(self, X):
        """Logarithm of the probability estimates.

        Computed from the output layer's pre-activations with log-sum-exp, so
        it is finite where ``log`` of an underflowed probability would be
        ``-inf`` (MLPClassifier's behaviour, frequent in float32). It is kept
        within the logs of the bounds of :meth:`predict_proba`, so that both
        rank the classes identically.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probability of each class, in the order of ``classes_``.
        """
        check_is_fitted(self)
        logits, output = self._class_logits(X)
        if len(self.classes_) == 1:
            return np.zeros_like(logits)
        log_probabilities = output.log_activate(logits)
        low, high = np.log(_probability_bounds(log_probabilities.dtype))
        return np.clip(log_probabilities, low, high, out=log_probabilities)

    def decision_function(self, X):
        """Raw output-layer values (logits) ``Z_L``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            For binary targets, one score per sample, positive for
            ``classes_[1]``; otherwise one column per class or label. The
            largest (multiclass) or positive (binary, multilabel) scores agree
            with :meth:`predict`.
        """
        check_is_fitted(self)
        logits = self._logits(X)
        return logits.ravel() if self._is_single_output() else logits

    @property
    def _n_features_out(self):
        """Units of the last hidden layer, the output of :meth:`transform`."""
        return self.coefs_[-2].shape[1] if len(self.coefs_) > 1 else 0

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.input_tags.sparse = True
        tags.classifier_tags.multi_label = True
        return tags
