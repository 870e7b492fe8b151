"""Facts about language codes: MediaWiki fallback chains, writing direction, Babel locales, autonyms.

The fallback table and the right-to-left set are generated from MediaWiki 1.39's
``languages/messages/Messages*.php`` (``$fallback`` and ``$rtl`` lines) so that this tool falls back
exactly the way the wikis do; Toolforge has no MediaWiki checkout, hence the shipped copy. Regenerate with
``python -m reporting.i18n.languages /usr/share/mediawiki/languages/messages`` and paste the output over
the generated block; ``tests/i18n/test_languages.py`` compares the copy with the installed MediaWiki.

Language codes here are MediaWiki codes: lower case, ``-`` separated (``zh-hans``, ``pt-br``).
"""

from __future__ import annotations

import functools
import re
import sys
from decimal import Decimal
from pathlib import Path

from babel import Locale, UnknownLocaleError

QQX = "qqx"
"""The pseudo-language that shows message keys instead of text (as ``uselang=qqx`` on a wiki)."""

_CODE_PATTERN = re.compile(r"^[a-z]{2,3}(?:-[a-z0-9]{1,8})*$")

# MediaWiki codes whose Babel reading would be wrong or fails although a right locale exists
# (from MediaWiki's LanguageCode::getNonstandardLanguageCodeMapping and deprecated codes).
_BABEL_OVERRIDES: dict[str, str] = {
    "als": "gsw",  # MediaWiki's "als" is Alemannic; for ISO/Babel it is Tosk Albanian
    "simple": "en",
    "sr-ec": "sr_Cyrl",
    "sr-el": "sr_Latn",
    "zh-classical": "lzh",
    "zh-min-nan": "nan",
    "zh-yue": "yue",
    "bat-smg": "sgs",
    "fiu-vro": "vro",
    "roa-rup": "rup",
    "be-x-old": "be_TARASK",
    "en-rtl": "en",
}

