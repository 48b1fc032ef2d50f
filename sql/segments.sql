-- Segments: assignment wrappers, generated descriptions, the views BI tools
-- read, transitions between versions, and outliers for risk control.

CREATE FUNCTION persona.kmeans_assign(model text, vec real[]) RETURNS integer
LANGUAGE sql STABLE STRICT PARALLEL SAFE AS $$
    SELECT segment FROM persona.kmeans_nearest(model, vec)
$$;

CREATE FUNCTION persona.anomaly_score(model text, vec real[]) RETURNS float8
LANGUAGE sql STABLE STRICT PARALLEL SAFE AS $$
    SELECT anomaly_score FROM persona.kmeans_nearest(model, vec)
$$;

-- What persona.segments shows for one version: size, share, mean traits
-- and their lift against all the version's members, written into
-- persona.segment_descriptions. Run at training and whenever the members
-- or their profiles change (refresh_profiles, forget_user), so that the
-- view reads stored rows and costs the same whatever else is stored.
CREATE FUNCTION persona._segment_stats(p_model text, p_version integer) RETURNS void
LANGUAGE plpgsql VOLATILE SET enable_nestloop = off AS $$
DECLARE
    profile text;
BEGIN
    SELECT profile_name INTO profile FROM persona.kmeans_models WHERE name = p_model AND version = p_version;
    WITH members AS (
        SELECT a.segment, p.recency_days, p.frequency, p.monetary, p.avg_order_value,
               p.events_30d, p.predicted_value, p.probability_alive
        FROM persona.segment_assignments a
        LEFT JOIN persona.profiles p ON p.name = profile AND p.user_id = a.user_id
        WHERE a.name = p_model AND a.version = p_version
    ), pop AS (
        SELECT count(*) AS users, avg(recency_days) AS recency_days, avg(frequency) AS frequency,
               avg(monetary) AS monetary, avg(avg_order_value) AS avg_order_value, avg(events_30d) AS events_30d,
               avg(predicted_value) AS predicted_value
        FROM members
    ), seg AS (
        SELECT segment, count(*) AS size, avg(recency_days) AS recency_days, avg(frequency) AS frequency,
               avg(monetary) AS monetary, avg(avg_order_value) AS avg_order_value, avg(events_30d) AS events_30d,
               avg(predicted_value) AS predicted_value, avg(probability_alive) AS probability_alive
        FROM members GROUP BY segment
    )
    UPDATE persona.segment_descriptions d
       SET size = coalesce(s.size, 0),
           share = round(coalesce(s.size, 0)::numeric / nullif(pop.users, 0), 4)::float8,
           avg_recency_days = s.recency_days, recency_lift = s.recency_days / nullif(pop.recency_days, 0),
           avg_frequency = s.frequency::float8, frequency_lift = (s.frequency / nullif(pop.frequency, 0))::float8,
           avg_monetary = s.monetary, monetary_lift = s.monetary / nullif(pop.monetary, 0),
           avg_order_value = s.avg_order_value, avg_order_value_lift = s.avg_order_value / nullif(pop.avg_order_value, 0),
           avg_events_30d = s.events_30d::float8, activity_lift = (s.events_30d / nullif(pop.events_30d, 0))::float8,
           avg_predicted_value = s.predicted_value, predicted_value_lift = s.predicted_value / nullif(pop.predicted_value, 0),
           avg_probability_alive = s.probability_alive,
           stats_at = now()
      FROM seg s, pop
     WHERE d.name = p_model AND d.version = p_version AND d.segment = s.segment;
    -- Segments left without members (refreshed users moved away).
    UPDATE persona.segment_descriptions d
       SET size = 0, share = 0, avg_recency_days = NULL, recency_lift = NULL, avg_frequency = NULL, frequency_lift = NULL,
           avg_monetary = NULL, monetary_lift = NULL, avg_order_value = NULL, avg_order_value_lift = NULL,
           avg_events_30d = NULL, activity_lift = NULL, avg_predicted_value = NULL, predicted_value_lift = NULL,
           avg_probability_alive = NULL, stats_at = now()
     WHERE d.name = p_model AND d.version = p_version
       AND NOT EXISTS (SELECT FROM persona.segment_assignments a
                       WHERE a.name = p_model AND a.version = p_version AND a.segment = d.segment);
