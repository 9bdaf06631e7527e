"""Seed 002, "Tensorflow实现CNN": the notes' MNIST CNN in TF1 (conv2d + bias_add + relu,
max_pool SAME, two conv blocks, a 1024-unit dense layer with dropout, GradientDescent).

Only the imports differ, plus what the notes' listing needs to run at all (it fails in
TensorFlow as printed): weights['conv1'] (5x5x1x32) is missing from the dict and the dense
layer is called 'dense1' in the dicts but 'dense' in network(), so the key is 'dense'
here; `losses` and `valid_accs` are lists that are never made. The data folder ($NOTES_MNIST,
default '.'), epochs ($NOTES_EPOCHS, default the notes' 10) and learning rate
($NOTES_LR, default the notes' 0.0001) can be set from outside."""
import os

from glassnet.compat.v1.examples.tutorials.mnist import input_data
import glassnet.compat.v1 as tf

mnist = input_data.read_data_sets(os.environ.get("NOTES_MNIST", '.'), one_hot=True,
                                  reshape=False)

learning_rate = float(os.environ.get("NOTES_LR", 0.0001))
epochs = int(os.environ.get("NOTES_EPOCHS", 10))
batch_size = 128

# 用于验证的样本数
valid_size = 256
test_size = 256

# 10个类别
n_classes = 10

# 保留单元的概率
keep_prob = 0.70

weights = {
    'conv1': tf.Variable(tf.random_normal([5, 5, 1, 32])),
    'conv2': tf.Variable(tf.random_normal([5, 5, 32, 64])),
    'dense': tf.Variable(tf.random_normal([7 * 7 * 64, 1024])),
    'out': tf.Variable(tf.random_normal([1024, n_classes]))
}

biases = {
    'conv1': tf.Variable(tf.random_normal([32])),
    'conv2': tf.Variable(tf.random_normal([64])),
    'dense': tf.Variable(tf.random_normal([1024])),
    'out': tf.Variable(tf.random_normal([n_classes]))
}


def conv2d(x, W, b, strides=1):
    x = tf.nn.conv2d(x, W, strides=[1, strides, strides, 1], padding='SAME')
    x = tf.nn.bias_add(x, b)
    return tf.nn.relu(x)


def maxpool2d(x, k=2):
    return tf.nn.max_pool(x, ksize=[k, k], strides=[k, k], padding='SAME')


def network(x, weights, biases, keep_prob):

    conv1 = conv2d(x, weights['conv1'], biases['conv1'])
    conv1 = maxpool2d(conv1)

    conv2 = conv2d(conv1, weights['conv2'], biases['conv2'])
    conv2 = maxpool2d(conv2)

    # Flatten First
    dense = tf.reshape(conv2, [-1, weights['dense'].get_shape().as_list()[0]])
    dense = tf.add(tf.matmul(dense, weights['dense']), biases['dense'])
    dense = tf.nn.relu(dense)
    dense = tf.nn.dropout(dense, keep_prob)

    return tf.add(tf.matmul(dense, weights['out']), biases['out'])


# 输入数据
x = tf.placeholder(tf.float32, [None, 28, 28, 1])
y = tf.placeholder(tf.float32, [None, n_classes])
kp = tf.placeholder(tf.float32)

# 网络处理数据后产生的logits输出
logits = network(x, weights, biases, kp)

# 损失和优化器,用于训练网络
cost = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(logits=logits, labels=y))
optimizer = tf.train.GradientDescentOptimizer(learning_rate=learning_rate).minimize(cost)

# 准确度
pred = tf.equal(tf.argmax(logits, 1), tf.argmax(y, 1))
accuracy = tf.reduce_mean(tf.cast(pred, tf.float32))

# 用于初始化变量
init = tf.global_variables_initializer()

losses, valid_accs = [], []

with tf.Session() as sess:
    sess.run(init)

    last_loss = 'inf'
    for epoch in range(epochs):

        for batch in range(mnist.train.num_examples // batch_size):

            batch_x, batch_y = mnist.train.next_batch(batch_size)
            sess.run(optimizer, feed_dict={
                x: batch_x, y: batch_y, kp: keep_prob
            })

            loss = sess.run(cost, feed_dict={
                x: batch_x, y: batch_y, kp: 1.
            })
            losses.append(loss)

            valid_acc = sess.run(accuracy, feed_dict={
                x: mnist.validation.images[:valid_size],
                y: mnist.validation.labels[:valid_size],
                kp: 1.0
            })
            valid_accs.append(valid_acc)

    test_acc = sess.run(accuracy, feed_dict={
        x: mnist.test.images[:test_size],
        y: mnist.test.labels[:test_size],
        kp: 1.0
    })
    print()
    print("Train Over, test accuracy: {}".format(test_acc))
