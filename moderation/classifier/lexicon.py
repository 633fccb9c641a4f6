"""A small curated lexicon, matched on the normalised text, turned into a few feature columns.

Written for Vigie from general knowledge of French and English abuse (not copied from any
keyword list or data set): direct insults, threats of violence, dehumanising predicates
("... sont des cafards", "... are vermin"), and cues of counter-speech / negation; plus
spam cues (money amounts, calls to click or subscribe, in both languages). Identity and
group words are deliberately **not** in it: "les musulmans", "women" match nothing; only what
is said about someone does.

The patterns run on :func:`text.normalise` output (lowercase, accents folded, leetspeak,
spaced letters and repeats undone), so "C0NN4RD", "i m b e c i l e" and "crééétin" match.
Each column is the (capped) number of hits of its patterns; the linear heads learn a weight
per column alongside the hashed n-grams, so calibration and thresholds are learnt as before.
A hit keeps its span, so the explanation can point at it.
"""

from __future__ import annotations

import re

_DOUBLE = re.compile(r"([a-z])\1+")


def _split_top(alternation: str) -> list[str]:
    """The top-level alternatives of a regex source."""
    parts, depth, cur, i = [], 0, [], 0
    while i < len(alternation):
        c = alternation[i]
        if c == "\\":
            cur.append(alternation[i:i + 2])
            i += 2
            continue
        depth += c in "([" or -(c in ")]")
        if c == "|" and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    parts.append("".join(cur))
    return parts


def _alt(alternation: str) -> str:
    """A pattern source squeezed like the text (see ``_squeeze``), its top-level alternatives
    grouped by their first letter: the same matches (alternatives with different first
    letters never match at the same place), about twice as fast with Python's ``re``."""
    groups: dict[str | None, list[str]] = {}
    for part in _split_top(_DOUBLE.sub(r"\1", alternation)):
        key = part[0] if part[:1].isalpha() and part[1:2] not in ("?", "*", "+", "{") else None
        groups.setdefault(key, []).append(part)
    out: list[str] = []
    for key, parts in groups.items():
        if key is None or len(parts) == 1:
            out.extend(parts)
        else:
            out.append(key + "(?:" + "|".join(p[1:] for p in parts) + ")")
    return "|".join(out)


# -- word lists (normalised spelling: lowercase, no accents) ---------------------------------

_FR_INSULTS = _alt(
    r"abrutie?s?|imbeciles?|cretins?|cretine?s?|connards?|connasses?|conn?ards?|salopes?"
    r"|salauds?|debiles?|idiote?s?|stupides?|encule(?:e|s|es)?|enfoire(?:e|s|es)?|batards?"
    r"|pouffiasses?|putes?|petasses?|trou du cul|trouducs?|tocards?|blaireaux?|blaireau"
    r"|minables?|ordures?|raclures?|pourritures?|fils de pute|grosse? merde|tete de con"
    r"|con|conne?s?|couillons?|nazes?|demeuree?s?|attarde(?:e|s|es)?|neuneus?|bouffons?"
    r"|guignols?|gogols?|mongols?|baltringues?|branleurs?|branquignols?|clowns?"
    r"|charognes?|deglingues?|tares?|taree?s?|ducons?|pignoufs?|merdeux|merdeuses?"
)
_EN_INSULTS = _alt(
    r"idiots?|morons?|imbeciles?|stupid|dumbass(?:es)?|dumb|retards?|retarded|assholes?"
    r"|arseholes?|bitch(?:es)?|cunts?|dickheads?|dicks?|douche ?bags?|jerks?|losers?"
    r"|scumbags?|scum|shitheads?|pieces? of shit|twats?|wankers?|fuckers?|motherfuckers?"
    r"|sluts?|whores?|bastards?|clowns?|cretins?|halfwits?|dimwits?|nitwits?|pricks?"
    r"|numbskulls?|pathetic|worthless|useless"
)
# A direct insult: the word used to address or describe someone.
_FR_ADDRESS = (
    r"(?:espece d'?e?|sale|gros(?:se)?|pauvre|bande d'?e?|quel(?:le)?s?(?: gros(?:se)?)?"
    r"|t ?'?es(?: vraiment)?(?: qu'?u?n?e?)?(?: un| une)?|tu es(?: vraiment)?(?: un| une)?"
    r"|vous etes(?: des)?|c'?est(?: vraiment)? un(?:e)?|ce|cette|ces|sont des|est un(?:e)?"
    r"|espece|gros|vieux|vieille|petite?|p'?tit)"
)
_EN_ADDRESS = (
    r"(?:you(?: are|'re| r)?(?: such)?(?: a| an| the)?(?: complete| total| fucking| stupid"
    r"| little| dumb| pathetic| worthless)*|what an?(?: complete| total| fucking| pathetic)?"
    r"|such an?|is an?(?: complete| total| fucking| pathetic)?|are(?: all)?|bunch of"
    r"|this|that|these|those|ur|u)"
)

