"""Seed 000, "基于RNN的图片分类": an LSTM reads each MNIST image row by row.

The class `RNN` is the notes' code as written; the rest (imports, constants, data,
training loop) is ours, with the imports the only thing changed from PyTorch. Each
28x28 image is a sequence of 28 time steps of 28 pixels; the last step's output
classifies it. One epoch, printing test accuracy on 2000 images every 50 steps.

    cd DIR && python examples/notes/seed000_rnn_classifier.py   # reads or downloads ./mnist
"""
import glassnet as torch
import glassnet.vision as torchvision
from glassnet import nn
from glassnet.utils import data

torch.manual_seed(1)
EPOCH = 1
BATCH_SIZE = 64
TIME_STEP = 28      # rows of an image
INPUT_SIZE = 28     # pixels of a row
LR = 0.01

train_data = torchvision.datasets.MNIST(root='./mnist', train=True,
                                        transform=torchvision.transforms.ToTensor(), download=True)
test_data = torchvision.datasets.MNIST(root='./mnist', train=False)
train_loader = data.DataLoader(train_data, batch_size=BATCH_SIZE, shuffle=True)
test_x = test_data.data.float()[:2000] / 255.     # (2000, 28, 28) in [0, 1]
test_y = test_data.targets[:2000].numpy()

class RNN(nn.Module):
    def __init__(self):
        super(RNN, self).__init__()
        self.rnn = nn.LSTM(  # 图片分类LSTM效果更好
            input_size=28,  # 输入数据，图片像素点
            hidden_size=64,  # 神经元个数
            num_layers=1,  # 有几个神经层
            batch_first=True # input&output会是以batch size为第一维度的特征集 e.g. (batch, time_step, input_size)
        )
        self.out = nn.Linear(64, 10)  # 输出

    def forward(self, x):
        # x shape (batch, time_step, input_size)
        # r_out shape (batch, time_step, output_size)
        # LSTM 有两个 hidden states, h_n 是分线, h_c 是主线
        # h_n shape (n_layers, batch, hidden_size) 
        # h_c shape (n_layers, batch, hidden_size)
        r_out, (h_n, h_c) = self.rnn(x, None)

        # 选取最后一个时间点的 r_out 输出
        # 这里 r_out[:, -1, :] 的值也是 h_n 的值
        out = self.out(r_out[:, -1, :])
        return out


rnn = RNN()
print(rnn)
optimizer = torch.optim.Adam(rnn.parameters(), lr=LR)
loss_func = nn.CrossEntropyLoss()

for epoch in range(EPOCH):
    for step, (b_x, b_y) in enumerate(train_loader):
        output = rnn(b_x.view(-1, TIME_STEP, INPUT_SIZE))    # (batch, 1, 28, 28) -> rows
        loss = loss_func(output, b_y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 50 == 0:
            pred_y = torch.max(rnn(test_x), 1)[1].data.numpy()
            accuracy = (pred_y == test_y).mean()
            print('Epoch:', epoch, '| step:', step, '| train loss: %.4f' % loss.data.numpy(),
                  '| test accuracy: %.3f' % accuracy)
