"""The sandbox: limits, isolation, memory bounds and the worker processes that run student code."""
