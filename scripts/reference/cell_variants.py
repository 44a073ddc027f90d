"""Reference values for Tests/RecurrentAutodiffTests/LayerNormTests.swift and
Tests/RecurrentLayersTests/CellVariantTests.swift.

Run with the project's reference venv:  python scripts/reference/cell_variants.py
Inputs and parameters are filled from the formula `pattern` (the same as in cells.py and in the Swift
tests), rounded to float32, then computed in float64. The layer norm uses torch.nn.functional.layer_norm;
the layer-normalised cells (Ba et al. 2016) and the reset-before GRU (Cho et al. 2014) have no torch
module, so their equations are written out with torch ops.
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
    # Parameter number j of a cell, in state-dict order (as in cells.py).
    return pattern(shape, 13, 7 * j + 1, 17, 0.06)


def show(name, t):
    flat = t.detach().reshape(-1).tolist()
    print(f"{name} = [" + ", ".join(f"{x:.8g}" for x in flat) + "]")


# --- layer norm -------------------------------------------------------------------------------
x = pattern([3, 5], 7, 2, 11, 0.3)
w = pattern([5], 3, 1, 7, 0.25)
b = pattern([5], 5, 2, 9, 0.1)
show("layer_norm_affine", F.layer_norm(x, (5,), w, b, eps=1e-5))
show("layer_norm_plain", F.layer_norm(x, (5,), eps=1e-5))
x3 = (pattern([2, 2, 4], 5, 1, 13, 0.7) + 3.0).float().double()   # rows with a large mean (float32, as in Swift)
show("layer_norm_rank3_eps_0.1", F.layer_norm(x3, (4,), pattern([4], 3, 2, 5, 0.5), None, eps=0.1))

# --- cells --------------------------------------------------------------------------------------
B, I, H = 2, 3, 4
x = pattern([B, I], 5, 3, 9, 0.25)
h0 = pattern([B, H], 3, 1, 7, 0.2)
c0 = pattern([B, H], 11, 2, 13, 0.15)


def params(shapes):
    return [parameter(s, j) for j, s in enumerate(shapes)]


def ln(v, weight, bias):
    return F.layer_norm(v, (v.shape[-1],), weight, bias, eps=1e-5)


# LSTM with layer norm: weight_ih, weight_hh, bias_ih, bias_hh, ln_ih.{weight,bias}, ln_hh.*, ln_c.*
w_ih, w_hh, b_ih, b_hh, g_ih, s_ih, g_hh, s_hh, g_c, s_c = params(
    [[4 * H, I], [4 * H, H], [4 * H], [4 * H], [4 * H], [4 * H], [4 * H], [4 * H], [H], [H]])
gates = ln(x @ w_ih.T, g_ih, s_ih) + b_ih + ln(h0 @ w_hh.T, g_hh, s_hh) + b_hh
i, f, g, o = gates.chunk(4, 1)
c1 = torch.sigmoid(f) * c0 + torch.sigmoid(i) * torch.tanh(g)
h1 = torch.sigmoid(o) * torch.tanh(ln(c1, g_c, s_c))
show("ln_lstm_h", h1)
show("ln_lstm_c", c1)

# GRU with layer norm, both forms: weight_ih, weight_hh, bias_ih, bias_hh, ln_ih.*, ln_hh.*
w_ih, w_hh, b_ih, b_hh, g_ih, s_ih, g_hh, s_hh = params(
    [[3 * H, I], [3 * H, H], [3 * H], [3 * H], [3 * H], [3 * H], [3 * H], [3 * H]])
a_r, a_z, a_n = (ln(x @ w_ih.T, g_ih, s_ih) + b_ih).chunk(3, 1)
u_r, u_z, u_n = (ln(h0 @ w_hh.T, g_hh, s_hh) + b_hh).chunk(3, 1)
r = torch.sigmoid(a_r + u_r)
z = torch.sigmoid(a_z + u_z)
n = torch.tanh(a_n + r * u_n)
show("ln_gru_reset_after_h", (1 - z) * n + z * h0)
# reset-before: the r,z block (2H) and the n block (H) of the recurrent side are normalised separately
u_r, u_z = (ln(h0 @ w_hh[:2 * H].T, g_hh[:2 * H], s_hh[:2 * H]) + b_hh[:2 * H]).chunk(2, 1)
r = torch.sigmoid(a_r + u_r)
z = torch.sigmoid(a_z + u_z)
u_n = ln((r * h0) @ w_hh[2 * H:].T, g_hh[2 * H:], s_hh[2 * H:]) + b_hh[2 * H:]
n = torch.tanh(a_n + u_n)
show("ln_gru_reset_before_h", (1 - z) * n + z * h0)

# Plain reset-before GRU (Cho et al. 2014), same parameters as nn.GRUCell.
w_ih, w_hh, b_ih, b_hh = params([[3 * H, I], [3 * H, H], [3 * H], [3 * H]])
a_r, a_z, a_n = (x @ w_ih.T + b_ih).chunk(3, 1)
W_hr, W_hz, W_hn = w_hh.chunk(3, 0)
b_hr, b_hz, b_hn = b_hh.chunk(3, 0)
r = torch.sigmoid(a_r + h0 @ W_hr.T + b_hr)
z = torch.sigmoid(a_z + h0 @ W_hz.T + b_hz)
n = torch.tanh(a_n + (r * h0) @ W_hn.T + b_hn)
show("gru_reset_before_h", (1 - z) * n + z * h0)

# Elman RNN (tanh) with layer norm: weight_ih, weight_hh, bias_ih, bias_hh, ln_ih.*, ln_hh.*
w_ih, w_hh, b_ih, b_hh, g_ih, s_ih, g_hh, s_hh = params(
    [[H, I], [H, H], [H], [H], [H], [H], [H], [H]])
show("ln_rnn_h", torch.tanh(ln(x @ w_ih.T, g_ih, s_ih) + b_ih + ln(h0 @ w_hh.T, g_hh, s_hh) + b_hh))
