"""`python -m web`: serve the UI with waitress (what `newsfacet serve` calls)."""
from web import main

main()
