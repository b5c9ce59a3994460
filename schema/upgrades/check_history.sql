-- check_history.sql — before any upgrade runs: every upgrade the database recorded must still exist here with
-- the same checksum (a released upgrade file is never edited: fix forward with a new one, LB902), and the
-- database must not be ahead of this schema folder (LB903).
SELECT coalesce(string_agg(s.upgrade, ', ' ORDER BY s.upgrade) FILTER (WHERE h.checksum <> s.checksum), '')
           AS lb_edited,
       coalesce(string_agg(s.upgrade, ', ' ORDER BY s.upgrade) FILTER (WHERE h.upgrade IS NULL), '')
           AS lb_unknown
FROM sys.schema_upgrades AS s
LEFT JOIN (VALUES :lb_history) AS h (upgrade, release, checksum) ON s.upgrade = h.upgrade
WHERE s.upgrade ~ '^[0-9]{4}_'
\gset
SELECT :'lb_edited' <> '' AS lb_has_edited, :'lb_unknown' <> '' AS lb_has_unknown
\gset
\if :lb_has_edited
\set lb_refusal_code LB902
SELECT format('released upgrade file(s) %s changed after this database applied them: restore them as released '
              'and fix forward with a new upgrade; nothing was changed', :'lb_edited') AS lb_refusal
\gset
\ir refuse.sql
\elif :lb_has_unknown
\set lb_refusal_code LB903
SELECT format('this database has upgrade(s) %s that this schema folder does not know: it is newer than this '
              'checkout; nothing was changed', :'lb_unknown') AS lb_refusal
\gset
\ir refuse.sql
\endif
