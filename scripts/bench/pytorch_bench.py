#!/usr/bin/env python3
"""PyTorch side of `recurrent bench`: the same workloads, sizes and output fields.

Usage: python scripts/bench/pytorch_bench.py [--workloads w1,w7a|all] [--seconds 5] [--threads 2] [--json]
       python scripts/bench/pytorch_bench.py --custom kind=train,cell=lstm,hidden=512,batch=32,sequence=64 [...]

A benchmark script only (never a build or test dependency). Tokens are uniformly random over a
65-symbol vocabulary; training uses Adam(lr=0.002) and clip_grad_norm_(5) with the state carried
(detached) from one batch to the next, exactly like the Swift side.
"""
import argparse, json, resource, sys, time

import torch
import torch.nn as nn

VOCAB = 65
# name: (kind, cell, hidden, embedding, layers, batch, sequence)
WORKLOADS = {
    "w1": ("train", "lstm", 256, 256, 2, 32, 64),
    "w2": ("train", "lstm", 512, 512, 2, 64, 100),
    "w3": ("train", "gru", 256, 256, 2, 32, 64),
    "w4": ("train", "rnn", 256, 256, 2, 32, 64),
    "w5": ("train", "lstm", 128, 128, 2, 50, 50),
    "w6a": ("infer", "lstm", 256, 256, 2, 32, 64),
    "w6b": ("infer", "lstm", 512, 512, 2, 32, 64),
    "w7a": ("sample", "lstm", 128, 128, 2, 1, 1),
    "w7b": ("sample", "lstm", 512, 512, 2, 1, 1),
    "w7c": ("sample", "gru", 512, 512, 2, 1, 1),
}


class CharModel(nn.Module):
    def __init__(self, cell, emb, hidden, layers):
        super().__init__()
        self.embedding = nn.Embedding(VOCAB, emb)
        rnn = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[cell]
        self.rnn = rnn(emb, hidden, layers, batch_first=True)
        self.head = nn.Linear(hidden, VOCAB)

    def forward(self, x, state=None):
        y, state = self.rnn(self.embedding(x), state)
        return self.head(y), state


def flops_per_token(cell, hidden, emb, layers):
    gates = {"lstm": 4, "gru": 3, "rnn": 1}[cell]
    f = 0.0
    for k in range(layers):
        f += 2 * gates * hidden * ((emb if k == 0 else hidden) + hidden)
    return f + 2 * hidden * VOCAB


def detach(state):
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)
    return state.detach()


def parse_custom(spec):
    """The workload of a `key=value,...` specification, as `recurrent bench --custom` reads it."""
    values = {}
    for pair in spec.split(","):
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            sys.exit(f"--custom: expected key=value pairs separated by commas, got '{pair}'")
        values[key.strip().lower()] = value.strip()
    known = {"kind", "cell", "hidden", "embedding", "layers", "batch", "sequence"}
    unknown = sorted(set(values) - known)
    if unknown:
        sys.exit(f"--custom: unknown key '{unknown[0]}'; use {', '.join(sorted(known))}")
    kind = values.get("kind", "train")
    cell = values.get("cell", "lstm")
    if kind not in ("train", "infer", "sample") or cell not in ("rnn", "lstm", "gru"):
        sys.exit(f"--custom: unsupported kind '{kind}' or cell '{cell}'")
    hidden = int(values.get("hidden", 256))
    sizes = [hidden, int(values.get("embedding", hidden)), int(values.get("layers", 2)),
             1 if kind == "sample" else int(values.get("batch", 32)),
             1 if kind == "sample" else int(values.get("sequence", 64))]
    return (kind, cell, *sizes)


def run(name, seconds):
    kind, cell, hidden, emb, layers, batch, seq = WORKLOADS[name]
    torch.manual_seed(1)
    model = CharModel(cell, emb, hidden, layers)
    batches = [(torch.randint(0, VOCAB, (batch, seq)), torch.randint(0, VOCAB, (batch, seq))) for _ in range(4)]
    state = None
    if kind == "train":
        opt = torch.optim.Adam(model.parameters(), lr=0.002)

        def iteration(i):
            nonlocal state
            x, y = batches[i % 4]
            opt.zero_grad()
            logits, new_state = model(x, state)
            loss = nn.functional.cross_entropy(logits.reshape(-1, VOCAB), y.reshape(-1))
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 5)
            opt.step()
            state = detach(new_state)
    elif kind == "infer":
        model.eval()

        def iteration(i):
            nonlocal state
            with torch.no_grad():
                _, state = model(batches[i % 4][0], state)
    else:
        model.eval()
        token = torch.zeros(1, 1, dtype=torch.long)

        def iteration(i):
            nonlocal state, token
            with torch.no_grad():
                logits, state = model(token, state)
                probs = torch.softmax(logits[0, -1], dim=-1)
                token = torch.multinomial(probs, 1).view(1, 1)

    deadline = time.perf_counter() + min(1.0, seconds / 4)
    i = 0
    while True:
        iteration(i); i += 1
        if time.perf_counter() >= deadline or i >= 10000:
            break
    durations = []
    cpu0 = time.process_time()
    start = time.perf_counter()
    now = start
    while now < start + seconds:
        t0 = now
        iteration(i); i += 1
        now = time.perf_counter()
        durations.append(now - t0)
    cpu = (time.process_time() - cpu0) / len(durations)
    durations.sort()
    median = durations[len(durations) // 2]
    tps = batch * seq / median
    flops = flops_per_token(cell, hidden, emb, layers) * (3 if kind == "train" else 1)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return dict(workload=name, tokens_per_s=tps, us_per_token=1e6 / tps, gflops=tps * flops / 1e9,
                peak_rss_mib=rss, iterations=len(durations), median_iteration_ms=median * 1e3,
                cpu_ms_per_iteration=cpu * 1e3,
                per_token=kind == "sample")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--workloads", default="w1")
    p.add_argument("--seconds", type=float, default=5)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--json", action="store_true")
    p.add_argument("--custom", help="one workload of any shape: kind=,cell=,hidden=,embedding=,layers=,batch=,sequence=")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    if a.custom:
        WORKLOADS["custom"] = parse_custom(a.custom)
        names = ["custom"]
    else:
        names = list(WORKLOADS) if a.workloads == "all" else [n.strip().lower() for n in a.workloads.split(",")]
    if not a.json:
        print(f"pytorch bench — torch {torch.__version__}, {a.threads} thread(s)")
    for n in names:
        if n not in WORKLOADS:
            sys.exit(f"unknown workload '{n}'; choose from {', '.join(WORKLOADS)} or all")
        r = run(n, a.seconds)
        if a.json:
            print(json.dumps(r))
        else:
            rate = f"{r['us_per_token']:9.2f} µs/token" if r["per_token"] else f"{r['tokens_per_s']:9.0f} tokens/s"
            print(f"{n:<4} {rate}  {r['gflops']:7.1f} GFLOP/s  peak RSS {r['peak_rss_mib']:7.1f} MiB  "
                  f"({r['iterations']} iterations, median {r['median_iteration_ms']:.3f} ms, CPU {r['cpu_ms_per_iteration']:.3f} ms)")


if __name__ == "__main__":
    main()
