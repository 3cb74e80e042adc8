"""How the sweep's cost grows with the number of channels: the sweep of bench/sweep.py at
10, 100 and 1,000 channels, each in a fresh database; time and queries per size, the
least-squares slope of time against channels, and the ratio for each 10x.

    python -m bench.growth [--quick] [--bets 30] [--sizes 10,100,1000]

Bets per channel default to 30 (not the sweep's 100) to keep the 1,000-channel run
within minutes; every channel still has a digest and a few nudges due.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
from typing import Any

from bench import common, prototypes
from bench.sweep import AT, Result, record_of, sweep


def growth_rows(results: list[Result]) -> list[list[Any]]:
    rows = []
    for result in results:
        queries = result.compute.queries + result.delivery.queries
        rows.append(
            [
                result.channels,
                result.channels * result.bets_per_channel,
                sum(result.by_kind.values()),
                round(result.compute.seconds, 1),
                round(result.delivery.seconds, 1),
                round(result.total_s, 1),
                round(result.floor_s, 1),
                queries,
                round(queries / result.channels, 1),
                result.lost + result.duplicated,
            ]
        )
    return rows


def slopes(results: list[Result]) -> list[list[Any]]:
    xs = [float(result.channels) for result in results]
    rows = []
    for name, values in (
        ("compute s", [r.compute.seconds for r in results]),
        ("total s", [r.total_s for r in results]),
        ("queries", [float(r.compute.queries + r.delivery.queries) for r in results]),
    ):
        slope, intercept = common.least_squares(xs, values)
        ratios = [
            f"{later / earlier:.1f}x" if earlier else "-"
            for earlier, later in itertools.pairwise(values)
        ]
        rows.append([name, f"{slope:.4g} per channel", f"{intercept:.3g}", " / ".join(ratios)])
    return rows


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10 and 100 channels only")
    parser.add_argument("--bets", type=int, default=30, help="bets per channel")
    parser.add_argument("--sizes", help="comma-separated channel counts")
    parser.add_argument("--prototype", action="append", default=[], choices=prototypes.PROTOTYPES)
    args = parser.parse_args()
    sizes = (
        [int(size) for size in args.sizes.split(",")]
        if args.sizes
        else ([10, 100] if args.quick else [10, 100, 1000])
    )
    results = []
    with prototypes.applied(args.prototype):
        for size in sizes:
            print(f"  {size} channels x {args.bets} bets…", file=sys.stderr)
            results.append(await sweep(size, args.bets, at=AT, quiet=True))
    applied = f" with {'+'.join(args.prototype)}" if args.prototype else ""
    print(f"\nSweep cost by number of channels ({args.bets} bets per channel){applied}")
    print("each size: fresh PostgreSQL database, Jobs.digests + Jobs.nudges + outbox until done\n")
    headers = [
        "channels",
        "bets",
        "messages",
        "compute s",
        "delivery s",
        "total s",
        "floor s",
        "queries",
        "q/channel",
        "lost+dup",
    ]
    print(common.table(headers, growth_rows(results)))
    print()
    sizes_text = " / ".join(f"{b}->{a}" for b, a in itertools.pairwise(sizes))
    print(
        common.table(
            ["least squares", "slope", "intercept", f"ratio per step ({sizes_text})"],
            slopes(results),
        )
    )
    path = common.write_json(
        "growth",
        {"prototypes": args.prototype, "results": [record_of(result) for result in results]},
    )
    print(f"\n(written to {path.relative_to(common.ROOT)})")


if __name__ == "__main__":
    asyncio.run(main())
