#!/usr/bin/env python3
"""Recurrent against PyTorch in one run: every workload in a fresh process on each side, the two
sides alternating, several rounds; prints medians, ratios and each process's peak memory.

Usage (scripts/bench/compare.sh sets up the venv and the release binary, then calls this):
  compare.py [--workloads all|w1,w7a] [--rounds 3] [--seconds 4] [--threads 2] [--markdown FILE]
  compare.py --scaling hidden,sequence,batch [--rounds 1] [--markdown FILE] [--svg-dir DIR]
  compare.py --peak        # the machine's sgemm peak: our packed kernel, OpenBLAS and torch.mm
  compare.py --kernels avx512,avx2 [--precision float32,bf16,int8]
                           # our side once per kernel family (RECURRENT_KERNELS) and, for the
                           # sampling workloads, per weight precision; PyTorch once, all in the same rounds

Ratios: training and inference compare tokens/s (ours / PyTorch, above 1 = we are faster); the
batch-1 sampling workloads (W7) compare time per token (ours / PyTorch, below 1 = we are faster).
A benchmark script only: never a build or test dependency.
"""
import argparse, json, math, os, platform, statistics, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
WORKLOADS = ["w1", "w2", "w3", "w4", "w5", "w6a", "w6b", "w7a", "w7b", "w7c"]
# Scaling sweeps: LSTM training, 2 layers, embedding = hidden; one size varies, the others stay at W1's.
SWEEPS = {
    "hidden": [64, 128, 256, 512, 1024],
    "sequence": [16, 32, 64, 128, 256],
    "batch": [1, 4, 16, 32, 64, 128],
}


def spec(sweep, value):
    sizes = {"hidden": 256, "sequence": 64, "batch": 32}
    sizes[sweep] = value
    return (f"kind=train,cell=lstm,hidden={sizes['hidden']},embedding={sizes['hidden']},layers=2,"
            f"batch={sizes['batch']},sequence={sizes['sequence']}")


def run_json(command, env=None):
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env)
    if result.returncode != 0:
        sys.exit(f"error: {' '.join(command)} failed: {result.stderr.strip().splitlines()[-1:]}")
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")][-1]


def our_env(family):
    return dict(os.environ, RECURRENT_KERNELS=family) if family else None


# --match-isa: PyTorch limited to the instruction set of our family (oneDNN and MKL read these), as on
# a CPU that has no more than that family.
PYTORCH_ISA = {"avx2": {"ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_ENABLE_INSTRUCTIONS": "AVX2"}}


def pytorch_env(args, family):
    limits = PYTORCH_ISA.get(family) if args.match_isa else None
    return dict(os.environ, **limits) if limits else None


def measure_variants(args, selector, rounds, variants, pytorch_family=None):
    """selector: ['--workloads', 'w1'] or ['--custom', spec]; variants: [(family or None, precision or None)].
    Returns (ours, theirs): ours[i] lists the results of variants[i], theirs PyTorch's (limited to
    pytorch_family's instruction set with --match-isa)."""
    base = [args.binary, "bench", *selector, "--seconds", str(args.seconds), "--threads", str(args.threads), "--json"]
    theirs_cmd = [args.python, os.path.join(HERE, "pytorch_bench.py"), *selector, "--seconds", str(args.seconds),
                  "--threads", str(args.threads), "--json"]
    ours, theirs = [[] for _ in variants], []
    jobs = [(base + (["--precision", precision] if precision else []), our_env(family), sink)
            for (family, precision), sink in zip(variants, ours)] + [(theirs_cmd, pytorch_env(args, pytorch_family), theirs)]
    for r in range(rounds):
        # Alternate the order, so drifts of the machine hit every side.
        for command, env, sink in (jobs if r % 2 == 0 else jobs[::-1]):
            sink.append(run_json(command, env))
    return ours, theirs


def measure(args, selector, rounds):
    """Our default kernel family against PyTorch. Returns (ours, theirs): lists of results."""
    ours, theirs = measure_variants(args, selector, rounds, [(None, None)])
    return ours[0], theirs


def summary(results, key):
    return statistics.median(r[key] for r in results)


