"""Reference values for Tests/RecurrentLayersTests/FusedLayerOptionTests.swift
(testPaddedBatchMatchesPyTorchPackedSequences).

Run with the project's reference venv:  python scripts/reference/packed_sequences.py
Bidirectional two-layer torch.nn.GRU and torch.nn.LSTM over a padded batch packed with
torch.nn.utils.rnn.pack_padded_sequence(enforce_sorted=False), from a given initial state; the output
is unpacked with pad_packed_sequence (zeros past each length). Inputs, states and parameters come from
the formula `pattern` (as in cells.py and the Swift tests), rounded to float32, computed in float64.
"""
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

torch.set_default_dtype(torch.float64)


def pattern(shape, a, b, m, scale):
    # element k (row-major) = (((k * a + b) mod m) - m // 2) * scale
    n = 1
    for d in shape:
        n *= d
    values = [float(((k * a + b) % m) - m // 2) * scale for k in range(n)]
    return torch.tensor(values, dtype=torch.float32).double().reshape(shape)


def parameter(shape, j):
    # Parameter number j in state-dict order (as in cells.py and CellTestSupport.parameter).
    return pattern(shape, 13, 7 * j + 1, 17, 0.06)


def show(name, t):
    flat = t.detach().reshape(-1).tolist()
    print(f"{name} = [" + ", ".join(f"{x:.8g}" for x in flat) + "]")


T, B, I, H, L = 4, 3, 2, 3, 2
lengths = [4, 1, 3]
x = pattern([T, B, I], 5, 3, 9, 0.25)
h0 = pattern([2 * L, B, H], 3, 1, 7, 0.2)
c0 = pattern([2 * L, B, H], 11, 2, 13, 0.15)

for name, module in [("gru", torch.nn.GRU(I, H, num_layers=L, bidirectional=True)),
                     ("lstm", torch.nn.LSTM(I, H, num_layers=L, bidirectional=True))]:
    with torch.no_grad():
        for j, (_, p) in enumerate(module.named_parameters()):
            p.copy_(parameter(list(p.shape), j))
    packed = pack_padded_sequence(x, torch.tensor(lengths), enforce_sorted=False)
    out, state = module(packed, h0 if name == "gru" else (h0, c0))
    out, _ = pad_packed_sequence(out, total_length=T)
    show(f"{name}_output", out)
    if name == "gru":
        show(f"{name}_h", state)
    else:
        show(f"{name}_h", state[0])
        show(f"{name}_c", state[1])
