"""Email through an SMTP relay (Toolforge's relay, or any mail desk's MX).

The message is :func:`reporting.delivery.email_message.build_message`, so the
``Message-ID`` is fixed per report and reused on every retry: a resend after a
lost "250 OK" is recognisable as a duplicate by the desk. Toolforge's relay
needs no authentication; credentials are only ever sent after STARTTLS.
"""
from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

from reporting.delivery.base import Delivered, PermanentFailure, TemporaryFailure, Ticket
from reporting.delivery.email_message import build_followup_message, build_message, plain_message_bytes


class SmtpConnector:
    """Deliver each report as one email to one recipient address."""

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        recipient: str,
        starttls: bool = False,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if (username is None) != (password is None):
            raise ValueError("SMTP username and password go together")
        if username is not None and not starttls:
            raise ValueError("SMTP credentials are only sent over STARTTLS; use an smtp+starttls:// destination")
        self.host = host
        self.port = port
        self.sender = sender
        self.recipient = recipient
        self.starttls = starttls
        self.username = username
        self.password = password
        self.timeout = timeout
        self.ssl_context = ssl_context

    # -- Connector -----------------------------------------------------------------
    def create_ticket(self, ticket: Ticket) -> Delivered:
        # The bytes send_message would write, without the email package's cost;
        # headers that need it (e.g. non-ASCII addresses, which also need
        # SMTPUTF8) still go through send_message.
        data = plain_message_bytes(ticket, self.sender, self.recipient, linesep="\r\n")
        self._send(data if data is not None else build_message(ticket, self.sender, self.recipient))
        return Delivered(ticket_id=ticket.message_id)

    def ticket_status(self, ticket_id: str) -> str | None:
        return None

    def add_followup(self, ticket: Ticket, ticket_id: str, text: str, marker: str | None = None,
                     tags: tuple[str, ...] = ()) -> None:
        self._send(build_followup_message(ticket, self.sender, self.recipient, text, marker=marker))

    # -- transport -------------------------------------------------------------------
    def _send(self, message: EmailMessage | bytes) -> None:
        """Send one message in its own session; ``bytes`` are a flattened message with CRLF line ends."""
        client: smtplib.SMTP | None = None
        try:
            client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            client.ehlo()
            if self.starttls:
                client.starttls(context=self.ssl_context or ssl.create_default_context())
                client.ehlo()
            if self.username is not None:
                client.login(self.username, self.password or "")
            if isinstance(message, bytes):
                refused = client.sendmail(self.sender, [self.recipient], message)
            else:
                refused = client.send_message(message, from_addr=self.sender, to_addrs=[self.recipient])
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            raise _by_code(min(codes, default=550), "recipient refused") from error
        except smtplib.SMTPNotSupportedError as error:
            raise PermanentFailure("the SMTP server does not offer STARTTLS or AUTH as configured") from error
        except smtplib.SMTPServerDisconnected as error:
            raise TemporaryFailure("the SMTP server closed the connection") from error
        except smtplib.SMTPResponseException as error:
            raise _by_code(error.smtp_code, "SMTP server refused the message") from error
        except smtplib.SMTPException as error:
            raise TemporaryFailure(f"SMTP error ({type(error).__name__})") from error
        except ssl.SSLCertVerificationError as error:
            raise PermanentFailure("the SMTP server's TLS certificate does not verify") from error
        except TimeoutError as error:
            raise TemporaryFailure(f"the SMTP server did not answer within {self.timeout:g} s") from error
        except OSError as error:
            raise TemporaryFailure(f"could not reach the SMTP server ({type(error).__name__})") from error
        finally:
            if client is not None:
                _close_quietly(client)
        if refused:
            codes = [code for code, _ in refused.values()]
            raise _by_code(min(codes), "recipient refused")


def _close_quietly(client: smtplib.SMTP) -> None:
    """End the session; once the message is accepted, a failing QUIT must not
    turn a delivered report into a retry."""
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        client.close()


def _by_code(code: int, what: str) -> TemporaryFailure | PermanentFailure:
    """4xx replies are transient by definition (RFC 5321 §4.2.1); 5xx are not."""
    if 400 <= code < 500:
        return TemporaryFailure(f"{what}: SMTP {code}")
    return PermanentFailure(f"{what}: SMTP {code}")
