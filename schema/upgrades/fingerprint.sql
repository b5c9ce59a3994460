-- fingerprint.sql — one md5 over what the catalog holds in the seven schemas: relations and their columns,
-- constraints, indexes, triggers, functions (signature, attributes, body), views, row-level security, grants to
-- roles other than the owner, and comments. 000_master_migration.sql compares it with each release's recorded
-- fingerprint to recognise a database built before the version table existed. Written to give the same value on
-- PostgreSQL 15 and later majors: view text without qualifiers, privileges named one by one (not acl strings,
-- which grew a letter in 17), no OIDs or owner names. Immutable once a release recorded its value with it.
SELECT md5(string_agg(item, E'\n' ORDER BY item)) AS lb_fingerprint
FROM (
    SELECT format('relation %s.%s %s rls=%s,%s', n.nspname, c.relname, c.relkind, c.relrowsecurity,
                  c.relforcerowsecurity) AS item
    FROM pg_catalog.pg_class AS c
    INNER JOIN pg_catalog.pg_namespace AS n ON c.relnamespace = n.oid
    WHERE n.nspname IN ('iam', 'finanzas', 'stock', 'gobernanza', 'sys', 'events', 'migration')
      AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
    UNION ALL
    SELECT format('column %s.%s.%s %s notnull=%s identity=%s default=%s', n.nspname, c.relname, a.attname,
                  pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull, a.attidentity,
                  pg_catalog.pg_get_expr(d.adbin, d.adrelid))
    FROM pg_catalog.pg_attribute AS a
    INNER JOIN pg_catalog.pg_class AS c ON a.attrelid = c.oid
    INNER JOIN pg_catalog.pg_namespace AS n ON c.relnamespace = n.oid
    LEFT JOIN pg_catalog.pg_attrdef AS d ON a.attrelid = d.adrelid AND a.attnum = d.adnum
    WHERE n.nspname IN ('iam', 'finanzas', 'stock', 'gobernanza', 'sys', 'events', 'migration')
      AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND a.attnum > 0 AND NOT a.attisdropped
    UNION ALL
    SELECT format('constraint %s.%s.%s %s deferrable=%s,%s', n.nspname, c.relname, k.conname,
                  pg_catalog.pg_get_constraintdef(k.oid), k.condeferrable, k.condeferred)
    FROM pg_catalog.pg_constraint AS k
    INNER JOIN pg_catalog.pg_class AS c ON k.conrelid = c.oid
    INNER JOIN pg_catalog.pg_namespace AS n ON c.relnamespace = n.oid
    WHERE n.nspname IN ('iam', 'finanzas', 'stock', 'gobernanza', 'sys', 'events', 'migration')
      AND k.contype IN ('c', 'f', 'p', 'u', 'x', 't')
    UNION ALL
    SELECT format('index %s valid=%s', pg_catalog.pg_get_indexdef(i.indexrelid), i.indisvalid)
    FROM pg_catalog.pg_index AS i
    INNER JOIN pg_catalog.pg_class AS c ON i.indrelid = c.oid
    INNER JOIN pg_catalog.pg_namespace AS n ON c.relnamespace = n.oid
    WHERE n.nspname IN ('iam', 'finanzas', 'stock', 'gobernanza', 'sys', 'events', 'migration')
    UNION ALL
    SELECT format('trigger %s enabled=%s', pg_catalog.pg_get_triggerdef(t.oid), t.tgenabled)
    FROM pg_catalog.pg_trigger AS t
    INNER JOIN pg_catalog.pg_class AS c ON t.tgrelid = c.oid
    INNER JOIN pg_catalog.pg_namespace AS n ON c.relnamespace = n.oid
    WHERE n.nspname IN ('iam', 'finanzas', 'stock', 'gobernanza', 'sys', 'events', 'migration')
      AND NOT t.tgisinternal
    UNION ALL
    SELECT format('function %s.%s(%s) returns %s %s definer=%s strict=%s config=%s body=%s', n.nspname,
                  p.proname, pg_catalog.pg_get_function_arguments(p.oid), pg_catalog.pg_get_function_result(p.oid),
                  p.provolatile, p.prosecdef, p.proisstrict, p.proconfig, md5(p.prosrc))
    FROM pg_catalog.pg_proc AS p
    INNER JOIN pg_catalog.pg_namespace AS n ON p.pronamespace = n.oid
    WHERE n.nspname IN ('iam', 'finanzas', 'stock', 'gobernanza', 'sys', 'events', 'migration')
    UNION ALL
    SELECT format('view %s.%s %s', n.nspname, c.relname,
                  md5(regexp_replace(regexp_replace(pg_catalog.pg_get_viewdef(c.oid), '\m\w+\.', '', 'g'),
                                     '\s+', ' ', 'g')))
    FROM pg_catalog.pg_class AS c
    INNER JOIN pg_catalog.pg_namespace AS n ON c.relnamespace = n.oid
    WHERE n.nspname IN ('iam', 'finanzas', 'stock', 'gobernanza', 'sys', 'events', 'migration')
      AND c.relkind IN ('v', 'm')
    UNION ALL
    SELECT format('policy %s.%s.%s %s permissive=%s to=%s using=%s check=%s', n.nspname, c.relname, p.polname,
                  p.polcmd, p.polpermissive,
                  (SELECT string_agg(coalesce(r.rolname, 'public'), ',' ORDER BY r.rolname)
                   FROM unnest(p.polroles) AS role_id (oid)
                   LEFT JOIN pg_catalog.pg_roles AS r ON role_id.oid = r.oid),
                  md5(regexp_replace(coalesce(pg_catalog.pg_get_expr(p.polqual, p.polrelid), ''), '\s+', ' ', 'g')),
                  md5(regexp_replace(coalesce(pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid), ''), '\s+', ' ',
                                     'g')))
    FROM pg_catalog.pg_policy AS p
    INNER JOIN pg_catalog.pg_class AS c ON p.polrelid = c.oid
    INNER JOIN pg_catalog.pg_namespace AS n ON c.relnamespace = n.oid
    WHERE n.nspname IN ('iam', 'finanzas', 'stock', 'gobernanza', 'sys', 'events', 'migration')
    UNION ALL
    SELECT format('grant %s on %s.%s to %s grantable=%s', acl.privilege_type, n.nspname, c.relname,
                  coalesce(r.rolname, 'public'), acl.is_grantable)
    FROM pg_catalog.pg_class AS c
    INNER JOIN pg_catalog.pg_namespace AS n ON c.relnamespace = n.oid
    CROSS JOIN LATERAL aclexplode(c.relacl) AS acl
    LEFT JOIN pg_catalog.pg_roles AS r ON acl.grantee = r.oid
    WHERE n.nspname IN ('iam', 'finanzas', 'stock', 'gobernanza', 'sys', 'events', 'migration')
      AND acl.grantee <> c.relowner AND acl.privilege_type <> 'MAINTAIN'
    UNION ALL
    SELECT format('grant %s on function %s.%s(%s) to %s', acl.privilege_type, n.nspname, p.proname,
                  pg_catalog.pg_get_function_identity_arguments(p.oid), coalesce(r.rolname, 'public'))
    FROM pg_catalog.pg_proc AS p
    INNER JOIN pg_catalog.pg_namespace AS n ON p.pronamespace = n.oid
    CROSS JOIN LATERAL aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) AS acl
    LEFT JOIN pg_catalog.pg_roles AS r ON acl.grantee = r.oid
    WHERE n.nspname IN ('iam', 'finanzas', 'stock', 'gobernanza', 'sys', 'events', 'migration')
      AND acl.grantee <> p.proowner
    UNION ALL
    SELECT format('grant %s on schema %s to %s', acl.privilege_type, n.nspname, coalesce(r.rolname, 'public'))
    FROM pg_catalog.pg_namespace AS n
    CROSS JOIN LATERAL aclexplode(n.nspacl) AS acl
    LEFT JOIN pg_catalog.pg_roles AS r ON acl.grantee = r.oid
    WHERE n.nspname IN ('iam', 'finanzas', 'stock', 'gobernanza', 'sys', 'events', 'migration')
      AND acl.grantee <> n.nspowner
    UNION ALL
    SELECT format('comment %s %s', d.classoid::regclass, md5(d.description))
    FROM pg_catalog.pg_description AS d
    WHERE d.description IS NOT NULL
      AND (d.classoid = 'pg_catalog.pg_namespace'::regclass
           AND d.objoid IN (SELECT oid FROM pg_catalog.pg_namespace
                            WHERE nspname IN ('iam', 'finanzas', 'stock', 'gobernanza', 'sys', 'events', 'migration'))
           OR d.classoid = 'pg_catalog.pg_class'::regclass
           AND d.objoid IN (SELECT c.oid FROM pg_catalog.pg_class AS c
                            INNER JOIN pg_catalog.pg_namespace AS n ON c.relnamespace = n.oid
                            WHERE n.nspname IN ('iam', 'finanzas', 'stock', 'gobernanza', 'sys', 'events',
                                                'migration'))
           OR d.classoid = 'pg_catalog.pg_proc'::regclass
           AND d.objoid IN (SELECT p.oid FROM pg_catalog.pg_proc AS p
                            INNER JOIN pg_catalog.pg_namespace AS n ON p.pronamespace = n.oid
                            WHERE n.nspname IN ('iam', 'finanzas', 'stock', 'gobernanza', 'sys', 'events',
                                                'migration')))
) AS catalog_items (item)
\gset