END
$$;

-- Completes persona.segment_descriptions for one version (kmeans_train
-- writes the rows with the users nearest each centroid): a label from the
-- members' traits, and categories and items by lift. Traits and categories come from persona.profiles when the model
-- was trained on profiles; items from the profile definition's events.
-- The assignments were written moments ago in this transaction and have no
-- statistics yet: the planner, guessing a handful of rows, picked nested
-- loops that took minutes on 20,000 users. Hash joins suit every query here.
CREATE FUNCTION persona._describe_segments(p_model text, p_version integer) RETURNS void
LANGUAGE plpgsql VOLATILE SET enable_nestloop = off AS $$
DECLARE
    m persona.kmeans_models;
    o jsonb;
    events_owner regrole;
BEGIN
    -- kmeans_train has written one row per segment with its exemplars.
    SELECT * INTO m FROM persona.kmeans_models WHERE name = p_model AND version = p_version;
    PERFORM persona._segment_stats(p_model, p_version);
    IF m.profile_name IS NULL THEN
        RETURN;
    END IF;

    -- Categories by lift: share of members with the category among their
    -- top categories over that share in the whole population (at least 5%
    -- of the segment, so that lift is not carried by a few users).
    UPDATE persona.segment_descriptions d SET top_categories = x.cats
    FROM (
        SELECT segment, array_agg(category ORDER BY lift DESC, category) AS cats FROM (
            SELECT s.segment, s.category, s.share / p.share AS lift,
                   row_number() OVER (PARTITION BY s.segment ORDER BY s.share / p.share DESC, s.category) AS rn
            FROM (SELECT a.segment, c AS category, count(*)::float8 / sum(count(*)) OVER (PARTITION BY a.segment) AS share,
                         count(*) AS n, (SELECT count(*) FROM persona.segment_assignments z
                                         WHERE z.name = p_model AND z.version = p_version AND z.segment = a.segment) AS members
                  FROM persona.segment_assignments a
                  JOIN persona.profiles pr ON pr.name = m.profile_name AND pr.user_id = a.user_id,
                       unnest(pr.top_categories) c
                  WHERE a.name = p_model AND a.version = p_version GROUP BY 1, 2) s
            JOIN (SELECT c AS category, count(*)::float8 / sum(count(*)) OVER () AS share
                  FROM persona.profiles pr, unnest(pr.top_categories) c WHERE pr.name = m.profile_name GROUP BY 1) p USING (category)
            WHERE s.n >= 0.05 * s.members) r
        WHERE rn <= 3 GROUP BY segment) x
    WHERE d.name = p_model AND d.version = p_version AND d.segment = x.segment;

    -- Items by lift, from the events the profiles were built from. Those
    -- are the profiles' owner's source: they are read with that owner's
    -- rights, and only for a caller who may act as that owner.
    SELECT options INTO o FROM persona.profile_definitions WHERE name = m.profile_name;
    SELECT owner INTO events_owner FROM persona.model_owners WHERE kind = 'profiles' AND name = m.profile_name;
    IF o IS NOT NULL AND NOT pg_catalog.pg_has_role(events_owner::oid, 'MEMBER') THEN
        RAISE NOTICE 'k-means model "%": top items are left out (the events of profiles "%" belong to role %)',
            p_model, m.profile_name, events_owner;
    ELSIF o IS NOT NULL THEN
        PERFORM persona._drop_temp(ARRAY['persona_segment_events']);
        CREATE TEMP TABLE persona_segment_events (user_id bigint, item_id bigint) ON COMMIT DROP;
        PERFORM persona._read_as(events_owner,
            format('INSERT INTO pg_temp.persona_segment_events SELECT (s.%1$I)::bigint, (s.%2$I)::bigint FROM %3$s s WHERE s.%2$I IS NOT NULL',
                   o->>'user_col', o->>'item_col', persona._source(o->>'events', 'events')),
            ARRAY['persona_segment_events']);
        ANALYZE pg_temp.persona_segment_events;
        EXECUTE format($q$
            UPDATE persona.segment_descriptions d SET top_items = x.items
            FROM (
                SELECT segment, array_agg(item_id ORDER BY lift DESC, item_id) AS items FROM (
                    SELECT s.segment, s.item_id, s.share / p.share AS lift,
                           row_number() OVER (PARTITION BY s.segment ORDER BY s.share / p.share DESC, s.item_id) AS rn
                    FROM (SELECT a.segment, e.item_id, count(DISTINCT e.user_id) AS users,
                                 count(DISTINCT e.user_id)::float8 / max(seg.members) AS share
                          FROM pg_temp.persona_segment_events e
                          JOIN persona.segment_assignments a ON a.user_id = e.user_id AND a.name = $1 AND a.version = $2
                          JOIN (SELECT segment, count(*) AS members FROM persona.segment_assignments
                                WHERE name = $1 AND version = $2 GROUP BY 1) seg USING (segment)
                          WHERE e.item_id IS NOT NULL GROUP BY 1, 2) s
                    JOIN (SELECT e.item_id,
                                 count(DISTINCT e.user_id)::float8 / (SELECT count(*) FROM persona.segment_assignments
                                                                      WHERE name = $1 AND version = $2) AS share
                          FROM pg_temp.persona_segment_events e GROUP BY 1) p USING (item_id)
                    WHERE s.users >= 3) r
                WHERE rn <= 5 GROUP BY segment) x
            WHERE d.name = $1 AND d.version = $2 AND d.segment = x.segment$q$)
        USING p_model, p_version;
    END IF;

    -- Label: the price band and lifecycle stage most members share (when at
    -- least half do), and the category with the highest lift.
    UPDATE persona.segment_descriptions d SET label = x.label
    FROM (
        SELECT a.segment,
               concat_ws(' · ',
                   CASE WHEN max(bands.share) >= 0.5 THEN (array_agg(bands.band ORDER BY bands.share DESC))[1] END,
                   (SELECT top_categories[1] FROM persona.segment_descriptions z
                    WHERE z.name = p_model AND z.version = p_version AND z.segment = a.segment),
                   CASE WHEN max(stages.share) >= 0.5 THEN replace((array_agg(stages.stage ORDER BY stages.share DESC))[1], '_', ' ') END
               ) AS label
        FROM (SELECT DISTINCT segment FROM persona.segment_assignments WHERE name = p_model AND version = p_version) a
        LEFT JOIN LATERAL (
            SELECT pr.price_band AS band, count(*)::float8 / sum(count(*)) OVER () AS share
            FROM persona.segment_assignments s JOIN persona.profiles pr ON pr.name = m.profile_name AND pr.user_id = s.user_id
            WHERE s.name = p_model AND s.version = p_version AND s.segment = a.segment GROUP BY 1) bands ON bands.band IS NOT NULL
        LEFT JOIN LATERAL (
            SELECT pr.lifecycle_stage AS stage, count(*)::float8 / sum(count(*)) OVER () AS share
            FROM persona.segment_assignments s JOIN persona.profiles pr ON pr.name = m.profile_name AND pr.user_id = s.user_id
            WHERE s.name = p_model AND s.version = p_version AND s.segment = a.segment GROUP BY 1) stages ON true
        GROUP BY a.segment) x
    WHERE d.name = p_model AND d.version = p_version AND d.segment = x.segment AND x.label <> '';
    UPDATE persona.segment_descriptions d SET label = d.label || ' (' || d.segment || ')'
    WHERE d.name = p_model AND d.version = p_version
      AND (SELECT count(*) FROM persona.segment_descriptions z
           WHERE z.name = d.name AND z.version = d.version AND z.label = d.label) > 1;
