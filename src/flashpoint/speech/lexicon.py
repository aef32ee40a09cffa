"""Lexicons as data: target groups and the cue words of dangerous speech, matched on tokens.

Why data: monitors know the slang of their region better than any release of Flashpoint, so a term
is added to a TSV file (or a file in a directory named in the config), not to code. Two kinds of
file live in ``flashpoint/data/speech``:

- ``targets.tsv``: ``group  language  pattern  kind  note`` (kind: name, adjective, derogatory,
  collective) says which group a word refers to;
- ``cues/<language>.tsv``: ``cue  pattern  weight  note`` gives the words that signal a threat, a
  call to gather, dehumanisation, counter-speech, negation and the rest (:data:`CUES`).

A pattern is one or more space-separated tokens, lowercase and normalised (ё written е). A token
``word`` equals the word as written, ``word*`` is a prefix of it, ``=word`` equals its lemma (a
dictionary's lemma can surprise: "турке", a coffee pot, has the lemma "турок", a Turk; and only
words that start with the lemma's first two letters are lemmatised). Target patterns
apply to every message whatever its language (people switch languages mid-sentence); cue patterns
apply in their own language, except that cues of four letters or more apply to all (a short word
such as Kazakh "не", "what", is Russian "not").

Example:
    >>> lexicon = Lexicon.from_rows(targets=[("dungan", "ru", "дунган*", "name", "")],
    ...     cues=[("ru", "threat", "вырежем", 0.9, "")])
    >>> [(m.kind, m.label, m.start, m.end) for m in lexicon.match(["мы", "вырежем", "дунган"], None, "ru")]
    [('cue', 'threat', 1, 2), ('target', 'dungan', 2, 3)]
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

from flashpoint.errors import ConfigError

CUES = frozenset(
    {
        "dehumanising",  # vermin, animals, disease said of people
        "derogation",  # negative attributes and emotions: dirty, thieves, I hate
        "threat",  # first-person violence to come: we will kill, burn
        "violence_call",  # imperatives and norms: kill them, they must be destroyed
        "expulsion",  # get out, they must leave, drive them out
        "violence_claim",  # they killed, beat, raped, attacked, burn (claims of attacks)
        "accusation",  # they are arming, they want to drive us out, we must defend ourselves
        "vulnerable",  # elders, women, girls, children
        "in_group",  # our, us, brothers
        "out_pronoun",  # they, them, these
        "traitor",  # traitors, those who shelter them
        "gather",  # gather, everyone go to, come out
        "bring",  # bring sticks, weapons, petrol
        "weapon",  # the things brought
        "share",  # forward to everyone, repost
        "urgency",  # now, tonight, urgently
        "grievance",  # enough!, will we keep silent?, men, don't stay at home: the rallying cry
        "occasion",  # wedding, funeral, clean-up, match: what benign gatherings are for
        "counter",  # condemnation, calls for calm and unity
        "fact_check",  # fake, not true, alive, in hospital
        "report",  # quotation frames: they write that, allegedly, said
        "news",  # attribution and officialdom: police said, according to, detained
        "negation",  # not, never, nobody
        "second_person",  # you (one person): abuse aimed at an individual
        "reclaim",  # in-group self-reference frames: we ... are proud
    }
)
TARGET_KINDS = frozenset({"name", "adjective", "derogatory", "collective"})
LANGUAGES = ("ru", "kk", "ky", "en")
_SEEN_LIMIT = 200_000
_NEGATION_AFFIXES = ("ма", "ме", "ба", "бе", "па", "пе", "мо", "мө", "бо", "бө", "по", "пө")


@dataclass(frozen=True, slots=True)
class Entry:
    """One pattern of a lexicon: ``kind`` is "target" or "cue"; ``label`` the group or the cue."""

    kind: str
    label: str
    language: str
    pattern: tuple[str, ...]
    weight: float
    detail: str  # the target kind (name, derogatory...) or ""
    origin: str  # file and line, for the reasons a user reads

    @property
    def everywhere(self) -> bool:
        return self.kind == "target" or len(" ".join(self.pattern).strip("*=")) >= 4


@dataclass(frozen=True, slots=True)
class Match:
    """Entry matched on tokens ``start``..``end`` (exclusive); ``negated`` when a Kazakh or Kyrgyz
    verb carries its negative affix right after a prefix pattern (өлтір* in өлтірмейміз)."""

    kind: str
    label: str
    start: int
    end: int
    weight: float
    detail: str
    origin: str
    negated: bool = False


class Lexicon:
    """Patterns indexed by their first token: exact words, lemmas and prefixes by length."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        self.entries = tuple(entries)
        self._exact: dict[str, list[Entry]] = {}
        self._lemma: dict[str, list[Entry]] = {}
        self._prefix: dict[str, list[Entry]] = {}
        for entry in self.entries:
            first = entry.pattern[0]
            if first.startswith("="):
                self._lemma.setdefault(first[1:], []).append(entry)
            elif first.endswith("*"):
                self._prefix.setdefault(first[:-1], []).append(entry)
            else:
                self._exact.setdefault(first, []).append(entry)
        self._prefix_lengths = sorted({len(p) for p in self._prefix}, reverse=True)
        # The first two letters of every lemma a pattern asks for: only words that share them are
        # lemmatised (a lemma and its word forms share their start, except for a few suppletive
        # words such as человек/люди, which a pattern should list by their forms).
        self._lemma_heads = frozenset(t[1:3] for e in self.entries for t in e.pattern if t.startswith("="))
        # Chat repeats its words: the entries a (word, lemma) pair starts are looked up once.
        self._seen: dict[tuple[str, str], tuple[tuple[Entry, bool], ...]] = {}

    @classmethod
    def from_rows(
        cls,
        *,
        targets: Iterable[tuple[str, str, str, str, str]] = (),
        cues: Iterable[tuple[str, str, str, float, str]] = (),
    ) -> Lexicon:
        """Build from rows: targets (group, language, pattern, kind, note), cues (language, cue,
        pattern, weight, note). For tests and for callers with their own storage."""
        entries = [
            Entry("target", group, language, _pattern(pattern), 1.0, kind, "rows")
            for group, language, pattern, kind, _ in targets
        ]
        entries += [
            Entry("cue", cue, language, _pattern(pattern), weight, "", "rows")
            for language, cue, pattern, weight, _ in cues
        ]
        return cls(entries)

    def match(
        self, words: Sequence[str], lemmas: Sequence[str] | Callable[[str], str] | None, language: str
    ) -> list[Match]:
        """Every entry that matches at every token, in token order.

        ``lemmas`` is the tokens' lemmas, or a function that gives a word's lemma: it is then asked
        only for words that could start a lemma pattern (lemmatising every word of every message
        would cost more than all the matching). ``language`` is the message's (or "" for unknown):
        cues of other languages match only when they are long enough not to collide (see the
        module docstring).
        """
        found: list[Match] = []
        lemma_list = self._lemmas(words, lemmas)
        seen = self._seen
        for i, word in enumerate(words):
            key = (word, lemma_list[i])
            candidates = seen.get(key)
            if candidates is None:
                if len(seen) > _SEEN_LIMIT:
                    seen.clear()
                candidates = seen[key] = tuple(self._candidates(*key))
            for entry, negated in candidates:
                if entry.kind == "cue" and entry.language not in (language, "*") and language and not entry.everywhere:
                    continue
                pattern = entry.pattern
                end = i + 1 if len(pattern) == 1 else self._match_rest(pattern, words, lemma_list, i)
                if end is not None:
                    found.append(
                        Match(entry.kind, entry.label, i, end, entry.weight, entry.detail, entry.origin, negated)
                    )
        return found

    def _lemmas(self, words: Sequence[str], lemmas: Sequence[str] | Callable[[str], str] | None) -> Sequence[str]:
        if lemmas is None or not self._lemma_heads:
            return words
        if not callable(lemmas):
            return lemmas
        heads = self._lemma_heads
        return [lemmas(w) if w[:2] in heads else w for w in words]

    def _candidates(self, word: str, lemma: str) -> Iterator[tuple[Entry, bool]]:
        for entry in self._exact.get(word, ()):
            yield entry, False
        for entry in self._lemma.get(lemma, ()):
            yield entry, False
        for length in self._prefix_lengths:
            if length > len(word):
                continue
            entries = self._prefix.get(word[:length])
            if entries:
                rest = word[length:]
                for entry in entries:
                    negated = (
                        entry.language in ("kk", "ky") and entry.kind == "cue" and rest.startswith(_NEGATION_AFFIXES)
                    )
                    yield entry, negated

    @staticmethod
    def _match_rest(pattern: tuple[str, ...], words: Sequence[str], lemmas: Sequence[str], i: int) -> int | None:
        if i + len(pattern) > len(words):
            return None
        for offset, token in enumerate(pattern[1:], start=1):
            if not _token_matches(token, words[i + offset], lemmas[i + offset]):
                return None
        return i + len(pattern)


