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
    keras_models  a Keras model in the sandbox against the reference's, on evidence the
                  grader measures (the weights it writes and reads back, the outputs it
                  receives, outputs with the same weights); the model's own description
                  only words a message
    inner_calls   stand-ins built by a test for the inner calls of the part it grades,
                  recording a bounded summary of each call's arguments
    verdicts      the verdicts of the tests already run: the only evidence an excuse for
                  a composite part may use (parts' tests run first)
    fixtures      the pytest fixtures every grader gets: assignment, reference,
                  tolerances, grader_helpers, rng, distinct (``student`` comes from
                  ``autograder.grader.plugin``)

A grader file reads like this (see docs/authoring.md)::

    from autograder.kit import checks

    @pytest.mark.share(2)  # its share of zero_pad's points, which assignment.toml's [points] declares
    def test_pads_height_and_width(student, reference, rng):
        \"\"\"Pads height and width only, with zeros.\"\"\"
        X = rng.standard_normal((2, 3, 4, 2))
        checks.close(student.call("zero_pad", X, 1).value, reference.zero_pad(X, 1), "zero_pad(X, 1)")
"""
