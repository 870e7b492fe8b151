"""A TCP proxy in front of a real server, with the faults a network to a database has.

It listens on 127.0.0.1:<free port> and forwards every connection to the
upstream server (MariaDB at 127.0.0.1:3306 in the tests). The test switches
its mode at any time:

- ``forward``: bytes pass both ways.
- ``refuse``: the database is down: the port refuses new connections and
  open connections are cut.
- ``black_hole``: a network split: connections are accepted and held open,
  and nothing passes in either direction (what arrives is dropped), so a
  client without timeouts waits for ever. ``black_hole(after=b"COMMIT")``
  keeps forwarding until a client has sent those bytes, passes them on,
  and only then stops: the server acts on them (commits) and the client
  never hears its answer.

Connections that lived through a black hole have lost bytes, so going back
to ``forward`` cuts them; new connections work at once. The test stops the
proxy (it is a context manager); every thread it started ends with it.
"""
from __future__ import annotations

import selectors
import socket
import struct
import threading
from dataclasses import dataclass, field

FORWARD = "forward"
REFUSE = "refuse"
BLACK_HOLE = "black_hole"


@dataclass(eq=False)
class _Pair:
    """One client connection and its upstream connection."""

    client: socket.socket
    upstream: socket.socket | None
    holed: bool = False  # lived through a black hole: bytes were lost
    tail: bytes = b""  # the last bytes the client sent, to find a trigger split across reads
    closed: bool = field(default=False)


class TcpProxy:
    def __init__(self, upstream_port: int, upstream_host: str = "127.0.0.1") -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = 0  # a free one, chosen when it first listens; kept when it listens again
        self.mode = FORWARD
        self._trigger: bytes | None = None
        self._lock = threading.Lock()
        self._pairs: list[_Pair] = []
        self._listener: socket.socket | None = None
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._stopping = threading.Event()
        self._changed = threading.Condition(self._lock)
        self._generation = 0  # mode changes asked for
        self._applied_generation = 0  # mode changes the loop has applied
        self._thread: threading.Thread | None = None
        self.connections_accepted = 0

    # -- the test's controls ---------------------------------------------------

    def start(self) -> TcpProxy:
        self._selector.register(self._wake_r, selectors.EVENT_READ, "wake")
        self._listen()
        self._thread = threading.Thread(target=self._loop, name=f"tcp-proxy-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._wake()
        if self._thread is not None:
            self._thread.join(10)
            assert not self._thread.is_alive(), "the proxy thread did not stop"
        for pair in list(self._pairs):
            self._close(pair)
        if self._listener is not None:
            self._listener.close()
        self._wake_r.close()
        self._wake_w.close()
        self._selector.close()

    def __enter__(self) -> TcpProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def forward(self) -> None:
        self._switch(FORWARD)

    def refuse(self) -> None:
        self._switch(REFUSE)

    def black_hole(self, after: bytes | None = None) -> None:
        """Stop passing bytes now, or (``after``) once a client has sent ``after``."""
        with self._lock:
            self._trigger = after
        if after is None:
            self._switch(BLACK_HOLE)
        else:
            self._wake()

    # -- the loop ----------------------------------------------------------------

    def _switch(self, mode: str) -> None:
        with self._changed:
            self.mode = mode
            if mode != BLACK_HOLE:
                self._trigger = None
            self._generation += 1
            wanted = self._generation
        self._wake()
        # Wait until the loop applied it, so the test's next step meets the new mode.
        with self._changed:
            assert self._changed.wait_for(lambda: self._applied_generation >= wanted, 5), "the proxy did not switch"

    def _wake(self) -> None:
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass

    def _listen(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        self.port = listener.getsockname()[1]
        listener.listen(64)
        listener.setblocking(False)
        self._listener = listener
        self._selector.register(listener, selectors.EVENT_READ, "accept")

    def _apply_mode(self) -> None:
        with self._lock:
            mode = self.mode
            generation = self._generation
        if mode == REFUSE:
            if self._listener is not None:
                self._selector.unregister(self._listener)
                self._listener.close()
                self._listener = None
            for pair in list(self._pairs):
                self._close(pair, reset=True)
        else:
            if self._listener is None:
                self._listen()
            if mode == BLACK_HOLE:
                for pair in self._pairs:
                    pair.holed = True
            else:
                for pair in [pair for pair in self._pairs if pair.holed]:
                    self._close(pair)
        with self._changed:
            self._applied_generation = max(self._applied_generation, generation)
            self._changed.notify_all()

    def _loop(self) -> None:
        self._apply_mode()
        while not self._stopping.is_set():
            for key, _ in self._selector.select(timeout=0.5):
                if key.data == "wake":
                    try:
                        self._wake_r.recv(4096)
                    except OSError:
                        pass
                    self._apply_mode()
                elif key.data == "accept":
                    self._accept()
                else:
                    pair, from_client = key.data
                    self._pump(pair, from_client, key.fileobj)  # type: ignore[arg-type]

    def _accept(self) -> None:
        assert self._listener is not None
        try:
            client, _ = self._listener.accept()
        except OSError:
            return
        self.connections_accepted += 1
        client.setblocking(False)
        with self._lock:
            mode = self.mode
        if mode == BLACK_HOLE:
            pair = _Pair(client, None, holed=True)  # held open; no upstream, nothing ever answers
        else:
            try:
                upstream = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                return
            upstream.setblocking(False)
            pair = _Pair(client, upstream)
            self._selector.register(upstream, selectors.EVENT_READ, (pair, False))
        self._pairs.append(pair)
        self._selector.register(client, selectors.EVENT_READ, (pair, True))

    def _pump(self, pair: _Pair, from_client: bool, source: socket.socket) -> None:
        try:
            data = source.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._close(pair)
            return
        if pair.holed or pair.upstream is None:
            return  # the black hole: dropped
        target = pair.upstream if from_client else pair.client
        hole_after = False
        if from_client:
            with self._lock:
                trigger = self._trigger
            if trigger is not None and trigger in pair.tail + data:
                hole_after = True
            pair.tail = (pair.tail + data)[-64:]
        try:
            target.setblocking(True)
            target.settimeout(5)
            target.sendall(data)
            target.setblocking(False)
        except OSError:
            self._close(pair)
            return
        if hole_after:
            with self._lock:
                self.mode = BLACK_HOLE
                self._trigger = None
            for other in self._pairs:
                other.holed = True

    def _close(self, pair: _Pair, reset: bool = False) -> None:
        if pair.closed:
            return
        pair.closed = True
        for sock in (pair.client, pair.upstream):
            if sock is None:
                continue
            try:
                self._selector.unregister(sock)
            except (KeyError, ValueError):
                pass
            if reset:
                # RST instead of FIN: the client sees the connection cut, like a server that died.
                try:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                except OSError:
                    pass
            sock.close()
        if pair in self._pairs:
            self._pairs.remove(pair)
