"""The one module of keras_dae that may import a framework (JAX, PyTorch, TensorFlow).

Everything else is written with `keras.ops` and `keras.random`. What Keras does not offer
portably lives here, with one explicit branch per backend, each importing its framework
lazily so that a user with a single backend installed never imports the others.
"""

import collections
import os
import sys
import warnings

import keras
import numpy as np


def input_gradient(loss_fn, x):
    """Gradient of a scalar `loss_fn(x)` with respect to `x`, on the active backend.

    Works eagerly and inside the compiled train step of every backend. The model weights
    that `loss_fn` closes over are treated as constants: no gradient flows into them and
    the result carries no graph back to them.

    Args:
        loss_fn: callable mapping a tensor shaped like `x` to a scalar tensor.
        x: the input tensor.

    Returns:
        A tensor with the shape and dtype of `x`.
    """
    name = keras.backend.backend()
    if name == "jax":
        import jax

        return jax.lax.stop_gradient(jax.grad(lambda v: loss_fn(v))(x))
    if name == "tensorflow":
        import tensorflow as tf

        x = tf.convert_to_tensor(x)
        with tf.GradientTape(watch_accessed_variables=False) as tape:
            tape.watch(x)
            loss = loss_fn(x)
        return tf.stop_gradient(tape.gradient(loss, x))
    if name == "torch":
        import torch

        with torch.enable_grad():
            v = x.detach().requires_grad_(True)
            loss = loss_fn(v)
            (grad,) = torch.autograd.grad(loss, v)
        return grad.detach()
    raise NotImplementedError(
        f"input_gradient is not implemented for the '{name}' backend; "
        "keras_dae supports 'jax', 'tensorflow' and 'torch'."
    )


def group_norm(x, groups, gamma, beta, epsilon):
    """GroupNorm over the last (channel) axis of `x` with the backend's fused kernel, or
    None where Keras' own composition of ops is the fast path.

    torch: `torch.nn.functional.group_norm` on a channels-first view (one kernel forward
    and one backward instead of Keras' reshape-moments-rsqrt composition; a bare Keras
    U-Net trains 1.26× faster with it on 2 CPU cores, `benchmarks/data_format.py`). JAX and
    TensorFlow: None (Keras' own layer; 1.01× and 0.97× there). Computes in float32 like
    Keras' layer.

    Args:
        x: `(batch, ..., channels)`.
        groups: int dividing `channels`.
        gamma, beta: `(channels,)` or None.
        epsilon: float added to the variance.
    """
    if keras.backend.backend() != "torch":
        return None
    import torch

    # a view: channels_last strides, no copy. Axes counted from the front here and below: the
    # TorchScript ONNX exporter writes movedim's -1 into the ONNX Transpose's perm (invalid).
    x = torch.movedim(x.float(), x.dim() - 1, 1)
    if not x.requires_grad:
        # PyTorch 2.13's CPU backward segfaults for a channels_last-strided input that needs
        # no gradient while γ/β do (docs/upstream/torch_group_norm_channels_last.py).
        x = x.contiguous()
    y = torch.nn.functional.group_norm(
        x, groups,
        None if gamma is None else gamma.float(), None if beta is None else beta.float(), epsilon,
    )
    return torch.movedim(y, 1, y.dim() - 1)


