-- Customer-lifetime-value model fitting as parallel-safe aggregates. Rows with
-- a NULL are skipped (and counted in a NOTICE); no rows gives NULL.
CREATE AGGREGATE persona.bgnbd_fit(frequency float8, recency float8, t float8) (
    SFUNC = persona.bgnbd_fit_accum,
    STYPE = internal,
    FINALFUNC = persona.bgnbd_fit_final,
    COMBINEFUNC = persona.clv_fit_combine,
    SERIALFUNC = persona.clv_fit_serial,
    DESERIALFUNC = persona.clv_fit_deserial,
    PARALLEL = SAFE
);

CREATE AGGREGATE persona.gamma_gamma_fit(frequency float8, mean_spend float8) (
    SFUNC = persona.gamma_gamma_fit_accum,
    STYPE = internal,
    FINALFUNC = persona.gamma_gamma_fit_final,
    COMBINEFUNC = persona.clv_fit_combine,
    SERIALFUNC = persona.clv_fit_serial,
    DESERIALFUNC = persona.clv_fit_deserial,
    PARALLEL = SAFE
);
