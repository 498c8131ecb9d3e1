"""What every MLP estimator of skbackprop shares.

:class:`BaseMLPBackprop` holds the parameters and their constraints, the
orchestration of ``fit`` and ``partial_fit`` (validation, warm start, the
network, the trainer), the training state, ``transform`` and the forward pass
of prediction. An estimator on top supplies what depends on its targets: how
they are validated and encoded (``_encode_targets``,
``_encode_validation_targets``, ``_target_encoding``), how samples are
weighted (``_weight_samples``), the default validation score
(``_score_outputs``), its prediction methods and what it stores of its
targets (``_get_target_state``, ``_set_target_state``).
"""

import copy
import math
from contextlib import contextmanager
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn import config_context
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
    clone,
)
from sklearn.callback import CallbackSupportMixin
from sklearn.metrics import check_scoring
from sklearn.utils import check_random_state, column_or_1d
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils._set_output import _get_output_config
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from ._activation_check import check_activations
from ._activations import (
    Activation,
    describe_activations,
    is_builtin,
    restore_activations,
)
from ._architecture import (
    STOCHASTIC_SOLVERS,
    check_fits_in_memory,
    check_inputs_and_activations,
    check_layers,
    check_parameters_describe,
    network_spec,
)
from ._array_api import NUMPY, check_same_space, space_of, space_of_model
from ._blas import blas_is_serial
from ._callbacks import FitProgress
from ._initializers import INITIALIZERS, initial_weights
from ._lbfgs import LbfgsTrainer
from ._network import Network, forward
from ._optimizers import OptimizerSettings, make_optimizer
from ._portable_network import PortableNetwork, forward_logits_in, portable_forward
from ._portable_trainer import PortableTrainer
from ._references import for_pickling, restored
from ._schema import check_keys
from ._state import TrainingRecord, TrainingState
from ._stochastic import StochasticTrainer

__all__ = ["BaseMLPBackprop"]

_DTYPES = (np.float64, np.float32)
_SPARSE_FORMATS = ["csr", "csc"]


