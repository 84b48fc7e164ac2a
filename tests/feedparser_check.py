#!/usr/bin/env python3
"""Reads one feed file with feedparser and prints what it understood as JSON.

Usage: feedparser_check.py FILE

Prints one JSON object on standard output:
  bozo            0 or 1, feedparser's "this feed is not well formed" flag
  bozo_exception  the text of the exception behind bozo, or null
  version         the format feedparser recognised ("atom10", "rss20", ...)
  json_supported  whether this feedparser release can read JSON Feed at all
  feed_title      the feed's title, or null
  entry_titles    the title of each entry in document order (null if absent)

Exits 2 when feedparser is not installed.
"""

import importlib.util
import json
import sys


def main(argv):
    if len(argv) != 2:
        print("usage: feedparser_check.py FILE", file=sys.stderr)
        return 64
    try:
        import feedparser
    except ImportError:
        print("feedparser is not installed: pip install feedparser", file=sys.stderr)
        return 2

    with open(argv[1], "rb") as f:
        data = f.read()
    parsed = feedparser.parse(data)

    exception = parsed.get("bozo_exception")
    result = {
        "bozo": int(bool(parsed.get("bozo", 0))),
        "bozo_exception": None if exception is None else f"{type(exception).__name__}: {exception}",
        "version": parsed.get("version", ""),
        "json_supported": importlib.util.find_spec("feedparser.parsers.json") is not None,
        "feed_title": parsed.feed.get("title"),
        "entry_titles": [entry.get("title") for entry in parsed.entries],
    }
    # ASCII-only output: the reader decodes the escapes, so the terminal's
    # encoding cannot alter the titles.
    json.dump(result, sys.stdout, ensure_ascii=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
