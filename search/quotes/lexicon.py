"""Every word list attribution uses, in one place, with where it came from.

Provenance, once for all lists below unless a list says otherwise: written by hand by the team from
general English and newswire usage (reporting verbs as style guides and attribution corpora list
them; pronouns and determiners from English grammar; role nouns of people and institutions that news
names). None was extracted from the annotated articles in ../shared. Checked once against them (issue 10):
words that only one of the GGT dev articles used and PolNeAR hardly did (sports positions, an agent suffix)
were removed, since a rule for one article says nothing about the next. What the lists miss is left to the
trained models (model.py), which see verbs only as hashed lemmas.
"""
from __future__ import annotations

import re

# Reporting verbs by lemma. Cognition verbs (think, believe, feel) are left out on purpose: in news
# they mostly report opinions the writer infers, not speech, and they cost precision.
REPORT_LEMMAS = frozenset(
    """
    say tell add note argue claim warn explain insist deny admit ask urge announce write tweet testify
    state suggest allege acknowledge concede confirm contend assert maintain report reply respond recall
    remind caution stress emphasize emphasise predict promise vow pledge estimate complain joke comment
    declare indicate mention observe reveal agree disagree counter continue conclude
    describe call post tell reiterate repeat point advise propose recommend demand question wonder
    lament boast concede retort shout yell chant scream whisper answer affirm clarify guarantee
    grumble muse quip speculate summarize summarise add testify plead express voice encourage instruct
    """.split()
)
# Verbs whose object clause only counts as a quote with "that" (they also take other complements:
# "called it a day", "continued to work").
WEAK_LEMMAS = frozenset({"call", "describe", "continue", "point", "question", "agree", "disagree", "charge"})
# Verbs of advice and command whose "to ..." complement is what was said ("urged voters to wait").
DIRECTIVE_LEMMAS = frozenset({"urge", "advise", "remind", "warn", "tell", "ask", "encourage", "caution", "instruct"})
# Verbs that stand as a parenthetical cue set off by commas ("The plan, she said, is sound.").
PARENTHETICAL_LEMMAS = frozenset({"say", "add", "note", "explain", "argue", "insist", "claim", "warn", "write", "tell"})

# Pronouns.
FIRST_SECOND = frozenset({"i", "me", "we", "us", "you", "my", "our"})
HE_SHE = {"he": "m", "him": "m", "she": "f", "her": "f"}
GROUP_PRONOUNS = frozenset({"it", "they", "them"})
RELATIVE_PRONOUNS = frozenset({"who", "that", "which"})
MALE = frozenset({"he", "him", "his", "himself"})
FEMALE = frozenset({"she", "her", "hers", "herself"})
# Honorifics before a name that tell a person's gender.
MALE_HONORIFICS = frozenset({"mr"})
FEMALE_HONORIFICS = frozenset({"ms", "mrs", "miss"})
# Determiners that make a noun phrase definite: "the mayor" points back, "a mayor" does not.
DEFINITE_DETERMINERS = frozenset({"the", "this", "that", "his", "her", "its", "their"})
# Determiners and quantifiers that introduce someone new: "a friend", "one strategist", "several aides".
INDEFINITE_DETERMINERS = frozenset({"a", "an", "one", "another", "some", "several", "many", "few", "two", "three"})
# Words that, alone as a subject, describe nobody in particular ("Some said ...").
VAGUE_SUBJECTS = frozenset({"one", "some", "many", "others", "people", "all", "both", "each"})
# Words that open a reported question, not a statement ("asked whether ...").
QUESTION_WORDS = frozenset({"if", "whether", "why", "how", "what", "when", "where", "who", "which"})
# Prepositions that introduce the medium of a statement ("on a podcast", "via a website").
CHANNEL_PREPOSITIONS = frozenset({"on", "via", "through"})

