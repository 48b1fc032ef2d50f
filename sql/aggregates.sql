-- persona.vec_avg: element-wise mean of real[] vectors, optionally weighted.
-- Parallel safe: partial states are combined, and shipped between processes
-- through the serial/deserial functions. NULL vectors (and NULL weights) are
-- skipped; no rows, or a total weight of 0, gives NULL.
CREATE AGGREGATE persona.vec_avg(real[]) (
    SFUNC = persona.vec_avg_accum,
    STYPE = internal,
    FINALFUNC = persona.vec_avg_final,
    COMBINEFUNC = persona.vec_avg_combine,
    SERIALFUNC = persona.vec_avg_serial,
    DESERIALFUNC = persona.vec_avg_deserial,
    PARALLEL = SAFE
);

CREATE AGGREGATE persona.vec_avg(real[], float8) (
    SFUNC = persona.vec_avg_weighted_accum,
    STYPE = internal,
    FINALFUNC = persona.vec_avg_final,
    COMBINEFUNC = persona.vec_avg_combine,
    SERIALFUNC = persona.vec_avg_serial,
    DESERIALFUNC = persona.vec_avg_deserial,
    PARALLEL = SAFE
);
