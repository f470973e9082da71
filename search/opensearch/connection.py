"""A client for the configured OpenSearch cluster (opensearch-py), and how to name it without its secrets."""
from __future__ import annotations

import logging
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

from search.config import Settings
from search.contracts import IndexMissing, QuoteIndexMissing

# opensearch-py logs every request line at INFO (failed ones at WARNING: each lookup of a missing alias, each
# try of a held writer lock) and bodies at DEBUG on these loggers. Failures reach newsfacet as exceptions, which
# say what to do; the loggers stay quiet unless someone lowers their level, and no query text reaches a log.
for _name in ("opensearch", "opensearchpy.trace"):
    logging.getLogger(_name).setLevel(logging.ERROR)


class OpenSearchUnavailable(Exception):
    """opensearch-py is not installed, or no URL is configured; the message says what to do."""


class NoIndex(IndexMissing):
    """Nothing behind the alias yet."""

    def __init__(self, settings: Settings):
        Exception.__init__(self, f"No index behind {describe(settings)} - run `newsfacet --backend opensearch "
                                 f"rebuild` first")


class NoQuoteIndex(QuoteIndexMissing):
    """The live generation was written without its quote index (Settings.quote_procs = 0)."""

    def __init__(self, settings: Settings):
        Exception.__init__(self, f"{describe(settings)} has no quote index (it was written with quote_procs = 0) - run "
                                 f"`newsfacet --backend opensearch rebuild` (or `update`) to add it")


class ClusterUnreachable(IndexMissing):
    """No node of the cluster answers: to a user, there is no index to search (HTTP 503 in the web UI)."""

    def __init__(self, settings: Settings, error: Exception):
        Exception.__init__(self, f"{describe(settings)} does not answer ({type(error).__name__}); start the cluster "
                                 f"(scripts/opensearch.sh start) or check NEWSFACET_OPENSEARCH_URL")


@contextmanager
def reachable(settings: Settings):
    """Turn the client's connection failures (after it tried every node) into ClusterUnreachable."""
    from opensearchpy.exceptions import ConnectionError as ClientConnectionError

    try:
        yield
    except ClientConnectionError as exc:
        raise ClusterUnreachable(settings, exc) from None


def node_urls(settings: Settings) -> list[str]:
    """The node URLs of NEWSFACET_OPENSEARCH_URL / --opensearch-url (comma-separated)."""
    urls = [u.strip() for u in str(settings.opensearch_url or "").split(",") if u.strip()]
    if not urls:
        raise OpenSearchUnavailable("No OpenSearch URL: pass --opensearch-url or set NEWSFACET_OPENSEARCH_URL")
    for u in urls:
        parts = urlsplit(u)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise OpenSearchUnavailable(f"Not an http(s) URL: {redact(u)!r} (NEWSFACET_OPENSEARCH_URL)")
    return urls


def redact(url: str) -> str:
    """The URL with any user:password removed, for messages and logs."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def describe(settings: Settings) -> str:
    """Where the index lives, safe to print: alias @ URLs (no credentials)."""
    try:
        urls = ", ".join(redact(u) for u in node_urls(settings))
    except OpenSearchUnavailable:
        urls = "(no URL)"
    return f"OpenSearch alias {settings.opensearch_index!r} at {urls}"


def make_client(settings: Settings):
    """An OpenSearch client over every configured node, retrying a request on another node when one fails."""
    try:
        from opensearchpy import OpenSearch
    except ImportError:
        raise OpenSearchUnavailable("The OpenSearch backend needs opensearch-py: pip install 'newsfacet[opensearch]'")
    hosts = []
    for u in node_urls(settings):
        parts = urlsplit(u)
        host = {"host": parts.hostname, "port": parts.port or (443 if parts.scheme == "https" else 80),
                "scheme": parts.scheme}
        if parts.path and parts.path != "/":
            host["url_prefix"] = parts.path
        hosts.append(host)
        if parts.username and not settings.opensearch_user:
            settings = _with_credentials(settings, parts)
    kwargs = {
        "hosts": hosts,
        "timeout": settings.opensearch_timeout,
        # A node that stops answering: the same request goes to the next node (requests are idempotent reads
        # or bulk writes by id), and the dead one is retried later.
        "max_retries": max(2, len(hosts)),
        "retry_on_timeout": True,
        "retry_on_status": (502, 503, 504),
        "http_compress": True,
    }
    if settings.opensearch_user:
        kwargs["http_auth"] = (settings.opensearch_user, settings.opensearch_password)
    if any(h["scheme"] == "https" for h in hosts):
        kwargs["use_ssl"] = True
        kwargs["verify_certs"] = bool(settings.opensearch_verify_certs)
        kwargs["ssl_show_warn"] = bool(settings.opensearch_verify_certs)
        if settings.opensearch_ca_certs:
            kwargs["ca_certs"] = settings.opensearch_ca_certs
    return OpenSearch(**kwargs)


def _with_credentials(settings: Settings, parts) -> Settings:
    from dataclasses import replace
    from urllib.parse import unquote

    return replace(settings, opensearch_user=unquote(parts.username or ""),
                   opensearch_password=unquote(parts.password or ""))
