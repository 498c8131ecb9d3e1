"""An interrupt anywhere in the training loop leaves a consistent model.

A real Ctrl-C arrives between two bytecodes of the interpreter, wherever the
loop happens to be. Instead of hoping a timer lands in the narrow places that
matter, these tests raise KeyboardInterrupt from a trace function at every line
of the epoch loop in turn, and check that the model is exactly the one a run
stopped at the same epoch count by ``max_iter`` produces.
"""

import sys
import warnings

import numpy as np
import pytest

import skbackprop._training as training
from skbackprop import MLPBackpropClassifier

LOOP = training.fit_stochastic.__code__
LINES = sorted({line for _, _, line in LOOP.co_lines() if line})


def _interrupt_at(line, occurrence):
    """A trace function raising KeyboardInterrupt the n-th time ``line`` runs."""
    seen = {"count": 0}

    def local(frame, event, arg):
        if event == "line" and frame.f_lineno == line:
            seen["count"] += 1
            if seen["count"] == occurrence:
                raise KeyboardInterrupt
        return local

    def tracer(frame, event, arg):
        return local if frame.f_code is LOOP else None

    return tracer, seen


def _fit(clf, X, y, tracer=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sys.settrace(tracer)
        try:
            return clf.fit(X, y)
        finally:
            sys.settrace(None)


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_interrupt_at_every_line_of_the_epoch_loop(small_digits, solver):
    X, y = small_digits[0][:200], small_digits[1][:200]
    params = dict(
        hidden_layer_sizes=(8,),
        solver=solver,
        random_state=0,
        tol=0,
        n_iter_no_change=1000,
        shuffle=False,
    )
    interrupted_lines = 0
    for line in LINES:
        tracer, seen = _interrupt_at(line, occurrence=3)
        clf = MLPBackpropClassifier(max_iter=5, **params)
        try:
            _fit(clf, X, y, tracer)
        except KeyboardInterrupt:
            continue  # raised outside the guarded loop, before training began
        if seen["count"] < 3:
            continue  # the line did not run three times
        interrupted_lines += 1
        assert len(clf.loss_curve_) == clf.n_iter_ == len(clf.history_["loss"])
        assert clf.t_ == clf.n_iter_ * len(X)
        if clf.n_iter_:
            reference = _fit(
                MLPBackpropClassifier(max_iter=clf.n_iter_, **params), X, y
            )
            for kept, expected in zip(
                clf.coefs_ + clf.intercepts_, reference.coefs_ + reference.intercepts_
            ):
                np.testing.assert_array_equal(kept, expected, err_msg=f"line {line}")
    # Setup lines run once; the ~65 lines of the epoch and batch loops run at
    # least three times in five epochs, and each of them was interrupted.
    assert interrupted_lines >= 60