# BEGIN GENERATED from MediaWiki 1.39 languages/messages (python -m reporting.i18n.languages DIR)
MEDIAWIKI_FALLBACKS: dict[str, tuple[str, ...]] = {
    'ab': ('ru',),
    'abs': ('id',),
    'ace': ('id',),
    'ady': ('ady-cyrl',),
    'ady-cyrl': (),
    'aeb': ('aeb-arab',),
    'aeb-arab': ('ar',),
    'af': (),
    'ak': (),
    'aln': ('sq',),
    'alt': ('ru',),
    'am': (),
    'ami': ('zh-tw', 'zh-hant', 'zh', 'zh-hans'),
    'an': ('es',),
    'ang': (),
    'anp': ('hi',),
    'ar': (),
    'arc': (),
    'arn': ('es',),
    'arq': ('ar',),
    'ary': ('ar',),
    'arz': ('ar',),
    'as': (),
    'ast': ('es',),
    'atj': ('fr',),
    'av': ('ru',),
    'avk': ('fr', 'es', 'ru'),
    'awa': ('hi',),
    'ay': ('es',),
    'az': (),
    'azb': ('fa',),
    'ba': ('ru',),
    'ban': ('id',),
    'ban-bali': ('ban',),
    'bar': ('de',),
    'bbc': ('bbc-latn',),
    'bbc-latn': ('id',),
    'bcc': ('fa',),
    'bci': ('fr',),
    'bcl': (),
    'be': (),
    'be-tarask': ('be',),
    'bg': (),
    'bgn': ('fa',),
    'bh': ('bho',),
    'bho': (),
    'bi': ('en',),
    'bjn': ('id',),
    'blk': ('my',),
    'bm': ('fr',),
    'bn': (),
    'bo': (),
    'bpy': ('bn',),
    'bqi': ('fa',),
    'br': (),
    'bs': (),
    'btm': ('id',),
    'bug': ('id',),
    'bxr': ('ru',),
    'ca': ('oc',),
    'cbk-zam': ('es',),
    'cdo': ('nan', 'zh-hant', 'zh', 'zh-hans'),
    'ce': ('ru',),
    'ceb': (),
    'ch': (),
    'ckb': (),
    'co': ('it',),
    'crh': ('crh-latn',),
    'crh-cyrl': ('ru',),
    'crh-latn': (),
    'cs': ('sk',),
    'csb': ('pl',),
    'cu': (),
    'cv': ('ru',),
    'cy': (),
    'da': (),
    'dag': (),
    'de': (),
    'de-at': ('de',),
    'de-ch': ('de',),
    'de-formal': ('de',),
    'din': (),
    'diq': (),
    'dsb': ('hsb', 'de'),
    'dtp': ('ms',),
    'dty': ('ne',),
    'dv': (),
    'dz': (),
    'ee': (),
    'egl': ('it',),
    'el': (),
    'eml': ('it',),
    'en': (),
    'en-ca': ('en',),
    'en-gb': ('en',),
    'en-rtl': (),
    'eo': (),
    'es': (),
    'es-formal': ('es',),
    'et': (),
    'eu': (),
    'ext': ('es',),
    'fa': (),
    'fat': (),
    'ff': (),
    'fi': (),
    'fit': ('fi',),
    'fo': (),
    'fon': ('fr',),
    'fr': (),
    'frc': ('fr',),
    'frp': ('fr',),
    'frr': ('de',),
    'fur': ('it',),
    'fy': (),
    'ga': (),
    'gaa': (),
    'gag': ('tr',),
    'gan': ('gan-hant', 'gan-hans', 'zh-hant', 'zh', 'zh-hans'),
    'gan-hans': ('gan', 'gan-hant', 'zh-hans', 'zh', 'zh-hant'),
    'gan-hant': ('gan', 'gan-hans', 'zh-hant', 'zh', 'zh-hans'),
    'gcr': ('fr',),
    'gd': (),
    'gl': ('pt',),
    'gld': ('ru',),
    'glk': ('fa',),
    'gn': ('es',),
    'gom': ('gom-deva',),
    'gom-deva': ('hi',),
    'gor': ('id',),
    'got': (),
    'grc': (),
    'gsw': ('de',),
    'gu': (),
    'guc': ('es',),
    'gur': (),
    'guw': (),
    'gv': (),
    'hak': ('zh-hant', 'zh', 'zh-hans'),
    'haw': (),
    'he': (),
    'hi': (),
    'hif': ('hif-latn',),
    'hif-latn': (),
    'hr': (),
    'hrx': ('de',),
    'hsb': ('dsb', 'de'),
    'hsn': ('zh-cn', 'zh-hans', 'zh', 'zh-hant'),
    'ht': ('fr',),
    'hu': (),
    'hu-formal': ('hu',),
    'hy': (),
    'hyw': ('hy',),
    'ia': (),
    'id': (),
    'ie': (),
    'ig': (),
    'ii': ('zh-cn', 'zh-hans', 'zh', 'zh-hant'),
    'ik': (),
    'ike-cans': ('iu',),
    'ike-latn': ('iu',),
    'ilo': (),
    'inh': ('ru',),
    'io': ('eo',),
    'is': (),
    'it': (),
    'iu': ('ike-cans',),
    'ja': (),
    'jam': ('en',),
    'jbo': (),
    'jut': ('da',),
    'jv': ('id',),
    'ka': (),
    'kaa': ('kk-latn', 'kk-cyrl'),
    'kab': ('fr',),
    'kbd': ('kbd-cyrl',),
    'kbd-cyrl': (),
    'kbp': ('fr',),
    'kcg': (),
    'kea': ('pt',),
    'kg': (),
    'khw': ('ur',),
    'kiu': ('tr',),
    'kjp': ('my',),
    'kk': ('kk-cyrl',),
    'kk-arab': ('kk', 'kk-cyrl'),
    'kk-cn': ('kk-arab', 'kk', 'kk-cyrl'),
    'kk-cyrl': ('kk',),
    'kk-kz': ('kk-cyrl', 'kk'),
    'kk-latn': ('kk', 'kk-cyrl'),
    'kk-tr': ('kk-latn', 'kk', 'kk-cyrl'),
    'kl': ('da',),
    'km': (),
    'kn': (),
    'ko': (),
    'ko-kp': ('ko',),
    'koi': ('ru',),
    'krc': ('ru',),
    'krl': ('fi',),
    'ks': ('ks-arab',),
    'ks-arab': (),
    'ks-deva': (),
    'ksh': ('de',),
    'ksw': ('my',),
    'ku': ('ku-latn',),
    'ku-arab': ('ku', 'ckb'),
    'ku-latn': ('ku',),
    'kum': ('ru',),
    'kv': ('ru',),
    'kw': (),
    'ky': (),
    'la': (),
    'lad': ('es',),
    'lb': ('de',),
    'lbe': ('ru',),
    'lez': ('ru', 'az'),
    'lfn': (),
    'li': ('nl',),
    'lij': ('it',),
    'liv': ('et',),
    'lki': ('fa',),
    'lld': ('it', 'rm', 'fur'),
    'lmo': ('pms', 'eml', 'lij', 'vec', 'it'),
    'ln': ('fr',),
    'lo': (),
    'lrc': ('fa',),
    'lt': (),
    'ltg': ('lv',),
    'luz': ('fa',),
    'lv': (),
    'lzh': ('zh-hant', 'zh', 'zh-hans'),
    'lzz': ('tr',),
    'mad': ('id',),
    'mai': ('hi',),
    'map-bms': ('jv', 'id'),
    'mdf': ('myv', 'ru'),
    'mg': ('fr',),
    'mhr': ('mrj', 'ru'),
    'min': ('id',),
    'mk': (),
    'ml': (),
    'mn': (),
    'mni': (),
    'mnw': ('my',),
    'mo': ('ro',),
    'mos': (),
    'mr': (),
    'mrh': (),
    'mrj': ('mhr', 'ru'),
    'ms': (),
    'ms-arab': ('ms',),
    'mt': (),
    'mwl': ('pt',),
    'my': (),
    'myv': ('mdf', 'ru'),
    'mzn': ('fa',),
    'nah': ('es',),
    'nan': ('cdo', 'zh-hant', 'zh', 'zh-hans'),
    'nap': ('it',),
    'nb': ('no', 'nn'),
    'nds': ('de',),
    'nds-nl': ('nl',),
    'ne': (),
    'new': (),
    'nia': ('id',),
    'nl': (),
    'nl-informal': ('nl',),
    'nmz': (),
    'nn': ('no', 'nb'),
    'nod': (),
    'nqo': (),
    'nrm': ('nrf', 'fr'),
    'nso': (),
    'nv': (),
    'ny': (),
    'oc': ('ca', 'fr'),
    'ojb': (),
    'olo': ('fi',),
    'or': (),
    'os': ('ru',),
    'pa': (),
    'pcd': ('fr',),
    'pcm': (),
    'pdc': ('de',),
    'pdt': ('de',),
    'pfl': ('de',),
    'pi': (),
    'pih': ('en',),
    'pl': (),
    'pms': ('it',),
    'pnb': (),
    'pnt': ('el',),
    'prg': (),
    'ps': (),
    'pt': ('pt-br',),
    'pt-br': ('pt',),
    'pwn': ('zh-tw', 'zh-hant', 'zh', 'zh-hans'),
    'qu': ('qug', 'es'),
    'qug': ('qu', 'es'),
    'rgn': ('it',),
    'rm': (),
    'rmc': (),
    'rmy': ('ro',),
    'rn': (),
    'ro': (),
    'roa-tara': ('it',),
    'rsk': ('sr-ec', 'sr-cyrl'),
    'ru': (),
    'rue': ('uk', 'ru'),
    'rup': ('ro',),
    'ruq': ('ruq-latn', 'ro'),
    'ruq-cyrl': ('mk',),
    'ruq-latn': ('ro',),
    'rw': (),
    'sa': ('hi',),
    'sah': ('ru',),
    'sat': (),
    'sc': (),
    'scn': ('it',),
    'sco': ('en',),
    'sd': (),
    'sdc': ('it',),
    'sdh': ('cbk', 'fa'),
    'se': ('nb', 'fi'),
    'se-fi': ('se', 'fi', 'sv'),
    'se-no': ('se', 'nb', 'nn'),
    'se-se': ('se', 'sv'),
    'ses': ('fr',),
    'sg': ('fr',),
    'sgs': ('lt',),
    'sh': ('bs', 'sr-el', 'sr-latn', 'hr'),
    'sh-latn': ('sh', 'bs', 'hr', 'sr-latn', 'sr-el', 'sh-cyrl', 'sr-cyrl', 'sr-ec'),
    'shi': ('shi-latn', 'fr'),
    'shn': (),
    'shy': ('shy-latn',),
    'shy-latn': ('fr',),
    'si': (),
    'sjd': ('ru',),
    'sje': (),
    'sk': ('cs',),
    'skr': ('skr-arab',),
    'skr-arab': ('ur', 'pnb'),
    'sl': (),
    'sli': ('de',),
    'smn': ('fi',),
    'sms': (),
    'sq': (),
    'sr': ('sr-ec', 'sr-cyrl'),
    'sr-ec': ('sr-cyrl', 'sr'),
    'sr-el': ('sr-latn', 'sr'),
    'srn': ('nl',),
    'sro': ('it',),
    'st': (),
    'stq': ('de',),
    'sty': ('ru',),
    'su': ('id',),
    'sv': (),
    'sw': (),
    'syl': (),
    'szl': ('pl',),
    'szy': ('zh-tw', 'zh-hant', 'zh', 'zh-hans'),
    'ta': (),
    'tay': ('zh-tw', 'zh-hant', 'zh', 'zh-hans'),
    'tcy': ('kn',),
    'te': (),
    'tet': ('pt',),
    'tg': ('tg-cyrl',),
    'tg-cyrl': ('tg',),
    'tg-latn': ('tg',),
    'th': (),
    'ti': (),
    'tk': (),
    'tl': (),
    'tly': (),
    'tn': (),
    'tpi': (),
    'tr': (),
    'trv': ('zh-tw', 'zh-hant', 'zh', 'zh-hans'),
    'tt': ('tt-cyrl', 'ru'),
    'tt-cyrl': ('ru',),
    'tt-latn': (),
    'tum': (),
    'tw': (),
    'ty': ('fr',),
    'tyv': ('ru',),
    'udm': ('ru',),
    'ug': ('ug-arab',),
    'ug-arab': (),
    'uk': (),
    'ur': (),
    'uz': (),
    'vec': ('it',),
    'vep': ('et',),
    'vi': (),
    'vls': ('nl',),
    'vmf': ('de',),
    'vmw': ('pt',),
    'vo': (),
    'vot': ('fi',),
    'vro': ('et',),
    'wa': ('fr',),
    'war': (),
    'wls': ('fr',),
    'wo': ('fr',),
    'wuu': ('zh-hans', 'zh', 'zh-hant'),
    'xal': ('ru',),
    'xmf': ('ka',),
    'xsy': (),
    'yi': ('he',),
    'yo': (),
    'yrl': (),
    'yue': (),
    'za': ('zh-hans', 'zh', 'zh-hant'),
    'zea': ('nl',),
    'zgh': ('kab',),
    'zh': ('zh-hans', 'zh-hant', 'zh-cn', 'zh-tw', 'zh-hk'),
    'zh-cn': ('zh-hans', 'zh', 'zh-hant'),
    'zh-hans': ('zh-cn', 'zh', 'zh-hant'),
    'zh-hant': ('zh-tw', 'zh-hk', 'zh', 'zh-hans'),
    'zh-hk': ('zh-hant', 'zh-tw', 'zh', 'zh-hans'),
    'zh-mo': ('zh-hk', 'zh-hant', 'zh-tw', 'zh', 'zh-hans'),
    'zh-my': ('zh-sg', 'zh-hans', 'zh-cn', 'zh', 'zh-hant'),
    'zh-sg': ('zh-hans', 'zh-cn', 'zh', 'zh-hant'),
    'zh-tw': ('zh-hant', 'zh-hk', 'zh', 'zh-hans'),
}
"""Every MediaWiki language code -> its $fallback list (without the final "en")."""

