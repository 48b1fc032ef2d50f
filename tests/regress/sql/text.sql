-- persona.clean_text: preprocessing of review and search text.
SELECT persona.clean_text('<p>Great <b>dress</b> &amp; cheap</p>') AS html;
SELECT persona.clean_text('ＦＵＬＬ　ｗｉｄｔｈ　１２３ ｶﾀｶﾅ') AS nfkc;
SELECT persona.clean_text(E'  two\t\tspaces\r\n and\u200B zero-width ') AS whitespace;
SELECT persona.clean_text('3 < 5 & 7 > 2') AS not_html;
SELECT persona.clean_text(NULL) IS NULL AS null_stays_null, persona.clean_text('') = '' AS empty_stays_empty;
-- Typical use before embedding.
SELECT array_length(persona.embed(persona.clean_text('<div>Runs&nbsp;small</div>')), 1) AS dims;
