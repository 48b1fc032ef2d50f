-- User profiles: persona.build_profiles() and persona.refresh_profiles().
--
-- The work is set-based SQL over the user's own tables (named by the caller,
-- never a fixed schema): the events are read once into a temporary table,
-- de-duplicated, then aggregated per user with the vector aggregates and the
-- customer-value models written in Rust. Everything runs with the caller's
-- privileges, in the caller's transaction: readers of persona.profiles see
-- the old rows until the build or refresh commits. Every statement that
-- reads a source runs through persona._read_as(): as the profiles' owner,
-- security-restricted, so that a refresh run by anyone else (a superuser's
-- pg_cron job) never runs the owner's SQL with its own rights.

-- Lifecycle cut-offs of a definition, at a build: the arguments when given,
-- otherwise from the shop's own times between purchases. A customer is
-- active within the median gap between one purchase day and the next, and
-- lapsed beyond the 90th percentile (nine in ten returns come sooner), so
-- that a shop whose customers return yearly does not call them all lapsed.
-- Gaps are cut short by the window of the events: a shop with little
-- history gets shorter cut-offs. With fewer than 20 gaps: 30 and 90 days.
CREATE FUNCTION persona._lifecycle_cuts(p_name text, o jsonb, purchase_types text[]) RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    given_active int := (o->>'active_days')::int;
    given_lapsed int := (o->>'lapsed_days')::int;
    n_gaps bigint;
    q float8[];
    derived_active int := 30;
    derived_lapsed int := 90;
    basis text := 'default';
    a int;
    l int;
BEGIN
    SELECT count(*), percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY gap)
      INTO n_gaps, q
      FROM (SELECT d - lag(d) OVER (PARTITION BY user_id ORDER BY d) AS gap
            FROM (SELECT DISTINCT user_id, ts::date AS d FROM pg_temp.persona_events
                  WHERE event_type = ANY (purchase_types)) p) g
     WHERE gap IS NOT NULL;
    IF n_gaps >= 20 THEN
        derived_active := greatest(ceil(q[1])::int, 1);
        derived_lapsed := greatest(ceil(q[2])::int, derived_active + 1);
        basis := 'inter_purchase_times';
    END IF;
    a := coalesce(given_active, least(derived_active, coalesce(given_lapsed - 1, derived_active)));
    l := coalesce(given_lapsed, greatest(derived_lapsed, a + 1));
    IF basis = 'inter_purchase_times' AND (given_active IS NULL OR given_lapsed IS NULL) THEN
        RAISE NOTICE 'profiles "%": lifecycle cut-offs % and % days (from % times between purchases: median %, 90th percentile % days)',
            p_name, a, l, n_gaps, round(q[1]::numeric, 1), round(q[2]::numeric, 1);
    END IF;
    UPDATE persona.profile_definitions
       SET active_days = a, lapsed_days = l,
           lifecycle_basis = jsonb_build_object(
               'active_days', CASE WHEN given_active IS NOT NULL THEN 'argument' ELSE basis END,
               'lapsed_days', CASE WHEN given_lapsed IS NOT NULL THEN 'argument' ELSE basis END,
               'purchase_gaps', n_gaps, 'median_gap_days', q[1], 'p90_gap_days', q[2])
     WHERE name = p_name;
END
$$;

-- Computes the profiles of one definition, for all users (changed = false)
-- or only those listed in the temporary table persona_changed_users. Fits
-- the customer-value models and the activity cut points when fit is true,
-- otherwise uses those stored by the last build. Returns the counts.
CREATE FUNCTION persona._compute_profiles(
    p_name text, p_owner regrole, o jsonb, p_as_of timestamptz, fit boolean, changed boolean,
    OUT n_profiles bigint, OUT n_events bigint, OUT n_duplicates bigint, OUT n_skipped bigint)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    ev_from text := persona._source(o->>'events', 'events');
    weights jsonb := o->'event_weights';
    purchase_types text[] := ARRAY(SELECT jsonb_array_elements_text(o->'purchase_types'));
    hl float8 := extract(epoch FROM (o->>'half_life')::interval);
    b_dim int;
    t_dim int;
    n_raw bigint;
    n_no_item bigint;
    n_future bigint;
    n_unpriced bigint;
    m_bgnbd persona.bgnbd_model;
    m_gg persona.gamma_gamma_model;
    cuts float8[];
    def persona.profile_definitions;
    j jsonb;
