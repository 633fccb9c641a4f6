"""No cheap flips (issue 10 item 3): a counter-speech or quotation cue lowers a score only for
the clause it frames, never when the comment endorses what it quotes; negation is a feature
the model learns; idiomatic French threats are threats. And the evasion suite built on them."""

from __future__ import annotations

import re

import pytest

from moderation.classifier import evasion, lexicon
from moderation.classifier.text import features, normalise_text


def columns(text: str) -> set[str]:
    return {lexicon.NAMES[k] for k, _, _ in lexicon.hits(normalise_text(text))}


# Each failed before the fix (the quotes or the cue moved the hit to "reported", or the
# threat was not in the lexicon).
@pytest.mark.parametrize(
    ("text", "column"),
    [
        ("« Les migrants sont des parasites. »", "dehumanising"),
        ('"Les migrants sont des parasites."', "dehumanising"),
        ("« Les migrants sont des parasites », c'est honteux de ne pas le dire.", "dehumanising"),
        (
            "« Ces Russes sont des sous-hommes, il faudrait tous les éliminer » : je le dis et je le répète.",
            "threat",
        ),
        ("Les Roms sont des rats, c'est vrai et j'assume.", "dehumanising"),
        ("Je vais te tuer. C'est honteux.", "threat"),
        ("Il faut tous les fusiller, ces traîtres. C'est honteux ce qu'ils ont fait.", "threat"),
        ('"Immigrants are vermin." I said it and I\'ll say it again.', "dehumanising"),
        ("I will kill you. It's shameful.", "threat"),
        # Idioms.
        ("Si je croise ce traître de député, je lui fais la peau.", "threat"),
        ("Je vais lui faire la peau.", "threat"),
        ("On va brûler ta maison, tu verras.", "threat"),
        ("Je sais où il habite.", "threat"),
        ("Je sais où tu habites.", "threat"),
        ("Tu vas le regretter.", "threat"),
        ("On va te retrouver.", "threat"),
        ("I know where he lives.", "threat"),
        ("We will burn your house down.", "threat"),
    ],
)
def test_a_cue_that_frames_nothing_flips_nothing(text, column):
    found = columns(text)
    assert column in found, found
    assert "reported" not in found, found


@pytest.mark.parametrize(
    "text",
    [
        "Dire que « les migrants sont des parasites » est honteux.",
        "« Les Roms sont des rats » : voilà ce qu'on lit sur ce forum, c'est inacceptable.",
        "Écrire que les Roms sont des rats est honteux.",
        "Écrire « il faudrait tous les éliminer » sur le mur d'une école, c'est inacceptable.",
        "Ceux qui écrivent que les Roms sont de la vermine devraient avoir honte.",
        "Il faut dénoncer ceux qui crient « mort aux juifs » dans les manifestations.",
        'Saying that "refugees are vermin" is shameful.',
        # Counter-speech quoted and endorsed is still counter-speech.
        "« Dire que « les migrants sont des parasites » est honteux » : je le dis et je le répète.",
    ],
)
def test_counter_speech_moves_the_hit_it_frames(text):
    found = columns(text)
    assert "reported" in found and not found & {"threat", "dehumanising"}, found


def test_the_counter_cue_of_a_cheap_flip_is_dropped():
    assert "counter" not in columns("Ce chroniqueur est un parfait crétin, c'est honteux.")
    assert "counter" not in columns("« Les migrants sont des parasites », c'est honteux de ne pas le dire.")
    # Without anything toxic it stays what it was.
    assert "counter" in columns("Le racisme envers les Roms doit cesser.")


