-- persona.embed_column: fill the NULL embeddings of a whole table.
--
-- Written in PL/pgSQL because it must COMMIT between batches, which only a
-- procedure can do. A batch (batch_size rows, default 256) is one transaction;
-- inside it persona.embed_batch sorts the texts by length and runs forward
-- passes of persona.batch_size texts, so that rows of very different lengths
-- are not padded to each other (half the work, on real reviews).
--
-- Each batch is a set of ctids found by a TID range scan that starts where
-- the previous batch ended, so a table is read once rather than once per
-- batch; rows whose embedding is already set are skipped, which is what makes
-- a cancelled run resumable: CALL it again and it carries on.
CREATE PROCEDURE persona.embed_column(
    tbl        regclass,
    text_col   name,
    vec_col    name,
    model      text DEFAULT NULL,
    batch_size integer DEFAULT 256
)
LANGUAGE plpgsql
AS $$
DECLARE
    batch      integer := coalesce(batch_size, 256);
    text_type  regtype;
    vec_type   regtype;
    total      bigint;
    done       bigint := 0;
    n          bigint;
    tids       tid[];
    last_tid   tid := '(0,0)';
    wrapped    boolean := false;
    started    timestamptz := clock_timestamp();
    noticed    timestamptz := clock_timestamp();
    elapsed    float8;
    pick_sql   text;
    update_sql text;
BEGIN
    IF batch < 1 OR batch > 100000 THEN
        RAISE EXCEPTION 'batch_size must be between 1 and 100000, not %', batch
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    SELECT a.atttypid::regtype INTO text_type
      FROM pg_catalog.pg_attribute a
     WHERE a.attrelid = tbl AND a.attname = text_col AND a.attnum > 0 AND NOT a.attisdropped;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'column "%" of relation % does not exist', text_col, tbl
            USING ERRCODE = 'undefined_column',
                  HINT = 'The second argument names the column that holds the text to embed.';
    END IF;
    SELECT a.atttypid::regtype INTO vec_type
      FROM pg_catalog.pg_attribute a
     WHERE a.attrelid = tbl AND a.attname = vec_col AND a.attnum > 0 AND NOT a.attisdropped;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'column "%" of relation % does not exist', vec_col, tbl
            USING ERRCODE = 'undefined_column',
                  HINT = format('Add it with: ALTER TABLE %s ADD COLUMN %I real[];', tbl, vec_col);
    END IF;
    IF text_type NOT IN ('text'::regtype, 'character varying'::regtype, 'character'::regtype) THEN
        RAISE EXCEPTION 'column "%" of relation % is of type %, not text', text_col, tbl, text_type
            USING ERRCODE = 'datatype_mismatch',
                  HINT = 'The text column must be text, varchar or char.';
    END IF;
    IF vec_type <> 'real[]'::regtype THEN
        RAISE EXCEPTION 'column "%" of relation % is of type %, not real[]', vec_col, tbl, vec_type
            USING ERRCODE = 'datatype_mismatch',
                  HINT = 'Embeddings are stored as real[]; cast to pgvector''s vector when reading if you need it.';
    END IF;

    -- Fail on an unknown or broken model before scanning anything.
    PERFORM persona.embed('', model);

    -- Shown in persona.progress until the end; an error or cancel ends it too.
    PERFORM persona._progress_begin('embed_column', 'counting rows', 'rows', NULL);
    EXECUTE format('SELECT count(*) FROM %s WHERE %I IS NULL AND %I IS NOT NULL', tbl, vec_col, text_col)
       INTO total;
    IF total = 0 THEN
        PERFORM persona._progress_end();
        RAISE NOTICE 'embed_column: no row of % needs an embedding', tbl;
        RETURN;
    END IF;
    RAISE NOTICE 'embed_column: % rows of % to embed', total, tbl;
    PERFORM persona._progress_update(0, 'embedding', total);

    pick_sql := format(
        'SELECT array_agg(ctid) FROM (SELECT ctid FROM %s WHERE ctid > $1 AND %I IS NULL AND %I IS NOT NULL LIMIT %s) s',
        tbl, vec_col, text_col, batch);
    update_sql := format(
        'WITH b AS (SELECT ctid AS tid, %2$I::text AS txt FROM %1$s
                     WHERE ctid = ANY($1) AND %3$I IS NULL AND %2$I IS NOT NULL),
              a AS (SELECT array_agg(tid) AS tids, array_agg(txt) AS txts FROM b),
              e AS (SELECT a.tids[x.ord] AS tid, x.embedding FROM a, persona.embed_batch(a.txts, $2) x)
         UPDATE %1$s t SET %3$I = e.embedding FROM e WHERE t.ctid = e.tid',
        tbl, text_col, vec_col);

    LOOP
        EXECUTE pick_sql INTO tids USING last_tid;
        IF tids IS NULL THEN
            -- Reached the end of the table. Rows behind the start point
            -- (inserted meanwhile into free space) get one more pass.
            EXIT WHEN wrapped;
            wrapped := true;
            last_tid := '(0,0)';
            PERFORM persona._progress_update(done, 'embedding rows added meanwhile');
            CONTINUE;
        END IF;
        SELECT max(x) INTO last_tid FROM unnest(tids) x;
        EXECUTE update_sql USING tids, model;
        GET DIAGNOSTICS n = ROW_COUNT;
        done := done + n;
        COMMIT;
        PERFORM persona._progress_update(done);
        IF clock_timestamp() - noticed >= interval '5 seconds' THEN
            elapsed := extract(epoch FROM clock_timestamp() - started);
            RAISE NOTICE 'embed_column: % of % rows, % rows/s, about % s left',
                done, total, round((done / elapsed)::numeric, 1),
                round((greatest(total - done, 0) / greatest(done / elapsed, 1e-9))::numeric);
            noticed := clock_timestamp();
        END IF;
    END LOOP;

    PERFORM persona._progress_end();
    elapsed := greatest(extract(epoch FROM clock_timestamp() - started), 1e-9);
    RAISE NOTICE 'embed_column: embedded % rows of % in % s (% rows/s)',
        done, tbl, round(elapsed::numeric, 1), round((done / elapsed)::numeric, 1);
END
$$;
