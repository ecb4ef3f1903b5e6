"""Imported by the pool's fork server (`pool._PRELOAD`): extraction's lazy caches filled there,
once, before any worker is forked, instead of in every extraction process.

trafilatura fills some process-wide caches on first use: justext's stoplist of every language
(about 100 files read and merged, the first time a page falls back to justext) and tld's
public-suffix trie (the first URL courlan cannot split by itself). A fresh extraction process
paid up to 0.19 s of CPU for them on its first pages: on 4 sets of 10 development pages, a set
took 0.51 to 0.60 s in a fresh process and 0.37 to 0.47 s in one forked after this warm-up
(0.04 to 0.19 s less, by how soon the set's pages reach those caches; 2 samples of each). A run
with N workers forks N extraction processes, each of which paid it inside the stage that keeps
every core busy; the fork server does it once, while the run is still ingesting, and its forks
inherit the caches. In 2-worker runs on the 804 development pages, each extraction process's
first 10 pages took 0.23 and 0.28 s of CPU instead of 0.32 and 0.40 s (3 runs each).

Imported anywhere else, the module does nothing: a process that extracts in place (one worker)
fills the same caches on its first pages, at the same cost.
"""

from __future__ import annotations

import logging

from pipeline import serverexit

log = logging.getLogger(__name__)
URL = "https://www.example.com/news/2020/01/02/warm-up.html"
# Built to reach both caches: too little text for trafilatura's own extractor to trust, so it
# compares with justext's; a canonical URL for its metadata.
PAGE = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>A warm-up page</title>
<link rel="canonical" href="{URL}"><meta property="og:site_name" content="Example News"></head>
<body><nav><a href="/">Home</a> <a href="/news">News</a></nav><article><h1>A warm-up page</h1>
<p>This page is extracted once by the fork server, so that the libraries fill their caches there.</p>
<p>A second paragraph, <a href="https://www.example.org/about">a link</a>, and a table.</p>
<table><tr><td>one</td><td>two</td></tr></table></article><footer>Example News</footer></body></html>"""


def warm_up() -> None:
    """Extract `PAGE` and split `URL` as trafilatura's URL handling would, for their caches."""
    import courlan

    from pipeline.params import ExtractParams
    from pipeline.stages.extract import extract_html

    extract_html(PAGE, ExtractParams())
    courlan.extract_domain(URL)  # fast=False: through tld, which loads its suffix list


def _in_server() -> None:
    try:
        warm_up()
    except Exception as exc:  # an exception here would stop the fork server: only a cache is lost
        log.warning("extraction warm-up failed (%s: %s); each worker fills its caches itself",
                    type(exc).__name__, exc)


if serverexit.in_fork_server():
    _in_server()
