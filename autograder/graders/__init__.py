"""Hidden graders: one folder per assignment, one pytest module per graded function.

Never copied into release/ and never visible inside the sandbox.
"""