def _token_matches(token: str, word: str, lemma: str) -> bool:
    if token.startswith("="):
        return lemma == token[1:]
    if token.endswith("*"):
        return word.startswith(token[:-1])
    return word == token


def _pattern(text: str) -> tuple[str, ...]:
    return tuple(text.lower().replace("ё", "е").split())


def _rows(source: Traversable | Path, columns: int) -> Iterator[tuple[int, list[str]]]:
    name = getattr(source, "name", str(source))
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError("bad_lexicon", f"{name}: cannot read the lexicon ({exc})") from exc
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        cells = line.split("\t")
        if len(cells) < columns - 1:
            raise ConfigError("bad_lexicon", f"{name} line {number}: expected {columns} tab-separated columns")
        yield number, [c.strip() for c in cells] + [""] * (columns - len(cells))


def read_targets(source: Traversable | Path) -> list[Entry]:
    """Rows of a targets file, checked: known kind, non-empty pattern."""
    entries = []
    for number, (group, language, pattern, kind, *_) in _rows(source, 5):
        origin = f"{getattr(source, 'name', source)}:{number}"
        if kind not in TARGET_KINDS:
            raise ConfigError(
                "bad_lexicon", f"{origin}: unknown kind {kind!r} (expected one of {sorted(TARGET_KINDS)})"
            )
        if not group or not _pattern(pattern):
            raise ConfigError("bad_lexicon", f"{origin}: empty group or pattern")
        entries.append(Entry("target", group, language, _pattern(pattern), 1.0, kind, origin))
    return entries


