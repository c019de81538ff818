from __future__ import annotations

from typing import Any

from django import forms

from catalog import selectors as catalog_selectors
from customers.calls import CallOutcome
from interaction_platform.errors import NotFound


class CaseOpenForm(forms.Form):
    subject = forms.CharField(max_length=200, label="Subject")
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, label="What happened"
    )
    product = forms.CharField(
        max_length=64,
        required=False,
        label="Product asked about (SKU)",
        help_text="Optional: the web store then suggests it to the customer too.",
    )
    resolve_now = forms.BooleanField(
        required=False, label="Solved during this call (resolved on first contact)"
    )

    def clean_product(self) -> Any:
        sku = self.cleaned_data["product"].strip()
        if not sku:
            return None
        try:
            return catalog_selectors.variant_get(sku=sku)
        except NotFound as error:
            raise forms.ValidationError(f"No product has the SKU '{sku}'.") from error


class CaseResolveForm(forms.Form):
    is_first_contact = forms.BooleanField(required=False, label="Solved on the first contact")


class CallOutcomeForm(forms.Form):
    outcome = forms.ChoiceField(choices=CallOutcome.CHOICES, label="Outcome")
    notes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=2000, label="Notes"
    )
