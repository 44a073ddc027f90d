"""PyTorch parity fixtures for Tests/RecurrentLayersTests/PyTorchFixtureTests.swift and
Tests/RecurrentFormatsTests/PyTorchFixtureTests.swift (format: Tests/Fixtures/pytorch/README.md).

A venv with PyTorch, once, from the repository root (Python is never needed to build or test):

    python3 -m venv .venv && .venv/bin/pip install torch

Regenerate the committed fixtures:

    .venv/bin/python scripts/reference/pytorch_fixtures.py Tests/Fixtures/pytorch

Each case is one `.safetensors` file: a torch.nn.RNN / LSTM / GRU (or the Embedding -> LSTM -> Linear
character model) with random float32 parameters, inputs and states; the reference outputs, final
states, loss and gradients are computed in float64 from exactly those float32 values and stored as
float32. The random draws come from a generator seeded with the case's name, so a case does not change
when another is added. The files are written with this script's own safetensors writer (header keys
sorted, tensors in header order), so a rerun with the same torch gives the same bytes.
"""
import argparse
import json
import os
import struct
import sys
import zlib

import torch
import torch.nn as nn

LAYER_LOSS = "sum(output*probe) + sum(h_n*probe_h)"
CHAR_MODEL_LOSS = "cross_entropy(logits, target), mean over B*T"


# MARK: cases

def layer_case(name, module, kwargs, seq_len, batch, state=False):
    """A recurrent layer case: `module` is "RNN", "LSTM" or "GRU"; `kwargs` the constructor arguments."""
    return {"name": name, "module": module, "kwargs": kwargs, "seq_len": seq_len, "batch": batch, "state": state}


def char_model_case(name, vocab, hidden, num_layers, seq_len, batch):
    return {"name": name, "module": "CharModel", "vocab": vocab, "hidden": hidden, "num_layers": num_layers,
            "seq_len": seq_len, "batch": batch}


CASES = [
    layer_case("rnn_tanh_1layer", "RNN", {"input_size": 3, "hidden_size": 5}, seq_len=4, batch=2),
    layer_case("rnn_relu_2layer_state", "RNN",
               {"input_size": 4, "hidden_size": 6, "num_layers": 2, "nonlinearity": "relu"},
               seq_len=5, batch=3, state=True),
    layer_case("rnn_tanh_bidirectional_batchfirst_state", "RNN",
               {"input_size": 3, "hidden_size": 4, "num_layers": 2, "bidirectional": True, "batch_first": True},
               seq_len=5, batch=2, state=True),
    layer_case("lstm_1layer", "LSTM", {"input_size": 3, "hidden_size": 4}, seq_len=6, batch=2),
    layer_case("lstm_2layer_state", "LSTM", {"input_size": 5, "hidden_size": 7, "num_layers": 2},
               seq_len=5, batch=3, state=True),
    layer_case("lstm_nobias", "LSTM", {"input_size": 3, "hidden_size": 4, "bias": False}, seq_len=4, batch=2),
    layer_case("lstm_proj", "LSTM", {"input_size": 4, "hidden_size": 6, "proj_size": 3},
               seq_len=5, batch=2, state=True),
    layer_case("lstm_proj_2layer_bidirectional_state", "LSTM",
               {"input_size": 3, "hidden_size": 5, "num_layers": 2, "bidirectional": True, "proj_size": 2},
               seq_len=4, batch=2, state=True),
    layer_case("lstm_bidirectional_batchfirst", "LSTM",
               {"input_size": 4, "hidden_size": 5, "num_layers": 2, "bidirectional": True, "batch_first": True},
               seq_len=6, batch=2),
    # hidden 17: a full 16-lane (and two 8-lane) vectors plus a one-element tail in every gate block.
    layer_case("lstm_hidden17_state", "LSTM", {"input_size": 4, "hidden_size": 17},
               seq_len=3, batch=2, state=True),
    layer_case("gru_1layer", "GRU", {"input_size": 3, "hidden_size": 4}, seq_len=6, batch=2),
    layer_case("gru_2layer_bidirectional_state", "GRU",
               {"input_size": 4, "hidden_size": 5, "num_layers": 2, "bidirectional": True},
               seq_len=5, batch=3, state=True),
    layer_case("gru_nobias_batchfirst", "GRU", {"input_size": 3, "hidden_size": 5, "bias": False, "batch_first": True},
               seq_len=4, batch=3),
    char_model_case("char_lstm_model", vocab=11, hidden=8, num_layers=2, seq_len=7, batch=3),
]


# MARK: random float32 values

def generator_for(name):
    """A generator seeded from the case's name (CRC-32), independent of the other cases."""
    return torch.Generator().manual_seed(zlib.crc32(name.encode()))


def uniform(shape, bound, generator):
    return (torch.rand(shape, generator=generator, dtype=torch.float32) * 2 - 1) * bound


def normal(shape, generator, scale=1.0):
    return torch.randn(shape, generator=generator, dtype=torch.float32) * scale


def load_float32(module, draw):
    """Fills every parameter of the float64 `module` with float32 values from `draw(name, shape)`
    and returns those float32 values by state-dict name."""
    values = {}
    with torch.no_grad():
        for name, parameter in module.named_parameters():
            value = draw(name, tuple(parameter.shape)).to(torch.float32)
            parameter.copy_(value.double())
            values[name] = value
    return values


def gradients(module, prefix):
    return {f"grad.{prefix}{name}": p.grad for name, p in module.named_parameters()}


# MARK: the computations

