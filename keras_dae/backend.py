"""The one module of keras_dae that may import a framework (JAX, PyTorch, TensorFlow).

Everything else is written with `keras.ops` and `keras.random`. What Keras does not offer
portably lives here, with one explicit branch per backend, each importing its framework
lazily so that a user with a single backend installed never imports the others.
"""

import keras


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
