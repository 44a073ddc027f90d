#!/usr/bin/env python3
"""Reference numbers from PyTorch for Recurrent's optimizers, gradient clipping and schedules.

Run with the tools venv (torch, numpy):

    /work/tools/venv/bin/python scripts/reference/optimizers.py

It prints Swift declarations that are pasted into Tests/RecurrentOptimTests/
(OptimizerTests.swift, ClippingTests.swift, ScheduleTests.swift). Python is never a build or
test dependency; this script only documents where the expected numbers come from.

Conventions shared with the Swift tests:
- Three parameters: p0 of shape (2, 3), p1 of shape (3), p2 of shape (2).
- Before every step the gradients are set directly to g_i = SCALE_i * p_i + OFFSET_i (the
  gradient of the quadratic 0.5 * SCALE * p^2 + OFFSET * p), computed in float32 exactly as the
  Swift test does (one multiply, one add). p2 receives a gradient only on steps 2 and 4; on the
  other steps its grad is None, so it is skipped (lazy state, its own step count).
- Every hyper-parameter is first rounded to float32, because the Swift API takes Float: torch
  then works with exactly the same numbers (its scalar arithmetic runs in double, as ours does).
- After each of 5 steps, the values of p0, p1, p2 are printed concatenated (11 numbers).
"""
import math

import numpy as np
import torch


def f32(x):
    """A Python float holding the float32 rounding of x."""
    return float(np.float32(x))


INITIAL = [
    [[0.5, -1.2, 0.3], [2.0, -0.7, 1.1]],
    [0.25, -0.5, 1.5],
    [-0.8, 0.6],
]
SCALE = [
    [[1.0, 0.5, 2.0], [3.0, 0.25, 1.5]],
    [0.75, 2.5, 1.25],
    [2.0, 0.5],
]
OFFSET = [
    [[0.1, -0.2, 0.3], [-0.4, 0.5, -0.6]],
    [0.05, 0.0, -0.3],
    [0.2, -0.1],
]
P2_GRAD_STEPS = {2, 4}
STEPS = 5


def swift_float(x):
    s = "%.9g" % float(x)
    if s in ("inf", "-inf", "nan"):
        return {"inf": "Float.infinity", "-inf": "-Float.infinity", "nan": "Float.nan"}[s]
    return s


def swift_array(values):
    return "[" + ", ".join(swift_float(v) for v in values) + "]"


def swift_matrix(rows, indent="        "):
    return "[\n" + "".join(f"{indent}{swift_array(r)},\n" for r in rows) + indent[:-4] + "]"


def trajectory(make_optimizer):
    params = [torch.tensor(v, dtype=torch.float32, requires_grad=True) for v in INITIAL]
    scales = [torch.tensor(v, dtype=torch.float32) for v in SCALE]
    offsets = [torch.tensor(v, dtype=torch.float32) for v in OFFSET]
    optimizer = make_optimizer(params)
    rows = []
    for step in range(1, STEPS + 1):
        with torch.no_grad():
            for i, p in enumerate(params):
                if i == 2 and step not in P2_GRAD_STEPS:
                    p.grad = None
                else:
                    p.grad = scales[i] * p.detach() + offsets[i]
        optimizer.step()
        rows.append(np.concatenate([p.detach().numpy().ravel() for p in params]))
    return rows


O = torch.optim
CASES = {
    # SGD
    "sgdPlain": lambda ps: O.SGD(ps, lr=f32(0.1), foreach=False),
    "sgdMomentum": lambda ps: O.SGD(ps, lr=f32(0.1), momentum=f32(0.9), foreach=False),
    "sgdDampening": lambda ps: O.SGD(ps, lr=f32(0.1), momentum=f32(0.9), dampening=f32(0.5), foreach=False),
    "sgdNesterov": lambda ps: O.SGD(ps, lr=f32(0.1), momentum=f32(0.9), nesterov=True, foreach=False),
    "sgdWeightDecay": lambda ps: O.SGD(ps, lr=f32(0.1), momentum=f32(0.5), weight_decay=f32(0.1), foreach=False),
    # Adam / AdamW
    "adamDefault": lambda ps: O.Adam(ps, lr=f32(1e-3), betas=(f32(0.9), f32(0.999)), eps=f32(1e-8), foreach=False),
    "adamLarge": lambda ps: O.Adam(ps, lr=f32(0.1), betas=(f32(0.8), f32(0.99)), eps=f32(1e-6), foreach=False),
    "adamWeightDecay": lambda ps: O.Adam(ps, lr=f32(0.1), weight_decay=f32(0.1), foreach=False,
                                         betas=(f32(0.9), f32(0.999)), eps=f32(1e-8)),
    "adamAmsgrad": lambda ps: O.Adam(ps, lr=f32(0.1), amsgrad=True, foreach=False,
                                     betas=(f32(0.9), f32(0.999)), eps=f32(1e-8)),
    "adamLowBeta": lambda ps: O.Adam(ps, lr=f32(0.05), betas=(f32(0.3), f32(0.6)), eps=f32(1e-8), foreach=False),
    "adamWDefault": lambda ps: O.AdamW(ps, lr=f32(1e-3), betas=(f32(0.9), f32(0.999)), eps=f32(1e-8),
                                       weight_decay=f32(1e-2), foreach=False),
    "adamWLarge": lambda ps: O.AdamW(ps, lr=f32(0.1), weight_decay=f32(0.5), amsgrad=True, foreach=False,
                                     betas=(f32(0.9), f32(0.999)), eps=f32(1e-8)),
    # RMSprop
    "rmspropDefault": lambda ps: O.RMSprop(ps, lr=f32(1e-2), alpha=f32(0.99), eps=f32(1e-8), foreach=False),
    "rmspropMomentum": lambda ps: O.RMSprop(ps, lr=f32(1e-2), alpha=f32(0.9), eps=f32(1e-8), momentum=f32(0.8),
                                            foreach=False),
    "rmspropCentered": lambda ps: O.RMSprop(ps, lr=f32(1e-2), alpha=f32(0.9), eps=f32(1e-8), centered=True,
                                            foreach=False),
    "rmspropAll": lambda ps: O.RMSprop(ps, lr=f32(0.05), alpha=f32(0.7), eps=f32(1e-6), weight_decay=f32(0.2),
                                       momentum=f32(0.5), centered=True, foreach=False),
    # Adagrad
    "adagradDefault": lambda ps: O.Adagrad(ps, lr=f32(1e-2), eps=f32(1e-10), foreach=False),
    "adagradDecay": lambda ps: O.Adagrad(ps, lr=f32(0.1), lr_decay=f32(0.25), eps=f32(1e-10), foreach=False),
    "adagradAll": lambda ps: O.Adagrad(ps, lr=f32(0.1), lr_decay=f32(0.1), weight_decay=f32(0.3),
                                       initial_accumulator_value=f32(0.5), eps=f32(1e-6), foreach=False),
}


