"""Hand-written template sentences added to the training split (never to dev or test).

The labelled sets were sampled by hate keywords, so a linear model learns that naming a group
("musulmane", "femmes", "immigrés") is toxic. These non-toxic templates (neutral and positive
mentions of groups, counter-speech, negated statements) push back on that; toxic templates
pairing the same groups with threats and dehumanising words (scarce in the data) teach that
the predicate, not the group, is what makes a comment toxic. They are code, not
data: generated deterministically, the same on every machine. They share categories with the
behaviour sets in ``behaviour/behaviour.json`` but not sentences, so the behaviour results are
a check of generalisation from these patterns, not of memorisation.
"""

from __future__ import annotations

from .data import Row

FR_GROUPS = [
    ("musulman", "musulmans"),
    ("musulmane", "musulmanes"),
    ("juive", "juifs"),
    ("chrétien", "chrétiens"),
    ("femme", "femmes"),
    ("noire", "noirs"),
    ("arabe", "arabes"),
    ("immigré", "immigrés"),
    ("migrante", "migrants"),
    ("réfugié", "réfugiés"),
    ("homosexuelle", "homosexuels"),
    ("gay", "gays"),
    ("lesbienne", "lesbiennes"),
    ("trans", "personnes trans"),
    ("rom", "roms"),
    ("africain", "africains"),
    ("maghrébine", "maghrébins"),
    ("asiatique", "asiatiques"),
    ("handicapé", "handicapés"),
]
FR_SINGULAR = [
    "je suis {s}",
    "ma collègue est {s} et très compétente",
    "en tant que {s}, je trouve cet article juste",
    "mon meilleur ami est {s}",
    "je suis {s} et fière de l'être",
]
FR_PLURAL = [
    "les {p} ont le droit de vivre en paix",
    "les {p} votent comme tout le monde",
    "je soutiens les {p} de mon quartier",
    "un reportage intéressant sur les {p} de Lyon",
    "les {p} sont des citoyens comme les autres",
    "bravo aux {p} qui s'engagent",
    "les {p} ne sont pas dangereux",
    "les {p} ne sont pas responsables de la crise",
    "il est inadmissible d'insulter les {p}",
    "le racisme envers les {p} doit cesser",
    "je condamne les propos haineux contre les {p}",
    "les insultes contre les {p} sont honteuses",
    "respect aux {p}",
]
EN_GROUPS = [
    ("Muslim", "Muslims"),
    ("Jew", "Jews"),
    ("Christian", "Christians"),
    ("woman", "women"),
    ("Black man", "Black people"),
    ("Arab", "Arabs"),
    ("immigrant", "immigrants"),
    ("refugee", "refugees"),
    ("gay man", "gay people"),
    ("lesbian", "lesbians"),
    ("trans woman", "trans people"),
    ("Mexican", "Mexicans"),
    ("Asian", "Asians"),
    ("disabled person", "disabled people"),
]
EN_SINGULAR = [
    "I am a {s}",
    "my colleague is a {s} and very good at her job",
    "as a {s} I think this article is fair",
    "my best friend is a {s}",
    "I am a {s} and proud of it",
]
EN_PLURAL = [
    "{p} have the right to live in peace",
    "{p} vote like everyone else",
    "I support the {p} in my town",
    "an interesting report about {p} in Chicago",
    "{p} are citizens like anyone else",
    "well done to the {p} who volunteer",
    "{p} are not dangerous",
    "{p} are not to blame for the crisis",
    "insulting {p} is unacceptable",
    "racism against {p} has to stop",
    "I condemn the hateful abuse aimed at {p}",
    "the slurs against {p} are shameful",
    "respect to {p}",
]

# Counter-speech that reports or quotes a threat, an insult or a dehumanising word in order to
# denounce it (not toxic): the lexicon fires on these, and they teach that the frame matters.
FR_COUNTER_PLURAL = [
    "ceux qui écrivent que les {p} sont de la vermine devraient avoir honte",
    "traiter les {p} de cafards, c'est du racisme",
    "les tags « à mort les {p} » sur le mur de l'école ont choqué le quartier",
    "comparer les {p} à des animaux est abject",
    "je condamne ceux qui menacent d'égorger les {p}",
    "arrêtez de répéter que les {p} sont des parasites",
    "le tract qui appelait à « fusiller les {p} » a été retiré, tant mieux",
]
EN_COUNTER_PLURAL = [
    "people who write that {p} are vermin should be ashamed",
    "calling {p} cockroaches is racist",
    "graffiti saying « death to {p} » appeared overnight and was condemned",
    "comparing {p} to animals is vile",
    "I condemn those who threaten to slaughter {p}",
    "stop repeating that {p} are parasites",
    "the leaflet telling people to « shoot the {p} » was taken down, good",
]

