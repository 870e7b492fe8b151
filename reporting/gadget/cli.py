"""``flask --app app reporting gadget build|publish``: the gadget's pages, for a wiki.

Registered on the ``reporting`` command group by :func:`register` (one line in reporting/cli.py).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import click
from flask.cli import AppGroup

from reporting.gadget.build import Gadget, GadgetBuildError, build_gadget, gzip_size
from reporting.gadget.publish import PublishError, publish_gadget, read_password_file
from reporting.i18n import msg_text
from reporting.wiki.user_agent import policy_user_agent


def _build(tool_url: str, lang: str) -> Gadget:
    try:
        return build_gadget(tool_url, lang=lang)
    except GadgetBuildError as error:
        raise click.ClickException(str(error)) from None


def register(group: AppGroup, config: Mapping[str, Any], is_known_api: Callable[[str], bool]) -> None:
    """Add the ``gadget`` commands to ``group``; ``--tool-url`` defaults to the ``tool_url`` setting.

    ``is_known_api`` tells whether an API URL is one of the wikis the tool knows: the bot password
    goes to no other host (a Wikimedia wiki, or one an operator registered in ``wikis.extra``).
    """
    gadget = AppGroup("gadget", help="The on-wiki gadget: build its pages, publish them to a wiki.")
    tool_url_option = click.option(
        "--tool-url", default=config["tool_url"], show_default=True,
        help="Address of the tool the gadget links to.")
    lang_option = click.option(
        "--lang", default="en", show_default=True,
        help="Language of the gadget's description and edit summary (the wiki's language).")

    @gadget.command("build")
    @click.argument("outdir", type=click.Path(file_okay=False, path_type=Path))
    @tool_url_option
    @lang_option
    def build_command(outdir: Path, tool_url: str, lang: str) -> None:
        """Write the gadget's pages into OUTDIR: the code, its description and the definition line."""
        built = _build(tool_url, lang)
        outdir.mkdir(parents=True, exist_ok=True)
        for name, text in built.files().items():
            (outdir / name).write_text(text, encoding="utf-8")
            click.echo(f"wrote {outdir / name}")
        click.echo(f"the code is {gzip_size(built.code)} bytes gzip")

    @gadget.command("publish")
    @click.option("--api", "api_url", required=True, help="The wiki's api.php, e.g. https://meta.wikimedia.org/w/api.php")
    @click.option("--user", required=True, help="Bot password login: 'Name@botname' (Special:BotPasswords).")
    @click.option("--password-file", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
                  help="File holding the bot password (mode 600).")
    @tool_url_option
    @lang_option
    def publish_command(api_url: str, user: str, password_file: Path, tool_url: str, lang: str) -> None:
        """Write the gadget's three pages to a wiki (needs interface-administrator rights)."""
        if not is_known_api(api_url):
            raise click.ClickException(
                f"--api {api_url} is not the API of a wiki the tool knows (a Wikimedia wiki, or one in "
                "wikis.extra); for Meta-Wiki it is https://meta.wikimedia.org/w/api.php")
        built = _build(tool_url, lang)
        try:
            results = publish_gadget(
                built, api_url=api_url, user=user, password=read_password_file(password_file),
                summary=msg_text("reporting-gadget-publish-summary", tool_url, lang=lang),
                user_agent=policy_user_agent(config))
        except PublishError as error:
            raise click.ClickException(str(error)) from None
        for result in results:
            revision = f" (revision {result.revid})" if result.revid else ""
            click.echo(f"{result.outcome} {result.title}{revision}")

    group.add_command(gadget)
