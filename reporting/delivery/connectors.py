"""Build the connector for a destination URL.

The routing table names destinations; credentials come separately as secrets
(from envvars via the config), under these keys:

=================  =====================================================
``smtp_sender``    envelope and From address for smtp destinations (required)
``smtp_user``      SMTP login, only with smtp+starttls (optional, with password)
``smtp_password``
``zendesk_email``  the agent whose API token is used (required for zendesk)
``zendesk_api_token``
``znuny_user``     the Znuny agent login (required for znuny)
``znuny_password``
=================  =====================================================

Call :func:`required_secrets` at start-up to fail early on a missing secret.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping

from reporting.delivery.base import Connector
from reporting.delivery.destinations import (
    LocalDestination,
    MaildirDestination,
    SmtpDestination,
    ZendeskDestination,
    ZnunyDestination,
    parse_destination,
)
from reporting.delivery.smtp import SmtpConnector
from reporting.delivery.zendesk import ZendeskConnector
from reporting.delivery.znuny import ZnunyConnector

#: Every secret a connector may take (the configuration holds each as ``delivery.<name>``).
SECRET_NAMES = ("smtp_sender", "smtp_user", "smtp_password", "zendesk_email", "zendesk_api_token",
                "znuny_user", "znuny_password")

_REQUIRED = {
    "maildir": (),
    "local": (),
    "smtp": ("smtp_sender",),
    "zendesk": ("zendesk_email", "zendesk_api_token"),
    "znuny": ("znuny_user", "znuny_password"),
}


def required_secrets(destination_url: str) -> tuple[str, ...]:
    """The secret keys a destination cannot work without."""
    return _REQUIRED[parse_destination(destination_url).kind]


def _secret(secrets: Mapping[str, str], key: str, destination_url: str) -> str:
    value = secrets.get(key)
    if not value:
        raise ValueError(f"destination {destination_url!r} needs the secret {key!r}, which is not configured")
    return value


def connector_for(
    destination_url: str,
    secrets: Mapping[str, str],
    maildir_factory: Callable[[str], Connector],
    local_factory: Callable[[str], Connector] | None = None,
    timeout: float = 10.0,
) -> Connector:
    """Return a ready connector for ``destination_url``.

    ``maildir_factory(path)`` builds the Maildir connector (the app owns it);
    ``local_factory(queue)`` builds the tool's own queue for ``local:``
    destinations. Raises ``ValueError`` for a bad URL, a missing secret, or a
    ``local:`` destination without ``local_factory``. ``timeout`` bounds every
    network wait of the connector.
    """
    destination = parse_destination(destination_url)
    if isinstance(destination, MaildirDestination):
        return maildir_factory(destination.path)
    if isinstance(destination, LocalDestination):
        if local_factory is None:
            raise ValueError(
                f"destination {destination_url!r} is the tool's own queue; no local queue is available here"
            )
        return local_factory(destination.queue)
    if isinstance(destination, SmtpDestination):
        username = secrets.get("smtp_user") or None
        return SmtpConnector(
            host=destination.host,
            port=destination.port,
            sender=_secret(secrets, "smtp_sender", destination_url),
            recipient=destination.recipient,
            starttls=destination.starttls,
            username=username,
            password=_secret(secrets, "smtp_password", destination_url) if username else None,
            timeout=timeout,
        )
    if isinstance(destination, ZendeskDestination):
        return ZendeskConnector(
            base_url=destination.base_url,
            email=_secret(secrets, "zendesk_email", destination_url),
            api_token=_secret(secrets, "zendesk_api_token", destination_url),
            group_id=destination.group_id,
            tags=destination.tags,
            custom_field_ref_id=destination.custom_field_ref_id,
            timeout=timeout,
        )
    if isinstance(destination, ZnunyDestination):
        return ZnunyConnector(
            base_url=destination.base_url,
            user_login=_secret(secrets, "znuny_user", destination_url),
            password=_secret(secrets, "znuny_password", destination_url),
            queue=destination.queue,
            routes=dict(destination.routes),
            reference_field=destination.reference_field,
            timeout=timeout,
            customer_user=destination.customer_user,
            get_batch=destination.get_batch,
        )
    # Unreachable: parse_destination knows no other kind.
    raise ValueError(f"destination {destination_url!r} has no connector")  # pragma: no cover
