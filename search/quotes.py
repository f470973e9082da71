"""Quote extraction and speaker attribution on a parsed spaCy Doc (direct, indirect, floating)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from search.names import ORG_WORDS, PRONOUNS, TITLE_WORDS, PersonIndex, clean_org, clean_person, fold, is_medium

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
# Verbs whose object clause only counts as a quote with "that"/ccomp and a real subject.
WEAK_LEMMAS = frozenset({"call", "describe", "continue", "point", "question", "agree", "disagree", "charge"})
FIRST_SECOND = frozenset({"i", "me", "we", "us", "you", "my", "our"})
HE_SHE = {"he": "m", "him": "m", "she": "f", "her": "f"}
GROUP_PRONOUNS = frozenset({"it", "they", "them"})
# Nouns that, with "the", refer back to an organisation mentioned before.
ORG_NOUNS = frozenset(
    """
    company firm agency utility group union organization organisation government ministry department
    board commission council city province state party team club association corporation bank
    authority office service police force court network airline retailer study report statement
    """.split()
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
    artist rookie defenceman defenseman forward goaltender goalie captain winger centre quarterback
    athlete star driver pilot farmer worker employee member grandmother grandfather sister brother
    """.split()
)
_AGE_NOUN = re.compile(r"^\d+-year-old$")
# Agent nouns ("proprietor", "resident", "brawler", "maverick"): a description of a person, not of
# an event ("the move") or a thing ("the inundation").
_AGENT_NOUN = re.compile(r"(?<!m)(?:er|or|ist|ian|ant|ent|ee|eer|ick|ive)$")
# A statement, release or tweet speaks for whoever issued it.
DOC_NOUNS = frozenset(
    "statement release tweet post letter email e-mail report study memo filing website notice document "
    "announcement message blog survey poll analysis data figures numbers".split()
)
# "the company" points back to the last organisation; "the government" does not.
ANAPHORIC_ORG_NOUNS = frozenset(
    "company firm agency utility group union organization organisation retailer airline network bank "
    "corporation team club party association".split()
)
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
# Verbs of advice and command whose "to ..." complement is what was said.
DIRECTIVE_LEMMAS = frozenset({"urge", "advise", "remind", "warn", "tell", "ask", "encourage", "caution", "instruct"})
# "... — Jane Roe (@jroe) December 18, 2018" closing a paragraph: an embedded post and its author
_EMBEDDED_POST = re.compile(
    r"(?m)^[^\n]*?(?P<tail>(?:\s*(?:pic\.twitter\.com/\S+|https?://\S+))*\s*[—–-]+\s*"
    r"(?P<author>[^\n()—–]{2,60}?)\s*\(@\w+\)\s*[A-Z][a-z]+\.? \d{1,2}, \d{4})\s*$"
)
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof lt sgt cpl capt col gen gov sen rep st mt jr sr det insp supt cst const maj adm rev".split()
)
QUESTION_WORDS = frozenset({"if", "whether", "why", "how", "what", "when", "where", "who", "which"})
MALE = frozenset({"he", "him", "his", "himself"})
FEMALE = frozenset({"she", "her", "hers", "herself"})

# Quote marks. Straight marks are ambiguous and toggle; curly and doubled ones have a direction.
_MARK = re.compile(r"''|``|‘‘|’’|‘’|[\"“”„«»]")
_OPENERS = frozenset({"“", "„", "«", "``", "‘‘", "‘’"})
_CLOSERS = frozenset({"”", "»", "''", "’’"})


@dataclass
class Quote:
    """A quotation found in the text, before it becomes plain data."""

    start: int
    end: int
    kind: str  # "direct" | "indirect"
    speaker: str | None = None
    speaker_text: str | None = None
    verb: str | None = None
    cue: bool = False  # True when attributed by a cue (verb, colon, "according to"), not carried over
    label: str | None = None  # "person" | "org" | "place" for the speaker
    group: int = -1  # multi-paragraph direct quotes share a group
    absorbed: bool = False
    extra: dict = field(default_factory=dict)


def find_direct_spans(text: str) -> list[tuple[int, int, int]]:
    """(start, end, group) of text in quote marks, marks included; one span per paragraph piece."""
    spans: list[tuple[int, int, int]] = []
    group = 0
    pos = 0
    open_at: int | None = None  # start of the quote being read, if any
    carried = False  # the previous paragraph ended inside a quote
    paragraphs = []
    for m in re.finditer(r"[^\n]+", text):
        paragraphs.append((m.start(), m.end()))
    for pi, (ps, pe) in enumerate(paragraphs):
        para = text[ps:pe]
        marks = list(_MARK.finditer(para))
        first = True
        open_at = None
        for m in marks:
            mk = m.group()
            at = ps + m.start()
            if open_at is None:
                if mk in ("”", "’’") and _opens_here(para, m.start()) and para[m.end():m.end() + 1].strip():
                    mk = "“"  # a closing mark typed where an opening one belongs (”This ...”)
                if mk in _CLOSERS or (mk == '"' and first and carried and not _opens_here(para, m.start())):
                    # A closing mark with no opening in this paragraph ends a quote carried over from the
                    # previous paragraph (its writer forgot the opening mark).
                    if carried and first:
                        lead = ps + len(para) - len(para.lstrip())
                        spans.append((lead, ps + m.end(), group))
                    first = False
                    continue
                open_at = at
            else:
                if mk in _OPENERS and mk != "‘’":
                    # An opening mark inside a quote: the previous one was never closed.
                    spans.append((open_at, _rstrip(text, open_at, at), group))
                    group += 1
                    open_at = at
                else:
                    spans.append((open_at, ps + m.end(), group))
                    group += 1
                    open_at = None
            first = False
        carried = False
        if open_at is not None:
            # Unclosed at paragraph end: the quote ends here; if the next paragraph opens with a mark
            # it continues the same quotation (one group), which keeps a stray mark from eating the article.
            spans.append((open_at, _rstrip(text, open_at, pe), group))
            nxt = paragraphs[pi + 1] if pi + 1 < len(paragraphs) else None
            if nxt is not None and _MARK.match(text[nxt[0]:nxt[1]].lstrip()):
                pass  # same group continues
            else:
                group += 1
                carried = nxt is not None
            open_at = None
    return [s for s in spans if s[1] - s[0] > 2]


