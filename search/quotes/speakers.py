"""Step 4: speaker resolution. From the token a cue names as the source to a canonical speaker:
names (and surnames the NER missed), pronouns, definite descriptions ("the mayor"), described
sources ("officials"), documents ("a statement from X"). A typed discourse history records who spoke
where, for pronouns and descriptions that point back."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from search.lexicon import is_given_name
from search.names import ORG_WORDS, PRONOUNS, TITLE_WORDS, clean_org, clean_person, is_medium
from search.quotes.cues import is_channel, is_report_verb, subject_of
from search.quotes.model import antecedent_candidates
from search.quotes.lexicon import (AGE_NOUN, AGENT_NOUN, ANAPHORIC_ORG_NOUNS, DEFINITE_DETERMINERS, DOC_NOUNS,
                                   FEMALE, FEMALE_HONORIFICS, FEMALE_NOUNS, FIRST_SECOND, FOCUS_PERSON_NOUNS,
                                   GROUP_PRONOUNS, HE_SHE, INDEFINITE_DETERMINERS, MALE, MALE_HONORIFICS, MALE_NOUNS,
                                   ORG_NOUNS, PERSON_NOUNS, RELATIVE_PRONOUNS, SOURCE_NOUNS, STATEMENT_NOUNS,
                                   VAGUE_SUBJECTS)
from search.quotes.view import ArticleView


class Speaker(NamedTuple):
    """Who a source token stands for: canonical name (None when unresolved), the words as written, and
    the kind of speaker ("person", "org", "group"; None when unresolved)."""

    name: str | None
    written: str | None
    label: str | None
    how: str = ""  # which rule resolved it ("name", "pronoun", "description", ...): a confidence feature


class Turn(NamedTuple):
    """One resolved speaker in the discourse: where the source token stood, the name, its kind."""

    pos: int
    name: str
    label: str


@dataclass
class Discourse:
    """What the article has established so far: who spoke (in text order) and people's genders."""

    turns: list[Turn] = field(default_factory=list)
    gender: dict[str, str] = field(default_factory=dict)  # person -> "m" | "f"

    def add(self, pos: int, name: str, label: str) -> None:
        """Record that name spoke from token pos."""
        self.turns.append(Turn(pos, name, label))

    def before(self, i: int):
        """Turns before token i, latest first."""
        return (t for t in reversed(self.turns) if t.pos < i)


def noun_gender(lemma: str) -> str | None:
    """The gender a noun tells ("businessman", "congresswoman", "mother"), None for most nouns."""
    if lemma in FEMALE_NOUNS or lemma.endswith("woman"):
        return "f"
    if lemma in MALE_NOUNS or (lemma.endswith("man") and not lemma.endswith("human")):
        return "m"
    return None


def infer_gender(view: ArticleView) -> dict[str, str]:
    """Guess each person's gender from honorifics and from he/she in sentences naming only them."""
    doc = view.doc
    votes: dict[str, list[int]] = {}
    by_sent: dict[int, list[dict]] = {}
    for m in view.mentions:
        if m["label"] != "person" or view.in_quote[m["tstart"]]:
            continue
        tok = doc[m["tstart"]]
        prev = doc[m["tstart"] - 1].lower_.rstrip(".") if m["tstart"] > 0 else ""
        v = votes.setdefault(m["value"], [0, 0])
        if prev in MALE_HONORIFICS:
            v[0] += 3
        elif prev in FEMALE_HONORIFICS:
            v[1] += 3
        by_sent.setdefault(tok.sent.start, []).append(m)
    for start, ms in by_sent.items():
        names = {m["value"] for m in ms}
        if len(names) != 1:
            continue
        name = names.pop()
        first = min(m["tstart"] for m in ms)
        sent = doc[start].sent
        for t in doc[first : sent.end]:
            if view.in_quote[t.i]:
                continue
            if t.lower_ in MALE:
                votes[name][0] += 1
            elif t.lower_ in FEMALE:
                votes[name][1] += 1
    out = {}
    for name, (m, f) in votes.items():
        if m > f:
            out[name] = "m"
        elif f > m:
            out[name] = "f"
    return out


