"""Keras's layers (Keras 3 names, with the Keras 2 spellings the notes use)."""
from .base import Layer, InputLayer, Input, KerasTensor, Variable  # noqa: F401
from .core import (Dense, Activation, Dropout, Flatten, Reshape, Add, Subtract,  # noqa: F401
                   Multiply, Average, Concatenate)
from .convolutional import (Conv1D, Conv2D, MaxPooling1D, MaxPooling2D,  # noqa: F401
                            AveragePooling1D, AveragePooling2D, GlobalAveragePooling1D,
                            GlobalAveragePooling2D, GlobalMaxPooling1D, GlobalMaxPooling2D,
                            MaxPool1D, MaxPool2D, AvgPool1D, AvgPool2D, GlobalAvgPool2D,
                            GlobalMaxPool2D)
from .normalization import BatchNormalization  # noqa: F401
from .recurrent import Embedding, SimpleRNN, LSTM, GRU, Bidirectional  # noqa: F401

Convolution1D, Convolution2D = Conv1D, Conv2D


def add(inputs, **kwargs):
    return Add(**kwargs)(inputs)


def concatenate(inputs, axis=-1, **kwargs):
    return Concatenate(axis=axis, **kwargs)(inputs)
