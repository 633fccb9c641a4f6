"""A small but valid classifier model, written by the tests that need one.

Fault tests must not depend on the shipped model being trained: this one loads through
the real loader (format, digest, thresholds) and scores everything as clean (toxicity and
spam near 0.12), so a comment on a post-moderated article ends `published`. A word listed
in ``toxic_words`` gets a strong toxicity weight, for tests that want a held comment.
"""

from pathlib import Path

import numpy as np

from moderation.classifier import model as modelmod
from moderation.classifier import text as textmod

N_FEATURES = 1 << 18


def write_tiny_model(path: Path, *, version: str = "tiny-test-1", toxic_words: tuple[str, ...] = ()) -> Path:
    # Hashed n-gram weights only: the loader gives any other columns a weight of zero.
    weights = {head: np.zeros(N_FEATURES, dtype=np.float16) for head in modelmod.HEADS}
    for word in toxic_words:
        weights["toxicity"][textmod.feature_index("w:" + word, N_FEATURES)] = 40.0
    return save_test_model(path, weights, version=version, intercepts={"toxicity": -2.0, "spam": -2.0})


def save_test_model(path: Path, weights: dict, *, version: str, intercepts: dict[str, float]) -> Path:
    """A valid model directory from given weights (2^18 hashed features per head), no
    calibration, thresholds 0.5 to hold and 0.95 to reject."""
    metadata = {
        "format": modelmod.FORMAT,
        "format_version": modelmod.FORMAT_VERSION,
        "feature_schema": textmod.FEATURE_SCHEMA,
        "version": version,
        "n_features": N_FEATURES,
        "heads": {h: {"intercept": b, "calibration": {"a": 1.0, "b": 0.0}} for h, b in intercepts.items()},
        "thresholds": {"toxicity_hold": 0.5, "toxicity_reject": 0.95, "spam_hold": 0.5, "spam_reject": 0.95},
        "weights_sha256": modelmod.weights_digest(weights),
    }
    return modelmod.save_model(path, metadata, weights)


def corrupt_model(path: Path) -> Path:
    """A model directory whose weights are truncated garbage."""
    write_tiny_model(path, version="corrupt")
    (path / "weights.npz").write_bytes(b"PK\x03\x04 not really a zip")
    return path
