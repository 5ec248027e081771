"""Keras's Adam with each variable's update in TensorFlow's one fused kernel."""

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="fusion_tf")
class FusedAdam(keras.optimizers.Adam):
    """`keras.optimizers.Adam`, updating each variable with `ResourceApplyAdam`.

    Keras 3 writes Adam's update as about a dozen element-wise ops a variable (subtract, multiply,
    square, square root, divide, three assignments), each a pass over the parameters; on a CPU
    with a small batch those passes are a visible share of the faithful step. TensorFlow's kernel
    does the same arithmetic in one pass: m += (1 - beta_1)(g - m), v += (1 - beta_2)(g^2 - v),
    var -= lr sqrt(1 - beta_2^t) / (1 - beta_1^t) m / (sqrt(v) + epsilon), except that it forms
    1 - beta in float32 where Keras uses Python's double (beta_2 = 0.999 acts as 0.99900001).
    Same slots, so checkpoints load in either; AMSGrad falls back to Keras's update.
    """

    def update_step(self, gradient, variable, learning_rate):
        if self.amsgrad:
            return super().update_step(gradient, variable, learning_rate)
        dtype = variable.dtype
        local_step = tf.cast(self.iterations + 1, dtype)
        index = self._get_variable_index(variable)
        beta_1 = tf.cast(self.beta_1, dtype)
        beta_2 = tf.cast(self.beta_2, dtype)
        tf.raw_ops.ResourceApplyAdam(
            var=variable.handle,
            m=self._momentums[index].handle,
            v=self._velocities[index].handle,
            beta1_power=tf.pow(beta_1, local_step),
            beta2_power=tf.pow(beta_2, local_step),
            lr=tf.cast(learning_rate, dtype),
            beta1=beta_1,
            beta2=beta_2,
            epsilon=tf.cast(self.epsilon, dtype),
            grad=tf.cast(tf.convert_to_tensor(gradient), dtype),
        )