# Threats of violence (the speaker, "we" or "someone" acting on "you" / "them").
_FR_HARM_VERBS = _alt(
    r"tuer|buter|crever|defoncer|egorger|massacrer|fracasser|eclater|abattre|fusiller|pendre"
    r"|bruler|gazer|exterminer|lyncher|decapiter|poignarder|planter|flinguer|descendre"
    r"|saigner|etrangler|noyer|liquider|eliminer|cramer|tabasser|demolir|depecer|violer"
    r"|casser (?:la gueule|les dents|la tete)|faire la peau|faire sauter|regler (?:ton|son|leur)"
    r" compte"
)
_FR_THREAT = _alt(
    rf"(?:je|j'|on|nous|ils|quelqu'un|il faut|faut|faudrait|on devrait|il faudrait|on va|je vais"
    rf"|vais) ?(?:va |vais |vas |devrait |devraient |doit |faut |pourrait )?(?:tous |toutes )?"
    rf"(?:te|t'|vous|les|le|la|l'|leur)(?: tous| toutes)? ?(?:{_FR_HARM_VERBS})"
    rf"|(?:je|on) (?:te|vous|les) (?:tue|bute|creve|defonce|egorge|massacre|descend|plante"
    rf"|retrouve|retrouverai|crame|tabasse|fume|allume|saigne)s?\b"
    rf"|(?:te|t') ?(?:{_FR_HARM_VERBS})|faire la peau|t'?egorger|te saigner|t'?etrangler"
    rf"|balle dans (?:la|ta|sa|leur) tete"
    rf"|mort aux?|a mort les?|(?:tu vas|vous allez) (?:crever|mourir|payer|souffrir|le regretter)"
    rf"|je sais ou tu (?:habites|vis|dors|travailles)|(?:creve|crevez)(?: sale)?|au bucher"
    rf"|(?:il faut|faut|faudrait|on devrait) (?:tous )?les (?:tuer|pendre|fusiller|gazer|bruler"
    rf"|exterminer|eliminer|abattre|noyer|buter|deporter|virer a coups)"
)
_EN_HARM_VERBS = _alt(
    r"kill|murder|stab|shoot|beat|hurt|strangle|hang|lynch|slaughter|butcher|gut|burn|gas"
    r"|exterminate|behead|slit|rape|torture|destroy|smash|choke|drown|execute|bash|break"
    r"|hunt down"
)
_EN_THREAT = _alt(
    rf"(?:i|i'll|i will|i'm going to|im going to|i am going to|i'm gonna|im gonna|gonna|we will"
    rf"|we'll|we should|someone should|somebody should|they should|should|let's|lets|i'd|i would"
    rf"|i want to|i wanna) ?(?:{_EN_HARM_VERBS}) (?:you|u|ya|them|him|her|that|those|these|all"
    rf"|every|your)"
    rf"|(?:kill|murder|stab|shoot|hang|lynch|gas|burn) (?:you|u|yourself|them all|all of them)"
    rf"|to death|in the head|slit your throat|die in a (?:fire|ditch|hole)|i hope you die"
    rf"|you (?:will|'ll|are going to|gonna) (?:die|pay|regret|suffer|bleed)"
    rf"|i know where you (?:live|sleep|work)|(?:should|deserve to|need to|ought to) be (?:shot"
    rf"|hanged|hung|killed|lynched|gassed|burned|exterminated|executed|put down|beaten)"
    rf"|coming for you|watch your back|put a bullet|a bullet in|death to"
)

