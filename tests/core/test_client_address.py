"""Which address a request came from: the connection's, or behind the portal's own proxy
the one that proxy saw (never what the client wrote into X-Forwarded-For itself)."""

from __future__ import annotations

from django.test import RequestFactory

from core.client_address import client_address


def _request(**meta: str):
    return RequestFactory().get("/", **meta)


def test_directly_connected_the_connection_counts_and_forwarded_for_is_ignored():
    assert client_address(_request(REMOTE_ADDR="192.0.2.7", HTTP_X_FORWARDED_FOR="1.1.1.1")) == (
        "192.0.2.7"
    )


def test_behind_one_proxy_the_address_it_appended(settings):
    settings.OPSPORTAL_BEHIND_PROXY = True
    forwarded = "6.6.6.6, 198.51.100.4"  # the client claimed 6.6.6.6; the proxy saw .4
    assert client_address(_request(REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR=forwarded)) == (
        "198.51.100.4"
    )


def test_behind_two_proxies_the_outer_ones_entry(settings):
    settings.OPSPORTAL_BEHIND_PROXY = True
    settings.OPSPORTAL_PROXY_HOPS = 2
    forwarded = "6.6.6.6, 198.51.100.4, 10.1.2.3"
    assert client_address(_request(HTTP_X_FORWARDED_FOR=forwarded)) == "198.51.100.4"


def test_no_trustworthy_address_is_none(settings):
    settings.OPSPORTAL_BEHIND_PROXY = True
    assert client_address(_request(REMOTE_ADDR="10.0.0.5")) is None
    assert client_address(_request(HTTP_X_FORWARDED_FOR="not-an-address")) is None
    settings.OPSPORTAL_PROXY_HOPS = 3
    assert client_address(_request(HTTP_X_FORWARDED_FOR="1.2.3.4, 5.6.7.8")) is None
