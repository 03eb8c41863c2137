"""`search_tokens__tokens_match="王伟 & 伟明"`: every token must be one of the
row's tokens (a trailing ":*" makes it a prefix). On PostgreSQL a full-text match
served by the GIN index; elsewhere LIKE on the space-separated tokens."""

from django.db.models import Lookup, TextField


@TextField.register_lookup
class TokensMatch(Lookup):
    lookup_name = "tokens_match"

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        sql = f"to_tsvector('simple'::regconfig, {lhs}) @@ to_tsquery('simple'::regconfig, {rhs})"
        return sql, (*lhs_params, *rhs_params)

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        parts, params = [], []
        for token in str(self.rhs).split(" & "):
            if token.endswith(":*"):
                parts.append(f"(' ' || {lhs} || ' ') LIKE %s")
                params.extend([*lhs_params, f"% {token[:-2]}%"])
            else:
                parts.append(f"(' ' || {lhs} || ' ') LIKE %s")
                params.extend([*lhs_params, f"% {token} %"])
        return " AND ".join(parts) or "1=0", params
