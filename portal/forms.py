"""Forms of the partner's workspace."""
from django import forms


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label="Why your firm cannot take it", widget=forms.Textarea(attrs={"rows": 3}), max_length=2000,
        help_text="Kept in the engagement's history; the startup is matched with another partner.",
    )

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Say why the engagement is declined.")
        return reason
