-- Every persona object has a description (COMMENT ON): this lists the ones that do not.
SELECT 'function ' || p.oid::regprocedure AS undocumented
FROM pg_proc p WHERE p.pronamespace = 'persona'::regnamespace AND obj_description(p.oid, 'pg_proc') IS NULL
UNION ALL
SELECT 'relation ' || c.oid::regclass
FROM pg_class c WHERE c.relnamespace = 'persona'::regnamespace AND c.relkind IN ('r', 'v', 'm')
  AND obj_description(c.oid, 'pg_class') IS NULL
UNION ALL
SELECT 'type ' || t.oid::regtype
FROM pg_type t JOIN pg_class c ON c.oid = t.typrelid AND c.relkind = 'c'
WHERE t.typnamespace = 'persona'::regnamespace AND obj_description(t.oid, 'pg_type') IS NULL
UNION ALL
SELECT 'column ' || a.attrelid::regclass || '.' || a.attname
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
WHERE c.relnamespace = 'persona'::regnamespace AND c.relkind IN ('r', 'v', 'm') AND a.attnum > 0
  AND NOT a.attisdropped AND col_description(a.attrelid, a.attnum) IS NULL
ORDER BY 1;
SELECT obj_description('persona'::regnamespace, 'pg_namespace') IS NOT NULL AS schema_documented;
