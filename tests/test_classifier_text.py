"""The canonical form of text (issue 10 item 1): what the n-grams, the lexicon, the encoder and
the site's word lists see, and the spans back into the comment as written."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from moderation import policy
from moderation.classifier import lexicon
from moderation.classifier.text import _FOLD, _LEET, _is_mark, canonical, features, normalise_text

ZW = "\u200b"
RLO, PDF = "\u202e", "\u202c"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # Invisible and format characters (Cf), variation selectors, noise marks.
        ("c" + ZW + "o" + ZW + "n" + ZW + "n" + ZW + "a" + ZW + "r" + ZW + "d", "connard"),
        ("con\u00adnard", "connard"),  # soft hyphen
        ("\ufeffcon\u2060nard\u200d", "connard"),  # BOM, word joiner, zero-width joiner
        ("con\u2066nard\u2069", "connard"),  # bidi isolate
        ("c\ufe0fo\ufe0fn", "con"),  # variation selectors
        ("c\u0338o\u0338n\u0338n\u0338a\u0338r\u0338d\u0338", "connard"),  # combining overlay
        # Look-alike letters, from Unicode's confusables.
        ("vеndu", "vendu"),  # Cyrillic е
        ("соnnаrd", "connard"),  # Cyrillic с, о, а
        ("ΡUΤΕ", "pute"),  # Greek capitals
        ("ιdιοt", "idiot"),  # Greek iota, omicron
        # Compatibility forms (NFKD): fullwidth, mathematical alphanumerics.
        ("ｃｏｎｎａｒｄ", "connard"),
        ("𝐜𝐨𝐧𝐧𝐚𝐫𝐝", "connard"),
        ("𝓬𝓸𝓷𝓷𝓪𝓻𝓭", "connard"),
        # Reversed under a right-to-left override: read as displayed.
        (RLO + "drannoc" + PDF, "connard"),
        ("Espèce de " + RLO + "drannoc", "espece de connard"),
        (RLO + "eticèpse" + PDF + " ok", "especite ok"),
        # Spelt-out letters joined, whatever the separator.
        ("c.o.n.n.a.r.d", "connard"),
        ("c o n n a r d", "connard"),
        ("c - o - n - n - a - r - d", "connard"),
        ("c_o_n_n_a_r_d", "connard"),
        ("c🤬o🤬n🤬n🤬a🤬r🤬d", "connard"),
        ("c💩💩o💩💩n", "con"),
        # Leetspeak and repeats as before.
        ("c0nn4rd", "connard"),
        ("connnnnard", "connard"),
        ("Élève", "eleve"),
    ],
)
def test_it_undoes_evasions(raw, expected):
    assert normalise_text(raw) == expected
    assert canonical(raw).text == expected


@pytest.mark.parametrize(
    "text",
    [
        "Il y a à manger.",  # one-letter French words are words
        "a b",  # two single letters are not a word
        "Le 12 mai à 14 h 30.",
        "Prix : 3,5 € le kilo, soit 2 à 3 fois moins.",
        "@user idiot!! 2024",
        'Un "mot" entre guillemets, l\'autre.',
        "Les élèves de 6e B et de 2e C, la classe A.",
    ],
)
def test_it_leaves_ordinary_words_apart(text):
    out = normalise_text(text)
    assert out.split() == [w for w in text.translate(_FOLD).split()], out


def test_it_keeps_the_spans_of_the_text_as_written():
    text = "Espèce de c" + ZW + "оnnаrd !"
    c = canonical(text)
    word = c.text.index("connard")
    start, end = c.span(word, word + len("connard"))
    assert text[start:end] == "c" + ZW + "оnnаrd"
    reversed_text = "Quel " + RLO + "toidi" + PDF + "."
    c = canonical(reversed_text)
    a = c.text.index("idiot")
    start, end = c.span(a, a + 5)
    assert reversed_text[start:end] == "toidi"
    # A letter and its combining accent are one character: the span covers both.
    decomposed = "e\u0301cole"
    c = canonical(decomposed)
    assert c.text == "ecole" and decomposed[c.starts[0] : c.ends[0]] == "e\u0301"
    for _, start, end, _ in features("Œuvre de c" + ZW + "0nn4rd", spans=True):
        assert 0 <= start < end <= len("Œuvre de c" + ZW + "0nn4rd")


# Random strings mixing what the canonical form treats specially.
_ALPHABET = st.sampled_from(
    list("abcdeoinrsl ACDE.-_*'\",!?:01345@$€|é")
    + [
        "e\u0301",
        "\u0338",
        ZW,
        "\u00ad",
        "\u2060",
        "\ufe0f",
        RLO,
        PDF,
        "\u2069",
        "\n",
        "оаеΡ",
        "ｃ",
        "𝐜",
        "🤬",
        "œ",
        "ß",
        "İ",
        "\u3164",
        "ﬁ",
        "«",
        "»",
        "  ",
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_ALPHABET, max_size=40).map("".join))
def test_every_canonical_character_maps_back_to_its_original_span(text):
    c = canonical(text)
    assert c.text == normalise_text(text)
    assert len(c.starts) == len(c.ends) == len(c.text)
    for i, ch in enumerate(c.text):
        start, end = c.starts[i], c.ends[i]
        assert 0 <= start < end <= len(text)
        # The span stops at a character boundary (a mark belongs to the letter before it) ...
        assert end == len(text) or not _is_mark(text[end]) or not text[end - 1].isalnum()
        # ... and holds what this character was folded from (or its leetspeak letter).
        source = text[start:end].translate(_FOLD)
        assert ch in source or ch in "".join(_LEET.get(x, x) for x in source), (ch, source)
    for a in range(len(c.text)):
        for b in range(a + 1, min(len(c.text), a + 6) + 1):
            start, end = c.span(a, b)
            assert 0 <= start < end <= len(text)


def test_the_lexicon_sees_through_evasions():
    def columns(text):
        return {lexicon.NAMES[k] for k, _, _ in lexicon.hits(normalise_text(text))}

    for text in (
        "Espèce de c" + ZW + "o" + ZW + "n" + ZW + "n" + ZW + "a" + ZW + "r" + ZW + "d",
        "Espèce de соnnаrd",
        "Espèce de " + RLO + "drannoc" + PDF,
        "Espèce de c🤬o🤬n🤬n🤬a🤬r🤬d",
        "Espèce de c.o.n.n.a.r.d",
    ):
        assert "insult_direct" in columns(text), text


def test_the_sites_word_lists_see_through_evasions():
    # Failed before the fix: both were published as clean (issue 10).
    assert policy.find_word("vendu", "Ce journaliste est ven\u200bdu.") == "vendu"
    assert policy.find_word("vendu", "Ce journaliste est vеndu.") == "vendu"
    assert policy.find_word("vendu", "Ce journaliste est v.e.n.d.u") == "vendu"
    assert policy.find_word("Vendu\nfils de pute", "un fils de p" + ZW + "ute") == "fils de pute"
    # The word as the site listed it, and still whole words only.
    assert policy.find_word("Vendus", "ils sont VENDUS") == "Vendus"
    assert policy.find_word("vendu", "un vendeur") is None
    assert policy.find_word("con", "une conférence") is None


def test_explanations_leave_out_stop_words_but_keep_their_pairs():
    from moderation.classifier import load_model
    from moderation.classifier.model import stop_words

    assert {"es", "un", "la", "le", "de", "the", "a"} <= stop_words()
    assert not {"con", "idiot", "call", "fire", "tuer"} & stop_words()
    model = load_model()
    texts = [
        "Tu es un idiot et la pire des ordures.",
        "The mayor is a clown, a total clown.",
        "Je ne dis pas que tu es un idiot.",
    ]
    for text, scores in zip(texts, model.score(texts), strict=True):
        for head in ("toxicity", "spam"):
            ngrams = [item["ngram"].lower() for item in scores.explanation[head]]
            singles = [n for n in ngrams if " " not in n]
            assert not set(singles) & stop_words(), (text, head, ngrams)
    tox = [item["ngram"] for item in model.score([texts[0]])[0].explanation["toxicity"]]
    assert any(" " in n for n in tox)  # pairs are still there


# -- sentences (the padding evasion, issue 10) ------------------------------------------------
def test_it_splits_a_comment_into_its_sentences():
    from moderation.classifier.text import sentences

    assert sentences("Bonjour à tous. Tu es un vrai connard ! Et alors ?") == [
        "Bonjour à tous.", "Tu es un vrai connard !", "Et alors ?"]
    assert sentences("Line one here\nline two there") == ["Line one here", "line two there"]
    # One sentence, or one sentence and a scrap: nothing to score apart.
    assert sentences("Tu es un connard.") == []
    assert sentences("Tu es un connard. Ok.") == []
    # Letters split by dots are a word, not sentences; decimals are not ends either.
    assert sentences("Espèce de c.o.n.n.a.r.d va. Il a 3.5 ans") == [
        "Espèce de c.o.n.n.a.r.d va.", "Il a 3.5 ans"]


def test_a_sentence_without_its_full_stop_ends_before_a_sentence_start():
    from moderation.classifier.text import sentences

    assert sentences("tu es un conard fini J'ai lu cet article ce matin") == [
        "tu es un conard fini", "J'ai lu cet article ce matin"]
    assert sentences("you are an i d i o t I read this on the train") == [
        "you are an i d i o t", "I read this on the train"]
    # A name is not a sentence start; nor is a capital after punctuation that is not an end.
    assert sentences("Je pense que Macron a raison sur ce point") == []
    assert sentences("Bien vu, Je suis d'accord avec vous") == []
    # Inside quotation marks the frame still holds the quotation.
    assert sentences("« tu es nul Je le dis » a-t-il écrit hier soir") == []


def test_a_quoted_sentence_stays_with_its_frame():
    from moderation.classifier.text import sentences

    # Counter-speech: the quotation is judged with the sentence that condemns it.
    assert sentences("« Les migrants sont des parasites. » Voilà ce qu'on lit ici, c'est honteux.") == []
    assert sentences('Il a écrit "ce sont des parasites. Tous." et personne ne dit rien.') == []
    assert sentences("« Ils sont nuls. » dit-il. Je ne suis pas d'accord du tout.") == [
        "« Ils sont nuls. » dit-il.", "Je ne suis pas d'accord du tout."]


def test_clean_padding_does_not_dilute_a_toxic_sentence():
    # Failed before (model 4.6467e4962893): 80% of the evasion suite's toxic cases held once
    # padded with a clean sentence; the model scores each sentence and keeps the highest.
    from moderation.classifier import load_model
    from moderation.classifier.evaluate import cascade_scores
    from moderation.classifier.evasion import _PAD

    model = load_model()
    assert model.sentence_heads, "the shipped model scores sentences"
    # Each was published once padded (0.40, 0.43 and 0.36 against holds of 0.71 and 0.54).
    toxic = {"Ces pédés devraient crever.": "fr",
             "Encore un sale bougnoule qui vient nous emmerder.": "fr",
             "Get out of here you filthy faggot.": "en"}
    alone, _, langs = cascade_scores(model, list(toxic))
    padded, _, _ = cascade_scores(model, [t + " " + _PAD[lang] for t, lang in toxic.items()]
                                  + [_PAD[lang] + " " + t for t, lang in toxic.items()])
    assert langs == list(toxic.values())
    for k, lang in enumerate(langs):
        hold = model.thresholds_for(lang)["toxicity_hold"]
        assert alone[k] >= hold
        assert padded[k] >= hold and padded[k + len(toxic)] >= hold, (list(toxic)[k], padded)


def test_padding_after_a_sentence_with_no_full_stop_does_not_dilute_it():
    # Failed on model 4.275595ae7098: with no full stop before the clean padding, the toxic
    # words and the padding were one sentence ("tu es un conard fini J'ai lu..." 0.684 under
    # the French hold 0.740; "you are an i d i o t I read..." 0.070).
    from moderation.classifier import load_model
    from moderation.classifier.evaluate import cascade_scores
    from moderation.classifier.evasion import _PAD

    model = load_model()
    toxic = {"tu es un conard fini": "fr", "you are an i d i o t": "en",
             "stfu you f4gg0t": "en"}
    padded, _, langs = cascade_scores(model, [t + " " + _PAD[lang] for t, lang in toxic.items()])
    assert langs == list(toxic.values())
    for k, lang in enumerate(langs):
        assert padded[k] >= model.thresholds_for(lang)["toxicity_hold"], (list(toxic)[k], padded)
