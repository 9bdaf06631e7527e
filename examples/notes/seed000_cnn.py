"""Seed 000, "使用CNN卷积神经网络Base": the notes' MNIST CNN and its training step.

The notes give three blocks — the data sets, the CNN, the training step — and leave
the rest to the reader. The blocks below are copied as written; the lines between
them (imports, the constants, the loader and the 2000 images the step evaluates on)
are ours, and the imports are the only thing changed from PyTorch. One pass over
the training images, as in the notes, printing every 50 steps.

Note: the notes build `test_data` with train=True, so the printed accuracy is measured
on training images; that line is kept as written.

    cd DIR && python examples/notes/seed000_cnn.py     # reads or downloads ./mnist
"""
import glassnet as torch
import glassnet.vision as torchvision
from glassnet import nn
from glassnet.utils import data

torch.manual_seed(1)
LR = 0.001
BATCH_SIZE = 50

# torchvision 包含了一些常用的训练数据集
train_data = torchvision.datasets.MNIST(
    root='./mnist',  # 存放到mnist路径
    transform=torchvision.transforms.ToTensor(),  # 转换成tensor格式
    train=True,  # 获取的是否是训练数据集
    download=True  # 是否需要下载，若果是False则直接从mnist目录获取
)

# 上面下载完数据集，测试数据集就可以不用下载直接加载了
test_data = torchvision.datasets.MNIST(
        root='./mnist', train=True)  

train_loader = data.DataLoader(train_data, batch_size=BATCH_SIZE, shuffle=True)
# the step evaluates on 2000 images at once, scaled to [0, 1] like ToTensor does
test_x = torch.unsqueeze(test_data.data, dim=1).float()[:2000] / 255.
test_y = test_data.targets[:2000]

class CNN(nn.Module):

    def __init__(self):
        super(CNN, self).__init__()
        self.conv1 = nn.Sequential(  # 第一次卷积和池化，输入数据 -> (1, 28, 28)
            nn.Conv2d(
                in_channels=1,  # 输入数据值，第一次高度为1
                out_channels=16,  # 每个像素块获取16次，将高度增加到16
                kernel_size=5,  # 每个卷积像素宽度为5
                stride=1,  # 每次卷积前进为1个像素
                padding=2),  # 卷积到边缘时，剩余宽度小于5，则通过padding用0填充
                #  如果想要 con2d 出来的图片长宽没有变化, padding=(kernel_size-1)/2 当 stride=1
                # 输出数据 -> (16, 14, 14)
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=2))
        self.conv2 = nn.Sequential(  # 第二次卷积和池化，输入数据 -> (16, 14, 14)
            nn.Conv2d(16, 32, 5, 1, 2),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=2))  # -> (32, 7, 7)
        self.out = nn.Linear(32 * 7 * 7, 10)  # 输出层数据量为10个，代表(0~9)十种类型

    def forward(self, x):
        x = self.conv1(x)
        x = self.conv2(x)
        x = x.view(x.size(0), -1)  # 展平多维的卷积图成 (batch_size, 32 * 7 * 7)
        output = self.out(x)
        return output


cnn = CNN()
optimizer = torch.optim.Adam(cnn.parameters(), lr=LR)
loss_func = nn.CrossEntropyLoss()

for step, (batch_x, batch_y) in enumerate(train_loader):
    out = cnn(batch_x)
    loss = loss_func(out, batch_y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

    if step % 50 == 0:
        test_out = cnn(test_x)
        pred_y = torch.max(test_out, 1)[1].data.squeeze()
        accuracy = sum(pred_y == test_y) / test_y.size(0)
        print(step, loss.data.numpy(), '%.2f' % accuracy)