MEDIAWIKI_DIRECTIONS: dict[str, str] = {
    'aeb-arab': 'rtl',
    'ar': 'rtl',
    'arc': 'rtl',
    'arq': 'rtl',
    'ary': 'rtl',
    'arz': 'rtl',
    'azb': 'rtl',
    'bcc': 'rtl',
    'bgn': 'rtl',
    'bqi': 'rtl',
    'ckb': 'rtl',
    'dv': 'rtl',
    'en': 'ltr',
    'en-rtl': 'rtl',
    'fa': 'rtl',
    'glk': 'rtl',
    'he': 'rtl',
    'khw': 'rtl',
    'kk-arab': 'rtl',
    'kk-cn': 'rtl',
    'ks-arab': 'rtl',
    'ku-arab': 'rtl',
    'lki': 'rtl',
    'lrc': 'rtl',
    'luz': 'rtl',
    'ms-arab': 'rtl',
    'mzn': 'rtl',
    'nqo': 'rtl',
    'pnb': 'rtl',
    'ps': 'rtl',
    'sd': 'rtl',
    'sdh': 'rtl',
    'skr-arab': 'rtl',
    'ug-arab': 'rtl',
    'ur': 'rtl',
    'yi': 'rtl',
}
"""Codes whose Messages file sets $rtl -> "rtl"/"ltr"; other codes inherit along their fallback chain."""
# END GENERATED


