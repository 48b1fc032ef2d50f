-- persona.embed_on_change: embedding columns that keep themselves fresh.
--
-- Triggers on the user's table only queue keys (persona.fresh_backlog); the
-- embedding is done later by persona.embed_backlog_step() (embed_backlog.sql), which the
-- background embedder calls as the registration's owner, one transaction per
-- batch. A user's INSERT or UPDATE therefore costs one small write to the
-- backlog, never a forward pass, and user rows are locked only by the step's
-- own short UPDATE of the vector column.
--
-- Race-freedom without making writers wait: a step locks the backlog rows it
-- takes (FOR UPDATE SKIP LOCKED). A trigger that finds its key already queued
-- skips the insert only if it can key-share-lock that queued row; a row
-- locked by a step is being embedded, possibly from a text read before this
-- change, so the key is queued again. The step writes a vector only where the
-- row still holds the text it embedded.

CREATE SEQUENCE persona.fresh_registration_ids;
CREATE SEQUENCE persona.fresh_backlog_ids;

CREATE TABLE persona.fresh_registrations (
    id              bigint PRIMARY KEY DEFAULT nextval('persona.fresh_registration_ids'),
    owner           regrole NOT NULL,
    -- regclass, not oid: pg_dump writes the name, so a restore re-points it.
    tbl             regclass NOT NULL,
    key_col         name NOT NULL,
    text_col        name NOT NULL,
    vec_col         name NOT NULL,
    -- Resolved at registration: vectors of two models must not mix in one column.
    model           text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    rows_embedded   bigint NOT NULL DEFAULT 0,
    rows_failed     bigint NOT NULL DEFAULT 0,
    last_batch_at   timestamptz,
    last_batch_rows integer,
    last_error      text,
    last_error_at   timestamptz,
    UNIQUE (tbl, vec_col)
);

-- No foreign key to the registrations: a 1,000-row INSERT would run 1,000
-- referential checks; persona._fresh_forget() removes the rows instead.
CREATE TABLE persona.fresh_backlog (
    registration bigint NOT NULL,
    id           bigint NOT NULL DEFAULT nextval('persona.fresh_backlog_ids'),
    -- The key's text form (its type's output function), cast back by the step.
    key          text NOT NULL,
    queued_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (registration, id)
);
CREATE INDEX fresh_backlog_key ON persona.fresh_backlog (registration, key);

CREATE TABLE persona.fresh_errors (
    registration bigint NOT NULL,
    key          text NOT NULL,
    message      text NOT NULL,
    sqlstate     text NOT NULL,
    failed_at    timestamptz NOT NULL DEFAULT now(),
    attempts     integer NOT NULL DEFAULT 1,
    PRIMARY KEY (registration, key)
);

SELECT pg_catalog.pg_extension_config_dump('persona.fresh_registrations', '');
SELECT pg_catalog.pg_extension_config_dump('persona.fresh_backlog', '');
SELECT pg_catalog.pg_extension_config_dump('persona.fresh_errors', '');
SELECT pg_catalog.pg_extension_config_dump('persona.fresh_registration_ids', '');
SELECT pg_catalog.pg_extension_config_dump('persona.fresh_backlog_ids', '');

-- A role sees the registrations of the roles it is a member of (superusers
-- all of them), and may only register tables whose owner it is a member of.
-- The backlog and error rows follow their registration: the sub-select is
-- itself filtered by the registrations' policies.
ALTER TABLE persona.fresh_registrations ENABLE ROW LEVEL SECURITY;
CREATE POLICY fresh_registrations_read ON persona.fresh_registrations FOR SELECT
    USING (pg_catalog.pg_has_role(owner::oid, 'MEMBER'));
CREATE POLICY fresh_registrations_insert ON persona.fresh_registrations FOR INSERT
    WITH CHECK (pg_catalog.pg_has_role(owner::oid, 'MEMBER')
                AND pg_catalog.pg_has_role((SELECT c.relowner FROM pg_catalog.pg_class c WHERE c.oid = tbl::oid), 'MEMBER'));
