"""The order of the examples in the gallery: a reading order, not alphabetical."""

from pathlib import Path

# Examples not listed here follow, in file-name order.
READING_ORDER = [
    "plot_mnist.py",
    "plot_dropin_replacement.py",
    "plot_activations.py",
    "plot_grid_search.py",
    "plot_gradient_check.py",
    "dask_scale_out.py",
    "plot_hidden_features.py",
    "plot_training_control.py",
    "plot_custom_training.py",
    "plot_onnx_deployment.py",
    # Regression, after every classification example.
    "plot_regressor_dropin.py",
    "plot_quantile_regression.py",
    "plot_poisson_regression.py",
]


class ReadingOrder:
    """Sort key for sphinx-gallery's ``within_subsection_order`` option."""

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        name = Path(filename).name
        if name in READING_ORDER:
            return (0, READING_ORDER.index(name), name)
        return (1, 0, name)

    def __repr__(self):
        return f"<{type(self).__name__}>"
