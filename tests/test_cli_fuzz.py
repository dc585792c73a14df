"""The command line under generated input: it answers or refuses in one line, never a traceback, never half-written.

Every example drives :func:`archscape.cli.main` in this process (output captured by
``click.testing.CliRunner.isolation``) from inside an empty temporary folder, and asserts:

* the exit status is 0 or 2, and no exception escapes ``main``;
* no output holds a traceback;
* on exit 2, standard error is exactly one line starting ``error: ``, and the folder is still empty
  (no store, no ``runs/``, nothing half-written).

Inputs: architecture texts for ``bench query``, ``space neighbours`` and ``space encode`` (edits of
real architectures, ``#N`` indices, digits, any text), ``bench query`` options, ``run`` flags (seeds,
budgets, trials, ``-o`` option strings) and ``run --config`` study files (generated mappings, and
edited YAML text).  Budgets and trials are small so each example takes a fraction of a second.
"""

from __future__ import annotations

import contextlib
import functools
import os
import tempfile

import numpy as np
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archscape.cli import main

#: examples per test (ARCHSCAPE_FUZZ_EXAMPLES=2000 for a longer hunt; ARCHSCAPE_FUZZ_RANDOM=1 for fresh examples)
EXAMPLES = int(os.environ.get("ARCHSCAPE_FUZZ_EXAMPLES", "300"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow],
                derandomize=not os.environ.get("ARCHSCAPE_FUZZ_RANDOM"), database=None)


# ------------------------------------------------------------------ running the CLI
def invoke(args: list[str], files: dict[str, str] | None = None) -> tuple[int, str, str, list[str]]:
    """Run the CLI in an empty temporary folder (holding ``files``); (exit status, stdout, stderr, new files)."""
    runner = CliRunner()
    with tempfile.TemporaryDirectory() as folder, contextlib.chdir(folder):
        for name, text in (files or {}).items():
            with open(name, "w", encoding="utf-8") as f:
                f.write(text)
        before = {name: open(name, "rb").read() for name in files or {}}
        with runner.isolation() as (out, err, _):
            try:
                code = main(args)
            except SystemExit as exc:  # main never exits itself; a click path that does is still not a traceback
                code = exc.code if isinstance(exc.code, int) else 1
        changed = [n for n, data in before.items() if open(n, "rb").read() != data]
        new = sorted(set(_walk(".")) - set(before)) + changed
    return code, out.getvalue().decode("utf-8", "replace"), err.getvalue().decode("utf-8", "replace"), new


def _walk(top: str) -> list[str]:
    return [os.path.relpath(os.path.join(d, f), top) for d, _, fs in os.walk(top) for f in fs] + \
        [os.path.relpath(d, top) + "/" for d, ds, fs in os.walk(top) if d != top and not ds and not fs]


def check(args: list[str], files: dict[str, str] | None = None) -> tuple[int, str, str, list[str]]:
    """Invoke and assert the contract of the module docstring; returns what :func:`invoke` returns."""
    code, out, err, new = invoke(args, files)
    shown = f"args={[a[:200] for a in args]!r} files={ {k: v[:300] for k, v in (files or {}).items()}!r}\nout={out[-2000:]}\nerr={err[-2000:]}"
    assert code in (0, 2), shown
    assert "Traceback" not in out and "Traceback" not in err, shown
    if code == 2:
        assert err.startswith("error: ") and err.endswith("\n") and err.count("\n") == 1, shown
        assert new == [], f"written on a refusal: {new}\n{shown}"
    return code, out, err, new


# ------------------------------------------------------------------ architecture texts
@functools.lru_cache(maxsize=None)
def examples(space: str) -> tuple[str, ...]:
    """A few real architecture texts of ``space``."""
    from archscape.spaces import get_space

    s = get_space(space)
    rng = np.random.default_rng(0)
    return tuple(s.format(s.sample(rng)) for _ in range(4))


SPACES_READ = ("nb201", "nb101", "macro", "darts")
COMMANDS = [("bench", "query", "nb201-cifar10", "nb201"), ("space", "neighbours", "nb201", "nb201"),
            ("space", "encode", "nb201", "nb201"), ("space", "encode", "nb101", "nb101"),
            ("space", "neighbours", "macro", "macro"), ("space", "encode", "darts", "darts")]
PIECES = ["|", "+", "~", "#", "0", "1", "9", "-", "[", "]", "{", "}", "\"", ",", ":", " ", "\n", "\x00", "\u00b2",
          "\u0661", "none", "skip_connect", "nor_conv_3x3", "avg_pool_3x3", "conv3x3-bn-relu", "matrix", "ops", "e"]


def edited(text: str, edits: list[tuple[int, int, str]]) -> str:
    """``text`` with each (position, deleted length, inserted piece) applied in turn."""
    for pos, cut, piece in edits:
        pos %= len(text) + 1
        text = text[:pos] + piece + text[pos + cut:]
    return text


