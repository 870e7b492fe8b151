"""A whole HTTP exchange within its deadline, headers included.

requests' timeouts bound each socket operation, not their sum: a server that sends one byte of
its status line or headers every few seconds holds the caller for as long as it likes, and no
read timeout fires. ``WatchedAdapter`` gives requests connections that show their socket to the
calling thread's ``Watchdog``, which shuts that socket when the exchange's time is up; the
blocked read then fails at once (the client reports a timeout).
"""

from __future__ import annotations

import contextlib
import socket
import threading

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

__all__ = ["WatchedAdapter", "Watchdog"]

_watched = threading.local()


class Watchdog:
    """Shuts the socket of the calling thread's request in flight when ``seconds`` have passed
    (a timer thread; a blocked read wakes up and fails). Use as a context manager around one
    exchange: the socket is attached when the response is awaited."""

    def __init__(self, seconds: float) -> None:
        self._lock = threading.Lock()
        self._socket: socket.socket | None = None
        self.fired = False
        self._timer = threading.Timer(max(0.0, seconds), self._fire)
        self._timer.daemon = True

    def __enter__(self) -> Watchdog:
        _watched.current = self
        self._timer.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._timer.cancel()
        _watched.current = None

    def attach(self, sock: socket.socket | None) -> None:
        with self._lock:
            self._socket = sock
            if self.fired:
                _shut(sock)

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            _shut(self._socket)


def _shut(sock: socket.socket | None) -> None:
    if sock is not None:
        with contextlib.suppress(OSError):  # already closed
            sock.shutdown(socket.SHUT_RDWR)


class _WatchedHTTPConnection(HTTPConnection):
    def getresponse(self, *args, **kwargs):  # urllib3's signature, passed through
        watchdog = getattr(_watched, "current", None)
        if watchdog is not None:
            watchdog.attach(self.sock)
        return super().getresponse(*args, **kwargs)


class _WatchedHTTPSConnection(HTTPSConnection):
    def getresponse(self, *args, **kwargs):  # urllib3's signature, passed through
        watchdog = getattr(_watched, "current", None)
        if watchdog is not None:
            watchdog.attach(self.sock)
        return super().getresponse(*args, **kwargs)


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class WatchedAdapter(HTTPAdapter):
    """requests' adapter, with connections that show their socket to the watchdog."""

    def init_poolmanager(self, *args, **kwargs):  # requests' signature, passed through
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}
