//! Columns whose vectors are kept fresh (`persona.embed_on_change`).
