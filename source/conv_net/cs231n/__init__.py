"""Helpers for the conv_net assignment, after Stanford's CS231n (provided, not graded).

    layers          affine, ReLU and softmax layers (forward and backward)
    fast_layers     convolution and max pooling in pure NumPy, vectorised with im2col
    layer_utils     "sandwich" layers built from the two above (conv-relu-pool, ...)
    gradient_check  numerical gradients and relative errors
    solver          a Solver that trains a model with SGD, momentum or Adam
    data_utils      the offline digits data set and CIFAR-10 (when downloaded)

The naive convolution and pooling layers and the ThreeLayerConvNet are not here:
you write them in the notebook.
"""
