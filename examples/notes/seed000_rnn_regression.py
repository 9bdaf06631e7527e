"""Seed 000, "基于RNN的回归预测": an RNN learns cos(t) from sin(t), its hidden state
carried from one window of the curve to the next.

The class `RNN` is the notes' code as written; the rest is ours, with the imports
the only thing changed from PyTorch. Each step shows the network the next window of
TIME_STEP points; `h_state = h_state.data` keeps the state's values but cuts its
history, so backpropagation through time stops at the window's start.

    python examples/notes/seed000_rnn_regression.py
"""
import glassnet as torch
from glassnet import nn
import numpy as np

torch.manual_seed(1)
TIME_STEP = 10
INPUT_SIZE = 1
LR = 0.02
STEPS = 100

class RNN(nn.Module):

    def __init__(self):
        super(RNN, self).__init__()
        self.rnn = nn.RNN(  # 没用LSTM是因为这个回归比较基础，RNN就足够了
            input_size=INPUT_SIZE,
            hidden_size=32,
            num_layers=1,
            batch_first=True)
        self.out = nn.Linear(32, 1)

    def forward(self, x, h_state):
        # h_state 是上一步的状态值
        r_out, h_state = self.rnn(x, h_state)
        outs = []
        for step in range(r_out.size(1)):
            outs.append(self.out(r_out[:, step, :]))
        return torch.stack(outs, dim=1), h_state  # 返回值包含当前状态值，传给下一步进行分析使用


rnn = RNN()
print(rnn)
optimizer = torch.optim.Adam(rnn.parameters(), lr=LR)
loss_func = nn.MSELoss()

h_state = None      # the first window starts from zeros
losses = []
for step in range(STEPS):
    start, end = step * np.pi, (step + 1) * np.pi         # the next half period
    t = np.linspace(start, end, TIME_STEP, dtype=np.float32, endpoint=False)
    x = torch.from_numpy(np.sin(t)[np.newaxis, :, np.newaxis])   # (batch 1, time, input 1)
    y = torch.from_numpy(np.cos(t)[np.newaxis, :, np.newaxis])

    prediction, h_state = rnn(x, h_state)
    h_state = h_state.data          # carry the values, not the graph
    loss = loss_func(prediction, y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
    if step % 20 == 0:
        print('step %3d  loss %.4f' % (step, loss.item()))

print('mean loss, first 10 steps %.4f, last 10 steps %.4f'
      % (np.mean(losses[:10]), np.mean(losses[-10:])))
