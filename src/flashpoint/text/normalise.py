"""Normalisation that defeats filter evasion, for lexicon matching. The original text is kept apart.

People who expect a filter write "уб1ть", "u б и т ь", "дунгaне" with a Latin a, "ааааксакала" or
"пиzдец". Lexicons of dangerous speech and place names are Cyrillic and lowercase, so matching
needs one lowercase spelling per word. ``normalise_for_matching`` gives it, in this order:

1. Characters: NFKC (full-width, ligatures, compatibility forms), zero-width and control
   characters removed, combining marks removed (after NFKC has composed и+breve into й, so й
   stays), precomposed Cyrillic letters with marks folded to their base (ё→е, ѝ→и; й kept),
   typographic apostrophes folded to "'".
2. Tokens (whitespace-separated). URLs, e-mail addresses and @handles (Latin) are kept verbatim.
   Inside a token, 3+ single letters joined by the same "." "-" "_" or "·" are joined
   ("у.б.и.т.ь" → "убить"); "3.14" directly before a Cyrillic letter is read as "пи".
3. Words (runs of letters, digits, ' and the substitute symbols @ $ ! |):
   - a word with Cyrillic and Latin letters is Cyrillic-intended: its Latin letters are mapped by
     ``data/text/homoglyphs.tsv`` (look-alikes first: a c e o p x y k m t, B→в, H→н; then
     sound-alikes: b→б, h→х, z→з, d→д ...; u→и inside a word, у at its start). Exception: a Latin
     run followed by a Cyrillic suffix keeps its Latin when the run has a letter that is no
     look-alike ("Telegramда", "WhatsAppқа" are code-switching, not evasion);
   - in a Cyrillic-intended word with 2+ Cyrillic letters, a digit between two letters is a
     letter (0→о 1→и 3→з 4→ч 6→б 8→в; 1 and i become і in words with Kazakh letters); ! or |
     is и only after 1-4 letters and before 2-3 lowercase ones ("уб!ть", but "карпат!вот" and
     "все!я" are a missing space); "@" after a letter is а unless a Latin letter follows, "$"
     after a letter is с. Digits at a word's edge never change, so "2025", "10:30", "1раз", "20тыс" stay;
   - a Latin-only word stays Latin (English is never turned into Cyrillic) unless it is
     marked as Kazakh Latin: a 2021 letter (ä ğ ı ñ ö ū ü ş) or a 2018 apostrophe letter
     inside the word (s'ol, a'n'gime). Pass ``to_cyrillic`` to decide otherwise:
     ``to_cyrillic_for(language)`` gives the policy for the language stage's result (the
     ``NormaliseEvasion`` stage uses it): in a Kazakh message, Latin words that look Kazakh become
     Cyrillic, informal chat spellings and vowel harmony included ("Masanshyga barayiq" →
     "масаншыға барайық"); ``lambda w: None`` converts nothing. Trailing "!" or "|" after a
     Latin word is punctuation, not a disguised letter.
4. Lowercase (casefold), then runs of 3+ identical letters squeezed to one ("ааааксакала" →
   "аксакала"). Doubles are kept: Russian and Kazakh spell them ("масса", "Аллах", "ссылка").

The result is idempotent (each token is normalised to a fixed point) and never raises.

Limits: Latin u is и inside a word (the data's дeбuлы, xyuлo) but у at a word's start, so
"u б и т ь" gives "убить" while "xyuлo" gives "хуило". Censoring with * % or dots ("х..",
"по%уй") is not undone: the letter is gone. Transliterated Russian ("ubit'") stays Latin. Words
with German or Turkish ä ö ü ş ğ ı are read as Kazakh 2021 Latin by the default policy. Informal
Kazakh Latin is a guess: ү ө ұ typed as u o u stay у о у ("bugin" → "бугін"), and "ng" is ң even
in "dungan". Three space-separated one-letter words that are all
ordinary short words ("и я в") are not joined; four or more single letters always are.

Measured on the 126 rows of the VK Russian Distorted Toxicity corpus marked distorted
(tests/data/text/ru_distorted_sample.tsv), comparing each comment with the annotator's correction
(difflib ratio; baseline: both sides lowercased, ё→е): mean similarity 0.968 → 0.986 (56% of the
gap closed), exact equality 0/126 → 49/126, 55 rows closer and 2 further. Most of what remains is
censoring (по%уй, х..) that no normalisation can undo. On the 2874 rows marked undistorted
(43,399 words) it changes 11 words beyond case, ё, repeats and "…": 6 are disguises the annotator
missed (е6лан, xудшая, бухaть), the rest a soft hyphen, "№"→"no", "’"→"'" and "r.i.p"→"rip".
Speed on one CPU core: about 3 µs per short chat message (27 characters) with the token cache
warm, 16 µs with no cache; 38 µs for a 106-character VK comment with a cold cache. The first
call builds the tables (about 0.15 s: it scans Unicode for combining and format characters).

Example:
    >>> normalise_for_matching("Уб1ть дунгaне, u б и т ь ааааксакала! https://t.me/X 10:30")
    'убить дунгане, убить аксакала! https://t.me/X 10:30'
    >>> normalise_for_matching("Ёлка Telegramда s'ol Hello")
    'елка telegramда шол hello'
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Any, ClassVar

from flashpoint.model import Enriched
from flashpoint.text.language import latin_model

ToCyrillic = Callable[[str], str | None]

# --- character folding --------------------------------------------------------------------------

_INVISIBLE = (
    [0x00AD, 0x034F, 0x180E, 0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0xFEFF]
    + list(range(0x2060, 0x2065))
    + list(range(0x202A, 0x202F))
    + list(range(0x2066, 0x2070))
    + [c for c in range(0x00, 0x20) if chr(c) not in "\t\n\r\x0b\x0c"]
    + list(range(0x7F, 0xA0))
)
_APOSTROPHES = "\u2018\u2019\u02bc\u02bb\u0060\u00b4\u2032"
_KEEP_PRECOMPOSED = frozenset("йЙ")
# Letters of other scripts typed for a Cyrillic letter they look like: Latin barred o for ө.
_SCRIPT_TWINS = {"\u0275": "ө", "\u019f": "Ө"}


def _marks() -> list[int]:
    """Combining marks (Mn, Me) and format characters (Cf: zero-width, bidi, tags)."""
    return [c for c in range(0x110000) if unicodedata.category(chr(c)) in ("Mn", "Me", "Cf")]


def _cyrillic_folds() -> dict[int, str]:
    folds: dict[int, str] = {}
    for code in range(0x0400, 0x0530):
        ch = chr(code)
        if ch in _KEEP_PRECOMPOSED:
            continue
        decomposed = unicodedata.normalize("NFD", ch)
        if len(decomposed) > 1 and decomposed[0] != ch:
            folds[code] = decomposed[0]
    return folds


@cache
def _fold_tables() -> tuple[dict[int, str | None], frozenset[str]]:
    table: dict[int, str | None] = dict.fromkeys(_INVISIBLE + _marks())
    table.update(_cyrillic_folds())
    table.update({ord(a): "'" for a in _APOSTROPHES})
    table.update({ord(a): b for a, b in _SCRIPT_TWINS.items()})
    return table, frozenset(map(chr, table))  # a set test is faster than a regex class this big


def _fold_characters(text: str) -> str:
    """NFKC, then invisible characters and combining marks removed, Cyrillic marks folded."""
    table, needs = _fold_tables()
    for _ in range(4):
        if not unicodedata.is_normalized("NFKC", text):
            text = unicodedata.normalize("NFKC", text)
        if needs.isdisjoint(text):
            break
        text = text.translate(table)
    return text


# --- mapping tables, loaded once from data files ------------------------------------------------


def _rows(name: str) -> Iterator[list[str]]:
    source = resources.files("flashpoint").joinpath("data", "text", name)
    for line in source.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            yield line.split("\t")


@dataclass(frozen=True)
class _Homoglyphs:
    letters: dict[str, str]  # Latin letter (either case) -> Cyrillic, anywhere in the word
    initial: dict[str, str]  # Latin letter -> Cyrillic at the start of a word ("^u")
    digits: dict[str, str]  # between two letters
    symbols: dict[str, str]  # ! | between letters; @ $ after a letter
    sequences: dict[str, str]  # several characters before a Cyrillic letter ("3.14")


@cache
def _homoglyphs() -> _Homoglyphs:
    h = _Homoglyphs({}, {}, {}, {}, {})
    explicit = set()
    for source, target, kind, *_ in _rows("homoglyphs.tsv"):
        if kind == "sequence":
            h.sequences[source] = target
        elif kind == "digit":
            h.digits[source] = target
        elif kind == "symbol":
            h.symbols[source] = target
        elif source.startswith("^"):
            h.initial[source[1:]] = target
            h.initial.setdefault(source[1:].upper(), target)
        else:
            h.letters[source] = target
            explicit.add(source)
    for source, target in list(h.letters.items()):
        if source.upper() not in explicit:
            h.letters[source.upper()] = target
    return h


@cache
def _kazakh_table(name: str, informal: bool) -> tuple[dict[str, str], re.Pattern[str]]:
    table = {latin: cyr for latin, cyr, status, *_ in _rows(name) if informal or status == "official"}
    keys = sorted(table, key=len, reverse=True)
    return table, re.compile("|".join(_key_pattern(key, keys) for key in keys))


def _key_pattern(key: str, keys: list[str]) -> str:
    """A digraph yields to one that starts on its last letter: "aitshy" is ай-т-шы, not ай-ц-хы."""
    overlapping = sorted({k[1:] for k in keys if len(k) == 2 == len(key) and k[0] == key[1]})
    return re.escape(key) + (f"(?!{'|'.join(map(re.escape, overlapping))})" if overlapping else "")


# --- Kazakh Latin -------------------------------------------------------------------------------

_KAZAKH_2021 = frozenset("äğıñöūüşç")
_APOSTROPHE_LETTER = re.compile(r"[agionsucy]'(?=[^\W\d_])")
_ENGLISH_APOSTROPHE = re.compile(r"^[ody]'|n't$|'(?:s|t|re|ve|ll|d|m)$")


def kazakh_latin_to_cyrillic(word: str, *, informal: bool = True) -> str:
    """Transliterate one Kazakh Latin word to Cyrillic (lowercase).

    The 2021 table is used when the word has a 2021 letter (ä ğ ı ñ ö ū ü ş ç), otherwise the
    2018 table (apostrophe letters; y is ы, as informal chat also writes it). ``informal`` adds
    chat spellings (sh ch zh gh ng kh ya yu ts w x c) and, for a word with no 2021 or apostrophe
    letter, reads its ambiguous letters by vowel harmony (``_informal_harmony``). Characters with
    no mapping are kept.

    >>> kazakh_latin_to_cyrillic("Qazaqstanğa"), kazakh_latin_to_cyrillic("s'ol")
    ('қазақстанға', 'шол')
    >>> kazakh_latin_to_cyrillic("Masanshyga"), kazakh_latin_to_cyrillic("barayiq")
    ('масаншыға', 'барайық')
    """
    lowered = word.casefold().replace("i\u0307", "i")
    modern = bool(_KAZAKH_2021.intersection(lowered))
    table, pattern = _kazakh_table("kazakh_latin_2021.tsv" if modern else "kazakh_latin_2018.tsv", informal)
    cyrillic = pattern.sub(lambda m: table[m.group()], lowered)
    if informal and not modern and "'" not in lowered:
        return _informal_harmony(cyrillic)
    return cyrillic


_AFTER_VOWEL_Y = re.compile(r"(?<=[аео])[ыі]")
_BACK_VOWELS = frozenset("аоы")
_BACK_FOLDS = str.maketrans({"г": "ғ", "к": "қ", "і": "и"})


def _informal_harmony(word: str) -> str:
    """Chat Kazakh in plain Latin letters leaves г/ғ, к/қ, і/и/ы and й/ы to the reader; read them as
    Kazakh does: y or i after a, e, o is й ("qalay", "Kordai"); in a back-vowel word (а о ы, no е)
    g is ғ, k is қ, i is и, and ы after й ("Masanshyga" → "масаншыға", "barayiq" → "барайық",
    "jinalys" → "жиналыс"). Front-vowel and mixed words (loans, "Sortobe") are left as they are.

    >>> _informal_harmony("бараыіқ"), _informal_harmony("кордаі"), _informal_harmony("келді")
    ('барайық', 'қордай', 'келді')
    """
    word = _AFTER_VOWEL_Y.sub("й", word)
    if "е" in word or _BACK_VOWELS.isdisjoint(word):
        return word
    return word.replace("йі", "йы").translate(_BACK_FOLDS)


def looks_kazakh_latin(word: str) -> bool:
    """True when a Latin word has a letter only Kazakh Latin uses: the conservative default.

    >>> looks_kazakh_latin("Ağaş"), looks_kazakh_latin("don't"), looks_kazakh_latin("Masanshy")
    (True, False, False)
    """
    lowered = word.casefold()
    if _KAZAKH_2021.intersection(lowered):
        return True
    return bool(_APOSTROPHE_LETTER.search(lowered)) and not _ENGLISH_APOSTROPHE.search(lowered)


def _default_to_cyrillic(word: str) -> str | None:
    return kazakh_latin_to_cyrillic(word) if looks_kazakh_latin(word) else None


# --- the policy for Latin words, from the language stage's result --------------------------------


def _kazakh_latin_message_word(word: str) -> str | None:
    """In a Kazakh message written in Latin letters: every Latin word but the English-looking ones."""
    if not looks_kazakh_latin(word):
        language, probability = latin_model().classify([word.casefold()])
        if language == "en" and probability >= _SURE:
            return None  # "WhatsApp", "online", "link" stay
    return kazakh_latin_to_cyrillic(word)


def _kazakh_looking_word(word: str) -> str | None:
    """In a Cyrillic Kazakh (or Kazakh-Russian) message, Latin words are mostly names and English:
    only those the Latin n-gram model reads as Kazakh are converted ("Masanshyga", "jinalys")."""
    if not looks_kazakh_latin(word):
        language, probability = latin_model().classify([word.casefold()])
        if language != "kk" or probability < _SURE:
            return None
    return kazakh_latin_to_cyrillic(word)


_SURE = 0.9


def to_cyrillic_for(language: Mapping[str, Any] | None) -> ToCyrillic | None:
    """The ``to_cyrillic`` policy for a message, given the ``language`` stage's value.

    Kazakh (``language`` kk, or kk among ``mixed``): Latin words that look Kazakh become Cyrillic
    with the informal spellings (sh ch zh ng ...); in a Latin-script message that is every word the
    n-gram model does not read as English, in a Cyrillic one only those it reads as Kazakh. Any
    other language: None, the conservative default (only marked Kazakh Latin, "Ağaş", "s'ol").

    >>> hook = to_cyrillic_for({"language": "kk", "mixed": [], "script": "Latn"})
    >>> normalise_for_matching("Masanshyga barayiq! WhatsApp", to_cyrillic=hook)
    'масаншыға барайық! whatsapp'
    >>> to_cyrillic_for({"language": "ru", "mixed": [], "script": "Cyrl"}) is None
    True
    """
    if not language:
        return None
    if language.get("language") != "kk" and "kk" not in (language.get("mixed") or ()):
        return None
    return _kazakh_latin_message_word if language.get("script") in ("Latn", "mixed") else _kazakh_looking_word


# --- words --------------------------------------------------------------------------------------

_KAZAKH_CYRILLIC = frozenset("әғқңөұүһіӘҒҚҢӨҰҮҺІ")
_STANDALONE = frozenset("авиксуяжбоai")  # one-letter words of ru/kk/en: "и я в" is not evasion
_PROTECTED = re.compile(r"^(?:[a-zA-Z][\w+.\-]*://|www\.|@[A-Za-z0-9_]|[^\s@]+@[^\s@]+\.\w)")
_WORD = re.compile(r"[\w@$|!']+")
_DOTTED = re.compile(r"(?<![^\W\d_])[^\W\d_]([.\-_·])[^\W\d_](?:\1[^\W\d_])+(?![^\W\d_])")
_LETTERS = re.compile(r"[^\W\d_]+")
_LETTERS_BEFORE = re.compile(r"[^\W\d_]+$")
_REPEATS = re.compile(r"([^\W\d_])\1{2,}")
_FAST = re.compile(r"[^\w@$]*(?:[а-яА-ЯәғқңөұүһіӘҒҚҢӨҰҮҺІ]+|[a-zA-Z]+)[^\w@$]*")
# With a ``to_cyrillic`` hook only Cyrillic tokens can skip the full path: the hook decides Latin words.
_FAST_CYRILLIC = re.compile(r"[^\w@$]*[а-яА-ЯәғқңөұүһіӘҒҚҢӨҰҮҺІ]+[^\w@$]*")
_TRIPLE = re.compile(r"(.)\1\1")


def _is_cyrillic(ch: str) -> bool:
    return "\u0400" <= ch <= "\u052f" and ch.isalpha()


def _is_latin(ch: str) -> bool:
    return ch.isalpha() and (ch < "\u0250" or "\u1e00" <= ch <= "\u1eff")


def _script_runs(word: str) -> list[str]:
    runs: list[str] = []
    for ch in word:
        script = "c" if _is_cyrillic(ch) else "l" if _is_latin(ch) else ""
        if script and (not runs or runs[-1] != script):
            runs.append(script)
    return runs


def _is_brand_with_suffix(word: str, runs: list[str], h: _Homoglyphs) -> bool:
    """ "Telegramда": a Latin name with a Cyrillic case ending, not a disguised Cyrillic word."""
    if runs != ["l", "c"]:
        return False
    latin = [ch for ch in word if _is_latin(ch)]
    return any(ch.lower() not in _VISUAL for ch in latin) or not all(ch in h.letters for ch in latin)


_VISUAL = frozenset("aceopxykmtbhu")


def _map_cyrillic_word(word: str, h: _Homoglyphs) -> str:
    kazakh = bool(_KAZAKH_CYRILLIC.intersection(word))
    letters = sum(1 for ch in word if _is_cyrillic(ch) or ch in h.letters)
    out: list[str] = []
    last = len(word) - 1
    for i, ch in enumerate(word):
        before = i > 0 and word[i - 1].isalpha()
        after = i < last and word[i + 1].isalpha()
        if ch in h.letters:
            target = h.initial.get(ch, h.letters[ch]) if i == 0 else h.letters[ch]
            out.append("і" if kazakh and ch in "iI" else target)
        elif letters >= 2 and ch in h.digits and (before or (i == 0 and ch == "0")) and after:
            out.append("і" if kazakh and ch == "1" else h.digits[ch])
        elif ch in h.symbols and _symbol_applies(ch, word, i, before, after):
            out.append(h.symbols[ch])
        else:
            out.append(ch)
    return "".join(out)


def _symbol_applies(ch: str, word: str, i: int, before: bool, after: bool) -> bool:
    if ch in "!|":
        # "уб!ть", but not a missing space after "!" ("насрать!можешь", "все!я", "нет!Смиритесь"):
        # at most 4 letters before it and 2-3 lowercase ones after it ("карпат!вот" stays).
        following = _LETTERS.match(word, i + 1)
        tail = following.group() if following else ""
        leading = _LETTERS_BEFORE.search(word, 0, i)
        head = leading.group() if leading else ""
        return 1 <= len(head) <= 4 and 2 <= len(tail) <= 3 and not tail[0].isupper()
    if ch == "@":
        return before and not (after and _is_latin(word[i + 1]))
    return before


def _normalise_word(word: str, to_cyrillic: ToCyrillic) -> str:
    runs = _script_runs(word)
    h = _homoglyphs()
    if runs == ["l"]:
        # "barayiq!!!": the exclamation marks are punctuation here, not letters in disguise.
        core = word.rstrip("!|")
        converted = to_cyrillic(core) if core.replace("'", "").isalpha() else None
        if converted is None:
            return word
        word, runs = converted + word[len(core) :], _script_runs(converted)
    if "c" not in runs or _is_brand_with_suffix(word, runs, h) or (runs == ["c"] and word.rstrip("!|").isalpha()):
        return word  # nothing to map: no Latin letter, digit or symbol between letters
    return _map_cyrillic_word(word, h)


# --- tokens -------------------------------------------------------------------------------------


def _join_dotted(token: str) -> str:
    return _DOTTED.sub(lambda m: m.group().replace(m.group(1), ""), token)


def _read_pi(token: str) -> str:
    for source, target in _homoglyphs().sequences.items():
        if source in token:
            token = re.sub(re.escape(source) + r"(?=[а-яА-ЯёЁ])", target, token)
    return token


def _token_once(token: str, to_cyrillic: ToCyrillic) -> str:
    token = _read_pi(_join_dotted(token))
    token = _WORD.sub(lambda m: _normalise_word(m.group(), to_cyrillic), token)
    token = _fold_characters(token.casefold())
    return _REPEATS.sub(r"\1", token)


@lru_cache(maxsize=1 << 16)
def _normalise_token(token: str, to_cyrillic: ToCyrillic | None) -> str:
    """One token to its fixed point. Cached: chat repeats its words (a pure function of its args)."""
    if (_FAST if to_cyrillic is None else _FAST_CYRILLIC).fullmatch(token):
        lowered = token.lower()  # one script, no substitutes: only case and repeats to fold
        if not _TRIPLE.search(lowered):
            return lowered
    return _token_fixed_point(token, to_cyrillic or _default_to_cyrillic)


def _token_fixed_point(token: str, to_cyrillic: ToCyrillic) -> str:
    """The full path: every rule, applied until the token no longer changes."""
    if _PROTECTED.match(token):
        return token
    for _ in range(6):
        again = _token_once(token, to_cyrillic)
        if again == token:
            break
        token = again
    return token


def _single_letter(token: str) -> bool:
    return len(token) == 1 and token.isalpha()


def _join_spaced(tokens: list[str], to_cyrillic: ToCyrillic | None) -> list[str]:
    """Join runs of 3+ one-letter tokens ("у б и т ь" → "убить"), then normalise the result."""
    if sum(len(t) == 1 for t in tokens) < 3:
        return tokens
    out: list[str] = []
    i = 0
    while i < len(tokens):
        j = i
        while j < len(tokens) and _single_letter(tokens[j]):
            j += 1
        run = tokens[i:j]
        if len(run) >= 4 or (len(run) == 3 and not all(t in _STANDALONE for t in run)):
            out.append(_normalise_token("".join(run), to_cyrillic))
            i = j
        elif run:
            out.extend(run)
            i = j
        else:
            out.append(tokens[i])
            i += 1
    return out


def normalise_for_matching(text: str, *, to_cyrillic: ToCyrillic | None = None) -> str:
    """The text as lexicon matching should see it: lowercase, one script per word, no disguises.

    ``to_cyrillic`` decides Latin-only words: given the word, it returns its Cyrillic spelling
    or None to keep it. The default converts only words marked as Kazakh Latin.

    >>> normalise_for_matching("Пиcдyй, дeбuл0в!!! сук@")
    'писдуй, дебилов!!! сука'
    >>> normalise_for_matching("Masanshy", to_cyrillic=kazakh_latin_to_cyrillic)
    'масаншы'
    """
    tokens = [_normalise_token(t, to_cyrillic) for t in _fold_characters(text).split()]
    return " ".join(_join_spaced(tokens, to_cyrillic))


# Cyrillic letters that look like Latin ones, and digits and symbols typed for Latin letters.
_LATIN_TWINS = str.maketrans(
    {"а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "х": "x", "у": "y", "к": "k", "м": "m", "т": "t",
     "і": "i", "ј": "j", "ѕ": "s", "ԁ": "d", "ӏ": "l", "һ": "h", "в": "b", "н": "h", "ԛ": "q", "ԝ": "w"}
)  # fmt: skip
_LATIN_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"})
_MIXED_WORD = re.compile(r"[\w@$]+")
_INNER_LEET = re.compile(r"(?<=[A-Za-z])[0134578@$]+(?=[A-Za-z])")


def latinise_english(text: str) -> str:
    """For an English message: words mostly in Latin letters get their Cyrillic look-alikes and
    their digits or symbols back as Latin letters ("kіll" with a Cyrillic і, "Dung4ns", "d3ath").
    Run before :func:`normalise_for_matching`, which would read such words as disguised Cyrillic.

    >>> latinise_english("kіll all the Dungаns, d3ath to them, 2024")
    'kill all the Dungans, death to them, 2024'
    """
    return _MIXED_WORD.sub(_latinise_word, text)


def _latinise_word(match: re.Match[str]) -> str:
    word = match.group()
    latin = sum(1 for ch in word if _is_latin(ch))
    cyrillic = [ch for ch in word if _is_cyrillic(ch)]
    if cyrillic:
        if latin < len(cyrillic) or any(ch.lower().translate(_LATIN_TWINS) == ch.lower() for ch in cyrillic):
            return word  # a Cyrillic word, or one with a letter Latin has no twin for
        word = "".join(ch.lower().translate(_LATIN_TWINS) if _is_cyrillic(ch) else ch for ch in word)
    return _INNER_LEET.sub(lambda m: m.group().translate(_LATIN_LEET), word)


class NormaliseEvasion:
    """Adds ``text_norm``: ``text_clean`` normalised for lexicon matching (the original is kept).

    The ``language`` value decides Latin words (``to_cyrillic_for``): Kazakh typed in Latin letters
    ("Masanshyga barayiq") becomes Cyrillic ("масаншыға барайық") when the message is Kazakh.
    """

    name: ClassVar[str] = "normalise_evasion"
    # 2: Latin words of Kazakh messages are converted to Cyrillic; 3: English words keep their Latin
    version: ClassVar[int] = 3
    needs: ClassVar[frozenset[str]] = frozenset({"text_clean", "language"})
    adds: ClassVar[frozenset[str]] = frozenset({"text_norm"})

    def __call__(self, record: Enriched) -> Enriched:
        language = record.values.get("language")
        text = record.values["text_clean"]
        if language and language.get("language") == "en":
            text = latinise_english(text)
        hook = to_cyrillic_for(language)
        return record.with_values(text_norm=normalise_for_matching(text, to_cyrillic=hook))
