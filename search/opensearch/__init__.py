"""The OpenSearch backend: newsfacet's index on an OpenSearch cluster (opensearch-py, the `[opensearch]` extra).

Chosen with `--backend opensearch` / NEWSFACET_BACKEND=opensearch; the cluster and alias come from
`--opensearch-url` / NEWSFACET_OPENSEARCH_URL and NEWSFACET_OPENSEARCH_INDEX (search/config.py). The web tier
keeps no index state with this backend: every `newsfacet serve` process reading the same alias serves the
same index, and a rebuild anywhere is seen by all of them on their next request.
"""
from __future__ import annotations

import threading
from typing import Iterable

from search.config import Settings

_clients: dict[tuple, object] = {}
_clients_lock = threading.Lock()


def client_for(settings: Settings):
    """A shared client per cluster configuration (opensearch-py clients are thread-safe connection pools)."""
    from search.opensearch.connection import make_client

    key = (settings.opensearch_url, settings.opensearch_user, settings.opensearch_password,
           settings.opensearch_ca_certs, settings.opensearch_verify_certs, settings.opensearch_timeout)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = make_client(settings)
        return client


class OpenSearchBackend:
    """search.backend.Backend on an OpenSearch cluster: generations are indices behind an alias."""

    name = "opensearch"

    def __init__(self, settings: Settings):
        self.settings = settings
        self.client = client_for(settings)

    def open_searcher(self):
        """A searcher on the index behind the alias (raises IndexMissing when there is none)."""
        from search.opensearch.connection import reachable
        from search.opensearch.searcher import OpenSearchSearcher

        with reachable(self.settings):
            return OpenSearchSearcher(self.client, self.settings)

    def rebuild(self, paths, progress=None, wait: float = 0.0):
        """Enrich the articles under paths into a new index and move the alias to it when complete."""
        from search.opensearch import writer
        from search.opensearch.connection import reachable

        with reachable(self.settings):
            return writer.rebuild(self.client, paths, self.settings, progress=progress, wait=wait)

    def update(self, paths, progress=None, wait: float = 0.0):
        """Upsert new and changed articles, delete gone ones, in the live index."""
        from search.opensearch import writer
        from search.opensearch.connection import reachable

        with reachable(self.settings):
            return writer.update(self.client, paths, self.settings, progress=progress, wait=wait)

    def index_records(self, records: Iterable[dict], wait: float = 0.0):
        """A new index from already enriched records, switched to when complete."""
        from search.opensearch import writer
        from search.opensearch.connection import reachable

        with reachable(self.settings):
            return writer.index_records(self.client, records, self.settings, wait=wait)
