"""The newsfacet web UI: a Flask app factory, and `serve` to run it under waitress."""
from __future__ import annotations

import logging
import secrets
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path

from flask import Flask, g
from htmx_flask import Htmx

# Content-Security-Policy: no inline script or style anywhere; htmx is told not to inject its
# indicator <style> (see the htmx-config meta tag in base.html), and eval stays off.
CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def _default_open_searcher(settings):
    """A searcher of the configured backend (search/backend.py); web/ never knows which engine it is."""
    from search.backend import open_searcher

    return open_searcher(settings)


def create_app(config: dict | None = None) -> Flask:
    """Build the Flask app; config overrides SETTINGS (search.config.Settings), INDEX_DIR, FACET_FETCH and friends."""
    from search.config import load_settings

    settings = (config or {}).get("SETTINGS") or load_settings()
    app = Flask(__name__)
    app.config.from_mapping(
        SETTINGS=settings,
        INDEX_DIR=str(settings.index),
        # How many values of each facet the page fetches: the first FACET_VISIBLE are shown,
        # the rest sit behind "show more" and the facet's filter box, with no extra request.
        FACET_FETCH=30,
        FACET_VISIBLE=10,
        # The "all values" page and the sidebar's filter box look through this many.
        FACET_ALL=5000,
        # Injected by tests that drive the views without a real index.
        OPEN_SEARCHER=_default_open_searcher,
        SECRET_KEY=secrets.token_hex(16),
        JSON_SORT_KEYS=False,
    )
    if config:
        app.config.update(config)
    app.config["INDEX_DIR"] = str(app.config["INDEX_DIR"])
    if str(app.config["SETTINGS"].index) != app.config["INDEX_DIR"]:
        app.config["SETTINGS"] = replace(app.config["SETTINGS"], index=Path(app.config["INDEX_DIR"]))
    app.json.sort_keys = False
    # The templates use the same helpers on every page.
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    Htmx(app)

    from . import views

    app.register_blueprint(views.bp)
    views.register_template_helpers(app)

    @app.after_request
    def _security_headers(response):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        # Full pages and htmx partials share URLs: caches must key on the header.
        response.vary.add("HX-Request")
        return response

    @app.teardown_appcontext
    def _close_searcher(exc):
        stack: ExitStack | None = g.pop("searcher_stack", None)
        if stack is not None:
            try:
                stack.close()
            except Exception:  # closing must never turn a good response into an error
                app.logger.exception("closing the searcher failed")

    return app


def get_searcher():
    """The searcher for this request, opened on first use and closed at teardown."""
    from flask import current_app

    if "searcher" not in g:
        stack = ExitStack()
        try:
            searcher = stack.enter_context(current_app.config["OPEN_SEARCHER"](current_app.config["SETTINGS"]))
        except BaseException:
            stack.close()
            raise
        g.searcher_stack = stack
        g.searcher = searcher
    return g.searcher


def serve(host: str = "127.0.0.1", port: int = 5000, index_dir=None, threads: int = 8, settings=None) -> None:
    """Serve the UI with waitress (a production WSGI server), on 127.0.0.1 unless told otherwise."""
    from waitress import serve as waitress_serve

    config = {"SETTINGS": settings} if settings is not None else {}
    if index_dir is not None:
        config["INDEX_DIR"] = str(index_dir)
    app = create_app(config)
    logging.getLogger("waitress").setLevel(logging.INFO)
    waitress_serve(app, host=host, port=int(port), threads=threads, ident="newsfacet")


def main(argv=None) -> None:
    """`python -m web [--host H] [--port P] [--index DIR]`: same as `newsfacet serve`."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m web", description=main.__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--index", default=None)
    args = parser.parse_args(argv)
    print(f"newsfacet: serving on http://{args.host}:{args.port}/ (Ctrl-C stops)", flush=True)
    serve(args.host, args.port, args.index)
