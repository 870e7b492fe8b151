"""No test reaches the internet: refuse every name lookup that is not loopback.

Imported by ``tests/conftest.py`` for the test process, and picked up by
Python itself (``sitecustomize``) in processes the tests start with this
directory on ``PYTHONPATH`` (worker processes, gunicorn). A refused lookup
fails at once, like a machine without network, instead of hanging in DNS.
"""
from __future__ import annotations

import ipaddress
import socket

_real_getaddrinfo = socket.getaddrinfo
LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def _is_loopback(host: object) -> bool:
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    text = str(host).strip("[]").lower()
    if text in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(text).is_loopback
    except ValueError:
        return False


def _guarded_getaddrinfo(host, *args, **kwargs):
    if not _is_loopback(host):
        raise socket.gaierror(socket.EAI_NONAME, f"tests do not reach the internet (lookup of {host!r} refused)")
    return _real_getaddrinfo(host, *args, **kwargs)


def install() -> None:
    socket.getaddrinfo = _guarded_getaddrinfo


install()
