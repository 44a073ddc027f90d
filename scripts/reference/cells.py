"""Reference values for Tests/RecurrentLayersTests/CellTests.swift.

Run with the project's reference venv:  python scripts/reference/cells.py
Every tensor is filled from a formula (see `pattern`), rounded to float32 exactly as the Swift test
does, so the test can rebuild the same weights without a data file. PyTorch computes in float64
from those float32 values; the printed numbers are pasted into the test.
"""
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)


def pattern(shape, a, b, m, scale):
    # element k (row-major) = (((k * a + b) mod m) - m // 2) * scale
    n = 1
    for d in shape:
        n *= d
    values = [float(((k * a + b) % m) - m // 2) * scale for k in range(n)]
    return torch.tensor(values, dtype=torch.float32).double().reshape(shape)


def parameter(shape, j):
    # Parameter number j of a cell, in state-dict order.
    return pattern(shape, 13, 7 * j + 1, 17, 0.06)


def load(module, offset=0):
    with torch.no_grad():
        for j, (name, p) in enumerate(module.named_parameters()):
            p.copy_(parameter(list(p.shape), j + offset))


def show(name, t):
    flat = t.detach().reshape(-1).tolist()
    print(f"{name} = [" + ", ".join(f"{x:.8g}" for x in flat) + "]")


B, I, H = 2, 3, 4
x = pattern([B, I], 5, 3, 9, 0.25)
h0 = pattern([B, H], 3, 1, 7, 0.2)
c0 = pattern([B, H], 11, 2, 13, 0.15)

for nonlinearity in ["tanh", "relu"]:
    cell = torch.nn.RNNCell(I, H, nonlinearity=nonlinearity)
    load(cell)
    show(f"rnn_{nonlinearity}_h", cell(x, h0))

cell = torch.nn.RNNCell(I, H, bias=False)
load(cell)
show("rnn_nobias_zero_state_h", cell(x))

cell = torch.nn.LSTMCell(I, H)
load(cell)
h, c = cell(x, (h0, c0))
show("lstm_h", h)
show("lstm_c", c)
h, c = cell(x)
show("lstm_zero_state_h", h)
show("lstm_zero_state_c", c)

cell = torch.nn.GRUCell(I, H)
load(cell)
show("gru_h", cell(x, h0))
cell = torch.nn.GRUCell(I, H, bias=False)
load(cell)
show("gru_nobias_h", cell(x, h0))

# Peephole LSTM (not in PyTorch): the equations written out with torch ops.
w_ih, w_hh, b_ih, b_hh = (parameter(s, j) for j, s in enumerate([[4 * H, I], [4 * H, H], [4 * H], [4 * H]]))
w_ci, w_cf, w_co = (parameter([H], j) for j in [4, 5, 6])
gates = F.linear(x, w_ih, b_ih) + F.linear(h0, w_hh, b_hh)
gi, gf, gg, go = gates.chunk(4, 1)
i = torch.sigmoid(gi + w_ci * c0)
f = torch.sigmoid(gf + w_cf * c0)
g = torch.tanh(gg)
c = f * c0 + i * g
o = torch.sigmoid(go + w_co * c)
h = o * torch.tanh(c)
show("peephole_h", h)
show("peephole_c", c)

# A bidirectional one-layer GRU over a sequence: forward parameters are numbers 0-3, reverse 4-7
# (state-dict order weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0, then the *_reverse ones).
T, B2, I2, H2 = 3, 2, 3, 2
gru = torch.nn.GRU(I2, H2, bidirectional=True)
load(gru)
xs = pattern([T, B2, I2], 5, 3, 9, 0.25)
out, h_n = gru(xs)
show("bigru_output", out)
show("bigru_h_n", h_n)
