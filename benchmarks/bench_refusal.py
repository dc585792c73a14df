"""How fast bad input is refused: huge architecture texts, option strings and study files.

Each input is refused in one line before it is parsed (issue 17, defect 8); this prints the time of
each refusal next to a small bad input refused the same way, in the same process, as the baseline.

Usage: python benchmarks/bench_refusal.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
import time
from pathlib import Path

from click.testing import CliRunner

from archscape.cli import main


def refusal_ms(args: list[str], repeat: int) -> tuple[float, int, str]:
    """Best wall time (ms) of ``main(args)`` over ``repeat`` runs, its exit status and error line."""
    best, code, line = float("inf"), 0, ""
    for _ in range(repeat):
        with CliRunner().isolation() as (_, err, _):
            start = time.perf_counter()
            code = main(args)
            best = min(best, time.perf_counter() - start)
        line = err.getvalue().decode()
    return best * 1000, code, line.strip()


def main_bench() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="one repeat (the smoke test)")
    args = parser.parse_args()
    repeat = 1 if args.quick else args.repeat
    with tempfile.TemporaryDirectory() as folder, contextlib.chdir(folder):
        Path("small.yaml").write_text("budget: true\ntrials: 1\noptimizers: [random]\n")
        Path("big.yaml").write_text("budget: 2\ntrials: 1\noptimizers: [" + ",".join(["random"] * 10**6) + "]\n")
        Path("near.yaml").write_text("budget: 2\ntrials: 1\noptimizers: [" + ",".join(["random"] * 140_000) + "]\n")
        Path("brackets.yaml").write_text("budget: 2\ntrials: 1\nx: [" + ",".join(["[1]"] * 240_000) + "]\n")
        Path("deep.yaml").write_text("budget: 2\ntrials: 1\nx: " + "[" * 400_000 + "]" * 400_000 + "\n")
        bomb = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
        bomb += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
        Path("bomb.yaml").write_text("budget: 2\ntrials: 1\noptimizers: [random]\n" + "\n".join(bomb) + "\n")
        run = ["--store", "never.sqlite", "--no-progress"]
        cases = [
            ("baseline: small bad key", ["bench", "query", "nb201-cifar10", "|bad~0|"]),
            ("10^6-element key", ["bench", "query", "nb201-cifar10", "|" + "nor_conv_3x3~0|" * 10**6]),
            ("#N of 10^6 digits", ["bench", "query", "nb201-cifar10", "#" + "7" * 10**6]),
            ("baseline: small bad -o", ["run", "-o", "local:", "--budget", "2", "--trials", "1", *run]),
            ("-o of 10^6 parameters", ["run", "-o", "local:" + ",".join(f"k{i}=1" for i in range(10**6)), "--budget", "2",
                                       "--trials", "1", *run]),
            ("baseline: small bad file", ["run", "--config", "small.yaml", *run]),
            ("file of 10^6 optimizers (7 MB)", ["run", "--config", "big.yaml", *run]),
            ("file of 10^10 values by aliases", ["run", "--config", "bomb.yaml", *run]),
            ("file of 140,000 optimizers (<1 MB)", ["run", "--config", "near.yaml", *run]),
            ("file of 240,000 [1] (many brackets)", ["run", "--config", "brackets.yaml", *run]),
            ("file nesting 400,000 deep", ["run", "--config", "deep.yaml", *run]),
        ]
        for name, args in cases:
            ms, code, line = refusal_ms(args, repeat)
            print(f"{name:34s} exit {code}  {ms:9.2f} ms  {line[:90]}")
        assert not Path("never.sqlite").exists()


if __name__ == "__main__":
    main_bench()
