"""Bootstrap classes on every form widget, so templates render fields as they are, and
the portal's rule on every text field: no control characters."""

from django import forms

from .text import reject_control_characters


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

    def full_clean(self):
        # here rather than in __init__: it also covers fields a form adds after it
        reject_control_characters(self)
        super().full_clean()
