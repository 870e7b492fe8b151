"""A throw-away MediaWiki (Debian's 1.39 package) for tests and benchmarks.

Nothing is installed here: the machine (or CI) provides `php`, `php-sqlite3` and the
`mediawiki` package under /usr/share/mediawiki. Each wiki lives in its own temporary
directory with its own SQLite files and its own LocalSettings.php, chosen through the
`MW_CONFIG_FILE` environment variable, so the package's shared default configuration
is never touched. The wiki is served by `php -S 127.0.0.1:<free port>`.

Use from a test: the `mediawiki` / `mediawiki_de` session fixtures in conftest.py.
Use from a script (benchmarks, gadget experiments)::

    from tests.evidence.mediawiki import running_mediawiki
    with running_mediawiki(lang="en") as wiki:
        revid = wiki.edit("Mallory", "Talk:Sandbox", appendtext="...", summary="...")
        print(wiki.api_url)

Users created on every wiki (each with a bot password, see USERS): Admin (sysop,
bureaucrat, suppress — the suppress group is given its rights in LocalSettings),
Alice, Mallory, Carol.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import requests

MEDIAWIKI_DIR = Path(os.environ.get("MEDIAWIKI_DIR", "/usr/share/mediawiki"))
PHP = os.environ.get("PHP_BINARY", "php")
BOT_APP_ID = "tests"
ADMIN_PASSWORD = "Admin-password-for-tests-1"
# Users and their groups; every user gets a bot password with these grants.
USERS: dict[str, tuple[str, ...]] = {
    "Admin": ("sysop", "bureaucrat", "suppress", "interface-admin"),
    "Alice": (),
    "Mallory": (),
    "Carol": (),
}
BOT_GRANTS = "basic,editmycssjs,editsiteconfig,highvolume,editpage,createeditmovepage,delete,oversight,editprotected,editinterface,blockusers,viewdeleted"
HTTP_TIMEOUT = 60


class MediaWikiSetupError(RuntimeError):
    """The local MediaWiki could not be installed or started (missing php or package)."""


def check_requirements() -> None:
    """Fail loudly (never skip) when php or the mediawiki package is missing."""
    if shutil.which(PHP) is None:
        raise MediaWikiSetupError(
            f"php not found ({PHP!r}); install php-cli and php-sqlite3 (CI does: apt-get install php-cli php-sqlite3 mediawiki)"
        )
    if not (MEDIAWIKI_DIR / "maintenance" / "install.php").is_file():
        raise MediaWikiSetupError(
            f"MediaWiki not found under {MEDIAWIKI_DIR}; install Debian's mediawiki package or set MEDIAWIKI_DIR"
        )
    modules = subprocess.run([PHP, "-m"], capture_output=True, text=True, check=True).stdout
    if "pdo_sqlite" not in modules:
        raise MediaWikiSetupError("php has no pdo_sqlite module; install php-sqlite3")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _local_settings(*, db_dir: Path, port: int, lang: str, sitename: str, extra: str) -> str:
    # Modelled on what install.php writes for SQLite, plus what the tests need.
    return f"""<?php
