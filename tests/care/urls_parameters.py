"""The URL harness's entries of the alert parameters: admin pages only (the values in
force are read only; a parameter manager adds a proposal; the auditor reads)."""

from __future__ import annotations


def add(t) -> None:
    t.ADMIN_MODELS["care.alertparameters"] = t.AdminRule(view=t._roles("admin", "pm", "audit"))
    t.ADMIN_MODELS["care.alertparameterproposal"] = t.AdminRule(
        view=t._roles("admin", "pm", "audit"), add=t._roles("pm")
    )
