"""Rules about the code's shape that no single feature test would notice.

* No import cycles inside ``reporting``: two modules that import each other
  (directly or round a loop) can only be understood, tested and moved
  together, and work only thanks to import order or imports hidden in
  functions. The import graph is read from the source with :mod:`ast`, so
  imports inside functions and under ``if TYPE_CHECKING:`` count as well.
* Every delivery connector satisfies the :class:`Connector` protocol, with
  the protocol's method signatures, as :func:`connector_for` builds it.
* Objects that hold secrets do not show them in ``repr()`` / ``str()``, which
  end up in logs, tracebacks and debugger output.
"""
from __future__ import annotations

import secrets

import ast
import importlib
import inspect
import pkgutil
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import reporting
import reporting.delivery
from reporting import config as config_module
from reporting.config import load_config
from reporting.delivery.base import Connector
from reporting.delivery.connectors import connector_for
from reporting.delivery.local import LocalQueueConnector
from reporting.delivery.maildir import MaildirConnector
from reporting.delivery.smtp import SmtpConnector
from reporting.delivery.zendesk import ZendeskConnector
from reporting.delivery.znuny import ZnunyConnector
from reporting.storage import Stores
from reporting.storage.crypto import Sealer, decode_key, generate_key

PACKAGE_DIR = Path(reporting.__file__).resolve().parent


# -- the import graph ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Import:
    """One edge of the graph: ``importer`` imports ``imported`` at ``path:line``."""

    importer: str
    imported: str
    path: Path
    line: int


def module_files(package_dir: Path, package: str) -> dict[str, Path]:
    """Every module of the package: dotted name -> file (a package is its ``__init__.py``)."""
    modules: dict[str, Path] = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = path.relative_to(package_dir).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join((package, *parts))] = path
    return modules


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The module ``name`` refers to: itself, else its longest known prefix (None outside the package)."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def imports_of(module: str, path: Path, modules: dict[str, Path]) -> Iterator[Import]:
    """The package-internal imports of one module, wherever they appear in it.

    ``import a.b`` imports ``a.b``; ``from a import b`` imports ``a.b`` when that
    is a module and ``a`` otherwise. The parent packages that Python imports
    on the way are not counted: a submodule implicitly running its package's
    ``__init__`` is no dependency of the submodule on the package; only a
    statement that names the package (``import reporting``, ``from reporting
    import create_app``) is.
    """
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = _resolve(alias.name, modules)
                if target is not None:
                    yield Import(module, target, path, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                # Relative to the module's own package (a package's __init__ is its own package).
                anchor = module.split(".") if is_package else module.split(".")[:-1]
                if node.level > 1:
                    anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, node.module] if node.module else anchor)
            else:
                base = node.module or ""
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                target = submodule if submodule in modules else _resolve(base, modules)
                if target is not None:
                    yield Import(module, target, path, node.lineno)


def import_graph(package_dir: Path, package: str) -> tuple[dict[str, set[str]], list[Import]]:
    modules = module_files(package_dir, package)
    edges = [edge for module, path in modules.items() for edge in imports_of(module, path, modules)]
    graph: dict[str, set[str]] = {module: set() for module in modules}
    for edge in edges:
        graph[edge.importer].add(edge.imported)
    return graph, edges


