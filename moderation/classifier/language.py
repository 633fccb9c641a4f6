"""Language detection: fr / en / other, with lingua (offline, Apache-2.0).

Restricted to French, English and a few languages a French news site also sees, so that
"other" means something while detection stays fast. French vs English comes from the model's
own ``language_fr`` head (same hashed n-grams, free at scoring time; more accurate on comments
than lingua, see docs/model_card.md), or from lingua restricted to the two for a model without
it; a low-accuracy lingua screen over all the languages picks texts that may be neither, and
those alone go to the full detector: "other" only when its confidence in languages other than
French and English adds up to at least ``OTHER_MIN_CONFIDENCE`` (short comments split it:
"¿qué tal?" is es 0.51, pt 0.37). Text without a single Latin letter that lingua cannot place
is "other".
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

_LANGS = ("FRENCH", "ENGLISH", "GERMAN", "SPANISH", "ITALIAN", "PORTUGUESE", "ARABIC")
# Chosen on dev (fr / en accuracy 99.6% / 99.4%; 0.9 is a little better there but lets short
# Italian through) and on short Spanish, German, Italian, Portuguese sentences.
OTHER_MIN_CONFIDENCE = 0.85


@functools.lru_cache(maxsize=3)
def _detector(kind: str):
    from lingua import Language, LanguageDetectorBuilder

    names = ("FRENCH", "ENGLISH") if kind == "fr_en" else _LANGS
    builder = LanguageDetectorBuilder.from_languages(
        *[getattr(Language, name) for name in names]
    ).with_preloaded_language_models()
    if kind == "screen":
        builder = builder.with_low_accuracy_mode()
    return builder.build()


def _code(lang) -> str:
    if lang is None:
        return "other"
    name = lang.name
    return "fr" if name == "FRENCH" else "en" if name == "ENGLISH" else "other"


def _detect(detector, texts: list[str]) -> list:
    if len(texts) == 1:
        return [detector.detect_language_of(texts[0])]
    return detector.detect_languages_in_parallel_of(texts)


def detect_languages(texts: Sequence[str], fr_probability=None) -> list[str]:
    """"fr", "en" or "other" for each text.

    ``fr_probability``: the model's French-vs-English probability per text, if it has that
    head; without it lingua restricted to French and English decides between the two.
    """
    texts = list(texts)
    if fr_probability is not None:
        out = ["fr" if p >= 0.5 else "en" for p in fr_probability]
    else:
        out = [_code(lang) for lang in _detect(_detector("fr_en"), texts)]
    screen = _detect(_detector("screen"), texts)
    for i, lang in enumerate(screen):
        if lang is None and not any(c.isalpha() and c < "\u0250" for c in texts[i]):
            out[i] = "other"  # no Latin letter: emoji, numbers, another script
    suspects = [i for i, lang in enumerate(screen) if lang is not None and _code(lang) == "other"]
    if suspects:
        precise = _detector("all")
        for i, lang in zip(suspects, _detect(precise, [texts[i] for i in suspects]),
                           strict=True):
            if lang is None or _code(lang) != "other":
                continue
            conf = {c.language.name: c.value
                    for c in precise.compute_language_confidence_values(texts[i])}
            # Neither French nor English, however the rest splits ("¿qué tal?": es 0.51, pt 0.37).
            if 1.0 - conf.get("FRENCH", 0.0) - conf.get("ENGLISH", 0.0) >= OTHER_MIN_CONFIDENCE:
                out[i] = "other"
    return out
