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
            cur.append(alternation[i : i + 2])
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
    # Idioms: "je lui fais la peau", "on va brûler ta maison", "je sais où il habite",
    # "tu vas le regretter", "on va te retrouver".
    rf"|(?:lui|te|t'|leur|vous|les|le|la) ?(?:fais|fait|ferai|fera|ferons|ferez|feront|faisons)"
    rf" la peau"
    rf"|(?:bruler|cramer|incendier|faire sauter|bruler vifs?) (?:ta|sa|leur|votre|vos|tes|ses)"
    rf" (?:maison|voiture|baraque|appart|appartement|famille|gosses|enfants|bagnole)"
    rf"|(?:je|on|nous) (?:sait|sais|savons) ou (?:tu|il|elle|vous|ils|elles) (?:habites|habite"
    rf"|habitez|habitent|vis|vit|vivez|vivent|dors|dort|travailles|travaille|bosses|bosse)"
    rf"|(?:je|on|nous|j') ?(?:connait|connais|connaissons|ai|a|avons) (?:ton|son|votre|leur)"
    rf" adresse"
    rf"|(?:tu vas|vous allez|il va|elle va|ils vont|tu va) (?:le |la )?regretter"
    rf"|(?:tu le|vous le|il le|elle le) (?:regretteras|regretterez|regrettera)"
    rf"|(?:je vais|on va|nous allons|ils vont|on vas|je vai) (?:te|t'|vous|le|la|l'|les)"
    rf" ?(?:retrouver|trouver|choper|attraper)"
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
    rf"|burn (?:your|his|her|their) (?:house|home|car|family)(?: down)?"
    rf"|(?:i|we) know where (?:you|he|she|they) (?:live|lives|sleep|sleeps|work|works)"
    rf"|(?:you|he|she|they)(?: will|'ll| are going to| is going to|'re going to| gonna)"
    rf" (?:regret (?:it|this|that)|pay for (?:it|this|that))"
    rf"|(?:we|i)(?: will|'ll| are going to|'re going to|'m going to| am going to| gonna)"
    rf" (?:find|get|hunt) (?:you|him|her|them)"
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