BEGIN
    -- Steps 1-6 of the calling build or refresh (persona.progress).
    PERFORM persona._progress_update(1, 'reading events');
    PERFORM persona._drop_temp(ARRAY['persona_events', 'persona_items', 'persona_user_stats', 'persona_text_vecs']);

    -- 1. The events of the users concerned, as of p_as_of, cleaned: rows
    -- with a NULL user, time or type are counted and skipped; repeats of the
    -- same (user, item, type) within dedup_window of the previous one are one
    -- event (reloads, double clicks, tracking retries).
    j := persona._read_as(p_owner, format($q$
        SELECT jsonb_build_array(count(*),
               count(*) FILTER (WHERE s.%1$I IS NULL OR s.%2$I IS NULL OR s.%3$I IS NULL),
               count(*) FILTER (WHERE s.%1$I IS NOT NULL AND s.%4$I IS NULL))
        FROM %5$s s WHERE %6$s$q$,
        o->>'user_col', o->>'time_col', o->>'type_col', o->>'item_col', ev_from,
        CASE WHEN changed THEN format('(s.%I)::bigint IN (SELECT user_id FROM pg_temp.persona_changed_users)', o->>'user_col')
             ELSE 'true' END),
        ARRAY['persona_changed_users']);
    n_raw := (j->>0)::bigint; n_skipped := (j->>1)::bigint; n_no_item := (j->>2)::bigint;
    IF n_skipped > 0 THEN
        RAISE NOTICE 'profiles "%": skipped % events with a NULL user id, time or event type', p_name, n_skipped;
    END IF;
    IF n_no_item > 0 THEN
        RAISE NOTICE 'profiles "%": % events have no item id (searches?); they count for activity only', p_name, n_no_item;
    END IF;
    CREATE TEMP TABLE persona_events (
        user_id bigint, item_id bigint, event_type text, ts timestamptz,
        price float8, quantity float8, order_id text, w float8) ON COMMIT DROP;
    j := persona._read_as(p_owner, format($q$
        INSERT INTO pg_temp.persona_events
        SELECT user_id, item_id, event_type, ts, price, quantity, order_id,
               coalesce(($1::jsonb->>event_type)::float8, 0) * power(0.5, extract(epoch FROM $2::timestamptz - ts) / $3::float8)
        FROM (SELECT r.*,
                     CASE WHEN item_id IS NOT NULL
                          THEN ts - lag(ts) OVER (PARTITION BY user_id, item_id, event_type ORDER BY ts) END AS gap
              FROM (SELECT (s.%1$I)::bigint AS user_id, (s.%2$I)::bigint AS item_id, (s.%3$I)::text AS event_type,
                           (s.%4$I)::timestamptz AS ts, (%5$s)::float8 AS price, (%6$s)::float8 AS quantity,
                           (%7$s)::text AS order_id
                    FROM %8$s s
                    WHERE s.%1$I IS NOT NULL AND s.%3$I IS NOT NULL AND s.%4$I IS NOT NULL AND %9$s) r
              WHERE ts <= $2::timestamptz) x
        WHERE gap IS NULL OR gap > $4::interval$q$,
        o->>'user_col', o->>'item_col', o->>'type_col', o->>'time_col',
        coalesce('s.' || quote_ident(o->>'price_col'), 'NULL'),
        coalesce('s.' || quote_ident(o->>'quantity_col'), 'NULL'),
        coalesce('s.' || quote_ident(o->>'order_col'), 'NULL'),
        ev_from,
        CASE WHEN changed THEN format('(s.%I)::bigint IN (SELECT user_id FROM pg_temp.persona_changed_users)', o->>'user_col')
             ELSE 'true' END),
        ARRAY['persona_events', 'persona_changed_users'],
        ARRAY[weights::text, p_as_of::text, hl::text, o->>'dedup_window']);
    n_events := j::bigint;
    j := persona._read_as(p_owner,
        format('SELECT to_jsonb(count(*)) FROM %s s WHERE s.%I IS NOT NULL AND s.%I IS NOT NULL AND s.%I IS NOT NULL AND (s.%I)::timestamptz > $1::timestamptz AND %s',
        ev_from, o->>'user_col', o->>'type_col', o->>'time_col', o->>'time_col',
        CASE WHEN changed THEN format('(s.%I)::bigint IN (SELECT user_id FROM pg_temp.persona_changed_users)', o->>'user_col')
             ELSE 'true' END),
        ARRAY['persona_changed_users'], ARRAY[p_as_of::text]);
    n_future := j::bigint;
    n_duplicates := n_raw - n_skipped - n_future - n_events;
    IF n_duplicates > 0 THEN
        RAISE NOTICE 'profiles "%": removed % repeated events (same user, item and type within %)',
            p_name, n_duplicates, o->>'dedup_window';
    END IF;
    IF n_future > 0 THEN
        RAISE NOTICE 'profiles "%": % events after as_of % are not used', p_name, n_future, p_as_of;
    END IF;

    -- 2. The catalogue: category and price per item, median price per category.
    PERFORM persona._progress_update(2, 'reading items');
    CREATE TEMP TABLE persona_items (item_id bigint PRIMARY KEY, category text, price float8) ON COMMIT DROP;
    IF o->>'items' IS NOT NULL THEN
        PERFORM persona._read_as(p_owner,
            format('INSERT INTO pg_temp.persona_items SELECT DISTINCT ON (1) (s.%I)::bigint, (%s)::text, (%s)::float8 FROM %s s WHERE s.%I IS NOT NULL ORDER BY 1',
                   o->>'item_key_col',
                   coalesce('s.' || quote_ident(o->>'category_col'), 'NULL'),
                   coalesce('s.' || quote_ident(o->>'item_price_col'), 'NULL'),
                   persona._source(o->>'items', 'items'), o->>'item_key_col'),
            ARRAY['persona_items']);
    END IF;
    ANALYZE pg_temp.persona_events;
    ANALYZE pg_temp.persona_items;

    -- 3. Per-user figures. Weights: event type weight, halved every half_life.
    PERFORM persona._progress_update(3, 'per-user figures');
    CREATE TEMP TABLE persona_user_stats ON COMMIT DROP AS
    WITH e AS (
        SELECT e.*, coalesce(e.price, i.price) AS unit_price, e.event_type = ANY (purchase_types) AS is_purchase
        FROM pg_temp.persona_events e LEFT JOIN pg_temp.persona_items i USING (item_id)
    )
    SELECT user_id,
           min(ts) AS first_seen, max(ts) AS last_seen, count(*) AS events,
           count(*) FILTER (WHERE ts > p_as_of - interval '30 days') AS events_30d,
           count(DISTINCT ts::date) FILTER (WHERE is_purchase) AS purchase_days,
           CASE WHEN bool_or(order_id IS NOT NULL) THEN count(DISTINCT order_id) FILTER (WHERE is_purchase)
                ELSE count(DISTINCT ts::date) FILTER (WHERE is_purchase) END AS orders,
           min(ts::date) FILTER (WHERE is_purchase) AS first_purchase,
           max(ts::date) FILTER (WHERE is_purchase) AS last_purchase,
           max(ts) FILTER (WHERE is_purchase) AS last_purchase_at,
           coalesce(sum(unit_price * coalesce(quantity, 1)) FILTER (WHERE is_purchase), 0) AS monetary,
           count(*) FILTER (WHERE is_purchase AND unit_price IS NULL) AS unpriced
    FROM e GROUP BY user_id;

    SELECT coalesce(sum(unpriced), 0) INTO n_unpriced FROM pg_temp.persona_user_stats;
    IF n_unpriced > 0 THEN
        RAISE NOTICE 'profiles "%": % purchases have no price (neither price_col nor the item''s price); they count as 0 in monetary',
            p_name, n_unpriced;
    END IF;

    -- 4. Customer-value models (days as the time unit) and activity cut points.
    PERFORM persona._progress_update(4, 'customer-value models');
    IF fit THEN
        -- Maximum likelihood on a handful of buyers gives meaningless
        -- parameters: below 20 buyers the value columns stay NULL.
        IF (SELECT count(*) FROM pg_temp.persona_user_stats WHERE purchase_days > 0) < 20 THEN
            RAISE NOTICE 'profiles "%": fewer than 20 buyers; customer-value models not fitted, predicted value is NULL', p_name;
        ELSE
            BEGIN
                m_bgnbd := (SELECT persona.bgnbd_fit(purchase_days - 1, last_purchase - first_purchase,
                                                     greatest(p_as_of::date - first_purchase, 1))
                            FROM pg_temp.persona_user_stats WHERE purchase_days > 0);
                m_gg := (SELECT persona.gamma_gamma_fit(purchase_days - 1, monetary / purchase_days)
                         FROM pg_temp.persona_user_stats WHERE purchase_days > 1 AND monetary > 0);
            EXCEPTION WHEN invalid_parameter_value OR data_exception OR numeric_value_out_of_range THEN
                RAISE NOTICE 'profiles "%": customer-value models could not be fitted (%); predicted value is NULL', p_name, SQLERRM;
                m_bgnbd := NULL; m_gg := NULL;
            END;
            IF m_bgnbd IS NOT NULL THEN
                RAISE NOTICE 'profiles "%": BG/NBD fitted on % buyers, Gamma-Gamma on % repeat buyers', p_name,
                    (m_bgnbd).customers, coalesce((m_gg).customers, 0);
            END IF;
        END IF;
        SELECT coalesce(percentile_cont(ARRAY[1.0 / 3, 2.0 / 3]) WITHIN GROUP (ORDER BY events_30d), '{}')
          INTO cuts FROM pg_temp.persona_user_stats WHERE events_30d > 0;
        UPDATE persona.profile_definitions SET bgnbd = m_bgnbd, gamma_gamma = m_gg, activity_cuts = cuts WHERE name = p_name;
        PERFORM persona._lifecycle_cuts(p_name, o, purchase_types);
    END IF;
    SELECT * INTO def FROM persona.profile_definitions WHERE name = p_name;
    m_bgnbd := def.bgnbd; m_gg := def.gamma_gamma; cuts := def.activity_cuts;

    -- 5. Text vectors: decayed mean of the user's review and search embeddings.
    PERFORM persona._progress_update(5, 'text vectors');
    CREATE TEMP TABLE persona_text_vecs (user_id bigint PRIMARY KEY, vec real[]) ON COMMIT DROP;
    IF o->>'texts' IS NOT NULL THEN
        PERFORM persona._read_as(p_owner, format($q$
            INSERT INTO pg_temp.persona_text_vecs
            SELECT user_id, vec FROM (
                SELECT (s.%1$I)::bigint AS user_id, persona.vec_avg((s.%2$I)::real[], %3$s) AS vec
                FROM %4$s s
                WHERE s.%1$I IS NOT NULL AND %5$s AND %6$s
                GROUP BY 1) v
            WHERE vec IS NOT NULL$q$,
            o->>'text_user_col', o->>'text_vec_col',
            CASE WHEN o->>'text_time_col' IS NULL THEN '1.0'
                 ELSE format('power(0.5, extract(epoch FROM $1::timestamptz - (s.%I)::timestamptz) / $2::float8)', o->>'text_time_col') END,
            persona._source(o->>'texts', 'texts'),
            CASE WHEN changed THEN format('(s.%I)::bigint IN (SELECT user_id FROM pg_temp.persona_changed_users)', o->>'text_user_col')
                 ELSE 'true' END,
            CASE WHEN o->>'text_time_col' IS NULL THEN 'true'
                 ELSE format('(s.%I)::timestamptz <= $1::timestamptz', o->>'text_time_col') END),
            ARRAY['persona_text_vecs', 'persona_changed_users'], ARRAY[p_as_of::text, hl::text]);
    END IF;
    -- The profile vector's layout is fixed by the build, so that refreshed
    -- users stay comparable with the others.
    IF fit THEN
        t_dim := coalesce((SELECT array_length(vec, 1) FROM pg_temp.persona_text_vecs LIMIT 1), 0);
        b_dim := coalesce((SELECT array_length(embedding, 1) FROM persona.item_vectors WHERE model = o->>'item2vec_model' LIMIT 1), 0);
        UPDATE persona.profile_definitions SET behaviour_dim = b_dim, text_dim = t_dim WHERE name = p_name;
    ELSE
        b_dim := def.behaviour_dim; t_dim := def.text_dim;
    END IF;

    -- 6. Replace the rows of these users.
    PERFORM persona._progress_update(6, 'writing profiles');
    IF changed THEN
        DELETE FROM persona.profiles p WHERE p.name = p_name AND p.user_id IN (SELECT user_id FROM pg_temp.persona_changed_users);
    ELSE
        DELETE FROM persona.profiles p WHERE p.name = p_name;
    END IF;

    INSERT INTO persona.profiles (
        name, user_id, as_of, first_seen, last_seen, events, recency_days, frequency, monetary, avg_order_value,
        top_categories, price_index, price_band, events_30d, activity_level, lifecycle_stage,
        expected_purchases_90d, probability_alive, predicted_value, text_vec, behaviour_vec, profile_vec)
    WITH users AS (
        SELECT user_id FROM pg_temp.persona_user_stats
        UNION SELECT user_id FROM pg_temp.persona_text_vecs
        UNION SELECT user_id FROM pg_temp.persona_changed_users
    ), behaviour AS (
        SELECT e.user_id, persona.vec_avg(v.embedding, e.w) AS vec
        FROM pg_temp.persona_events e
        JOIN persona.item_vectors v ON v.model = o->>'item2vec_model' AND v.item_id = e.item_id
        GROUP BY e.user_id
    ), top_categories AS (
        -- Up to three categories with the largest (decayed, type-weighted) share.
        SELECT user_id, array_agg(category ORDER BY cw DESC, category) AS categories
        FROM (SELECT user_id, category, cw, row_number() OVER (PARTITION BY user_id ORDER BY cw DESC, category) AS rn
              FROM (SELECT e.user_id, i.category, sum(e.w) AS cw
                    FROM pg_temp.persona_events e JOIN pg_temp.persona_items i USING (item_id)
                    WHERE i.category IS NOT NULL AND e.w > 0 GROUP BY 1, 2) c) r
        WHERE rn <= 3 GROUP BY user_id
    ), category_median AS (
        SELECT category, percentile_cont(0.5) WITHIN GROUP (ORDER BY price) AS median_price
        FROM pg_temp.persona_items WHERE category IS NOT NULL AND price > 0 GROUP BY category
    ), price_ratio AS (
        -- Bought items when the user bought anything, else the items touched.
        SELECT user_id, percentile_cont(0.5) WITHIN GROUP (ORDER BY ratio) AS price_index
        FROM (SELECT e.user_id, i.price / m.median_price AS ratio,
                     e.event_type = ANY (purchase_types) AS is_purchase,
                     bool_or(e.event_type = ANY (purchase_types)) OVER (PARTITION BY e.user_id) AS buyer
              FROM pg_temp.persona_events e
              JOIN pg_temp.persona_items i USING (item_id)
              JOIN category_median m USING (category)
              WHERE i.price > 0) r
        WHERE is_purchase OR NOT buyer
        GROUP BY user_id
    ), clv AS (
        SELECT s.user_id,
               s.purchase_days - 1 AS x,
               (s.last_purchase - s.first_purchase)::float8 AS t_x,
               greatest(p_as_of::date - s.first_purchase, 1)::float8 AS big_t
        FROM pg_temp.persona_user_stats s WHERE s.purchase_days > 0
    )
    SELECT p_name, u.user_id, p_as_of, s.first_seen, s.last_seen, coalesce(s.events, 0),
           extract(epoch FROM p_as_of - s.last_purchase_at) / 86400,
           coalesce(s.orders, 0), coalesce(s.monetary, 0),
           CASE WHEN s.orders > 0 THEN s.monetary / s.orders END,
           coalesce(tc.categories, '{}'),
           pr.price_index,
           CASE WHEN pr.price_index IS NULL THEN NULL
                WHEN pr.price_index < 0.8 THEN 'budget' WHEN pr.price_index > 1.25 THEN 'premium' ELSE 'mid' END,
           coalesce(s.events_30d, 0),
           CASE WHEN coalesce(s.events_30d, 0) = 0 THEN 'none'
                WHEN cardinality(cuts) < 2 OR s.events_30d <= cuts[1] THEN 'low'
                WHEN s.events_30d <= cuts[2] THEN 'medium' ELSE 'high' END,
           CASE WHEN s.first_seen IS NULL OR s.first_seen > p_as_of - make_interval(days => def.active_days) THEN 'new'
                WHEN s.last_seen > p_as_of - make_interval(days => def.active_days) THEN 'active'
                WHEN s.last_seen > p_as_of - make_interval(days => def.lapsed_days) THEN 'at_risk'
                ELSE 'lapsed' END,
           ep.expected, pa.alive,
           ep.expected * persona.gamma_gamma_expected_spend(m_gg, greatest(coalesce(c.x, 0), 0),
                                                             CASE WHEN s.purchase_days > 0 THEN s.monetary / s.purchase_days ELSE 0 END),
           t.vec, b.vec,
           CASE WHEN b_dim + t_dim > 0 THEN persona.profile_vector(b.vec, t.vec, (o->>'text_weight')::float8, b_dim, t_dim) END
    FROM users u
    LEFT JOIN pg_temp.persona_user_stats s USING (user_id)
    LEFT JOIN pg_temp.persona_text_vecs t USING (user_id)
    LEFT JOIN behaviour b USING (user_id)
    LEFT JOIN price_ratio pr USING (user_id)
    LEFT JOIN top_categories tc USING (user_id)
    LEFT JOIN clv c USING (user_id)
    -- Buyers from their first purchase; others from first seen, with no
    -- repeat purchases (BG/NBD's probability alive is 1 for them by
    -- construction, so it is left NULL).
    LEFT JOIN LATERAL (SELECT persona.bgnbd_expected_purchases(m_bgnbd, coalesce(c.x, 0), coalesce(c.t_x, 0),
                                  coalesce(c.big_t, greatest(p_as_of::date - s.first_seen::date, 1)), 90) AS expected
                       WHERE m_bgnbd IS NOT NULL AND (c.user_id IS NOT NULL OR s.first_seen IS NOT NULL)) ep ON true
    LEFT JOIN LATERAL (SELECT persona.bgnbd_probability_alive(m_bgnbd, c.x, c.t_x, c.big_t) AS alive
                       WHERE m_bgnbd IS NOT NULL AND c.user_id IS NOT NULL) pa ON true;
    GET DIAGNOSTICS n_profiles = ROW_COUNT;
