-- Reading the caller's sources from PL/pgSQL: persona._source() (src/source.rs)
-- makes a FROM item of a table, view or parenthesised query; the helpers
-- here check a source's columns, run a model owner's stored sources with
-- that owner's rights only, and tidy temporary tables.

-- Drops the named temporary tables of an earlier call in this transaction
-- (they are dropped at commit anyway), without DROP IF EXISTS's NOTICEs.
CREATE FUNCTION persona._drop_temp(names text[]) RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY names LOOP
        IF to_regclass('pg_temp.' || quote_ident(t)) IS NOT NULL THEN
            EXECUTE format('DROP TABLE pg_temp.%I', t);
        END IF;
    END LOOP;
END
$$;

-- The type of a column of a source, checked against a kind of type:
-- 'integer', 'time', 'number', 'vector' or 'any'. 42703 when the column is
-- missing, 42804 when its type does not fit.
CREATE FUNCTION persona._column_type(source text, col text, kind text, argument text) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    t text;
    ok boolean;
BEGIN
    IF col IS NULL OR col = '' THEN
        RAISE EXCEPTION '% must name a column', argument USING ERRCODE = 'invalid_parameter_value';
    END IF;
    BEGIN
        -- pg_typeof() reports the declared type even of the NULL row the
        -- outer join makes, so this works on empty sources and reads no rows.
        EXECUTE format('SELECT pg_typeof(s.%I)::text FROM (SELECT * FROM %s persona_source LIMIT 0) s RIGHT JOIN (SELECT 1) one ON true',
                       col, persona._source(source, argument))
            INTO t;
    EXCEPTION WHEN undefined_column THEN
        RAISE EXCEPTION 'column "%" of % does not exist', col, source
            USING ERRCODE = 'undefined_column',
                  HINT = format('Name the column with the %s argument.', argument);
    END;
    ok := CASE kind
        WHEN 'integer' THEN t IN ('smallint', 'integer', 'bigint')
        WHEN 'time' THEN t IN ('timestamp with time zone', 'timestamp without time zone', 'date')
        WHEN 'number' THEN t IN ('smallint', 'integer', 'bigint', 'numeric', 'real', 'double precision')
        WHEN 'vector' THEN t IN ('real[]', 'double precision[]')
        ELSE true END;
    IF NOT ok THEN
        RAISE EXCEPTION 'column "%" of % is of type %, not %', col, source, t,
            CASE kind WHEN 'integer' THEN 'an integer type'
                      WHEN 'time' THEN 'a timestamp or date'
                      WHEN 'number' THEN 'a numeric type'
                      ELSE 'real[]' END
            USING ERRCODE = 'datatype_mismatch',
                  HINT = CASE kind WHEN 'integer' THEN 'Map user and item keys to integer ids first, for example with a lookup table.'
                                   WHEN 'vector' THEN 'Fill the column with persona.embed_column() or persona.embed().'
                                   ELSE format('Cast the column in a query source, for example (SELECT ..., %I::timestamptz ...).', col) END;
    END IF;
    RETURN t;
END
$$;

-- Runs one statement that reads a model's stored sources as the model's
-- owner (persona._as_owner: security-restricted, the owner's rights only),
-- after letting the owner read and fill the named temporary tables of the
-- caller. Returns what persona._as_owner returns.
CREATE FUNCTION persona._read_as(p_owner regrole, p_query text, p_temps text[] DEFAULT '{}', p_args text[] DEFAULT '{}')
RETURNS jsonb
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    t text;
BEGIN
    IF p_owner::oid <> (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname = current_user) THEN
        FOREACH t IN ARRAY p_temps LOOP
            EXECUTE format('GRANT SELECT, INSERT ON pg_temp.%I TO %s', t, p_owner);
        END LOOP;
    END IF;
    RETURN persona._as_owner(p_owner::oid, p_query, p_args);
END
$$;