def arch_texts(space: str):
    real = st.sampled_from(examples(space))
    edits = st.lists(st.tuples(st.integers(0, 500), st.integers(0, 3), st.sampled_from(PIECES)), min_size=1, max_size=4)
    return st.one_of(
        real,
        st.builds(edited, real, edits),
        st.builds(lambda n: f"#{n}", st.integers(-3, 10**40)),
        st.builds(lambda s: "#" + s, st.text(max_size=8)),
        st.from_regex(r"\A[0-9]{1,12}\Z"),
        st.text(max_size=60),
        st.builds(lambda t, n: t * n, st.sampled_from(examples(space)), st.integers(2, 150)),
        st.lists(st.sampled_from(PIECES), max_size=30).map("".join),  # the space's own vocabulary, reassembled
    )


@st.composite
def arch_commands(draw):
    group, command, target, space = draw(st.sampled_from(COMMANDS))
    args = [group, command, target, draw(arch_texts(space))]
    if command == "query":
        if draw(st.booleans()):
            args.append("--noise=" + draw(st.one_of(st.sampled_from(["mean", "seed", "0", "1", "7", "-1", "--1", " 2"]),
                                                   st.text(max_size=6))))
        if draw(st.booleans()):
            args.append("--draw-seed=" + str(draw(st.integers(-2, 2**70))))
        if draw(st.booleans()):
            args.append("--fidelity=" + draw(st.sampled_from(["200", "12", "0", "-1", "x", "1e3", ""])))
        if draw(st.booleans()):
            args.append("--json")
    if command == "encode" and draw(st.booleans()):
        args.append("--encoding=" + draw(st.sampled_from(["onehot", "path", "opcount", "adjacency", ""])))
    if command == "encode" and draw(st.integers(0, 3)) == 0:
        args.append("--cutoff=" + str(draw(st.integers(-2, 10**6))))
    return args


@FUZZ
@given(st.sampled_from(SPACES_READ + ("nb201-opdist", "nosuch")), st.integers(-3, 5), st.integers(-2, 2**70))
def test_space_sample_prints_or_refuses_in_one_line(space, n, seed):
    code, out, _, _ = check(["space", "sample", space, f"-n={n}", f"--seed={seed}"])
    if code == 0:
        assert len(out.splitlines()) == n


@FUZZ
@given(arch_commands())
def test_architecture_texts_are_read_or_refused_in_one_line(args):
    code, out, _, _ = check(args)
    if code == 0:
        assert out.strip()


# ------------------------------------------------------------------ run flags and -o strings
OPT_NAMES = ["random", "local", "evolution", "nosuch", "", " random", "RANDOM", "local ", "bananas:", "local:"]
OPT_KEYS = ["num_init", "improvement", "label", "population_size", "sample_size", "restart", "x", "", " ", "num_init "]
OPT_VALUES = ["1", "2", "0", "-1", "best", "first", "true", "null", "[", "]", "{a: 1}", "[1, 2]", "1.5", "", "2e3", "'q'",
              "*a", "&a 1", "&a [*a]", "!!python/object:os.system", "\n", "\t", "=", "1e400", "9" * 30, ".nan", "~"]


@st.composite
def option_texts(draw):
    if draw(st.integers(0, 5)) == 0:
        return draw(st.text(max_size=30))
    name = draw(st.sampled_from(OPT_NAMES))
    items = draw(st.lists(st.tuples(st.sampled_from(OPT_KEYS), st.sampled_from(["=", "", "==", ":"]),
                                    st.sampled_from(OPT_VALUES)), max_size=3))
    if not items and draw(st.booleans()):
        return name
    sep = draw(st.sampled_from([",", ", ", ",,"]))
    return name + ":" + sep.join(k + eq + v for k, eq, v in items)


SMALL_INTS = st.one_of(st.integers(-2, 3), st.sampled_from([10**20, 2**63, 15626, -(10**20)]))


