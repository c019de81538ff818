from __future__ import annotations

from django import forms

from customers.calls import CallOutcome


class CaseOpenForm(forms.Form):
    subject = forms.CharField(max_length=200, label="Subject")
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, label="What happened"
    )
    resolve_now = forms.BooleanField(
        required=False, label="Solved during this call (resolved on first contact)"
    )


class CaseResolveForm(forms.Form):
    is_first_contact = forms.BooleanField(required=False, label="Solved on the first contact")


class CallOutcomeForm(forms.Form):
    outcome = forms.ChoiceField(choices=CallOutcome.CHOICES, label="Outcome")
    notes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=2000, label="Notes"
    )
