"""Reference values for Tests/RecurrentOptimTests/LossTests.swift.

Run with the project's reference venv:  python scripts/reference/losses.py
Inputs come from simple formulas (evaluated in float64 and rounded to float32, exactly as the
Swift test does) so that no data file is needed. Losses and gradients are computed in float64 by
PyTorch from those float32 values and printed to paste into the test.
"""
import torch
import torch.nn.functional as F


def grid(rows, cols, scale, offset=0):
    # value[r][c] = (((r * 7 + c * 3 + offset) % 11) - 5) * scale
    v = [[float(((r * 7 + c * 3 + offset) % 11) - 5) * scale for c in range(cols)] for r in range(rows)]
    return torch.tensor(v, dtype=torch.float32).double()


def show(name, t):
    flat = t.detach().reshape(-1).tolist()
    print(f"{name} = [" + ", ".join(f"{x:.8g}" for x in flat) + "]")


# Cross-entropy, logits (4, 5), value[r][c] = (((7r + 3c) % 11) − 5) · 0.37
logits = grid(4, 5, 0.37).requires_grad_()
targets = torch.tensor([3, 1, 0, 4])
for reduction in ["mean", "sum", "none"]:
    loss = F.cross_entropy(logits, targets, reduction=reduction)
    show(f"ce_{reduction}", loss)
loss = F.cross_entropy(logits, targets)
loss.backward()
show("ce_mean_grad", logits.grad)

# Ignored positions: target 1 is ignored (ignore_index=1).
logits.grad = None
loss = F.cross_entropy(logits, targets, ignore_index=1)
loss.backward()
show("ce_ignore_mean", loss)
show("ce_ignore_mean_grad", logits.grad)
show("ce_ignore_none", F.cross_entropy(logits, targets, ignore_index=1, reduction="none"))

# Leading shape (2, 3) with 4 classes, value = grid(6, 4, 0.5, offset 2) reshaped, classes last.
logits3 = grid(6, 4, 0.5, 2).reshape(2, 3, 4).requires_grad_()
targets3 = torch.tensor([0, 3, 2, 1, 1, 0])
loss = F.cross_entropy(logits3.reshape(-1, 4), targets3, reduction="sum")
loss.backward()
show("ce3_sum", loss)
show("ce3_sum_grad", logits3.grad)

# MSE, prediction grid(3, 4, 0.25), target grid(3, 4, 0.2, offset 5).
pred = grid(3, 4, 0.25).requires_grad_()
target = grid(3, 4, 0.2, 5).requires_grad_()
for reduction in ["mean", "sum", "none"]:
    show(f"mse_{reduction}", F.mse_loss(pred, target, reduction=reduction))
loss = F.mse_loss(pred, target)
loss.backward()
show("mse_mean_grad_pred", pred.grad)
show("mse_mean_grad_target", target.grad)

# Binary cross-entropy with logits, including large magnitudes.
x = torch.tensor([-100.0, -30.0, -2.5, -0.5, 0.0, 0.75, 3.0, 30.0, 100.0], dtype=torch.float32).double().requires_grad_()
y = torch.tensor([0.0, 1.0, 0.3, 1.0, 0.5, 0.0, 1.0, 0.0, 1.0], dtype=torch.float32).double()
for reduction in ["mean", "sum", "none"]:
    show(f"bce_{reduction}", F.binary_cross_entropy_with_logits(x, y, reduction=reduction))
loss = F.binary_cross_entropy_with_logits(x, y)
loss.backward()
show("bce_mean_grad", x.grad)
