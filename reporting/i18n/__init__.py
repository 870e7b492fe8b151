"""Messages (banana JSON in ``i18n/``) and language selection.

Interim implementation for the walking skeleton: ``$n`` parameters, escaping,
per-key English fallback. The full MediaWiki semantics (PLURAL, GENDER, qqx,
fallback chains, language chooser) replace it with the same public interface.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from flask import Flask, request
from markupsafe import Markup, escape

_DIR = Path(__file__).resolve().parent.parent.parent / "i18n"
_messages: dict[str, dict[str, str]] = {}
_RTL = {"ar", "fa", "he", "ur", "ps", "ckb", "yi", "arz", "azb", "dv", "sd", "ug"}


def _load(directory: Path) -> None:
    _messages.clear()
    for path in directory.glob("*.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        data.pop("@metadata", None)
        _messages[path.stem] = data


def _format(text: str, params: tuple) -> str:
    return re.sub(r"\$(\d+)", lambda m: str(params[int(m.group(1)) - 1]) if int(m.group(1)) <= len(params) else m.group(0), text)


def msg_text(key: str, *params, lang: str = "en") -> str:
    if not _messages:
        _load(_DIR)
    text = _messages.get(lang, {}).get(key) or _messages.get("en", {}).get(key) or f"⧼{key}⧽"
    return _format(text, params)


def current_language() -> str:
    lang = request.args.get("uselang", "en") if request else "en"
    return lang if lang in _messages and lang != "qqq" else "en"


def language_direction(lang: str) -> str:
    return "rtl" if lang.split("-")[0] in _RTL else "ltr"


def msg(key: str, *params) -> Markup:
    return Markup(escape(msg_text(key, *[str(p) for p in params], lang=current_language())))


def init_app(app: Flask, messages_dir=None) -> None:
    _load(Path(messages_dir) if messages_dir else _DIR)
    app.jinja_env.globals.update(msg=msg, current_language=current_language, language_direction=language_direction,
                                 format_timestamp=lambda value: value.strftime("%Y-%m-%d %H:%M UTC"))
