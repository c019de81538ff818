"""Forms of the web store. They validate input; services decide."""

from __future__ import annotations

from django import forms

from customers.identity import normalise_phone
from interaction_platform.errors import InvalidInput


class SignUpForm(forms.Form):
    first_name = forms.CharField(max_length=100, label="First name")
    last_name = forms.CharField(max_length=100, label="Last name")
    email = forms.EmailField(label="E-mail address", max_length=254)
    password = forms.CharField(
        label="Password",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 8 characters, not only digits, not a common password.",
        strip=False,
        max_length=128,
    )
    marketing_email = forms.BooleanField(
        required=False,
        label="Send me news and offers by e-mail (you can stop them at any time)",
    )


class ProfileForm(forms.Form):
    first_name = forms.CharField(max_length=100, required=False, label="First name")
    last_name = forms.CharField(max_length=100, required=False, label="Last name")
    phone = forms.CharField(
        max_length=32, required=False, label="Phone", help_text="So store staff can find you."
    )
    address_line1 = forms.CharField(max_length=200, required=False, label="Street and number")
    address_line2 = forms.CharField(max_length=200, required=False, label="Address line 2")
    postcode = forms.CharField(max_length=16, required=False, label="Postcode")
    city = forms.CharField(max_length=100, required=False, label="City")

    def clean_phone(self) -> str:
        phone: str = self.cleaned_data["phone"].strip()
        if not phone:
            return ""
        try:
            return normalise_phone(phone)
        except InvalidInput as error:
            raise forms.ValidationError(error.fields["phone"][0]) from error


class ConsentForm(forms.Form):
    analytics = forms.BooleanField(
        required=False, label="Analytics: remember what I look at to improve the shop for me"
    )
    email = forms.BooleanField(required=False, label="News and offers by e-mail")
    sms = forms.BooleanField(required=False, label="News and offers by text message")
    direct_mail = forms.BooleanField(required=False, label="Our magazine and offers by post")
