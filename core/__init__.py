"""What every app needs and no app owns: query helpers, form rendering, text rules,
batching, advisory-lock keys, month arithmetic, JSON-safe audit details. It imports
no app of the portal, so every app may import it."""
