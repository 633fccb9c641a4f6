"""The classifier package, pure (no database): scores, explanations, artifact, behaviour."""

from __future__ import annotations

import csv
import json
import math
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from moderation.classifier import DEFAULT_MODEL_PATH, Model, ModelError, Scores, load_model
from moderation.classifier import data as datamod
from moderation.classifier.evaluate import behaviour_report, load_behaviour
from moderation.classifier.model import THRESHOLD_KEYS, save_model
from moderation.classifier.text import features, normalise, vectorise

REPO = Path(__file__).resolve().parent.parent


def _shared_data() -> Path | None:
    env = os.environ.get("VIGIE_DATA_DIR")
    for candidate in (env, REPO.parent / "shared" / "data"):
        if candidate and (Path(candidate) / "davidson" / "labeled_data.csv").is_file():
            return Path(candidate)
    return None


needs_data = pytest.mark.skipif(
    _shared_data() is None,
    reason="labelled data not found: set VIGIE_DATA_DIR or put it at ../shared/data",
)


@pytest.fixture(scope="module")
def model() -> Model:
    return load_model()


def test_it_exports_the_interface():
    assert issubclass(ModelError, Exception)
    assert Path(DEFAULT_MODEL_PATH).is_dir()
    assert load_model() is load_model(None) is load_model(DEFAULT_MODEL_PATH)


def test_it_has_valid_thresholds(model):
    assert set(model.thresholds) == set(THRESHOLD_KEYS)
    for value in model.thresholds.values():
        assert 0.0 <= value <= 1.0
    assert model.thresholds["toxicity_reject"] > model.thresholds["toxicity_hold"]
    assert model.thresholds["spam_reject"] > model.thresholds["spam_hold"]
    assert model.version and model.metadata["version"] == model.version


def test_it_scores_in_range_and_in_order(model):
    texts = ["Très bon article, merci.", "Espèce de c o n n a r d", "", "🙂" * 3,
             "CHECK OUT my channel http://spam.example WIN a FREE iphone", "x" * 5000]
    scores = model.score(texts)
    assert len(scores) == len(texts)
    for s in scores:
        assert isinstance(s, Scores)
        assert 0.0 <= s.toxicity <= 1.0 and 0.0 <= s.spam <= 1.0
        assert s.language in ("fr", "en", "other")
        assert all(0.0 <= v <= 1.0 for v in s.labels.values())
        json.dumps(s.explanation)
    assert scores[1].toxicity > scores[0].toxicity
    assert scores[4].spam > scores[0].spam
    assert scores[0].language == "fr"
    assert model.score([]) == []
    # Batching does not change a score.
    alone = model.score([texts[1]])[0]
    assert math.isclose(alone.toxicity, scores[1].toxicity, rel_tol=1e-6)


def test_it_tells_french_english_and_other_languages(model):
    texts = ["Très bon article, merci.", "Salut les gars", "Great article, thanks.",
             "Hola amigos, ¿qué tal?", "Guten Morgen zusammen", "Ciao a tutti, come state?",
             "Obrigado pela informação", "مرحبا كيف حالك", "Привет как дела", "👍👍 123"]
    expected = ["fr", "fr", "en"] + ["other"] * 7
    assert [s.language for s in model.score(texts, explain=False)] == expected


def test_it_explains_with_spans_into_the_original_text(model):
    texts = ["Ferme ta gueule, espèce de C O N N A R D !!", "t'es un gros c0nn4rd",
             "You are a complete IDIOT", "Free entry! Call 0800 now to claim your prize"]
    for text, s in zip(texts, model.score(texts), strict=True):
        assert set(s.explanation) == {"toxicity", "spam"}
        for head in ("toxicity", "spam"):
            items = s.explanation[head]
            assert len(items) <= 5
            weights = [item["weight"] for item in items]
            assert weights == sorted(weights, reverse=True)
            for item in items:
                assert 0 <= item["start"] < item["end"] <= len(text)
                assert text[item["start"]:item["end"]] == item["ngram"]
                assert item["weight"] > 0
    first = model.score([texts[0]])[0].explanation["toxicity"]
    assert any("C O N N A R D" in item["ngram"] for item in first)
    assert model.score([texts[0]], explain=False)[0].explanation == {}