# Dehumanising: a predicate that makes people animals, vermin, disease or filth.
_FR_VERMIN = _alt(
    r"rats?|cafards?|parasites?|animaux|animal|betes|vermines?|porcs?|chiens?|singes?"
    r"|sous[ -]?hommes?|dechets?|ordures?|microbes?|virus|cancer|sauvages?|primates?|cloportes?"
    r"|punaises?|poux|rongeurs?|nuisibles?|sangsues?|chacals|hyenes?|bestiaux|macaques?"
    r"|gangrene|peste|racaille|bacteries?|moustiques?|fleau|sous[ -]?races?"
)
_FR_DEHUMANISING = _alt(
    rf"(?:sont|etes|c'?est|ce sont|restent|resteront)(?: tous| toutes| vraiment| juste"
    rf"| rien)?(?: que| qu')? ?(?:des|de la|de vrais|de vraies|une|un|du|de|d')? ?"
    rf"(?:{_FR_VERMIN})\b"
    rf"|(?:ne sont|n'?est|ne sont rien d'autre) (?:que|qu') ?(?:des|de la|une|un|du)? ?"
    rf"(?:{_FR_VERMIN})\b"
    rf"|pas des (?:etres )?humains|pas humains|(?:exterminer|eradiquer|deratiser|nettoyer"
    rf"|desinfecter) (?:ces|les|cette|tous)|(?:qu'?il faut|a) (?:exterminer|eradiquer|deratiser)"
)
_EN_VERMIN = _alt(
    r"animals?|vermin|rats?|cockroaches|roaches|parasites?|pigs?|dogs?|apes?|monkeys?"
    r"|subhumans?|sub-humans?|savages?|filth|a disease|a plague|a cancer|cancer"
    r"|a virus|insects?|beasts?|leeches|locusts|swine|primates?|mongrels?|scum|germs|pests?"
    r"|an infestation|infestation"
)
_EN_DEHUMANISING = _alt(
    rf"(?:are|r|is|they're|theyre|were) (?:all |just |nothing but |only |like )?(?:a )?"
    rf"(?:bunch of |pack of |plague of |horde of )?(?:dirty |filthy |disgusting )?"
    rf"(?:{_EN_VERMIN})\b"
    rf"|not (?:even )?(?:human|humans|people)\b|less than human|exterminated|exterminate"
    rf"|eradicated|wipe them out|wiped out"
)

# Counter-speech and negation: quoting or reporting hate to denounce it, or denying.
_FR_COUNTER = _alt(
    r"(?:dire|disent|affirmer|affirment|ecrire|ecrivent|ecrit|repeter|repetent|pretendre"
    r"|pretendent|crier|crient|scander) (?:que|qu')"
    r"|traiter (?:quelqu'?un|qqn|les|des|une?) (?:de|d')|comparer"
    r"|est (?:honteux|inacceptable|inadmissible|intolerable|scandaleux|du racisme|raciste)"
    r"|sont (?:honteux|honteuses|inacceptables|inadmissibles|intolerables|scandaleux)"
    r"|c'?est (?:honteux|inacceptable|inadmissible|du racisme|raciste)|je (?:condamne|denonce"
    r"|combats)|il faut (?:denoncer|condamner)|arretez de (?:dire|traiter)|racisme|xenophobie"
    r"|homophobie|antisemitisme|propos (?:haineux|racistes)|menaces de mort contre"
)
_EN_COUNTER = _alt(
    r"saying (?:that )?|to say that|(?:write|writes|wrote|writing|repeat|repeating|claim"
    r"|claims|claiming|chant|chanting|shout|shouting) (?:that )?"
    r"|calling (?:someone|people|them|anyone|a)|comparing"
    r"|is (?:shameful|unacceptable|racist|racism|disgusting|wrong|dehumanising|dehumanizing)"
    r"|are (?:shameful|unacceptable|racist)|(?:i|we) (?:condemn|reject|denounce)|must condemn"
    r"|stop (?:saying|calling)|racism|bigotry|hate speech|death threats against"
)
_NEGATION = _alt(
    r"ne (?:sont|suis|es|est|sommes|etes) pas|n'(?:est|a|ont|ai|etait) pas|n'a traite|personne"
    r" (?:ici )?n'|jamais (?:dit|traite)|are not|aren't|is not|isn't|nobody|no one|never"
    r" (?:said|called)|don't think|do not think|ne pense pas"
)