CREATE POLICY fresh_registrations_update ON persona.fresh_registrations FOR UPDATE
    USING (pg_catalog.pg_has_role(owner::oid, 'MEMBER')) WITH CHECK (pg_catalog.pg_has_role(owner::oid, 'MEMBER'));
CREATE POLICY fresh_registrations_delete ON persona.fresh_registrations FOR DELETE
    USING (pg_catalog.pg_has_role(owner::oid, 'MEMBER'));
ALTER TABLE persona.fresh_backlog ENABLE ROW LEVEL SECURITY;
CREATE POLICY fresh_backlog_mine ON persona.fresh_backlog
    USING (registration IN (SELECT g.id FROM persona.fresh_registrations g))
    WITH CHECK (registration IN (SELECT g.id FROM persona.fresh_registrations g));
ALTER TABLE persona.fresh_errors ENABLE ROW LEVEL SECURITY;
CREATE POLICY fresh_errors_mine ON persona.fresh_errors
    USING (registration IN (SELECT g.id FROM persona.fresh_registrations g))
    WITH CHECK (registration IN (SELECT g.id FROM persona.fresh_registrations g));

-- The step runs with the owner's own rights, so the owner needs these; the
-- policies above decide which rows. Ids and times come from the defaults
-- (persona._fresh_notify() trusts created_at); owner and table of a
-- registration are not updatable (the trigger trusts them).
GRANT USAGE ON SEQUENCE persona.fresh_registration_ids, persona.fresh_backlog_ids TO PUBLIC;
GRANT SELECT, DELETE ON persona.fresh_registrations TO PUBLIC;
GRANT INSERT (owner, tbl, key_col, text_col, vec_col, model) ON persona.fresh_registrations TO PUBLIC;
GRANT UPDATE (key_col, text_col, vec_col, model, rows_embedded, rows_failed, last_batch_at, last_batch_rows,
              last_error, last_error_at) ON persona.fresh_registrations TO PUBLIC;
GRANT SELECT, DELETE ON persona.fresh_backlog TO PUBLIC;
GRANT INSERT (registration, key) ON persona.fresh_backlog TO PUBLIC;
GRANT UPDATE (queued_at) ON persona.fresh_backlog TO PUBLIC;  -- SELECT ... FOR UPDATE needs it
GRANT SELECT, INSERT, UPDATE, DELETE ON persona.fresh_errors TO PUBLIC;

-- Checks the columns of a registration as they are now; returns the key's
-- type for casting queued keys back. Shared by registration and the step (a
-- column renamed since is the registration's error, not the worker's).
CREATE FUNCTION persona._fresh_check(tbl regclass, key_col name, text_col name, vec_col name) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    kind  "char";
    ktype text;
    ttype regtype;
    vtype regtype;
    vgen  "char";
    towner name;
