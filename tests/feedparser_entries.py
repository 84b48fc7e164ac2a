#!/usr/bin/env python3
"""Reads one feed file with feedparser and prints what it understood of
each entry as JSON, for the end-to-end tests of what a merged entry carries.

Usage: feedparser_entries.py FILE

Prints one JSON object on standard output:
  bozo, bozo_exception, version   as feedparser_check.py prints them
  entries                         one object per entry, in document order:
    title, link, id, author, author_detail, authors, contributors,
    enclosures, media_content, media_thumbnail, media_credit, comments,
    tags, rights, content, summary, summary_detail, links, source, image,
    itunes_explicit, itunes_duration, itunes_block, slash_comments,
    wfw_commentrss, thr_total

Exits 2 when feedparser is not installed.
"""

import json
import sys


def plain(value):
    """feedparser's dictionaries and lists as plain JSON values."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


FIELDS = [
    "title", "link", "id", "author", "author_detail", "authors", "contributors",
    "enclosures", "media_content", "media_thumbnail", "media_credit", "comments",
    "tags", "rights", "content", "summary", "summary_detail", "links", "source",
    "image", "itunes_explicit", "itunes_duration", "itunes_block", "slash_comments",
    "wfw_commentrss", "thr_total",
]


def main(argv):
    if len(argv) != 2:
        print("usage: feedparser_entries.py FILE", file=sys.stderr)
        return 64
    try:
        import feedparser
    except ImportError:
        print("feedparser is not installed: pip install feedparser", file=sys.stderr)
        return 2
    with open(argv[1], "rb") as f:
        parsed = feedparser.parse(f.read())
    exception = parsed.get("bozo_exception")
    result = {
        "bozo": int(bool(parsed.get("bozo", 0))),
        "bozo_exception": None if exception is None else f"{type(exception).__name__}: {exception}",
        "version": parsed.get("version", ""),
        "entries": [{k: plain(e.get(k)) for k in FIELDS} for e in parsed.entries],
    }
    json.dump(result, sys.stdout, ensure_ascii=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
