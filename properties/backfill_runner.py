"""A backfill run in its own process, for the kill/resume property: ``python -m properties.backfill_runner DSN FILE
QUARANTINE RUN_ID BATCH_SIZE KILL_AT [READER]``, with transactions as short as they can be (so chunks split into several). At its KILL_AT-th step (counted over every chunk's quarantined, loaded,
before_commit and committed steps; -1 = never) it prints KILL-POINT and waits to be SIGKILLed by the test.
READER is Options.reader ("thread", "process"; default "auto")."""
from __future__ import annotations

import sys
import time
from pathlib import Path

from leadboost_schema.backfill.export_files import JsonLinesFile
from leadboost_schema.backfill.run import Options, backfill


def main(dsn: str, file: str, quarantine: str, run_id: str, batch_size: str, kill_at: str,
         reader: str = "auto") -> int:
    steps = [0]

    def on_step(step: str, chunk: int) -> None:
        if steps[0] == int(kill_at):
            print(f"KILL-POINT {step} {chunk}", flush=True)
            while True:
                time.sleep(60)
        steps[0] += 1

    summary = backfill(dsn, JsonLinesFile(Path(file)), Options(run_id=run_id, batch_size=int(batch_size),
                                                                 quarantine=Path(quarantine),
                                                                 max_transaction_ms=0.001, reader=reader),
                       on_step=on_step)
    print(f"DONE {summary.exit_status}", flush=True)
    return summary.exit_status


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