END
$$;

CREATE FUNCTION persona.build_profiles(
    name text,
    events text,
    user_col text DEFAULT 'user_id',
    item_col text DEFAULT 'item_id',
    type_col text DEFAULT 'event_type',
    time_col text DEFAULT 'event_time',
    price_col text DEFAULT NULL,
    quantity_col text DEFAULT NULL,
    order_col text DEFAULT NULL,
    items text DEFAULT NULL,
    item_key_col text DEFAULT 'item_id',
    category_col text DEFAULT 'category',
    item_price_col text DEFAULT 'price',
    texts text DEFAULT NULL,
    text_user_col text DEFAULT 'user_id',
    text_vec_col text DEFAULT 'embedding',
    text_time_col text DEFAULT 'created_at',
    users text DEFAULT NULL,
    users_key_col text DEFAULT 'user_id',
    item2vec_model text DEFAULT NULL,
    event_weights jsonb DEFAULT '{"view": 1, "cart": 3, "purchase": 5}',
    purchase_types text[] DEFAULT '{purchase}',
    half_life interval DEFAULT '30 days',
    dedup_window interval DEFAULT '30 minutes',
    text_weight float8 DEFAULT 0.5,
    active_days integer DEFAULT NULL,
    lapsed_days integer DEFAULT NULL,
    as_of timestamptz DEFAULT NULL)
