"""MLPBackpropClassifier: the estimator for class labels."""

import numpy as np
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.metrics import accuracy_score
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import (
    _check_partial_fit_first_call,
    check_classification_targets,
    type_of_target,
    unique_labels,
)
from sklearn.utils.validation import check_is_fitted

from ._array_api import NUMPY
from ._base import BaseMLPBackprop
from ._class_weight import class_sample_weights
from ._docstrings import fill_docstring
from ._losses import OUTPUT_LAYERS
from ._portable_functions import OUTPUTS
from ._schema import check_bool, check_str
from ._targets import ClassTargets

__all__ = ["MLPBackpropClassifier"]


def _probability_bounds(dtype):
    """Smallest normal number and largest number below one of ``dtype``."""
    info = np.finfo(dtype)
    return info.tiny, 1 - info.epsneg


@fill_docstring
class MLPBackpropClassifier(ClassifierMixin, BaseMLPBackprop):
    """Multilayer-perceptron classifier trained by backpropagation.

    A drop-in replacement for :class:`sklearn.neural_network.MLPClassifier`:
    the same parameters, defaults, fitted attributes and methods, trained on
    the same objective (sample-weighted mean log-loss plus an L2 penalty), with
    per-layer activations, more activation functions, an optimizer state that
    survives ``warm_start``, and a training loop that preallocates its buffers
    and updates all parameters in one vector operation.

    Parameters
    ----------
    {parameters}

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels (for multilabel targets, the label indices).

    out_activation_ : str
        Output activation: 'softmax' for multiclass, 'logistic' for binary and
        multilabel targets.

    {attributes}

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
        **BaseMLPBackprop._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    _parameter_docs = """
early_stopping : bool, default=False
    Stop when the validation score (accuracy, or what ``scoring`` defines)
    has not improved by ``tol`` for ``n_iter_no_change`` epochs, and restore
    the weights of the best epoch (of the latest, among epochs tied on the
    best score). The validation data are ``X_val`` and ``y_val`` when
    ``fit`` receives them, otherwise ``validation_fraction`` of the training
    data, stratified by class (except for multilabel targets) and held out
    with identical rows together, so duplicates never leak into validation
    and a sample weight of k acts exactly like k copies. Stochastic solvers
    only; ``partial_fit`` is then unavailable.

class_weight : dict, 'balanced' or None, default=None
    Weights of the classes, multiplied into ``sample_weight``: a dict
    ``{label: weight}`` (single-label targets), or 'balanced' for
    ``n_samples / (n_classes * n_samples_of_class)`` computed with the
    sample weights; for multilabel targets each label is balanced as a
    binary output and a sample's weight is the product. ``partial_fit`` is
    unavailable with 'balanced'.