def layer_fixture(case):
    g = generator_for(case["name"])
    kwargs = case["kwargs"]
    layer = getattr(nn, case["module"])(**kwargs, dtype=torch.float64)
    hidden = kwargs["hidden_size"]
    bound = hidden ** -0.5  # PyTorch's default initialisation range
    parameters = load_float32(layer, lambda _name, shape: uniform(shape, bound, g))

    directions = 2 if kwargs.get("bidirectional", False) else 1
    layers = kwargs.get("num_layers", 1)
    output_size = kwargs.get("proj_size", 0) or hidden
    seq_len, batch = case["seq_len"], case["batch"]
    input_shape = (batch, seq_len, kwargs["input_size"]) if kwargs.get("batch_first", False) \
        else (seq_len, batch, kwargs["input_size"])
    tensors = {"input": normal(input_shape, g)}
    if case["state"]:
        tensors["h0"] = normal((layers * directions, batch, output_size), g, 0.5)
        if case["module"] == "LSTM":
            tensors["c0"] = normal((layers * directions, batch, hidden), g, 0.5)

    inputs = {key: value.double().requires_grad_() for key, value in tensors.items()}
    state = None
    if case["state"]:
        state = (inputs["h0"], inputs["c0"]) if case["module"] == "LSTM" else inputs["h0"]
    output, final = layer(inputs["input"], state)
    h_n, c_n = final if case["module"] == "LSTM" else (final, None)

    tensors["probe"] = normal(tuple(output.shape), g)
    tensors["probe_h"] = normal(tuple(h_n.shape), g)
    loss = (output * tensors["probe"].double()).sum() + (h_n * tensors["probe_h"].double()).sum()
    loss.backward()

    tensors.update({f"model.{name}": value for name, value in parameters.items()})
    tensors.update({"output": output, "h_n": h_n, "loss": loss.reshape(1)})
    if c_n is not None:
        tensors["c_n"] = c_n
    tensors.update({f"grad.{key}": value.grad for key, value in inputs.items()})
    tensors.update(gradients(layer, "model."))
    config = {"module": case["module"], "kwargs": kwargs, "seq_len": seq_len, "batch": batch,
              "loss": LAYER_LOSS, "reference_precision": "float64"}
    return config, tensors


class CharModel(nn.Module):
    """Embedding(vocab, H) -> LSTM(H, H, L, batch_first) -> Linear(H, vocab), as the library's LanguageModel."""

    def __init__(self, vocab, hidden, num_layers):
        super().__init__()
        self.embedding = nn.Embedding(vocab, hidden, dtype=torch.float64)
        self.lstm = nn.LSTM(hidden, hidden, num_layers, batch_first=True, dtype=torch.float64)
        self.head = nn.Linear(hidden, vocab, dtype=torch.float64)

    def forward(self, tokens):
        output, _ = self.lstm(self.embedding(tokens))
        return self.head(output)


def char_model_fixture(case):
    g = generator_for(case["name"])
    vocab, hidden, num_layers = case["vocab"], case["hidden"], case["num_layers"]
    model = CharModel(vocab, hidden, num_layers)
    bound = hidden ** -0.5

    def draw(name, shape):
        # PyTorch's defaults: N(0, 1) embedding rows, U(-1/sqrt(H), 1/sqrt(H)) elsewhere.
        return normal(shape, g) if name == "embedding.weight" else uniform(shape, bound, g)

    parameters = load_float32(model, draw)
    shape = (case["batch"], case["seq_len"])
    tokens = torch.randint(0, vocab, shape, generator=g, dtype=torch.int64)
    target = torch.randint(0, vocab, shape, generator=g, dtype=torch.int64)
    logits = model(tokens)
    loss = nn.functional.cross_entropy(logits.reshape(-1, vocab), target.reshape(-1))
    loss.backward()

    tensors = {"input": tokens, "target": target, "logits": logits, "loss": loss.reshape(1)}
    tensors.update({f"model.{name}": value for name, value in parameters.items()})
    tensors.update(gradients(model, "model."))
    config = {"module": "CharModel",
              "layers": ["Embedding(vocab,H)", "LSTM(H,H,L,batch_first=True)", "Linear(H,vocab)"],
              "vocab": vocab, "hidden": hidden, "num_layers": num_layers, "seq_len": case["seq_len"],
              "batch": case["batch"], "loss": CHAR_MODEL_LOSS, "reference_precision": "float64"}
    return config, tensors


# MARK: safetensors

def safetensors_bytes(tensors, metadata):
    """A safetensors file: an 8-byte little-endian header length, the JSON header (padded with spaces
    to a multiple of 8 bytes), then the tensors' little-endian bytes in the header's order. Integer
    tensors are stored as I64, everything else as F32."""
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name in sorted(tensors):
        value = tensors[name].detach()
        if value.dtype == torch.int64:
            dtype, blob = "I64", value.contiguous().numpy().astype("<i8").tobytes()
        else:
            dtype, blob = "F32", value.to(torch.float32).contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": dtype, "shape": list(value.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("directory", help="where to write the .safetensors files (created if missing)")
    args = parser.parse_args()
    torch.use_deterministic_algorithms(True)
    os.makedirs(args.directory, exist_ok=True)
    for case in CASES:
        config, tensors = (char_model_fixture if case["module"] == "CharModel" else layer_fixture)(case)
        metadata = {"config": json.dumps(config), "generator": "scripts/reference/pytorch_fixtures.py",
                    "torch": torch.__version__}
        data = safetensors_bytes(tensors, metadata)
        path = os.path.join(args.directory, case["name"] + ".safetensors")
        with open(path, "wb") as file:
            file.write(data)
        print(f"{path}: {len(tensors)} tensors, {len(data)} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
