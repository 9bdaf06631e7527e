"""Neural-network building blocks with PyTorch's names: Module, Parameter, layers, losses.

    import glassnet.nn as nn
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 10))
"""
from . import functional, init  # noqa: F401
from .parameter import Parameter  # noqa: F401
from .module import Module  # noqa: F401
from .container import Sequential, ModuleList, ModuleDict  # noqa: F401
from .linear import Identity, Linear, LazyLinear  # noqa: F401
from .conv import Conv1d, Conv2d, LazyConv2d, ConvTranspose1d, ConvTranspose2d  # noqa: F401
from .upsample import Upsample, UpsamplingNearest2d, UpsamplingBilinear2d  # noqa: F401
from .normalization import BatchNorm1d, BatchNorm2d, LayerNorm, LocalResponseNorm  # noqa: F401
from .sparse import Embedding  # noqa: F401
from . import utils  # noqa: F401
from .pooling import MaxPool2d, AvgPool2d, AdaptiveAvgPool2d  # noqa: F401
from .flatten import Flatten, Unflatten  # noqa: F401
from .dropout import Dropout, Dropout2d  # noqa: F401
from .activation import (Step, ReLU, LeakyReLU, ELU, GELU, Sigmoid, Tanh, SiLU,  # noqa: F401
                         Softplus, Softmax, LogSoftmax, Hardtanh, ReLU6)
from .loss import MSELoss, L1Loss, BCELoss, BCEWithLogitsLoss, NLLLoss, CrossEntropyLoss  # noqa: F401
from .rnn import RNN, LSTM, GRU, RNNCell, LSTMCell, GRUCell  # noqa: F401