def strongly_connected_components(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative (no recursion limit to worry about)."""
    index: dict[str, int] = {}
    lowlink: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(graph[root])))]
        index[root] = lowlink[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            for successor in successors:
                if successor not in index:
                    index[successor] = lowlink[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(graph[successor]))))
                    break
                if successor in on_stack:
                    lowlink[node] = min(lowlink[node], index[successor])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    lowlink[parent] = min(lowlink[parent], lowlink[node])
                if lowlink[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    components.append(sorted(component))
    return components


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Groups of modules that import each other, and modules that import themselves."""
    return sorted(
        component
        for component in strongly_connected_components(graph)
        if len(component) > 1 or component[0] in graph[component[0]]
    )


def describe_cycles(cycles: list[list[str]], edges: list[Import], root: Path) -> str:
    lines = []
    for cycle in cycles:
        members = set(cycle)
        lines.append(f"cycle of {len(cycle)} module(s): {', '.join(cycle)}")
        seen = set()
        for edge in sorted(edges, key=lambda e: (e.importer, e.imported, e.line)):
            if edge.importer in members and edge.imported in members and (edge.importer, edge.imported) not in seen:
                seen.add((edge.importer, edge.imported))
                where = f"{edge.path.relative_to(root)}:{edge.line}"
                lines.append(f"    {edge.importer} -> {edge.imported}  ({where})")
    return "\n".join(lines)


def test_reporting_has_no_import_cycles():
    graph, edges = import_graph(PACKAGE_DIR, "reporting")
    cycles = import_cycles(graph)
    assert not cycles, "import cycles in reporting:\n" + describe_cycles(cycles, edges, PACKAGE_DIR.parent)


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_the_import_graph_reads_every_kind_of_import(tmp_path):
    """The cycle test is only as good as its reading of imports."""
    _write(tmp_path / "pkg", {
        "__init__.py": "from pkg.a import A\n",
        "a.py": "import pkg.b\nA = 1\n",
        "b.py": "def f():\n    from . import c\n",
        "c.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .sub.d import D\n",
        "sub/__init__.py": "from .. import a\nfrom ..a import A\nfrom . import d\n",
        "sub/d.py": "from pkg import A\nfrom pkg.sub import d\nimport os, json\nD = 1\n",
        "e.py": "from pkg.a import A\nfrom pkg.sub.d import D\n",
    })
    graph, _ = import_graph(tmp_path / "pkg", "pkg")
    assert graph == {
        "pkg": {"pkg.a"},
        "pkg.a": {"pkg.b"},  # `import pkg.b` does not count as importing pkg's __init__
        "pkg.b": {"pkg.c"},  # inside a function
        "pkg.c": {"pkg.sub.d"},  # under TYPE_CHECKING, relative
        "pkg.sub": {"pkg.a", "pkg.sub.d"},  # `from .. import a` is the module a
        "pkg.sub.d": {"pkg", "pkg.sub.d"},  # `from pkg import A` names the package; the second a self-import
        "pkg.e": {"pkg.a", "pkg.sub.d"},  # no edge to pkg or pkg.sub for the parents
    }
    assert import_cycles(graph) == [["pkg", "pkg.a", "pkg.b", "pkg.c", "pkg.sub.d"]]
    assert import_cycles({"x": {"x"}, "y": set()}) == [["x"]]


# -- the Connector protocol ----------------------------------------------------------------------


SECRETS = {
    "smtp_sender": "tools.incident-reporting@toolforge.org",
    "smtp_user": "reporting-bot",
    "smtp_password": "smtp-password-Zq81",
    "zendesk_email": "bot@example.org",
    "zendesk_api_token": "zendesk-token-Hx42",
    "znuny_user": "reporting-bot",
    "znuny_password": "znuny-password-Pk77",
}


def _maildir(path: str) -> Connector:
    """The factory the app hands to connector_for (reporting.components)."""
    return MaildirConnector(path, "incident-reporting@toolforge.org", "trust-and-safety@wikimedia.org")


def build(destination: str) -> Connector:
    return connector_for(destination, SECRETS, _maildir, local_factory=LocalQueueConnector, timeout=5.0)


# Connector class -> a destination that connector_for builds it for.
DESTINATIONS: dict[type, str] = {
    MaildirConnector: "maildir:instance/maildir",
    LocalQueueConnector: "local:functionaries",
    SmtpConnector: "smtp+starttls://relay.example.org?to=desk@example.org",
    ZendeskConnector: "zendesk+https://wikimedia.zendesk.com?group=9&tags=incident-reporting",
    ZnunyConnector: "znuny+https://vrts.example.org/otrs/nph-genericinterface.pl/Webservice/Reports?queue=Oversight",
}


def connector_classes() -> set[type]:
    """Every class in reporting.delivery's modules that creates tickets."""
    found = set()
    for info in pkgutil.iter_modules(reporting.delivery.__path__, "reporting.delivery."):
        module = importlib.import_module(info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == module.__name__ and cls is not Connector and hasattr(cls, "create_ticket"):
                found.add(cls)
    return found


def protocol_methods() -> list[str]:
    return sorted(name for name, value in vars(Connector).items() if callable(value) and not name.startswith("_"))


def test_every_connector_class_is_in_the_table():
    assert protocol_methods() == ["add_followup", "create_ticket", "ticket_status"]
    assert connector_classes() == set(DESTINATIONS), "add the new connector to DESTINATIONS"


def _incompatibilities(expected: inspect.Signature, actual: inspect.Signature) -> list[str]:
    """Why ``actual`` cannot be called every way ``expected`` can (names and kinds)."""
    problems = []
    wanted = list(expected.parameters.values())
    given = list(actual.parameters.values())
    for position, parameter in enumerate(wanted):
        if position >= len(given):
            problems.append(f"missing parameter {parameter.name!r}")
            continue
        other = given[position]
        if (other.name, other.kind) != (parameter.name, parameter.kind):
            problems.append(f"parameter {position} is {other.name!r} ({other.kind.description}), "
                            f"the protocol has {parameter.name!r} ({parameter.kind.description})")
    for extra in given[len(wanted):]:
        if extra.default is inspect.Parameter.empty and extra.kind not in (
            inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD
        ):
            problems.append(f"extra required parameter {extra.name!r}")
    return problems


@pytest.mark.parametrize("cls, destination", DESTINATIONS.items(), ids=lambda value: getattr(value, "__name__", ""))
def test_connector_satisfies_the_protocol(cls, destination):
    connector = build(destination)
    assert type(connector) is cls
    assert isinstance(connector, Connector)
    for name in protocol_methods():
        expected = inspect.signature(getattr(Connector, name))
        actual = inspect.signature(getattr(cls, name))
        assert not _incompatibilities(expected, actual), (name, _incompatibilities(expected, actual))
        assert callable(getattr(connector, name))


def test_the_signature_comparison_finds_differences():
    def protocol(self, ticket, ticket_id, text): ...
    def renamed(self, ticket, ident, text): ...
    def extra_optional(self, ticket, ticket_id, text, note=None): ...
    def extra_required(self, ticket, ticket_id, text, note): ...
    def keyword_only(self, ticket, ticket_id, *, text): ...

    expected = inspect.signature(protocol)
    assert _incompatibilities(expected, inspect.signature(extra_optional)) == []
    assert _incompatibilities(expected, inspect.signature(renamed))
    assert _incompatibilities(expected, inspect.signature(extra_required))
    assert _incompatibilities(expected, inspect.signature(keyword_only))


# -- secrets stay out of repr() ---------------------------------------------------------------------


def assert_hides(obj: object, secrets: list[str]) -> None:
    """Neither ``repr(obj)`` nor ``str(obj)`` shows any of ``secrets``."""
    assert secrets and all(secrets)
    for shown in (repr(obj), str(obj)):
        leaked = [secret for secret in secrets if secret in shown]
        assert not leaked, f"{type(obj).__name__} shows {leaked} in {shown[:300]!r}"


def _key_forms(key: str) -> list[str]:
    """A configured key as text, and its raw bytes as hex and as a bytes repr."""
    raw = decode_key(key)
    return [key, key.rstrip("="), raw.hex(), repr(raw)[2:-1]]


def _sealer() -> tuple[object, list[str]]:
    key, old_key = generate_key(), generate_key()
    return Sealer(key, [old_key]), _key_forms(key) + _key_forms(old_key)


def _connector(cls: type, *secret_names: str) -> Callable[[], tuple[object, list[str]]]:
    return lambda: (build(DESTINATIONS[cls]), [SECRETS[name] for name in secret_names])


# name -> a function returning an object that holds secrets, and those secrets.
SECRET_HOLDERS: dict[str, Callable[[], tuple[object, list[str]]]] = {
    "Sealer": _sealer,
    "SmtpConnector": _connector(SmtpConnector, "smtp_password"),
    "ZendeskConnector": _connector(ZendeskConnector, "zendesk_api_token"),
    "ZnunyConnector": _connector(ZnunyConnector, "znuny_password"),
}


@pytest.mark.parametrize("name", SECRET_HOLDERS)
def test_repr_shows_no_secret(name):
    holder, secrets = SECRET_HOLDERS[name]()
    assert_hides(holder, secrets)


def test_config_repr_shows_no_secret_value():
    secret_settings = [setting for setting in config_module.SETTINGS if setting.secret]
    values = {setting.key: f"sentinel-{number}-Wq{number * 7919}-of-twenty-chars" for number, setting in enumerate(secret_settings)}
    config = load_config(environ={}, config_file=None, overrides=values)
    assert all(config[key] for key in values)
    assert_hides(config, list(values.values()))
    assert "'delivery.sender': 'incident-reporting@toolforge.org'" in repr(config)  # the rest stays readable
    assert "'delivery.znuny_password': '<redacted>'" in repr(config)
    assert "'oauth.consumer_secret': None" in repr(load_config(environ={}, config_file=None))


# Keys whose names sound secret but whose values are public.
NOT_SECRET = {
    "oauth.consumer_key": "the OAuth consumer's public identifier, shown on meta.wikimedia.org",
}


def test_settings_named_like_secrets_are_declared_secret():
    # Modules declare their settings when imported; every module is imported by now
    # (connector_classes, the tests above, or here).
    for info in pkgutil.walk_packages(reporting.__path__, "reporting."):
        importlib.import_module(info.name)
    words = {"secret", "password", "token", "key", "keys"}
    for setting in config_module.SETTINGS:
        named_secret = bool(words & set(re.split(r"[._]", setting.key)))
        if named_secret and setting.key not in NOT_SECRET:
            assert setting.secret, f"{setting.key} sounds secret: declare it secret=True or list it in NOT_SECRET"


def test_the_app_and_its_components_show_no_secret(tmp_path):
    """The composition root holds every secret the tool has; neither it nor
    the objects it hands out show one."""
    key, old_key = generate_key(), generate_key()
    sentinels = {"secret_key": "sentinel-session-Qz1-abcdefghijklmnopqrstuvwxyz", "oauth.consumer_secret": "sentinel-oauth-Qz2",
                 "delivery.smtp_password": "sentinel-smtp-Qz3", "delivery.zendesk_api_token": "sentinel-zendesk-Qz4",
                 "delivery.znuny_password": "sentinel-znuny-Qz5", "toolsdb_password": "sentinel-toolsdb-Qz6",
                 "health.token": "sentinel-health-token-Qz7"}
    app = reporting.create_app(overrides={
        **sentinels, "encryption_key": key, "encryption_old_keys": [old_key],
        "oauth.consumer_key": "public-key", "delivery.smtp_user": "user", "delivery.zendesk_email": "a@b.example",
        "delivery.znuny_user": "agent", "instance_path": str(tmp_path / "instance"), "local_development": True,
    }, environ={})
    components = app.extensions["reporting"]
    secrets = [*sentinels.values(), *_key_forms(key), *_key_forms(old_key)]
    for holder in (components, components.stores, components.delivery, components.intake, components.immediate,
                   components.report_evidence, components.evidence, components.registry_refresh, components.health,
                   components.cases, components.cases.followup_evidence, components.status_sync):
        assert_hides(holder, secrets)


def test_stores_do_not_show_the_database_password():
    stores = Stores.open("mysql+pymysql://s51234:sentinel-db-Qz8@127.0.0.1:9/s51234__reports", Sealer(generate_key()))
    assert_hides(stores, ["sentinel-db-Qz8"])
