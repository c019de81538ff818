"""sitemap.xml: every published product and every category, with clean URLs."""

from __future__ import annotations

from datetime import datetime

from django.contrib.sitemaps import Sitemap
from django.db.models import QuerySet
from django.urls import reverse

from catalog.models import Category, Product


class ProductSitemap(Sitemap):
    changefreq = "weekly"
    priority = 0.8
    limit = 10_000

    def items(self) -> QuerySet[Product]:
        return Product.objects.filter(is_published=True).only("slug", "updated_at").order_by("id")

    def location(self, item: Product) -> str:
        return reverse("web:product", kwargs={"slug": item.slug})

    def lastmod(self, item: Product) -> datetime:
        return item.updated_at


class CategorySitemap(Sitemap):
    changefreq = "weekly"
    priority = 0.6

    def items(self) -> QuerySet[Category]:
        return Category.objects.only("slug").order_by("id")

    def location(self, item: Category) -> str:
        return reverse("web:category", kwargs={"slug": item.slug})


SITEMAPS = {"products": ProductSitemap, "categories": CategorySitemap}
