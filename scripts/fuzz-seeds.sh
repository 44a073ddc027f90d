#!/usr/bin/env bash
# Regenerates the fuzzers' committed inputs with the release `recurrent` binary (docs/fuzzing.md):
#   Fuzz/Fixtures/<kind>/   a small trained checkpoint of each kind; a config target writes each input
#                           as one of its files (config.json, vocabulary.json, state.json) beside the rest
#   Fuzz/Seeds/<target>/    the seed corpus of each target: real files written by the tool (checkpoint
#                           files of several configurations, generated data sets, exported vectors) and
#                           a few hand-written variants of the formats (delimiters, quotes, CRLF, BOM).
# Run it after a change to a file format, then commit the result. Uses python3 (standard library only)
# for the variants; needs nothing outside the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
source scripts/setup.sh
swift build -c release --product recurrent >/dev/null
recurrent() { "$root/.build/release/recurrent" "$@" >/dev/null; }

# A fixed working directory: the checkpoints record the path of the text they trained on.
work=/tmp/recurrent-fuzz-seeds
rm -rf "$work" Fuzz/Fixtures Fuzz/Seeds
mkdir -p "$work"
seeds=Fuzz/Seeds
for target in safetensors word-vectors csv forecast-config parallel-text labelled-text classify-config translate-config \
              lm-config lm-vocabulary lm-state; do
  mkdir -p "$seeds/$target"
done
# A model checkpoint kind (config.json beside model.safetensors): the run "fixture" becomes
# Fuzz/Fixtures/KIND (with EXTRA files), every run's config.json a seed of KIND-config and its weights
# a seed of safetensors.  Usage: model_checkpoints KIND PREFIX "RUN ..." [EXTRA ...]
model_checkpoints() {
  local kind=$1 prefix=$2 runs=$3; shift 3
  mkdir -p "Fuzz/Fixtures/$kind"
  cp "$work/$prefix-fixture/config.json" "$work/$prefix-fixture/model.safetensors" "$@" "Fuzz/Fixtures/$kind/"
  for name in $runs; do
    cp "$work/$prefix-$name/config.json" "$seeds/$kind-config/$name.json"
    cp "$work/$prefix-$name/model.safetensors" "$seeds/safetensors/$kind-$name.safetensors"
  done
}

# Data sets.
python3 - "$work" <<'PY'
import math, sys
work = sys.argv[1]
with open(f"{work}/series.csv", "w") as f:
    f.write("month,value,temp\n")
    for i in range(48):
        f.write(f"{1990 + i // 12}-{i % 12 + 1:02d},{100 + 10 * math.sin(i * math.pi / 6) + i:.1f},{5 + i % 7}\n")
with open(f"{work}/text.txt", "w") as f:
    for i in range(20):
        f.write("the cat sat on the mat.\nthe dog ate the bone.\na cat and a dog.\n")
PY
recurrent classify generate --count 60 --seed 1 --output "$work/labelled.csv"
recurrent translate generate --task dates --count 40 --seed 1 --out "$work/dates.tsv"
recurrent translate generate --task mirror --count 20 --seed 1 --out "$work/mirror.tsv"

# Language model: the fixture (character level, LSTM) and the configurations of other runs as seeds.
lm() { local name=$1; shift; recurrent train --text "$work/text.txt" --batch 2 --max-steps 2 --eval-every 1 --hidden 8 \
         --layers 1 --embedding 4 --sample-length 0 --out "$work/lm-$name" "$@"; }