RETURNS TABLE (profiles bigint, events_used bigint, duplicates_removed bigint, events_skipped bigint, seconds float8)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_variable
DECLARE
    started timestamptz := clock_timestamp();
    o jsonb;
    ev text := persona._source(events, 'events');
    watermark timestamptz;
    text_mark timestamptz;
    r record;
    -- Before any work: one build of a name at a time, and only its owner's.
    owner regrole := persona._claim_model('profiles', name);
BEGIN
    -- Seven steps in persona.progress, 1-6 reported by _compute_profiles.
    PERFORM persona._progress_begin('build_profiles', 'checking the sources', 'steps', 7);
    IF half_life IS NULL OR half_life <= interval '0' THEN
        RAISE EXCEPTION 'half_life must be positive, not %', half_life USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF dedup_window IS NULL OR dedup_window < interval '0' THEN
        RAISE EXCEPTION 'dedup_window must be 0 or more, not %', dedup_window USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF text_weight IS NULL OR text_weight < 0 OR text_weight > 1 THEN
        RAISE EXCEPTION 'text_weight must be between 0 and 1, not %', text_weight USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- NULL: derived from the shop's times between purchases at the build.
    IF active_days < 1 OR lapsed_days < 2 OR lapsed_days <= active_days THEN
        RAISE EXCEPTION 'need 1 <= active_days < lapsed_days, not % and %', active_days, lapsed_days
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Leave both NULL to derive them from the times between purchases.';
    END IF;
    IF event_weights IS NULL OR jsonb_typeof(event_weights) <> 'object'
       OR EXISTS (SELECT FROM jsonb_each(event_weights) w WHERE jsonb_typeof(w.value) <> 'number' OR w.value::text::float8 < 0) THEN
        RAISE EXCEPTION 'event_weights must be a JSON object of non-negative numbers, not %', event_weights
            USING ERRCODE = 'invalid_parameter_value', HINT = 'For example {"view": 1, "cart": 3, "purchase": 5}.';
    END IF;

    PERFORM persona._column_type(events, user_col, 'integer', 'user_col');
    PERFORM persona._column_type(events, item_col, 'integer', 'item_col');
    PERFORM persona._column_type(events, type_col, 'any', 'type_col');
    PERFORM persona._column_type(events, time_col, 'time', 'time_col');
    IF price_col IS NOT NULL THEN PERFORM persona._column_type(events, price_col, 'number', 'price_col'); END IF;
    IF quantity_col IS NOT NULL THEN PERFORM persona._column_type(events, quantity_col, 'number', 'quantity_col'); END IF;
    IF order_col IS NOT NULL THEN PERFORM persona._column_type(events, order_col, 'any', 'order_col'); END IF;
    IF items IS NOT NULL THEN
        PERFORM persona._column_type(items, item_key_col, 'integer', 'item_key_col');
        IF category_col IS NOT NULL THEN PERFORM persona._column_type(items, category_col, 'any', 'category_col'); END IF;
        IF item_price_col IS NOT NULL THEN PERFORM persona._column_type(items, item_price_col, 'number', 'item_price_col'); END IF;
    END IF;
    IF texts IS NOT NULL THEN
        PERFORM persona._column_type(texts, text_user_col, 'integer', 'text_user_col');
        PERFORM persona._column_type(texts, text_vec_col, 'vector', 'text_vec_col');
        IF text_time_col IS NOT NULL THEN PERFORM persona._column_type(texts, text_time_col, 'time', 'text_time_col'); END IF;
    END IF;
    IF users IS NOT NULL THEN
        PERFORM persona._column_type(users, users_key_col, 'integer', 'users_key_col');
    END IF;
    IF item2vec_model IS NOT NULL AND NOT EXISTS (SELECT FROM persona.item_vectors v WHERE v.model = item2vec_model) THEN
        RAISE EXCEPTION 'item2vec model "%" does not exist', item2vec_model USING ERRCODE = 'undefined_object',
            HINT = 'Train it first with persona.train_item2vec().';
    END IF;

    o := jsonb_build_object(
        'events', events, 'user_col', user_col, 'item_col', item_col, 'type_col', type_col, 'time_col', time_col,
        'price_col', price_col, 'quantity_col', quantity_col, 'order_col', order_col,
        'items', items, 'item_key_col', item_key_col, 'category_col', category_col, 'item_price_col', item_price_col,
        'texts', texts, 'text_user_col', text_user_col, 'text_vec_col', text_vec_col, 'text_time_col', text_time_col,
        'users', users, 'users_key_col', users_key_col, 'item2vec_model', item2vec_model,
        'event_weights', event_weights, 'purchase_types', to_jsonb(purchase_types),
        'half_life', half_life::text, 'dedup_window', dedup_window::text, 'text_weight', text_weight,
        'active_days', active_days, 'lapsed_days', lapsed_days, 'as_of', as_of);

    watermark := persona._read_as(owner, format('SELECT to_jsonb(max((s.%I)::timestamptz)) FROM %s s', time_col, ev)) #>> '{}';
    IF texts IS NOT NULL AND text_time_col IS NOT NULL THEN
        text_mark := persona._read_as(owner, format('SELECT to_jsonb(max((s.%I)::timestamptz)) FROM %s s',
                                                    text_time_col, persona._source(texts, 'texts'))) #>> '{}';
    END IF;

    INSERT INTO persona.profile_definitions AS d (name, options, event_watermark, text_watermark, as_of, built_at)
    VALUES (name, o, watermark, text_mark, coalesce(as_of, watermark, now()), now())
    ON CONFLICT ON CONSTRAINT profile_definitions_pkey DO UPDATE
        SET options = excluded.options, event_watermark = excluded.event_watermark,
            text_watermark = excluded.text_watermark, as_of = excluded.as_of,
            built_at = excluded.built_at, refreshed_at = NULL;

    -- Users from the users table who have no events yet also get a profile.
    PERFORM persona._drop_temp(ARRAY['persona_changed_users']);
    CREATE TEMP TABLE persona_changed_users (user_id bigint PRIMARY KEY) ON COMMIT DROP;
    IF users IS NOT NULL THEN
        PERFORM persona._read_as(owner,
            format('INSERT INTO pg_temp.persona_changed_users SELECT DISTINCT (s.%I)::bigint FROM %s s WHERE s.%I IS NOT NULL',
                   users_key_col, persona._source(users, 'users'), users_key_col),
            ARRAY['persona_changed_users']);
    END IF;

    IF watermark IS NULL AND text_mark IS NULL AND NOT EXISTS (SELECT FROM pg_temp.persona_changed_users) THEN
        RAISE NOTICE 'profiles "%": no events in %; no profiles written', name, events;
        DELETE FROM persona.profiles p WHERE p.name = build_profiles.name;
        UPDATE persona.profile_definitions d SET profiles = 0 WHERE d.name = build_profiles.name;
        PERFORM persona._progress_end();
        RETURN QUERY SELECT 0::bigint, 0::bigint, 0::bigint, 0::bigint, extract(epoch FROM clock_timestamp() - started)::float8;
        RETURN;
    END IF;

    -- Full build: every user; users-table users without events join through
    -- persona_changed_users (changed => false reads it only for the user list).
    SELECT * INTO r FROM persona._compute_profiles(name, owner, o, coalesce(as_of, watermark, now()), true, false);
    UPDATE persona.profile_definitions d SET profiles = r.n_profiles WHERE d.name = build_profiles.name;
    RAISE NOTICE 'profiles "%": wrote % profiles', name, r.n_profiles;
    PERFORM persona._progress_end();
    RETURN QUERY SELECT r.n_profiles, r.n_events, r.n_duplicates, r.n_skipped,
        extract(epoch FROM clock_timestamp() - started)::float8;