scoring : str, callable or None, default=None
    What early stopping monitors on validation data, and what
    ``history_['val_score']`` records: None for accuracy
    (MLPClassifier's choice), 'loss' for the negative validation log-loss,
    or any scikit-learn scorer name or callable. Larger is better.
"""

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
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            max_iter=max_iter,
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            max_fun=max_fun,
            dropout=dropout,
            alpha_l1=alpha_l1,
            max_grad_norm=max_grad_norm,
            init=init,
            weight_decay=weight_decay,
            scoring=scoring,
        )
        self.class_weight = class_weight

    # ------------------------------------------------------------------ fit
    def _check_partial_fit(self):
        super()._check_partial_fit()
        if isinstance(self.class_weight, str) and self.class_weight == "balanced":
            # One batch's class frequencies are not the data's.
            raise AttributeError(
                "partial_fit is not available with class_weight='balanced'; "
                "compute the weights once (sklearn.utils.class_weight."
                "compute_class_weight) and pass them as a dict."
            )
        return True

    @available_if(_check_partial_fit)
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
        # Labels are encoded on the host, whatever array library holds them.
        classes, host_y = NUMPY.to_numpy(classes), NUMPY.to_numpy(y)
        if _check_partial_fit_first_call(self, classes):
            self._label_binarizer = LabelBinarizer()
            if type_of_target(host_y).startswith("multilabel"):
                self._label_binarizer.fit(y)
            else:
                self._label_binarizer.fit(classes)
        return self._fit(X, y, sample_weight, incremental=True)

    @property
    def _target_encoding(self):
        return ClassTargets(self._label_binarizer)

    @property
    def _output_layer(self):
        return OUTPUT_LAYERS[self._target_encoding.output_activation]

    def _n_outputs(self, targets):
        return self._target_encoding.n_outputs

    def _encode_targets(self, y, incremental):
        """Check the labels, fix the classes on a fresh fit, encode ``y``."""
        check_classification_targets(y)
        if not hasattr(self, "classes_") or (not self.warm_start and not incremental):
            self._label_binarizer = LabelBinarizer().fit(y)
            self.classes_ = self._label_binarizer.classes_
        else:
            classes = unique_labels(y)
            known = self._label_binarizer.classes_
            if self.warm_start and not incremental:
                if set(classes) != set(known):
                    raise ValueError(
                        "warm_start can only be used where `y` has the same "
                        "classes as in the previous call to fit. Previously "
                        f"got {known}, `y` has {classes}"
                    )
            else:
                unknown = np.setdiff1d(classes, known, assume_unique=True)
                if len(unknown):
                    raise ValueError(
                        f"`y` has classes not in `self.classes_`: {unknown}. "
                        f"`self.classes_` has {known}; every label must "
                        "be among the `classes` given to the first partial_fit "
                        "call."
                    )
        return self._target_encoding.encode(y)

    def _encode_validation_targets(self, y_val, n_outputs):
        encoding = self._target_encoding
        if not encoding.multilabel:
            unknown = np.setdiff1d(unique_labels(y_val), self._label_binarizer.classes_)
            if len(unknown):
                raise ValueError(
                    f"y_val has classes not in the training data: {unknown}."
                )
        return encoding.encode(y_val)

    def _weight_samples(self, targets, sample_weight):
        return class_sample_weights(
            self.class_weight, targets, self._label_binarizer.classes_, sample_weight
        )

    def _place_labels(self, space):
        """``classes_`` where the model lives, as scikit-learn keeps it.

        Numeric labels follow the weights to another array space; label
        strings, which no array library but NumPy holds, stay on the host.
        The binarizer keeps the host copy that encoding uses.
        """
        classes = self._label_binarizer.classes_
        if space.is_numpy or classes.dtype.kind not in "biuf":
            self.classes_ = classes
        else:
            self.classes_ = space.asarray(classes)

    def _score_outputs(self, probabilities, y, sample_weight):
        """Accuracy (subset accuracy for multilabel) of the output layer."""
        labels = self._target_encoding.decode(probabilities)
        correct = np.all(np.reshape(labels == y, (len(labels), -1)), axis=1)
        return float(np.average(correct, weights=sample_weight))

    # -------------------------------------------------------------- predict
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
        logits = self._logits(X, "predict")
        space = self._model_space
        if not space.is_numpy:
            activate = OUTPUTS[self.out_activation_][0]
            return self._target_encoding.decode_in(space, activate(space.xp, logits))
        output = OUTPUT_LAYERS[self.out_activation_]
        probabilities = output.activate(logits, out=logits)
        return self._target_encoding.decode(probabilities)

    def _class_logits(self, X, method):
        """Logits with one column per entry of ``predict_proba``.

        A binary model has one output unit ``z`` for ``classes_[1]``; the two
        columns ``[-z, z]`` give ``[sigma(-z), sigma(z)]``, which avoids the
        cancellation of ``1 - sigma(z)``.
        """
        logits = self._logits(X, method)
        binary = (
            self._target_encoding.single_output
            and len(self._label_binarizer.classes_) == 2
        )
        space = self._model_space
        if not space.is_numpy:
            if binary:
                return space.xp.concat([-logits, logits], axis=1), "logistic"
            return logits, self.out_activation_
        if binary:
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
        logits, output = self._class_logits(X, "predict_proba")
        space = self._model_space
        if not space.is_numpy:
            xp = space.xp
            if len(self._label_binarizer.classes_) == 1:
                return xp.ones_like(logits)
            low, high = _probability_bounds(space.numpy_dtype(logits))
            probabilities = OUTPUTS[output][0](xp, logits)
            return xp.clip(probabilities, float(low), float(high))
        if len(self._label_binarizer.classes_) == 1:
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
        logits, output = self._class_logits(X, "predict_log_proba")
        space = self._model_space
        if not space.is_numpy:
            xp = space.xp
            if len(self._label_binarizer.classes_) == 1:
                return xp.zeros_like(logits)
            low, high = np.log(_probability_bounds(space.numpy_dtype(logits)))
            log_probabilities = OUTPUTS[output][3](xp, logits)
            return xp.clip(log_probabilities, float(low), float(high))
        if len(self._label_binarizer.classes_) == 1:
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
        logits = self._logits(X, "decision_function")
        if not self._target_encoding.single_output:
            return logits
        space = self._model_space
        return logits.ravel() if space.is_numpy else space.xp.reshape(logits, (-1,))

    def score(self, X, y, sample_weight=None):
        """Mean accuracy on the given test data and labels.

        As :meth:`sklearn.base.ClassifierMixin.score`; for a model fitted on
        another array library's data the accuracy is computed on the host,
        in float64.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Test samples.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            True labels for ``X``.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
            Mean accuracy of ``self.predict(X)`` with respect to ``y``.
        """
        if self._model_space.is_numpy:
            return super().score(X, y, sample_weight)
        return self._host_score(accuracy_score, X, y, sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags

    # -------------------------------------------------------- persistence
    _target_state_keys = ("classes_", "label_type", "sparse_label_input")

    def _get_target_state(self):
        binarizer = self._label_binarizer
        return {
            "classes_": self._label_binarizer.classes_,
            "label_type": binarizer.y_type_,
            "sparse_label_input": bool(binarizer.sparse_input_),
        }

    def _set_target_state(self, fitted, n_outputs):
        classes = fitted["classes_"]
        label_type = check_str(
            fitted["label_type"],
            "label_type",
            {"binary", "multiclass", "multilabel-indicator"},
        )
        if not isinstance(classes, np.ndarray) or classes.ndim != 1 or not len(classes):
            raise ValueError("classes_ must be a non-empty 1-D array.")
        if classes.dtype.kind not in "biufUO":
            raise ValueError(f"classes_ has dtype {classes.dtype}, not a label's.")
        if len(np.unique(classes)) != len(classes) or not np.array_equal(
            np.sort(classes), classes
        ):
            raise ValueError("classes_ must be sorted and distinct.")
        if label_type == "multilabel-indicator":
            consistent = np.array_equal(classes, np.arange(n_outputs))
        elif label_type == "binary":
            consistent = n_outputs == 1 and len(classes) <= 2
        else:
            consistent = len(classes) == n_outputs and len(classes) > 2
        if not consistent:
            raise ValueError(
                f"{len(classes)} classes do not fit a {label_type} model with "
                f"{n_outputs} output unit(s)."
            )
        binarizer = LabelBinarizer()
        binarizer.y_type_ = label_type
        binarizer.sparse_input_ = check_bool(
            fitted["sparse_label_input"], "sparse_label_input"
        )
        binarizer.classes_ = classes
        self._label_binarizer, self.classes_ = binarizer, classes