BEGIN
    IF tbl IS NULL OR key_col IS NULL OR text_col IS NULL OR vec_col IS NULL THEN
        RAISE EXCEPTION '% must not be NULL',
            CASE WHEN tbl IS NULL THEN 'tbl' WHEN key_col IS NULL THEN 'key_col' WHEN text_col IS NULL THEN 'text_col' ELSE 'vec_col' END
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT c.relkind INTO kind FROM pg_catalog.pg_class c WHERE c.oid = tbl::oid;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'relation with OID % does not exist', tbl::oid USING ERRCODE = 'undefined_table';
    END IF;
    IF kind NOT IN ('r', 'p') THEN
        RAISE EXCEPTION '% is not a table', tbl USING ERRCODE = 'wrong_object_type',
            HINT = 'Register the table the view or foreign table reads from.';
    END IF;
    -- The step runs the table's triggers, policies and constraints with the
    -- registration owner's rights, at every later write by anyone: a
    -- superuser's registration would lend them superuser.
    SELECT o.rolname INTO towner
      FROM pg_catalog.pg_class c JOIN pg_catalog.pg_roles o ON o.oid = c.relowner
     WHERE c.oid = tbl::oid AND NOT o.rolsuper
       AND (SELECT m.rolsuper FROM pg_catalog.pg_roles m WHERE m.rolname = current_user);
    IF FOUND THEN
        RAISE EXCEPTION 'a superuser may not keep the embeddings of % fresh: it belongs to role "%"', tbl, towner
            USING ERRCODE = 'insufficient_privilege',
                  HINT = pg_catalog.format('Register it as its owner: SET ROLE %I, then call persona.embed_on_change().', towner);
    END IF;
    SELECT pg_catalog.format_type(a.atttypid, NULL) INTO ktype
      FROM pg_catalog.pg_attribute a WHERE a.attrelid = tbl AND a.attname = key_col AND a.attnum > 0 AND NOT a.attisdropped;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'column "%" of relation % does not exist', key_col, tbl USING ERRCODE = 'undefined_column';
    END IF;
    SELECT a.atttypid::regtype INTO ttype
      FROM pg_catalog.pg_attribute a WHERE a.attrelid = tbl AND a.attname = text_col AND a.attnum > 0 AND NOT a.attisdropped;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'column "%" of relation % does not exist', text_col, tbl USING ERRCODE = 'undefined_column',
            HINT = 'The second argument names the column that holds the text to embed.';
    END IF;
    SELECT a.atttypid::regtype, a.attgenerated INTO vtype, vgen
      FROM pg_catalog.pg_attribute a WHERE a.attrelid = tbl AND a.attname = vec_col AND a.attnum > 0 AND NOT a.attisdropped;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'column "%" of relation % does not exist', vec_col, tbl USING ERRCODE = 'undefined_column',
            HINT = pg_catalog.format('Add it with: ALTER TABLE %s ADD COLUMN %I real[];', tbl, vec_col);
    END IF;
    IF ttype NOT IN ('text'::regtype, 'character varying'::regtype, 'character'::regtype) THEN
        RAISE EXCEPTION 'column "%" of relation % is of type %, not text', text_col, tbl, ttype
            USING ERRCODE = 'datatype_mismatch', HINT = 'The text column must be text, varchar or char.';
    END IF;
    IF vtype <> 'real[]'::regtype THEN
        RAISE EXCEPTION 'column "%" of relation % is of type %, not real[]', vec_col, tbl, vtype
            USING ERRCODE = 'datatype_mismatch',
                  HINT = 'Embeddings are stored as real[]; cast to pgvector''s vector when reading if you need it.';
    END IF;
    IF vgen <> '' THEN
        RAISE EXCEPTION 'column "%" of relation % is a generated column', vec_col, tbl USING ERRCODE = 'generated_always';
    END IF;
    IF key_col = vec_col THEN
        RAISE EXCEPTION 'the key column cannot be the vector column' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN ktype;
END
$$;