class BaseMLPBackprop(
    CallbackSupportMixin,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    BaseEstimator,
):
    """Base of the multilayer perceptrons trained by backpropagation.

    Not meant to be used directly; see :class:`MLPBackpropClassifier` and
    :class:`MLPBackpropRegressor`.
    """

    _parameter_constraints: dict = {
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "activation": [str, Activation, "array-like"],
        "solver": [StrOptions({"lbfgs", *STOCHASTIC_SOLVERS})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [
            StrOptions({"auto"}),
            Interval(Integral, 1, None, closed="left"),
        ],
        "learning_rate": [
            StrOptions({"constant", "invscaling", "adaptive", "cosine"}),
            callable,
        ],
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
        "alpha_l1": [Interval(Real, 0, None, closed="left")],
        "max_grad_norm": [Interval(Real, 0, None, closed="neither"), None],
        "init": [StrOptions(set(INITIALIZERS))],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "scoring": [str, callable, None],
    }

    def __init__(
        self,
        hidden_layer_sizes,
        activation,
        *,
        solver,
        alpha,
        batch_size,
        learning_rate,
        learning_rate_init,
        power_t,
        max_iter,
        shuffle,
        random_state,
        tol,
        verbose,
        warm_start,
        momentum,
        nesterovs_momentum,
        early_stopping,
        validation_fraction,
        beta_1,
        beta_2,
        epsilon,
        n_iter_no_change,
        max_fun,
        dropout,
        alpha_l1,
        max_grad_norm,
        init,
        weight_decay,
        scoring,
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
        self.alpha_l1 = alpha_l1
        self.max_grad_norm = max_grad_norm
        self.init = init
        self.weight_decay = weight_decay
        self.scoring = scoring

    # The fitted attributes that the training state keeps.
    n_iter_ = TrainingRecord()
    t_ = TrainingRecord()
    loss_ = TrainingRecord()
    loss_curve_ = TrainingRecord()
    best_loss_ = TrainingRecord()
    validation_scores_ = TrainingRecord()
    best_validation_score_ = TrainingRecord()
    history_ = TrainingRecord()

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
            The targets: class labels or a label indicator matrix for a
            classifier, real values (one column per output) for a regressor.

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

    def _check_partial_fit(self):
        """Whether ``partial_fit`` is available; raise AttributeError if not."""
        if self.solver not in STOCHASTIC_SOLVERS:
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
        return True

    def _fit(self, X, y, sample_weight, incremental, validation=(None, None, None)):
        """Validate everything, then train a fresh or the fitted network."""
        with self._unchanged_if_refused():
            set_up = self._set_up(X, y, sample_weight, incremental, validation)
        return self._train(*set_up)

    @contextmanager
    def _unchanged_if_refused(self):
        """Leave the estimator as it was if the fit is refused before training.

        Validation sets ``n_features_in_``, ``classes_`` and the like before
        the fit can still be refused (a wrong derivative, a callback, memory);
        they must keep describing the fitted weights, or stay unset on a new
        model, so that a refused fit changes nothing.
        """
        before = dict(vars(self))
        try:
            yield
        except BaseException:
            vars(self).clear()
            vars(self).update(before)
            raise

    def _set_up(self, X, y, sample_weight, incremental, validation):
        """Everything before training; the fitted model is replaced last."""
        spec = network_spec(self)
        first_pass = not hasattr(self, "coefs_") or (
            not self.warm_start and not incremental
        )
        # Under array_api_dispatch the fit follows X's namespace and device.
        space = space_of(X)
        X, targets, sample_weight = self._validate_training_data(
            X, y, sample_weight, incremental, reset=first_pass
        )
        dtype = space.numpy_dtype(X)
        layer_units = [X.shape[1], *spec.hidden_sizes, self._n_outputs(targets)]
        check_fits_in_memory(layer_units, dtype)
        # Everything that can refuse the data is checked before a fresh model
        # replaces the fitted one.
        sample_weight = self._weight_samples(targets, sample_weight)
        if sample_weight is not None:
            sample_weight = space.asarray(sample_weight, dtype)
        validation = self._validate_validation_data(
            *validation, dtype=dtype, n_outputs=layer_units[-1], space=space
        )
        # Callbacks are set up before a fresh model replaces the fitted one
        # too, since they may refuse the fit (a Checkpoint of a validation
        # value without validation data).
        progress = FitProgress.open(self, X, y, sample_weight, validation is not None)

        if first_pass:
            self._initialize(layer_units, spec, X)
        else:
            # A warm fit, like partial_fit, continues the generator of the
            # previous call, so that two warm fits of n epochs shuffle the
            # batches as one fit of 2n does.
            self._check_architecture(layer_units)
            check_activations(
                spec.activations, X, self.coefs_, self.intercepts_, self.batch_size
            )
        self._hidden_activations = spec.activations
        self._place_labels(space)
        if any(spec.dropout_rates):
            self._training_state.draw_dropout_seed()
        data = (X, targets, sample_weight)
        return spec, layer_units, data, validation, progress, incremental, first_pass

    def _train(
        self, spec, layer_units, data, validation, progress, incremental, first_pass
    ):
        """Train the network the set-up prepared; callbacks hear of it all."""
        progress.begin_fit()
        space = space_of(data[0])
        dtype = space.numpy_dtype(data[0])
        if space.is_numpy:
            network = Network(layer_units, spec.activations, self._output_layer, dtype)
        else:
            network = PortableNetwork(
                layer_units, spec.activations, self._output_layer, dtype, space
            )
        network.set_weights(self.coefs_, self.intercepts_)
        # From here on the fitted weights are views of the training buffer.
        self.coefs_, self.intercepts_ = network.coefs, network.intercepts
        self._trainer(
            network,
            data,
            validation,
            spec.dropout_rates,
            progress,
            incremental,
            first_pass,
        ).run()
        progress.end_fit()
        return self

    def _trainer(
        self, network, data, validation, dropout_rates, progress, incremental, first
    ):
        """The trainer of the solver, with the optimizer it keeps or makes."""
        use_blas = blas_is_serial()
        if self.solver not in STOCHASTIC_SOLVERS:
            return LbfgsTrainer(self, network, data, validation, progress, use_blas)
        self._prepare_stochastic_state(network, first)
        self._training_state.optimizer.use_blas(use_blas)
        trainer = StochasticTrainer if network.space.is_numpy else PortableTrainer
        return trainer(
            self,
            network,
            data,
            validation,
            dropout_rates,
            progress,
            incremental,
            use_blas,
        )

    def _initialize(self, layer_units, spec, X):
        """Draw the weights of a fresh model and set its fitted attributes."""
        random_state = check_random_state(self.random_state)
        coefs, intercepts = initial_weights(
            self.init,
            layer_units,
            spec.init_activations(self.activation),
            random_state,
            space_of(X).numpy_dtype(X),
        )
        # At the starting weights, before they replace a fitted model.
        check_activations(spec.activations, X, coefs, intercepts, self.batch_size)
        self.n_outputs_ = layer_units[-1]
        self.n_layers_ = len(layer_units)
        self.out_activation_ = self._target_encoding.output_activation
        self.coefs_, self.intercepts_ = coefs, intercepts
        self._training_state = TrainingState(
            random_state,
            track_validation=self.early_stopping and self.solver in STOCHASTIC_SOLVERS,
        )

    def _check_architecture(self, layer_units):
        fitted_units = [self.coefs_[0].shape[0]] + [c.shape[1] for c in self.coefs_]
        if fitted_units != list(layer_units):
            raise ValueError(
                f"Cannot continue training: the fitted network has layer sizes "
                f"{fitted_units} but the parameters and data now give "
                f"{list(layer_units)}. Refit with warm_start=False."
            )
        output = self._target_encoding.output_activation
        if output != self.out_activation_:
            raise ValueError(
                f"Cannot continue training: the fitted network's output "
                f"activation is {self.out_activation_!r} but the parameters now "
                f"ask for {output!r}. Refit with warm_start=False."
            )

    def _prepare_stochastic_state(self, network, first_pass):
        """Keep or rebuild the optimizer, and the early-stopping bookkeeping."""
        state = self._training_state
        settings = OptimizerSettings.of(self)
        optimizer = state.optimizer
        n_params = int(network.segment_bounds[-1])
        if (
            first_pass
            or optimizer is None
            or optimizer.settings != settings
            or optimizer.n_params != n_params
            or optimizer.dtype != network.dtype
        ):
            state.optimizer = make_optimizer(
                settings, n_params, network.n_coef, network.dtype, network.space
            )
        else:
            state.optimizer = optimizer.moved_to(network.space)
        if self.early_stopping:
            state.track_validation()
            state.keep_best_params(network.params, network.space)
        else:
            state.track_loss()

    # --------------------------------------------------------- validation
    def _validate_training_data(self, X, y, sample_weight, incremental, reset):
        """Validate X, y and sample_weight; encode the targets.

        Returns X (CSR if sparse; in its array space), the compact targets
        and the weights (both on the host).
        """
        # Labels are encoded, and weights checked, on the host.
        y, sample_weight = NUMPY.to_numpy(y), NUMPY.to_numpy(sample_weight)
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=_SPARSE_FORMATS,
            multi_output=True,
            y_numeric=self._numeric_targets,
            dtype=_dtypes_of(space_of(X)),
            reset=reset,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        targets = self._encode_targets(y, incremental)
        if sample_weight is not None:
            # Weights beyond X's dtype are refused (infinite after the cast, or
            # in their sum) without overflow warnings on the way.
            with np.errstate(over="ignore"):
                sample_weight = _check_sample_weight(
                    sample_weight,
                    _host_shape_of(X),
                    dtype=space_of(X).numpy_dtype(X),
                    ensure_non_negative=True,
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

    def _validate_validation_data(
        self, X_val, y_val, sample_weight_val, dtype, n_outputs, space=NUMPY
    ):
        """Validate ``X_val``, ``y_val`` and their weights, or return None."""
        if X_val is None and y_val is None:
            if sample_weight_val is not None:
                raise ValueError("sample_weight_val was given without X_val, y_val.")
            return None
        if X_val is None or y_val is None:
            raise ValueError("X_val and y_val must be given together.")
        if not space.is_numpy:
            X_val = space.asarray(X_val)
        X_val = validate_data(
            self,
            X_val,
            accept_sparse=_SPARSE_FORMATS,
            dtype=space.dtype(dtype),
            reset=False,
        )
        y_val, sample_weight_val = (
            NUMPY.to_numpy(y_val),
            NUMPY.to_numpy(sample_weight_val),
        )
        y_val = np.asarray(y_val) if not sp.issparse(y_val) else y_val.toarray()
        if y_val.ndim == 2 and y_val.shape[1] == 1:
            y_val = column_or_1d(y_val, warn=True)
        if y_val.shape[0] != X_val.shape[0]:
            raise ValueError(
                f"X_val has {X_val.shape[0]} samples but y_val has {y_val.shape[0]}."
            )
        targets = self._encode_validation_targets(y_val, n_outputs)
        if sample_weight_val is not None:
            sample_weight_val = _check_sample_weight(
                sample_weight_val,
                _host_shape_of(X_val),
                dtype=dtype,
                ensure_non_negative=True,
            )
        sample_weight_val = space.asarray(
            self._weight_samples(targets, sample_weight_val), dtype
        )
        if sp.issparse(X_val):
            X_val = X_val.tocsr()
        return X_val, targets, sample_weight_val

    # Whether validation turns the targets into numbers (regression).
    _numeric_targets = False

    def _weight_samples(self, targets, sample_weight):
        """The sample weights training uses; an estimator may scale them."""
        return sample_weight

    def _place_labels(self, space):
        """Put fitted label attributes where the model lives (classifiers)."""

    def _validation_scorer(self):
        """None (the estimator's default score), 'loss', or a scorer callable."""
        if self.scoring is None or self.scoring == "loss":
            return self.scoring
        return check_scoring(self, scoring=self.scoring)

    # ------------------------------------------------------------ forward
    def _logits(self, X, method):
        """The output layer's pre-activations ``Z_L`` of validated ``X``.

        They are computed where the model lives (its array space), which
        ``X`` must share under ``array_api_dispatch``.
        """
        space = check_same_space(X, self, method)
        X = validate_data(
            self, X, accept_sparse=_SPARSE_FORMATS, dtype=_dtypes_of(space), reset=False
        )
        with np.errstate(over="ignore", invalid="ignore"):
            logits = forward_logits_in(
                space, X, self.coefs_, self.intercepts_, self._hidden_activations
            )
        return _finite_output(logits, space)

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
        space = check_same_space(X, self, "transform")
        X = validate_data(
            self, X, accept_sparse=_SPARSE_FORMATS, dtype=_dtypes_of(space), reset=False
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
        block = (
            X,
            self.coefs_[:depth],
            self.intercepts_[:depth],
            self._hidden_activations[:depth],
        )
        if space.is_numpy:
            return forward(*block)
        return portable_forward(*block, space.xp)

    def __sklearn_array_api_convert__(self, converter):
        """A copy with the fitted arrays converted (moved to another space).

        scikit-learn's ``move_estimator_to`` calls this to move a fitted
        model between array namespaces and devices, e.g. from a GPU to NumPy.
        The training state travels as host values and follows the weights
        when training goes on.
        """
        moved = clone(self)
        for key, value in vars(self).items():
            if key == "_training_state":
                value = TrainingState.from_dict(
                    copy.deepcopy(value.to_dict(host=True)),
                    *_parameter_sizes(self.coefs_, self.intercepts_),
                )
            elif key in ("coefs_", "intercepts_"):
                value = [converter(array) for array in value]
            elif key == "classes_" and (
                not isinstance(value, np.ndarray) or value.dtype.kind in "biuf"
            ):
                value = converter(value)
            setattr(moved, key, value)
        return moved

    def _host_score(self, metric, X, y, sample_weight):
        """``metric`` of the predictions of ``X``, computed on the host.

        Off NumPy, scikit-learn's metrics average in the namespace's default
        float (float32 for PyTorch), which would make a float64 model's score
        differ from its NumPy twin's; the labels are few, so the score is
        taken in NumPy's float64.
        """
        predicted = NUMPY.to_numpy(self.predict(X))
        host = [NUMPY.to_numpy(v) for v in (y, sample_weight)]
        with config_context(array_api_dispatch=False):
            return float(metric(host[0], predicted, sample_weight=host[1]))

    @property
    def _model_space(self):
        """Where the fitted weights live: NumPy, or another array space."""
        return space_of_model(self.coefs_)

    @property
    def _n_features_out(self):
        """Units of the last hidden layer, the output of :meth:`transform`."""
        return self.coefs_[-2].shape[1] if len(self.coefs_) > 1 else 0

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.input_tags.sparse = True
        # A custom activation's functions are the user's, often NumPy's: only
        # built-in activations are sure to run in every array namespace.
        given = self.activation
        entries = given if isinstance(given, (list, tuple)) else [given]
        tags.array_api_support = all(
            isinstance(entry, str) or is_builtin(entry) for entry in entries
        )
        return tags

    # -------------------------------------------------------- persistence
    def __getstate__(self):
        # The training state and built-in activations travel as plain values
        # (see TrainingState), so that a pickle or a skops file holds no
        # private class but this one.
        state = dict(super().__getstate__())  # a copy, not the live __dict__
        if "_training_state" in state:
            state["_training_state"] = self._training_state.to_dict(host=True)
        if "_hidden_activations" in state:
            fitted = state["_hidden_activations"]
            state["_hidden_activations"] = describe_activations(fitted)
        state["learning_rate"] = for_pickling(self.learning_rate, "learning_rate")
        return state

    def __setstate__(self, state):
        state = {**state, "learning_rate": restored(state["learning_rate"])}
        if "_hidden_activations" in state:
            saved = state["_hidden_activations"]
            state["_hidden_activations"] = restore_activations(saved)
        training = state.get("_training_state")
        if isinstance(training, dict):
            sizes = _parameter_sizes(state["coefs_"], state["intercepts_"])
            state = {
                **state,
                "_training_state": TrainingState.from_dict(training, *sizes),
            }
        super().__setstate__(state)

    def _get_fitted_state(self):
        """The fitted model in plain values, for :func:`~skbackprop.save_model`.

        Raises
        ------
        ValueError
            If the parameters no longer describe the fitted network.
        """
        check_is_fitted(self)
        # Weights in another array space (a GPU's) are saved as NumPy arrays.
        coefs = [NUMPY.to_numpy(c) for c in self.coefs_]
        intercepts = [NUMPY.to_numpy(b) for b in self.intercepts_]
        check_parameters_describe(
            self, coefs, self._hidden_activations, self.out_activation_
        )
        return {
            "n_features_in_": self.n_features_in_,
            "feature_names_in_": getattr(self, "feature_names_in_", None),
            "coefs_": coefs,
            "intercepts_": intercepts,
            "hidden_activations": describe_activations(self._hidden_activations),
            "out_activation_": self.out_activation_,
            "training": self._training_state.to_dict(host=True),
            **self._get_target_state(),
        }

    @classmethod
    def _from_fitted_state(cls, params, fitted):
        """The estimator that ``_get_fitted_state`` described, every value checked.

        Parameters missing from ``params`` take their defaults.

        Raises
        ------
        ValueError
            If a parameter or a fitted value is invalid or inconsistent.
        """
        estimator = cls()
        unknown = sorted(set(params) - set(estimator.get_params(deep=False)))
        if unknown:
            raise ValueError(f"params has unknown parameters {unknown}.")
        estimator.set_params(**params)
        try:
            estimator._validate_params()
        except (TypeError, ValueError) as error:
            raise ValueError(f"invalid parameter: {error}") from None
        estimator._set_fitted_state(fitted)
        return estimator

    def _set_fitted_state(self, fitted):
        check_keys(
            fitted,
            [
                "n_features_in_",
                "feature_names_in_",
                "coefs_",
                "intercepts_",
                "hidden_activations",
                "out_activation_",
                "training",
                *self._target_state_keys,
            ],
            where="fitted",
        )
        coefs, intercepts = check_layers(fitted["coefs_"], fitted["intercepts_"])
        units = [coefs[0].shape[0]] + [c.shape[1] for c in coefs]
        n_features, names, activations = check_inputs_and_activations(fitted, units)
        self._set_target_state(fitted, n_outputs=units[-1])
        check_parameters_describe(self, coefs, activations, fitted["out_activation_"])
        n_coef = sum(c.size for c in coefs)
        self._training_state = TrainingState.from_dict(
            fitted["training"], n_coef + sum(units[1:]), n_coef, coefs[0].dtype
        )
        self.coefs_, self.intercepts_ = coefs, intercepts
        self.n_features_in_ = n_features
        if names is not None:
            self.feature_names_in_ = names
        self.n_layers_, self.n_outputs_ = len(units), units[-1]
        self.out_activation_ = self._target_encoding.output_activation
        self._hidden_activations = tuple(activations)


def _dtypes_of(space):
    """The floating dtypes accepted for X, as ``space``'s namespace names them."""
    return [space.dtype(t) for t in _DTYPES]


def _parameter_sizes(coefs, intercepts):
    """``(n_params, n_coef, dtype)`` of per-layer weights in any array space."""
    n_coef = sum(math.prod(c.shape) for c in coefs)
    n_params = n_coef + sum(math.prod(b.shape) for b in intercepts)
    return n_params, n_coef, space_of_model(coefs).numpy_dtype(coefs[0])


def _host_shape_of(X):
    """A stand-in with ``X``'s rows for checks that need only its length."""
    return np.empty((X.shape[0], 0))


def _finite_output(output, space=NUMPY):
    """``output``, or a ValueError if the network overflowed for some rows."""
    if not space.all_finite(output):
        # Inputs far beyond the training data's scale overflow the network:
        # refuse them rather than return NaN or infinite outputs.
        raise ValueError(
            "The network's output overflowed (it is not finite) for some "
            "samples of X: their values are too large for the fitted weights. "
            "Scale the inputs, e.g. with sklearn.preprocessing.StandardScaler."
        )
    return output