def conv2d(x, kernel, strides, padding, dilation_rate, groups, bias=None):
    """A 2-D convolution of channels_last `x` by an HWIO `kernel` without copying `x`, or
    None where Keras' own `ops.conv` is the fast path.

    torch: Keras' `ops.conv` makes the NCHW view of `x` contiguous (a copy) and then copies
    it back to the channels_last memory format that oneDNN wants, around every convolution.
    The NCHW view of a contiguous NHWC tensor already has channels_last strides, so here
    `torch.nn.functional.conv2d` gets it as is and returns channels_last strides, whose NHWC
    view is contiguous again (a bare Keras U-Net with the fused GroupNorm trains 1.11×
    faster for it on 2 CPU cores, `benchmarks/data_format.py`). "same" padding is split as
    Keras splits it (the extra pixel after), padding the NHWC tensor itself when the split
    is uneven. The bias, if any, is added by the convolution itself (no separate add over
    the output, nor a separate reduction for its gradient). JAX and TensorFlow: None.

    Args:
        x: `(batch, height, width, channels)`.
        kernel: `(kh, kw, channels // groups, filters)`, Keras' layout.
        strides, dilation_rate: pairs of ints.
        padding: `"same"` or `"valid"`.
        groups: int.
        bias: `(filters,)` or None.
    """
    if keras.backend.backend() != "torch":
        return None
    import torch

    kernel = keras.ops.convert_to_tensor(kernel)
    pad = 0
    if padding == "same":
        split = []
        for size, k, s, d in zip(x.shape[1:3], kernel.shape[:2], strides, dilation_rate):
            total = max((-(-size // s) - 1) * s + (k - 1) * d + 1 - size, 0)
            split.append((total // 2, total - total // 2))
        if all(a == b for a, b in split):
            pad = [a for a, _ in split]
        else:
            (top, bottom), (left, right) = split
            x = torch.nn.functional.pad(x, (0, 0, left, right, top, bottom))
    bias = None if bias is None else keras.ops.convert_to_tensor(bias)
    kernel = kernel.permute(3, 2, 0, 1)
    if kernel.dtype in (torch.float16, torch.bfloat16) and kernel.device.type == "cpu":
        # float16 on CPU, and bfloat16 on a CPU without AVX-512 (oneDNN's bfloat16 kernels),
        # run PyTorch's slow_conv2d, whose backward wants a contiguous weight (it raises
        # "grad_weight must be contiguous" for the permuted view). A copy of the kernel only.
        kernel = kernel.contiguous()
    y = torch.nn.functional.conv2d(torch.movedim(x, x.dim() - 1, 1), kernel, bias,
                                   stride=tuple(strides), padding=pad,
                                   dilation=tuple(dilation_rate), groups=groups)
    return torch.movedim(y, 1, y.dim() - 1)


def upsample_nearest(x, size):
    """Nearest-neighbour upsampling of channels_last `x` by integer factors, or None where
    Keras' own layer is the fast path.

    torch: Keras' `UpSampling2D` repeats the tensor twice (`ops.repeat` along the height,
    then the width, each an expand and a reshape: two copies forward, two sums backward).
    `torch.nn.functional.interpolate` does it in one kernel each way on the NCHW view,
    whose channels_last strides it keeps, so the NHWC result is contiguous (the same values:
    nearest upsampling by an integer factor is repetition). Only for factors that are powers
    of two: PyTorch maps an output pixel to its source through the factor's reciprocal in
    float, which rounds to the wrong pixel for some others (41, 47, 55, 61 below 64). JAX,
    TensorFlow and other factors: None.

    Args:
        x: `(batch, height, width, channels)`.
        size: pair of ints, the factors along height and width.
    """
    if keras.backend.backend() != "torch" or any(f < 1 or f & (f - 1) for f in size):
        return None
    import torch

    y = torch.nn.functional.interpolate(torch.movedim(x, x.dim() - 1, 1), scale_factor=tuple(size), mode="nearest")
    return torch.movedim(y, 1, y.dim() - 1)


#: `KERAS_DAE_TRACED_INFERENCE=0` turns `TracedInference` off (every call eager).
TRACED_INFERENCE_ENV = "KERAS_DAE_TRACED_INFERENCE"
_SEEN = object()  # a signature called once, not traced yet


class TracedInference:
    """`model.call(inputs, training=False)` on torch through FX graphs of its ATen ops, one
    per input signature (structure, shapes, dtypes), for `DAE.predict_step`.

    On torch, Keras runs a network layer by layer in Python: for the 17-layer DnCNN on a
    64×64 patch that costs as much as the convolutions (42 ms against 24 ms for the same
    network in plain PyTorch, 2 CPU cores; `benchmarks/inference.py`). The traced graph
    calls the same ATen ops without it (24 ms; outputs bit-identical). A signature's
    first call runs eagerly (a trace costs about 4 of those calls, which one call would not
    win back); its second call traces, and every later one reuses the graph. The weights
    are the graph's inputs, read at every call, so training between calls is seen; a model
    whose call does not trace (Python reading a tensor's values, a variable the model does
    not track) stays eager. JAX and TensorFlow compile `predict_step` themselves: None there.

    Args:
        capacity: graphs kept, the least recently used dropped first.
    """

    def __init__(self, capacity=8):
        self.capacity = capacity
        self._graphs = collections.OrderedDict()

    def __call__(self, model, inputs):
        """The outputs of `model.call(inputs, training=False)`, or None: run it eagerly."""
        if keras.backend.backend() != "torch" or os.environ.get(TRACED_INFERENCE_ENV, "1") == "0":
            return None
        import torch

        if torch.is_grad_enabled() or torch.compiler.is_compiling():
            return None
        flat = keras.tree.flatten(inputs)  # tensors from `predict`, NumPy from `predict_on_batch`
        if not flat or not all(isinstance(t, (torch.Tensor, np.ndarray)) for t in flat):
            return None
        flat = [keras.ops.convert_to_tensor(t) for t in flat]
        inputs = keras.tree.pack_sequence_as(inputs, flat)
        weights = [v.value for v in model.trainable_variables] + [v.value for v in model.non_trainable_variables]
        key = (repr(keras.tree.map_structure(lambda _: 0, inputs)),
               tuple((tuple(t.shape), t.dtype, t.device) for t in flat),
               tuple((tuple(w.shape), w.dtype) for w in weights))
        graph = self._graphs.get(key)
        if graph is None and key not in self._graphs:
            self._remember(key, _SEEN)
            return None
        if graph is _SEEN:
            graph = _trace(model, inputs, len(flat), len(model.trainable_variables), flat + weights)
            self._remember(key, graph)
        self._graphs.move_to_end(key)
        return None if graph is None else graph(*flat, *weights)

    def _remember(self, key, graph):
        self._graphs[key] = graph
        while len(self._graphs) > self.capacity:
            self._graphs.popitem(last=False)


def _trace(model, inputs, n_inputs, n_trainable, example):
    """An FX graph of the ATen ops of `model.call(inputs, training=False)` as a function of
    `(*inputs, *trainable, *non_trainable)`, or None where the call is not such a function.

    Traced with fake tensors (`make_fx`, which `torch.export` builds on): Python that reads a
    tensor's values cannot be traced and raises, so no branch taken on one batch's values is
    frozen into the graph; a variable read outside `stateless_call`'s scope would be, and
    the graph is dropped for it.
    """
    import torch
    from torch.fx.experimental.proxy_tensor import make_fx

    def forward(*tensors):
        args = keras.tree.pack_sequence_as(inputs, list(tensors[:n_inputs]))
        trainable = list(tensors[n_inputs:n_inputs + n_trainable])
        outputs, _ = model.stateless_call(trainable, list(tensors[n_inputs + n_trainable:]), args, training=False)
        return outputs

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            graph = make_fx(forward, tracing_mode="fake")(*example)
    except Exception:  # noqa: BLE001 - whatever does not trace runs eagerly, as before
        return None
    constants = [getattr(graph, node.target) for node in graph.graph.nodes if node.op == "get_attr"]
    if any(isinstance(c, torch.nn.Parameter) for c in constants):
        return None
    return graph


def data_parallel(devices=None, batch_size=None):
    """A `keras.distribution.DataParallel` over the local devices, for `train` or a user's
    own `with keras_dae.backend.data_parallel().scope(): build, compile, fit`.

    Each batch is split across the devices and the gradients are averaged (one replica of
    the weights per device). Keras 3.15 distributes on JAX only: `keras.distribution` has
    no TensorFlow or PyTorch implementation in this release, so on those backends this
    raises instead of silently training on one device.

    Args:
        devices: device strings (`keras.distribution.list_devices()`), default all local
            ones: the GPUs, or the CPU devices `XLA_FLAGS=--xla_force_host_platform_device_count=N`
            makes (N must be set before JAX is imported).
        batch_size: optional; checked to divide evenly across the devices.
    """
    name = keras.backend.backend()
    if name != "jax":
        raise ValueError(
            f"Data-parallel training needs the JAX backend: Keras {keras.__version__}'s "
            "keras.distribution has no TensorFlow or PyTorch implementation, and keras-dae "
            "will not fall back to one device without saying so. Run with KERAS_BACKEND=jax "
            f"(or train on one device without data parallelism). Received: backend={name!r}"
        )
    devices = list(devices or keras.distribution.list_devices())
    if batch_size is not None and batch_size % len(devices):
        raise ValueError(
            f"The batch must split evenly across the {len(devices)} devices. Received: "
            f"batch_size={batch_size}"
        )
    return keras.distribution.DataParallel(devices=devices)


def build_optimizer(model):
    """Creates `model.optimizer`'s variables now, before a first `fit` traces its step, where
    TensorFlow would create them (returns `model`).

    Without a distribution strategy, Keras' TensorFlow trainer leaves the optimizer unbuilt
    until the first trace of the train step, so every slot variable (Adam's two per weight)
    is created inside the graph behind a run-once `tf.cond`: the first `fit` of a small
    U-Net DAE took 14.2 s, and 7.3 s with the optimizer built first (`benchmarks/first_fit.py`,
    2 CPU cores, 2026-12-08). JAX and torch build it before tracing already; so does TensorFlow under a
    strategy. Nothing is built while a layer still lacks its weights (built at the first
    call), whose variables the optimizer must track too. The training is the same: the
    slots start at zero either way.
    """
    optimizer = getattr(model, "optimizer", None)
    if (keras.backend.backend() != "tensorflow" or optimizer is None or optimizer.built
            or getattr(model, "_distribute_strategy", None) is not None
            or not all(layer.built for layer in model._flatten_layers())):
        return model
    optimizer.build(model.trainable_variables)
    return model


_ENTRY_POINTS = ("fit", "evaluate", "predict", "train_on_batch", "test_on_batch", "predict_on_batch")


def survive_errors(model):
    """Makes `model` usable after one of its Keras entry points raised (returns `model`).

    Two Keras 3.15 behaviours leave a model broken by one failed call (a wrong input shape,
    found while tracing):
    - JAX: `fit`, `evaluate` and `predict` detach the variables' values while they run
      (`_purge_model_variables`, to save memory) and reattach them at the end; a call that
      raises in between never reattaches them, and every later call fails with
      "TypeError: 'NoneType' object is not callable" (a loaded model's variables have no
      initializer to fall back on; docs/upstream/jax_failed_trace.py);
    - TensorFlow: a first `fit` whose trace failed keeps its `tf.function`, and the next
      `fit` fails with "Creating variables on a non-first call to a function decorated
      with tf.function" (the optimizer's variables).
    The entry points of this model object put back the values a failed call left detached
    and drop the compiled step functions, so that the next call traces afresh.
    """
    import functools

    jax = keras.backend.backend() == "jax"

    def guarded(method):
        @functools.wraps(method)
        def call(*args, **kwargs):
            variables = list(model.variables) + list(getattr(model, "metrics_variables", []))
            if getattr(model, "optimizer", None) is not None:
                variables += list(model.optimizer.variables)
            kept = [v._value for v in variables] if jax else None
            try:
                return method(*args, **kwargs)
            except BaseException:
                if jax:
                    for v, value in zip(variables, kept):
                        if v._value is None:
                            v._value = value
                    model._jax_state = None
                model.train_function = model.test_function = model.predict_function = None
                raise

        return call

    for name in _ENTRY_POINTS:
        object.__setattr__(model, name, guarded(getattr(model, name)))
    return model


def import_tensorflow():
    """Imports TensorFlow (the SavedModel export needs it on JAX too, through jax2tf) and
    returns it; for callers that import it early, e.g. with its start-up notices silenced."""
    import tensorflow

    return tensorflow


def set_random_seed(seed):
    """`keras.utils.set_random_seed(seed)` (Python, NumPy, the backend and Keras' global
    `SeedGenerator`) without importing TensorFlow on JAX or torch.

    Keras also seeds `tf.random` whenever TensorFlow is installed, for `tf.data` users, and
    imports it to do so: 3 s at the start of every `keras-dae train` on JAX or torch on a
    machine with the three backends (2026-12-07), for a pipeline keras-dae does not use there.
    TensorFlow is still seeded on its own backend and wherever it has been imported already.
    """
    from keras.src.utils import module_utils  # Keras' lazy handle on TensorFlow

    tf = module_utils.tensorflow
    skip = (keras.backend.backend() != "tensorflow" and "tensorflow" not in sys.modules
            and tf._available is None)
    if skip:
        tf._available = False  # what Keras reads to decide whether to seed TensorFlow
    try:
        keras.utils.set_random_seed(seed)
    finally:
        if skip:
            tf._available = None