def test_negation_is_a_feature_not_a_penalty():
    # Failed before the fix: "tu es un idiot" counted as an insult inside the denial.
    text = "Je ne dis pas que tu es un idiot, je dis que ton argument ne tient pas."
    found = columns(text)
    assert not found & {"insult", "insult_direct"} and "negation" in found, found
    words = [f for f in features(text) if f.startswith("w:")]
    assert "w:NEG_idiot" in words and "w:idiot" not in words
    assert "w:je" in words and "w:argument" in words  # after the comma: not negated
    # Restrictive "ne ... que" is no denial; the clause after a comma is not denied.
    assert "insult" in columns("Tu n'es qu'un idiot.")
    assert "w:idiot" in features("Tu n'es qu'un idiot.")
    assert "insult" in columns("T'es pas un idiot, t'es un gros con.")
    assert "insult" not in columns("I'm not saying you're an idiot, I'm saying you are wrong.")
    # A toxic phrase that carries its own negation stays toxic.
    assert "dehumanising" in columns("Ils ne sont pas des êtres humains.")
    assert "dehumanising" in columns("They are not human.")


def test_idioms_do_not_catch_ordinary_sentences():
    for text in (
        "Je sais où trouver l'info.",
        "Il habite à Lyon, je crois.",
        "Je ne regrette rien.",
        "On va retrouver la croissance.",
        "Ma grand-mère a fait la peau de lapin au four.",
    ):
        assert not columns(text) & {"threat", "dehumanising"}, text


def test_the_evasion_suite_covers_every_case_under_every_transformation():
    cases = evasion.load_base_cases()
    generated = evasion.suite(cases)
    toxic = sum(c["expect"] == "hold" for c in cases)
    names = set(evasion.TRANSFORMATIONS)
    for name in names:
        of = [g for g in generated if g["transformation"] == name]
        assert of, name
        assert sum(g["expect"] == "hold" for g in of) >= 0.9 * toxic
    # "Must not hold" cases never get the condemning suffix (it changes what they say).
    assert not [g for g in generated if g["expect"] == "pass" and g["transformation"] == "condemning_suffix"]
    # The character-level ones are what the canonical form undoes (on texts not already
    # obfuscated: "s a l 3 p.u.t.e" has two spellings side by side).
    for g in generated:
        if g["category"] != "obfuscated" and g["transformation"] in (
            "zero_width",
            "look_alikes",
            "rlo_reversed",
            "dotted",
            "emoji_between",
            "spaced",
        ):
            if g["transformation"] == "spaced" and re.search(r"[ay] \w\w", g["text"]):
                continue  # "f i l t h y faggot": a spaced "y" or "a" before a word is a word
            assert normalise_text(g["text"]).split() == normalise_text(g["original"]).split(), g
    by_name = {
        g["transformation"]: g["text"]
        for g in generated
        if g["original"] == "Espèce de connard, tu ne comprends rien à rien."
    }
    assert by_name["dotted"] == "Espèce de c.o.n.n.a.r.d, tu ne comprends rien à rien."
    assert by_name["rlo_reversed"].startswith("\u202e.neir")
    assert "\u200b" in by_name["zero_width"] and by_name["look_alikes"] != by_name["original"]


def test_it_reports_per_transformation(tmp_path):
    from moderation.classifier import load_model
    from tests.tiny_model import write_tiny_model

    model = load_model(write_tiny_model(tmp_path / "m", toxic_words=("connard", "parasites")))
    report = evasion.evasion_report(model)
    assert set(report["transformations"]) == set(evasion.TRANSFORMATIONS)
    for s in report["transformations"].values():
        assert s["toxic"] > 0 and 0.0 <= s["held_share"] <= 1.0
    assert report["failures"]
    text = evasion.format_evasion(report, failures=True)
    assert "zero_width" in text and "failures:" in text


def test_the_shipped_model_decides_the_issues_cheap_flips_right():
    # Failed before the fix: the quoted, the endorsed, the "c'est honteux" and the idiomatic
    # threats were published, the negated sentence held (issue 10).
    from moderation.classifier import load_model
    from moderation.classifier.evaluate import behaviour_report

    cases = [c for c in evasion.load_base_cases() if c["base"] == "cheap_flips.json"]
    report = behaviour_report(load_model(), cases)
    assert report["failures"] == [], report["failures"]
