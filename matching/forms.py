"""Staff forms for matching."""
from django import forms

from .models import Partner


class AssignPartnerForm(forms.Form):
    partner = forms.ModelChoiceField(
        queryset=Partner.objects.filter(is_vetted=True, is_active=True).order_by("name"),
        label="Partner",
    )
    reason = forms.CharField(label="Why this partner", widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class ReasonForm(forms.Form):
    reason = forms.CharField(label="Reason", widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)