END
$$;

CREATE FUNCTION persona.refresh_profiles(name text)
RETURNS TABLE (profiles bigint, events_used bigint, duplicates_removed bigint, events_skipped bigint, seconds float8)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_variable
DECLARE
    started timestamptz := clock_timestamp();
    -- The caller must be able to act as the owner; the sources run as the owner.
    owner regrole := persona._use_model('profiles', name, 'refresh them');
    d persona.profile_definitions;
    o jsonb;
    ev text;
    new_mark timestamptz;
    new_text_mark timestamptz;
    new_as_of timestamptz;
    n_changed bigint;
    n_vanished bigint;
    r record;
    km record;
BEGIN
    -- Eight steps in persona.progress, 1-6 reported by _compute_profiles.
    PERFORM persona._progress_begin('refresh_profiles', 'finding changed users', 'steps', 8);
    -- One refresh of a definition at a time; readers are not blocked.
    SELECT * INTO d FROM persona.profile_definitions p WHERE p.name = refresh_profiles.name FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'profiles "%" do not exist', name USING ERRCODE = 'undefined_object',
            HINT = 'Build them first with persona.build_profiles().';
    END IF;
    o := d.options;
    ev := persona._source(o->>'events', 'events');

    PERFORM persona._drop_temp(ARRAY['persona_changed_users', 'persona_vanished_users']);
    CREATE TEMP TABLE persona_changed_users (user_id bigint PRIMARY KEY) ON COMMIT DROP;
    CREATE TEMP TABLE persona_vanished_users (user_id bigint PRIMARY KEY) ON COMMIT DROP;
    PERFORM persona._read_as(owner,
        format('INSERT INTO pg_temp.persona_changed_users SELECT DISTINCT (s.%1$I)::bigint FROM %2$s s
                WHERE s.%1$I IS NOT NULL AND ($1::timestamptz IS NULL OR (s.%3$I)::timestamptz > $1::timestamptz) ON CONFLICT DO NOTHING',
               o->>'user_col', ev, o->>'time_col'),
        ARRAY['persona_changed_users'], ARRAY[d.event_watermark::text]);
    new_mark := persona._read_as(owner,
        format('SELECT to_jsonb(max((s.%1$I)::timestamptz)) FROM %2$s s WHERE $1::timestamptz IS NULL OR (s.%1$I)::timestamptz > $1::timestamptz',
               o->>'time_col', ev),
        '{}', ARRAY[d.event_watermark::text]) #>> '{}';
    IF o->>'texts' IS NOT NULL AND o->>'text_time_col' IS NOT NULL THEN
        PERFORM persona._read_as(owner,
            format('INSERT INTO pg_temp.persona_changed_users SELECT DISTINCT (s.%1$I)::bigint FROM %2$s s
                    WHERE s.%1$I IS NOT NULL AND ($1::timestamptz IS NULL OR (s.%3$I)::timestamptz > $1::timestamptz) ON CONFLICT DO NOTHING',
                   o->>'text_user_col', persona._source(o->>'texts', 'texts'), o->>'text_time_col'),
            ARRAY['persona_changed_users'], ARRAY[d.text_watermark::text]);
        new_text_mark := persona._read_as(owner,
            format('SELECT to_jsonb(max((s.%1$I)::timestamptz)) FROM %2$s s WHERE $1::timestamptz IS NULL OR (s.%1$I)::timestamptz > $1::timestamptz',
                   o->>'text_time_col', persona._source(o->>'texts', 'texts')),
            '{}', ARRAY[d.text_watermark::text]) #>> '{}';
    END IF;
    IF o->>'users' IS NOT NULL THEN
        PERFORM persona._read_as(owner,
            format('INSERT INTO pg_temp.persona_changed_users SELECT DISTINCT (s.%1$I)::bigint FROM %2$s s
                    WHERE s.%1$I IS NOT NULL AND NOT EXISTS (SELECT FROM persona.profiles p WHERE p.name = $1 AND p.user_id = (s.%1$I)::bigint)
                    ON CONFLICT DO NOTHING',
                   o->>'users_key_col', persona._source(o->>'users', 'users')),
            ARRAY['persona_changed_users'], ARRAY[d.name]);
    END IF;

    -- Users deleted from every source (events, texts, users) lose their
    -- profile and their segment assignments: an erasure in the shop's
    -- tables reaches persona at the next refresh.
    PERFORM persona._read_as(owner,
        format('INSERT INTO pg_temp.persona_vanished_users SELECT p.user_id FROM persona.profiles p
                WHERE p.name = $1 AND NOT EXISTS (SELECT FROM %s s WHERE (s.%I)::bigint = p.user_id) %s %s',
               ev, o->>'user_col',
               CASE WHEN o->>'texts' IS NOT NULL THEN
                   format('AND NOT EXISTS (SELECT FROM %s t WHERE (t.%I)::bigint = p.user_id)', persona._source(o->>'texts', 'texts'), o->>'text_user_col') ELSE '' END,
               CASE WHEN o->>'users' IS NOT NULL THEN
                   format('AND NOT EXISTS (SELECT FROM %s u WHERE (u.%I)::bigint = p.user_id)', persona._source(o->>'users', 'users'), o->>'users_key_col') ELSE '' END),
        ARRAY['persona_vanished_users'], ARRAY[d.name]);
    SELECT count(*) INTO n_vanished FROM pg_temp.persona_vanished_users;
    IF n_vanished > 0 THEN
        DELETE FROM persona.profiles p WHERE p.name = d.name AND p.user_id IN (SELECT user_id FROM pg_temp.persona_vanished_users);
        DELETE FROM persona.segment_assignments a USING persona.kmeans_models m
         WHERE m.profile_name = d.name AND a.name = m.name AND a.version = m.version
           AND a.user_id IN (SELECT user_id FROM pg_temp.persona_vanished_users);
        DELETE FROM persona.segment_probabilities a USING persona.kmeans_models m
         WHERE m.profile_name = d.name AND a.name = m.name AND a.version = m.version
           AND a.user_id IN (SELECT user_id FROM pg_temp.persona_vanished_users);
        UPDATE persona.segment_descriptions s
           SET exemplar_users = ARRAY(SELECT x FROM unnest(s.exemplar_users) x
                                      WHERE x NOT IN (SELECT user_id FROM pg_temp.persona_vanished_users))
          FROM persona.kmeans_models m
         WHERE m.profile_name = d.name AND s.name = m.name AND s.version = m.version
           AND s.exemplar_users && ARRAY(SELECT user_id FROM pg_temp.persona_vanished_users);
        PERFORM persona._segment_stats(m.name, m.version)
           FROM (SELECT DISTINCT ON (name) name, version FROM persona.kmeans_models
                 WHERE profile_name = d.name AND name = ANY (persona._writable('kmeans'))
                 ORDER BY name, version DESC) m;
        RAISE NOTICE 'profiles "%": removed % users who are no longer in any source', name, n_vanished;
    END IF;

    SELECT count(*) INTO n_changed FROM pg_temp.persona_changed_users;
    IF n_changed = 0 THEN
        IF n_vanished = 0 THEN
            RAISE NOTICE 'profiles "%": no new events since %; nothing to refresh', name, d.event_watermark;
        END IF;
        UPDATE persona.profile_definitions p SET profiles = (SELECT count(*) FROM persona.profiles q WHERE q.name = d.name)
         WHERE p.name = d.name AND n_vanished > 0;
        PERFORM persona._progress_end();
        RETURN QUERY SELECT 0::bigint, 0::bigint, 0::bigint, 0::bigint, extract(epoch FROM clock_timestamp() - started)::float8;
        RETURN;
    END IF;

    -- A fixed as_of given to the build stays fixed; otherwise time moves to
    -- the newest event.
    new_as_of := CASE WHEN o->>'as_of' IS NOT NULL THEN (o->>'as_of')::timestamptz
                      ELSE greatest(d.as_of, new_mark, new_text_mark) END;
    SELECT * INTO r FROM persona._compute_profiles(d.name, owner, o, new_as_of, false, true);
    PERFORM persona._progress_update(7, 're-assigning segments');
    -- Segments trained on these profiles (the ones this caller may write):
    -- re-assign the refreshed users to the current version of each model.
    FOR km IN SELECT DISTINCT ON (m.name) m.name, m.version, m.algorithm FROM persona.kmeans_models m
              WHERE m.profile_name = d.name AND m.name = ANY (persona._writable('kmeans'))
              ORDER BY m.name, m.version DESC LOOP
        DELETE FROM persona.segment_assignments a
         WHERE a.name = km.name AND a.version = km.version AND a.user_id IN (SELECT user_id FROM pg_temp.persona_changed_users);
        IF km.algorithm = 'gmm' THEN
            -- A mixture: the most probable segment, and every probability.
            DELETE FROM persona.segment_probabilities a
             WHERE a.name = km.name AND a.version = km.version AND a.user_id IN (SELECT user_id FROM pg_temp.persona_changed_users);
            CREATE TEMP TABLE persona_mixture_scores ON COMMIT DROP AS
            SELECT p.user_id, n.* FROM persona.profiles p, persona._mixture_assign(km.name, p.profile_vec) n
            WHERE p.name = d.name AND p.profile_vec IS NOT NULL
              AND p.user_id IN (SELECT user_id FROM pg_temp.persona_changed_users);
            INSERT INTO persona.segment_assignments (name, version, user_id, segment, distance, margin, anomaly_score)
            SELECT km.name, n.version, n.user_id, n.segment, n.distance, n.margin, n.anomaly_score FROM pg_temp.persona_mixture_scores n;
            INSERT INTO persona.segment_probabilities (name, version, user_id, segments, probabilities)
            SELECT km.name, n.version, n.user_id, n.segments, n.probabilities FROM pg_temp.persona_mixture_scores n;
            DROP TABLE pg_temp.persona_mixture_scores;
        ELSE
            INSERT INTO persona.segment_assignments (name, version, user_id, segment, distance, margin, anomaly_score)
            SELECT km.name, n.version, p.user_id, n.segment, n.distance, n.margin, n.anomaly_score
            FROM persona.profiles p, persona.kmeans_nearest(km.name, p.profile_vec) n
            WHERE p.name = d.name AND p.profile_vec IS NOT NULL
              AND p.user_id IN (SELECT user_id FROM pg_temp.persona_changed_users);
        END IF;
        PERFORM persona._segment_stats(km.name, km.version);
    END LOOP;
    UPDATE persona.profile_definitions p
       SET event_watermark = greatest(d.event_watermark, new_mark),
           text_watermark = greatest(d.text_watermark, new_text_mark),
           as_of = new_as_of, refreshed_at = now(),
           profiles = (SELECT count(*) FROM persona.profiles q WHERE q.name = d.name)
     WHERE p.name = d.name;
    RAISE NOTICE 'profiles "%": refreshed % users', name, r.n_profiles;
    PERFORM persona._progress_end();
    RETURN QUERY SELECT r.n_profiles, r.n_events, r.n_duplicates, r.n_skipped,
        extract(epoch FROM clock_timestamp() - started)::float8;
END
$$;
