"""Phase B of the source document: Firestore documents (a live Firestore or export files) into ``migration.*``,
idempotent by ``firebase_id``, resumable from ``migration.batch_control``, off peak. Entry point: ``run.backfill``."""
