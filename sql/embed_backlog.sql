-- The work of persona.embed_on_change(): persona.embed_backlog_step() embeds
-- queued rows one transaction at a time (the background refreshers call it
-- as the registration's owner), persona.embed_pending() loops it with
-- COMMITs, and the view persona.fresh_columns shows each column's state.
-- The tables, triggers and registration are in embed_on_change.sql.

-- Embeds the given queued keys of one registration: reads their rows' texts
-- (no lock), embeds them with one embed_batch call, then writes each vector
-- only where the row still has the text embedded. Raises on any failure: the
-- caller decides between the whole batch and one key at a time.
CREATE FUNCTION persona._fresh_apply(registration bigint, keys text[], OUT updated text[], OUT embedded integer)
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    g      persona.fresh_registrations;
    ktype  text;
    got    text[];
    texts  text[];
    upd    text;
    e      record;
    n      bigint;
BEGIN
    IF registration IS NULL OR keys IS NULL THEN
        RAISE EXCEPTION '% must not be NULL', CASE WHEN registration IS NULL THEN 'registration' ELSE 'keys' END
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT * INTO g FROM persona.fresh_registrations r WHERE r.id = registration;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no registration %', registration USING ERRCODE = 'undefined_object';
    END IF;
    ktype := persona._fresh_check(g.tbl, g.key_col, g.text_col, g.vec_col);
    updated := '{}';
    embedded := 0;
    EXECUTE format('SELECT array_agg(k.key ORDER BY k.ord), array_agg(t.%2$I::text ORDER BY k.ord)
                      FROM unnest($1::text[]) WITH ORDINALITY AS k(key, ord) JOIN %1$s t ON t.%3$I = k.key::%4$s',
                   g.tbl, g.text_col, g.key_col, ktype)
       INTO got, texts USING keys;
    IF got IS NULL THEN
        RETURN;  -- every row deleted since it was queued
    END IF;
    upd := format('UPDATE %1$s t SET %2$I = $1 WHERE t.%3$I = $2::%4$s AND t.%5$I::text IS NOT DISTINCT FROM $3
                     AND t.%2$I IS DISTINCT FROM $1', g.tbl, g.vec_col, g.key_col, ktype, g.text_col);
    -- embed_batch computes every vector on its first row, so the forward
    -- passes are over before the first user row is locked by an UPDATE.
    FOR e IN SELECT x.ord, x.embedding FROM persona.embed_batch(texts, g.model) x LOOP
        EXECUTE upd USING e.embedding, got[e.ord], texts[e.ord];
        GET DIAGNOSTICS n = ROW_COUNT;
        IF n > 0 THEN
            updated := updated || got[e.ord];
            embedded := embedded + (texts[e.ord] IS NOT NULL)::integer;
        END IF;
    END LOOP;
END
$$;

CREATE FUNCTION persona.embed_backlog_step(batch_size integer DEFAULT 64) RETURNS integer
-- A fixed search_path: the background refresher runs this as the owner with
-- whatever search_path the database sets, where a function or operator in
-- a writable schema could otherwise shadow pg_catalog's.
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    me      oid := (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname = current_user);
    g       record;
    ids     bigint[];
    keys    text[];
    k       text;
    res     record;
    done    text[];
    emb     integer;
    failed  integer;
    st      text;
    msg     text;
BEGIN
    IF batch_size IS NULL THEN
        RAISE EXCEPTION 'batch_size must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF batch_size < 1 OR batch_size > 10000 THEN
        RAISE EXCEPTION 'batch_size must be between 1 and 10000, not %', batch_size USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- Registrations whose table was dropped go, with their queues.
    DELETE FROM persona.fresh_registrations d
     WHERE d.owner::oid = me AND NOT EXISTS (SELECT FROM pg_catalog.pg_class c WHERE c.oid = d.tbl::oid);

    -- Only registrations the current user owns itself, not those of roles it
    -- is a member of: the worker runs each owner's work as that owner.
    -- The one waiting longest goes first; one registration per call.
    FOR g IN
        SELECT d.* FROM persona.fresh_registrations d
         CROSS JOIN LATERAL (SELECT b.id FROM persona.fresh_backlog b WHERE b.registration = d.id ORDER BY b.id LIMIT 1) f
         WHERE d.owner::oid = me ORDER BY f.id
    LOOP
        -- Problems of the whole registration keep its rows queued.
        BEGIN
            PERFORM persona._fresh_check(g.tbl, g.key_col, g.text_col, g.vec_col);
            IF NOT (has_column_privilege(g.tbl, g.key_col::text, 'SELECT') AND has_column_privilege(g.tbl, g.text_col::text, 'SELECT')
                    AND has_column_privilege(g.tbl, g.vec_col::text, 'UPDATE')) THEN
                RAISE EXCEPTION 'permission denied to read %.% or %.% or to update %.%',
                    g.tbl, quote_ident(g.key_col), g.tbl, quote_ident(g.text_col), g.tbl, quote_ident(g.vec_col)
                    USING ERRCODE = 'insufficient_privilege';
            END IF;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
            UPDATE persona.fresh_registrations d SET last_error = msg, last_error_at = clock_timestamp() WHERE d.id = g.id;
            CONTINUE;
        END;
        SELECT array_agg(t.id), array_agg(t.key) INTO ids, keys FROM (
            SELECT b.id, b.key FROM persona.fresh_backlog b WHERE b.registration = g.id
             ORDER BY b.id LIMIT batch_size FOR UPDATE SKIP LOCKED) t;
        CONTINUE WHEN ids IS NULL;  -- all taken by another step
        SELECT array_agg(DISTINCT u.k) INTO keys FROM unnest(keys) u(k);
        done := '{}';
        emb := 0;
        failed := 0;
        BEGIN
            SELECT * INTO res FROM persona._fresh_apply(g.id, keys);
            done := res.updated;
            emb := res.embedded;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
            -- Deadlocks, lack of memory, shutdown, the embedder worker
            -- restarting (58000): the whole step is tried again later.
            IF left(st, 2) IN ('40', '53', '55', '57') OR st IN ('58000', '58030') THEN
                RAISE;
            END IF;
            -- A model that cannot embed anything fails every row alike.
            BEGIN
                PERFORM persona.embed('', g.model);
            EXCEPTION WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
                UPDATE persona.fresh_registrations d SET last_error = msg, last_error_at = clock_timestamp() WHERE d.id = g.id;
                CONTINUE;
            END;
            -- Otherwise some rows are bad: one at a time, and the bad ones are
            -- recorded and leave the queue (queued again only when their text changes).
            FOREACH k IN ARRAY keys LOOP
                BEGIN
                    SELECT * INTO res FROM persona._fresh_apply(g.id, ARRAY[k]);
                    done := done || res.updated;
                    emb := emb + res.embedded;
                EXCEPTION WHEN OTHERS THEN
                    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
                    IF left(st, 2) IN ('40', '53', '55', '57') OR st IN ('58000', '58030') THEN
                        RAISE;
                    END IF;
                    INSERT INTO persona.fresh_errors AS x (registration, key, message, sqlstate) VALUES (g.id, k, msg, st)
                    ON CONFLICT (registration, key) DO UPDATE
                        SET message = excluded.message, sqlstate = excluded.sqlstate, failed_at = now(), attempts = x.attempts + 1;
                    failed := failed + 1;
                END;
            END LOOP;
        END;
        DELETE FROM persona.fresh_backlog b WHERE b.registration = g.id AND b.id = ANY (ids);
        IF cardinality(done) > 0 THEN
            DELETE FROM persona.fresh_errors x WHERE x.registration = g.id AND x.key = ANY (done);
        END IF;
        UPDATE persona.fresh_registrations d
           SET rows_embedded = d.rows_embedded + emb, rows_failed = d.rows_failed + failed,
               last_batch_at = clock_timestamp(), last_batch_rows = cardinality(ids), last_error = NULL
         WHERE d.id = g.id;
        RETURN cardinality(ids);
    END LOOP;
    RETURN 0;
END
$$;

-- For manual use and pg_cron without the background worker; a procedure so
-- that each batch commits on its own.
CREATE PROCEDURE persona.embed_pending(batch_size integer DEFAULT 64)
LANGUAGE plpgsql AS $$
DECLARE
    n     integer;
    total bigint := 0;
BEGIN
    LOOP
        n := persona.embed_backlog_step(batch_size);
        EXIT WHEN n = 0;
        total := total + n;
        COMMIT;
    END LOOP;
    RAISE NOTICE 'embed_pending: % queued rows handled', total;
END
$$;

-- security_invoker: each reader sees the registrations its own rights show.
CREATE VIEW persona.fresh_columns WITH (security_invoker = true) AS
SELECT g.id, g.owner, g.tbl AS table_name, g.key_col, g.text_col, g.vec_col, g.model,
       q.backlog,
       coalesce(statement_timestamp() - q.oldest, interval '0') AS lag,
       g.last_batch_at, g.last_batch_rows, g.rows_embedded,
       (SELECT count(*) FROM persona.fresh_errors x WHERE x.registration = g.id) AS errors,
       g.rows_failed, g.last_error, g.last_error_at, g.created_at
FROM persona.fresh_registrations g
CROSS JOIN LATERAL (SELECT count(*) AS backlog, min(b.queued_at) AS oldest
                    FROM persona.fresh_backlog b WHERE b.registration = g.id) q;
GRANT SELECT ON persona.fresh_columns TO PUBLIC;

COMMENT ON COLUMN persona.fresh_registrations.owner IS 'The role that registered the column; persona.embed_backlog_step() run as this role does its work, with its rights.';
COMMENT ON VIEW persona.fresh_columns IS
  'Each column kept fresh by persona.embed_on_change() that you can see, with its backlog (rows waiting), lag (age of the oldest waiting row, 0 when none), last batch, rows embedded and errors.';
COMMENT ON COLUMN persona.fresh_columns.id IS 'Registration number (persona.fresh_registrations.id).';
COMMENT ON COLUMN persona.fresh_columns.owner IS 'The role whose rights the embedding runs with.';
COMMENT ON COLUMN persona.fresh_columns.table_name IS 'The table.';
COMMENT ON COLUMN persona.fresh_columns.key_col IS 'The key column.';
COMMENT ON COLUMN persona.fresh_columns.text_col IS 'The text column.';
COMMENT ON COLUMN persona.fresh_columns.vec_col IS 'The vector column.';
COMMENT ON COLUMN persona.fresh_columns.model IS 'The model.';
COMMENT ON COLUMN persona.fresh_columns.backlog IS 'Rows waiting for an embedding.';
COMMENT ON COLUMN persona.fresh_columns.lag IS 'Age of the oldest waiting row; 0 when nothing waits.';
COMMENT ON COLUMN persona.fresh_columns.last_batch_at IS 'When the last batch committed.';
COMMENT ON COLUMN persona.fresh_columns.last_batch_rows IS 'Rows the last batch handled.';
COMMENT ON COLUMN persona.fresh_columns.rows_embedded IS 'Vectors written since registration.';
COMMENT ON COLUMN persona.fresh_columns.errors IS 'Rows in persona.fresh_errors now (failed, not retried until their text changes).';
COMMENT ON COLUMN persona.fresh_columns.rows_failed IS 'Rows that failed since registration.';
COMMENT ON COLUMN persona.fresh_columns.last_error IS 'Why nothing is being embedded, if something stops the whole column (model, renamed column, privileges).';
COMMENT ON COLUMN persona.fresh_columns.last_error_at IS 'When last_error was last seen.';
COMMENT ON COLUMN persona.fresh_columns.created_at IS 'When the column was registered.';
COMMENT ON FUNCTION persona.embed_backlog_step(integer) IS
  'Embeds up to batch_size queued rows of one column registered by the current user, in the caller''s transaction, and returns how many queued rows it handled (0: nothing to do). The background embedder calls it as each owner; call it yourself, or CALL persona.embed_pending(), without one.';
COMMENT ON PROCEDURE persona.embed_pending(integer) IS
  'Runs persona.embed_backlog_step() until nothing the current user registered waits, committing after each batch. For manual use and for pg_cron without the background embedder.';
COMMENT ON FUNCTION persona._fresh_apply(bigint, text[]) IS
  'Internal: embeds the given queued keys of one registration with one persona.embed_batch() call and writes each vector where the row still has the embedded text.';