# Counter-speech: reporting or quoting hate (REPORT: someone said, wrote, chanted it) and
# judging it (CONDEMN). A threat or dehumanising phrase counts as reported only in a sentence
# that frames it so: quoted or after a reporting verb, and condemned there (or in the next
# sentence), or after a verb that condemns the speech itself ("je condamne ceux qui ...",
# "arrêtez de dire que ..."). Never when the comment endorses it (ENDORSE).
_FR_REPORT = _alt(
    r"(?:dire|disent|affirmer|affirment|ecrire|ecrivent|ecrit|repeter|repetent|pretendre"
    r"|pretendent|crier|crient|scander|scandent|lire|lit|entendre|entend|penser|pensent)"
    r"(?: (?:que|qu'))?"
    r"|traiter (?:quelqu'?un|qqn|les|des|une?|ces) (?:de|d')|traitent|comparer|comparent"
    r"|(?:qui|pour) (?:appelait|appelaient|appelle|appellent|appeler) a"
    r"|(?:voila|c'?est) ce (?:qu'on|que l'on|qu'il|qu'ils) (?:lit|entend|dit|ecrit)"
    r"|(?:tags?|tracts?|graffitis?|slogans?|pancartes?|banderoles?|propos|commentaires?"
    r"|messages?|tweets?|affiches?|inscriptions?|menaces?|insultes?|injures?)"
)
_FR_CONDEMN = _alt(
    r"honteux|honteuse|honteuses|honte|inacceptables?|inadmissibles?|intolerables?|scandaleux"
    r"|scandaleuse|abjecte?s?|ignobles?|odieux|odieuse|degoutante?s?|revoltante?s?|immondes?"
    r"|indignes?|racistes?|racisme|de la haine|haineux|haineuse|propagande|xenophobes?"
    r"|xenophobie|homophobes?|homophobie|transphobie|antisemites?|antisemitisme|islamophobie"
    r"|choquee?s?|choquant|choque|condamne|condamner|condamnons|condamnent|denonce|denoncer"
    r"|denoncons|combats|combattre|combattons|arretez de|tant mieux|retiree?s?|supprimee?s?"
    r"|effacee?s?|plainte|menaces de mort contre"
)
# Verbs that condemn the speech that follows them: frame it on their own.
_FR_FRAMES = _alt(
    r"(?:je|nous|on|il faut|faut) (?:condamne|condamnons|condamner|denonce|denoncons|denoncer"
    r"|combats|combattons|combattre) (?:ceux|celles|les gens|les personnes|ce|les propos)"
    r"|arretez de (?:dire|traiter|repeter|ecrire|pretendre|comparer)|cessez de (?:dire|traiter"
    r"|repeter|ecrire)"
)
_FR_ENDORSE = _alt(
    r"je le (?:dis|pense|repete|redis|maintiens|confirme)|je (?:maintiens|persiste|assume"
    r"|confirme|signe)|j'assume|c'?est (?:vrai|la verite|un fait|exact|la realite)"
    r"|(?:honteux|dommage|interdit) de ne (?:pas|plus) (?:le dire|pouvoir le dire)"
    r"|il faut (?:le dire|oser le dire|bien le dire)|(?:j'ai|il a|elle a|ils ont) raison"
    r"|bien dit|tout a fait d'accord|je suis d'accord|n'en deplaise|qu'on se le dise"
)
_EN_REPORT = _alt(
    r"saying|say that|says|said that|to say|(?:write|writes|wrote|writing|written|repeat"
    r"|repeating|claim|claims|claiming|chant|chanted|chanting|shout|shouted|shouting|read"
    r"|hear|heard)(?: that)?|calling|called|comparing|compare|(?:graffiti|slogans?|leaflets?"
    r"|posters?|signs?|comments?|tweets?|posts?|messages?)"
)
_EN_CONDEMN = _alt(
    r"shameful|ashamed|shame|unacceptable|racist|racism|disgusting|wrong|dehumanising"
    r"|dehumanizing|vile|hateful|abhorrent|appalling|propaganda|bigotry|bigoted|hate speech"
    r"|condemn|condemned|condemns|denounce|denounced|reject|taken down|removed|deleted"
    r"|good riddance|death threats against|outrageous|despicable"
)
_EN_FRAMES = _alt(
    r"(?:i|we|must|should) (?:condemn|denounce|reject) (?:those|the people|people|anyone|the)"
    r"|stop (?:saying|calling|writing|repeating|comparing)"
)
_EN_ENDORSE = _alt(
    r"i (?:said|say) it|say it again|i stand by (?:it|that|this|every word)|it'?s (?:true"
    r"|the truth|a fact)|(?:that|this) is (?:true|the truth|a fact)|i mean it|(?:he|she|they)"
    r" (?:is|are|was|were) right|(?:he's|she's|they're) right|well said|i agree|facts"
)
# Negation: a denial whose scope (up to the end of the clause) holds a toxic phrase: the
# phrase counts in the negation column instead of its own, and the words in the scope are
# marked for the n-grams ("NEG_idiot", see text.py), so the model learns what a denial is
# worth instead of a hand-set penalty. Restrictive "ne ... que" ("tu n'es qu'un idiot") is
# not a negation.
_FR_NEGATION = _alt(
    r"(?:ne|n') ?(?:(?:le|la|les|l'|te|t'|me|m'|lui|leur|vous|nous|y|en) ?)?[a-z]+"
    r" (?:pas|jamais|plus|point|nullement|aucunement)"
    r"|(?:t'?es|c'?est|sont|est|suis|je dis|je pense|je crois|j'ai) (?:pas|jamais)"
    r"|personne (?:ici )?(?:ne|n')|jamais (?:dit|traite|pense)"
)
_EN_NEGATION = _alt(
    r"(?:am|is|are|was|were|do|does|did|[a-z]+'(?:m|re|s)) not|(?:isn't|aren't|wasn't|weren't|don't"
    r"|doesn't|didn't|isnt|arent|dont|didnt)|never (?:said|called|meant|thought)"
    r"|nobody|no one|noone"
)
# The counter column: the usual phrases of counter-speech (a narrower list than the framing
# cues above, which include everyday words like "wrong", "read", "lit").
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
_NEGATION = rf"{_FR_NEGATION}|{_EN_NEGATION}"

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

_W = r"(?<![\w'])"  # not in the middle of a word
_E = r"(?![\w])"

