"""Seed 002, "Keras 卷积层", "Keras 最大池化层", "CNN架构": the notes' three summary examples.

Each block exactly as the notes write it (only the imports changed: keras ->
glassnet.keras); the printed tables carry the numbers the notes discuss: a Conv2D of
16 2x2 filters with stride 2 on a 200x200x1 image has 80 parameters and output
(None, 100, 100, 16); max pooling 2/2 takes (100, 100, 15) to (50, 50, 15); the
three-block CNN for 32x32x3 images ends in (4, 4, 64) and, with its Dense layers, has
528,054 parameters.

    python examples/notes/seed002_keras_layers.py
"""
from glassnet.keras.models import Sequential
from glassnet.keras.layers import Conv2D

model = Sequential()
model.add(Conv2D(filters=16, kernel_size=2, strides=2, activation='relu', input_shape=(200, 200, 1)))

model.summary()

from glassnet.keras.models import Sequential
from glassnet.keras.layers import MaxPooling2D

model = Sequential()
model.add(MaxPooling2D(pool_size=2, strides=2, input_shape=(100, 100, 15)))
model.summary()

from glassnet.keras.models import Sequential
from glassnet.keras.layers import Conv2D, MaxPool2D

model = Sequential()

model.add(Conv2D(filters=16, kernel_size=2, padding='same', activation='relu',
                 input_shape=(32, 32, 3)))
model.add(MaxPool2D(pool_size=2))
model.add(Conv2D(filters=32, kernel_size=2, padding='same', activation='relu'))
model.add(MaxPool2D(pool_size=2))
model.add(Conv2D(filters=64, kernel_size=2, padding='same', activation='relu'))
model.add(MaxPool2D(pool_size=2))

model.summary()

from glassnet.keras.models import Sequential
from glassnet.keras.layers import Conv2D, MaxPool2D, Flatten, Dense

model = Sequential()

model.add(Conv2D(filters=16, kernel_size=2, padding='same', activation='relu',
                 input_shape=(32, 32, 3)))
model.add(MaxPool2D(pool_size=2))
model.add(Conv2D(filters=32, kernel_size=2, padding='same', activation='relu'))
model.add(MaxPool2D(pool_size=2))
model.add(Conv2D(filters=64, kernel_size=2, padding='same', activation='relu'))
model.add(MaxPool2D(pool_size=2))
model.add(Flatten())
model.add(Dense(500, activation='relu'))
model.add(Dense(10, activation='softmax'))

model.summary()
