"""Tables. Importing this package registers every table on ``Base.metadata``."""

from core.models.access import AccountEmail, EmailToken, RateEvent, WebSession
from core.models.account import Identity, User, UserRole
from core.models.availability import AvailabilityRule
from core.models.booking import ACTIVE_STATUSES, Booking
from core.models.catalogue import Course, CourseMaterial, CourseModule, CourseTeacher
from core.models.conversation import Conversation
from core.models.direct import Block, Broadcast, DirectMessage, DirectThread, Report
from core.models.external import ExternalBusy, ExternalCalendar
from core.models.growth import Inquiry, Referral
from core.models.learning import (
    Certificate,
    CertificationRequest,
    Enrolment,
    Follow,
    ModuleProgress,
    Profile,
    Quiz,
    QuizAttempt,
    QuizQuestion,
    SessionModule,
    TeachingApplication,
)
from core.models.mail import EmailMessage
from core.models.messaging import InboundUpdate, LinkCode, OutboxMessage
from core.models.money import (
    LedgerEntry,
    LedgerTxn,
    MoneyOut,
    Payment,
    PayoutAccount,
    ProviderEvent,
    TransferReversal,
)
from core.models.review import SessionReview
from core.models.schedule import AvailabilityOverride, Reminder, TeacherSettings
from core.models.session import (
    AIQuestion,
    Attendance,
    Recording,
    SessionMessage,
    SessionRoom,
    Transcript,
    VideoRoom,
)

__all__ = [
    "ACTIVE_STATUSES",
    "AIQuestion",
    "AccountEmail",
    "Attendance",
    "AvailabilityOverride",
    "AvailabilityRule",
    "Block",
    "Booking",
    "Broadcast",
    "Certificate",
    "CertificationRequest",
    "Conversation",
    "Course",
    "CourseMaterial",
    "CourseModule",
    "CourseTeacher",
    "DirectMessage",
    "DirectThread",
    "EmailMessage",
    "EmailToken",
    "Enrolment",
    "ExternalBusy",
    "ExternalCalendar",
    "Follow",
    "Identity",
    "InboundUpdate",
    "Inquiry",
    "LedgerEntry",
    "LedgerTxn",
    "LinkCode",
    "ModuleProgress",
    "MoneyOut",
    "OutboxMessage",
    "Payment",
    "PayoutAccount",
    "Profile",
    "ProviderEvent",
    "Quiz",
    "QuizAttempt",
    "QuizQuestion",
    "RateEvent",
    "Recording",
    "Referral",
    "Reminder",
    "Report",
    "SessionMessage",
    "SessionModule",
    "SessionReview",
    "SessionRoom",
    "TeacherSettings",
    "TeachingApplication",
    "Transcript",
    "TransferReversal",
    "User",
    "UserRole",
    "VideoRoom",
    "WebSession",
]
