"""Whether pasted evidence points at an image, a video, a sound or another file: never accepted.

Why so careful: child-safety law. The tool must not fetch or store images, nor point the Trust
and Safety desk at them, in any form a link can take. A regular expression over the raw text was
bypassed by 14 of 24 forms (``File:Example%2Ejpg``, ``.jp%67``, a trailing ``/``,
``Special:FilePath/…``, ``.avif``, ``i.imgur.com/…``…). So every line is first decoded the way a
browser and MediaWiki would read it (HTML entities, percent-encoding repeatedly, Unicode NFKC,
invisible characters dropped, any case), then refused when it

- names a host that serves files (:data:`MEDIA_HOSTS`, e.g. ``upload.wikimedia.org``,
  ``i.imgur.com``), or
- has a path, query value or word that ends in a file extension (:data:`MEDIA_EXTENSIONS`), or
- names a title in the File or Media namespace in any language MediaWiki knows (``File:``,
  ``Datei:``, ``Файл:``, ``[[:commons:File:…]]``), or a special page that serves or lists files
  (``Special:FilePath``, ``Special:Redirect/file``, ``Spezial:Dateipfad``, ``Special:NewFiles``…):
  ``media_names.json``, generated from MediaWiki's language files by ``devtools/media_names.py``.

Pure and without the wiki registry, so the form's validation, the link parser and the resolver
(which adds what only a wiki knows: ``?curid=`` of a file page) all use it. It errs on the side
of refusing: a main-namespace page titled ``Bild: …`` is refused too (link its diff instead).
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
from functools import cache
from pathlib import Path
from urllib.parse import unquote

__all__ = ["MEDIA_EXTENSIONS", "MEDIA_HOSTS", "host_of", "is_media_link", "url_tokens"]

MEDIA_EXTENSIONS = frozenset({
    # images
    "jpg", "jpeg", "jpe", "jfif", "pjpeg", "pjp", "png", "apng", "gif", "webp", "svg", "svgz", "bmp", "dib",
    "ico", "cur", "tif", "tiff", "heic", "heif", "avif", "jxl", "jp2", "j2k", "jpx", "psd", "xcf", "raw", "arw",
    "cr2", "cr3", "nef", "orf", "rw2", "dng", "eps",
    # video
    "mp4", "m4v", "mov", "qt", "webm", "mkv", "avi", "wmv", "flv", "f4v", "mpg", "mpeg", "mpe", "m2v", "m2ts",
    "mts", "3gp", "3g2", "ogv", "ogm", "vob", "swf",
    # sound
    "mp3", "ogg", "oga", "opus", "wav", "flac", "m4a", "aac", "wma", "mid", "midi", "amr", "aif", "aiff", "weba",
    # documents, scans, models, archives
    "pdf", "djvu", "djv", "xps", "epub", "stl", "glb", "gltf",
    "zip", "rar", "7z", "tar", "gz", "tgz", "bz2", "xz", "zst", "iso", "dmg",
})
#: Hosts (and their subdomains) that serve images or files rather than pages. Not complete:
#: the extension rule catches most direct links to other hosts.
MEDIA_HOSTS = (
    "upload.wikimedia.org", "maps.wikimedia.org",
    "imgur.com", "imgur.io", "i.redd.it", "preview.redd.it", "external-preview.redd.it", "v.redd.it",
    "pbs.twimg.com", "video.twimg.com", "cdn.discordapp.com", "discordapp.net", "ibb.co", "imgbb.com",
    "postimg.cc", "postimages.org", "gyazo.com", "prnt.sc", "prntscr.com", "tinypic.com", "photobucket.com",
    "flickr.com", "flic.kr", "staticflickr.com", "pinimg.com", "googleusercontent.com", "ggpht.com",
    "fbcdn.net", "cdninstagram.com", "imageshack.com", "imageshack.us", "giphy.com", "tenor.com",
    "catbox.moe", "imgbox.com", "imagebam.com", "imagevenue.com", "pixhost.to", "dropbox.com",
    "dropboxusercontent.com", "drive.google.com", "mega.nz", "mega.io", "mediafire.com", "wetransfer.com",
    "we.tl", "pixeldrain.com", "gofile.io", "sendspace.com", "file.io", "transfer.sh", "4shared.com",
    "anonfiles.com", "zippyshare.com", "ufile.io", "tmpfiles.org", "filebin.net", "uguu.se", "qu.ax",
)

_SCHEME = re.compile(r"[a-z][a-z0-9+.\-]{0,31}://")
_SCHEME_AND_AUTHORITY = re.compile(r"(?:[a-z][a-z0-9+.\-]{0,31}:)?//[^/?#\\]*")
_INVISIBLE = re.compile("[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
                        "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0]")
_TOKEN_SPLIT = re.compile(r"[\s<>\"'“”«»\[\]{}|]+")
_PIECE_SPLIT = re.compile(r"[/?#&=;:\\,]+")
_TRAILING = ".,;:!?)]}>'\"/\\*~"
_HOSTISH = re.compile(r"(?:[a-z0-9\-]+\.)+[a-z][a-z0-9\-]*[a-z0-9](?::\d*)?\Z")
_MAX_DECODE_ROUNDS = 4


@cache
def _names() -> tuple[frozenset[str], frozenset[str], dict[str, frozenset[str]]]:
    data = json.loads((Path(__file__).with_name("media_names.json")).read_text(encoding="utf-8"))
    return (frozenset(data["file_namespaces"]), frozenset(data["special_namespaces"]),
            {page: frozenset(aliases) for page, aliases in data["file_special_pages"].items()})


def decoded(text: str) -> str:
    """``text`` as read by a browser and MediaWiki, whatever encodings were stacked on it:
    entities and percent-encoding undone until nothing changes, NFKC, invisibles dropped, lower case."""
    for _ in range(_MAX_DECODE_ROUNDS):
        before = text
        text = unquote(html.unescape(text), errors="replace")
        text = _INVISIBLE.sub("", unicodedata.normalize("NFKC", text))
        if text == before:
            break
    return text.casefold()


def is_media_link(text: str) -> bool:
    """Whether ``text`` (one pasted line: a URL, a wikilink, a template, a bare title, or prose
    around them) points at a file in any way this module knows."""
    plain = decoded(text)
    return any(_is_media_token(token) for token in _TOKEN_SPLIT.split(plain) if token) or _has_file_title(plain)


def url_tokens(text: str) -> list[str]:
    """The words of ``text`` that are web addresses (a scheme, ``//``, or a host name followed
    by a path), decoded; a bare word such as ``e.g.`` is not one."""
    tokens = []
    for token in _TOKEN_SPLIT.split(decoded(text)):
        token = token.rstrip(_TRAILING)
        scheme = _SCHEME.search(token)
        if scheme:
            tokens.append(token[scheme.start():])
        elif _is_address(token):
            tokens.append(token)
    return tokens


def _is_address(token: str) -> bool:
    """``//host...``, ``host/path`` or a bare host name (not a number like ``1.5``)."""
    if token.startswith("//"):
        return True
    if "/" in token:
        return bool(_HOSTISH.match(token.split("/", 1)[0]))
    return bool(_HOSTISH.match(token)) and not token.split(".")[-1].isdigit()


