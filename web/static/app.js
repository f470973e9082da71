// newsfacet: small progressive enhancements. Everything works without this file.
(function () {
  "use strict";

  // Facet filter boxes (htmx asks the server for matching values): shown only when scripting works;
  // without it, the "All ..." link leads to a page with a plain filter form.
  function enableFacetFilters(root) {
    (root || document).querySelectorAll("[data-facet-filter][hidden]").forEach(function (box) {
      box.hidden = false;
    });
  }

  // After back/forward restores a snapshot, make the search box show that page's query.
  document.addEventListener("htmx:historyRestore", function () {
    var q = document.getElementById("q");
    if (!q) return;
    var params = new URLSearchParams(window.location.search);
    q.value = params.get("q") || "";
  });

  // Enter on a query whose results the typing delay already fetched asks for the page that is shown:
  // skip it, so each query is one request and one history entry (Back would otherwise seem to do nothing).
  document.addEventListener("htmx:beforeRequest", function (event) {
    var detail = event.detail;
    if (!detail.elt || detail.elt.id !== "search-form" || !detail.pathInfo) return;
    var wanted = new URL(detail.pathInfo.finalRequestPath, window.location.href);
    if (wanted.pathname + wanted.search === window.location.pathname + window.location.search) {
      event.preventDefault();
    }
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    enableFacetFilters(event.target);
  });

  // "/" jumps to the search box, as on many search sites.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    var tag = (event.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select" || event.target.isContentEditable) return;
    var q = document.getElementById("q");
    if (q) {
      event.preventDefault();
      q.focus();
      q.select();
    }
  });

  // "Back to search" goes back in history when we came from the search page, keeping its state.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("[data-back-link]");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey) return;
    var ref = document.referrer;
    if (ref && ref.indexOf(window.location.origin + "/") === 0 && new URL(ref).pathname === "/" && window.history.length > 1) {
      event.preventDefault();
      window.history.back();
    }
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { enableFacetFilters(document); });
  } else {
    enableFacetFilters(document);
  }
})();