@st.composite
def run_args(draw):
    args = ["run", "--store", "s.sqlite", "--no-progress"]
    for option in draw(st.lists(option_texts(), min_size=0, max_size=3)):
        args += ["-o", option]
    for flag in ("--budget", "--trials", "--seed"):
        if draw(st.integers(0, 3)) > 0:
            args.append(f"{flag}={draw(SMALL_INTS)}")
    if draw(st.booleans()):
        args.append("--noise=" + draw(st.sampled_from(["mean", "seed", "0", "2", "-1", "x", "true"])))
    if draw(st.integers(0, 4)) == 0:
        args.append("--workers=" + draw(st.sampled_from(["0", "1", "2", "-1", "5000", "x"])))
    if draw(st.integers(0, 4)) == 0:
        args.append("--executor=" + draw(st.sampled_from(["serial", "process", "thread"])))
    if draw(st.integers(0, 4)) == 0:
        args.append("--space=" + draw(st.sampled_from(["nb201", "nb201-opdist", "macro", "nb101-opdist", "x-opdist", ""])))
    if draw(st.integers(0, 4)) == 0:
        args.append("--opdist-samples=" + draw(st.sampled_from(["1", "2", "0", "10001", "x"])))
    if draw(st.integers(0, 4)) == 0:
        args.append("--fidelity=" + draw(st.sampled_from(["200", "12", "0", "-1", "x"])))
    if draw(st.integers(0, 4)) == 0:
        args.append("--report-metric=" + draw(st.sampled_from(["val_acc", "test_acc", "nosuch", ""])))
    if draw(st.integers(0, 6)) == 0:
        args += ["--evaluator=train", "--epochs=" + draw(st.sampled_from(["0", "x"]))]  # refused before any training
    return args


@FUZZ
@given(run_args())
def test_run_flags_run_or_are_refused_without_writing(args):
    code, out, _, new = check(args)
    if code == 0:
        assert "evaluations in" in out and "s.sqlite" in new


# ------------------------------------------------------------------ study files
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-3, 4), st.sampled_from([10**20, 1e23, 2.0, 0.5, float("nan")]),
                    st.sampled_from(["", "x", "1", "seed", "mean", "nb201-cifar10", "random"]))
STUDY_VALUES = {
    "benchmark": st.one_of(st.just("nb201-cifar10"), st.sampled_from(["nb999", "", "nb201"]), SCALARS),
    "optimizers": st.one_of(
        st.lists(st.one_of(option_texts(), st.fixed_dictionaries(
            {"name": st.sampled_from(["random", "local", "nosuch"])},
            optional={"params": st.dictionaries(st.sampled_from(OPT_KEYS), SCALARS, max_size=2), "label": SCALARS,
                      "extra": SCALARS}), SCALARS), min_size=0, max_size=3),
        option_texts(), SCALARS),
    "budget": st.one_of(st.integers(1, 3), SCALARS),
    "trials": st.one_of(st.integers(1, 2), SCALARS),
    "seed": SCALARS,
    "noise": SCALARS,
    "fidelity": st.one_of(st.sampled_from([200, 12]), SCALARS),
    "report_metric": st.one_of(st.sampled_from(["val_acc", "test_acc", "nosuch"]), SCALARS),
    "name": SCALARS,
    "space": st.one_of(st.sampled_from(["nb201", "nb201-opdist", "macro", "nosuch"]), SCALARS),
    "evaluator": st.one_of(st.sampled_from(["table", "bogus"]), SCALARS),
    "opdist_samples": SCALARS,
    "workers": SCALARS,
    "executor": st.one_of(st.sampled_from(["serial", "process", "thread"]),
                          st.dictionaries(st.sampled_from(["kind", "workers", "cpus", "gpus", "retries", "address", "nope"]),
                                          SCALARS, max_size=2), SCALARS),
    "store": st.one_of(st.sampled_from(["t.sqlite", "sub/t.sqlite"]), SCALARS),
    "train": st.one_of(st.dictionaries(st.sampled_from(["epochs", "lr", "nope"]), SCALARS, max_size=1), SCALARS),
    "trails": SCALARS,
}


@st.composite
def study_files(draw):
    keys = draw(st.lists(st.sampled_from(sorted(STUDY_VALUES)), max_size=6, unique=True))
    data = {"optimizers": ["random"], "budget": 2, "trials": 1}
    for key in keys:
        data[key] = draw(STUDY_VALUES[key])
    text = yaml.safe_dump(data, allow_unicode=True)
    if draw(st.integers(0, 3)) == 0:  # edited YAML text: anchors, tags, brackets, tabs, broken indentation
        pieces = st.sampled_from(["&a ", "*a", "*b", "!!python/name:os.system", "!!binary ", "[", "{", "]", "\t", "\n  ", ": ",
                                  "- ", "? ", "%YAML 1.1\n", "---\n", "...\n", "\"", "'", "\x00", "\ufeff", "<<: *a\n"])
        text = edited(text, draw(st.lists(st.tuples(st.integers(0, 400), st.integers(0, 3), pieces), min_size=1, max_size=4)))
    return text


@FUZZ
@given(study_files(), st.booleans())
def test_study_files_run_or_are_refused_without_writing(text, with_store_flag):
    args = ["run", "--config", "study.yaml", "--no-progress"] + (["--store", "s.sqlite"] if with_store_flag else [])
    code, out, _, new = check(args, {"study.yaml": text})
    if code == 0:
        assert "evaluations in" in out and new  # the store (whatever the file's name)
