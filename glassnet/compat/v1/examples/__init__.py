"""`tensorflow.examples`, as far as the notes use it: `tutorials.mnist.input_data`."""
