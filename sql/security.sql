-- Who sees and writes which rows: models belong to their owners
-- (persona.model_owners), and row-level security on every table that holds
-- a model's rows lets a role read the models it owns or was granted, and
-- write only those it owns. Superusers and the tables' owner bypass it.

-- Names of the models of one kind the current user may read: those of roles
-- it is a member of, those shared with it or with PUBLIC.
CREATE FUNCTION persona._readable(p_kind text) RETURNS text[]
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(o.name), '{}')
    FROM persona.model_owners o
    WHERE o.kind = p_kind
      AND (o.public_read OR pg_catalog.pg_has_role(o.owner::oid, 'MEMBER')
           OR EXISTS (SELECT FROM unnest(o.readers) r WHERE pg_catalog.pg_has_role(r::oid, 'MEMBER')))
$$;

-- Names of the models of one kind the current user may write: those of roles it is a member of.
CREATE FUNCTION persona._writable(p_kind text) RETURNS text[]
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(o.name), '{}')
    FROM persona.model_owners o
    WHERE o.kind = p_kind AND pg_catalog.pg_has_role(o.owner::oid, 'MEMBER')
$$;

ALTER TABLE persona.model_owners ENABLE ROW LEVEL SECURITY;
CREATE POLICY model_owners_read ON persona.model_owners FOR SELECT USING (true);
CREATE POLICY model_owners_insert ON persona.model_owners FOR INSERT
    WITH CHECK (pg_catalog.pg_has_role(owner::oid, 'MEMBER'));
CREATE POLICY model_owners_update ON persona.model_owners FOR UPDATE
    USING (pg_catalog.pg_has_role(owner::oid, 'MEMBER')) WITH CHECK (pg_catalog.pg_has_role(owner::oid, 'MEMBER'));
CREATE POLICY model_owners_delete ON persona.model_owners FOR DELETE
    USING (pg_catalog.pg_has_role(owner::oid, 'MEMBER'));

-- The same four policies on every table of model rows. The list of names is
-- a sub-select, so it is computed once per statement, not once per row.
DO $$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT * FROM (VALUES
        ('profile_definitions', 'name', 'profiles'), ('profiles', 'name', 'profiles'),
        ('item_vectors', 'model', 'item2vec'),
        ('kmeans_models', 'name', 'kmeans'), ('kmeans_centroids', 'name', 'kmeans'),
        ('segment_assignments', 'name', 'kmeans'), ('segment_descriptions', 'name', 'kmeans'),
        ('segment_probabilities', 'name', 'kmeans'),
        ('recommender_models', 'name', 'recommender'), ('recommender_items', 'model', 'recommender'),
        ('recommendation_lists', 'model', 'recommender'),
        ('risk_scores', 'name', 'profiles'), ('risk_rings', 'name', 'profiles')) AS v(tbl, col, kind)
    LOOP
        EXECUTE format('ALTER TABLE persona.%I ENABLE ROW LEVEL SECURITY', t.tbl);
        EXECUTE format('CREATE POLICY %I ON persona.%I FOR SELECT USING (%I = ANY ((SELECT persona._readable(%L))::text[]))',
                       t.tbl || '_read', t.tbl, t.col, t.kind);
        EXECUTE format('CREATE POLICY %I ON persona.%I FOR INSERT WITH CHECK (%I = ANY ((SELECT persona._writable(%L))::text[]))',
                       t.tbl || '_insert', t.tbl, t.col, t.kind);
        EXECUTE format('CREATE POLICY %I ON persona.%I FOR UPDATE USING (%I = ANY ((SELECT persona._writable(%L))::text[]))
                        WITH CHECK (%I = ANY ((SELECT persona._writable(%L))::text[]))',
                       t.tbl || '_update', t.tbl, t.col, t.kind, t.col, t.kind);
        EXECUTE format('CREATE POLICY %I ON persona.%I FOR DELETE USING (%I = ANY ((SELECT persona._writable(%L))::text[]))',
                       t.tbl || '_delete', t.tbl, t.col, t.kind);
    END LOOP;
END
$$;

-- The views show what the reader may read, not what their owner may.
ALTER VIEW persona.segment_members SET (security_invoker = true);
ALTER VIEW persona.segments SET (security_invoker = true);
ALTER VIEW persona.top_outliers SET (security_invoker = true);
ALTER VIEW persona.soft_segments SET (security_invoker = true);
ALTER VIEW persona.risks SET (security_invoker = true);
ALTER VIEW persona.recommendations SET (security_invoker = true);

-- The owner of a model, for the functions below: 42704 when there is none,
-- 42501 when the current user is not a member of the owning role.
CREATE FUNCTION persona._owned(p_kind text, p_name text, p_what text) RETURNS regrole
LANGUAGE sql STABLE AS $$
    SELECT persona._use_model(p_kind, p_name, p_what)::regrole
$$;

