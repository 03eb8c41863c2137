"""`search_tokens__tokens_match="王伟 & 伟明"`: every token must be one of the
row's tokens (a trailing ":*" makes it a prefix).

On PostgreSQL the match reads the tsvector PostgreSQL stores beside the tokens
(`search_vector`, a generated column: migration 0007) through its GIN index; a row
tested one by one (a walk along the AUM-ordered index for a broad search) costs
a tsvector match, not a parse of its tokens. Elsewhere it is LIKE on the
space-separated tokens, which are stored lower-case: exactly the words the
'simple' configuration makes of them."""

from django.db.models import Lookup, TextField

# token column -> the tsvector column PostgreSQL generates from it
STORED_VECTORS = {"search_tokens": "search_vector"}


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@TextField.register_lookup
class TokensMatch(Lookup):
    lookup_name = "tokens_match"

    def as_postgresql(self, compiler, connection):
        column = self.lhs.target.column
        if column not in STORED_VECTORS:
            raise ValueError(f"{column} has no stored tsvector")
        rhs, rhs_params = self.process_rhs(compiler, connection)
        vector = connection.ops.quote_name(STORED_VECTORS[column])
        lhs = f"{compiler.quote_name_unless_alias(self.lhs.alias)}.{vector}"
        return f"{lhs} @@ to_tsquery('simple'::regconfig, {rhs})", rhs_params

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        parts, params = [], []
        for token in str(self.rhs).split(" & "):
            if token.endswith(":*"):
                pattern = f"% {_like_escape(token[:-2])}%"
            else:
                pattern = f"% {_like_escape(token)} %"
            parts.append(f"(' ' || {lhs} || ' ') LIKE %s")
            params.extend([*lhs_params, pattern])
        return " AND ".join(parts) or "1=0", params
