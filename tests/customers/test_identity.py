"""The identity rules, in memory: which identifiers an event carries, and where it goes."""

from __future__ import annotations

from typing import Any

import pytest

from customers.identity import (
    EventIdentifiers,
    FreshCustomer,
    IdentityKey,
    NewIdentity,
    PlannedConflict,
    PlannedMerge,
    ProfileHints,
    ResolutionPlan,
    has_analytics_consent,
    identifiers_from_event,
    is_anonymous_event,
    profile_hints_from_event,
)

USER = "user_id"
ANON = "anonymous_id"
EMAIL = "email"


def key(kind: str, value: str) -> IdentityKey:
    return IdentityKey(kind, value)


class TestIdentifiersFromEvent:
    def test_every_identifier_normalised_strongest_first(self) -> None:
        payload = {
            "userId": " u-1 ",
            "anonymousId": "a-1",
            "traits": {"email": " Anna@Example.COM", "phone": "06 1234 5678"},
            "context": {"traits": {"loyalty_number": "nw 0000 0042"}},
        }
        assert identifiers_from_event(payload, is_shared_device=False) == EventIdentifiers(
            keys=(
                key(USER, "u-1"),
                key("loyalty", "NW00000042"),
                key(EMAIL, "anna@example.com"),
                key("phone", "+31612345678"),
                key(ANON, "a-1"),
            )
        )

    @pytest.mark.parametrize(
        "blocked", ["null", "NULL", "anonymous", "undefined", "0", "-1", "", "   ", "000-000"]
    )
    def test_blocked_values_are_never_identities(self, blocked: str) -> None:
        payload = {"userId": blocked, "anonymousId": "a-1", "traits": {"email": blocked}}
        assert identifiers_from_event(payload, is_shared_device=False).keys == (key(ANON, "a-1"),)

    def test_malformed_traits_are_ignored_not_refused(self) -> None:
        payload = {"userId": "u-1", "traits": {"email": "not-an-email", "phone": "12"}}
        assert identifiers_from_event(payload, is_shared_device=False).keys == (key(USER, "u-1"),)

    def test_numbers_and_non_text_ids(self) -> None:
        payload = {"userId": 42, "anonymousId": True, "traits": {"email": ["a@example.com"]}}
        assert identifiers_from_event(payload, is_shared_device=False).keys == (key(USER, "42"),)

    def test_a_shared_device_drops_its_anonymous_id_once_a_person_is_named(self) -> None:
        named = {"anonymousId": "tablet-7", "traits": {"email": "anna@example.com"}}
        unnamed = {"anonymousId": "tablet-7"}
        assert identifiers_from_event(named, is_shared_device=True).keys == (
            key(EMAIL, "anna@example.com"),
        )
        assert identifiers_from_event(unnamed, is_shared_device=True).keys == (
            key(ANON, "tablet-7"),
        )

    def test_an_alias_previous_id_may_be_an_anonymous_or_a_user_id(self) -> None:
        payload = {"type": "alias", "userId": "u-2", "previousId": "old"}
        assert identifiers_from_event(payload, is_shared_device=False) == EventIdentifiers(
            keys=(key(USER, "u-2"), key(ANON, "old")), lookup_only=(key(USER, "old"),)
        )


class TestEventClassification:
    @pytest.mark.parametrize(
        ("payload", "anonymous"),
        [
            ({"anonymousId": "a"}, True),
            ({"anonymousId": "a", "userId": "null"}, True),
            ({"anonymousId": "a", "traits": {"email": "bad"}}, True),
            ({"anonymousId": "a", "userId": "u"}, False),
            ({"anonymousId": "a", "context": {"traits": {"phone": "+31612345678"}}}, False),
        ],
    )
    def test_anonymous_means_naming_nobody(self, payload: dict[str, Any], anonymous: bool) -> None:
        assert is_anonymous_event(payload) is anonymous

    @pytest.mark.parametrize(
        ("context", "granted"),
        [
            ({"consent": {"categoryPreferences": {"Analytics": True}}}, True),
            ({"consent": {"categoryPreferences": {" analytics ": True, "Ads": False}}}, True),
            ({"consent": {"categoryPreferences": {"Analytics": "yes"}}}, False),
            ({"consent": {"categoryPreferences": {"Analytics": False}}}, False),
            ({"consent": {"categoryPreferences": {"Advertising": True}}}, False),
            ({"consent": {"categoryPreferences": ["Analytics"]}}, False),
            ({"consent": {}}, False),
            ({}, False),
        ],
    )
    def test_analytics_consent_is_an_explicit_true(
        self, context: dict[str, Any], granted: bool
    ) -> None:
        assert has_analytics_consent({"context": context}) is granted

    def test_profile_hints_come_from_traits(self) -> None:
        payload = {
            "traits": {"firstName": " Anna ", "last_name": "Visser", "email": "A@Example.com"},
            "context": {"traits": {"phone": "0612345678"}},
        }
        assert profile_hints_from_event(payload) == ProfileHints(
            email="a@example.com", phone="+31612345678", first_name="Anna", last_name="Visser"
        )