END
$$;

-- Deleting a model version deletes its assignments (in place of a foreign
-- key, which would be checked for every one of millions of rows).
CREATE FUNCTION persona._delete_assignments() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM persona.segment_assignments a WHERE a.name = OLD.name AND a.version = OLD.version;
    DELETE FROM persona.segment_probabilities p WHERE p.name = OLD.name AND p.version = OLD.version;
    RETURN OLD;
END
$$;
CREATE TRIGGER delete_assignments AFTER DELETE ON persona.kmeans_models
    FOR EACH ROW EXECUTE FUNCTION persona._delete_assignments();

-- Current version of every model.
CREATE VIEW persona.segment_members AS
SELECT a.name AS model, a.user_id, a.segment, a.distance, a.margin, a.anomaly_score, a.version
FROM persona.segment_assignments a
JOIN (SELECT name, max(version) AS version FROM persona.kmeans_models GROUP BY name) cur USING (name, version);

-- Reads only stored rows: the figures are computed by persona._segment_stats.
CREATE VIEW persona.segments AS
SELECT d.name AS model, cur.version, d.segment, d.label, d.size, d.share,
       d.avg_recency_days, d.recency_lift, d.avg_frequency, d.frequency_lift,
       d.avg_monetary, d.monetary_lift, d.avg_order_value, d.avg_order_value_lift,
       d.avg_events_30d, d.activity_lift, d.avg_predicted_value, d.predicted_value_lift,
       d.avg_probability_alive, d.top_categories, d.top_items, c.words AS distinctive_words, d.exemplar_users
