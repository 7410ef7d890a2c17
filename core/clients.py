"""Who the client is: the address a request came from, or, behind trusted proxies, the one they
forwarded.

`TRUSTED_PROXIES` (environment) says which `X-Forwarded-For` entry to believe:

- empty (the default): none. The header is ignored and the client is the connection's peer.
- a number N: N proxies stand in front of the app (a load balancer, then nginx: 2). Each
  appends the address it received the request from, so the client is the N-th entry from the
  right. With fewer entries than that, the request did not come through them: the peer is used.
- networks (`10.0.0.0/8,172.16.0.0/12`, or single addresses): the peer must be one of them for the
  header to count; entries are read from the right, skipping those in the networks, and the first
  one outside them is the client.

Only entries appended by proxies we trust are believed, so a client cannot choose its identity by
sending the header itself. `ClientAddressMiddleware` writes the result into
`request.META["REMOTE_ADDR"]` (the peer is kept in `PEER_ADDR`), so the throttles, the access log,
the admin and any library that reads the client address agree on it.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class ProxyPolicy:
    count: int = 0
    networks: tuple[Network, ...] = ()

    @property
    def trusts_any(self) -> bool:
        return bool(self.count or self.networks)


@lru_cache(maxsize=8)
def proxy_policy(value: str | int | None) -> ProxyPolicy:
    """Parse a `TRUSTED_PROXIES` value; ValueError naming the bad part."""
    if value is None:
        return ProxyPolicy()
    text = str(value).strip()
    if not text:
        return ProxyPolicy()
    if text.isascii() and text.isdigit():
        return ProxyPolicy(count=int(text))
    networks = []
    for part in (piece.strip() for piece in text.split(",")):
        if not part:
            continue
        if part.isascii() and part.isdigit():
            raise ValueError(
                f"TRUSTED_PROXIES: {part!r} is a number of proxies among networks; give either a number "
                "(e.g. 2) or networks (e.g. 10.0.0.0/8,192.168.1.10), not both"
            )
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise ValueError(
                f"TRUSTED_PROXIES: {part!r} is neither a number of proxies nor a network "
                "(examples: 2, or 10.0.0.0/8,192.168.1.10)"
            ) from None
    return ProxyPolicy(networks=tuple(networks))


def _address(entry: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An X-Forwarded-For entry as an address (ports and IPv6 brackets removed), or None."""
    entry = entry.strip()
    if entry.startswith("["):  # [2001:db8::1]:4711
        entry = entry[1:].split("]", 1)[0]
    elif entry.count(":") == 1:  # 203.0.113.9:4711
        entry = entry.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(entry)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _trusted(address, networks) -> bool:
    return address is not None and any(address in network for network in networks)


def resolve_client(peer: str, forwarded_for: str | None, policy: ProxyPolicy) -> str:
    """The client's address for a connection from `peer` carrying `forwarded_for`."""
    if not policy.trusts_any or not forwarded_for:
        return peer
    chain = [entry.strip() for entry in forwarded_for.split(",") if entry.strip()]
    if policy.count:
        if len(chain) < policy.count:
            return peer
        address = _address(chain[-policy.count])
        return str(address) if address is not None else peer
    if not _trusted(_address(peer), policy.networks):
        return peer  # not from one of our proxies: the header is the client's own words
    last_trusted = peer
    for entry in reversed(chain):
        address = _address(entry)
        if address is None:
            return last_trusted  # not an address: stop at the last proxy we trust
        if not _trusted(address, policy.networks):
            return str(address)
        last_trusted = str(address)
    return last_trusted  # every hop is one of ours: the leftmost is the client


def client_address(request) -> str:
    """The client's address for a Django or DRF request (after `ClientAddressMiddleware`, the
    same as `REMOTE_ADDR`)."""
    meta = request.META
    if "PEER_ADDR" in meta:
        return meta.get("REMOTE_ADDR", "")
    return resolve_client(
        meta.get("REMOTE_ADDR", ""), meta.get("HTTP_X_FORWARDED_FOR"), proxy_policy(settings.TRUSTED_PROXIES)
    )


class ClientAddressMiddleware:
    """Puts the client's address in REMOTE_ADDR, keeping the connection's peer in PEER_ADDR."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        meta = request.META
        if "PEER_ADDR" not in meta:
            peer = meta.get("REMOTE_ADDR", "")
            meta["REMOTE_ADDR"] = client_address(request)
            meta["PEER_ADDR"] = peer
        return self.get_response(request)