# Columns, in order. Each: name, pattern.
_PATTERNS: tuple[tuple[str, str], ...] = (
    ("insult", rf"{_W}(?:{_FR_INSULTS}|{_EN_INSULTS}){_E}"),
    (
        "insult_direct",
        rf"{_W}(?:{_FR_ADDRESS}|{_EN_ADDRESS}) (?:[a-z]+ )?"
        rf"(?:{_FR_INSULTS}|{_EN_INSULTS}){_E}",
    ),
    ("threat", rf"{_W}(?:{_FR_THREAT}|{_EN_THREAT}){_E}"),
    ("dehumanising", rf"{_W}(?:{_FR_DEHUMANISING}|{_EN_DEHUMANISING}){_E}"),
    ("counter", rf"{_W}(?:{_FR_COUNTER}|{_EN_COUNTER})"),
    ("negation", rf"{_W}(?:{_NEGATION}){_E}"),
    ("money", _MONEY),
    ("call", _CALL),
)
# A threat or dehumanising hit that its sentence reports and condemns (see _FR_REPORT):
# counted here instead of in its own column, so the model can weigh "cafards" said and
# "cafards" denounced differently.
REPORTED = "reported"
NAMES: tuple[str, ...] = (*(name for name, _ in _PATTERNS), REPORTED)
N_COLUMNS = len(NAMES)
_MOVABLE = (NAMES.index("threat"), NAMES.index("dehumanising"))
_TOXIC = frozenset(NAMES.index(n) for n in ("insult", "insult_direct", "threat", "dehumanising"))
_COUNTER = NAMES.index("counter")
_NEGATED = NAMES.index("negation")
_REPORTED = NAMES.index(REPORTED)
CAP = 2  # a column counts at most this many hits
LEXICON_ID = "vigie-lexicon-2"


def _squeezed(pattern: str) -> re.Pattern:
    return re.compile(_DOUBLE.sub(r"\1", pattern))


# Matching runs on the normalised text with every run of one letter squeezed to one letter
# ("stuupid", "connard" -> "stupid", "conard"), and so do the patterns: doubled or missing
# doubled letters do not matter.
_COMPILED = tuple(_squeezed(p) for _, p in _PATTERNS)
_REPORT = _squeezed(rf"{_W}(?:{_FR_REPORT}|{_EN_REPORT}){_E}")
_CONDEMN = _squeezed(rf"{_W}(?:{_FR_CONDEMN}|{_EN_CONDEMN}){_E}")
_FRAMES = _squeezed(rf"{_W}(?:{_FR_FRAMES}|{_EN_FRAMES}){_E}")
_ENDORSE = _squeezed(rf"{_W}(?:{_FR_ENDORSE}|{_EN_ENDORSE}){_E}")
_NEGATION_RE = _squeezed(rf"{_W}(?:{_NEGATION})")
_QUOTE_MAX = 400
# A sentence ends at . ! ? ; or a line break (outside quotes); a clause also at , : and
# "mais" / "but".
_SENTENCE_END = re.compile(r"[.!?;\n]+")
_CLAUSE_END = re.compile(r"[,;:.!?\n\"()]|(?<![\w'])(?:mais|but|car|because)(?![\w])")
# A toxic phrase that carries its own negation ("pas des etres humains", "not human").
_SELF_NEGATED = ("pas ", "not ", "les than")


def _squeeze(s: str) -> tuple[str, list[int]]:
    """``s`` with runs of one letter squeezed, and each kept character's index in ``s``."""
    if not _DOUBLE.search(s):
        return s, list(range(len(s)))
    keep = [i for i, c in enumerate(s) if not (i and c == s[i - 1] and "a" <= c <= "z")]
    return "".join(s[i] for i in keep), keep


def _quote_spans(s: str) -> list[tuple[int, int]]:
    """Quotations as (start, end) spans, marks included: «...» (the canonical form of « » and
    “ ”) nest; "..." pair in turn. An unclosed quotation is no quotation."""
    spans, stack = [], []
    for i, ch in enumerate(s):
        if ch == "«":
            stack.append((ch, i))
        elif ch == "»":
            while stack and stack[-1][0] != "«":
                stack.pop()
            if stack:
                spans.append((stack.pop()[1], i + 1))
        elif ch == '"':
            if stack and stack[-1][0] == '"':
                spans.append((stack.pop()[1], i + 1))
            else:
                stack.append((ch, i))
    return [(a, b) for a, b in spans if b - a <= _QUOTE_MAX]