def read_mediawiki_languages(messages_dir: Path) -> tuple[dict[str, tuple[str, ...]], dict[str, str]]:
    """Read ``$fallback`` and ``$rtl`` from a MediaWiki ``languages/messages`` directory.

    Returns (fallbacks for every language code that has a Messages file, "rtl"/"ltr" for the codes whose
    file sets ``$rtl``; the others inherit it along their fallback chain, as in MediaWiki).
    ``$fallback`` lists the complete chain in MediaWiki (it is not followed recursively); ``en`` is
    appended by :func:`fallback_chain`, as MediaWiki's LocalisationCache does.
    """
    fallbacks: dict[str, tuple[str, ...]] = {}
    directions: dict[str, str] = {}
    for path in sorted(Path(messages_dir).glob("Messages*.php")):
        code = path.stem[len("Messages"):].lower().replace("_", "-")
        source = path.read_text(encoding="utf-8")
        match = re.search(r"^\$fallback\s*=\s*'([^']*)'\s*;", source, re.MULTILINE)
        chain = match.group(1).split(",") if match else []
        fallbacks[code] = tuple(part.strip() for part in chain if part.strip())
        rtl = re.search(r"^\$rtl\s*=\s*(true|false)\s*;", source, re.MULTILINE)
        if rtl:
            directions[code] = "rtl" if rtl.group(1) == "true" else "ltr"
    return fallbacks, directions