-- The trigger: queues keys, nothing else. SECURITY DEFINER because whoever
-- writes the user's table may not write persona's; it runs no user code (keys
-- become text through their type's output function, never a user cast) and
-- only queues into the registration of the table it fires on. The settings
-- make the key's text form one that every session casts back to the same value.
CREATE FUNCTION persona._fresh_queue() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET datestyle = 'ISO, YMD' SET intervalstyle = 'postgres' SET extra_float_digits = 3
AS $$
DECLARE
    reg_id    bigint;
    reg_owner oid;
    reg_key   name;
    key_ok    boolean;
    one       text;
    keys      text[];
    n         bigint;
BEGIN
    IF TG_WHEN <> 'AFTER' OR TG_NARGS <> 1 OR TG_ARGV[0] !~ '^[0-9]{1,18}$' THEN
        RAISE EXCEPTION 'persona._fresh_queue() is installed by persona.embed_on_change(), not by hand'
            USING ERRCODE = 'trigger_protocol_violated';
    END IF;
    SELECT g.id, g.owner::oid, g.key_col, a.attnum IS NOT NULL INTO reg_id, reg_owner, reg_key, key_ok
      FROM persona.fresh_registrations g
      LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = g.tbl AND a.attname = g.key_col AND a.attnum > 0 AND NOT a.attisdropped
     WHERE g.id = TG_ARGV[0]::bigint AND g.tbl::oid = TG_RELID;
    IF NOT FOUND THEN
        RETURN NULL;  -- registration deleted by hand, or a trigger copied to another table
    END IF;
    IF NOT key_ok THEN
        RAISE EXCEPTION 'column "%" of relation %, the key of its persona.embed_on_change registration, does not exist',
            reg_key, TG_RELID::regclass USING ERRCODE = 'undefined_column',
            HINT = 'Set the new name with UPDATE persona.fresh_registrations SET key_col = ..., or drop the registration with persona.embed_on_change_drop().';
    END IF;
    IF TG_LEVEL = 'ROW' THEN
        EXECUTE pg_catalog.format('SELECT pg_catalog.format(''%%s'', ($1).%I)', reg_key) INTO one USING NEW;
        keys := ARRAY[one];
    ELSE
        EXECUTE pg_catalog.format('SELECT pg_catalog.array_agg(DISTINCT pg_catalog.format(''%%s'', n.%1$I)) FROM persona_new n WHERE n.%1$I IS NOT NULL',
                                  reg_key) INTO keys;
    END IF;
    IF keys IS NULL THEN
        RETURN NULL;
    END IF;
    IF pg_catalog.current_setting('transaction_isolation') = 'read committed' THEN
        WITH present AS MATERIALIZED (
            SELECT b.key FROM persona.fresh_backlog b
             WHERE b.registration = reg_id AND b.key = ANY (keys)
               FOR KEY SHARE SKIP LOCKED)
        INSERT INTO persona.fresh_backlog (registration, key)
        SELECT reg_id, k.key FROM pg_catalog.unnest(keys) AS k(key)
         WHERE NOT EXISTS (SELECT FROM present p WHERE p.key = k.key);
    ELSE
        -- Above read committed, locking a queued row that a step deleted
        -- after this snapshot would fail the writer's transaction (40001):
        -- queue duplicates instead; a step embeds a key once per batch.
        INSERT INTO persona.fresh_backlog (registration, key) SELECT reg_id, k.key FROM pg_catalog.unnest(keys) AS k(key);
    END IF;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n > 0 THEN
        PERFORM persona._embedder_notify(reg_owner);
    END IF;
    RETURN NULL;
END
$$;

-- Deleting a registration deletes its queue and error rows. Checks the table
-- it fires on, so a trigger copied onto another table cannot delete others' rows.
CREATE FUNCTION persona._fresh_forget() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF TG_RELID <> 'persona.fresh_registrations'::regclass OR TG_LEVEL <> 'STATEMENT' OR TG_OP <> 'DELETE' THEN
        RAISE EXCEPTION 'persona._fresh_forget() belongs to persona.fresh_registrations' USING ERRCODE = 'trigger_protocol_violated';
    END IF;
    DELETE FROM persona.fresh_backlog b WHERE b.registration IN (SELECT o.id FROM persona_old o);
    DELETE FROM persona.fresh_errors e WHERE e.registration IN (SELECT o.id FROM persona_old o);
    RETURN NULL;
END
$$;
CREATE TRIGGER fresh_forget AFTER DELETE ON persona.fresh_registrations
    REFERENCING OLD TABLE AS persona_old FOR EACH STATEMENT EXECUTE FUNCTION persona._fresh_forget();

-- persona._embedder_notify() is not for PUBLIC (it starts a worker as the
-- role it names). A registration's backfill wakes the worker through this,
-- which only the transaction that created the registration can use.
CREATE FUNCTION persona._fresh_notify(registration bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    o oid;
BEGIN
    SELECT g.owner::oid INTO o FROM persona.fresh_registrations g
     WHERE g.id = _fresh_notify.registration AND g.created_at = pg_catalog.now();
    IF FOUND THEN
        PERFORM persona._embedder_notify(o);
    END IF;
END
$$;

CREATE FUNCTION persona.embed_on_change(
    tbl      regclass,
    text_col name,
    vec_col  name,
    model    text DEFAULT NULL,
    key_col  name DEFAULT NULL,
    backfill boolean DEFAULT true
) RETURNS bigint
LANGUAGE plpgsql VOLATILE
-- pg_catalog first: the trigger's WHEN clause binds pg_catalog's operators and
-- tbl prints schema-qualified; the date settings as in persona._fresh_queue().
SET search_path = pg_catalog, pg_temp
SET datestyle = 'ISO, YMD' SET intervalstyle = 'postgres' SET extra_float_digits = 3
AS $$
#variable_conflict use_variable
DECLARE
    me       oid := (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname = current_user);
    relowner oid;
    kind     "char";
    v_key    name := key_col;
    v_model  text := coalesce(model, nullif(current_setting('persona.default_model', true), ''), 'all-MiniLM-L6-v2');
    nkeys    integer;
    v_id     bigint;
    queued   bigint := 0;
BEGIN
    IF tbl IS NULL OR text_col IS NULL OR vec_col IS NULL OR backfill IS NULL THEN
        RAISE EXCEPTION '% must not be NULL',
            CASE WHEN tbl IS NULL THEN 'tbl' WHEN text_col IS NULL THEN 'text_col' WHEN vec_col IS NULL THEN 'vec_col' ELSE 'backfill' END
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT c.relowner, c.relkind INTO relowner, kind FROM pg_catalog.pg_class c WHERE c.oid = tbl::oid;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'relation with OID % does not exist', tbl::oid USING ERRCODE = 'undefined_table';
    END IF;
    IF kind NOT IN ('r', 'p') THEN
        PERFORM persona._fresh_check(tbl, text_col, text_col, vec_col);  -- says why
    END IF;
    IF NOT pg_catalog.pg_has_role(relowner, 'MEMBER') THEN
        RAISE EXCEPTION 'must be owner of table % to keep its embeddings fresh', tbl USING ERRCODE = 'insufficient_privilege',
            HINT = 'Only the table''s owner, members of the owning role and superusers may register it.';
    END IF;
    IF v_key IS NULL THEN
        SELECT i.indnkeyatts, a.attname INTO nkeys, v_key
          FROM pg_catalog.pg_index i LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
         WHERE i.indrelid = tbl::oid AND i.indisprimary;
        IF NOT FOUND OR nkeys <> 1 THEN
            RAISE EXCEPTION 'table % has no single-column primary key', tbl USING ERRCODE = 'invalid_table_definition',
                HINT = 'Rows are found again by one key column: add a single-column primary key, or name a unique NOT NULL column with key_col.';
        END IF;
    END IF;
    PERFORM persona._fresh_check(tbl, v_key, text_col, vec_col);
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_index i JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                    WHERE i.indrelid = tbl::oid AND i.indisunique AND i.indnkeyatts = 1 AND i.indisvalid
                      AND i.indpred IS NULL AND i.indexprs IS NULL AND a.attname = v_key AND a.attnotnull) THEN
        RAISE EXCEPTION 'column "%" of relation % is not a unique NOT NULL key', v_key, tbl USING ERRCODE = 'invalid_table_definition',
            HINT = 'The key column needs a single-column unique index (or primary key) and NOT NULL.';
    END IF;
    IF NOT EXISTS (SELECT FROM persona.models m WHERE m.name = v_model) THEN
        RAISE EXCEPTION 'model "%" does not exist', v_model USING ERRCODE = 'undefined_object',
            HINT = 'SELECT name FROM persona.models lists the registered models.';
    END IF;

    BEGIN
        INSERT INTO persona.fresh_registrations (owner, tbl, key_col, text_col, vec_col, model)
        VALUES (me::regrole, tbl, v_key, text_col, vec_col, v_model)
        RETURNING fresh_registrations.id INTO v_id;
    EXCEPTION WHEN unique_violation THEN
        RAISE EXCEPTION 'column "%" of relation % is already kept fresh', vec_col, tbl USING ERRCODE = 'duplicate_object',
            HINT = 'persona.fresh_columns lists the registrations; drop one with persona.embed_on_change_drop().';
    END;
    -- Inserts: one call per statement over the inserted rows (a 1,000-row
    -- INSERT is one trigger call and one INSERT ... SELECT into the backlog).
    -- Updates: per row, but only for rows whose text changed, decided in C by
    -- the WHEN clause; updates of other columns (and the step's own UPDATE of
    -- the vector) do not fire it at all. Transition tables cannot be combined
    -- with UPDATE OF, and a statement trigger would capture every row of
    -- every UPDATE of the table.
    EXECUTE pg_catalog.format(
        'CREATE TRIGGER %I AFTER INSERT ON %s REFERENCING NEW TABLE AS persona_new
         FOR EACH STATEMENT EXECUTE FUNCTION persona._fresh_queue(%L)',
        'persona_embed_' || v_id || '_insert', tbl, v_id);
    EXECUTE pg_catalog.format(
        'CREATE TRIGGER %I AFTER UPDATE OF %I ON %s FOR EACH ROW WHEN (OLD.%I IS DISTINCT FROM NEW.%I)
         EXECUTE FUNCTION persona._fresh_queue(%L)',
        'persona_embed_' || v_id || '_update', text_col, tbl, text_col, text_col, v_id);
    IF backfill THEN
        EXECUTE pg_catalog.format(
            'INSERT INTO persona.fresh_backlog (registration, key)
             SELECT $1, pg_catalog.format(''%%s'', t.%I) FROM %s t WHERE t.%I IS NULL AND t.%I IS NOT NULL',
            v_key, tbl, vec_col, text_col) USING v_id;
        GET DIAGNOSTICS queued = ROW_COUNT;
        IF queued > 0 THEN
            PERFORM persona._fresh_notify(v_id);
        END IF;
    END IF;
    RAISE NOTICE 'embed_on_change: %.% kept fresh from % with model %; % existing rows queued',
        tbl, quote_ident(vec_col), quote_ident(text_col), v_model, queued;
    RETURN v_id;
END
$$;

CREATE FUNCTION persona.embed_on_change_drop(tbl regclass, vec_col name, if_exists boolean DEFAULT false) RETURNS boolean
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    v_id bigint;
BEGIN
    IF tbl IS NULL OR vec_col IS NULL OR if_exists IS NULL THEN
        RAISE EXCEPTION '% must not be NULL', CASE WHEN tbl IS NULL THEN 'tbl' WHEN vec_col IS NULL THEN 'vec_col' ELSE 'if_exists' END
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- Row-level security shows only registrations of roles the caller is a member of.
    SELECT g.id INTO v_id FROM persona.fresh_registrations g WHERE g.tbl = tbl AND g.vec_col = vec_col;
    IF NOT FOUND THEN
        IF if_exists THEN
            RAISE NOTICE 'column "%" of relation % is not kept fresh, skipping', vec_col, tbl;
            RETURN false;
        END IF;
        RAISE EXCEPTION 'column "%" of relation % is not kept fresh', vec_col, tbl USING ERRCODE = 'undefined_object',
            HINT = 'persona.fresh_columns lists the registrations you can see.';
    END IF;
    EXECUTE pg_catalog.format('DROP TRIGGER IF EXISTS %I ON %s', 'persona_embed_' || v_id || '_insert', tbl);
    EXECUTE pg_catalog.format('DROP TRIGGER IF EXISTS %I ON %s', 'persona_embed_' || v_id || '_update', tbl);
    DELETE FROM persona.fresh_registrations g WHERE g.id = v_id;
    RETURN true;
END
$$;

COMMENT ON TABLE persona.fresh_registrations IS
  'Columns kept fresh by persona.embed_on_change(): one row per (table, vector column), with its owner (whose rights the background embedder uses), model and counters. Each role sees the rows of roles it is a member of.';
COMMENT ON COLUMN persona.fresh_registrations.id IS 'Registration number; the triggers persona_embed_<id>_insert and persona_embed_<id>_update on the table carry it.';
COMMENT ON COLUMN persona.fresh_registrations.tbl IS 'The table whose rows are kept embedded.';
COMMENT ON COLUMN persona.fresh_registrations.key_col IS 'A unique NOT NULL column (by default the single-column primary key) by which queued rows are found again. After renaming it, set the new name here.';
COMMENT ON COLUMN persona.fresh_registrations.text_col IS 'The column of text to embed (text, varchar or char). After renaming it, set the new name here.';
COMMENT ON COLUMN persona.fresh_registrations.vec_col IS 'The real[] column the embeddings are written to. After renaming it, set the new name here.';
COMMENT ON COLUMN persona.fresh_registrations.model IS 'Model from persona.models, fixed at registration (persona.default_model then, if none was named).';
COMMENT ON COLUMN persona.fresh_registrations.created_at IS 'When the column was registered.';
COMMENT ON COLUMN persona.fresh_registrations.rows_embedded IS 'Vectors written since registration (rows whose text was NULL, deleted or changed again meanwhile are not counted).';
COMMENT ON COLUMN persona.fresh_registrations.rows_failed IS 'Rows whose text could not be embedded or written since registration (the current ones are in persona.fresh_errors).';
COMMENT ON COLUMN persona.fresh_registrations.last_batch_at IS 'When the last batch of this column committed its work.';
COMMENT ON COLUMN persona.fresh_registrations.last_batch_rows IS 'Queued rows the last batch handled.';
COMMENT ON COLUMN persona.fresh_registrations.last_error IS 'Why the queued rows are not being embedded (a model that does not load, a renamed column, missing privileges); NULL again after the next batch that succeeds.';
COMMENT ON COLUMN persona.fresh_registrations.last_error_at IS 'When last_error was last seen.';
COMMENT ON TABLE persona.fresh_backlog IS
  'Rows waiting for an embedding: one row per queued change (a key queued twice while waiting is kept once), written by the triggers persona.embed_on_change() installs and removed by persona.embed_backlog_step().';
COMMENT ON COLUMN persona.fresh_backlog.registration IS 'The registration (persona.fresh_registrations.id).';
COMMENT ON COLUMN persona.fresh_backlog.id IS 'Queue order.';
COMMENT ON COLUMN persona.fresh_backlog.key IS 'The row''s key, as text.';
COMMENT ON COLUMN persona.fresh_backlog.queued_at IS 'Start of the transaction that queued it.';
COMMENT ON TABLE persona.fresh_errors IS
  'Rows whose text could not be embedded or whose vector could not be written, with the error. They leave the queue and are tried again only when their text changes; a later success removes the row.';
COMMENT ON COLUMN persona.fresh_errors.registration IS 'The registration (persona.fresh_registrations.id).';
COMMENT ON COLUMN persona.fresh_errors.key IS 'The row''s key, as text.';
COMMENT ON COLUMN persona.fresh_errors.message IS 'The error message.';
COMMENT ON COLUMN persona.fresh_errors.sqlstate IS 'The error''s SQLSTATE.';
COMMENT ON COLUMN persona.fresh_errors.failed_at IS 'When it last failed.';
COMMENT ON COLUMN persona.fresh_errors.attempts IS 'How many times it failed (once per change of its text).';
COMMENT ON FUNCTION persona.embed_on_change(regclass, name, name, text, name, boolean) IS
  'Keeps vec_col of tbl embedded from text_col: inserted rows and rows whose text changes are queued by triggers and embedded in the background (persona.embed_backlog_step) with the same vectors as persona.embed_column. The table needs a single-column primary key (or key_col, unique and NOT NULL); backfill queues the existing rows with a NULL vector. Returns the registration number.';
COMMENT ON FUNCTION persona.embed_on_change_drop(regclass, name, boolean) IS
  'Stops keeping vec_col of tbl fresh: removes the triggers, the registration, its queue and its error rows (vectors stay). if_exists => true makes a missing registration a NOTICE.';
COMMENT ON FUNCTION persona._fresh_check(regclass, name, name, name) IS
  'Internal: checks a registration''s table and columns (kinds, types, a superuser registering another role''s table) and returns the key column''s type.';
COMMENT ON FUNCTION persona._fresh_queue() IS
  'Internal trigger of persona.embed_on_change(): queues the keys of inserted rows and of rows whose text changed.';
COMMENT ON FUNCTION persona._fresh_notify(bigint) IS
  'Internal: wakes the background embedder for the rows a registration queued from existing rows (only in the transaction that created it).';
COMMENT ON FUNCTION persona._fresh_forget() IS
  'Internal trigger: deleting a registration deletes its queue and error rows.';
