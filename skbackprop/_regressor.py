"""MLPBackpropRegressor: the estimator for real-valued targets."""

from numbers import Real

import numpy as np
from sklearn.base import RegressorMixin, _fit_context
from sklearn.metrics import r2_score
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from ._base import BaseMLPBackprop, _finite_output
from ._docstrings import fill_docstring
from ._losses import REGRESSION_LOSSES, regression_output
from ._targets import RegressionTargets

__all__ = ["MLPBackpropRegressor"]


@fill_docstring
class MLPBackpropRegressor(RegressorMixin, BaseMLPBackprop):
    """Multilayer-perceptron regressor trained by backpropagation.

    A drop-in replacement for :class:`sklearn.neural_network.MLPRegressor`:
    the same parameters, defaults, fitted attributes and methods and, for
    'squared_error' and 'poisson', the same objective and training run, with
    the losses MLPRegressor lacks ('absolute_error', 'huber', 'quantile') and
    the training control of :class:`MLPBackpropClassifier`.

    The objective is the sum over outputs of the sample-weighted mean of the
    per-element loss, plus ``0.5 * alpha * sum ||W||^2 / sum(sample_weight)``
    (and ``alpha_l1``'s L1 term). With the residual ``r = y_hat - y``, the
    per-element losses are ``0.5 r^2`` ('squared_error'), ``|r|``
    ('absolute_error'), ``0.5 r^2`` if ``|r| <= huber_delta`` else
    ``huber_delta (|r| - huber_delta / 2)`` ('huber'), ``max(q (y - y_hat),
    (q - 1) (y - y_hat))`` with ``q = quantile`` ('quantile', the pinball
    loss of :func:`sklearn.metrics.mean_pinball_loss`) and half the Poisson
    deviance ``y_hat - y log(y_hat) + y log(y) - y`` with ``y_hat = exp(z)``
    ('poisson').

    Parameters
    ----------
    {parameters}

    Attributes
    ----------
    out_activation_ : str
        Output activation: 'identity', or 'exp' for ``loss='poisson'``.

    {attributes}

    See Also
    --------
    sklearn.neural_network.MLPRegressor : The estimator this one replaces.
    MLPBackpropClassifier : The classifier of the same family.

    Notes
    -----
    ``loss_``, ``loss_curve_`` and ``history_`` report the objective that
    training descends: for several outputs, the *sum* over outputs.
    MLPRegressor descends the same sum, and reports it for 'poisson', but
    for 'squared_error' reports the mean over outputs in its ``loss_``: with
    ``n`` outputs its ``loss_`` is then ours divided by ``n`` (without
    ``alpha``'s term), and ``tol``, which judges the reported loss, stops our
    fit later; ``tol`` times ``n`` stops it where MLPRegressor stops. With
    'lbfgs', MLPRegressor hands scipy that mean together with the gradient
    of the sum, so its multi-output squared-error runs differ from ours.

    ``partial_fit`` is available for the stochastic solvers only, as for the
    classifier; MLPRegressor also offers it with 'lbfgs', where it runs a
    whole warm-started lbfgs fit.

    Examples
    --------
    >>> from sklearn.datasets import make_friedman1
    >>> from sklearn.model_selection import train_test_split
    >>> from skbackprop import MLPBackpropRegressor
    >>> X, y = make_friedman1(n_samples=500, noise=0.5, random_state=0)
    >>> X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    >>> reg = MLPBackpropRegressor(hidden_layer_sizes=(32,), solver="lbfgs",
    ...                            max_iter=300, random_state=0)
    >>> reg.fit(X_train, y_train).score(X_test, y_test) > 0.9
    True
    """

    _parameter_constraints: dict = {
        **BaseMLPBackprop._parameter_constraints,
        "loss": [StrOptions(set(REGRESSION_LOSSES))],
        "huber_delta": [Interval(Real, 0, None, closed="neither")],
        "quantile": [Interval(Real, 0, 1, closed="neither")],
    }

    _parameter_docs = """
loss : {'squared_error', 'poisson', 'absolute_error', 'huber', 'quantile'}, \
default='squared_error'
    The loss per output and sample; see above for each formula. 'poisson'
    predicts ``exp`` of the output layer and needs ``y >= 0``; 'quantile'
    estimates the ``quantile`` of ``y`` given ``X``; 'absolute_error' (the
    median) and 'huber' resist outliers.

early_stopping : bool, default=False
    Stop when the validation score (R², or what ``scoring`` defines) has
    not improved by ``tol`` for ``n_iter_no_change`` epochs, and restore
    the weights of the best epoch (of the latest, among epochs tied on the
    best score). The validation data are ``X_val`` and ``y_val`` when
    ``fit`` receives them, otherwise ``validation_fraction`` of the training
    data, held out with identical rows together, so duplicates never leak
    into validation and a sample weight of k acts exactly like k copies.
    Stochastic solvers only; ``partial_fit`` is then unavailable.

scoring : str, callable or None, default=None
    What early stopping monitors on validation data, and what
    ``history_['val_score']`` records: None for R² (MLPRegressor's choice),
    'loss' for the negative validation loss, or any scikit-learn scorer
    name or callable. Larger is better.

huber_delta : float, default=1.0
    Where the 'huber' loss turns from quadratic to linear, in the units of
    ``y``; > 0.

quantile : float, default=0.5
    The quantile that ``loss='quantile'`` estimates, in (0, 1).
"""

    def __init__(
        self,
        loss="squared_error",
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
        alpha_l1=0.0,
        max_grad_norm=None,
        init="glorot_uniform",
        weight_decay=0.01,
        scoring=None,
        huber_delta=1.0,
        quantile=0.5,
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
        self.loss = loss
        self.huber_delta = huber_delta
        self.quantile = quantile

    # ------------------------------------------------------------------ fit
    @available_if(BaseMLPBackprop._check_partial_fit)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Update the model with one epoch over the given data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The target values; as many outputs on every call.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples.

        Returns
        -------
        self : object
            The updated estimator.
        """
        return self._fit(X, y, sample_weight, incremental=True)

    _numeric_targets = True

    @property
    def _target_encoding(self):
        return RegressionTargets(self.loss)

    @property
    def _output_layer(self):
        return regression_output(self.loss, self.huber_delta, self.quantile)

    def _n_outputs(self, targets):
        return targets.shape[1]

    def _encode_targets(self, y, incremental=False):
        """``y`` as one column per output, checked against the loss."""
        y = np.asarray(y)
        if self.loss == "poisson" and (y < 0).any():
            raise ValueError(
                "Some value(s) of y are negative which is not allowed for "
                "Poisson regression (loss='poisson')."
            )
        return y.reshape(y.shape[0], -1)

    def _encode_validation_targets(self, y_val, n_outputs):
        if not np.issubdtype(np.asarray(y_val).dtype, np.number):
            y_val = np.asarray(y_val, dtype=np.float64)
        targets = self._encode_targets(y_val)
        if targets.shape[1] != n_outputs:
            raise ValueError(
                f"y_val has {targets.shape[1]} output(s) but y has {n_outputs}."
            )
        return targets

    def _score_outputs(self, outputs, y, sample_weight):
        """R² of the outputs, MLPRegressor's validation score."""
        return float(
            r2_score(y, RegressionTargets.decode(outputs), sample_weight=sample_weight)
        )

    # -------------------------------------------------------------- predict
    def predict(self, X):
        """Predict using the multilayer perceptron.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The predicted values.
        """
        check_is_fitted(self)
        logits = self._logits(X, "predict")
        space = self._model_space
        if not space.is_numpy:
            outputs = space.xp.exp(logits) if self.out_activation_ == "exp" else logits
            _finite_output(outputs, space)
            return (
                space.xp.reshape(outputs, (-1,)) if outputs.shape[1] == 1 else outputs
            )
        if self.out_activation_ == "exp":
            with np.errstate(over="ignore"):
                np.exp(logits, out=logits)
            _finite_output(logits)
        return RegressionTargets.decode(logits)

    def score(self, X, y, sample_weight=None):
        """Coefficient of determination R^2 of the prediction.

        As :meth:`sklearn.base.RegressorMixin.score`; for a model fitted on
        another array library's data R^2 is computed on the host, in
        float64.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Test samples.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            True values for ``X``.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
            R^2 of ``self.predict(X)`` with respect to ``y``.
        """
        if self._model_space.is_numpy:
            return super().score(X, y, sample_weight)
        return self._host_score(r2_score, X, y, sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        poisson = self.loss == "poisson"
        tags.target_tags.positive_only = poisson
        # Poisson regression fits several outputs too, but scikit-learn's
        # check_regressor_multioutput draws negative targets whatever
        # positive_only says, which Poisson must refuse; its multi-output
        # support is tested in this package's own tests instead.
        tags.target_tags.multi_output = not poisson
        return tags

    # -------------------------------------------------------- persistence
    _target_state_keys = ()

    def _get_target_state(self):
        return {}

    def _set_target_state(self, fitted, n_outputs):
        """A regressor's targets need nothing beyond the output layer's size."""
