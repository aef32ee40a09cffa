"""Rebuild src/flashpoint/data/language/latin_ngrams.tsv, the Latin-script language model.

Kazakh and Russian are often typed in Latin letters in chats ("Salem, qalaisyn?", "privet, kak
dela"). No packaged identifier knows these, so we transliterate Cyrillic text several ways (the
spellings people actually use: q/k for қ, sh/w/6 for ш, 4 for ч ...) and count character n-grams per
class. Training text: the CC0 demo data under src/flashpoint/data/demo/ (Kazakh, Russian and English
messages, selected by deterministic rules below, with the identifier's own word lists from
src/flashpoint/data/language/) plus the sentences written for this script.
Deterministic: a fixed seed, sorted inputs, sorted output. Run from the repository root:

    .venv/bin/python scripts/build_latin_language_model.py
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from pathlib import Path

from flashpoint.text.language import KAZAKH_ONLY_LETTERS, load_word_list, ngrams

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "src" / "flashpoint" / "data" / "demo"
OUT = ROOT / "src" / "flashpoint" / "data" / "language" / "latin_ngrams.tsv"
VARIANTS = 4
MIN_COUNT = 2

KK_OWN = """Клубта жиын өтеді, бәріміз келейік.
Қайда жүрсің, неге телефон алмайсың?
Ұлың сабақтан оралды ма?
Сенбіде дүкенге соғамын, саған не алайын?
Жол жабық па, әлде ашық па?
Рахмет, бауырым, көп көмектестің.
Анам ауырып қалды, дәрігер шақырдық.
Көршілер тыныш отырсын, үйден шықпаңдар.
Сәлеметсіз бе, апай, қалыңыз қалай?
Құбырда су тағы тоқтап қалды.
Бізге нан мен сүт әкеліп бересің бе?
Таң атқанша күттік, ешкім келмеді.
Қыз ұзатуға бүкіл әулет жиналады.
Жалған сөзге сенбейік, туыстар.
Жаңбыр жауып тұр, жол тайғақ.
Мен жұмыстан кеш шығамын, күте тұр.
Мал базарында қой бағасы қымбаттапты.
Учаскелік хабарласты ма, не айтты?
Ауыл әкімі ертең кездесу өткізеді.
Сабақ сағат тоғызда басталады.
Таразға кім барады, екі орын керек.
Түсінікті, кешке хабарласамын.
Бала бақшаға орын табылды ма?
Қар көп түсті, тас жол жабылды.
Уайым жоқ, ертең бәрі шешіледі.
Шай ішейік, кіріңіздер.
Сен қашан келесің?
Не болды, айтшы?
Жолдан абай болыңдар.
Қалайсың, досым, жағдай қалай?"""

RU_OWN = """Здорово, что у вас нового?
Вечером в клубе концерт, берите детей.
Почему не берешь трубку?
Дети уже пришли из школы?
Завтра поеду на базар, тебе что-нибудь нужно?
Мост уже починили или ещё нет?
Благодарю, ты очень выручил.
Мама заболела, вызвали врача.
Соседи, сидите дома, не выходите.
Воды нет, свет тоже отключили.
Купи хлеба и молока по дороге.
Ждали до утра, никто не приехал.
Не распространяйте такие сообщения.
Идет дождь, дорога скользкая.
Я сегодня поздно с работы, подожди.
Цены на мясо опять выросли.
Полиция приехала, что там происходит?
Аким завтра проводит встречу с жителями.
Кому в Алматы, есть два места?
Хорошо, понял, позвоню позже.
Снега много выпало, трассу закрыли.
Все будет хорошо, не переживайте.
Заходите, чай попьем.
Когда ты приедешь?
Что случилось, скажи?
Осторожно на дороге.
Пропала собака, кто видел, напишите.
Короче, выезжаю через пять минут.
Ну хорошо, тогда в пятницу.
Жесть, что творится в селе."""

EN_OWN = """Hello, how are you doing today?
The meeting is tonight at the village club, everyone is welcome.
Where are you, why are you not answering the phone?
Did the children come home from school?
I am going to the market tomorrow, do you need anything?
Is the road closed or open now?
Thank you so much, you helped a lot.
My mother is ill, we called a doctor.
Please stay at home and do not go out.
There is no water and the power is off too.
We waited until morning but nobody came.
Do not spread rumours, this is not true.
It is raining and the road is slippery.
I will be late from work today, wait for me.
Prices for meat went up again.
The police arrived, what is going on there?
Who is driving to Almaty, is there a free seat?
Okay, got it, I will call you later.
A lot of snow fell and the highway is closed.
Everything will be fine, do not worry.
When are you coming back?
What happened, tell me?
Be careful on the road.
Urgent, please help us find the child.
Good morning everyone, have a nice day.
See you at the school gate at five."""

KK_MAP = {
    "а": ["a"],
    "ә": ["a", "a", "ä", "ae"],
    "б": ["b"],
    "в": ["v"],
    "г": ["g"],
    "ғ": ["g", "gh", "g"],
    "д": ["d"],
    "е": ["e"],
    "ё": ["yo"],
    "ж": ["zh", "j", "j"],
    "з": ["z"],
    "и": ["i", "iy", "y"],
    "й": ["i", "y", "j"],
    "к": ["k"],
    "қ": ["q", "k", "q"],
    "л": ["l"],
    "м": ["m"],
    "н": ["n"],
    "ң": ["n", "ng", "ñ"],
    "о": ["o"],
    "ө": ["o", "ö", "o"],
    "п": ["p"],
    "р": ["r"],
    "с": ["s"],
    "т": ["t"],
    "у": ["u", "w", "u"],
    "ұ": ["u"],
    "ү": ["u", "ü", "u"],
    "ф": ["f"],
    "х": ["h", "kh"],
    "һ": ["h"],
    "ц": ["ts", "c"],
    "ч": ["ch"],
    "ш": ["sh", "sh", "w"],
    "щ": ["sh"],
    "ъ": [""],
    "ы": ["y", "i", "y"],
    "і": ["i"],
    "ь": [""],
    "э": ["e"],
    "ю": ["iu", "yu"],
    "я": ["ia", "ya"],
}
RU_MAP = {
    "а": ["a"],
    "б": ["b"],
    "в": ["v"],
    "г": ["g"],
    "д": ["d"],
    "е": ["e"],
    "ё": ["yo", "e"],
    "ж": ["zh", "j", "zh"],
    "з": ["z"],
    "и": ["i"],
    "й": ["y", "i", "j"],
    "к": ["k"],
    "л": ["l"],
    "м": ["m"],
    "н": ["n"],
    "о": ["o"],
    "п": ["p"],
    "р": ["r"],
    "с": ["s"],
    "т": ["t"],
    "у": ["u"],
    "ф": ["f"],
    "х": ["h", "kh", "h"],
    "ц": ["ts", "c"],
    "ч": ["ch", "4", "ch"],
    "ш": ["sh", "6", "w"],
    "щ": ["sch", "sh"],
    "ъ": ["", "'"],
    "ы": ["y", "i", "y"],
    "ь": ["", "'", ""],
    "э": ["e"],
    "ю": ["yu", "iu", "u"],
    "я": ["ya", "ia", "9"],
}
# The same lists the identifier uses (flashpoint/data/language/*.tsv), so training labels and run-time
# evidence agree.
KK_LETTERS = KAZAKH_ONLY_LETTERS
RU_WORDS = frozenset(load_word_list("ru_words.tsv"))
EN_WORDS = frozenset(load_word_list("en_words.tsv"))


def transliterate(text: str, table: dict[str, list[str]], rng: random.Random) -> str:
    # One spelling choice per letter per text, as one writer keeps one habit within a message.
    choice = {letter: rng.choice(options) for letter, options in table.items()}
    return "".join(choice.get(c, c) for c in text.lower())


def demo_texts() -> list[str]:
    texts: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "text" and isinstance(value, str):
                    texts.add(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    for path in sorted(DEMO.rglob("*.json")):
        walk(json.loads(path.read_text(encoding="utf-8")))
    return sorted(texts)


def label(text: str) -> str:
    words = re.findall(r"[\w']+", text.lower())
    if not words:
        return ""
    kk = sum(1 for w in words if KK_LETTERS & set(w))
    ru = sum(1 for w in words if w in RU_WORDS)
    en = sum(1 for w in words if w in EN_WORDS)
    if kk * 3 >= len(words) and ru == 0:
        return "kk"
    if kk == 0 and ru and re.search("[а-я]", text.lower()) and not re.search("[ңөү]", text.lower()):
        return "ru"
    if en >= 2 and text.isascii():
        return "en"
    return ""


def main() -> None:
    corpus: dict[str, list[str]] = {"kk": KK_OWN.splitlines(), "ru": RU_OWN.splitlines(), "en": EN_OWN.splitlines()}
    for text in demo_texts():
        cls = label(text)
        if cls:
            corpus[cls].append(" ".join(text.split()))
    rng = random.Random(20260101)
    counts: dict[str, Counter[str]] = {cls: Counter() for cls in corpus}
    for cls in sorted(corpus):
        for text in sorted(set(corpus[cls])):
            if cls == "en":
                samples = [text.lower()]
            else:
                table = KK_MAP if cls == "kk" else RU_MAP
                samples = [transliterate(text, table, rng) for _ in range(VARIANTS)]
            for sample in samples:
                for word in re.findall(r"[a-z\u00c0-\u024f0-9']+", sample):
                    counts[cls].update(ngrams(word))
    lines = ["# class\tngram\tcount (built by scripts/build_latin_language_model.py)"]
    for cls in sorted(counts):
        lines.extend(f"{cls}\t{gram}\t{n}" for gram, n in sorted(counts[cls].items()) if n >= MIN_COUNT)
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({len(lines) - 1} n-grams)")


if __name__ == "__main__":
    main()
