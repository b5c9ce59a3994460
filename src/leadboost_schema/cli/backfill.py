"""`backfill`: the source document's phase B, Firestore documents into migration.* (the library: backfill.run)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from leadboost_schema.backfill.export_files import JsonLinesFile, NestedExportFile, open_export
from leadboost_schema.backfill.firestore_source import FirestoreCollections, official_client
from leadboost_schema.backfill.mapping import MappingError
from leadboost_schema.backfill.pacing import Window
from leadboost_schema.backfill.run import Options, Summary, backfill
from leadboost_schema.cli import target
from leadboost_schema.cli.errors import USAGE, CliError
from leadboost_schema.cli.output import emit_json, table


def add_arguments(command: argparse.ArgumentParser) -> None:
    source = command.add_argument_group("source (one of)")
    source.add_argument("file", nargs="?", type=Path, help="an export file: JSON Lines of {\"path\", \"data\"} or "
                        "the nested __collections__ JSON (told apart by its first bytes; see --format)")
    source.add_argument("--format", choices=("auto", "jsonl", "nested"), default="auto", help="the export file's format")
    source.add_argument("--firestore", action="store_true", help="read a live Firestore (pip install "
                        "'leadboost-schema[firestore]'); name --collection paths")
    source.add_argument("--collection", action="append", default=[], metavar="PATH",
                        help="a collection path to read, e.g. raw_signals or tenants/<id>/campaigns (repeatable)")
    source.add_argument("--project", help="Google Cloud project (default: from the credentials)")
    source.add_argument("--credentials", help="service-account JSON file (default: Application Default Credentials)")
    source.add_argument("--firestore-database", help="Firestore database id (default: (default))")
    run = command.add_argument_group("run")
    run.add_argument("--mapping", type=Path, help="mapping TOML (default: the shipped mappings.toml)")
    run.add_argument("--tenant", help="one tenant uuid for every document (instead of the mapping's tenant.from)")
    run.add_argument("--tenant-from", action="append", metavar="RULE",
                     help="where the tenant comes from: path:<segment> or field:<name> (repeatable, tried in order)")
    run.add_argument("--run-id", help="names the run (default: derived from the source, so running the same "
                     "command again resumes it)")
    run.add_argument("--batch-size", type=int, default=2000, help="documents read and recorded per batch (default 2000); transactions are sized by how long they hold their rows")
    run.add_argument("--quarantine", type=Path, help="file of the documents that cannot be loaded "
                     "(default ./<run id>.quarantine.jsonl)")
    run.add_argument("--window", type=Window.parse, help="work only inside this daily UTC window, e.g. 22:00-06:00 "
                     "(pauses outside it)")
    run.add_argument("--rate", type=float, help="at most this many rows per second")
    run.add_argument("--max-transaction-ms", type=float, default=50.0,
                     help="aim for transactions this short (default 50): a dual-written insert of a firebase_id "
                          "the backfill is inserting waits for its COMMIT")
    run.add_argument("--reader", choices=("auto", "sql", "process", "thread"), default="auto",
                     help="who maps the documents: process/thread = Python beside the writer (auto: process for "
                          "export files of 8 MiB or more, else thread); sql = the database server, from the raw "
                          "JSON Lines (docs/backfill.md, \"The SQL path\")")


def _source(args: argparse.Namespace):
    if args.firestore == (args.file is not None):
        raise CliError("name one source: an export FILE, or --firestore with --collection paths", USAGE)
    if args.firestore:
        if not args.collection:
            raise CliError("--firestore needs at least one --collection PATH", USAGE)
        try:
            client = official_client(args.project, args.credentials, args.firestore_database)
        except RuntimeError as error:
            raise CliError(str(error), USAGE) from None
        return FirestoreCollections(client, args.collection, name=f"firestore-{args.project or 'default'}")
    if not args.file.is_file():
        raise CliError(f"{args.file}: no such file", USAGE)
    return {"auto": open_export, "jsonl": JsonLinesFile, "nested": NestedExportFile}[args.format](args.file)


def print_summary(summary: Summary) -> None:
    print(f"backfill run {summary.run_id}: {summary.read:,} documents read in {summary.seconds:.1f} s"
          + (f" (resumed after {summary.resumed_at:,})" if summary.resumed_at else "")
          + (f", {summary.paused_seconds:.0f} s paused outside the window" if summary.paused_seconds else ""))
    for name in ("raw_signals", "campaigns", "audit_logs"):
        print(f"  migration.{name}: {summary.loaded.get(name, 0):,} rows loaded")
    print(f"  already present (same firebase_id and tenant): {summary.already_present:,}")
    if summary.left_to_python or summary.blocks_by_python:
        print(f"  SQL path: {summary.left_to_python:,} documents mapped by Python, {summary.blocks_by_python:,}"
              " transactions written the Python way")
    print(f"  quarantined: {summary.quarantined:,} now, {summary.quarantined_in_run:,} in the run, "
          f"in {summary.quarantine_file}")
    for reason, count in summary.reasons.most_common(10):
        print(f"    {count:,} × {reason}")
    if summary.run_batches_wrong:
        print(f"  batches of this run that are not COMPLETED with matching counts: {', '.join(summary.run_batches_wrong)}")
    print("validate_migrated_data():")
    print(table(summary.validation))


def cmd_backfill(args: argparse.Namespace) -> int:
    if args.batch_size < 1:
        raise CliError("--batch-size must be at least 1", USAGE)
    database = target.database_dsn(args.dsn)
    target.connect(database).close()
    source = _source(args)
    options = Options(run_id=args.run_id, batch_size=args.batch_size, quarantine=args.quarantine,
                      mapping=args.mapping, tenant=args.tenant, tenant_from=args.tenant_from, window=args.window,
                      rows_per_second=args.rate, max_transaction_ms=args.max_transaction_ms, reader=args.reader)
    try:
        summary = backfill(database, source, options)
    except (MappingError, ValueError) as error:
        raise CliError(str(error), USAGE) from None
    if args.json:
        emit_json({"ok": summary.exit_status == 0, "exit_status": summary.exit_status, "run_id": summary.run_id,
                   "resumed_at": summary.resumed_at, "read": summary.read, "loaded": dict(summary.loaded),
                   "already_present": summary.already_present, "quarantined": summary.quarantined,
                   "quarantined_in_run": summary.quarantined_in_run, "quarantine_file": summary.quarantine_file,
                   "reasons": dict(summary.reasons), "seconds": summary.seconds,
                   "run_batches_wrong": summary.run_batches_wrong, "validation": summary.validation})
    else:
        print_summary(summary)
    if summary.exit_status:
        why = ("validation failed" if summary.validation_failed else
               f"{summary.quarantined_in_run} documents quarantined, see {summary.quarantine_file}")
        print(f"leadboost-schema backfill: {why}", file=sys.stderr)
    return summary.exit_status
