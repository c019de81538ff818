"""Where a webhook may be sent: never to this machine or a private network.

A URL's host is resolved and EVERY address it resolves to is checked; the delivery then
connects to one of the checked addresses (so a second DNS answer cannot swap in a private
one between the check and the connection). Private, loopback, link-local, multicast,
reserved and unspecified addresses are refused unless ``WEBHOOKS_ALLOW_PRIVATE_TARGETS`` is
on (tests and local development only).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from interaction_platform.errors import InvalidInput

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]


class TargetRefused(InvalidInput):
    code = "webhook_target_refused"
    default_message = "Webhooks are never sent to this address."


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    addresses: tuple[str, ...]


def _system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def is_public_address(address: IpAddress) -> bool:
    """True for an address on the public internet (an IPv4-mapped IPv6 is judged as IPv4)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


def url_check_shape(*, url: str) -> tuple[str, str, int]:
    """Scheme, host and port of a webhook URL. Raises InvalidInput for anything but an
    http(s) URL with a host and no credentials in it."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise InvalidInput(
            "A webhook URL starts with https:// (or http://) and names a host.",
            fields={"url": ["Use an https:// URL."]},
        )
    if parts.username or parts.password:
        raise InvalidInput(
            "Put no user name or password in a webhook URL; the signature authenticates us.",
            fields={"url": ["No credentials in the URL."]},
        )
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as error:
        raise InvalidInput("The port is not a number.", fields={"url": ["Bad port."]}) from error
    return parts.scheme, parts.hostname, port


def url_check_literal(*, url: str) -> None:
    """The checks that need no DNS (for when an endpoint is saved): the URL's shape, and a
    host that is an IP address or 'localhost' must be public. Raises InvalidInput."""
    _scheme, host, _port = url_check_shape(url=url)
    if settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS:
        return
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        raise TargetRefused(fields={"url": ["This machine is never a webhook target."]})
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        return
    if not is_public_address(literal):
        raise TargetRefused(fields={"url": ["Private and local addresses are never targets."]})


def target_resolve(*, url: str, resolver: Resolver | None = None) -> Target:
    """Resolve ``url``'s host and check every address. Raises TargetRefused when any address
    is not public (unless private targets are allowed), InvalidInput when the host does not
    resolve."""
    scheme, host, port = url_check_shape(url=url)
    resolve = resolver or _system_resolver
    try:
        literal = ipaddress.ip_address(host)
        addresses = [str(literal)]
    except ValueError:
        try:
            addresses = resolve(host, port)
        except OSError as error:
            raise InvalidInput(
                f"The host {host!r} does not resolve.", code="webhook_target_unresolved"
            ) from error
    if not addresses:
        raise InvalidInput(f"The host {host!r} has no address.", code="webhook_target_unresolved")
    if not settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS:
        refused = [a for a in addresses if not is_public_address(ipaddress.ip_address(a))]
        if refused:
            raise TargetRefused(
                f"{host} resolves to {', '.join(refused)}: not a public address.",
                fields={"url": ["Private and local addresses are never targets."]},
            )
    return Target(scheme=scheme, host=host, port=port, addresses=tuple(addresses))