def _sentences(s: str, quotes: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sentence spans of ``s``; a quotation is never cut."""
    out, start = [], 0
    for m in _SENTENCE_END.finditer(s):
        if any(qa < m.start() < qb for qa, qb in quotes):
            continue
        out.append((start, m.end()))
        start = m.end()
    if start < len(s):
        out.append((start, len(s)))
    return out


def _negated(s: str) -> list[tuple[int, int]]:
    """Spans (from the end of the negation to the end of its clause) that a negation covers."""
    out = []
    for m in _NEGATION_RE.finditer(s):
        if m.group().endswith("plus") and s.startswith(" qu", m.end()):
            continue  # "ils ne sont plus que des ...": restrictive, not a denial
        end = _CLAUSE_END.search(s, m.end())
        out.append((m.start(), m.end(), end.start() if end else len(s)))
    return [(a, b, c) for a, b, c in out if c > b]


def negated_spans(normalised: str) -> list[tuple[int, int]]:
    """Spans of the normalised text inside a negation's scope (the words the n-grams mark)."""
    s, idx = _squeeze(normalised)
    if not _NEGATION_RE.search(s):
        return []
    return [(idx[b], idx[c - 1] + 1) for _, b, c in _negated(s)]


def _scan(s: str) -> list[tuple[int, int, int]]:
    """Hits as (column, start, end) in the squeezed text ``s``."""
    out = []
    for k, pat in enumerate(_COMPILED):
        out.extend((k, m.start(), m.end()) for m in pat.finditer(s))
    if not any(k in _TOXIC for k, _, _ in out):
        return out
    quotes = _quote_spans(s) if ("«" in s or '"' in s) else []
    sentences = _sentences(s, quotes)
    negations = _negated(s)

    def sentence_of(pos: int) -> int:
        for i, (a, b) in enumerate(sentences):
            if a <= pos < b:
                return i
        return len(sentences) - 1

    def cues(pattern: re.Pattern, a: int, b: int) -> list[int]:
        """Starts of the cue's matches in s[a:b] that no quotation inside s[a:b] holds (what
        a quoted speaker says is not what this speaker says)."""
        inner = [(qa, qb) for qa, qb in quotes if a <= qa and qb <= b]
        return [
            m.start() for m in pattern.finditer(s, a, b) if not any(qa <= m.start() < qb for qa, qb in inner)
        ]

    def framed(a: int, b: int, i: int) -> bool:
        """Whether the hit s[a:b] in sentence i is reported and condemned (not endorsed) by
        the quotation that holds it, or by a quotation around that, or by its sentence."""
        holders = sorted(((qa, qb) for qa, qb in quotes if qa < a and b <= qb), key=lambda q: q[1] - q[0])
        levels = [(qa + 1, qb - 1, True) for qa, qb in holders]
        levels.append((*sentences[i], False))
        for j, (ra, rb, _) in enumerate(levels):
            top = j == len(levels) - 1
            nxt = sentences[i + 1] if top and i + 1 < len(sentences) else None
            if cues(_ENDORSE, ra, rb) or (nxt and cues(_ENDORSE, *nxt)):
                continue
            quoted = j > 0
            before = [c for c in cues(_REPORT, ra, rb) if c < a]
            condemned = bool(cues(_CONDEMN, ra, rb)) or bool(nxt and cues(_CONDEMN, *nxt))
            if ((quoted or before) and condemned) or [c for c in cues(_FRAMES, ra, rb) if c < a]:
                return True
        return False

    moved = []
    for k, a, b in out:
        if (
            k in _TOXIC
            and not s.startswith(_SELF_NEGATED, a)
            and any(na <= a < end for na, _, end in negations)
        ):
            k = _NEGATED
        elif k in _MOVABLE and framed(a, b, sentence_of(a)):
            k = _REPORTED
        moved.append((k, a, b))
    # A counter cue that frames nothing the comment says is no counter-speech: "Je vais te
    # tuer. C'est honteux." keeps its threat, and loses the cue.
    if any(k in _TOXIC for k, _, _ in moved):
        moved = [
            (k, a, b)
            for k, a, b in moved
            if k != _COUNTER
            or any(k2 in (_REPORTED, _NEGATED) for k2, _, _ in moved)
            or _frames_something(s, a, quotes)
        ]
    return moved


def _frames_something(s: str, pos: int, quotes) -> bool:
    """Whether the sentence around ``pos`` quotes or reports someone (a counter cue there may
    be about what they said)."""
    for a, b in _sentences(s, quotes):
        if a <= pos < b:
            if _ENDORSE.search(s, a, b):
                return False
            return any(a <= qa < b for qa, _ in quotes) or bool(_REPORT.search(s, a, b))
    return False


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
