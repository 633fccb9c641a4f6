"""Personal data in a comment: phone numbers, e-mail addresses, IBANs and French street
addresses, as spans into the comment as written (issue 10 item 4).

Phone numbers are Google's libphonenumber's (``phonenumbers``: French national formats by
default, any country in international format, only numbers valid for their country), not a
regex of ours; an IBAN must pass its mod-97 check. Each finder is behind a cheap pre-check
(enough digits, an "@", a street word), so a comment without any costs a few regex scans.
False positives hold a clean comment for a moderator: dates, prices, years, article and law
numbers, scores and postcodes alone are not personal data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers

PHONE, EMAIL, IBAN, ADDRESS = "phone", "email", "iban", "address"
REGION = "FR"

_DIGITS = re.compile(r"\d")
# Eight digits or more in a row, apart by phone-number punctuation at most: worth asking
# libphonenumber (which costs ~1 ms a comment).
_PHONE_HINT = re.compile(r"\d(?:[\s.\-()]{0,3}\d){7,}")
_EMAIL = re.compile(
    r"(?<![\w.+-])[\w.+-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.[A-Za-z]{2,24}(?![\w-])"
)
# Two capital letters, two check digits, then 11 to 30 capitals or digits, in groups of 4
# (spaced, dashed or not).
_IBAN = re.compile(
    r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?:[ \-]?[A-Z0-9]{4}){2,7}(?:[ \-]?[A-Z0-9]{1,3})?"
    r"(?![A-Za-z0-9])"
)
# A number (bis, ter...), a kind of street, then its name (up to six words, articles allowed),
# optionally a postcode and a city. Some kinds are also everyday words ("12 cours de maths",
# "3 places"): their name must start with a capital letter.
_NUMBER = r"(?<![\w,.])\d{1,4}(?:\s?(?:bis|ter|quater|[A-Da-d])(?![\w]))?,?\s+"
_STREET = (
    r"rue|avenue|av\.|boulevard|bd|bld|boul\.|all[ée]e|impasse|quai|chemin|faubourg"
    r"|fbg|rond-point|lotissement|ruelle|mont[ée]e"
)
_STREET_CAPITALISED = (
    r"place|cours|route|passage|square|voie|villa|cit[ée]|r[ée]sidence|parvis"
    r"|promenade|esplanade|hameau|sentier|lieu-dit"
)
_ARTICLE = r"(?:de\s+la\s+|de\s+l['’]|du\s+|des\s+|de\s+|d['’]|la\s+|le\s+|les\s+|l['’])?"
_NAME_WORD = r"[^\W\d_][\w'’\-]*"
_CAP_WORD = r"[A-ZÀ-ÖØ-Þ0-9][\w'’\-]*"
_TAIL = (
    rf"(?:\s+(?:(?:de\s+la|de|du|des|la|le|les|et|sur|en)(?![\w'’])|d['’]|l['’]|{_NAME_WORD}))"
    r"{0,5}"
    r"(?:,?\s+\d{5}(?:\s+[A-ZÀ-Ö][\w'’\-]*(?:[\s\-]+[A-ZÀ-Ö][\w'’\-]*){0,3})?)?"
)
_ADDRESS = re.compile(
    rf"{_NUMBER}(?:(?i:{_STREET})\s+{_ARTICLE}{_NAME_WORD}"
    rf"|(?i:{_STREET_CAPITALISED})\s+{_ARTICLE}{_CAP_WORD}){_TAIL}"
)
_STREET_HINT = re.compile(
    rf"\d(?:\s?(?i:bis|ter|quater|[a-d]))?\s*,?\s+(?i:{_STREET}|{_STREET_CAPITALISED})(?![\w])"
)
# Words that end the street's name: a verb or preposition after it is the sentence again.
_STOP_AFTER = re.compile(
    r"\s+(?:à|a|au|aux|chez|dans|pour|avec|ou|mais|est|sont|qui|que|il"
    r"|elle|on|je|tu|nous|vous|ils|elles|depuis|près|pres|vers|en|demain"
    r"|hier|ce|cette|ici|là|la-bas|là-bas|ce soir|si|quand|tous|toutes"
    r"|tout)(?:\s.*)?$",
    re.S | re.I,
)

_DANGLING = re.compile(r"(?:\s+(?:de\s+la|de|du|des|la|le|les|et|sur|en|d['’]|l['’]))+$", re.I)


@dataclass(frozen=True)
class Finding:
    kind: str
    start: int
    end: int
    text: str


def iban_valid(candidate: str) -> bool:
    """The ISO 13616 mod-97 check of an IBAN (spaces and dashes ignored)."""
    s = re.sub(r"[ \-]", "", candidate).upper()
    if not (15 <= len(s) <= 34) or not s[:2].isalpha() or not s[2:4].isdigit():
        return False
    digits = "".join(str(int(c, 36)) for c in s[4:] + s[:4])
    return int(digits) % 97 == 1


def find(text: str) -> list[Finding]:
    """Every piece of personal data in ``text``, in order, as spans of ``text``."""
    out: list[Finding] = []
    n_digits = len(_DIGITS.findall(text)) if any(c.isdigit() for c in text) else 0
    if n_digits >= 8 and _PHONE_HINT.search(text):
        for m in phonenumbers.PhoneNumberMatcher(text, REGION, leniency=phonenumbers.Leniency.VALID):
            out.append(Finding(PHONE, m.start, m.end, m.raw_string))
    if "@" in text:
        out.extend(Finding(EMAIL, m.start(), m.end(), m.group()) for m in _EMAIL.finditer(text))
    if n_digits >= 4:
        for m in _IBAN.finditer(text):
            if iban_valid(m.group()):
                out.append(Finding(IBAN, m.start(), m.end(), m.group()))
    if n_digits and _STREET_HINT.search(text):
        for m in _ADDRESS.finditer(text):
            found = _DANGLING.sub("", _STOP_AFTER.sub("", m.group()).rstrip(" ,."))
            out.append(Finding(ADDRESS, m.start(), m.start() + len(found), found))
    # An IBAN's digits can look like a phone number: keep the longer of overlapping finds.
    out.sort(key=lambda f: (f.start, -(f.end - f.start)))
    kept: list[Finding] = []
    for f in out:
        if kept and f.start < kept[-1].end:
            continue
        kept.append(f)
    return kept


def explanation(findings: list[Finding]) -> list[dict]:
    """The explanation's ``personal_data`` head: spans the admin highlights."""
    return [
        {"ngram": f.text, "start": f.start, "end": f.end, "kind": f.kind, "weight": 1.0} for f in findings
    ]