# Nouns that, with "the", refer back to an organisation mentioned before.
ORG_NOUNS = frozenset(
    """
    company firm agency utility group union organization organisation government ministry department
    board commission council city province state party team club association corporation bank
    authority office service police force court network airline retailer study report statement
    campaign newspaper magazine tabloid outlet station channel website
    """.split()
)
# Of those, the ones that point back to the last organisation named even when it does not contain
# the word ("the company" after a brand name); "the government" does not.
ANAPHORIC_ORG_NOUNS = frozenset(
    "company firm agency utility group union organization organisation retailer airline network bank "
    "corporation team club party association".split()
)
# Nouns that, with "the" (or a possessive), refer back to a person named before.
PERSON_NOUNS = frozenset(
    """
    minister mayor premier president senator official spokesperson spokesman spokeswoman man woman
    father mother son daughter wife husband coach player chief leader judge officer lawyer director
    founder owner ceo executive manager chair chairman chairwoman councillor councilor candidate
    prosecutor doctor professor researcher scientist author writer veteran teenager boy girl
    economist analyst activist advocate victim resident student teacher pastor priest secretary
    governor lawmaker legislator politician commissioner ambassador diplomat singer actor actress
    artist captain athlete star driver pilot farmer worker employee member grandmother grandfather
    sister brother
    """.split()
)
# Nouns that tell a person's gender ("the businessman", "the former first lady"): besides these, words ending
# in -man or -woman.
MALE_NOUNS = frozenset("man boy father son husband brother uncle nephew grandfather king prince dad".split())
FEMALE_NOUNS = frozenset("woman girl mother daughter wife sister aunt niece grandmother queen princess lady mom "
                         "mum".split())
# Person nouns that point back to the person in focus whatever their title ("the man said").
FOCUS_PERSON_NOUNS = frozenset({"man", "woman", "boy", "girl", "father", "mother"})
# Heads of descriptions that can name a source: people, groups and institutions.
SOURCE_NOUNS = PERSON_NOUNS | ORG_NOUNS | frozenset(
    """
    official authority expert spokesperson resident protester protestor voter observer analyst member
    staff aide lawyer advocate researcher critic source police witness parent player leader worker
    citizen person people viewer fan supporter opponent organizer organiser owner neighbour neighbor
    scientist doctor nurse paramedic teacher student officer investigator prosecutor agent diplomat
    senator lawmaker legislator politician minister chief economist executive employee participant
    administration ministry department committee panel regulator court prosecutors firefighter
    """.split()
)
# A statement, release or post speaks for whoever issued it; when the article does not say who, the one who
# spoke last most often did.
STATEMENT_NOUNS = frozenset(
    "statement release tweet post letter email e-mail report study memo filing website notice document "
    "announcement message blog survey poll analysis data figures numbers".split()
)
# Documents and recordings whose author the phrase may name ("a readout from the ministry", "Ross's memoir"),
# but that may quote someone other than the last speaker (an ad, a ruling): their author only when named.
DOC_NOUNS = STATEMENT_NOUNS | frozenset(
    "readout memoir book article column editorial transcript summary complaint lawsuit ruling verdict indictment "
    "affidavit petition ad advertisement commercial video clip footage".split()
)
# "a 52-year-old": an age used as a noun describes a person.
AGE_NOUN = re.compile(r"^\d+-year-old$")
# Agent nouns ("the bookseller", "the resident", "the novelist", "the congresswoman"): a description of a
# person, not of an event ("the move") or a thing ("the flooding"). English derivational suffixes of agents
# and the compounds of -man, -woman, -person.
AGENT_NOUN = re.compile(r"(?<!m)(?:er|or|ist|ian|ant|ent|ee|eer|ive|man|woman|person)$")

# Dashes that set an author's name after a quotation ('"..." — Ann Ross'); U+2015, the horizontal bar,
# is the typographic quotation dash.
QUOTATION_DASHES = frozenset({"—", "–", "-", "--", "―"})
# Title abbreviations whose period does not end a sentence ("Lt. Ann Ross said").
ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof lt sgt cpl capt col gen gov sen rep st mt jr sr det insp supt cst const maj adm rev".split()
)
# Small words a title may keep in lower case ("Law of the Sea").
TITLE_SMALL_WORDS = frozenset({"a", "an", "the", "of", "and", "or", "in", "on", "to", "for", "with", "at", "by"})