# Toxic templates: deliberately other verbs and nouns than the behaviour sets use.
FR_TOXIC_PLURAL = [
    "il faut égorger tous les {p}",
    "on devrait fusiller les {p}",
    "je vais buter ces {p}",
    "les {p} sont des parasites",
    "les {p} sont des porcs",
    "les {p} sont de la vermine",
    "brûlons les {p}",
    "les {p} sont des sous-hommes",
]
FR_TOXIC_SINGULAR = [
    "je vais te défoncer sale {s}",
    "crève sale {s}",
    "je vais te massacrer",
    "je vais t'égorger",
    "t'es qu'un porc de {s}",
]
EN_TOXIC_PLURAL = [
    "we should slaughter all {p}",
    "hang the {p}",
    "burn every last one of the {p}",
    "{p} are parasites",
    "{p} are cockroaches",
    "{p} are subhuman filth",
    "gas the {p}",
    "{p} are rats",
]
EN_TOXIC_SINGULAR = [
    "I will stab you, you filthy {s}",
    "die you dirty {s}",
    "I am going to kill you",
    "I will slit your throat",
    "you are a pig of a {s}",
]


# Issue 10 (no cheap flips): a denial of an insult is not an insult (so the model learns the
# words in a negation's scope, "NEG_idiot"), and neither quotes, nor an endorsement, nor a
# condemning phrase that frames nothing make hate less hateful; quoted and condemned hate is
# counter-speech. Other wordings than the behaviour sets and cheap_flips.json use.
FR_INSULT_WORDS = ["idiot", "crétin", "imbécile", "abruti", "débile", "connard"]
EN_INSULT_WORDS = ["idiot", "moron", "imbecile", "jerk", "loser", "clown"]
FR_NEGATED = [
    "je ne pense pas que vous soyez un {i}, vous vous trompez simplement",
    "personne ne t'a traité de {i}, relis mon message",
    "non, ce maire n'est pas un {i}, il manque de moyens",
    "je n'ai jamais dit que tu étais un {i}",
]
EN_NEGATED = [
    "i don't think you are an {i}, you are simply mistaken",
    "nobody called you a {i}, read my comment again",
    "no, the mayor is not a {i}, he lacks the budget",
    "i never said you were a {i}",
]
FR_FRAMES_TOXIC = [
    "{t}, c'est honteux",
    "{t}. C'est scandaleux mais c'est comme ça",
    "« {t} » : je le maintiens",
    "« {t} », et j'assume",
]
EN_FRAMES_TOXIC = [
    "{t}, it's shameful",
    "{t}. Disgusting but true",
    '"{t}" and I stand by it',
    '"{t}", that is the truth',
]
FR_QUOTED_CONDEMNED = [
    "affirmer que « {t} » est indigne",
    "« {t} » : voilà ce qu'on entend au café, c'est révoltant",
]
EN_QUOTED_CONDEMNED = [
    'claiming that "{t}" is vile',
    '"{t}": that is what we read in the comments, it is appalling',
]


# News comments insult people more than groups: the journalist, the minister, the reader
# above. The labelled sets are tweets sampled by group keywords, so direct insults of a person
# are scarce in French; these pair people a comment section talks about with the insults above
# (whose negations FR_NEGATED teaches). One insult per (target, frame), rotating, so they stay a
# small share of the rows. Other wordings than the behaviour sets use.
FR_PERSON_TARGETS = ["ce ministre", "le maire", "ce journaliste", "l'auteur de l'article",
                     "ce député", "le commentateur au-dessus", "ce préfet", "ton patron"]
FR_PERSON_INSULTS = [*FR_INSULT_WORDS, "con", "minable", "guignol", "bouffon", "tocard", "naze"]
FR_PERSON_FRAMES = [
    "{t} est un vrai {i}",
    "{t} n'est qu'un {i}",
    "encore un {i}, {t}",
    "mais quel {i} {t}",
    "{t}, espèce de {i}",
]
FR_ADDRESS_FRAMES = [
    "tu n'es qu'un {i}",
    "ferme-la, sale {i}",
    "va te coucher, gros {i}",
    "t'es vraiment un {i} toi",
]
EN_PERSON_TARGETS = ["the minister", "the mayor", "this reporter", "the author of this piece",
                     "this senator", "the guy above", "the editor", "your boss"]
