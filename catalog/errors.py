"""Domain errors of the catalog (the family is in :mod:`interaction_platform.errors`)."""

from __future__ import annotations

from interaction_platform.errors import Conflict


class OutOfStock(Conflict):
    """Not enough units available where the order would take them from."""

    code = "out_of_stock"
    default_message = "Not enough stock."

    def __init__(self, message: str | None = None, *, sku: str = "") -> None:
        self.sku = sku
        super().__init__(message)

    @classmethod
    def for_variant(cls, *, variant_id: int) -> OutOfStock:
        # Imported here: the error family is importable before the apps are loaded (the logging
        # configuration reaches it through orders.cards).
        from catalog.models import Variant

        sku = Variant.objects.filter(pk=variant_id).values_list("sku", flat=True).first() or ""
        return cls(f"'{sku}' is not available in the quantity asked for.", sku=sku)
