"""Publishing the gadget: writing its three pages to a wiki through the Action API.

An interface administrator runs ``flask --app app reporting gadget publish --api URL --user
'Name@bot' --password-file FILE``. The command logs in with the bot password, checks up front that
the account may edit site JavaScript and the MediaWiki namespace (a clear error instead of a
half-published gadget), then makes at most one edit per page: none when a page already says what
it should. MediaWiki:Gadgets-definition is shared with every other gadget of the wiki: only the
gadget's own line is added or replaced, the rest stays as it is, and an edit made in between is
an edit conflict, never overwritten.

Why not the tool's :class:`reporting.wiki.client.WikiClient`: that client is anonymous by contract
(no cookies, no credentials) so that evidence never sees hidden content. Publishing is the one
place where the tool acts as someone on a wiki, from an operator's command line, so it has its own
small session here. It follows the same rules otherwise: the policy User-Agent, timeouts on every
request, no redirects followed, and a password sent only over https (or to this machine).
"""
from __future__ import annotations

import contextlib
import ipaddress
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from reporting.gadget.build import CODE_PAGE, DEFINITION_PAGE, DESCRIPTION_PAGE, GADGET_NAME, Gadget

__all__ = [
    "NEEDED_RIGHTS",
    "PageResult",
    "PublishError",
    "merge_definition",
    "publish_gadget",
    "read_password_file",
]

# editsitejs: the gadget's code (interface administrators); editinterface: the MediaWiki namespace.
NEEDED_RIGHTS = ("editinterface", "editsitejs")
TIMEOUT = (10.0, 60.0)  # connect, read
# The gadget's own line in MediaWiki:Gadgets-definition (name, then options or pages).
_OWN_LINE = re.compile(rf"^\*+\s*{re.escape(GADGET_NAME)}\s*[\[|]")


class PublishError(Exception):
    """Publishing stopped; the message says why and what to do. Never contains the password."""


@dataclass(frozen=True)
class PageResult:
    title: str
    outcome: str  # "created", "edited" or "unchanged"
    revid: int | None = None


def read_password_file(path: Path) -> str:
    """The bot password from ``path`` (first line); refused when others may read the file."""
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise PublishError(f"{path} may be read by others (mode {stat.filemode(mode)}): chmod 600 {path}")
    lines = path.read_text(encoding="utf-8").splitlines()
    password = lines[0].strip() if lines else ""
    if not password:
        raise PublishError(f"{path} is empty")
    return password


def merge_definition(current: str | None, line: str) -> str:
    """MediaWiki:Gadgets-definition with the gadget's ``line``: its old line replaced where it
    was (duplicates dropped), or the line added at the end; every other line untouched."""
    if not current or not current.strip():
        return line
    merged: list[str] = []
    placed = False
    for existing in current.split("\n"):
        if _OWN_LINE.match(existing):
            if not placed:
                merged.append(line)
                placed = True
        else:
            merged.append(existing)
    if not placed:
        while merged and not merged[-1].strip():
            merged.pop()
        merged.append(line)
    return "\n".join(merged)


def _check_api_url(api_url: str) -> None:
    parts = urlsplit(api_url)
    host = parts.hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        raise PublishError(f"--api {api_url}: the password is only sent over https:// (http:// only to 127.0.0.1)")
    if not parts.path.endswith("api.php") or parts.query or parts.fragment:
        raise PublishError(f"--api {api_url}: give the wiki's api.php, e.g. https://meta.wikimedia.org/w/api.php")