EN_PERSON_INSULTS = [*EN_INSULT_WORDS, "dumbass", "halfwit", "twat", "prick"]
EN_PERSON_FRAMES = [
    "{t} is a real {i}",
    "{t} is nothing but a {i}",
    "what a {i} {t} is",
    "{t}, you {i}",
]
EN_ADDRESS_FRAMES = [
    "you are nothing but a {i}",
    "shut up, you {i}",
    "go to bed, you {i}",
]


def _person_rows() -> list[Row]:
    out: list[Row] = []
    n = 0
    for lang, targets, insults, frames, address in (
        ("fr", FR_PERSON_TARGETS, FR_PERSON_INSULTS, FR_PERSON_FRAMES, FR_ADDRESS_FRAMES),
        ("en", EN_PERSON_TARGETS, EN_PERSON_INSULTS, EN_PERSON_FRAMES, EN_ADDRESS_FRAMES),
    ):
        texts = []
        for t in targets:
            for frame in frames:
                texts.append(frame.format(t=t, i=insults[n % len(insults)]))
                n += 1
        for i in insults:
            for frame in address:
                texts.append(frame.format(i=i))
        for text in texts:
            out.append(
                Row(text[0].upper() + text[1:] + ".", lang, 1, 0, "templates", f"template:{lang}:{text}")
            )
    return out


def rows() -> list[Row]:
    out: list[Row] = []
    for lang, groups, singular, plural in (
        ("fr", FR_GROUPS, FR_SINGULAR, FR_PLURAL + FR_COUNTER_PLURAL),
        ("en", EN_GROUPS, EN_SINGULAR, EN_PLURAL + EN_COUNTER_PLURAL),
    ):
        for s, p in groups:
            for tpl in singular:
                text = tpl.format(s=s)
                out.append(
                    Row(text[0].upper() + text[1:] + ".", lang, 0, 0, "templates", f"template:{lang}:{text}")
                )
            for tpl in plural:
                text = tpl.format(p=p)
                out.append(
                    Row(text[0].upper() + text[1:] + ".", lang, 0, 0, "templates", f"template:{lang}:{text}")
                )
    for lang, groups, singular, plural in (
        ("fr", FR_GROUPS, FR_TOXIC_SINGULAR, FR_TOXIC_PLURAL),
        ("en", EN_GROUPS, EN_TOXIC_SINGULAR, EN_TOXIC_PLURAL),
    ):
        seen: set[str] = set()
        for s, p in groups:
            for tpl in (*singular, *plural):
                text = tpl.format(s=s, p=p)
                if text in seen:
                    continue
                seen.add(text)
                out.append(
                    Row(text[0].upper() + text[1:] + " !", lang, 1, 0, "templates", f"template:{lang}:{text}")
                )
    out.extend(_framing_rows())
    out.extend(_person_rows())
    return out


def _framing_rows() -> list[Row]:
    out: list[Row] = []
    for lang, words, negated in (("fr", FR_INSULT_WORDS, FR_NEGATED), ("en", EN_INSULT_WORDS, EN_NEGATED)):
        for i in words:
            for tpl in negated:
                text = tpl.format(i=i)
                out.append(
                    Row(text[0].upper() + text[1:] + ".", lang, 0, 0, "templates", f"template:{lang}:{text}")
                )
    for lang, groups, toxic, frames, condemned in (
        ("fr", FR_GROUPS, FR_TOXIC_PLURAL, FR_FRAMES_TOXIC, FR_QUOTED_CONDEMNED),
        ("en", EN_GROUPS, EN_TOXIC_PLURAL, EN_FRAMES_TOXIC, EN_QUOTED_CONDEMNED),
    ):
        # One group per toxic template (rotating), so these stay a small share of the rows.
        for n, tpl in enumerate(toxic):
            _, p = groups[n % len(groups)]
            t = tpl.format(p=p)
            for frame in frames:
                text = frame.format(t=t)
                out.append(
                    Row(text[0].upper() + text[1:] + ".", lang, 1, 0, "templates", f"template:{lang}:{text}")
                )
            for frame in condemned:
                text = frame.format(t=t)
                out.append(
                    Row(text[0].upper() + text[1:] + ".", lang, 0, 0, "templates", f"template:{lang}:{text}")
                )
    return out
