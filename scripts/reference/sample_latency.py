"""Per-token latency of batch-1 sampling in PyTorch, for comparison with GenerationBenchmarkTests.

A char-rnn style model (Embedding 64 -> 2-layer LSTM -> Linear, vocabulary 65), run one token at a
time with the state carried, sampling from softmax(logits / 0.8) -- the loop `recurrent sample` runs.

    python scripts/reference/sample_latency.py [--threads N] [--tokens N]
"""
import argparse
import time

import torch
import torch.nn as nn


class CharModel(nn.Module):
    def __init__(self, vocab, emb, hidden, layers):
        super().__init__()
        self.embedding = nn.Embedding(vocab, emb)
        self.lstm = nn.LSTM(emb, hidden, layers, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, x, state=None):
        y, state = self.lstm(self.embedding(x), state)
        return self.head(y), state


def per_token_us(hidden, tokens, temperature=0.8):
    torch.manual_seed(1)
    model = CharModel(65, 64, hidden, 2).eval()
    with torch.no_grad():
        x = torch.zeros(1, 1, dtype=torch.long)
        state = None
        for _ in range(200):  # warm up
            logits, state = model(x, state)
            x = torch.multinomial(torch.softmax(logits[0, -1] / temperature, -1), 1).view(1, 1)
        start = time.perf_counter()
        for _ in range(tokens):
            logits, state = model(x, state)
            x = torch.multinomial(torch.softmax(logits[0, -1] / temperature, -1), 1).view(1, 1)
        return (time.perf_counter() - start) / tokens * 1e6


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--tokens", type=int, default=4000)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    for hidden in (128, 512):
        best = min(per_token_us(hidden, args.tokens) for _ in range(3))
        print(f"PyTorch {torch.__version__} LSTM 2x{hidden}, threads {args.threads}: {best:.1f} us/token")
