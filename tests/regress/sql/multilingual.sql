-- multilingual-e5-small: one file under two names (the prefix is part of the
-- model), Chinese and other scripts, registration rules, cancel.
\set SHOW_CONTEXT never
SELECT name, weights, prefix, max_tokens FROM persona.models WHERE name LIKE 'multilingual%' ORDER BY name;
-- Unit vectors of 384 for any script (cuneiform is not in the vocabulary: unknown pieces),
-- empty text and text beyond the four windows.
SELECT left(t, 12) AS text, array_length(v, 1) AS dims, round(sqrt(persona.inner_product(v, v))::numeric, 4) AS norm
FROM (VALUES ('这个手机很好用'), ('這款筆記型電腦很好'), ('great value'), ('😀😀'), (''), ('   '),
             ('ｆｕｌｌ　ｗｉｄｔｈ'), ('𒀀𒀁𒀂 ꙮ'), (repeat('物流很快，质量很好。', 2000))) AS x(t),
     LATERAL (SELECT persona.embed(t, 'multilingual-e5-small') AS v) AS e;
-- Meaning survives: a paraphrase is closer than an unrelated review, also across languages.
SELECT persona.cosine_similarity(persona.embed('物流太慢了', 'multilingual-e5-small'), persona.embed('快递很慢', 'multilingual-e5-small'))
     > persona.cosine_similarity(persona.embed('物流太慢了', 'multilingual-e5-small'), persona.embed('衣服很漂亮', 'multilingual-e5-small')) AS paraphrase_closer,
       persona.cosine_similarity(persona.embed('the delivery was very slow', 'multilingual-e5-small'), persona.embed('物流太慢了', 'multilingual-e5-small'))
     > persona.cosine_similarity(persona.embed('the dress is beautiful', 'multilingual-e5-small'), persona.embed('物流太慢了', 'multilingual-e5-small')) AS across_languages;
-- The two names differ only in the prefix, so the same text gets close but different vectors.
SELECT persona.cosine_similarity(persona.embed('物流太慢了', 'multilingual-e5-small'),
                                 persona.embed('物流太慢了', 'multilingual-e5-small-passage')) BETWEEN 0.8 AND 0.9999 AS prefixes_differ;
-- A batch gives what one text at a time gives.
SELECT bool_and(persona.cosine_similarity(b.embedding, persona.embed(t.x[b.ord], 'multilingual-e5-small')) > 0.99999) AS batch_matches
FROM (SELECT ARRAY['好评', '差评，再也不买了', 'ok', '', '質量很好，價格也合理'] AS x) AS t,
     LATERAL persona.embed_batch(t.x, 'multilingual-e5-small') AS b;
-- Registration: an e5 file is weights q4 and needs a prefix.
SELECT * FROM persona.register_model('e5-bare', '$sharedir/persona/models/multilingual-e5-small/e5-small-q4.bin', weights => 'q4');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.register_model('e5-dir', '$sharedir/persona/models/multilingual-e5-small', weights => 'q4', prefix => 'query: ');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.register_model('e5-as-bert', '$sharedir/persona/models/multilingual-e5-small/e5-small-q4.bin');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.register_model('e5-minilm', '$sharedir/persona/models/all-MiniLM-L6-v2', weights => 'q4', prefix => 'query: ');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.register_model('e5-long', '/srv/e5.bin', weights => 'q4', prefix => repeat('x', 65));
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM persona.register_model('e5-mine', '$sharedir/persona/models/multilingual-e5-small/e5-small-q4.bin', weights => 'q4', prefix => 'query: ');
SELECT persona.cosine_similarity(persona.embed('好评', 'e5-mine'), persona.embed('好评', 'multilingual-e5-small')) > 0.999999 AS same_vectors;
DELETE FROM persona.models WHERE name = 'e5-mine';
-- statement_timeout stops a long batch of long texts.
SET statement_timeout = '1s';
SELECT count(*) FROM persona.embed_batch(array(SELECT repeat('物流很快，质量很好。', 300) FROM generate_series(1, 2000)), 'multilingual-e5-small');
RESET statement_timeout;
