"""The stochastic training loop for data in another array space (a GPU, say).

:class:`~skbackprop._stochastic.StochasticTrainer` runs the loop, its checks
and its recovery unchanged; this subclass swaps what is NumPy's own: batches
are gathered on the device (:class:`~skbackprop._batches.DeviceBatchSource`),
the dropout masks are computed there
(:class:`~skbackprop._dropout.PortableDropout`), the step's gradient and
weight norms stay there as arrays instead of host buffers, and finiteness is
asked of the namespace. The host learns a batch's numbers only when an epoch
ends, so a batch costs no synchronisation.
"""

import numpy as np

from ._batches import DeviceBatchSource
from ._dropout import PortableDropout
from ._rows import row_keys
from ._stochastic import StochasticTrainer

__all__ = ["PortableTrainer"]


class PortableTrainer(StochasticTrainer):
    """:class:`StochasticTrainer` on a :class:`PortableNetwork`.

    Parameters are those of :class:`StochasticTrainer`; ``data`` holds ``X``
    and ``sample_weight`` in the network's space and the compact targets on
    the host.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        space, n_layers = self.space, self.network.n_layers
        xp, dtype = space.xp, space.dtype(self.network.dtype)
        self.layer_norms = xp.zeros(n_layers, dtype=dtype, device=space.device)
        self.epoch_norms = xp.zeros(n_layers, dtype=dtype, device=space.device)
        self.segment_norms = xp.zeros(
            (2, 2 * n_layers), dtype=dtype, device=space.device
        )

    def _make_dropout(self, rates, size):
        """The masks' source: computed on the device, a batch at a time."""
        network = self.network
        return PortableDropout(
            rates,
            self.state.dropout_seed,
            network.layer_units[1:-1],
            network.dtype,
            network.space,
        )

    def _batch_source(self, X, targets, sample_weight, size, incremental):
        est, state, space = self.estimator, self.state, self.network.space
        Y = space.asarray(
            est._target_encoding.rows(targets, self.network.dtype),
            self.network.dtype,
        )
        host_weight = space.to_numpy(sample_weight)
        # A row's key hashes its values, read once, on the host; the keys then
        # move with the rows and the masks are computed from them there.
        keys = None
        if self.dropout is not None:
            keys = self.dropout.keys_in_space(row_keys(space.to_numpy(X)))
        batches = DeviceBatchSource(
            X,
            Y,
            sample_weight,
            host_weight,
            keys,
            size,
            est.shuffle,
            state.random_state,
            None if incremental else state.shuffle_order,
            space,
        )
        if est.shuffle:
            state.shuffle_order = batches.order
        return batches

    def _measured_norms(self):
        # On the device: the squared weight norm is a 0-d array, and the
        # loss it joins is read once per epoch.
        n_layers = self.network.n_layers
        gradient_norms = self.segment_norms[0, :]
        self.layer_norms = gradient_norms[:n_layers] + gradient_norms[n_layers:]
        return self.space.xp.sum(self.segment_norms[1, :n_layers])

    def _clipped_step(self, weight):
        network, limit = self.network, self.estimator.max_grad_norm
        l2_term = self.penalty.add_l2(self.weights, self.weight_grads, weight)
        host_norms = network.layer_gradient_norms(out=np.empty(network.n_layers))
        self.layer_norms = self.space.asarray(host_norms, network.dtype)
        total_norm = float(np.sqrt(host_norms.sum()))
        if total_norm > limit:
            network.grads *= limit / total_norm
        self.optimizer._portable_update(network.params, network.grads)
        return l2_term

    def _all_finite(self, vector):
        return self.space.all_finite(vector)
