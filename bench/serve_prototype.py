"""`hypobot serve` with prototypes from bench/prototypes.py applied in its process.

python -m bench.serve_prototype ack_first,after_ack_gate
"""

from __future__ import annotations

import sys

from bench import prototypes
from console import cli

if __name__ == "__main__":
    with prototypes.applied([name for name in sys.argv[1].split(",") if name]):
        sys.exit(cli.main(["serve"]))
