"""The PyTorch side of the language-model comparison (docs/language-models.md).

Trains exactly what `recurrent train` trains, with the same rules, so the two final validation losses
can be compared:
- vocabulary: the sorted distinct characters (Unicode scalars) of the whole file;
- split: the last floor(n * val_fraction) characters are the validation part;
- batches: the training part cut into `batch` contiguous rows of W * seq characters
  (W = (n_train - 1) // (batch * seq)), read window by window; the hidden state is carried from
  window to window (detached) and reset to zero at the start of every epoch;
- model: Embedding(V, embedding) -> LSTM(embedding, hidden, layers, batch_first, dropout) -> Linear(hidden, V),
  PyTorch's default initialisation; mean cross-entropy; clip_grad_norm_(clip); Adam(lr) with the
  learning rate multiplied by lr_decay at every epoch (ExponentialLR);
- defaults as `recurrent train`: embedding 64, dropout 0.25 between layers, lr decay 0.97 per epoch;
- time budget: only the time inside training steps counts (batch, forward, backward, clipping,
  optimizer step); evaluations run every `eval_every` steps and at the end, outside the budget;
- validation loss: every validation position once, the stream cut into `batch` contiguous rows
  (the last one shorter), state carried across windows, summed loss / (n_val - 1).

Usage (a Python venv with torch, `python3 -m venv .venv && .venv/bin/pip install torch`; never a build
or test dependency; tinyshakespeare.txt from Andrej Karpathy's char-rnn repository:
`curl -o tinyshakespeare.txt https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt`):
    python scripts/bench/pytorch_charlm.py --text tinyshakespeare.txt \
        --hidden 256 --layers 2 --batch 32 --seq 64 --lr 0.002 --clip 5 --time-budget 300 --threads 2
"""
import argparse
import json
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class CharModel(nn.Module):
    def __init__(self, vocab, embedding, hidden, layers, dropout):
        super().__init__()
        self.embedding = nn.Embedding(vocab, embedding)
        self.lstm = nn.LSTM(embedding, hidden, layers, batch_first=True, dropout=dropout)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, x, state=None):
        out, state = self.lstm(self.embedding(x), state)
        return self.head(out), state


def evaluate(model, tokens, batch, seq):
    """Mean loss over every prediction of `tokens` (nats per character)."""
    predictions = len(tokens) - 1
    row = (predictions + batch - 1) // batch
    windows = (row + seq - 1) // seq
    inputs = torch.zeros(batch, windows * seq, dtype=torch.long)
    targets = torch.full((batch, windows * seq), -100, dtype=torch.long)
    data = torch.tensor(tokens, dtype=torch.long)
    for b in range(batch):
        start, end = b * row, min((b + 1) * row, predictions)
        if end > start:
            inputs[b, : end - start] = data[start:end]
            targets[b, : end - start] = data[start + 1 : end + 1]
    model.eval()
    total = 0.0
    state = None
    with torch.no_grad():
        for w in range(windows):
            x = inputs[:, w * seq : (w + 1) * seq]
            y = targets[:, w * seq : (w + 1) * seq]
            logits, state = model(x, state)
            total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1),
                                     ignore_index=-100, reduction="sum").item()
    model.train()
    return total / predictions


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--text", required=True)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--embedding", type=int, default=64)
    p.add_argument("--dropout", type=float, default=0.25)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--seq", type=int, default=64)
    p.add_argument("--lr", type=float, default=0.002)
    p.add_argument("--lr-decay", type=float, default=0.97)
    p.add_argument("--clip", type=float, default=5.0)
    p.add_argument("--time-budget", type=float, default=300.0)
    p.add_argument("--val-fraction", type=float, default=0.1)
    p.add_argument("--eval-every", type=int, default=200)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()

    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    text = open(a.text, encoding="utf-8").read()
    chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}
    ids = [index[c] for c in text]
    n_val = int(math.floor(len(ids) * a.val_fraction))
    train, val = ids[: len(ids) - n_val], ids[len(ids) - n_val :]
    W = (len(train) - 1) // (a.batch * a.seq)
    L = W * a.seq
    data = torch.tensor(train, dtype=torch.long)
    rows_x = torch.stack([data[b * L : (b + 1) * L] for b in range(a.batch)])
    rows_y = torch.stack([data[b * L + 1 : (b + 1) * L + 1] for b in range(a.batch)])

    model = CharModel(len(chars), a.embedding, a.hidden, a.layers, a.dropout)
    optimizer = torch.optim.Adam(model.parameters(), lr=a.lr)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=a.lr_decay)
    trained, step, state, last_val = 0.0, 0, None, None
    while trained < a.time_budget:
        start = time.perf_counter()
        window = step % W
        if window == 0:
            state = None
            if step > 0:
                scheduler.step()   # lr = lr0 * decay^epoch
        x = rows_x[:, window * a.seq : (window + 1) * a.seq]
        y = rows_y[:, window * a.seq : (window + 1) * a.seq]
        logits, state = model(x, state)
        state = tuple(s.detach() for s in state)
        loss = F.cross_entropy(logits.reshape(-1, len(chars)), y.reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if a.clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), a.clip)
        optimizer.step()
        step += 1
        trained += time.perf_counter() - start
        if step % a.eval_every == 0 or trained >= a.time_budget:
            last_val = evaluate(model, val, a.batch, a.seq) if val else None
            print(json.dumps({"event": "evaluation", "step": step, "seconds": round(trained, 2),
                              "train_loss": round(loss.item(), 4), "val_loss": last_val,
                              "tokens_per_s": round(step * a.batch * a.seq / trained, 1)}), flush=True)
    print(json.dumps({"event": "summary", "val_loss": last_val, "val_bpc": last_val / math.log(2) if last_val else None,
                      "steps": step, "seconds": round(trained, 2), "tokens_per_s": round(step * a.batch * a.seq / trained, 1),
                      "torch": torch.__version__, "threads": torch.get_num_threads()}), flush=True)


if __name__ == "__main__":
    main()