class SpeakerResolver:
    """Resolves source tokens of one article to speakers, keeping the discourse history."""

    def __init__(self, view: ArticleView, antecedents=None):
        """Start with an empty history and the genders the article tells; `antecedents` is the trained
        antecedent ranker (model.default_antecedent()), None for the rules alone."""
        self.view = view
        self.doc = view.doc
        self.discourse = Discourse(gender=infer_gender(view))
        self.antecedents = antecedents
        self.own: tuple[int, int] | None = None  # token range of the quote being attributed

    def resolve_quote(self, tok, t0: int, t1: int) -> Speaker:
        """The speaker of the quote over tokens t0..t1 whose cue names tok as its source."""
        self.own = (t0, t1)
        try:
            return self.resolve(tok)
        finally:
            self.own = None

    # ---- the entry point ------------------------------------------------------------------------
    def resolve(self, tok) -> Speaker:
        """The speaker a source token stands for."""
        view, doc = self.view, self.doc
        low = tok.lower_
        if low in FIRST_SECOND:
            return Speaker(None, tok.text, None)
        if low in PRONOUNS:
            return self._pronoun(tok)
        if is_channel(view, tok):
            # "praised him on a podcast": the channel carries the words; whoever posted them speaks
            h = tok.head.head if tok.head.dep_ == "prep" else tok.head
            s = subject_of(view, h) if h.pos_ in ("VERB", "AUX") and h.i != tok.i else None
            if s is not None and s.i != tok.i and not is_channel(view, s):
                return self.resolve(s)
            return Speaker(None, tok.text, None)
        ent = view.ent_of.get(tok.i)
        etok = tok
        if ent is None:
            # The subject head may be a title or common noun with the name as a compound/appositive.
            for c in tok.children:
                if c.dep_ in ("appos", "compound") and view.entity(c.i, ("person", "org")) is not None:
                    if c.dep_ == "appos" or view.ent_of[c.i].label == "person":
                        ent, etok = view.ent_of[c.i], c
                        break
        if ent is not None:
            return self._entity(tok, etok, ent)
        if tok.pos_ == "PROPN" or (tok.pos_ == "NOUN" and tok.text[:1].isupper() and self.known_surname(tok)):
            # a surname the tagger took for a common noun ("Ross said" where the article also writes "Ann Ross")
            return self._proper_noun(tok)
        if tok.pos_ in ("NOUN", "ADJ", "NUM") or AGE_NOUN.match(low):
            return self._common_noun(tok)
        return Speaker(None, tok.text, None)

    # ---- names ----------------------------------------------------------------------------------
    def _entity(self, tok, etok, ent) -> Speaker:
        """A source token inside (or headed by) a person, place or organisation mention."""
        view, doc = self.view, self.doc
        label, value, a, b = ent
        if label == "person":
            partners = [view.ent_of[c.i].value for c in etok.children
                        if c.dep_ == "conj" and view.entity(c.i, ("person",)) is not None]
            if len(partners) == 1 and partners[0] != value:
                # "Ann Ross and Tom Hale said": a joint statement, by both
                return Speaker(f"{value} and {partners[0]}", doc[a : etok.right_edge.i + 1].text, "group", "joint")
        if label != "person" and b - a == 1 and tok.pos_ == "PROPN":
            # A lone surname the NER took for an organisation ("Hale said"), named in full elsewhere.
            full = self.expand_name(tok)
            if full:
                view.persons.add(full)
                return Speaker(view.persons.canonical(full), tok.text, "person", "surname")
        written = doc[a:b].text
        if label != "person" and any(w.lower().rstrip(".") in TITLE_WORDS for w in written.split()[:-1]) \
                and written.split()[-1][:1].isupper() \
                and not any(w.lower().strip(".,") in ORG_WORDS for w in written.split()) \
                and not any(w == "of" for w in written.split()[1:]):
            # "Grand Chief Tallbird" tagged ORG: a title before a name makes it a person.
            name = clean_person(written)
            if name:
                view.persons.add(name)
                return Speaker(view.persons.canonical(name), written, "person", "titled_name")
        if label == "place":
            label = "org"  # a country speaking ("Norway said") is a speaker like an organisation
        return Speaker(value, written, label, "entity_" + label)

    def _proper_noun(self, tok) -> Speaker:
        """A proper noun the NER did not tag."""
        view, doc = self.view, self.doc
        for c in tok.subtree:
            # "Chair of the Harbour Trust, Ann Ross, said": the appositive name
            if c.dep_ == "appos" and view.entity(c.i, ("person",)) is not None \
                    and (c.i == tok.right_edge.i or doc[c.i + 1].text in (",", "(")):
                return Speaker(view.ent_of[c.i].value, doc[tok.i : c.i + 1].text, "person", "appositive")
        a = tok.i
        while a > 0 and doc[a - 1].pos_ == "PROPN" and doc[a - 1].dep_ in ("compound", "nmod", "amod", "flat"):
            a -= 1
        written = doc[a : tok.i + 1].text
        if is_medium(written, strict=True):
            return Speaker(clean_org(written), written, "org", "medium")  # "Facebook told employees": the company
        name = clean_person(written)
        if name:
            if len(name.split()) == 1 and not view.persons.knows(name):
                full = self.expand_name(tok)
                if full:
                    view.persons.add(full)
            return Speaker(view.persons.canonical(name), written, "person", "name")
        if any(w.lower().strip(".,") in ORG_WORDS for w in written.split()) and clean_org(written):
            return Speaker(clean_org(written), written, "org", "institution")  # "the Valley Times wrote"
        return Speaker(None, written, None)

    def known_surname(self, tok) -> bool:
        """Whether a capitalised word is the surname of someone the article names in full: a person it knows, or
        a first name from the dictionary followed by the word elsewhere ("Ann Ross", whatever its tag)."""
        if self.view.persons.knows(tok.text):
            return True
        full = self.expand_name(tok)
        return full is not None and is_given_name(full.split()[0])

    def expand_name(self, tok) -> str | None:
        """A surname the NER missed as a person: its longest 'First Last' form elsewhere in the text."""
        view, doc = self.view, self.doc
        best = None
        for t in doc:
            if t.text != tok.text or view.in_quote[t.i] or t.i == 0:
                continue
            a = t.i
            while a > 0 and doc[a - 1].pos_ == "PROPN" and doc[a - 1].text[:1].isupper() and "\n" not in doc[a - 1].whitespace_:
                a -= 1
            if a < t.i:
                name = clean_person(doc[a : t.i + 1].text)
                if name and len(name.split()) > 1 and (best is None or len(name) > len(best)):
                    best = name
        return best

    # ---- pronouns -------------------------------------------------------------------------------
    def _pronoun(self, tok) -> Speaker:
        """he/she to a person of that gender, it/they to an organisation or group, who to its head."""
        low = tok.lower_
        if low in HE_SHE:
            name = self.antecedent_person(tok.i, HE_SHE[low])
            return Speaker(name, tok.text, "person" if name else None, "pronoun")
        if low in GROUP_PRONOUNS:
            name, label = self.antecedent_group(tok.i, low)
            return Speaker(name, tok.text, label, "pronoun_group")
        if low in RELATIVE_PRONOUNS and tok.head.dep_ == "relcl":
            return self.resolve(tok.head.head)
        return Speaker(None, tok.text, None)

    def described_person(self, tok) -> str | None:
        """The person a definite description ("the longtime bookseller") refers to: the trained ranker's choice
        among the people named before it, else the rules' pronoun antecedent."""
        gender = noun_gender(tok.lemma_.lower())
        if self.antecedents is not None:
            return self.ranked_antecedent(tok.left_edge.i, ("person",), gender)
        return self.antecedent_person(tok.i, gender)

    @staticmethod
    def described_one(tok, gender: str | None) -> bool:
        """Whether a source token describes one person of a compatible gender ("a security guard")."""
        lemma = tok.lemma_.lower()
        return tok.tag_ == "NN" and (lemma in PERSON_NOUNS or bool(AGENT_NOUN.search(lemma))) \
            and noun_gender(lemma) in (None, gender)

    def ranked_antecedent(self, i: int, labels: tuple[str, ...], gender: str | None) -> str | None:
        """The trained ranker's choice among the entities of the given labels named before token i."""
        cands = antecedent_candidates(self.view, i, labels, gender, self.discourse.gender, self.discourse.turns,
                                      self.own)
        if not cands.values:
            return None
        return cands.values[int(np.argmax(self.antecedents.probabilities(cands.X)))]

    def antecedent_person(self, i: int, gender: str | None) -> str | None:
        """The person a pronoun at token i most likely refers to."""
        view, doc, gen = self.view, self.doc, self.discourse.gender
        last_speaker = None
        for pos, name, label in self.discourse.before(i):
            if label == "person":
                if gender is None or gen.get(name) in (None, gender):
                    last_speaker = (pos, name)
                break
            if self.described_one(doc[pos], gender) and view.para_of[i] - view.para_of[pos] <= 1 \
                    and not any(pos < m["tstart"] < i and m["label"] == "person" for m in view.mentions):
                # "a security guard told reporters ... he said": the one just described, if no one was named since
                return name
            break
        recent = None
        for m in reversed(view.mentions):
            if m["tstart"] >= i or m["label"] != "person" or view.in_quote[m["tstart"]]:
                continue
            if gender and gen.get(m["value"]) not in (None, gender):
                continue
            if last_speaker and m["tstart"] <= last_speaker[0]:
                break
            root = doc[m["tend"] - 1]
            # Someone new introduced as a subject since the last speaker takes over the pronoun.
            if root.dep_ in ("nsubj", "nsubjpass") or (recent is None and last_speaker is None):
                recent = recent or m["value"]
                if root.dep_ in ("nsubj", "nsubjpass"):
                    return m["value"]
        if last_speaker:
            return last_speaker[1]
        if recent:
            return recent
        for m in reversed(view.mentions):
            if m["tstart"] < i and m["label"] == "person" and not view.in_quote[m["tstart"]]:
                if gender is None or gen.get(m["value"]) in (None, gender):
                    return m["value"]
        return None

    def antecedent_group(self, i: int, low: str) -> tuple[str | None, str | None]:
        """The organisation 'it'/'they'/'the company' at token i refers to, if one was named."""
        view = self.view
        if low in ("they", "them"):
            # "they" continues a group or organisation that just spoke; never a lone person.
            for pos, name, label in self.discourse.before(i):
                if label in ("group", "org") and view.para_of[i] - view.para_of[pos] <= 3:
                    return name, label
                break
            return None, None
        for pos, name, label in self.discourse.before(i):
            if label == "org":
                # An organisation that spoke recently is the likeliest "it".
                if not any(pos < m["tstart"] < i and m["label"] == "org" and not view.in_quote[m["tstart"]]
                           and self.doc[m["tend"] - 1].dep_ in ("nsubj", "nsubjpass") for m in view.mentions):
                    return name, label
                break
        for m in reversed(view.mentions):
            if m["tstart"] >= i or view.in_quote[m["tstart"]]:
                continue
            if m["label"] == "org":
                return m["value"], "org"
        return None, None

    # ---- descriptions ---------------------------------------------------------------------------
    def _common_noun(self, tok) -> Speaker:
        """'the mayor', 'the company', 'a statement', 'officials': a description of the source."""
        doc = self.doc
        low = tok.lower_
        lemma = tok.lemma_.lower()
        written = doc[tok.left_edge.i : tok.i + 1].text
        if lemma in DOC_NOUNS or low in DOC_NOUNS:
            return self.resolve_document(tok, written)
        dets = [c.lower_ for c in tok.children if c.dep_ in ("det", "poss")]
        det = dets[0] if dets else ""
        if det in DEFINITE_DETERMINERS or AGE_NOUN.match(low):
            modified = any(c.dep_ in ("amod", "compound", "nmod") for c in tok.children)
            if tok.tag_ not in ("NNS", "NNPS") and not modified and (lemma in ORG_NOUNS or low in ORG_NOUNS):
                name, label = self.antecedent_org_noun(tok.i, lemma)
                if name:
                    return Speaker(name, written, label, "org_noun")
            elif tok.tag_ not in ("NNS", "NNPS") and (lemma in PERSON_NOUNS or AGE_NOUN.match(low)):
                name, label = self.antecedent_description(tok.i, lemma)
                if name is None and det == "the" and any(c.dep_ == "amod" for c in tok.children):
                    # "the soft-spoken engineer": a described person is the one in focus
                    name, label = self.described_person(tok), "person"
                if name:
                    return Speaker(name, written, label, "description")
            elif det == "the" and lemma in SOURCE_NOUNS:
                # "the officials" after "city officials said": the same source
                for pos, name, label in self.discourse.before(tok.i):
                    if label == "group" and name and low in name.lower().split():
                        return Speaker(name, written, label, "description_group")
            elif tok.tag_ == "NN" and det == "the" and lemma not in ORG_NOUNS and lemma not in SOURCE_NOUNS \
                    and AGENT_NOUN.search(lemma):
                # "the longtime bookseller": a singular definite description that speaks is the person in focus
                name = self.described_person(tok)
                if name:
                    return Speaker(name, written, "person", "focus")
        # A source the article only describes ("officials", "a spokesperson for the campaign", "picketers"):
        # the description is all a reader is told, so it is the speaker as written.
        if lemma in SOURCE_NOUNS or low in SOURCE_NOUNS or (tok.tag_ == "NNS" and AGENT_NOUN.search(lemma)):
            value, label = self.description(tok)
            return Speaker(value, written, label, "described")
        if self.speaks(tok) and (AGENT_NOUN.search(lemma) or lemma in PERSON_NOUNS):
            # Any other description of a person that a reporting verb gives as the source ("a longtime adviser
            # told", "one strategist said"): the article names no one, so the description is the honest
            # answer. One introduced as new ("a", "one", "another") rarely points back to someone named; a
            # definite one may (the confidence model weighs which). Things that speak ("the ad says") are
            # left unresolved: they are sources, but no one a reader would look up as a speaker.
            value, label = self.description(tok)
            if value is not None:
                new = det in INDEFINITE_DETERMINERS or (not det and tok.tag_ in ("NNS", "NNPS"))
                return Speaker(value, written, label, "description_new" if new else "description_other")
        return Speaker(None, written, None)

    def speaks(self, tok) -> bool:
        """Whether tok is the grammatical source of a cue: the subject of a reporting verb, the agent of a
        passive one, or the object of "according to"."""
        h = tok.head
        if tok.dep_ in ("nsubj", "nsubjpass"):
            return is_report_verb(self.view, h)
        if tok.dep_ == "pobj" and h.lower_ == "by" and h.dep_ == "agent":
            return is_report_verb(self.view, h.head)
        return tok.dep_ == "pobj" and h.lower_ == "to" and h.head.lower_ == "according"

    def antecedent_org_noun(self, i: int, lemma: str) -> tuple[str | None, str | None]:
        """'the board' -> the board named before; 'the company' -> the last company named."""
        for m in reversed(self.view.mentions):
            if m["tstart"] < i and m["label"] == "org" and lemma in m["value"].lower().split():
                return m["value"], "org"
        if lemma in ANAPHORIC_ORG_NOUNS:
            return self.antecedent_group(i, "it")
        return None, None

    def antecedent_description(self, i: int, lemma: str) -> tuple[str | None, str | None]:
        """'the mayor' -> the person titled Mayor, or the source described as 'a ... official' before."""
        doc = self.doc
        word = doc[i].lower_
        for pos, name, label in self.discourse.before(i):
            if label == "group" and name and (lemma in name.lower().split() or word in name.lower().split()):
                return name, label
        for m in reversed(self.view.mentions):
            if m["tstart"] < i and m["label"] == "person":
                before = doc[max(0, m["tstart"] - 3) : m["tstart"]]
                if any(t.lower_ == lemma for t in before) or lemma in m["text"].lower().split():
                    return m["value"], "person"
        if AGE_NOUN.match(lemma) or lemma in FOCUS_PERSON_NOUNS:
            name = self.described_person(self.doc[i])
            return (name, "person") if name else (None, None)
        return None, None

    def description(self, tok) -> tuple[str | None, str | None]:
        """(The subject noun phrase as written, without relative clauses, "group"); None when too vague."""
        view, doc = self.view, self.doc
        a, b = tok.left_edge.i, tok.right_edge.i + 1
        for c in tok.subtree:
            # "the captain of the crew, Ann Ross": the person the description is in apposition to
            # (but not "a spokeswoman for Ross").
            if c.dep_ == "appos" and view.entity(c.i, ("person",)) is not None:
                return view.ent_of[c.i].value, "person"
            if c.dep_ == "appos" and c.head.i == tok.i and c.pos_ == "PROPN" and c.i not in view.ent_of \
                    and is_given_name(c.text):
                # "his father, Joseph": a first name in apposition the NER did not tag
                name = clean_person(doc[c.left_edge.i : c.i + 1].text)
                if name:
                    view.persons.add(name)
                    return view.persons.canonical(name), "person"
        for i in range(a + 1, b):
            if doc[i].text in (",", "(", "—", "–") or doc[i].lower_ in ("but", "who", "whose", "which"):
                b = i
                break
        for c in tok.children:
            if c.i > tok.i and (c.dep_ in ("relcl", "appos", "advcl") or c.text in (",", "(", "—", "–")):
                b = min(b, c.left_edge.i)
        while b > a and (doc[b - 1].is_punct or doc[b - 1].is_space):
            b -= 1
        if b <= a or b - a > 14 or any(view.in_quote[i] for i in range(a, b)):
            return None, None
        if tok.lower_ in VAGUE_SUBJECTS and b - a == 1:
            return None, None
        text = " ".join(doc[a:b].text.split())
        if doc[a].pos_ != "PROPN":
            text = text[:1].lower() + text[1:]  # "Officials said" and "officials said" are one facet value
        return text, "group"

    def resolve_document(self, tok, written) -> Speaker:
        """'A statement from X said': X, else whoever spoke last."""
        view = self.view
        for u in tok.subtree:
            if u.i != tok.i and view.entity(u.i) is not None and not is_channel(view, u):
                # "a statement posted on a website" is not the website's
                label, value, _a, _b = view.ent_of[u.i]
                return Speaker(value, written, "person" if label == "person" else "org", "document")
        for c in tok.children:
            if c.dep_ == "poss" and c.lower_ not in FIRST_SECOND:
                name, _w, label, _how = self.resolve(c)
                return Speaker(name, written, label, "document")
        if self.discourse.turns and (tok.lemma_.lower() in STATEMENT_NOUNS or tok.lower_ in STATEMENT_NOUNS):
            _pos, name, label = self.discourse.turns[-1]
            return Speaker(name, written, label, "document_last")
        return Speaker(None, written, None)