def workload_table(args):
    """Every workload: PyTorch once and our side once per kernel family (and, for W7, per precision)."""
    rows = []
    for name in args.workloads:
        sample = name.startswith("w7")
        precisions = args.precision if sample else ["float32"]
        key = "us_per_token" if sample else "tokens_per_s"
        # One PyTorch per workload, or with --match-isa one per family (limited to its instruction set).
        groups = [[family] for family in args.kernels] if args.match_isa else [args.kernels]
        measured = []
        for families in groups:
            variants = [(family, precision if precision != "float32" else None)
                        for family in families for precision in precisions]
            ours_all, theirs = measure_variants(args, ["--workloads", name], args.rounds, variants, families[0])
            measured += [(variant, ours, theirs) for variant, ours in zip(variants, ours_all)]
        for (family, precision), ours, theirs in measured:
            t = summary(theirs, key)
            o = summary(ours, key)
            label = name + (f" {precision}" if precision else "")
            shown = (family or "default") + (" (PyTorch AVX2 too)" if args.match_isa and family in PYTORCH_ISA else "")
            rows.append(dict(workload=label, family=shown, ours=o, pytorch=t, ratio=o / t, per_token=sample,
                             ours_gflops=summary(ours, "gflops"), pytorch_gflops=summary(theirs, "gflops"),
                             ours_rss=max(r["peak_rss_mib"] for r in ours), pytorch_rss=max(r["peak_rss_mib"] for r in theirs),
                             ours_all=[r[key] for r in ours], pytorch_all=[r[key] for r in theirs]))
            print(f"{label:<10} {family or 'default':<9} ours {o:10.1f}  pytorch {t:10.1f}  "
                  f"{'µs/token' if sample else 'tokens/s'}  ratio {o / t:.3f}  "
                  f"GFLOP/s {rows[-1]['ours_gflops']:.0f} vs {rows[-1]['pytorch_gflops']:.0f}  "
                  f"peak RSS {rows[-1]['ours_rss']:.0f} vs {rows[-1]['pytorch_rss']:.0f} MiB", flush=True)
    lines = ["| workload | kernels | Recurrent | PyTorch | ratio | GFLOP/s (ours / PyTorch) | peak RSS MiB (ours / PyTorch) |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        unit = "µs/token" if r["per_token"] else "tok/s"
        ratio = f"{r['ratio']:.3f}× the time" if r["per_token"] else f"{r['ratio']:.2f}×"
        lines.append(f"| {r['workload'].upper()} | {r['family']} | {r['ours']:,.1f} {unit} | {r['pytorch']:,.1f} {unit} | "
                     f"{ratio} | {r['ours_gflops']:.0f} / {r['pytorch_gflops']:.0f} | {r['ours_rss']:.0f} / {r['pytorch_rss']:.0f} |")
    return rows, lines


def scaling_tables(args):
    results, lines = {}, []
    for sweep in args.scaling:
        points = []
        for value in SWEEPS[sweep]:
            ours, theirs = measure(args, ["--custom", spec(sweep, value)], args.rounds)
            point = dict(value=value, ours_ms=summary(ours, "median_iteration_ms"),
                         pytorch_ms=summary(theirs, "median_iteration_ms"),
                         ours_tps=summary(ours, "tokens_per_s"), pytorch_tps=summary(theirs, "tokens_per_s"),
                         ours_gflops=summary(ours, "gflops"),
                         ours_rss=max(r["peak_rss_mib"] for r in ours), pytorch_rss=max(r["peak_rss_mib"] for r in theirs))
            points.append(point)
            print(f"{sweep} {value:5d}: ours {point['ours_ms']:9.2f} ms {point['ours_rss']:7.0f} MiB | "
                  f"pytorch {point['pytorch_ms']:9.2f} ms {point['pytorch_rss']:7.0f} MiB", flush=True)
        results[sweep] = points
        lines += ["", f"Varying {sweep} ({spec(sweep, 'N').replace(f'{sweep}=N', f'{sweep} = N')}):", "",
                  f"| {sweep} | Recurrent ms/step | PyTorch ms/step | Recurrent tok/s | PyTorch tok/s | speed ratio | "
                  "Recurrent GFLOP/s | Recurrent peak RSS MiB | PyTorch peak RSS MiB |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for p in points:
            lines.append(f"| {p['value']} | {p['ours_ms']:.2f} | {p['pytorch_ms']:.2f} | {p['ours_tps']:,.0f} | "
                         f"{p['pytorch_tps']:,.0f} | {p['ours_tps'] / p['pytorch_tps']:.2f}× | {p['ours_gflops']:.0f} | "
                         f"{p['ours_rss']:.0f} | {p['pytorch_rss']:.0f} |")
    return results, lines


TORCH_MM = """
import sys, time, torch
torch.set_num_threads(int(sys.argv[1]))
best = 0.0
for m, n, k in ((384, 1024, 256), (768, 2048, 256), (1536, 1536, 512), (2048, 2048, 2048)):
    a, b = torch.randn(m, k), torch.randn(k, n)
    for _ in range(3):
        torch.mm(a, b)
    for _ in range(5):
        t0 = time.perf_counter(); calls = 0
        while time.perf_counter() - t0 < 0.05:
            torch.mm(a, b); calls += 1
        best = max(best, 2 * m * n * k * calls / (time.perf_counter() - t0) / 1e9)
print(best)
"""


def peak_table(args):
    """Per kernel family: our packed kernel's sgemm peak and read bandwidth; OpenBLAS and torch.mm once."""
    lines = ["| kernels | threads | packed kernel (ours) | OpenBLAS 2048³ | torch.mm (best shape) |", "|---|---|---|---|---|"]
    torch_mm = {}
    reads = {}
    for family in args.kernels:
        result = subprocess.run([args.binary, "bench", "--peak", "--json", "--threads", str(args.threads)],
                                capture_output=True, text=True, cwd=ROOT, env=our_env(family))
        rows = [json.loads(l) for l in result.stdout.splitlines() if l.startswith("{")]
        for row in rows:
            if row["probe"] == "read":
                reads.setdefault(row["kib"], {})[(family or "default", row["threads"])] = row["gb_per_s"]
            if row["probe"] != "sgemm":
                continue
            if row["threads"] not in torch_mm:
                torch_mm[row["threads"]] = float(subprocess.run([args.python, "-c", TORCH_MM, str(row["threads"])],
                                                                capture_output=True, text=True).stdout.strip() or "nan")
            lines.append(f"| {family or 'default'} | {row['threads']} | {row['packed_gflops']} GFLOP/s | "
                         f"{row['blas_gflops']} GFLOP/s | {torch_mm[row['threads']]:.1f} GFLOP/s |")
            print(lines[-1], flush=True)
    columns = [(family or "default", t) for family in args.kernels for t in (1, args.threads)]
    lines += ["", "| working set | " + " | ".join(f"read GB/s, {f}, {t} thread(s)" for f, t in columns) + " |",
              "|---|" + "---|" * len(columns)]
    for kib, by in sorted(reads.items()):
        size = f"{kib // 1024} MiB" if kib >= 1024 else f"{kib} KiB"
        lines.append(f"| {size} | " + " | ".join(f"{by.get(c, float('nan')):.1f}" for c in columns) + " |")
    return lines


def svg_plot(title, x_label, y_label, series, path):
    """A log–log line plot: series = [(name, colour, dashed, [(x, y)])]."""
    width, height, left, right, top, bottom = 720, 420, 70, 170, 40, 50
    xs = [x for _, _, _, pts in series for x, _ in pts]
    ys = [y for _, _, _, pts in series for _, y in pts]
    lx0, lx1 = math.log10(min(xs)), math.log10(max(xs))
    ly0, ly1 = math.floor(math.log10(min(ys))), math.ceil(math.log10(max(ys)))
    if ly1 == ly0:
        ly1 += 1
    px = lambda x: left + (math.log10(x) - lx0) / max(lx1 - lx0, 1e-9) * (width - left - right)
    py = lambda y: height - bottom - (math.log10(y) - ly0) / (ly1 - ly0) * (height - top - bottom)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{width / 2 - right / 2 + left / 2}" y="22" text-anchor="middle" font-size="14">{title}</text>']
    for value in sorted(set(xs)):
        out.append(f'<line x1="{px(value):.1f}" y1="{top}" x2="{px(value):.1f}" y2="{height - bottom}" stroke="#eee"/>')
        out.append(f'<text x="{px(value):.1f}" y="{height - bottom + 16}" text-anchor="middle">{value}</text>')
    for e in range(ly0, ly1 + 1):
        for m in (1, 2, 5):
            y = m * 10 ** e
            if ly0 <= math.log10(y) <= ly1:
                out.append(f'<line x1="{left}" y1="{py(y):.1f}" x2="{width - right}" y2="{py(y):.1f}" stroke="{"#ddd" if m == 1 else "#f3f3f3"}"/>')
                out.append(f'<text x="{left - 6}" y="{py(y) + 4:.1f}" text-anchor="end">{y:g}</text>')
    out.append(f'<rect x="{left}" y="{top}" width="{width - left - right}" height="{height - top - bottom}" fill="none" stroke="#333"/>')
    out.append(f'<text x="{(left + width - right) / 2}" y="{height - 12}" text-anchor="middle">{x_label}</text>')
    out.append(f'<text x="16" y="{(top + height - bottom) / 2}" text-anchor="middle" transform="rotate(-90 16 {(top + height - bottom) / 2})">{y_label}</text>')
    for i, (name, colour, dashed, pts) in enumerate(series):
        d = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in pts)
        dash = ' stroke-dasharray="6 4"' if dashed else ""
        out.append(f'<polyline points="{d}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>')
        for x, y in pts:
            out.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="{colour}"/>')
        ly = top + 14 + 18 * i
        out.append(f'<line x1="{width - right + 12}" y1="{ly - 4}" x2="{width - right + 36}" y2="{ly - 4}" stroke="{colour}" stroke-width="2"{dash}/>')
        out.append(f'<text x="{width - right + 42}" y="{ly}">{name}</text>')
    out.append("</svg>")
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(out) + "\n")
    os.replace(tmp, path)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workloads", default="all")
    p.add_argument("--scaling", help="comma-separated sweeps: hidden, sequence, batch (or all)")
    p.add_argument("--peak", action="store_true", help="measure the sgemm peak of both sides and the read bandwidth")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--seconds", type=float, default=4)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--binary", default=os.path.join(ROOT, ".build", "release", "recurrent"))
    p.add_argument("--python", default=sys.executable, help="the Python with torch for pytorch_bench.py")
    p.add_argument("--kernels", default="", help="comma-separated kernel families for our side (RECURRENT_KERNELS: "
                   "avx512, avx2, neon, reference); default: the fastest this CPU has")
    p.add_argument("--match-isa", action="store_true",
                   help="run PyTorch limited to each family's instruction set (avx2: ONEDNN_MAX_CPU_ISA=AVX2)")
    p.add_argument("--precision", default="float32",
                   help="comma-separated weight precisions of our sampling workloads (float32, bf16, int8)")
    p.add_argument("--markdown", help="also write the tables to this file")
    p.add_argument("--svg-dir", help="write the scaling plots (scaling-time.svg, scaling-memory.svg) here")
    args = p.parse_args()
    args.kernels = [k.strip() for k in args.kernels.split(",") if k.strip()] or [None]
    args.precision = [q.strip() for q in args.precision.split(",") if q.strip()]
    if not os.path.exists(args.binary):
        sys.exit(f"error: {args.binary} not found; build it with swift build -c release")
    # torch is imported only by the benchmark processes: a parent holding torch would pass its peak
    # RSS on to every child it forks (Linux keeps ru_maxrss across fork and exec).
    probe = subprocess.run([args.python, "-c", "import torch; print(torch.__version__)"], capture_output=True, text=True)
    if probe.returncode != 0:
        sys.exit(f"error: {args.python} cannot import torch")
    header = (f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.node()}, {os.cpu_count()} CPUs, "
              f"torch {probe.stdout.strip()}, {args.threads} threads, {args.rounds} round(s) of {args.seconds:g} s per workload")
    print(header, flush=True)
    lines = [header, ""]
    if args.peak:
        lines += peak_table(args)
    elif args.scaling:
        args.scaling = list(SWEEPS) if args.scaling == "all" else [s.strip() for s in args.scaling.split(",")]
        for s in args.scaling:
            if s not in SWEEPS:
                sys.exit(f"error: unknown sweep '{s}'; choose from {', '.join(SWEEPS)}")
        results, table = scaling_tables(args)
        lines += table
        if args.svg_dir:
            os.makedirs(args.svg_dir, exist_ok=True)
            colours = {"hidden": "#1f77b4", "sequence": "#d62728", "batch": "#2ca02c"}
            for metric, label, file in (("ms", "ms per training step", "scaling-time.svg"),
                                        ("rss", "peak resident memory (MiB)", "scaling-memory.svg")):
                series = []
                for sweep, points in results.items():
                    series.append((f"{sweep}: Recurrent", colours[sweep], False, [(q["value"], q[f"ours_{metric}"]) for q in points]))
                    series.append((f"{sweep}: PyTorch", colours[sweep], True, [(q["value"], q[f"pytorch_{metric}"]) for q in points]))
                svg_plot(f"LSTM training (2 layers): {label} as one size grows", "hidden size / sequence length / batch size",
                         label, series, os.path.join(args.svg_dir, file))
    else:
        args.workloads = WORKLOADS if args.workloads == "all" else [w.strip().lower() for w in args.workloads.split(",")]
        _, table = workload_table(args)
        lines += table
    print("\n".join(lines[2:]))
    if args.markdown:
        with open(args.markdown + ".tmp", "w") as f:
            f.write("\n".join(lines) + "\n")
        os.replace(args.markdown + ".tmp", args.markdown)


if __name__ == "__main__":
    main()