def test_it_normalises_obfuscation_and_keeps_offsets():
    for raw, expected in [("C O N N A R D", "connard"), ("c0nn4rd", "connard"),
                          ("connnnnard", "connard"), ("Élève", "eleve"), ("c.o.n.n.e", "conne")]:
        norm, offsets = normalise(raw)
        assert norm == expected
        assert len(offsets) == len(norm)
        assert all(0 <= o < len(raw) for o in offsets)
    assert normalise("@user idiot!! 2024")[0] == "@user idiot!! 2024"
    for feature, start, end, _ in features("Œuvre de c0nn4rd", spans=True):
        assert 0 <= start < end <= len("Œuvre de c0nn4rd"), feature


def test_the_lexicon_matches_what_is_said_not_who_is_named():
    from moderation.classifier import lexicon
    from moderation.classifier.text import normalise_text

    def columns(text):
        return {lexicon.NAMES[k] for k, _, _ in lexicon.hits(normalise_text(text))}

    assert "insult" in columns("Quel IMB3CILE")
    assert "insult" in columns("espèce de c r é t i n")
    assert "insult" in columns("what a stuuuupid jerk")
    assert "threat" in columns("je vais t'égorger")
    assert "threat" in columns("I am going to kill you")
    assert "dehumanising" in columns("ces gens sont des cafards")
    assert "dehumanising" in columns("they are vermin")
    # Denounced or reported: the dehumanising hit moves to its own column.
    reported = columns("Écrire que les Roms sont des rats est honteux")
    assert "reported" in reported and "dehumanising" not in reported
    assert {"money", "call"} <= columns("Gagnez 500€ par jour, cliquez ici")
    # Group words alone, negations and ordinary comments match nothing toxic.
    toxic = {"insult", "insult_direct", "threat", "dehumanising"}
    for text in ("les musulmans", "Les femmes ont raison de manifester.", "women", "les juifs",
                 "Les immigrés ne sont pas des animaux.", "This song is trash",
                 "Très bon article, merci.", "I weighed the pros and the risks"):
        assert not columns(text) & toxic, text


def test_it_explains_a_lexicon_hit_with_its_span(model):
    text = "Je vais te retrouver et te faire la peau."
    [s] = model.score([text])
    spans = {item["ngram"] for item in s.explanation["toxicity"]}
    assert "te faire la peau" in spans
    for item in s.explanation["toxicity"]:
        assert text[item["start"]:item["end"]] == item["ngram"]


def test_it_vectorises_deterministically():
    from moderation.classifier.text import N_LEXICON

    a = vectorise(["un texte", "another text"], 2**10)
    b = vectorise(["un texte", "another text"], 2**10)
    assert (a != b).nnz == 0
    assert a.shape == (2, 2**10 + N_LEXICON)
    hashed = a[:, :2**10]
    assert np.allclose(np.asarray(hashed.multiply(hashed).sum(axis=1)).ravel(), 1.0)


def test_it_round_trips_the_artifact(model, tmp_path):
    out = tmp_path / "copy"
    with np.load(DEFAULT_MODEL_PATH / "weights.npz", allow_pickle=False) as npz:
        weights = {name: npz[name] for name in npz.files}
    assert {h + ".lexicon" for h in model.head_names} <= set(weights)
    save_model(out, model.metadata, weights)
    copy = load_model(out)
    assert copy is not model and copy.version == model.version
    assert copy.thresholds == model.thresholds
    texts = ["Va te faire foutre", "Bonne journée à tous"]
    assert [s.toxicity for s in copy.score(texts)] == [s.toxicity for s in model.score(texts)]
    assert load_model(out / "model.json").version == model.version