def generated_table_source(fallbacks: dict[str, tuple[str, ...]], directions: dict[str, str]) -> str:
    """Python source of the generated block above (without its BEGIN/END comment lines)."""
    lines = ["MEDIAWIKI_FALLBACKS: dict[str, tuple[str, ...]] = {"]
    for code in sorted(fallbacks):
        lines.append(f"    {code!r}: {fallbacks[code]!r},")
    lines.append("}")
    lines.append('"""Every MediaWiki language code -> its $fallback list (without the final "en")."""')
    lines.append("")
    lines.append("MEDIAWIKI_DIRECTIONS: dict[str, str] = {")
    for code in sorted(directions):
        lines.append(f"    {code!r}: {directions[code]!r},")
    lines.append("}")
    lines.append(
        '"""Codes whose Messages file sets $rtl -> "rtl"/"ltr"; other codes inherit along their fallback chain."""'
    )
    return "\n".join(lines) + "\n"


def normalize_code(code: str | None) -> str | None:
    """A MediaWiki-style code (``pt_BR`` -> ``pt-br``), or None when ``code`` is not a plausible code.

    Callers use this on untrusted input (``?uselang=``, Accept-Language) before anything else.
    """
    if not code:
        return None
    normalized = code.strip().lower().replace("_", "-")
    if normalized == QQX or _CODE_PATTERN.match(normalized):
        return normalized
    return None


def is_mediawiki_language(code: str) -> bool:
    """True when MediaWiki knows ``code`` (it has a Messages file there)."""
    return code in MEDIAWIKI_FALLBACKS


