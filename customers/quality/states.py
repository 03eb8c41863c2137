"""The states of a data-quality issue and the kinds that concern a pair of customers."""

from ..choices import QualityIssueKind, QualityIssueStatus

OPEN = QualityIssueStatus.OPEN
RESOLVED = QualityIssueStatus.RESOLVED
DISMISSED = QualityIssueStatus.DISMISSED
PAIR_KINDS = frozenset({QualityIssueKind.DUPLICATE_ID, QualityIssueKind.DUPLICATE_PERSON})

# The resolution of an open issue whose condition no longer holds.
NO_LONGER_DETECTED = "no longer detected"
