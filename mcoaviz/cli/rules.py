"""`mcoaviz rules`: the conformance rule catalogue (--markdown: docs/rules.md)."""

from __future__ import annotations

import argparse
import sys

from mcoaviz.checker.docs import render_markdown, render_text
from mcoaviz.checker.registry import RULES

NAME = "rules"
HELP = "List the conformance rules (codes, severities, sections); --markdown writes docs/rules.md."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--markdown", action="store_true",
                        help="print the Markdown catalogue with the coverage table (docs/rules.md)")
    parser.add_argument("--select", metavar="PREFIXES", default="",
                        help="only rules whose code starts with one of these comma-separated prefixes")


def run(args: argparse.Namespace) -> int:
    if args.markdown:
        sys.stdout.write(render_markdown())
        return 0
    prefixes = tuple(p.strip().upper() for p in args.select.split(",") if p.strip())
    rules = tuple(r for r in RULES if not prefixes or r.code.startswith(prefixes))
    if not rules:
        print(f"mcoaviz rules: error: no rule matches {args.select!r}", file=sys.stderr)
        return 2
    sys.stdout.write(render_text(rules))
    return 0