def _opens_here(para: str, i: int) -> bool:
    """Whether a straight mark at i looks like an opening mark (after a space or at the start)."""
    return i == 0 or para[i - 1] in " \t([{—–-/"


def _rstrip(text: str, start: int, end: int) -> int:
    """End offset with trailing whitespace removed."""
    while end > start and text[end - 1].isspace():
        end -= 1
    return end


class Attributor:
    """Finds the quotes of one Doc and who said them."""

    def __init__(self, doc, mentions, persons: PersonIndex):
        """Index the Doc: entity of each token, paragraph of each token."""
        self.doc = doc
        self.text = doc.text
        self.persons = persons
        # token index -> (label, canonical value, start token, end token) for people, places, organisations
        self.ent_of: dict[int, tuple[str, str, int, int]] = {}
        for m in mentions:
            for i in range(m["tstart"], m["tend"]):
                self.ent_of[i] = (m["label"], m["value"], m["tstart"], m["tend"])
        self.mentions = mentions
        n = len(doc)
        self.in_quote = [False] * n
        self.quote_of = [-1] * n
        self.direct: list[Quote] = []
        self.para_of = [0] * n
        p = 0
        for t in doc:
            self.para_of[t.i] = p
            if "\n" in t.text or "\n" in t.whitespace_:
                p += 1
        self.gender: dict[str, str] = {}
        # Organisations the article names with "the" ("the EU"): as speakers they keep it, as readers say them.
        self.takes_article = {
            m["value"] for m in mentions
            if m["label"] != "person" and (m["text"].lower().startswith("the ")
                                           or (m["tstart"] > 0 and doc[m["tstart"] - 1].lower_ == "the"))
            # not "the Civic Action study", where the name only modifies a noun
            and not (m["tend"] < len(doc) and doc[m["tend"]].pos_ in ("NOUN", "PROPN"))
        }
        # (token position, name, label) of resolved speakers so far, in text order
        self.spoken: list[tuple[int, str, str]] = []

    # ---- direct quotes -------------------------------------------------------------------------
    def collect_direct(self) -> None:
        """Find direct quote spans and mark their tokens."""
        for s, e, g in find_direct_spans(self.text):
            span = self.doc.char_span(s, e, alignment_mode="expand")
            if span is None or len(span) == 0:
                continue
            q = Quote(s, e, "direct", group=g)
            q.extra["t0"], q.extra["t1"] = span.start, span.end
            k = len(self.direct)
            self.direct.append(q)
            for i in range(span.start, span.end):
                self.in_quote[i] = True
                self.quote_of[i] = k

    def infer_gender(self) -> None:
        """Guess each person's gender from honorifics and from he/she in sentences naming only them."""
        votes: dict[str, list[int]] = {}
        by_sent: dict[int, list[dict]] = {}
        for m in self.mentions:
            if m["label"] != "person" or self.in_quote[m["tstart"]]:
                continue
            tok = self.doc[m["tstart"]]
            prev = self.doc[m["tstart"] - 1].lower_.rstrip(".") if m["tstart"] > 0 else ""
            v = votes.setdefault(m["value"], [0, 0])
            if prev == "mr":
                v[0] += 3
            elif prev in ("ms", "mrs", "miss"):
                v[1] += 3
            by_sent.setdefault(tok.sent.start, []).append(m)
        for start, ms in by_sent.items():
            names = {m["value"] for m in ms}
            if len(names) != 1:
                continue
            name = names.pop()
            first = min(m["tstart"] for m in ms)
            sent = self.doc[start].sent
            for t in self.doc[first : sent.end]:
                if self.in_quote[t.i]:
                    continue
                if t.lower_ in MALE:
                    votes[name][0] += 1
                elif t.lower_ in FEMALE:
                    votes[name][1] += 1
        for name, (m, f) in votes.items():
            if m > f:
                self.gender[name] = "m"
            elif f > m:
                self.gender[name] = "f"

    # ---- speakers ------------------------------------------------------------------------------
    def resolve(self, tok) -> tuple[str | None, str | None, str | None]:
        """(canonical speaker, speaker as written, label) for a subject token; None when unresolvable."""
        low = tok.lower_
        if low in FIRST_SECOND:
            return None, tok.text, None
        if low in PRONOUNS:
            if low in HE_SHE:
                name = self.antecedent_person(tok.i, HE_SHE[low])
                return name, tok.text, "person" if name else None
            if low in GROUP_PRONOUNS:
                name, label = self.antecedent_group(tok.i, low)
                return name, tok.text, label
            if low in {"who", "that", "which"} and tok.head.dep_ == "relcl":
                return self.resolve(tok.head.head)
            return None, tok.text, None
        if self.is_channel(tok):
            # "praised him on Twitter": the platform carries the words; whoever posted them speaks
            h = tok.head.head if tok.head.dep_ == "prep" else tok.head
            s = self.subject_of(h) if h.pos_ in ("VERB", "AUX") and h.i != tok.i else None
            if s is not None and s.i != tok.i and not self.is_channel(s):
                return self.resolve(s)
            return None, tok.text, None
        ent = self.ent_of.get(tok.i)
        etok = tok
        if ent is None:
            # The subject head may be a title or common noun with the name as a compound/appositive.
            for c in tok.children:
                if c.dep_ in ("appos", "compound") and c.i in self.ent_of and self.ent_of[c.i][0] in ("person", "org"):
                    if c.dep_ == "appos" or self.ent_of[c.i][0] == "person":
                        ent, etok = self.ent_of[c.i], c
                        break
        if ent is not None:
            label, value, a, b = ent
            if label == "person":
                partners = [self.ent_of[c.i][1] for c in etok.children
                            if c.dep_ == "conj" and c.i in self.ent_of and self.ent_of[c.i][0] == "person"]
                if len(partners) == 1 and partners[0] != value:
                    # "Tore Sohlberg and Lehla Abreder said": a joint statement, by both
                    return f"{value} and {partners[0]}", self.doc[a : etok.right_edge.i + 1].text, "group"
            if label != "person" and b - a == 1 and tok.pos_ == "PROPN":
                # A lone surname the NER took for an organisation ("Dia said"), named in full elsewhere.
                full = self.expand_name(tok)
                if full:
                    self.persons.add(full)
                    return self.persons.canonical(full), tok.text, "person"
            written = self.doc[a:b].text
            if label != "person" and any(w.lower().rstrip(".") in TITLE_WORDS for w in written.split()[:-1]) \
                    and written.split()[-1][:1].isupper() \
                    and not any(w.lower().strip(".,") in ORG_WORDS for w in written.split()) \
                    and not any(w == "of" for w in written.split()[1:]):
                # "Hereditary Chief Na'moks" tagged ORG: a title before a name makes it a person.
                name = clean_person(written)
                if name:
                    self.persons.add(name)
                    return self.persons.canonical(name), written, "person"
            if label == "place":
                label = "org"  # a country speaking ("Russia said") is a speaker like an organisation
            return value, written, label
        if tok.pos_ == "PROPN":
            for c in tok.subtree:
                # "Keeper of the Ruler's Seal, Syed Danial Syed Ahmad, said": the appositive name
                if c.dep_ == "appos" and c.i in self.ent_of and self.ent_of[c.i][0] == "person" \
                        and (c.i == tok.right_edge.i or self.doc[c.i + 1].text in (",", "(")):
                    return self.ent_of[c.i][1], self.doc[tok.i : c.i + 1].text, "person"
            a = tok.i
            while a > 0 and self.doc[a - 1].pos_ == "PROPN" and self.doc[a - 1].dep_ in ("compound", "nmod", "amod", "flat"):
                a -= 1
            written = self.doc[a : tok.i + 1].text
            if is_medium(written, strict=True):
                return clean_org(written), written, "org"  # "Facebook told employees": the company
            name = clean_person(written)
            if name:
                if len(name.split()) == 1 and not self.persons.knows(name):
                    full = self.expand_name(tok)
                    if full:
                        self.persons.add(full)
                return self.persons.canonical(name), written, "person"
            return None, written, None
        lemma = tok.lemma_.lower()
        if tok.pos_ in ("NOUN", "ADJ", "NUM") or _AGE_NOUN.match(low):
            written = self.doc[tok.left_edge.i : tok.i + 1].text
            if lemma in DOC_NOUNS:
                return self.resolve_document(tok, written)
            det = [c.lower_ for c in tok.children if c.dep_ in ("det", "poss")]
            if det and det[0] in ("the", "this", "that", "his", "her", "its", "their") or _AGE_NOUN.match(low):
                modified = any(c.dep_ in ("amod", "compound", "nmod") for c in tok.children)
                if tok.tag_ not in ("NNS", "NNPS") and not modified and (lemma in ORG_NOUNS or low in ORG_NOUNS):
                    name, label = self.antecedent_org_noun(tok.i, lemma)
                    if name:
                        return name, written, label
                elif tok.tag_ not in ("NNS", "NNPS") and (lemma in PERSON_NOUNS or _AGE_NOUN.match(low)):
                    name, label = self.antecedent_description(tok.i, lemma)
                    if name is None and det[0] == "the" and any(c.dep_ == "amod" for c in tok.children):
                        # "the laid-back Cambridge resident": a described person is the one in focus
                        name, label = self.antecedent_person(tok.i, None), "person"
                    if name:
                        return name, written, label
                elif det[0] == "the" and lemma in SOURCE_NOUNS:
                    # "the officials" after "administration officials said": the same source
                    for pos, name, label in reversed(self.spoken):
                        if pos < tok.i and label == "group" and name and low in name.lower().split():
                            return name, written, label
                elif tok.tag_ == "NN" and det[0] == "the" and lemma not in ORG_NOUNS and lemma not in SOURCE_NOUNS \
                        and _AGENT_NOUN.search(lemma):
                    # "the affable proprietor", "the bow-tied maverick": a singular definite description that
                    # speaks is the person in focus.
                    name = self.antecedent_person(tok.i, None)
                    if name:
                        return name, written, "person"
            # A source the article only describes ("officials", "a spokesperson for the camp"): the
            # description is all a reader is told, so it is the speaker as written.
            if lemma in SOURCE_NOUNS or low in SOURCE_NOUNS:
                value, label = self.description(tok)
                return value, written, label
            return None, written, None
        return None, tok.text, None

    def is_channel(self, tok) -> bool:
        """Whether tok names the medium of a statement ('on Twitter', 'via Facebook', 'through Telegram'),
        not its author."""
        if tok.dep_ == "pobj" and tok.head.lower_ in ("on", "via", "through"):
            ent = self.ent_of.get(tok.i)
            return tok.pos_ == "PROPN" and (ent is None or ent[0] != "person")
        return is_medium(tok.text, strict=True) and tok.dep_ not in ("nsubj", "nsubjpass")

    def description(self, tok) -> tuple[str | None, str | None]:
        """(The subject noun phrase as written, without relative clauses, "group"); None when too vague."""
        a, b = tok.left_edge.i, tok.right_edge.i + 1
        for c in tok.subtree:
            # "the captain of the team, Jordan Stewart": the person the description is in apposition to
            # (but not "a spokeswoman for Trudeau").
            if c.dep_ == "appos" and c.i in self.ent_of and self.ent_of[c.i][0] == "person":
                return self.ent_of[c.i][1], "person"
        for i in range(a + 1, b):
            if self.doc[i].text in (",", "(", "—", "–") or self.doc[i].lower_ in ("but", "who", "whose", "which"):
                b = i
                break
        for c in tok.children:
            if c.i > tok.i and (c.dep_ in ("relcl", "appos", "advcl") or c.text in (",", "(", "—", "–")):
                b = min(b, c.left_edge.i)
        while b > a and (self.doc[b - 1].is_punct or self.doc[b - 1].is_space):
            b -= 1
        if b <= a or b - a > 14 or any(self.in_quote[i] for i in range(a, b)):
            return None, None
        if tok.lower_ in ("one", "some", "many", "others", "people", "all", "both", "each") and b - a == 1:
            return None, None
        text = " ".join(self.doc[a:b].text.split())
        if self.doc[a].pos_ != "PROPN":
            text = text[:1].lower() + text[1:]  # "Officials said" and "officials said" are one facet value
        return text, "group"

    def resolve_document(self, tok, written):
        """'A statement from X said': X, else whoever spoke last."""
        for u in tok.subtree:
            if u.i != tok.i and u.i in self.ent_of and self.ent_of[u.i][0] in ("person", "org", "place") \
                    and not self.is_channel(u):  # "a statement posted on Twitter" is not Twitter's
                label, value, _a, _b = self.ent_of[u.i]
                return value, written, "person" if label == "person" else "org"
        for c in tok.children:
            if c.dep_ == "poss" and c.lower_ not in FIRST_SECOND:
                name, _w, label = self.resolve(c)
                return name, written, label
        if self.spoken:
            _pos, name, label = self.spoken[-1]
            return name, written, label
        return None, written, None

    def expand_name(self, tok) -> str | None:
        """A surname the NER missed as a person: its longest 'First Last' form elsewhere in the text."""
        best = None
        for t in self.doc:
            if t.text != tok.text or self.in_quote[t.i] or t.i == 0:
                continue
            a = t.i
            while a > 0 and self.doc[a - 1].pos_ == "PROPN" and self.doc[a - 1].text[:1].isupper() and "\n" not in self.doc[a - 1].whitespace_:
                a -= 1
            if a < t.i:
                name = clean_person(self.doc[a : t.i + 1].text)
                if name and len(name.split()) > 1 and (best is None or len(name) > len(best)):
                    best = name
        return best

    def antecedent_person(self, i: int, gender: str | None) -> str | None:
        """The person a pronoun or description at token i most likely refers to."""
        last_speaker = None
        for pos, name, label in reversed(self.spoken):
            if pos < i and label == "person":
                if gender is None or self.gender.get(name) in (None, gender):
                    last_speaker = (pos, name)
                break
        recent = None
        for m in reversed(self.mentions):
            if m["tstart"] >= i or m["label"] != "person" or self.in_quote[m["tstart"]]:
                continue
            if gender and self.gender.get(m["value"]) not in (None, gender):
                continue
            if last_speaker and m["tstart"] <= last_speaker[0]:
                break
            root = self.doc[m["tend"] - 1]
            # Someone new introduced as a subject since the last speaker takes over the pronoun.
            if root.dep_ in ("nsubj", "nsubjpass") or (recent is None and last_speaker is None):
                recent = recent or m["value"]
                if root.dep_ in ("nsubj", "nsubjpass"):
                    return m["value"]
        if last_speaker:
            return last_speaker[1]
        if recent:
            return recent
        for m in reversed(self.mentions):
            if m["tstart"] < i and m["label"] == "person" and not self.in_quote[m["tstart"]]:
                if gender is None or self.gender.get(m["value"]) in (None, gender):
                    return m["value"]
        return None

    def antecedent_org_noun(self, i: int, lemma: str) -> tuple[str | None, str | None]:
        """'the board' -> 'Parole Board of Canada'; 'the company' -> the last company named."""
        for m in reversed(self.mentions):
            if m["tstart"] < i and m["label"] == "org" and lemma in m["value"].lower().split():
                return m["value"], "org"
        if lemma in ANAPHORIC_ORG_NOUNS:
            return self.antecedent_group(i, "it")
        return None, None

    def antecedent_description(self, i: int, lemma: str) -> tuple[str | None, str | None]:
        """'the mayor' -> the person titled Mayor, or the source described as 'a ... official' before."""
        word = self.doc[i].lower_
        for pos, name, label in reversed(self.spoken):
            if pos < i and label == "group" and name and (lemma in name.lower().split() or word in name.lower().split()):
                return name, label
        for m in reversed(self.mentions):
            if m["tstart"] < i and m["label"] == "person":
                before = self.doc[max(0, m["tstart"] - 3) : m["tstart"]]
                if any(t.lower_ == lemma for t in before) or lemma in m["text"].lower().split():
                    return m["value"], "person"
        if _AGE_NOUN.match(lemma) or lemma in ("man", "woman", "boy", "girl", "father", "mother"):
            name = self.antecedent_person(i, None)
            return (name, "person") if name else (None, None)
        return None, None

    def antecedent_group(self, i: int, low: str) -> tuple[str | None, str | None]:
        """The organisation 'it'/'they'/'the company' at token i refers to, if one was named."""
        if low in ("they", "them"):
            # "they" continues a group or organisation that just spoke; never a lone person.
            for pos, name, label in reversed(self.spoken):
                if pos < i:
                    if label in ("group", "org") and self.para_of[i] - self.para_of[pos] <= 3:
                        return name, label
                    break
            return None, None
        for pos, name, label in reversed(self.spoken):
            if pos < i and label == "org":
                # An organisation that spoke recently is the likeliest "it".
                if not any(pos < m["tstart"] < i and m["label"] == "org" and not self.in_quote[m["tstart"]]
                           and self.doc[m["tend"] - 1].dep_ in ("nsubj", "nsubjpass") for m in self.mentions):
                    return name, label
                break
        for m in reversed(self.mentions):
            if m["tstart"] >= i or self.in_quote[m["tstart"]]:
                continue
            if m["label"] == "org":
                return m["value"], "org"
        return None, None

    def subject_of(self, v):
        """The subject token of reporting verb v, following conjunctions and participles."""
        for c in v.children:
            if c.dep_ in ("nsubj", "nsubjpass", "csubj"):
                if c.dep_ == "nsubjpass":
                    for a in v.children:
                        if a.dep_ == "agent":
                            for p in a.children:
                                if p.dep_ == "pobj":
                                    return p
                    return None
                return c
        h = v
        while h.dep_ in ("pcomp", "prep", "advcl") and h.head.i != h.i:
            h = h.head
        if v.tag_ == "VBG" and h.lemma_ == "quote":
            # "He was quoted as saying ...": the one quoted
            for c in h.children:
                if c.dep_ == "nsubjpass":
                    return c
        # "she laughed and said ...", ", he said, adding that ..."
        if v.dep_ in ("conj", "advcl", "xcomp") and v.head is not v:
            h = v.head
            if h.lemma_ in REPORT_LEMMAS or v.dep_ == "conj" or v.tag_ == "VBG":
                return self.subject_of(h) if h.i != v.i else None
        if v.tag_ in ("VBD", "VBZ", "VBP"):
            return self.left_subject(v)
        return None

    def left_subject(self, v):
        """When the parse lost the subject ("Sen. Jane Roe, D-Mich., a member of the team, said ..."):
        the first name opening the verb's clause, if no other verb stands between them."""
        p = self.para_of[v.i]
        j = v.i - 1
        while j >= 0 and self.para_of[j] == p and not self.in_quote[j] and self.doc[j].text not in (".", "!", "?", ";", ":"):
            if self.doc[j].pos_ in ("VERB", "AUX"):
                return None
            j -= 1
        for k in range(j + 1, v.i):
            t = self.doc[k]
            if t.is_space or t.is_punct:
                continue
            if k in self.ent_of and self.ent_of[k][0] in ("person", "org"):
                end = self.ent_of[k][3]
                # only the appositive shape "Name, role, said"
                return self.doc[end - 1] if end < v.i and self.doc[end].text == "," else None
            return None
        return None

    def inverted_subject(self, v, lo: int, hi: int):
        """For "said Smith" and "..., Smith said" when the parser missed the subject: nearest nominal."""
        for j in range(v.i + 1, min(hi, v.i + 9)):
            t = self.doc[j]
            if t.text in (",", ";", ":") or (t.pos_ == "VERB" and t.dep_ not in ("amod", "compound")):
                break  # past the inverted subject
            if t.pos_ in ("PROPN", "PRON") or t.i in self.ent_of:
                while t.dep_ in ("compound", "flat") and t.head.i > t.i and t.head.i < hi:
                    t = t.head
                return t
            if t.pos_ in ("NOUN",):
                return t
        return None

    # ---- cues ----------------------------------------------------------------------------------
    def is_report_verb(self, t) -> bool:
        """A reporting verb outside quotation marks."""
        if self.in_quote[t.i]:
            return False
        if t.pos_ not in ("VERB", "AUX") and t.tag_ not in ("VBD", "VBZ", "VBP", "VBG", "VBN", "VB"):
            return False
        lem = t.lemma_.lower()
        if lem == "write" and t.tag_ == "VBN":
            return False
        if lem == "point" and not any(c.dep_ == "prt" and c.lower_ == "out" for c in t.children):
            return False
        return lem in REPORT_LEMMAS

    def region_after(self, t1: int) -> tuple[int, int]:
        """Tokens after a quote up to the end of its sentence, the next quote or the paragraph end."""
        doc = self.doc
        j = t1
        stop = min(len(doc), t1 + 30)
        while j < stop:
            t = doc[j]
            if self.in_quote[j] or "\n" in t.text:
                break
            if t.text in (".", "!", "?") and j > t1 and not self._abbreviation_stop(j):
                break
            j += 1
            if "\n" in t.whitespace_:
                break
        return t1, j

    def _abbreviation_stop(self, j: int) -> bool:
        """Whether the period at token j closes a title abbreviation ("Lt. Tom Wilkison"), not a sentence."""
        prev = self.doc[j - 1]
        return self.doc[j].text == "." and not prev.whitespace_ and prev.lower_ in _ABBREVIATIONS

    def region_before(self, t0: int) -> tuple[int, int]:
        """Tokens before a quote back to its sentence start, the previous quote or the paragraph start."""
        doc = self.doc
        j = t0
        stop = max(0, t0 - 30)
        while j > stop:
            t = doc[j - 1]
            if self.in_quote[j - 1] or "\n" in t.text or "\n" in t.whitespace_:
                break
            if t.text in (".", "!", "?") and not self._abbreviation_stop(j - 1):
                break
            j -= 1
        return j, t0

    def cue_in(self, lo: int, hi: int, prefer_last: bool):
        """The reporting verb (or 'according to') in tokens lo..hi and its speaker token."""
        idx = range(hi - 1, lo - 1, -1) if prefer_last else range(lo, hi)
        for j in idx:
            t = self.doc[j]
            if t.lower_ == "according" and j + 1 < hi and self.doc[j + 1].lower_ == "to":
                for k in range(j + 2, min(hi, j + 8)):
                    u = self.doc[k]
                    if u.dep_ == "pobj" or u.i in self.ent_of:
                        while u.dep_ in ("compound", "flat") and u.head.i > u.i:
                            u = u.head
                        return t, u
                continue
            if self.is_report_verb(t):
                s = self.subject_of(t)
                if s is not None and not (lo <= s.i < hi):
                    s = None if self.in_quote[s.i] else s
                if s is None:
                    s = self.inverted_subject(t, lo, hi)
                if s is None:
                    # "..., he said" where the parser hung the pronoun elsewhere: nearest nominal before
                    for k in range(j - 1, max(lo - 1, j - 6), -1):
                        u = self.doc[k]
                        if u.pos_ in ("PRON", "PROPN") or u.i in self.ent_of:
                            s = u
                            break
                if s is not None:
                    return t, s
        return None, None

    def dash_speaker(self, lo: int, hi: int):
        """For '"..." — Jane Smith' the name after the dash."""
        if hi - lo < 2 or hi - lo > 8 or self.doc[lo].text not in ("—", "–", "-", "--"):
            return None
        # only a byline-like tail: the dash and name end the paragraph
        if hi < len(self.doc) and not ("\n" in self.doc[hi - 1].whitespace_ or "\n" in self.doc[hi].text
                                       or self.doc[hi].text in (".",)):
            return None
        for j in range(lo + 1, min(hi, lo + 5)):
            t = self.doc[j]
            if t.i in self.ent_of and self.ent_of[t.i][0] in ("person", "org"):
                a, b = self.ent_of[t.i][2], self.ent_of[t.i][3]
                return self.doc[b - 1]
            if t.pos_ == "PROPN":
                while j + 1 < hi and self.doc[j + 1].pos_ == "PROPN":
                    j += 1
                return self.doc[j]
        return None

    def colon_speaker(self, lo: int, hi: int):
        """For 'Smith: "..."' the name before the colon."""
        if hi - 1 < lo or self.doc[hi - 1].text not in (":",):
            return None
        for j in range(hi - 2, max(lo - 1, hi - 8), -1):
            t = self.doc[j]
            if self.is_channel(t):
                return t  # resolve() finds who posted it
            if t.i in self.ent_of and self.ent_of[t.i][0] in ("person", "org"):
                return t
            if t.pos_ in ("PROPN", "PRON"):
                return t
        return None

    # ---- indirect quotes -----------------------------------------------------------------------
    def _trim(self, a: int, b: int) -> tuple[int, int]:
        """Shrink a token range to exclude edge punctuation and spaces outside quote marks, and grow
        it over direct quotes it cuts into, so 'X said the plan was "a mess"' is one quote."""
        doc = self.doc
        while a > 0 and self.in_quote[a] and self.in_quote[a - 1] and self.quote_of[a - 1] == self.quote_of[a]:
            a -= 1
        while b < len(doc) and self.in_quote[b - 1] and self.in_quote[b] and self.quote_of[b] == self.quote_of[b - 1]:
            b += 1
        while b > a and (doc[b - 1].is_space or (doc[b - 1].is_punct and not self.in_quote[b - 1])):
            b -= 1
        while a < b and (doc[a].is_space or (doc[a].is_punct and not self.in_quote[a])):
            a += 1
        return a, b

    def _clip_paragraph(self, a: int, b: int, anchor: int) -> tuple[int, int]:
        """Keep only the part of a token range in the anchor token's paragraph."""
        p = self.para_of[anchor]
        while a < b and self.para_of[a] != p:
            a += 1
        while b > a and self.para_of[b - 1] != p:
            b -= 1
        return a, b

    def _is_argument(self, v, t0: int, t1: int) -> bool:
        """Whether the quoted tokens t0..t1 are an object or complement of verb v (not a title in a
        prepositional phrase such as 'on CBS' "Face the Nation"')."""
        for t in self.doc[t0:t1]:
            if t.head.i < t0 or t.head.i >= t1:  # a root of the quoted span
                h, dep = t.head, t.dep_
                if h.i == v.i and dep in ("dobj", "oprd", "attr", "ccomp", "xcomp", "acomp", "npadvmod", "dep"):
                    return True
                if h.head.i == v.i and h.dep_ in ("dobj", "oprd", "attr", "acomp") and dep in ("amod", "compound", "oprd", "attr", "appos", "conj"):
                    return True
                if h.lower_ == "as" and h.head.i == v.i:
                    return True  # 'described it as "basically kidnapping"'
        return False

    def _headline(self, i: int) -> bool:
        """Whether token i sits in a headline-like line ('READ MORE: ...', a line with no final stop)."""
        p = self.para_of[i]
        a = i
        while a > 0 and self.para_of[a - 1] == p:
            a -= 1
        b = i
        while b + 1 < len(self.doc) and self.para_of[b + 1] == p:
            b += 1
        while b > a and self.doc[b].is_space:
            b -= 1
        first, last = self.doc[a], self.doc[b]
        if first.is_upper and first.is_alpha and len(first) > 1 and any(t.text == ":" for t in self.doc[a : min(b, a + 4)]):
            return True
        return not last.text.endswith((".", "!", "?", "”", '"', "’", "'", "…", ")")) and b - a < 25

    def _indirect(self, a: int, b: int, verb, subj, verb_text=None) -> Quote | None:
        """An indirect quote over tokens a..b, unless it is really a direct quote or too short."""
        doc = self.doc
        if self._headline(verb.i):
            return None  # headlines and "READ MORE:" links report, they do not quote
        a, b = self._clip_paragraph(a, b, verb.i)
        words = [x for x in doc[a:b] if not x.is_punct and not x.is_space]
        if len(words) < 3:
            return None
        quoted = sum(1 for x in words if self.in_quote[x.i])
        if self.in_quote[words[0].i] and quoted >= 0.5 * len(words):
            return None  # the complement is a direct quote: handled with the direct quotes
        a, b = self._trim(a, b)
        if b <= a:
            return None
        q = Quote(doc[a].idx, doc[b - 1].idx + len(doc[b - 1].text), "indirect", verb=verb_text or verb.text, cue=True)
        q.extra.update(t0=a, t1=b, verb_i=verb.i, subj=subj)
        return q

    def collect_indirect(self) -> list[Quote]:
        """Reported speech: a reporting verb's clausal complement, and 'according to X' sentences."""
        out: list[Quote] = []
        doc = self.doc
        for t in doc:
            if not self.is_report_verb(t):
                if t.lower_ == "according" and not self.in_quote[t.i]:
                    q = self._according(t)
                    if q:
                        out.append(q)
                continue
            if any(c.dep_ == "neg" for c in t.children):
                continue
            if any(c.dep_ == "auxpass" for c in t.children) and not any(c.dep_ == "agent" for c in t.children):
                continue  # "paramedics were asked to ...": the asker is not named
            subj = self.subject_of(t)
            if subj is None or self.in_quote[subj.i]:
                continue
            if subj.lower_ in FIRST_SECOND:
                continue
            comps = [c for c in t.children if c.dep_ == "ccomp" and c.i > t.i] or [c for c in t.children if c.dep_ == "ccomp"]
            if not comps and t.lemma_.lower() in DIRECTIVE_LEMMAS:
                # "urged residents to conserve water": the infinitive after the addressee is the message
                comps = [c for c in t.children if c.dep_ == "xcomp" and c.i > t.i
                         and any(d.dep_ == "aux" and d.lower_ == "to" for d in c.children)]
            if not comps:
                # "said in a statement that ...": the parse hung the that-clause on the noun
                for c in t.subtree:
                    if c.i > t.i and c.dep_ == "mark" and c.lower_ == "that" and c.head.pos_ in ("VERB", "AUX") \
                            and c.head.dep_ in ("acl", "relcl", "advcl") and c.i - t.i <= 8:
                        comps = [c.head]
                        break
            if comps:
                comp = comps[-1]
                a, b = comp.left_edge.i, comp.right_edge.i + 1
                first = doc[a]
                if first.lower_ in QUESTION_WORDS:
                    continue  # "asked whether ...": a question reported, not a statement
                if t.lemma_.lower() in WEAK_LEMMAS and first.lower_ != "that":
                    continue
                q = self._indirect(a, b, t, subj)
            else:
                q = self._parenthetical(t, subj)
            if q:
                out.append(q)
        return out

    def _parenthetical(self, v, subj) -> Quote | None:
        """'The plan, he said, is sound.' / 'The plan is sound, he said.': the cue set off by commas."""
        doc = self.doc
        if v.lemma_.lower() not in ("say", "add", "note", "explain", "argue", "insist", "claim", "warn", "write", "tell"):
            return None
        lo, hi = min(v.i, subj.left_edge.i), max(v.i, subj.right_edge.i) + 1
        # allow a trailing time word or "in a statement" after the verb
        while hi < len(doc) and doc[hi].dep_ in ("npadvmod", "advmod", "prep", "pobj", "det", "compound", "amod", "dobj") and not self.in_quote[hi] and hi - v.i < 6:
            hi += 1
        if lo == 0 or doc[lo - 1].text != ",":
            return None
        sent = v.sent
        if hi < sent.end and doc[hi].text not in (",", ".", "!", "?") and not doc[hi].is_space:
            return None
        if any(self.in_quote[i] for i in range(sent.start, sent.end)):
            return None  # '"...," Gillis said, his voice breaking': the cue of a direct quote
        a, b = sent.start, sent.end
        if hi < sent.end and doc[hi].text == ",":
            # mid-sentence cue: both sides are the statement
            a_, b_ = self._clip_paragraph(a, b, v.i)
            q = self._indirect(a_, b_, v, subj)
            if q:
                # the cue itself is inside the span; harmless for the text, but keep the left part's start
                return q
            return None
        return self._indirect(a, lo - 1, v, subj)

    def _according(self, t) -> Quote | None:
        """'According to X, ...': the rest of the sentence is X's statement."""
        doc = self.doc
        if t.i + 1 >= len(doc) or doc[t.i + 1].lower_ != "to":
            return None
        to = doc[t.i + 1]
        pobj = next((c for c in to.children if c.dep_ == "pobj"), None)
        if pobj is None:
            return None
        speaker_tok = pobj
        # "according to a study by Civic Action": the named source inside the phrase; but "according to
        # the person who spoke to The Associated Press" is the person.
        if pobj.i not in self.ent_of and not (pobj.lemma_.lower() in SOURCE_NOUNS and pobj.pos_ == "NOUN"):
            for u in pobj.subtree:
                if u.i in self.ent_of and self.ent_of[u.i][0] in ("person", "org", "place"):
                    speaker_tok = u
                    break
        sent = t.sent
        phrase_lo, phrase_hi = t.i, pobj.right_edge.i + 1
        if phrase_lo - sent.start <= 1:
            a, b = phrase_hi, sent.end
        else:
            a, b = sent.start, phrase_lo
        return self._indirect(a, b, t, speaker_tok, "according to")

    # ---- putting it together -------------------------------------------------------------------
    def collect_embedded_posts(self) -> list[Quote]:
        """Embedded social-media posts ('text pic.twitter.com/x — Jane Roe (@jroe) May 6, 2021'): the
        post is a verbatim quote by its author."""
        out = []
        for m in _EMBEDDED_POST.finditer(self.text):
            body_end = m.start("tail")
            while body_end > m.start() and self.text[body_end - 1].isspace():
                body_end -= 1
            author = self.doc.char_span(m.start("author"), m.end("author"), alignment_mode="expand")
            if author is None or body_end - m.start() < 10:
                continue
            body = self.doc.char_span(m.start(), body_end, alignment_mode="expand")
            if body is None:
                continue
            q = Quote(m.start(), body_end, "direct", verb="posted", cue=True)
            q.extra.update(t0=body.start, t1=body.end, subj=author[-1], post=True)
            out.append(q)
        return out

    def run(self) -> list[Quote]:
        """All quotes of the doc in text order, with speakers resolved and floating quotes carried over."""
        self.collect_direct()
        self.infer_gender()
        posts = self.collect_embedded_posts()
        for pq in posts:
            for dq in self.direct:
                if dq.start >= pq.start and dq.end <= pq.end + 1:
                    dq.absorbed = True
        indirect = self.collect_indirect() + posts
        for iq in indirect:
            for k in {self.quote_of[i] for i in range(iq.extra["t0"], iq.extra["t1"]) if self.quote_of[i] >= 0}:
                dq = self.direct[k]
                if dq.start >= iq.start - 1 and dq.end <= iq.end + 1:
                    dq.absorbed = True
        for dq in self.direct:
            if dq.absorbed:
                continue
            t0, t1 = dq.extra["t0"], dq.extra["t1"]
            lo, hi = self.region_after(t1)
            v, s = self.cue_in(lo, hi, prefer_last=False)
            if v is None:
                s = self.dash_speaker(lo, hi)
                if s is not None:
                    dq.verb = "—"
            before_lo, before_hi = self.region_before(t0)
            dq.extra["before"] = before_hi - before_lo
            if v is None and s is None:
                v, s = self.cue_in(before_lo, before_hi, prefer_last=True)
                if v is None:
                    s = self.colon_speaker(before_lo, before_hi)
                    if s is not None:
                        dq.verb = ":"
            if s is not None:
                dq.cue = True
                dq.extra["subj"] = s
                # 'called it "a rookie mistake"': a short quote that is the cue verb's own argument
                dq.extra["argument"] = v is not None and self._is_argument(v, t0, t1)
                if v is not None:
                    dq.verb = v.text if v.lower_ != "according" else "according to"
        quotes = [q for q in self.direct if not q.absorbed] + indirect
        quotes.sort(key=lambda q: q.start)
        self.attribute(quotes)
        return [q for q in quotes if not q.extra.get("drop")]

    def attribute(self, quotes: list[Quote]) -> None:
        """Resolve speakers in text order; floating quotes continue the previous speaker."""
        self._attribute(quotes)
        # A quotation running over several paragraphs has one speaker, wherever its cue stands.
        cued = {}
        for q in quotes:
            if q.kind == "direct" and q.cue and q.group not in cued and not q.extra.get("drop"):
                cued[q.group] = q
        for q in quotes:
            g = cued.get(q.group) if q.kind == "direct" else None
            if g is not None and not q.cue:
                q.speaker, q.label = g.speaker, g.label
                q.extra.pop("drop", None)
        self._name_described_speakers(quotes)
        for q in quotes:
            if q.speaker and q.label == "org" and q.speaker in self.takes_article:
                q.speaker = "the " + q.speaker

    def _name_described_speakers(self, quotes: list[Quote]) -> None:
        """'A spokeswoman for the minister said ...' then '"...," said Jane Roe': the next quote names her,
        when Jane Roe was not mentioned before the description."""
        live = [q for q in quotes if not q.extra.get("drop")]
        for k, q in enumerate(live[:-1]):
            subj = q.extra.get("subj")
            if q.label != "group" or subj is None or subj.tag_ != "NN" or subj.lemma_.lower() not in PERSON_NOUNS:
                continue
            if not any(c.lower_ in ("a", "an") for c in subj.children if c.dep_ == "det"):
                continue
            nxt = live[k + 1]
            nsubj = nxt.extra.get("subj")
            if nxt.label != "person" or nsubj is None or not nxt.cue or nsubj.i < subj.i:
                continue
            if self.para_of[nsubj.i] - self.para_of[subj.i] > 1:
                continue
            if any(m["value"] == nxt.speaker and m["tstart"] < subj.i for m in self.mentions):
                continue
            named = nxt.speaker
            for other in live:
                if other.speaker == q.speaker and other.label == "group":
                    other.speaker, other.label = named, "person"

    def _attribute(self, quotes: list[Quote]) -> None:
        """Resolve speakers in text order (see attribute)."""
        prev: Quote | None = None
        groups: dict[int, Quote] = {}
        for q in quotes:
            subj = q.extra.get("subj")
            if subj is not None:
                q.speaker, q.speaker_text, q.label = self.resolve(subj)
                if q.speaker and not q.extra.get("post"):
                    # embedded posts stand outside the narration: "he said" after one is not its author
                    self.spoken.append((subj.i, q.speaker, q.label))
            if q.kind == "direct":
                words = len(re.findall(r"\w+", self.text[q.start : q.end]))
                embedded = q.extra.get("before", 0) > 2
                if not q.cue:
                    g = groups.get(q.group)
                    if g is not None:
                        q.speaker, q.speaker_text, q.label = g.speaker, g.speaker_text, g.label
                    elif embedded or words <= 2 or self._title(q) or (words < 4 and not (prev is not None and self._near(prev, q))):
                        # Quoted words inside narration with no cue: a title, a term or scare quotes.
                        q.extra["drop"] = True
                        continue
                    else:
                        intro = self.introduced_person(q)
                        if intro is not None:
                            q.speaker, q.label, q.speaker_text = intro, "person", None
                            self.spoken.append((q.extra["t0"], intro, "person"))
                        elif prev is not None:
                            q.speaker, q.label, q.speaker_text = prev.speaker, prev.label, None
                elif (words < 4 and embedded and not q.extra.get("argument")) or self._title(q):
                    q.extra["drop"] = True  # 'the plan was "a disaster," he said' keeps only the cue's clause
                    continue
                if q.group not in groups and q.cue:
                    groups[q.group] = q
            prev = q

    def _title(self, q: Quote) -> bool:
        """'"The Kid Who Would Be King"': every word capitalised and no sentence inside is a title."""
        inner = self.text[q.start : q.end].strip("\"“”„«»'‘’` ,.")
        words = re.findall(r"[A-Za-z][\w'’-]*", inner)
        small = {"a", "an", "the", "of", "and", "or", "in", "on", "to", "for", "with", "at", "by"}
        return 0 < len(words) <= 8 and all(w[0].isupper() or w.lower() in small for w in words) \
            and words[0][0].isupper() and not re.search(r"[.!?]\s", inner)

    def introduced_person(self, q: Quote) -> str | None:
        """A quote opening a paragraph right after one that introduces someone as its subject
        ("Jerry Sabine hopes ...") is that person's, not the previous speaker's."""
        t0 = q.extra["t0"]
        para = self.para_of[t0]
        if t0 > 0 and self.para_of[t0 - 1] == para and not self.doc[t0 - 1].is_space:
            return None  # not at the start of its paragraph
        j = t0 - 1
        while j >= 0 and self.para_of[j] == para:
            j -= 1
        while j >= 0 and self.doc[j].is_space:
            j -= 1
        if j < 0:
            return None
        prev_para = self.para_of[j]
        k = j
        while k >= 0 and self.para_of[k] == prev_para:
            if self.in_quote[k] or (self.is_report_verb(self.doc[k]) and self.subject_of(self.doc[k]) is not None):
                return None  # the previous paragraph quotes or reports someone: carry that over instead
            k -= 1
        for m in self.mentions:
            if m["label"] == "person" and k < m["tstart"] <= j and self.doc[m["tend"] - 1].dep_ in ("nsubj", "nsubjpass"):
                return m["value"]
        return None

    def _near(self, prev: Quote, q: Quote) -> bool:
        """Whether q follows prev closely (same or next paragraph)."""
        a = self.doc.char_span(prev.start, prev.end, alignment_mode="expand")
        b = self.doc.char_span(q.start, q.end, alignment_mode="expand")
        return a is not None and b is not None and self.para_of[b.start] - self.para_of[a.start] <= 1


def extract_quotes(doc, mentions, persons: PersonIndex) -> list[dict]:
    """Quotes of a parsed Doc as plain dicts (see docs/CONTRACTS.md); 'label' is for the caller."""
    out = []
    text = doc.text  # Doc.text joins every token: build it once, not per quote
    for q in Attributor(doc, mentions, persons).run():
        out.append(
            {
                "speaker": q.speaker,
                "speaker_text": q.speaker_text,
                "text": text[q.start : q.end],
                "verb": q.verb,
                "start": q.start,
                "end": q.end,
                "kind": q.kind,
                "label": q.label,
            }
        )
    return out
