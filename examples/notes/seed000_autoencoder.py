"""Seed 000, "自编码(AutoEncoder)": compress each MNIST image to 3 numbers and back.

The notes describe the autoencoder in words only: the network squeezes the input
X through a narrow middle and must rebuild X from it, so the error is measured
against the input itself — no labels, unsupervised — and afterwards usually only
the first half (the encoder) is kept. This program is that description written the
way the notes write their other PyTorch networks; only the imports differ from
PyTorch. One epoch, printing the reconstruction loss, then the codes of a few images.

    cd DIR && python examples/notes/seed000_autoencoder.py    # reads or downloads ./mnist
"""
import glassnet as torch
import glassnet.vision as torchvision
from glassnet import nn
from glassnet.utils import data

torch.manual_seed(1)
EPOCH = 1
BATCH_SIZE = 64
LR = 0.005

train_data = torchvision.datasets.MNIST(
    root='./mnist',
    train=True,
    transform=torchvision.transforms.ToTensor(),  # pixels in [0, 1]
    download=True,
)
train_loader = data.DataLoader(train_data, batch_size=BATCH_SIZE, shuffle=True)


class AutoEncoder(nn.Module):
    def __init__(self):
        super(AutoEncoder, self).__init__()
        # 压缩: 784 pixels -> 3 numbers
        self.encoder = nn.Sequential(
            nn.Linear(28 * 28, 128), nn.Tanh(),
            nn.Linear(128, 64), nn.Tanh(),
            nn.Linear(64, 12), nn.Tanh(),
            nn.Linear(12, 3),
        )
        # 解压: 3 numbers -> 784 pixels in (0, 1)
        self.decoder = nn.Sequential(
            nn.Linear(3, 12), nn.Tanh(),
            nn.Linear(12, 64), nn.Tanh(),
            nn.Linear(64, 128), nn.Tanh(),
            nn.Linear(128, 28 * 28), nn.Sigmoid(),
        )

    def forward(self, x):
        encoded = self.encoder(x)
        decoded = self.decoder(encoded)
        return encoded, decoded


autoencoder = AutoEncoder()
optimizer = torch.optim.Adam(autoencoder.parameters(), lr=LR)
loss_func = nn.MSELoss()

losses = []
for epoch in range(EPOCH):
    for step, (x, _) in enumerate(train_loader):     # the labels are not used
        b_x = x.view(-1, 28 * 28)
        encoded, decoded = autoencoder(b_x)
        loss = loss_func(decoded, b_x)               # compare the output with the input
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if step % 100 == 0:
            print('Epoch:', epoch, '| step:', step, '| train loss: %.4f' % loss.data.numpy())

print('mean loss, first 10 steps %.4f, last 10 steps %.4f'
      % (sum(losses[:10]) / 10, sum(losses[-10:]) / 10))

# usually only the encoder is kept: the code of each image
with torch.no_grad():
    view = train_data.data[:5].view(-1, 28 * 28).float() / 255.
    codes, _ = autoencoder(view)
for label, code in zip(train_data.targets[:5].tolist(), codes.numpy()):
    print('digit', label, 'code', code.round(3))
