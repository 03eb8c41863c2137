"""`channels__has_item="sms"`: a JSON list of strings holds this string (a code of a
list kept as JSON: a product's or a campaign's channels). The right side is a
string or a column (`OuterRef("code")`).

On PostgreSQL it is jsonb containment, which a GIN index would serve; on SQLite
(the embedded default, where Django's `contains` on JSON is not supported) the
list's members through json_each."""

from django.db.models import JSONField, Lookup


@JSONField.register_lookup
class HasItem(Lookup):
    lookup_name = "has_item"
    prepare_rhs = False

    def get_db_prep_lookup(self, value, connection):
        return "%s", [str(value)]  # the string itself, not as JSON

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} @> jsonb_build_array(({rhs})::text)", [*lhs_params, *rhs_params]

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"EXISTS (SELECT 1 FROM json_each({lhs}) WHERE json_each.value = {rhs})", [
            *lhs_params,
            *rhs_params,
        ]
