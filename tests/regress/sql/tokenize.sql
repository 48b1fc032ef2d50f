-- persona.tokenize: the words the segment explanations count.
-- Chinese is segmented into words; single characters and stop words go.
SELECT persona.tokenize('这件衣服的质量非常好，物流也很快，客服态度不错') AS simplified;
SELECT persona.tokenize('這件衣服的質量非常好，物流也很快，客服態度不錯') AS traditional;
-- Other text: lowercased alphanumeric runs of three or more, stop words dropped.
SELECT persona.tokenize('Fast delivery, GREAT quality; will buy again') AS english;
SELECT persona.tokenize('iPhone手机很好用，5星好评！😀') AS mixed;
-- Kana and hangul are split like English; kanji like Chinese.
SELECT persona.tokenize('東京に行きました 한국어 텍스트는') AS japanese_korean;
-- Full-width letters are folded by clean_text, not by tokenize.
SELECT persona.tokenize(persona.clean_text('<b>物流</b>很快，ＱＵＡＬＩＴＹ很好！')) AS cleaned;
SELECT persona.tokenize('') AS empty, persona.tokenize('的了是 the and 我们') AS only_stop_words,
       persona.tokenize(NULL) IS NULL AS null_stays_null;
-- Word order and repeats are kept.
SELECT w, n FROM unnest(persona.tokenize('快递快递，物流')) WITH ORDINALITY AS t(w, n);
SELECT cardinality(persona.tokenize(repeat('物流很快，', 100000))) AS words_in_a_long_text;
