"""The grading library: what graders import, one concern per module.

    checks        comparisons with failure messages written for students (never the
                  expected values): array, shape, floating, close, scalar, unchanged,
                  parts, cache; shapes are checked before values, axis by axis
                  (``layout``), and ``known_bugs`` (e.g. ``misread_keys``) name a
                  realistic bug when the answer matches it
    explain       framework errors (NumPy, Keras, TensorFlow) raised by student code,
                  translated into a sentence naming the likely cause
    gradients     centred differences (whole arrays or sparse coordinates) and the
                  gradient check against them and the reference: one gradient
                  (``check``), or every gradient of a backward pass (``check_backward``)
    tolerances    the named tolerances an assignment declares (tight, numeric, float32)
    layer_cases   window geometries for convolution and pooling layers, covering every
                  remainder of (H + 2 pad - kernel) mod stride
    keras_architecture
                  a Keras model's architecture as the grader measures it in the sandbox
                  (the weights it writes and reads back, the output it receives, and
                  that the outputs follow the weights); the model's own description
                  only words a message
    keras_outputs a Keras model in the sandbox and the reference's given the same
                  weights, then their outputs compared (blocks, small and whole models)
    tensorflow_env
                  TensorFlow's quiet, one-thread defaults for the grader's process,
                  set on import (the Keras modules import it first)
    inner_calls   stand-ins built by a test for the inner calls of the part it grades,
                  recording a bounded summary of each call's arguments
    verdicts      the verdicts of the tests already run: the only evidence an excuse for
                  a composite part may use (parts' tests run first)
    fixtures      the pytest fixtures every grader gets: assignment, reference,
                  tolerances, grader_helpers, rng, distinct, fresh_sandbox_memory
                  (``student`` comes from ``autograder.grader.plugin``)

A grader file reads like this (see docs/authoring.md)::

    from autograder.kit import checks

    @pytest.mark.share(2)  # its share of zero_pad's points, which assignment.toml's [points] declares
    def test_pads_height_and_width(student, reference, rng):
        \"\"\"Pads height and width only, with zeros.\"\"\"
        X = rng.standard_normal((2, 3, 4, 2))
        checks.close(student.call("zero_pad", X, 1).value, reference.zero_pad(X, 1), "zero_pad(X, 1)")
"""