CREATE FUNCTION persona.grant_model(kind text, name text, reader regrole) RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF reader IS NULL THEN
        RAISE EXCEPTION 'reader must not be NULL' USING ERRCODE = 'null_value_not_allowed',
            HINT = 'Name a role, or use persona.grant_model_to_public().';
    END IF;
    PERFORM persona._owned(kind, name, 'share it');
    UPDATE persona.model_owners o SET readers = array_append(o.readers, reader)
    WHERE o.kind = grant_model.kind AND o.name = grant_model.name AND NOT reader = ANY (o.readers);
END
$$;

CREATE FUNCTION persona.grant_model_to_public(kind text, name text) RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM persona._owned(kind, name, 'share it');
    UPDATE persona.model_owners o SET public_read = true
    WHERE o.kind = grant_model_to_public.kind AND o.name = grant_model_to_public.name;
END
$$;

-- reader NULL takes back what grant_model_to_public gave.
CREATE FUNCTION persona.revoke_model(kind text, name text, reader regrole DEFAULT NULL) RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM persona._owned(kind, name, 'stop sharing it');
    UPDATE persona.model_owners o
       SET readers = CASE WHEN reader IS NULL THEN o.readers ELSE array_remove(o.readers, reader) END,
           public_read = CASE WHEN reader IS NULL THEN false ELSE o.public_read END
    WHERE o.kind = revoke_model.kind AND o.name = revoke_model.name;
END
$$;

-- Deletes a model with everything stored for it (every version).
CREATE FUNCTION persona.drop_model(kind text, name text) RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_variable
BEGIN
    PERFORM persona._owned(kind, name, 'drop it');
    PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('persona.model'), pg_catalog.hashtext(kind || '/' || name));
    CASE kind
    WHEN 'profiles' THEN
        DELETE FROM persona.profile_definitions d WHERE d.name = name;
    WHEN 'item2vec' THEN
        DELETE FROM persona.item_vectors v WHERE v.model = name;
    WHEN 'kmeans' THEN
        DELETE FROM persona.kmeans_models m WHERE m.name = name;
    WHEN 'recommender' THEN
        DELETE FROM persona.recommendation_lists l WHERE l.model = name;
        DELETE FROM persona.recommender_models m WHERE m.name = name;
    END CASE;
    DELETE FROM persona.model_owners o WHERE o.kind = kind AND o.name = name;
END
$$;

-- Erasure: removes one user from everything persona stores, across all
-- models and versions (profiles, segment assignments, exemplars,
-- recommendation lists). Run by a superuser it reaches every model; run by
-- another role, the models that role owns. The user's rows in the shop's own
-- tables are the shop's to delete.
CREATE FUNCTION persona.forget_user(user_id bigint)
RETURNS TABLE (stored_in text, removed bigint)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_variable
DECLARE
    n bigint;
    names text[];
    versions integer[];
BEGIN
    IF user_id IS NULL THEN
        RAISE EXCEPTION 'user_id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    DELETE FROM persona.profiles p WHERE p.user_id = user_id;
    GET DIAGNOSTICS n = ROW_COUNT;
    stored_in := 'persona.profiles'; removed := n; RETURN NEXT;
    SELECT array_agg(a.name), array_agg(a.version) INTO names, versions
      FROM (SELECT DISTINCT a.name, a.version FROM persona.segment_assignments a WHERE a.user_id = user_id) a;
    DELETE FROM persona.segment_assignments a WHERE a.user_id = user_id;
    GET DIAGNOSTICS n = ROW_COUNT;
    -- Sizes and means without the user, so the k-anonymity floor counts right.
    PERFORM persona._segment_stats(v.name, v.version) FROM unnest(names, versions) v(name, version);
    stored_in := 'persona.segment_assignments'; removed := n; RETURN NEXT;
    DELETE FROM persona.segment_probabilities p WHERE p.user_id = user_id;
    GET DIAGNOSTICS n = ROW_COUNT;
    stored_in := 'persona.segment_probabilities'; removed := n; RETURN NEXT;
    UPDATE persona.segment_descriptions d SET exemplar_users = array_remove(d.exemplar_users, user_id)
    WHERE user_id = ANY (d.exemplar_users);
    GET DIAGNOSTICS n = ROW_COUNT;
    stored_in := 'persona.segment_descriptions'; removed := n; RETURN NEXT;
    DELETE FROM persona.risk_scores r WHERE r.user_id = user_id;
    GET DIAGNOSTICS n = ROW_COUNT;
    stored_in := 'persona.risk_scores'; removed := n; RETURN NEXT;
    UPDATE persona.risk_rings g SET members = array_remove(g.members, user_id), size = g.size - 1
    WHERE user_id = ANY (g.members);
    DELETE FROM persona.recommendation_lists l WHERE l.user_id = user_id;
    GET DIAGNOSTICS n = ROW_COUNT;
    stored_in := 'persona.recommendation_lists'; removed := n; RETURN NEXT;
END
$$;