def read_cues(source: Traversable | Path, language: str) -> list[Entry]:
    """Rows of a cue file for one language, checked: known cue, weight in (0, 1]."""
    entries = []
    for number, (cue, pattern, weight, *_) in _rows(source, 4):
        origin = f"{getattr(source, 'name', source)}:{number}"
        if cue not in CUES:
            raise ConfigError("bad_lexicon", f"{origin}: unknown cue {cue!r} (expected one of {sorted(CUES)})")
        try:
            value = float(weight)
        except ValueError:
            raise ConfigError("bad_lexicon", f"{origin}: weight {weight!r} is not a number") from None
        if not 0.0 < value <= 1.0 or not _pattern(pattern):
            raise ConfigError("bad_lexicon", f"{origin}: weight must be in (0, 1] and the pattern non-empty")
        entries.append(Entry("cue", cue, language, _pattern(pattern), value, "", origin))
    return entries


def read_directory(directory: Traversable | Path) -> list[Entry]:
    """A lexicon directory: ``targets.tsv`` and ``cues/<language>.tsv``, each optional."""
    entries: list[Entry] = []
    targets = directory / "targets.tsv"
    if targets.is_file():
        entries += read_targets(targets)
    cues = directory / "cues"
    if cues.is_dir():
        for file in sorted(cues.iterdir(), key=lambda f: f.name):
            if file.name.endswith(".tsv"):
                entries += read_cues(file, file.name.removesuffix(".tsv"))
    return entries


@lru_cache(maxsize=8)
def load_lexicon(extra: tuple[Path, ...] = ()) -> Lexicon:
    """The packaged lexicon plus the user's directories (``[speech] lexicons`` in the config)."""
    entries = read_directory(resources.files("flashpoint").joinpath("data/speech"))
    for directory in extra:
        if not directory.is_dir():
            raise ConfigError("bad_lexicon", f"{directory}: lexicon directory not found")
        entries += read_directory(directory)
    return Lexicon(entries)
