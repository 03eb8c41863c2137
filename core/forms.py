"""Bootstrap classes on every form widget, so templates render fields as they are, the
portal's rule on every text field: no control characters, and an empty choice that
says what it means ("Choose…", "None") where Django would show "---------"."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .text import reject_control_characters

UNLABELLED = "---------"


class BootstrapFormMixin:
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, (forms.CheckboxInput, forms.CheckboxSelectMultiple, forms.RadioSelect)):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            existing = widget.attrs.get("class", "")
            widget.attrs["class"] = f"{existing} {css}".strip()
            if isinstance(field, forms.ModelChoiceField) and field.empty_label == UNLABELLED:
                # Django's "---------" says nothing: say what choosing nothing means
                field.empty_label = _("Choose…") if field.required else _("None")

    def full_clean(self):
        # here rather than in __init__: it also covers fields a form adds after it
        reject_control_characters(self)
        super().full_clean()


def add_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """A service's refusal on the form: on its fields where the form has them, the
    rest above the fields."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc)