FROM (SELECT DISTINCT ON (name) name, version, k_anonymity_floor FROM persona.kmeans_models ORDER BY name, version DESC) cur
JOIN persona.segment_descriptions d ON d.name = cur.name AND d.version = cur.version
JOIN persona.kmeans_centroids c ON c.name = d.name AND c.version = d.version AND c.segment = d.segment
-- k-anonymity: segments smaller than the floor are not shown (the model's
-- floor, at least the superuser's setting, read through the library).
WHERE d.size >= greatest(coalesce(cur.k_anonymity_floor, 1), persona._k_anonymity_floor());

-- Users who fit no segment: robust z-score of the distance to their
-- segment's centroid of 3 or more, most unusual first.
CREATE VIEW persona.top_outliers AS
SELECT model, user_id, segment, distance, anomaly_score, version,
       rank() OVER (PARTITION BY model ORDER BY anomaly_score DESC) AS rank
FROM persona.segment_members
WHERE anomaly_score >= 3;

CREATE FUNCTION persona.segment_transitions(model text, from_version integer, to_version integer)
RETURNS TABLE (from_segment integer, to_segment integer, users bigint)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
BEGIN
    IF NOT EXISTS (SELECT FROM persona.kmeans_models m WHERE m.name = model AND m.version = from_version)
       OR NOT EXISTS (SELECT FROM persona.kmeans_models m WHERE m.name = model AND m.version = to_version) THEN
        RAISE EXCEPTION 'k-means model "%" has no version % or %', model, from_version, to_version
            USING ERRCODE = 'undefined_object';
    END IF;
    -- Users in only one of the versions show NULL on the other side.
    RETURN QUERY
    SELECT a.segment, b.segment, count(*)
    FROM (SELECT user_id, segment FROM persona.segment_assignments s WHERE s.name = model AND s.version = from_version) a
    FULL JOIN (SELECT user_id, segment FROM persona.segment_assignments s WHERE s.name = model AND s.version = to_version) b
      USING (user_id)
    GROUP BY 1, 2 ORDER BY 1 NULLS LAST, 2 NULLS LAST;
END
$$;

-- Soft segments of the current version of every mixture: each user's two
-- most probable segments. A segment under the k-anonymity floor is not
-- shown (its user row is left out when it is the first, NULL when second).
CREATE VIEW persona.soft_segments AS
SELECT p.name AS model, p.user_id, p.segments[1] AS segment, p.probabilities[1] AS probability,
       CASE WHEN s2.segment IS NOT NULL THEN p.segments[2] END AS second_segment,
       CASE WHEN s2.segment IS NOT NULL THEN p.probabilities[2] END AS second_probability,
       p.version
FROM persona.segment_probabilities p
JOIN (SELECT name, max(version) AS version FROM persona.kmeans_models GROUP BY name) cur USING (name, version)
JOIN persona.segments s1 ON s1.model = p.name AND s1.segment = p.segments[1]
LEFT JOIN persona.segments s2 ON s2.model = p.name AND s2.segment = p.segments[2];
