"""torch.nn.functional's names and signatures over glassnet's ops.

    import glassnet.nn.functional as F
    y = F.max_pool2d(F.relu(F.conv2d(x, w, b, padding=2)), 2)

Every function here is the op itself (one `Function` each, in `glassnet/ops/`);
this module only gathers them under the names PyTorch users know.
"""
from ..ops.linalg import linear  # noqa: F401
from ..ops.conv import conv1d, conv2d  # noqa: F401
from ..ops.conv_transpose import conv_transpose1d, conv_transpose2d  # noqa: F401
from ..ops.upsample import interpolate, upsample  # noqa: F401
from ..ops.pool import (max_pool1d, max_pool2d, avg_pool1d, avg_pool2d,  # noqa: F401
                        adaptive_avg_pool2d)
from ..ops.dropout import dropout, dropout2d  # noqa: F401
from ..ops.shape import pad  # noqa: F401
from ..ops.activation import (step, sigmoid, tanh, relu, relu6, leaky_relu, hardtanh,  # noqa: F401
                              elu, gelu, silu, softplus, softmax, log_softmax)
from ..ops.loss import (mse_loss, l1_loss, binary_cross_entropy,  # noqa: F401
                        binary_cross_entropy_with_logits, nll_loss, cross_entropy)
from ..ops.normalization import batch_norm, layer_norm, local_response_norm, embedding  # noqa: F401,E501