def host_of(url: str) -> str:
    """The host of a decoded web address (no user-info, port or trailing dot)."""
    rest = _SCHEME.sub("", url, count=1).lstrip("/\\")
    authority = re.split(r"[/?#\\]", rest, maxsplit=1)[0]
    host = authority.rpartition("@")[2]
    if not host.startswith("["):
        host = host.split(":", 1)[0]
    return host.rstrip(".")


_MEDIA_HOST_SET = frozenset(MEDIA_HOSTS)
_MAX_HOST_LABELS = max(host.count(".") for host in MEDIA_HOSTS) + 1


def _is_media_host(host: str) -> bool:
    """``host`` is one of MEDIA_HOSTS or a subdomain of one (a set look-up per label)."""
    labels = host.split(".")[-_MAX_HOST_LABELS:]
    return any(".".join(labels[start:]) in _MEDIA_HOST_SET for start in range(len(labels) - 1))


def _is_media_token(token: str) -> bool:
    """One decoded word: a file host, or a path, query value or name ending in a file extension."""
    scheme = _SCHEME.search(token)
    if scheme or token.startswith("//"):
        url = token[scheme.start():] if scheme else token
        # The address itself, and any address inside it (?url=https://upload.wikimedia.org/...).
        if any(_is_media_host(host_of(match.group(0))) for match in _SCHEME_AND_AUTHORITY.finditer(url)):
            return True
        rest = _SCHEME.sub("", url, count=1).lstrip("/\\")
        after_host = rest[len(re.split(r"[/?#\\]", rest, maxsplit=1)[0]):]
        return _ends_in_extension(after_host)
    first = token.split("/", 1)[0]
    if "/" in token and _HOSTISH.match(first) and _is_media_host(host_of(token)):
        return True
    return _ends_in_extension(token)


def _ends_in_extension(text: str) -> bool:
    for piece in _PIECE_SPLIT.split(text):
        piece = piece.strip(_TRAILING)
        name, dot, extension = piece.rpartition(".")
        if dot and extension in MEDIA_EXTENSIONS:
            return True
    return False


# --- titles -------------------------------------------------------------------------------------

_TITLE_CANDIDATE = re.compile(r"[^\t\n\r\[\]{}|<>\"?#&=]+")
#: Words a namespace name may have ("Tập tin", "Обсуждение файла").
_MAX_NAME_WORDS = 3


def _has_file_title(plain: str) -> bool:
    """Whether any title-like run of ``plain`` (a path, a query value, a wikilink target, a bare
    title, a title in prose) is in a File/Media namespace or names a special page that serves or
    lists files."""
    for candidate in _TITLE_CANDIDATE.findall(re.sub(r"[ _]+", " ", plain)):
        if ":" not in candidate:
            continue
        segments = candidate.split("/")
        for index, segment in enumerate(segments):
            # A title is one path segment; its subpage (Special:Redirect/file/...) the next one.
            subpage = segments[index + 1] if index + 1 < len(segments) else ""
            if ":" in segment and _is_file_title(segment, subpage.strip(), plain):
                return True
    return False


def _is_file_title(title: str, subpage: str, whole: str) -> bool:
    """Whether ``title`` (one path segment, ``a:b:c``, maybe after prose) has a File/Media
    namespace among its prefixes (interwiki prefixes may come first), or is a special page
    serving or listing files; ``subpage`` is the next path segment, ``whole`` the line (for
    ``wptype=file``)."""
    files, specials, pages = _names()
    parts = title.split(":")
    for index, before in enumerate(parts[:-1]):
        words = before.split()[-_MAX_NAME_WORDS:]
        prefixes = {"_".join(words[start:]) for start in range(len(words))}
        if prefixes & files:
            return True
        if prefixes & specials:
            name = parts[index + 1].strip().split(" ")[0] if parts[index + 1].strip() else ""
            special = parts[index + 1].strip().replace(" ", "_").upper()
            for page, aliases in pages.items():
                if special not in aliases and name.upper() not in aliases:
                    continue
                if page != "Redirect" or subpage.startswith("file") or "wptype=file" in whole.replace(" ", ""):
                    return True
    return False
