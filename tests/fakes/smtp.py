"""A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it receives.

It parses every accepted message so tests can assert headers and parts, and
it can be told to misbehave at a given SMTP stage: reply with a code (451,
550, ...), hang (the client must time out), or accept DATA and then drop the
connection before the client hears "250".

Optional STARTTLS with a self-signed certificate made at start-up
(``tls=True``; :attr:`FakeSmtp.client_context` trusts it) and AUTH
(``credentials=("user", "password")``, only after STARTTLS like a sane relay).
"""
from __future__ import annotations

import asyncio
import datetime
import email
import email.policy
import ipaddress
import ssl
import tempfile
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from .http_server import free_port


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    message: EmailMessage
    at: float = field(default_factory=time.monotonic)  # when the server kept it (benchmarks)


@dataclass
class SmtpFault:
    stage: str  # "RCPT" | "DATA"
    kind: str  # "reply" | "hang" | "lose_response"
    reply: str = ""
    seconds: float = 0.0


class _Handler:
    def __init__(self, fake: "FakeSmtp") -> None:
        self.fake = fake

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        fault = self.fake._take("RCPT")
        if fault is not None:
            if fault.kind == "hang":
                await asyncio.sleep(fault.seconds)
            return fault.reply or "451 4.3.0 try again later"
        if self.fake.known_recipients is not None and address not in self.fake.known_recipients:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        fault = self.fake._take("DATA")
        if fault is not None and fault.kind == "hang":
            await asyncio.sleep(fault.seconds)
            return "451 4.3.0 too late"
        if fault is not None and fault.kind == "reply":
            return fault.reply
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        with self.fake._lock:
            self.fake.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), raw, message))
        if self.fake.accept_delay:
            await asyncio.sleep(self.fake.accept_delay)
        if fault is not None and fault.kind == "lose_response":
            server.transport.abort()
        return "250 2.0.0 accepted"


class FakeSmtp:
    def __init__(self, tls: bool = False, credentials: tuple[str, str] | None = None,
                 known_recipients: set[str] | None = None) -> None:
        self.tls = tls
        self.credentials = credentials
        self.known_recipients = known_recipients
        self.received: list[Received] = []
        self.auth_attempts: list[str] = []
        # Seconds between keeping a message and answering "250": the window in
        # which a client crash makes the client send the message again.
        self.accept_delay = 0.0
        self._faults: list[SmtpFault] = []
        self._lock = threading.Lock()
        self._controller: Controller | None = None
        self._tmp: tempfile.TemporaryDirectory | None = None
        self.client_context: ssl.SSLContext | None = None

    def __enter__(self) -> "FakeSmtp":
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def start(self) -> None:
        kwargs: dict = {}
        if self.tls:
            kwargs["tls_context"] = self._make_tls_contexts()
            kwargs["require_starttls"] = True
        if self.credentials is not None:
            kwargs["authenticator"] = self._authenticate
            kwargs["auth_required"] = True
            kwargs["auth_require_tls"] = True
        self.port = getattr(self, "bind_port", 0) or free_port()
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port, ready_timeout=5, **kwargs)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    # -- fault injection -------------------------------------------------------------
    def reply(self, stage: str, reply: str) -> None:
        self._add(SmtpFault(stage, "reply", reply=reply))

    def hang(self, stage: str, seconds: float) -> None:
        self._add(SmtpFault(stage, "hang", seconds=seconds))

    def lose_response(self) -> None:
        self._add(SmtpFault("DATA", "lose_response"))

    def _add(self, fault: SmtpFault) -> None:
        with self._lock:
            self._faults.append(fault)

    def _take(self, stage: str) -> SmtpFault | None:
        with self._lock:
            for index, fault in enumerate(self._faults):
                if fault.stage == stage:
                    return self._faults.pop(index)
        return None

    # -- TLS and AUTH -----------------------------------------------------------------
    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode("utf-8")
        self.auth_attempts.append(login)
        ok = (login, auth_data.password.decode("utf-8")) == self.credentials
        return AuthResult(success=ok, handled=False)

    def _make_tls_contexts(self) -> ssl.SSLContext:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256())
        )
        self._tmp = tempfile.TemporaryDirectory()
        cert_path = Path(self._tmp.name) / "cert.pem"
        key_path = Path(self._tmp.name) / "key.pem"
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server_context.load_cert_chain(cert_path, key_path)
        self.client_context = ssl.create_default_context(cafile=str(cert_path))
        return server_context
