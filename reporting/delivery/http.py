"""HTTP plumbing shared by the REST connectors (Zendesk, Znuny).

One place decides how transport problems become delivery failures, so every
connector agrees: timeouts, refused connections and resets are temporary;
TLS certificate problems and unusable URLs need an operator (permanent).
Redirects are never followed: a desk API that redirects is misconfigured, and
following it could leak credentials to another host.
"""
from __future__ import annotations

import json
from typing import Any

import requests

from reporting.delivery.base import PermanentFailure, TemporaryFailure

# Desk error texts end up in logs and operator views; keep them short.
_MAX_DETAIL = 200


def short(text: object) -> str:
    """A desk's error detail, trimmed for logs."""
    text = str(text)
    return text if len(text) <= _MAX_DETAIL else text[: _MAX_DETAIL - 1] + "…"


def send(session: requests.Session, method: str, url: str, *, timeout: float, **kwargs: Any) -> requests.Response:
    """Perform one request; transport errors become delivery failures.

    ``timeout`` bounds connecting and each read; it is mandatory so that a
    hanging desk cannot stall the delivery worker.
    """
    try:
        return session.request(method, url, timeout=timeout, allow_redirects=False, **kwargs)
    except requests.exceptions.SSLError as error:
        raise PermanentFailure(
            f"TLS error talking to the desk ({type(error).__name__}); check its certificate"
        ) from error
    except (
        requests.exceptions.InvalidURL, requests.exceptions.MissingSchema, requests.exceptions.InvalidSchema
    ) as error:
        raise PermanentFailure(f"unusable desk URL: {short(error)}") from error
    except requests.exceptions.Timeout as error:
        raise TemporaryFailure(f"desk did not answer within {timeout:g} s") from error
    except requests.exceptions.ConnectionError as error:
        raise TemporaryFailure(f"could not reach the desk ({type(error).__name__})") from error
    except requests.exceptions.RequestException as error:
        raise TemporaryFailure(f"request to the desk failed ({type(error).__name__})") from error


def json_body(response: requests.Response) -> Any:
    """The decoded JSON body; a garbled answer is treated as a passing fault
    (a proxy error page, a truncated response)."""
    try:
        return response.json()
    except (ValueError, json.JSONDecodeError) as error:
        raise TemporaryFailure(f"desk answered HTTP {response.status_code} with a body that is not JSON") from error


def json_object(response: requests.Response) -> dict[str, Any]:
    """Like :func:`json_body`, for APIs that always answer with an object."""
    data = json_body(response)
    if not isinstance(data, dict):
        raise TemporaryFailure(f"desk answered HTTP {response.status_code} with JSON that is not an object")
    return data
