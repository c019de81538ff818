"""Forms of the web store. They validate input; services decide."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms

from customers.identity import normalise_phone
from interaction_platform.errors import DomainError, InvalidInput
from orders.countries import COUNTRIES
from orders.models import FulfilmentMethod
from orders.services.common import MAX_LINE_QUANTITY


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


class WebForm(forms.Form):
    """A form of the shop's own pages, with the helpers its views share."""

    def first_error(self) -> str:
        """The first problem in plain words (for a form answered on another page)."""
        for field_name, errors in self.errors.items():
            if field_name == "__all__" or field_name not in self.fields:
                return str(errors[0])
            return f"{self.fields[field_name].label}: {errors[0]}"
        return "Check the form."

    def add_domain_error(self, error: DomainError) -> None:
        """A service's refusal, on the form: its message on top, its field messages beside
        the fields they name (``payment.token`` → ``token``)."""
        self.add_error(None, error.message)
        for name, field_messages in error.fields.items():
            field = name.rsplit(".", 1)[-1]
            for message in field_messages:
                if field in self.fields and field not in self.errors:
                    self.add_error(field, message)


class BasketLineForm(WebForm):
    sku = forms.CharField(max_length=64, label="Size or colour")
    quantity = forms.IntegerField(
        min_value=1, max_value=MAX_LINE_QUANTITY, label="Quantity", initial=1
    )


class VoucherForm(WebForm):
    code = forms.CharField(
        max_length=32,
        label="Voucher code",
        help_text="One voucher per order. Minimum spends are checked at checkout.",
    )


class CheckoutForm(WebForm):
    """The checkout page. Prices and totals are never on it: the server computes them."""

    ADDRESS_FIELDS = ("first_name", "last_name", "line1", "postcode", "city", "country", "phone")

    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=100)
    fulfilment = forms.ChoiceField(
        choices=[
            (FulfilmentMethod.DELIVERY, "Deliver to my address"),
            (FulfilmentMethod.CLICK_AND_COLLECT, "Click & collect in a store (free)"),
        ],
        widget=forms.RadioSelect,
        label="How do you want to receive it?",
        initial=FulfilmentMethod.DELIVERY,
    )
    first_name = forms.CharField(max_length=100, label="First name")
    last_name = forms.CharField(max_length=100, label="Last name")
    line1 = forms.CharField(max_length=200, label="Street and number")
    postcode = forms.CharField(max_length=16, label="Postcode")
    city = forms.CharField(max_length=100, label="City")
    country = forms.ChoiceField(label="Country", choices=())
    phone = forms.CharField(
        max_length=32,
        label="Phone",
        help_text="For the delivery service, if they need to reach you.",
    )
    pickup_store = forms.ChoiceField(
        label="Store",
        choices=(),
        error_messages={"required": "Choose the store where you want to collect it."},
    )
    card_token = forms.CharField(
        max_length=64,
        label="Card token",
        help_text=(
            "This shop runs on the sandbox payment provider: type a test token, never a card "
            "number. tok_sandbox_approve is approved; tok_sandbox_decline is declined; "
            "tok_sandbox_error fails at the provider; tok_sandbox_timeout leaves the answer "
            "pending (press Place order again to finish; you are charged once)."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def __init__(self, *args: Any, stores: Sequence[tuple[str, str]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        country = self.fields["country"]
        assert isinstance(country, forms.ChoiceField)
        country.choices = [(code, rules.name) for code, rules in COUNTRIES.items()]
        pickup_store = self.fields["pickup_store"]
        assert isinstance(pickup_store, forms.ChoiceField)
        pickup_store.choices = [("", "Choose a store"), *stores]
        # Only the chosen way's fields are needed; both are marked needed on the blank form.
        if self.data.get("fulfilment") == FulfilmentMethod.CLICK_AND_COLLECT:
            for name in self.ADDRESS_FIELDS:
                self.fields[name].required = False
        elif self.is_bound:
            pickup_store.required = False

    def delivery_address(self) -> dict[str, str]:
        return {name: self.cleaned_data[name] for name in self.ADDRESS_FIELDS}


class ReturnForm(WebForm):
    """Start a return by post: how many of each line (fields ``line-<id>``), and why."""

    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=100)
    reason = forms.CharField(
        max_length=300,
        required=False,
        label="Why are you sending it back?",
        help_text="It helps us improve; your refund does not depend on it.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, returnable: Sequence[Any] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.line_fields: list[tuple[Any, str]] = []
        for line in returnable:
            name = f"line-{line.pk}"
            left = line.quantity - line.returned_quantity
            self.fields[name] = forms.IntegerField(
                min_value=0,
                max_value=left,
                required=False,
                initial=0,
                label=f"{line.product_name} — how many to return (up to {left})",
            )
            self.line_fields.append((line, name))

    @property
    def line_bound_fields(self) -> list[forms.BoundField]:
        return [self[name] for _, name in self.line_fields]

    def requested(self) -> list[tuple[int, int]]:
        """(order line id, quantity) of the lines with a quantity above zero."""
        return [
            (line.pk, self.cleaned_data[name])
            for line, name in self.line_fields
            if self.cleaned_data.get(name)
        ]


class MessageForm(WebForm):
    """A question to customer service: it opens a support case."""

    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=100)
    subject = forms.CharField(max_length=200, label="Subject")
    message = forms.CharField(
        max_length=4000,
        label="Your message",
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Tell us what happened. We answer by e-mail within one working day.",
    )

    def clean_message(self) -> str:
        message: str = self.cleaned_data["message"]
        if "\x00" in message:
            raise forms.ValidationError("Remove the unusual characters from your message.")
        return message