class _Session:
    """A logged-in Action API session (cookies kept), for this one command."""

    def __init__(self, api_url: str, user_agent: str) -> None:
        self.api_url = api_url
        self.http = requests.Session()
        self.http.headers["User-Agent"] = user_agent
        self.csrf_token = ""

    def call(self, params: dict[str, Any], *, post: bool = False) -> dict[str, Any]:
        params = {"format": "json", "formatversion": "2", "errorformat": "plaintext", **params}
        try:
            if post:
                response = self.http.post(self.api_url, data=params, timeout=TIMEOUT, allow_redirects=False)
            else:
                response = self.http.get(self.api_url, params=params, timeout=TIMEOUT, allow_redirects=False)
        except requests.RequestException as error:
            raise PublishError(f"{self.api_url} cannot be reached ({type(error).__name__})") from None
        if response.is_redirect:
            raise PublishError(f"{self.api_url} redirects to {response.headers.get('Location')}: give that api.php")
        if response.status_code != 200:
            raise PublishError(f"{self.api_url} answered HTTP {response.status_code}")
        try:
            data = response.json()
        except ValueError:
            raise PublishError(f"{self.api_url} did not answer JSON: is it the wiki's api.php?") from None
        errors = data.get("errors") if isinstance(data, dict) else None
        if errors:
            first = errors[0]
            raise PublishError(f"the wiki refused: {first.get('code')}: {first.get('text') or first.get('*')}")
        if not isinstance(data, dict):
            raise PublishError(f"{self.api_url} answered something unexpected")
        return data

    def token(self, kind: str) -> str:
        tokens = self.call({"action": "query", "meta": "tokens", "type": kind})["query"]["tokens"]
        return str(tokens[f"{kind}token"])

    def login(self, user: str, password: str) -> None:
        result = self.call({"action": "login", "lgname": user, "lgpassword": password,
                            "lgtoken": self.token("login")}, post=True).get("login", {})
        if result.get("result") != "Success":
            reason = result.get("reason")
            text = reason.get("text") if isinstance(reason, dict) else reason
            raise PublishError(f"login as {user} failed: {result.get('result')}"
                               + (f" ({text})" if text else "")
                               + ". Use a bot password from Special:BotPasswords: --user 'Name@botname'.")
        self.csrf_token = self.token("csrf")

    def logout(self) -> None:
        with contextlib.suppress(PublishError):  # the session ends with this command anyway
            self.call({"action": "logout", "token": self.csrf_token}, post=True)

    def check_rights(self, user: str) -> None:
        info = self.call({"action": "query", "meta": "userinfo", "uiprop": "rights|groups"})["query"]["userinfo"]
        missing = [right for right in NEEDED_RIGHTS if right not in info.get("rights", [])]
        if missing:
            raise PublishError(
                f"{user} may not publish the gadget: the account lacks {', '.join(missing)}. "
                "Interface administrators have these rights; the bot password needs the grants "
                "\"Edit sitewide and user CSS/JS\" and \"Edit the MediaWiki namespace and sitewide/user JSON\". "
                "Without them, load the gadget for yourself from global.js (see the tool's /gadget page).")

    def current(self, title: str) -> tuple[str | None, str | None, str]:
        """(text or None when missing, timestamp of that revision, the server's time now)."""
        data = self.call({"action": "query", "prop": "revisions", "titles": title, "rvprop": "content|timestamp",
                          "rvslots": "main", "curtimestamp": "1"})
        page = data["query"]["pages"][0]
        now = str(data["curtimestamp"])
        if page.get("missing") or not page.get("revisions"):
            return None, None, now
        revision = page["revisions"][0]
        return revision["slots"]["main"]["content"], revision["timestamp"], now

    def save(self, title: str, text: str, summary: str, base: str | None, start: str) -> dict[str, Any]:
        params = {"action": "edit", "title": title, "text": text, "summary": summary, "assert": "user",
                  "starttimestamp": start, "token": self.csrf_token}
        if base is None:
            params["createonly"] = "1"
        else:
            params["basetimestamp"] = base
            params["nocreate"] = "1"
        result = self.call(params, post=True).get("edit", {})
        if result.get("result") != "Success":
            raise PublishError(f"editing {title} failed: {result}")
        return dict(result)


def _same(saved: str | None, text: str) -> bool:
    """Whether the wiki already has ``text`` (MediaWiki drops trailing whitespace on save)."""
    return saved is not None and saved.rstrip() == text.rstrip()


def publish_gadget(gadget: Gadget, *, api_url: str, user: str, password: str, summary: str,
                   user_agent: str) -> list[PageResult]:
    """Write the gadget's pages to the wiki at ``api_url``; one result per page, in order."""
    _check_api_url(api_url)
    session = _Session(api_url, user_agent)
    session.login(user, password)
    try:
        session.check_rights(user)
        results = []
        for title, wanted in ((CODE_PAGE, gadget.code), (DESCRIPTION_PAGE, gadget.description),
                              (DEFINITION_PAGE, None)):
            saved, base, start = session.current(title)
            text = merge_definition(saved, gadget.definition) if wanted is None else wanted
            if _same(saved, text):
                results.append(PageResult(title, "unchanged"))
                continue
            edit = session.save(title, text, summary, base, start)
            if edit.get("nochange") is not None:
                results.append(PageResult(title, "unchanged"))
            else:
                results.append(PageResult(title, "created" if base is None else "edited", edit.get("newrevid")))
        return results
    finally:
        session.logout()