def ids(*keys: IdentityKey) -> EventIdentifiers:
    return EventIdentifiers(keys=tuple(sorted(keys, key=lambda k: (k.strength, k.value))))


def plan(owners: dict[IdentityKey, int], identified: dict[int, bool]) -> ResolutionPlan:
    return ResolutionPlan(owners=dict(owners), identified=dict(identified))


def place(resolution: ResolutionPlan, identifiers: EventIdentifiers, **options: Any) -> Any:
    options.setdefault("is_shared_device", False)
    return resolution.place(identifiers, message_id="m", source="s", **options)


class TestResolutionPlan:
    def test_nobody_known_makes_one_new_customer_for_all_its_identifiers(self) -> None:
        resolution = plan({}, {})
        first = place(resolution, ids(key(ANON, "a-1")))
        again = place(resolution, ids(key(ANON, "a-1"), key(USER, "u-1")))
        assert isinstance(first, FreshCustomer)
        assert again is first
        assert resolution.new_identities == [
            NewIdentity(key(ANON, "a-1"), first, "s"),
            NewIdentity(key(USER, "u-1"), first, "s"),
        ]
        assert resolution.identified[first] is True
        assert resolution.merges == []

    def test_one_known_customer_gets_the_new_identifiers(self) -> None:
        resolution = plan({key(USER, "u-1"): 7}, {7: True})
        assert place(resolution, ids(key(USER, "u-1"), key(EMAIL, "a@x.nl"))) == 7
        assert resolution.new_identities == [NewIdentity(key(EMAIL, "a@x.nl"), 7, "s")]
        assert resolution.fresh == []

    def test_an_anonymous_profile_folds_into_the_known_one(self) -> None:
        resolution = plan({key(ANON, "a-1"): 3, key(USER, "u-1"): 9}, {3: False, 9: True})
        assert place(resolution, ids(key(ANON, "a-1"), key(USER, "u-1"))) == 9
        assert resolution.merges == [
            PlannedMerge(
                absorbed=3,
                survivor=9,
                message_id="m",
                source="s",
                identifiers=(key(USER, "u-1"), key(ANON, "a-1")),
            )
        ]
        # later events of the anonymous id follow the merge
        assert place(resolution, ids(key(ANON, "a-1"))) == 9

    def test_without_a_known_person_the_oldest_profile_survives(self) -> None:
        resolution = plan({key(ANON, "a-1"): 8, key(USER, "old"): 5}, {8: False, 5: False})
        alias = EventIdentifiers(keys=(key(ANON, "a-1"),), lookup_only=(key(USER, "old"),))
        assert place(resolution, alias) == 5
        assert resolution.merges == [
            PlannedMerge(
                absorbed=8,
                survivor=5,
                message_id="m",
                source="s",
                identifiers=(key(USER, "old"), key(ANON, "a-1")),
            )
        ]

    def test_two_known_people_are_never_merged(self) -> None:
        resolution = plan({key(USER, "u-1"): 4, key(EMAIL, "b@x.nl"): 6}, {4: True, 6: True})
        placed = place(resolution, ids(key(USER, "u-1"), key(EMAIL, "b@x.nl"), key(ANON, "a")))
        assert placed == 4  # the user id is the strongest identifier
        assert resolution.merges == []
        assert resolution.new_identities == []  # in doubt, nothing is attached
        assert resolution.conflicts == [
            PlannedConflict(
                placed_on=4,
                other=6,
                identifiers=(key(USER, "u-1"), key(EMAIL, "b@x.nl"), key(ANON, "a")),
                message_id="m",
                source="s",
            )
        ]

    def test_a_shared_device_never_merges(self) -> None:
        resolution = plan({key(ANON, "a-1"): 3, key(USER, "u-1"): 9}, {3: False, 9: True})
        placed = place(resolution, ids(key(ANON, "a-1"), key(USER, "u-1")), is_shared_device=True)
        assert placed == 9
        assert resolution.merges == []
        assert resolution.conflicts == []

    def test_hints_fill_blanks_of_the_events_customer(self) -> None:
        resolution = plan({key(USER, "u-1"): 7}, {7: True})
        place(resolution, ids(key(USER, "u-1")), hints=ProfileHints(first_name="Anna"))
        place(resolution, ids(key(USER, "u-1")), hints=ProfileHints(first_name="X", email="e@x"))
        assert resolution.hints[7] == ProfileHints(first_name="Anna", email="e@x")

    def test_an_event_naming_nobody_is_not_placed(self) -> None:
        assert place(plan({}, {}), EventIdentifiers(keys=())) is None