lm fixture --level character --seq 8
lm gru-word --level word --cell gru --layers 2 --seq 6 --vocabulary-size 12
lm rnn-byte --level byte --cell rnn --k1 4 --k2 8 --continuous --optimizer sgd
lm peephole --level character --cell peephole-lstm --seq 8 --optimizer rmsprop --dropout 0
latest() { echo "$work/lm-$1/checkpoints/$(cat "$work/lm-$1/checkpoints/latest")"; }
mkdir -p Fuzz/Fixtures/language-model
cp "$(latest fixture)"/* Fuzz/Fixtures/language-model/
for name in fixture gru-word rnn-byte peephole; do
  dir=$(latest "$name")
  cp "$dir/config.json" "$seeds/lm-config/$name.json"
  cp "$dir/vocabulary.json" "$seeds/lm-vocabulary/$name.json"
  cp "$dir/state.json" "$seeds/lm-state/$name.json"
  for file in model optimizer carried-state; do cp "$dir/$file.safetensors" "$seeds/safetensors/lm-$name-$file.safetensors"; done
done
recurrent embeddings export --checkpoint "$work/lm-gru-word" --out "$work/vectors.txt"

# Forecast: the fixture (LSTM with a feature and a date column) and other models as seeds.
fc() { local name=$1; shift; recurrent forecast train --csv "$work/series.csv" --target value --window 6 --horizon 2 --hidden 4 \
         --epochs 1 --batch 4 --out "$work/fc-$name" "$@"; }
fc fixture --features temp
fc narx --cell narx --transform log --target-mode level
fc gru --cell gru --strategy recursive --layers 2 --features temp --date month
fc rnn --cell rnn --fill linear
model_checkpoints forecast fc "fixture narx gru rnn" "$work/series.csv"

# Classify: the fixture (word level, LSTM, last state) and other models as seeds.
cl() { local name=$1; shift; recurrent classify train --data "$work/labelled.csv" --hidden 4 --embedding 4 --epochs 1 --no-baseline \
         --out "$work/cl-$name" "$@"; }
cl fixture
cl gru-bi --cell gru --bidirectional --pooling mean --layers 2 --max-length 12
cl char --level char --cell rnn --pooling max --vocabulary-size 20
model_checkpoints classify cl "fixture gru-bi char"

# Translate: the fixture (character level, GRU with attention) and other models as seeds.
tl() { local name=$1 pairs=$2; shift 2; recurrent translate train --pairs "$pairs" --hidden 4 --embedding 4 --steps 2 \
         --run-dir "$work/tr-$name" "$@"; }
tl fixture "$work/dates.tsv"
tl lstm-plain "$work/dates.tsv" --cell lstm --no-attention
tl word "$work/mirror.tsv" --level word --vocabulary-size 10
model_checkpoints translate tr "fixture lstm-plain word"

# Data files as the tool reads them, and variants of their formats.
head -n 13 "$work/series.csv" > "$seeds/csv/series.csv"
head -n 9 "$work/labelled.csv" > "$seeds/labelled-text/generated.csv"
head -n 8 "$work/dates.tsv" > "$seeds/parallel-text/dates.tsv"
head -n 5 "$work/mirror.tsv" > "$seeds/parallel-text/mirror.tsv"
head -n 6 "$work/vectors.txt" > "$seeds/word-vectors/glove.txt"
python3 - "$seeds" <<'PY'
import struct, sys, json
seeds = sys.argv[1]
def write(path, text, mode="w"):
    if "b" in mode:
        with open(f"{seeds}/{path}", mode) as f: f.write(text)
    else:
        with open(f"{seeds}/{path}", mode, newline="", encoding="utf-8") as f: f.write(text)

# csv: semicolons and missing cells, quoted cells, one column, tabs, CRLF and a BOM.
write("csv/missing.csv", "date;sales;price\n2024-01-01;12;3.5\n2024-01-02;NA;3.6\n2024-01-03;;3.4\n2024-01-04;15;?\n2024-01-05;14;3.2\n")
write("csv/quoted.csv", 'id,"value, in units",note\n1,"2.5","a ""quoted"" note"\n2,3.5,"two\nlines"\n3,-1e3,plain\n')
write("csv/one-column.csv", "passengers\n112\n118\n\n132\n129\n")
write("csv/tabs-crlf.csv", "\ufeffyear\tcount\r\n1749\t96.7\r\n1750\t104.3\r\n1751\t116.7\r\n")

# labelled text: TSV, quoted CSV cells with commas, quotes and newlines, extra columns, a BOM.
write("labelled-text/reviews.tsv", "label\ttext\npositive\tthe story was moving\nnegative\tthe pacing felt messy\n")
write("labelled-text/quoted.csv", '\ufeffid,text,label\n1,"good, and ""truly"" gripping",pos\n2,"two\nlines of text",neg\n3,plain,neg\n')

# parallel text: CRLF line ends, blank lines and non-ASCII text.
write("parallel-text/crlf.tsv", "ka lo\tbig dog\r\n\r\nţara mea\tmy country\r\n日本\tJapan\r\n")

# word vectors: a word2vec text header, CRLF and a BOM, tabs.
write("word-vectors/word2vec.txt", "3 4\nthe 0.418 0.24968 -0.41242 0.1217\ncat -0.1 0.2 0.3 0.4\ndog 1e-3 -2.5e2 0 7\n")
write("word-vectors/bom-crlf.txt", "\ufeffking\t0.5\t-1\r\nqueen\t0.25\t-0.75\r\n")

# safetensors: every dtype the reader converts, with metadata and an empty tensor.
dtypes = [("F64", "d", 8), ("F32", "f", 4), ("F16", "e", 2), ("BF16", "H", 2), ("F8_E5M2", "B", 1), ("F8_E4M3", "B", 1),
          ("I64", "q", 8), ("I32", "i", 4), ("I16", "h", 2), ("I8", "b", 1), ("U64", "Q", 8), ("U32", "I", 4),
          ("U16", "H", 2), ("U8", "B", 1), ("BOOL", "B", 1)]
header, data = {"__metadata__": {"format": "pt"}}, b""
for name, code, size in dtypes:
    values = [1, 0, 2, 1] if code not in "defe" else [1.5, -2.0, 0.25, 3.0]
    chunk = struct.pack("<" + code * 4, *values)
    header[name.lower()] = {"dtype": name, "shape": [2, 2], "data_offsets": [len(data), len(data) + len(chunk)]}
    data += chunk
header["empty"] = {"dtype": "F32", "shape": [0, 3], "data_offsets": [len(data), len(data)]}
text = json.dumps(header, separators=(",", ":")).encode()
text += b" " * (-len(text) % 8)
write("safetensors/dtypes.safetensors", struct.pack("<Q", len(text)) + text + data, "wb")
PY
rm -rf "$work"
echo "fixtures: $(find Fuzz/Fixtures -type f | wc -l) files; seeds: $(find Fuzz/Seeds -type f | wc -l) files, $(du -sh Fuzz/Seeds | cut -f1)"