def test_it_raises_model_error_naming_the_path(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(ModelError, match="nowhere"):
        load_model(missing)
    corrupt = tmp_path / "corrupt"
    shutil.copytree(DEFAULT_MODEL_PATH, corrupt)
    (corrupt / "weights.npz").write_bytes(b"not a zip file")
    with pytest.raises(ModelError, match="corrupt"):
        load_model(corrupt)
    bad_json = tmp_path / "badjson"
    shutil.copytree(DEFAULT_MODEL_PATH, bad_json)
    (bad_json / "model.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelError, match="badjson"):
        load_model(bad_json)
    other = tmp_path / "other_version"
    shutil.copytree(DEFAULT_MODEL_PATH, other)
    meta = json.loads((other / "model.json").read_text(encoding="utf-8"))
    meta["format_version"] = 99
    (other / "model.json").write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(ModelError, match="format version"):
        load_model(other)
    # A model from before the lexicon columns (format 1, features "vigie-ngrams-1").
    old = tmp_path / "before_lexicon"
    shutil.copytree(DEFAULT_MODEL_PATH, old)
    meta = json.loads((old / "model.json").read_text(encoding="utf-8"))
    meta["format_version"], meta["feature_schema"] = 2, "vigie-ngrams-1"
    (old / "model.json").write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(ModelError, match="vigie-ngrams-1"):
        load_model(old)


def test_it_keeps_the_shipped_model_small_and_pickle_free():
    size = sum(p.stat().st_size for p in Path(DEFAULT_MODEL_PATH).iterdir())
    assert size < 5 * 1024 * 1024
    with np.load(Path(DEFAULT_MODEL_PATH) / "weights.npz", allow_pickle=False) as npz:
        assert all(npz[name].dtype != object for name in npz.files)
    meta = json.loads((Path(DEFAULT_MODEL_PATH) / "model.json").read_text(encoding="utf-8"))
    assert meta["data"]["fingerprint"]["sha256"]
    assert "train_classifier" in meta["training"]["command"]


# The behaviour cases this model is known to miss (see docs/model_card.md). The test fails if
# a case outside this list fails, and also if the list goes stale (a listed case now passes),
# so improving the model means shrinking the list.
KNOWN_BEHAVIOUR_FAILURES = {
    # Model 4.8976f9519890 (docs/model_card.md): 0.54 and 0.52 under the French hold 0.733.
    # "Ce chroniqueur est un parfait crétin." and "Quelle conne cette présentatrice." pass
    # since the person-directed insult templates (augment._person_rows).
    "Pauvre type, retourne à l'école.",
    "Fais gaffe, on va te faire ta fête à la sortie.",
}


def test_it_passes_the_behaviour_sets_at_the_hold_threshold(model):
    cases = load_behaviour()
    assert sum(c["lang"] == "fr" for c in cases) >= 60
    assert sum(c["lang"] == "en" for c in cases) >= 40
    report = behaviour_report(model, cases)
    failed = {f["text"] for f in report["failures"]}
    assert failed - KNOWN_BEHAVIOUR_FAILURES == set(), report["failures"]
    assert KNOWN_BEHAVIOUR_FAILURES - failed == set(), "known failures now pass: update the list"
    # Never hold a neutral mention of a group, counter-speech, a negation or a clean comment.
    for r in report["results"]:
        if r["expect"] == "pass":
            assert r["ok"], r


def _write_tiny_dataset(root: Path) -> None:
    """A synthetic data directory with the layout of ../shared/data (a few rows per set)."""
    rng = np.random.default_rng(0)
    fr_toxic = ["espèce de connard", "ferme ta gueule", "sale con va", "t'es un débile"]
    fr_clean = ["merci pour l'article", "très bonne analyse", "je suis d'accord", "bonne journée"]
    en_toxic = ["you are an idiot", "shut up bitch", "fuck you moron", "stupid loser"]
    en_clean = ["great article thanks", "i agree with this", "have a nice day", "well written"]
    spam = ["check out my channel", "win a free iphone now", "call now to claim prize",
            "subscribe to my channel"]

    def pick(pool, i):
        return f"{pool[i % len(pool)]} {int(rng.integers(1000))}"

    def write(rel, header, rows, delimiter=","):
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh, delimiter=delimiter)
            w.writerow(header)
            w.writerows(rows)

    n = 40
    write("davidson/labeled_data.csv", ["", "count", "hate_speech", "offensive_language",
                                         "neither", "class", "tweet"],
          [[i, 3, 0, 0, 3, 1 if i % 2 else 2,
            pick(en_toxic if i % 2 else en_clean, i)] for i in range(n)])
    for lang, tox, clean in (("en", en_toxic, en_clean), ("fr", fr_toxic, fr_clean)):
        write(f"mlma/{lang}_dataset.csv", ["HITId", "tweet", "sentiment", "directness",
                                            "annotator_sentiment", "target", "group"],
              [[i, pick(tox if i % 2 else clean, i), "offensive" if i % 2 else "normal",
                "direct", "anger", "origin", "other"] for i in range(n)])
    write("toxifrench/ToxiFrenchBalanced.csv", ["msg_id", "content", "label"],
          [[f"m{i}", pick(fr_toxic if i % 2 else fr_clean, i), i % 2] for i in range(n)])
    write("toxifrench/RTP-LX-french.csv", ["content", "label"],
          [[pick(fr_toxic if i % 2 else fr_clean, i + 7), i % 2] for i in range(n)])
    write("toxifrench/subset_jigsaw.csv",
          ["msg_id", "original_text", "toxic", "severe_toxic", "obscene", "threat", "insult",
           "identity_hate", "content"],
          [[f"j{i}", pick(en_toxic if i % 2 else en_clean, i), i % 2, 0, 0, 0, i % 2, 0,
            pick(fr_toxic if i % 2 else fr_clean, i)] for i in range(n)])
    write("toxifrench/agreement_checking.csv", ["msg_id", "annotator's conclusion", "content"],
          [[f"a{i}", f"{i % 2}.0", pick(fr_toxic if i % 2 else fr_clean, i + 3)]
           for i in range(n)])
    write("youtube_spam/01-test.csv", ["COMMENT_ID", "AUTHOR", "DATE", "CONTENT", "CLASS"],
          [[f"y{i}", "a", "2013", pick(spam if i % 2 else en_clean, i), i % 2]
           for i in range(n)])
    write("sms_spam/SMSSpamCollection.tsv", ["Label", "SMS"],
          [["spam" if i % 2 else "ham", pick(spam if i % 2 else en_clean, i + 5)]
           for i in range(n)], delimiter="\t")


def test_it_trains_end_to_end_on_a_tiny_dataset(tmp_path):
    from moderation.classifier.train import decision_rows, train_and_save

    root = tmp_path / "data"
    _write_tiny_dataset(root)
    decisions = decision_rows([("approuvé, merci", "fr", 0, 0), ("rejeté sale con", "fr", 1, None),
                               ("no label", "en", None, None)])
    assert len(decisions) == 2
    out = train_and_save(root, tmp_path / "m1", extra_rows=decisions, log=lambda _: None,
                         c_grid=(1.0,), n_features=2**12)
    model = load_model(out)
    assert model.metadata["data"]["decisions"] == 2
    [bad, good] = model.score(["espèce de connard", "merci pour l'article"])
    assert bad.toxicity > good.toxicity
    # Same data, same bytes.
    out2 = train_and_save(root, tmp_path / "m2", extra_rows=decisions, log=lambda _: None,
                          c_grid=(1.0,), n_features=2**12)
    for name in ("model.json", "weights.npz"):
        assert (out / name).read_bytes() == (out2 / name).read_bytes()


def test_it_splits_reproducibly_and_keeps_translations_together():
    rows = [datamod.Row(f"t{i}", "en", i % 2, None, "s", f"g{i // 2}") for i in range(200)]
    a, b = datamod.split(rows), datamod.split(rows)
    assert a == b
    assert sum(len(v) for v in a.values()) == 200
    where = {r.group: k for k, v in a.items() for r in v}
    for k, v in a.items():
        assert all(where[r.group] == k for r in v)


@needs_data
def test_it_loads_every_shared_set_with_its_labels():
    rows = datamod.load_all(_shared_data())
    sources = {r.source for r in rows}
    assert {"davidson", "mlma_en", "mlma_fr", "toxifrench_balanced", "rtp_lx_fr", "jigsaw_en",
            "jigsaw_fr", "toxifrench_agreement", "youtube_spam", "sms_spam"} <= sources
    parts = datamod.split(rows)
    assert {r.group for r in parts["train"]}.isdisjoint({r.group for r in parts["test"]})
    for r in rows:
        assert r.language in ("fr", "en")
        assert r.toxic in (0, 1, None) and r.spam in (0, 1, None)


@needs_data
def test_it_meets_the_bars_recorded_for_the_shipped_model(model):
    test = model.metadata["metrics"]["test"]
    assert test["toxicity"]["lang:en"]["auc"] >= 0.90
    assert test["spam"]["all"]["auc"] >= 0.97
    assert test["toxicity"]["fpr_fr_nontoxic_at_hold"] <= 0.15
    assert model.metadata["data"]["fingerprint"]["sha256"] == datamod.fingerprint(
        _shared_data())["sha256"]
