-- Risk control: persona.score_risks() scores the users of one profile
-- definition from its events (src/risk.rs, persona-risk and persona-cluster's
-- rings), with the reasons in words and numbers. Results belong to the
-- profiles: the same owner, readers and row-level security.

CREATE TABLE persona.risk_scores (
    name    text NOT NULL REFERENCES persona.profile_definitions (name) ON DELETE CASCADE,
    user_id bigint NOT NULL,
    score   float8 NOT NULL CHECK (score >= 0),
    ring    integer,
    reasons jsonb NOT NULL DEFAULT '[]',
    scored_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (name, user_id)
);
SELECT pg_catalog.pg_extension_config_dump('persona.risk_scores', '');

CREATE TABLE persona.risk_rings (
    name    text NOT NULL REFERENCES persona.profile_definitions (name) ON DELETE CASCADE,
    ring    integer NOT NULL,
    size    bigint NOT NULL,
    members bigint[] NOT NULL,
    PRIMARY KEY (name, ring)
);
SELECT pg_catalog.pg_extension_config_dump('persona.risk_rings', '');

CREATE FUNCTION persona.score_risks(
    profiles text,
    "window" interval DEFAULT '10 minutes',
    view_types text[] DEFAULT '{view}',
    cart_types text[] DEFAULT '{cart}',
    refund_types text[] DEFAULT '{refund,return}',
    ring_distance float8 DEFAULT 0.02,
    ring_min_accounts integer DEFAULT 5,
    threshold float8 DEFAULT 3,
    signup_col text DEFAULT NULL)
RETURNS TABLE (users bigint, risky bigint, rings bigint, seconds float8)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF profiles IS NULL OR "window" IS NULL OR view_types IS NULL OR cart_types IS NULL OR refund_types IS NULL
       OR ring_distance IS NULL OR ring_min_accounts IS NULL OR threshold IS NULL THEN
        RAISE EXCEPTION 'the arguments of persona.score_risks must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    RETURN QUERY SELECT * FROM persona._score_risks(profiles, floor(extract(epoch FROM "window"))::bigint,
        view_types, cart_types, refund_types, ring_distance, ring_min_accounts, threshold, signup_col);
END
$$;

-- The users with a risk reason, most risky first, the reasons as one line.
CREATE VIEW persona.risks AS
SELECT r.name AS profiles, r.user_id, r.score,
       rank() OVER (PARTITION BY r.name ORDER BY r.score DESC) AS rank,
       (SELECT string_agg(x->>'text', '; ' ORDER BY (x->>'contribution')::float8 DESC) FROM jsonb_array_elements(r.reasons) x) AS reasons,
       (SELECT string_agg(coalesce(x->>'text_zh', x->>'text'), '；' ORDER BY (x->>'contribution')::float8 DESC)
        FROM jsonb_array_elements(r.reasons) x) AS reasons_zh,
       ARRAY(SELECT x->>'reason' FROM jsonb_array_elements(r.reasons) x ORDER BY (x->>'contribution')::float8 DESC) AS reason_codes,
       r.ring, g.size AS ring_size
FROM persona.risk_scores r
LEFT JOIN persona.risk_rings g ON g.name = r.name AND g.ring = r.ring
WHERE r.score > 0;

-- One user's reasons, one row each.
CREATE FUNCTION persona.risk_reasons(profiles text, user_id bigint)
RETURNS TABLE (reason text, value float8, typical float8, contribution float8, text text, text_zh text)
LANGUAGE sql STABLE AS $$
    SELECT x->>'reason', (x->>'value')::float8, (x->>'typical')::float8, (x->>'contribution')::float8, x->>'text',
           coalesce(x->>'text_zh', x->>'text')
    FROM persona.risk_scores r, jsonb_array_elements(r.reasons) x
    WHERE r.name = $1 AND r.user_id = $2
    ORDER BY (x->>'contribution')::float8 DESC
$$;