@functools.lru_cache(maxsize=1024)
def fallback_chain(lang: str) -> list[str]:
    """The languages whose messages serve ``lang``, most preferred first, starting with ``lang``, ending with "en".

    Follows MediaWiki: ``de-at`` -> ``[de-at, de, en]``; ``zh-tw`` -> ``[zh-tw, zh-hant, zh-hk, zh, zh-hans, en]``.
    For a code MediaWiki does not know (``fr-ca``), its shorter prefixes stand in (``[fr-ca, fr, en]``).
    Callers must not mutate the returned list (it is cached).
    """
    chain: list[str] = [lang]
    if lang in MEDIAWIKI_FALLBACKS:
        chain.extend(MEDIAWIKI_FALLBACKS[lang])
    else:
        parts = lang.split("-")
        for end in range(len(parts) - 1, 0, -1):
            prefix = "-".join(parts[:end])
            chain.append(prefix)
            if prefix in MEDIAWIKI_FALLBACKS:
                chain.extend(MEDIAWIKI_FALLBACKS[prefix])
                break
    chain.append("en")
    unique: list[str] = []
    for code in chain:
        if code not in unique:
            unique.append(code)
    return unique


def _own_babel_locale(code: str) -> Locale | None:
    """Babel's locale for exactly ``code`` (no fallback), or None when Babel has none."""
    try:
        return Locale.parse(_BABEL_OVERRIDES.get(code, code), sep="_" if code in _BABEL_OVERRIDES else "-")
    except (UnknownLocaleError, ValueError):
        return None


@functools.lru_cache(maxsize=1024)
def babel_locale(lang: str) -> Locale:
    """The Babel locale for a MediaWiki code, for plural rules, dates and numbers.

    ``zh-hans`` -> ``zh_Hans``, ``pt-br`` -> ``pt_BR``; a code Babel does not know uses the first
    language of its fallback chain that Babel knows (``qqx`` and unknown codes end at English).
    """
    for code in fallback_chain(lang):
        locale = _own_babel_locale(code)
        if locale is not None:
            return locale
    return Locale.parse("en")


@functools.lru_cache(maxsize=1024)
def language_direction(lang: str) -> str:
    """"rtl" or "ltr": the writing direction of ``lang``, for ``dir=`` attributes.

    As MediaWiki: the first language of the fallback chain that declares a direction decides (``ug``
    is rtl through ``ug-arab``; English declares ltr). A code MediaWiki does not know takes Babel's
    direction when Babel knows it (``ar-eg`` is rtl); ``qqx`` is ltr.
    """
    if lang == QQX:
        return "ltr"
    for code in fallback_chain(lang):
        if code in MEDIAWIKI_DIRECTIONS:
            return MEDIAWIKI_DIRECTIONS[code]
        if code not in MEDIAWIKI_FALLBACKS:
            locale = _own_babel_locale(code)
            if locale is not None:
                return "rtl" if locale.character_order == "right-to-left" else "ltr"
    return "ltr"


@functools.lru_cache(maxsize=1024)
def autonym(lang: str) -> str:
    """The name of ``lang`` in that language (``de`` -> "Deutsch"), from Babel; the code when Babel has none."""
    locale = _own_babel_locale(lang) if lang != QQX else None
    return (locale.display_name if locale is not None else None) or lang


PLURAL_CATEGORY_ORDER = ("zero", "one", "two", "few", "many", "other")


@functools.lru_cache(maxsize=1024)
def plural_categories(lang: str) -> tuple[str, ...]:
    """CLDR plural categories of ``lang`` in MediaWiki's form order (zero, one, two, few, many, other).

    ``{{PLURAL:$1|form|form|...}}`` forms are matched to these positions.
    """
    tags = set(babel_locale(lang).plural_form.tags) | {"other"}
    return tuple(category for category in PLURAL_CATEGORY_ORDER if category in tags)


def plural_category(lang: str, number: float | Decimal) -> str:
    """The CLDR plural category of ``number`` in ``lang`` ("one", "few", ...)."""
    return babel_locale(lang).plural_form(number)


def main(argv: list[str]) -> int:
    """Print the generated block for the MediaWiki messages directory given as the only argument."""
    if len(argv) != 1:
        print("usage: python -m reporting.i18n.languages /usr/share/mediawiki/languages/messages", file=sys.stderr)
        return 2
    fallbacks, directions = read_mediawiki_languages(Path(argv[0]))
    sys.stdout.write(generated_table_source(fallbacks, directions))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
