"""The `backfill`, `backup` and `restore` commands: what they print, their exit status, restore's confirmation."""
from __future__ import annotations

import json
import subprocess
import sys

from leadboost_schema.cli import errors, main
from leadboost_schema.testing.data_fingerprint import data_fingerprint


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "leadboost_schema", *args], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=300, check=False)


def test_backfill_command_summarises_and_exits_8_on_quarantine(leadboost_conn, leadboost_dsn, make_tenant,
                                                               tmp_path, capsys):
    tenant = make_tenant(leadboost_conn)
    export = tmp_path / "export.jsonl"
    export.write_text(json.dumps({"path": f"tenants/{tenant}/raw_signals/a", "data": {"type": "x"}}) + "\n"
                      + json.dumps({"path": f"tenants/{tenant}/raw_signals/b", "data": {}}) + "\n")
    quarantine = tmp_path / "q.jsonl"
    assert main(["backfill", "--dsn", leadboost_dsn, str(export), "--quarantine", str(quarantine)]) == \
        errors.QUARANTINED
    captured = capsys.readouterr()
    assert "migration.raw_signals: 1 rows loaded" in captured.out
    assert "1 × signal_type" in captured.out and "completed_batches_counts_match" in captured.out
    assert "1 documents quarantined" in captured.err
    assert main(["backfill", "--dsn", leadboost_dsn, str(export), "--quarantine", str(quarantine), "--json"]) == \
        errors.QUARANTINED
    report = json.loads(capsys.readouterr().out)
    assert report["resumed_at"] == 2 and report["quarantined_in_run"] == 1 and report["exit_status"] == 8

    clean = tmp_path / "clean.jsonl"
    clean.write_text(json.dumps({"path": "raw_signals/c", "data": {"type": "x"}}) + "\n")
    assert main(["backfill", "--dsn", leadboost_dsn, str(clean), "--tenant", str(tenant),
                 "--quarantine", str(tmp_path / "q2.jsonl")]) == errors.OK
    assert main(["backfill", "--dsn", leadboost_dsn]) == errors.USAGE


def test_backup_and_restore_commands_round_trip(leadboost_seeded_conn, leadboost_seeded_dsn, tmp_path):
    before = data_fingerprint(leadboost_seeded_conn)
    dump = tmp_path / "before.dump"
    done = cli("backup", str(dump), "--dsn", leadboost_seeded_dsn)
    assert done.returncode == errors.OK, done.stderr
    assert "backup written" in done.stdout
    leadboost_seeded_conn.execute("DELETE FROM stock.inventory_items")

    refused = cli("restore", str(dump), "--dsn", leadboost_seeded_dsn)
    assert refused.returncode == errors.NOT_CONFIRMED
    assert "refusing to restore without confirmation" in refused.stderr
    assert data_fingerprint(leadboost_seeded_conn) != before, "nothing restored without confirmation"

    done = cli("restore", str(dump), "--dsn", leadboost_seeded_dsn, "--yes")
    assert done.returncode == errors.OK, done.stderr
    assert data_fingerprint(leadboost_seeded_conn) == before

    missing = cli("restore", str(tmp_path / "nope.dump"), "--dsn", leadboost_seeded_dsn, "--yes")
    assert missing.returncode == errors.USAGE and "no such backup file" in missing.stderr
