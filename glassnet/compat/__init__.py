"""Other frameworks' APIs over glassnet: `glassnet.compat.v1` is TensorFlow 1's."""