def print_optimizers():
    print("// MARK: optimizer trajectories (scripts/reference/optimizers.py, torch %s)" % torch.__version__)
    print("enum TorchTrajectories {")
    for name, make in CASES.items():
        rows = trajectory(make)
        print(f"    static let {name}: [[Float]] = {swift_matrix(rows)}")
    print("}")


# Gradients for the clipping tests: three tensors, one of them holding an exact zero.
CLIP_GRADS = [
    [[0.5, -1.5, 2.0], [-0.25, 3.0, -1.0]],
    [0.75, -2.5, 0.0],
    [4.0, -0.5],
]
CLIP_CASES = [
    # (name, max_norm, norm_type)
    ("l2Clipped", 1.0, 2.0),
    ("l2Unclipped", 100.0, 2.0),
    ("infClipped", 2.0, math.inf),
    ("l1Clipped", 3.0, 1.0),
    ("l3Clipped", 1.5, 3.0),
]


def print_clipping():
    print("// MARK: clipping (scripts/reference/optimizers.py, torch %s)" % torch.__version__)
    print("enum TorchClipping {")
    for name, max_norm, norm_type in CLIP_CASES:
        params = [torch.zeros(np.array(g).shape, dtype=torch.float32, requires_grad=True) for g in CLIP_GRADS]
        for p, g in zip(params, CLIP_GRADS):
            p.grad = torch.tensor(g, dtype=torch.float32)
        total = torch.nn.utils.clip_grad_norm_(params, f32(max_norm), norm_type=norm_type, foreach=False)
        grads = np.concatenate([p.grad.numpy().ravel() for p in params])
        print(f"    static let {name}Norm: Float = {swift_float(total.item())}")
        print(f"    static let {name}Grads: [Float] = {swift_array(grads)}")
    params = [torch.zeros(np.array(g).shape, dtype=torch.float32, requires_grad=True) for g in CLIP_GRADS]
    for p, g in zip(params, CLIP_GRADS):
        p.grad = torch.tensor(g, dtype=torch.float32)
    torch.nn.utils.clip_grad_value_(params, f32(1.25), foreach=False)
    grads = np.concatenate([p.grad.numpy().ravel() for p in params])
    print(f"    static let valueClippedGrads: [Float] = {swift_array(grads)}")
    print("}")


SCHEDULE_EPOCHS = 12
SCHEDULE_CASES = {
    "stepLR": (f32(0.1), lambda opt: O.lr_scheduler.StepLR(opt, step_size=3, gamma=f32(0.5))),
    "stepLRDefaultGamma": (f32(1.0), lambda opt: O.lr_scheduler.StepLR(opt, step_size=4)),
    "exponentialLR": (f32(0.1), lambda opt: O.lr_scheduler.ExponentialLR(opt, gamma=f32(0.9))),
    "cosineLR": (f32(0.1), lambda opt: O.lr_scheduler.CosineAnnealingLR(opt, T_max=5, eta_min=f32(0.001))),
    "cosineLRLong": (f32(0.05), lambda opt: O.lr_scheduler.CosineAnnealingLR(opt, T_max=10)),
}


def print_schedules():
    print("// MARK: schedules, learning rate at epochs 0..<%d via torch's chainable step()" % SCHEDULE_EPOCHS)
    print("enum TorchSchedules {")
    for name, (base, make) in SCHEDULE_CASES.items():
        p = torch.zeros(1, requires_grad=True)
        opt = O.SGD([p], lr=base)
        scheduler = make(opt)
        lrs = [scheduler.get_last_lr()[0]]
        for _ in range(SCHEDULE_EPOCHS - 1):
            opt.step()  # no gradient: a no-op that keeps torch's call-order check quiet
            scheduler.step()
            lrs.append(scheduler.get_last_lr()[0])
        print(f"    static let {name}: [Double] = [{', '.join('%.17g' % v for v in lrs)}]")
    print("}")


if __name__ == "__main__":
    torch.set_num_threads(1)
    print_optimizers()
    print()
    print_clipping()
    print()
    print_schedules()
