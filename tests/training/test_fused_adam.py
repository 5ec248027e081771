"""The fused Adam is Keras's Adam: the same variables after several steps, and checkpoints swap."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from fusion_tf.training.fused_adam import FusedAdam


def _train(optimizer, steps=5):
    rng = np.random.default_rng(0)
    variables = [
        keras.Variable(rng.normal(size=(3, 4)).astype("float32"), name="kernel"),
        keras.Variable(rng.normal(size=(4,)).astype("float32"), name="bias"),
    ]
    optimizer.build(variables)
    for step in range(steps):
        gradients = [
            tf.constant(rng.normal(size=variable.shape) * (step + 1), tf.float32)
            for variable in variables
        ]
        optimizer.apply(gradients, variables)
    return variables, optimizer


@pytest.mark.parametrize(
    "settings",
    [
        dict(learning_rate=1e-3),
        dict(learning_rate=0.05, beta_1=0.8, beta_2=0.95, epsilon=1e-4),
        dict(learning_rate=keras.optimizers.schedules.CosineDecay(0.1, 10)),
    ],
)
def test_updates_match_keras_adam(settings):
    expected, keras_adam = _train(keras.optimizers.Adam(**settings))
    fused, fused_adam = _train(FusedAdam(**settings))
    # TensorFlow's kernel forms 1 - beta_2 in float32 (9.99987e-4 for 0.999), Keras in Python's
    # double (1e-3): the velocities differ by 1.3e-5 relative, the weights by less.
    for value, reference in zip(fused, expected, strict=True):
        np.testing.assert_allclose(value.numpy(), reference.numpy(), rtol=1e-5, atol=1e-6)
    for slot, reference in zip(fused_adam.variables, keras_adam.variables, strict=True):
        np.testing.assert_allclose(slot.numpy(), reference.numpy(), rtol=5e-5, atol=1e-7)


def test_a_keras_adam_checkpoint_resumes_in_the_fused_adam(tmp_path):
    variables, keras_adam = _train(keras.optimizers.Adam(0.01), steps=3)
    path = tf.train.Checkpoint(optimizer=keras_adam, variables=variables).save(tmp_path / "ckpt")
    restored_variables, fused_adam = _train(FusedAdam(0.01), steps=0)
    tf.train.Checkpoint(optimizer=fused_adam, variables=restored_variables).restore(path)
    assert int(fused_adam.iterations.numpy()) == 3
    gradients = [tf.ones(variable.shape) for variable in variables]
    keras_adam.apply(gradients, variables)
    fused_adam.apply(gradients, restored_variables)
    for value, reference in zip(restored_variables, variables, strict=True):
        np.testing.assert_allclose(value.numpy(), reference.numpy(), rtol=1e-6)


def test_amsgrad_falls_back_to_keras():
    expected, _ = _train(keras.optimizers.Adam(0.01, amsgrad=True))
    fused, _ = _train(FusedAdam(0.01, amsgrad=True))
    for value, reference in zip(fused, expected, strict=True):
        np.testing.assert_allclose(value.numpy(), reference.numpy(), rtol=1e-6)


_MIRRORED_SCRIPT = """
import json
import keras
import numpy as np
from fusion_tf.training.fused_adam import FusedAdam

strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])


def train(optimizer, variable):
    @tf.function
    def step():
        def replica_step():
            replica = tf.distribute.get_replica_context().replica_id_in_sync_group
            gradient = tf.cast(replica + 1, tf.float32) * tf.ones(6)
            optimizer.apply_gradients([(gradient, variable)])

        strategy.run(replica_step)

    for _ in range(3):
        step()
    return [component.numpy().tolist() for component in variable.value.values]


results = {}
for name, make in (("keras", keras.optimizers.Adam), ("fused", FusedAdam)):
    with strategy.scope():
        variable = keras.Variable(np.linspace(-1.0, 1.0, 6).astype("float32"))
        optimizer = make(0.01)
        optimizer.build([variable])
    results[name] = train(optimizer, variable)
print(json.dumps(results))
"""


def test_replicas_update_alike_under_a_mirrored_strategy(run_on_two_cpu_replicas):
    result = run_on_two_cpu_replicas(_MIRRORED_SCRIPT)
    replica_0, replica_1 = result["fused"]
    np.testing.assert_array_equal(replica_0, replica_1)
    np.testing.assert_allclose(result["fused"], result["keras"], rtol=1e-5)
