"""Egress guard: a customer-supplied destination must be a public address.

The host is resolved once; every answer is checked and the first permitted address is the one the
sender connects to (``Destination.address``), so a DNS answer that changes between the check and
the connection (rebinding) cannot steer the request elsewhere. Refused: private, loopback,
link-local, unique-local, shared (CGNAT), multicast, unspecified, reserved and documentation
ranges, and the cloud metadata addresses, also when embedded in IPv6 (mapped, NAT64, 6to4, Teredo).
An operator allow-list of networks (``notify_egress_allow_cidrs``) admits exceptions, e.g. a
receiver on 127.0.0.1 for tests or a self-hosted relay on a private network.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], list[IPAddress]]

METADATA_ADDRESSES = frozenset(
    {
        ipaddress.ip_address("169.254.169.254"),
        ipaddress.ip_address("fd00:ec2::254"),
        ipaddress.ip_address("169.254.170.2"),
    }
)
NAT64 = ipaddress.ip_network("64:ff9b::/96")


class DestinationRefused(Exception):
    """The destination may not be contacted; sending again cannot help."""


class DestinationUnresolved(Exception):
    """DNS gave no answer now; it may later."""


@dataclass(frozen=True, slots=True)
class Destination:
    host: str
    port: int
    address: IPAddress


def parse_allow_list(cidrs: Sequence[str]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(cidr.strip(), strict=False) for cidr in cidrs if cidr.strip())


def resolve_host(host: str, port: int) -> list[IPAddress]:
    """System resolver; a literal address is returned as is. Answers in resolver order, no duplicates."""
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        if exc.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)):
            raise DestinationRefused(f"{host} does not resolve") from exc
        raise DestinationUnresolved(f"cannot resolve {host}: {exc}") from exc
    answers: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
        if address not in answers:
            answers.append(address)
    return answers


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def refusal(address: IPAddress) -> str | None:
    """Why ``address`` may not be contacted, or None when it is a public unicast address."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            inner = refusal(embedded)
            return f"embeds {embedded}, {inner}" if inner else None
    checks = (
        (address in METADATA_ADDRESSES, "a cloud metadata address"),
        (address.is_unspecified, "an unspecified address"),
        (address.is_loopback, "a loopback address"),
        (address.is_link_local, "a link-local address"),
        (address.is_multicast, "a multicast address"),
        (
            isinstance(address, ipaddress.IPv6Address) and address in ipaddress.ip_network("fc00::/7"),
            "a unique-local address",
        ),
        (address.is_private, "a private address"),
        (address.is_reserved, "a reserved address"),
        (not address.is_global, "not a public address"),
    )
    return next((reason for refused, reason in checks if refused), None)


def allowed(address: IPAddress, allow: Sequence[IPNetwork]) -> bool:
    return any(address.version == network.version and address in network for network in allow)


def check_destination(host: str, port: int, *, resolver: Resolver, allow: Sequence[IPNetwork]) -> Destination:
    """Resolve ``host`` and pick the address to connect to, or raise ``DestinationRefused``."""
    answers = resolver(host, port)
    if not answers:
        raise DestinationRefused(f"{host} does not resolve")
    reasons: list[str] = []
    for address in answers:
        reason = refusal(address)
        if reason is None or allowed(address, allow):
            return Destination(host=host, port=port, address=address)
        reasons.append(f"{address} is {reason}")
    shown = host if host.strip("[]") == str(answers[0]) else f"{host} ({', '.join(str(a) for a in answers)})"
    raise DestinationRefused(f"destination {shown} refused: {'; '.join(reasons)}")
