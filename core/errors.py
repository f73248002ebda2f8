"""Typed domain errors: a stable code and a message a user can read."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A rule of the product said no. The message is safe to show to the user."""

    code = "domain_error"
    template = "That can't be done right now."

    def __init__(self, template: str | None = None, **params: Any) -> None:
        self.params = params
        self.user_message = (template or self.template).format(**params)
        super().__init__(self.user_message)


class NotFound(DomainError):
    """Missing, or not yours: both read the same so ids cannot be probed."""

    code = "not_found"
    template = "I couldn't find that {thing}. It may have been removed, or it isn't yours."

    def __init__(self, thing: str = "item", template: str | None = None, **params: Any) -> None:
        super().__init__(template, thing=thing, **params)


class InvalidInput(DomainError):
    code = "invalid_input"
    template = "{reason}"

    def __init__(self, reason: str) -> None:
        super().__init__(reason=reason)


class SlotTaken(DomainError):
    code = "slot_taken"
    template = "Sorry, that time was just taken by someone else. Please pick another time."


class StudentBusy(DomainError):
    code = "student_busy"
    template = "You already have a session at that time. Please pick another time."


class CourseRetired(DomainError):
    code = "course_retired"
    template = ("That course has been retired: it takes no new students. Students already "
                "enrolled can still book their sessions.")


class IntroAlreadyTaken(DomainError):
    code = "intro_taken"
    template = "You've already had your free intro with this teacher. Book a session instead."


class BookingStateError(DomainError):
    code = "booking_state"
    template = "That booking is {status} now, so this can't be done."


class ReasonRequired(DomainError):
    code = "reason_required"
    template = "Cancelling less than {hours} hours before the start needs a short reason."


class ConfigError(Exception):
    """A configuration value is wrong; the message names the key."""