if ( !defined( 'MEDIAWIKI' ) ) {{ exit; }}
$wgSitename = "{sitename}";
$wgScriptPath = "";
$wgServer = "http://127.0.0.1:{port}";
$wgResourceBasePath = $wgScriptPath;
$wgEnableEmail = false;
$wgDBtype = "sqlite";
$wgDBserver = "";
$wgDBname = "wiki";
$wgDBuser = "";
$wgDBpassword = "";
$wgSQLiteDataDir = "{db_dir}";
$wgObjectCaches[CACHE_DB] = [
	'class' => SqlBagOStuff::class,
	'loggroup' => 'SQLBagOStuff',
	'server' => [
		'type' => 'sqlite', 'dbname' => 'wikicache', 'tablePrefix' => '',
		'variables' => [ 'synchronous' => 'NORMAL' ], 'dbDirectory' => $wgSQLiteDataDir,
		'trxMode' => 'IMMEDIATE', 'flags' => 0
	]
];
$wgLocalisationCacheConf['storeServer'] = [
	'type' => 'sqlite', 'dbname' => "{{$wgDBname}}_l10n_cache", 'tablePrefix' => '',
	'variables' => [ 'synchronous' => 'NORMAL' ], 'dbDirectory' => $wgSQLiteDataDir,
	'trxMode' => 'IMMEDIATE', 'flags' => 0
];
$wgJobTypeConf['default'] = [
	'class' => 'JobQueueDB', 'claimTTL' => 3600,
	'server' => [
		'type' => 'sqlite', 'dbname' => "{{$wgDBname}}_jobqueue", 'tablePrefix' => '',
		'variables' => [ 'synchronous' => 'NORMAL' ], 'dbDirectory' => $wgSQLiteDataDir,
		'trxMode' => 'IMMEDIATE', 'flags' => 0
	]
];
$wgSharedTables[] = "actor";
$wgMainCacheType = CACHE_NONE;
$wgMemCachedServers = [];
$wgEnableUploads = false;
$wgUseInstantCommons = false;
$wgPingback = false;
$wgLanguageCode = "{lang}";
$wgLocaltimezone = "UTC";
$wgSecretKey = "{secrets.token_hex(32)}";
$wgAuthenticationTokenVersion = "1";
$wgDiff3 = "";
$wgShowExceptionDetails = true;
$wgJobRunRate = 0;
$wgRunJobsAsync = false;
wfLoadSkin( 'Vector' );
$wgDefaultSkin = "vector";
$wgEnableBotPasswords = true;
$wgPasswordPolicy['policies']['default'] = [];
$wgPasswordPolicy['policies']['sysop'] = [];
$wgPasswordPolicy['policies']['bureaucrat'] = [];
$wgPasswordPolicy['policies']['suppress'] = [];
$wgPasswordPolicy['policies']['interface-admin'] = [];
// Test users edit fast: no rate limits, no captchas, no newbie throttles.
$wgRateLimits = [];
$wgGroupPermissions['user']['noratelimit'] = true;
$wgAutoConfirmAge = 0;
$wgAutoConfirmCount = 0;
// Oversight: the suppress group exists in core but has no rights by default.
$wgGroupPermissions['suppress']['deleterevision'] = true;
$wgGroupPermissions['suppress']['deletelogentry'] = true;
$wgGroupPermissions['suppress']['suppressrevision'] = true;
$wgGroupPermissions['suppress']['suppressionlog'] = true;
$wgGroupPermissions['suppress']['hideuser'] = true;
$wgGroupPermissions['suppress']['viewsuppressed'] = true;
{extra}
"""


@dataclass
class BotSession:
    """A logged-in API session (bot password) of one test user on one local wiki."""

    api_url: str
    http: requests.Session
    csrf_token: str

    def call(self, params: dict, *, post: bool = False) -> dict:
        params = {"format": "json", "formatversion": "2", **params}
        if post:
            response = self.http.post(self.api_url, data={**params, "token": self.csrf_token}, timeout=HTTP_TIMEOUT)
        else:
            response = self.http.get(self.api_url, params=params, timeout=HTTP_TIMEOUT)
        response.raise_for_status()
        data = response.json()
        if "error" in data:
            raise RuntimeError(f"API error from local wiki: {data['error']}")
        return data


@dataclass
class MediaWiki:
    """One running local wiki. `host` is the netloc of its server (127.0.0.1:<port>)."""

    root: Path
    lang: str
    port: int
    config_file: Path
    process: subprocess.Popen | None = None
    bot_passwords: dict[str, str] = field(default_factory=dict)
    _sessions: dict[str, BotSession] = field(default_factory=dict)

    @property
    def server(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.server}/api.php"

    @property
    def index_url(self) -> str:
        return f"{self.server}/index.php"

    def env(self) -> dict[str, str]:
        return {**os.environ, "MW_CONFIG_FILE": str(self.config_file)}

    def maintenance(self, script: str, *args: str) -> str:
        """Run a maintenance script against this wiki; returns its standard output."""
        done = subprocess.run(
            [PHP, str(MEDIAWIKI_DIR / "maintenance" / script), *args],
            cwd=MEDIAWIKI_DIR, env=self.env(), capture_output=True, text=True, timeout=300,
        )
        if done.returncode != 0:
            raise MediaWikiSetupError(f"{script} failed: {done.stdout[-2000:]} {done.stderr[-2000:]}")
        return done.stdout

    # --- serving -------------------------------------------------------------------

    def start(self) -> None:
        env = {**self.env(), "PHP_CLI_SERVER_WORKERS": "4"}
        log = open(self.root / "php-server.log", "ab")
        self.process = subprocess.Popen(
            [PHP, "-S", f"127.0.0.1:{self.port}", "-t", str(MEDIAWIKI_DIR)],
            cwd=MEDIAWIKI_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: PHP_CLI_SERVER_WORKERS forks workers
        )
        log.close()
        deadline = time.monotonic() + 30
        while True:
            if self.process.poll() is not None:
                raise MediaWikiSetupError(f"php -S exited; see {self.root / 'php-server.log'}")
            try:
                reply = requests.get(self.api_url, params={"action": "query", "meta": "siteinfo", "format": "json"}, timeout=5)
                if reply.status_code == 200 and "query" in reply.json():
                    return
            except (requests.RequestException, ValueError):
                pass
            if time.monotonic() > deadline:
                raise MediaWikiSetupError(f"local wiki did not answer on {self.api_url}")
            time.sleep(0.1)

    def stop(self) -> None:
        """Stop the server and its forked workers (the whole process group it leads)."""
        if self.process is None:
            return
        group = self.process.pid  # start_new_session made the server its group leader
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)
        self.process.wait()
        self.process = None

    # --- API helpers (logged in with bot passwords) --------------------------------------

    def session(self, user: str = "Admin") -> BotSession:
        if user not in self._sessions:
            http = requests.Session()
            http.headers["User-Agent"] = "reporting-tests/1.0 (local test wiki)"
            base = {"format": "json", "formatversion": "2"}
            token = http.get(self.api_url, params={**base, "action": "query", "meta": "tokens", "type": "login"},
                             timeout=HTTP_TIMEOUT).json()["query"]["tokens"]["logintoken"]
            login = http.post(self.api_url, data={
                **base, "action": "login", "lgname": f"{user}@{BOT_APP_ID}",
                "lgpassword": self.bot_passwords[user], "lgtoken": token,
            }, timeout=HTTP_TIMEOUT).json()
            if login.get("login", {}).get("result") != "Success":
                raise MediaWikiSetupError(f"bot login of {user} failed: {login}")
            csrf = http.get(self.api_url, params={**base, "action": "query", "meta": "tokens"},
                            timeout=HTTP_TIMEOUT).json()["query"]["tokens"]["csrftoken"]
            self._sessions[user] = BotSession(self.api_url, http, csrf)
        return self._sessions[user]

    @property
    def admin(self) -> BotSession:
        return self.session("Admin")

    def edit(self, user: str, title: str, text: str | None = None, *, appendtext: str | None = None,
             summary: str = "", section: str | None = None, sectiontitle: str | None = None,
             tags: str | None = None) -> int:
        """Edit as `user`; returns the new revision id (or the current one for a null edit)."""
        params = {"action": "edit", "title": title, "summary": summary}
        if text is not None:
            params["text"] = text
        if appendtext is not None:
            params["appendtext"] = appendtext
        if section is not None:
            params["section"] = section
        if sectiontitle is not None:
            params["sectiontitle"] = sectiontitle
        if tags is not None:
            params["tags"] = tags
        result = self.session(user).call(params, post=True)["edit"]
        if result.get("result") != "Success":
            raise RuntimeError(f"edit failed: {result}")
        if "newrevid" in result:
            return int(result["newrevid"])
        return self.current_revid(title)

    def current_revid(self, title: str) -> int:
        page = self.admin.call({"action": "query", "prop": "info", "titles": title})["query"]["pages"][0]
        return int(page["lastrevid"])

    def page_text(self, title: str) -> str:
        page = self.admin.call({"action": "query", "prop": "revisions", "titles": title, "rvprop": "content",
                                "rvslots": "main"})["query"]["pages"][0]
        return page["revisions"][0]["slots"]["main"]["content"]

    def revdelete(self, revids: list[int] | int, hide: tuple[str, ...] = ("content", "comment", "user"),
                  *, suppress: bool = False, reason: str = "test") -> None:
        """Hide parts of revisions (revision deletion); suppress=True also hides them from admins.

        MediaWiki refuses to hide the text of a page's current revision: edit the page again first.
        """
        ids = [revids] if isinstance(revids, int) else revids
        result = self.admin.call({
            "action": "revisiondelete", "type": "revision", "ids": "|".join(map(str, ids)),
            "hide": "|".join(hide), "suppress": "yes" if suppress else "no", "reason": reason,
        }, post=True)["revisiondelete"]
        errors = [error for item in result["items"] for error in item.get("errors", [])]
        if errors:
            raise RuntimeError(f"revision deletion failed: {errors}")

    def delete_page(self, title: str, reason: str = "test") -> int:
        """Delete a page; returns the log id of the deletion."""
        return int(self.admin.call({"action": "delete", "title": title, "reason": reason}, post=True)["delete"]["logid"])

    def block(self, user: str, reason: str = "test") -> int:
        return int(self.admin.call({"action": "block", "user": user, "reason": reason, "expiry": "1 week"},
                                   post=True)["block"]["id"])


def _install(root: Path, *, lang: str, port: int, extra_settings: str) -> MediaWiki:
    db_dir = root / "db"
    db_dir.mkdir(parents=True)
    scratch_conf = root / "installer-conf"
    scratch_conf.mkdir()
    done = subprocess.run(
        [PHP, "maintenance/install.php", "--dbtype", "sqlite", "--dbpath", str(db_dir), "--dbname", "wiki",
         "--confpath", str(scratch_conf), "--server", f"http://127.0.0.1:{port}", "--scriptpath", "",
         "--pass", ADMIN_PASSWORD, "--skins", "Vector", "--lang", lang, f"Test wiki ({lang})", "Admin"],
        cwd=MEDIAWIKI_DIR, env={k: v for k, v in os.environ.items() if k != "MW_CONFIG_FILE"},
        capture_output=True, text=True, timeout=300,
    )
    if done.returncode != 0:
        raise MediaWikiSetupError(f"install.php failed: {done.stdout[-3000:]} {done.stderr[-3000:]}")
    config_file = root / "LocalSettings.php"
    config_file.write_text(_local_settings(db_dir=db_dir, port=port, lang=lang,
                                           sitename=f"Test wiki ({lang})", extra=extra_settings))
    wiki = MediaWiki(root=root, lang=lang, port=port, config_file=config_file)
    for user, groups in USERS.items():
        args = ["--force"] if user == "Admin" else []
        if groups:
            args += [f"--custom-groups={','.join(groups)}"]
        wiki.maintenance("createAndPromote.php", *args, user, f"{user}-password-for-tests-1")
        password = secrets.token_hex(16)  # 32 chars of [0-9a-f], the format bot passwords require
        wiki.maintenance("createBotPassword.php", f"--appid={BOT_APP_ID}", f"--grants={BOT_GRANTS}", user, password)
        wiki.bot_passwords[user] = password
    return wiki


def start_mediawiki(root: Path, *, lang: str = "en", extra_settings: str = "") -> MediaWiki:
    """Install a fresh wiki under `root` (must not exist yet) and start serving it."""
    check_requirements()
    wiki = _install(Path(root), lang=lang, port=free_port(), extra_settings=extra_settings)
    wiki.start()
    return wiki


@contextlib.contextmanager
def running_mediawiki(*, lang: str = "en", extra_settings: str = "", keep: bool = False) -> Iterator[MediaWiki]:
    """Context manager for scripts: a fresh wiki in a temporary directory, stopped and removed after."""
    root = Path(tempfile.mkdtemp(prefix=f"mediawiki-{lang}-"))
    wiki = None
    try:
        wiki = start_mediawiki(root / "wiki", lang=lang, extra_settings=extra_settings)
        yield wiki
    finally:
        if wiki is not None:
            wiki.stop()
        if not keep:
            shutil.rmtree(root, ignore_errors=True)