# Spam cues that do not depend on French spam being in the data: money amounts
# and rates; calls to click, subscribe, visit, download (French and English words that are
# not everyday SMS words: "call", "free", "win" are left to the n-grams, as are links: wider
# columns lowered English spam AUC on dev, and a URL column flagged comments citing an article).
_MONEY = (
    r"\d[\d .,]*\s?(?:€|\$|£|euros?|eur|dollars?|usd|k€)|[€$£]\s?\d"
    r"|(?:par|per|a|/) ?(?:jour|semaine|mois|day|week|month|heure|hour)\b"
)
_CALL = (
    r"\b(?:cliquez|clique|click|abonnez|abonne|subscribe|inscrivez|inscris|visitez|visit"
    r"|telechargez|download|check out|follow me|decouvrez)\b"
)

_W = r"(?<![\w'])"   # not in the middle of a word
_E = r"(?![\w])"

# Columns, in order. Each: name, pattern.
_PATTERNS: tuple[tuple[str, str], ...] = (
    ("insult", rf"{_W}(?:{_FR_INSULTS}|{_EN_INSULTS}){_E}"),
    ("insult_direct", rf"{_W}(?:{_FR_ADDRESS}|{_EN_ADDRESS}) (?:[a-z]+ )?"
                      rf"(?:{_FR_INSULTS}|{_EN_INSULTS}){_E}"),
    ("threat", rf"{_W}(?:{_FR_THREAT}|{_EN_THREAT}){_E}"),
    ("dehumanising", rf"{_W}(?:{_FR_DEHUMANISING}|{_EN_DEHUMANISING}){_E}"),
    ("counter", rf"{_W}(?:{_FR_COUNTER}|{_EN_COUNTER})"),
    ("negation", rf"{_W}(?:{_NEGATION}){_E}"),
    ("money", _MONEY),
    ("call", _CALL),
)
# A threat or dehumanising hit in a text that also denounces, reports or quotes (a counter
# cue, or quotation marks around the hit): counted here instead of in its own column, so the
# model can weigh "cafards" said and "cafards" denounced differently.
REPORTED = "reported"
NAMES: tuple[str, ...] = (*(name for name, _ in _PATTERNS), REPORTED)
N_COLUMNS = len(NAMES)
_MOVABLE = (NAMES.index("threat"), NAMES.index("dehumanising"))
_COUNTER = NAMES.index("counter")
_REPORTED = NAMES.index(REPORTED)
CAP = 2  # a column counts at most this many hits
LEXICON_ID = "vigie-lexicon-1"

# Matching runs on the normalised text with every run of one letter squeezed to one letter
# ("stuupid", "connard" -> "stupid", "conard"), and so do the patterns: doubled or missing
# doubled letters do not matter.
_COMPILED = tuple(re.compile(_DOUBLE.sub(r"\1", p)) for _, p in _PATTERNS)
_QUOTES = re.compile(r'"[^"]{1,300}"')


def _squeeze(s: str) -> tuple[str, list[int]]:
    """``s`` with runs of one letter squeezed, and each kept character's index in ``s``."""
    if not _DOUBLE.search(s):
        return s, list(range(len(s)))
    keep = [i for i, c in enumerate(s) if not (i and c == s[i - 1] and "a" <= c <= "z")]
    return "".join(s[i] for i in keep), keep


def _scan(s: str) -> list[tuple[int, int, int]]:
    """Hits as (column, start, end) in the squeezed text ``s``."""
    out = []
    for k, pat in enumerate(_COMPILED):
        out.extend((k, m.start(), m.end()) for m in pat.finditer(s))
    if any(k in _MOVABLE for k, _, _ in out):
        countered = any(k == _COUNTER for k, _, _ in out)
        quotes = [(m.start(), m.end()) for m in _QUOTES.finditer(s)] if '"' in s else []
        out = [(_REPORTED if k in _MOVABLE and (countered or any(
            qa < a and b < qb for qa, qb in quotes)) else k, a, b) for k, a, b in out]
    return out


def hits(normalised: str) -> list[tuple[int, int, int]]:
    """Every hit as (column, start, end) in the normalised text."""
    s, idx = _squeeze(normalised)
    return [(k, idx[a], idx[b - 1] + 1) for k, a, b in _scan(s) if b > a]


def counts(normalised: str) -> list[int]:
    """Capped hit counts per column on already-normalised text (the scoring path)."""
    out = [0] * N_COLUMNS
    for k, a, b in _scan(_DOUBLE.sub(r"\1", normalised)):
        if b > a:
            out[k] += 1
    return [min(c, CAP) for c in out]
