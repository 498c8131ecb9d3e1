"""An interrupt anywhere in the training loop leaves a consistent model.

A real Ctrl-C arrives between two bytecodes of the interpreter, wherever the
loop happens to be. Instead of hoping a timer lands in the narrow places that
matter, these tests raise KeyboardInterrupt from a trace function at every line
of the stochastic trainer, its batches, its validation monitor, its callbacks
and the training state in turn, and check that the model is exactly the one a
run stopped at the same epoch count by ``max_iter`` produces.
"""

import inspect
import sys
import warnings

import numpy as np
import pytest

from skbackprop import (
    MLPBackpropClassifier,
    _batches,
    _callbacks,
    _lbfgs,
    _state,
    _stochastic,
    _validation,
)

MODULES = (_stochastic, _lbfgs, _state, _batches, _validation, _callbacks)


def _functions(module):
    """Code objects of every function and method the module defines."""
    codes = []
    for _, member in inspect.getmembers(module):
        if getattr(member, "__module__", None) != module.__name__:
            continue
        if inspect.isfunction(member):
            codes.append(member.__code__)
        elif inspect.isclass(member):
            for attribute in vars(member).values():
                function = getattr(attribute, "fget", attribute)
                if inspect.isfunction(function):
                    codes.append(function.__code__)
    return codes


CODES = {code for module in MODULES for code in _functions(module)}
LINES = sorted(
    {
        (code.co_filename, line)
        for code in CODES
        for _, _, line in code.co_lines()
        if line is not None
    }
)


def _interrupt_at(filename, line, occurrence):
    """A trace function raising KeyboardInterrupt the n-th time a line runs."""
    seen = {"count": 0}

    def local(frame, event, arg):
        if (
            event == "line"
            and frame.f_lineno == line
            and frame.f_code.co_filename == filename
        ):
            seen["count"] += 1
            if seen["count"] == occurrence:
                raise KeyboardInterrupt
        return local

    def tracer(frame, event, arg):
        return local if frame.f_code in CODES else None

    return tracer, seen


def _fit(clf, X, y, tracer=None):
    # The trace function in place before (a coverage tool's, say) is put back
    # afterwards: left off, it would miss everything the session runs later.
    previous = sys.gettrace()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sys.settrace(tracer)
        try:
            return clf.fit(X, y)
        finally:
            sys.settrace(previous)


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
    references = {}
    interrupted = set()
    for filename, line in LINES:
        tracer, seen = _interrupt_at(filename, line, occurrence=3)
        clf = MLPBackpropClassifier(max_iter=5, **params)
        try:
            _fit(clf, X, y, tracer)
        except KeyboardInterrupt:
            continue  # raised outside the guarded loop, before training began
        if seen["count"] < 3:
            continue  # the line did not run three times
        interrupted.add((filename, line))
        assert len(clf.loss_curve_) == clf.n_iter_ == len(clf.history_["loss"])
        assert clf.t_ == clf.n_iter_ * len(X)
        if clf.n_iter_:
            if clf.n_iter_ not in references:
                references[clf.n_iter_] = _fit(
                    MLPBackpropClassifier(max_iter=clf.n_iter_, **params), X, y
                )
            reference = references[clf.n_iter_]
            for kept, expected in zip(
                clf.coefs_ + clf.intercepts_, reference.coefs_ + reference.intercepts_
            ):
                np.testing.assert_array_equal(
                    kept, expected, err_msg=f"{filename}:{line}"
                )
    # Setup lines run once; the ~80 lines of the epoch and batch loops run at
    # least three times in five epochs, and each of them was interrupted, as
    # were the lines of the state's commit.
    trainer_lines = {line for name, line in interrupted if name == _stochastic.__file__}
    assert len(trainer_lines) >= 70
    assert any(name == _state.__file__ for name, _ in interrupted)


def test_interrupt_at_every_line_of_the_lbfgs_iteration(small_digits):
    # scipy runs the iterations; an interrupt in our callback, at any line,
    # keeps the last iterate whose record is complete.
    X, y = small_digits[0][:200], small_digits[1][:200]
    params = dict(hidden_layer_sizes=(8,), solver="lbfgs", random_state=0, tol=0)
    references = {}
    interrupted = set()
    for filename, line in LINES:
        tracer, seen = _interrupt_at(filename, line, occurrence=3)
        clf = MLPBackpropClassifier(max_iter=6, **params)
        try:
            _fit(clf, X, y, tracer)
        except KeyboardInterrupt:
            continue  # raised outside the guarded minimisation
        if seen["count"] < 3:
            continue
        interrupted.add((filename, line))
        assert len(clf.loss_curve_) == clf.n_iter_ == len(clf.history_["loss"])
        assert clf.n_iter_ >= 1 and clf.loss_ == clf.loss_curve_[-1]
        if clf.n_iter_ not in references:
            references[clf.n_iter_] = _fit(
                MLPBackpropClassifier(max_iter=clf.n_iter_, **params), X, y
            )
        reference = references[clf.n_iter_]
        np.testing.assert_array_equal(
            clf.loss_curve_, reference.loss_curve_, err_msg=f"{filename}:{line}"
        )
        for kept, expected in zip(
            clf.coefs_ + clf.intercepts_, reference.coefs_ + reference.intercepts_
        ):
            np.testing.assert_array_equal(kept, expected, err_msg=f"{filename}:{line}")
    lbfgs_lines = {line for name, line in interrupted if name == _lbfgs.__file__}
    assert len(lbfgs_lines) >= 15
