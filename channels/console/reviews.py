"""The merge review queue: two known people whose identifiers met in one event are never
merged automatically; an agent looks at both and decides, and can undo a merge."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from customers import selectors as customer_selectors
from customers import services as customer_services
from customers.models import AccessAction, Merge, MergeReview, MergeReviewStatus
from customers.services import ReviewDecision, access_log_record
from interaction_platform.errors import DomainError
from interaction_platform.pages import require_action
from interaction_platform.permissions import Action


@require_GET
@require_action(Action.MERGE_REVIEW)
def queue(request: HttpRequest) -> HttpResponse:
    reviews = list(customer_selectors.merge_review_list(status=MergeReviewStatus.OPEN)[:50])
    shown = [review.first_customer for review in reviews] + [
        review.second_customer for review in reviews
    ]
    if shown:
        access_log_record(
            actor=request.user,
            customers=shown,
            action=AccessAction.VIEW,
            via="console: merge review queue",
            reason="deciding merges",
        )
    return render(
        request,
        "console/reviews.html",
        {"reviews": reviews, "merges": customer_selectors.merge_list_recent()},
    )


@require_POST
@require_action(Action.MERGE_REVIEW)
def decide(request: HttpRequest, review_id: int) -> HttpResponse:
    review = get_object_or_404(MergeReview, pk=review_id)
    choice = request.POST.get("decision")
    if choice not in {ReviewDecision.MERGE, ReviewDecision.KEEP_APART}:
        messages.error(request, "Choose to merge them or keep them apart; nothing changed.")
        return redirect("console:reviews")
    survivor = None
    if choice == ReviewDecision.MERGE and request.POST.get("survivor"):
        survivor_id = request.POST["survivor"]
        survivor = next(
            (
                c
                for c in (review.first_customer, review.second_customer)
                if str(c.pk) == survivor_id
            ),
            None,
        )
        if survivor is None:
            messages.error(request, "The customer who stays must be one of the two.")
            return redirect("console:reviews")
    try:
        customer_services.merge_review_resolve(
            review=review, decision=ReviewDecision(choice), actor=request.user, survivor=survivor
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, "Merged into one profile." if choice == "merge" else "Kept apart."
        )
    return redirect("console:reviews")


@require_POST
@require_action(Action.MERGE_REVIEW)
def undo(request: HttpRequest, merge_id: int) -> HttpResponse:
    merge = get_object_or_404(Merge, pk=merge_id)
    try:
        customer_services.customer_unmerge(merge=merge, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "The merge is undone: both profiles are separate again.")
    return redirect("console:reviews")
