"""The gunicorn worker of the web service: gthread, with ``/healthz`` ahead of report work.

gunicorn's threaded worker hands connections to its thread pool in the
order they come. When every thread is busy with report work (a flood of
submits, or requests waiting on a database that does not answer), a health
check waits in the same queue, Toolforge's health check times out, and
monitors learn nothing while it matters most. This worker looks at the
start of each request before it queues it (``MSG_PEEK``, nothing is
consumed): ``GET /healthz`` goes to threads of its own, everything else to
the usual pool. A new connection whose request has not arrived yet waits
in gunicorn's poller (its "pending" connections), not in a thread, until
there is something to look at. ``/healthz`` itself is bounded
(:mod:`reporting.delivery.health_probe`), so its threads are never held long.

The Procfile's ``web:`` line selects it with
``--worker-class reporting.serving.HealthFirstWorker``.
"""
from __future__ import annotations

import selectors
import socket
import time
from concurrent import futures
from functools import partial
from typing import Any

from gunicorn.workers.gthread import DEFAULT_WORKER_DATA_TIMEOUT, ThreadWorker

HEALTH_REQUEST = b"GET /healthz"
HEALTH_THREADS = 2


def asks_for_health(sock: socket.socket) -> bool | None:
    """Whether the request waiting on ``sock`` is ``GET /healthz``; None if none has arrived yet."""
    try:
        start = sock.recv(len(HEALTH_REQUEST) + 1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    except (BlockingIOError, InterruptedError):
        return None
    except OSError:
        return False  # the usual pool meets the error and closes the connection
    if not start:
        return False  # closed by the client: same
    if len(start) <= len(HEALTH_REQUEST):
        return None if HEALTH_REQUEST.startswith(start) else False  # the rest is still on its way
    return start[:len(HEALTH_REQUEST)] == HEALTH_REQUEST and start[len(HEALTH_REQUEST):] in (b" ", b"?")


class HealthFirstWorker(ThreadWorker):
    def init_process(self) -> None:
        self.health_pool = futures.ThreadPoolExecutor(max_workers=HEALTH_THREADS, thread_name_prefix="healthz")
        super().init_process()

    def enqueue_req(self, conn: Any) -> None:
        """Hand ``conn`` to the health threads or the usual pool (gthread's own
        method, called on the main thread for new, kept-alive and pending connections)."""
        health = asks_for_health(conn.sock)
        if health is None and not conn.initialized and not conn.data_ready:
            # Nothing to look at yet: park it in the poller (gunicorn's pending
            # connections), as long as gthread lets a new connection take to send.
            conn.sock.setblocking(False)
            conn.timeout = time.monotonic() + DEFAULT_WORKER_DATA_TIMEOUT + self.cfg.keepalive
            self.pending_conns.append(conn)
            self.poller.register(conn.sock, selectors.EVENT_READ, partial(self.on_pending_socket_readable, conn))
            return
        pool = self.health_pool if health else self.tpool
        done = pool.submit(self.handle, conn)
        done.add_done_callback(lambda future: self.method_queue.defer(self.finish_request, conn, future))

    def run(self) -> None:
        try:
            super().run()
        finally:
            self.health_pool.shutdown(wait=False)
