"""The chart process: draws report charts for `hypobot serve`, one request at a time, read
from stdin and answered on stdout (bot.reports.ChartWorker starts and stops it).

A request and its answer are each a 4-byte big-endian length and a pickle: the request is
(args, kwargs) for bot.charts.survival_chart, the answer ("ok", png) or ("error", text). Only
the server that started the process writes to it, so unpickling its requests is safe.
"""

from __future__ import annotations

import os
import pickle
import sys
from typing import BinaryIO


def _frame(stream: BinaryIO) -> bytes | None:
    header = stream.read(4)
    if len(header) < 4:
        return None  # the server closed the pipe: time to go
    return stream.read(int.from_bytes(header, "big"))


def main() -> None:
    requests = sys.stdin.buffer
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything printed goes to stderr, never into the answers
    from bot.charts import survival_chart  # matplotlib: loaded here, never in the server

    while (request := _frame(requests)) is not None:
        args, kwargs = pickle.loads(request)
        try:
            answer: tuple[str, object] = ("ok", survival_chart(*args, **kwargs))
        except Exception as error:  # one bad chart must not end the process
            answer = ("error", f"{type(error).__name__}: {error}")
        data = pickle.dumps(answer)
        answers.write(len(data).to_bytes(4, "big") + data)
        answers.flush()


if __name__ == "__main__":
    main()
