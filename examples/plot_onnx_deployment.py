"""
=======================================
Deploying without Python: ONNX export
=======================================

A fitted :class:`skbackprop.MLPBackpropClassifier`, alone or in a
scikit-learn pipeline, converts to an `ONNX <https://onnx.ai>`_ graph that
runtimes in C++, C#, Java, JavaScript or on mobile run without Python.
Importing :mod:`skbackprop.onnx` registers the estimators with
`skl2onnx <https://onnx.ai/sklearn-onnx/>`_; this example exports a
pipeline, runs it with `onnxruntime <https://onnxruntime.ai>`_, checks that
it predicts what the pipeline predicts, and compares the time each takes
for one sample and for 10,000.
"""

# License: BSD-3-Clause

# %%
# A pipeline to deploy
# --------------------
# Digits, standardised, and a network with a different activation in each
# hidden layer: skl2onnx's own converter for ``MLPClassifier`` knows four
# activations and one for all layers; this one converts every activation of
# skbackprop. The features are float32, the dtype most runtimes work in.
#
# ``SKBACKPROP_EXAMPLES_QUICK`` is set by the project's test suite to train
# for fewer epochs; leave it unset to reproduce the numbers.

import os
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skbackprop import MLPBackpropClassifier

quick = os.environ.get("SKBACKPROP_EXAMPLES_QUICK") == "1"
X, y = load_digits(return_X_y=True)
X = X.astype(np.float32)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
pipeline = make_pipeline(
    StandardScaler(),
    MLPBackpropClassifier(
        hidden_layer_sizes=(64, 32),
        activation=["gelu", "tanh"],
        max_iter=10 if quick else 60,
        random_state=0,
    ),
)
with warnings.catch_warnings():
    # In quick mode training stops at max_iter, which is no problem here.
    warnings.simplefilter("ignore", ConvergenceWarning)
    pipeline.fit(X_train, y_train)
print(f"Test accuracy: {pipeline.score(X_test, y_test):.4f}")

# %%
# Export
# ------
# :func:`skl2onnx.to_onnx` takes the fitted pipeline and a sample of the
# input, whose dtype decides the graph's: float32 here. The ``zipmap``
# option set to False gives the probabilities as one matrix rather than a
# dictionary per sample. The graph is plain bytes, to save or to ship.

from skl2onnx import to_onnx

import skbackprop.onnx  # noqa: F401  (registers the converters)

onnx_model = to_onnx(
    pipeline,
    X_train[:1],
    options={MLPBackpropClassifier: {"zipmap": False}},
)
model_bytes = onnx_model.SerializeToString()
opset = {entry.domain: entry.version for entry in onnx_model.opset_import}[""]
print(f"{len(model_bytes) / 1024:.0f} KiB, opset {opset}")
print("input: ", [entry.name for entry in onnx_model.graph.input], "(float32)")
print("outputs:", [entry.name for entry in onnx_model.graph.output])

# %%
# Run it and compare
# ------------------
# onnxruntime computes the labels and probabilities; they agree with the
# pipeline's ``predict`` and ``predict_proba`` to float32 rounding, and the
# labels are the same. The session runs on one thread, and so does numpy's
# BLAS in the timings below, so that the comparison is like for like.

import onnxruntime as ort

options = ort.SessionOptions()
options.intra_op_num_threads = 1
session = ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])
input_name = session.get_inputs()[0].name
labels, probabilities = session.run(None, {input_name: X_test})

expected = pipeline.predict_proba(X_test)
print(
    f"largest difference of probabilities: {np.abs(probabilities - expected).max():.2e}"
)
print(
    "largest relative difference:         "
    f"{(np.abs(probabilities - expected) / expected).max():.2e}"
)
print(f"identical labels: {np.array_equal(labels, pipeline.predict(X_test))}")

# %%
# float64 end to end
# ------------------
# A float64 sample gives a graph that computes in float64 throughout, for
# when the predictions must match to double precision. ZipMap holds float32
# only, so float64 graphs return a probability matrix by default.

X_test64 = X_test.astype(np.float64)
session64 = ort.InferenceSession(
    to_onnx(pipeline, X_test64[:1]).SerializeToString(),
    options,
    providers=["CPUExecutionProvider"],
)
_, probabilities64 = session64.run(None, {input_name: X_test64})
expected64 = pipeline.predict_proba(X_test64)
print(
    f"float64: largest difference {np.abs(probabilities64 - expected64).max():.2e}, "
    f"dtype {probabilities64.dtype}"
)

# %%
# Latency
# -------
# One sample at a time is how a service answers requests; 10,000 at a time,
# how a batch job scores a table. Each is timed a few times and the fastest
# run kept, which is the least disturbed by whatever else the machine does.

import time

from threadpoolctl import threadpool_limits


def fastest(predict, batch, repeat):
    """The shortest of ``repeat`` timed calls of ``predict(batch)``, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        predict(batch)
        times.append(time.perf_counter() - start)
    return min(times)


predictors = {
    "predict_proba": pipeline.predict_proba,
    "onnxruntime": lambda batch: session.run(None, {input_name: batch}),
}
rng = np.random.RandomState(0)
batches = {
    "1 sample": X_test[:1],
    "10,000 samples": X_test[rng.randint(0, len(X_test), 10_000)],
}
latency = {}
with threadpool_limits(limits=1, user_api="blas"):
    for name, batch in batches.items():
        repeat = 200 if len(batch) == 1 else 5
        latency[name] = {
            predictor: fastest(predict, batch, repeat)
            for predictor, predict in predictors.items()
        }

print(f"{'batch':<16}{'predict_proba':>16}{'onnxruntime':>16}{'speed-up':>10}")
for name, times in latency.items():
    ratio = times["predict_proba"] / times["onnxruntime"]
    print(
        f"{name:<16}{times['predict_proba'] * 1e3:>13.3f} ms"
        f"{times['onnxruntime'] * 1e3:>13.3f} ms{ratio:>9.1f}x"
    )

# %%
# For a single sample, most of ``predict_proba``'s time goes to checking the
# input and to Python's calls from step to step, which the runtime does
# without. For a large batch the arithmetic dominates (the matrix products
# and the activations), and the gap narrows.

import matplotlib.pyplot as plt

fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
for ax, (name, times) in zip(axes, latency.items(), strict=True):
    ax.bar(
        list(times),
        [seconds * 1e3 for seconds in times.values()],
        color=["tab:blue", "tab:orange"],
    )
    ax.set(title=name, ylabel="milliseconds (fastest run)")
fig.tight_layout()
plt.show()
