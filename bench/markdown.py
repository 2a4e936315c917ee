"""Render time of pathological Markdown, to show render_markdown stays roughly linear.

`make bench-markdown` (or `python -m bench.markdown`): renders each pathological pattern (runs of
`[`, `![`, `>`, `*`, `_`, backticks, `<`, entities, nested links, long chains of reference links)
at three sizes up to the longest write-up body, and prints the best of a few runs in milliseconds
and the growth from the middle size to the largest: about 2 when the time is linear in the length
(the sizes double), about 4 when it is quadratic. Needs no database.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from eventmgr.web.markdown import render_markdown

#: Each pattern, as a function of the length wanted.
PATTERNS: dict[str, Callable[[int], str]] = {
    "[ run": lambda n: "[" * n,
    "![ run": lambda n: "![" * (n // 2),
    "[ run, one ]": lambda n: "[" * (n - 1) + "]",
    "[a]( run": lambda n: "[a](" * (n // 4),
    "[a] run": lambda n: "[a]" * (n // 3),
    "[ lines": lambda n: "[\n" * (n // 2),
    "nested [[a]]": lambda n: "[" * (n // 2) + "a" + "]" * (n // 2),
    "reference chain": lambda n: (
        "".join(f"[r{i}]: /u{i}\n" for i in range(n // 20))
        + " ".join(f"[r{i}][r{i + 1}]" for i in range(n // 20))
    ),
    "> run": lambda n: ">" * n + " deep",
    "> nested lines": lambda n: "".join("> " * (i % 200) + "a\n" for i in range(n // 200)),
    "* run": lambda n: "*" * n,
    "*a run": lambda n: "*a" * (n // 2),
    "*a **a run": lambda n: "*a **a " * (n // 7),
    "_a run": lambda n: "_a" * (n // 2),
    "~~a run": lambda n: "~~a" * (n // 3),
    "` run": lambda n: "`" * n,
    "`a run": lambda n: "`a" * (n // 2),
    "``a`b run": lambda n: "``a`b" * (n // 5),
    "< run": lambda n: "<" * n,
    "&# run": lambda n: "&#" * (n // 2),
    "- nested list": lambda n: "".join("  " * (i % 100) + "- x\n" for i in range(n // 100)),
    "plain words": lambda n: "word " * (n // 5),
}
SIZES = (25_000, 50_000, 100_000)


def best_of(text: str, runs: int) -> float:
    """The shortest of `runs` renderings of `text`, in seconds."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        render_markdown(text)
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    """Print a table: pattern, milliseconds at each size, growth of the last doubling."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3, help="renderings per size (best counts)")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    arguments = parser.parse_args()
    sizes = arguments.sizes
    print(f"{'pattern':18}" + "".join(f"{size:>10,}" for size in sizes) + "    growth  ms/KB")
    for name, build in PATTERNS.items():
        times = [best_of(build(size), arguments.runs) for size in sizes]
        growth = times[-1] / times[-2] if len(times) > 1 and times[-2] else float("nan")
        per_kb = times[-1] * 1000 / (sizes[-1] / 1000)
        cells = "".join(f"{seconds * 1000:10.1f}" for seconds in times)
        print(f"{name:18}{cells}    {growth:6.1f}  {per_kb:5.2f}")


if __name__ == "__main__":
    main()
