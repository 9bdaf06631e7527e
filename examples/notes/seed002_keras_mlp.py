"""Seed 002, "使用Keras创建MLP": the notes' MNIST MLP (669,706 parameters) in Keras.

The notes' model, exactly as written; around it the steps they leave out and describe in
words (load MNIST, scale to [0, 1], one-hot labels, compile, fit with a checkpoint of the
best weights, evaluate). Only the imports differ from a Keras program (keras ->
glassnet.keras; the notes' import line also lacks the Dropout they use). MNIST is read from
$GLASSNET_DATA/mnist or glassnet's other places (`glassnet datasets` lists them).

    python examples/notes/seed002_keras_mlp.py        # NOTES_EPOCHS=2 for a short run
"""
import os

from glassnet.keras.datasets import mnist
from glassnet.keras.models import Sequential
from glassnet.keras.layers import Dense, Flatten, Dropout
from glassnet.keras.utils import np_utils
from glassnet.keras.callbacks import ModelCheckpoint

epochs = int(os.environ.get("NOTES_EPOCHS", 10))

(X_train, y_train), (X_test, y_test) = mnist.load_data()
X_train = X_train.astype('float32') / 255
X_test = X_test.astype('float32') / 255
y_train = np_utils.to_categorical(y_train, 10)
y_test = np_utils.to_categorical(y_test, 10)

model = Sequential()
model.add(Flatten(input_shape=X_train.shape[1:]))
model.add(Dense(512, activation='relu'))
model.add(Dropout(0.2))
model.add(Dense(512, activation='relu'))
model.add(Dropout(0.2))
model.add(Dense(10, activation='softmax'))

model.summary()
model.compile(loss='categorical_crossentropy', optimizer='rmsprop', metrics=['accuracy'])

score = model.evaluate(X_test, y_test, verbose=0)
print('Test accuracy before training: %.4f%%' % (100 * score[1]))

checkpointer = ModelCheckpoint(filepath='mnist.model.best.hdf5', verbose=1,
                               save_best_only=True)
hist = model.fit(X_train, y_train, batch_size=128, epochs=epochs, validation_split=0.2,
                 callbacks=[checkpointer], verbose=2, shuffle=True)

model.load_weights('mnist.model.best.hdf5')
score = model.evaluate(X_test, y_test, verbose=0)
print('Test accuracy: %.4f%%' % (100 * score[1]))
