"""Seed 002, "CNN架构" and "图片增强": the notes' CIFAR-10 CNN trained with augmentation.

The notes' network (three Conv2D 2x2 'same' + MaxPool2D blocks of 16, 32 and 64 filters,
Flatten, Dense 500, Dense 10 softmax) and their augmentation (random shifts of 10% and
horizontal flips from an ImageDataGenerator, fitted on the training images, fed through
`fit_generator(datagen.flow(x_train, y_train, batch_size=32),
steps_per_epoch=x_train.shape[0] // 32, ...)`), with the steps the notes leave to the
linked program: scale to [0, 1], one-hot labels, the first 5,000 training images kept
for validation, RMSprop, the best weights kept by ModelCheckpoint and reloaded, the test
accuracy printed. Only the imports differ from a Keras program; the notes' own snippet
writes `width_shift=0.1`, which Keras refuses (glassnet too, suggesting the right name),
so this program uses width_shift_range as their linked program does.

CIFAR-10 is read from $GLASSNET_DATA/cifar10/cifar-10-batches-py: point it at a dev split
(../shared/datasets/cifar10/make-dev-split DIR) to report on held-out images.

    python examples/notes/seed002_keras_cifar10_cnn.py    # NOTES_EPOCHS=2 for a short run
"""
import os

from glassnet.keras.datasets import cifar10
from glassnet.keras.utils import np_utils
from glassnet.keras.models import Sequential
from glassnet.keras.layers import Conv2D, MaxPool2D, Flatten, Dense
from glassnet.keras.preprocessing.image import ImageDataGenerator
from glassnet.keras.callbacks import ModelCheckpoint

epochs = int(os.environ.get("NOTES_EPOCHS", 20))
batch_size = 32

(x_train, y_train), (x_test, y_test) = cifar10.load_data()
x_train = x_train.astype('float32') / 255
x_test = x_test.astype('float32') / 255
y_train = np_utils.to_categorical(y_train, 10)
y_test = np_utils.to_categorical(y_test, 10)
(x_train, x_valid) = x_train[5000:], x_train[:5000]
(y_train, y_valid) = y_train[5000:], y_train[:5000]
print('x_train shape:', x_train.shape, 'valid:', x_valid.shape, 'test:', x_test.shape)

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
model.compile(loss='categorical_crossentropy', optimizer='rmsprop', metrics=['accuracy'])

datagen = ImageDataGenerator(
            width_shift_range=0.1,
            height_shift_range=0.1,
            horizontal_flip=True)

datagen.fit(x_train)

checkpointer = ModelCheckpoint(filepath='aug_model.weights.best.hdf5', verbose=1,
                               save_best_only=True)
model.fit_generator(datagen.flow(x_train, y_train, batch_size=batch_size),
                    steps_per_epoch=x_train.shape[0] // batch_size,
                    epochs=epochs, verbose=2, callbacks=[checkpointer],
                    validation_data=(x_valid, y_valid),
                    validation_steps=x_valid.shape[0] // batch_size)

model.load_weights('aug_model.weights.best.hdf5')
score = model.evaluate(x_test, y_test, verbose=0)
print('Test accuracy: %.4f' % score[1])
