"""The diff rule catalogue: stable ids, each with the direction its change breaks (docs/diff-rules.md)."""

from __future__ import annotations

import enum


class Direction(enum.Enum):
    COMPATIBLE = "compatible"
    BREAKS_FORWARD = "breaks-forward"
    """A new source to an old target fails or loses a value."""
    BREAKS_BACKWARD = "breaks-backward"
    """An old source to a new target fails or loses a value."""
    BREAKS_BOTH = "breaks-both"
    BEHAVIOURAL = "behavioural"
    """The wire is unchanged; what a migration does is not."""
    COSMETIC = "cosmetic"

    @property
    def breaking(self) -> bool:
        return self in (Direction.BREAKS_FORWARD, Direction.BREAKS_BACKWARD, Direction.BREAKS_BOTH)


RULES: dict[str, tuple[Direction, str]] = {
    "VD001": (Direction.COMPATIBLE, "section added"),
    "VD002": (Direction.BREAKS_BOTH, "section removed"),
    "VD003": (Direction.BREAKS_BOTH, "section id changed"),
    "VD004": (Direction.BREAKS_BOTH, "device requires a section it did not have"),
    "VD005": (Direction.COMPATIBLE, "device gains an optional section"),
    "VD006": (Direction.BREAKS_BOTH, "device drops a section"),
    "VD010": (Direction.BREAKS_BOTH, "wire layout of an existing version changed"),
    "VD011": (Direction.COMPATIBLE, "version added, older versions kept"),
    "VD012": (Direction.BREAKS_BOTH, "no version both builds save and load"),
    "VD013": (Direction.BEHAVIOURAL, "min_version raised, a common version remains"),
    "VD014": (Direction.COMPATIBLE, "field added in a new version, older versions load its default"),
    "VD015": (Direction.COMPATIBLE, "field retired in a new version (until), older versions still carry it"),
    "VD016": (Direction.BREAKS_BOTH, "descriptor record changed (a record of another layout is refused)"),
    "VD017": (Direction.BEHAVIOURAL, "descriptor field compares other register bits"),
    "VD018": (Direction.BREAKS_BACKWARD, "fewer instances of a repeated section (a new loader refuses an old "
                                         "source's extra ones)"),
    "VD019": (Direction.BREAKS_FORWARD, "more instances of a repeated section (an old loader refuses a new "
                                        "source's extra ones)"),
    "VD020": (Direction.BREAKS_BACKWARD, "register bits became reserved (an old source's set bits are refused)"),
    "VD021": (Direction.BREAKS_FORWARD, "reserved register bits became declared (a new source's set bits are refused)"),
    "VD022": (Direction.BREAKS_BOTH, "register writable bits changed (the descriptors' write masks differ: "
                                     "the target refuses)"),
    "VD023": (Direction.BREAKS_FORWARD, "enum value added (an old loader refuses it)"),
    "VD024": (Direction.BREAKS_BACKWARD, "enum value removed (a new loader refuses it)"),
    "VD026": (Direction.BREAKS_BOTH, "register emulated bits changed (the descriptors' emulated-bits masks "
                                     "differ: the target refuses)"),
    "VD025": (Direction.BREAKS_BOTH, "default changed of a field the common version does not carry"),
    "VD027": (Direction.BREAKS_BOTH, "a bit field's reserved_when changed (where the conditions differ, one "
                                     "side's loader refuses bits the other saves and the write masks differ)"),
    "VD030": (Direction.BEHAVIOURAL, "compat rules changed"),
    "VD031": (Direction.BEHAVIOURAL, "restore steps changed"),
    "VD032": (Direction.BREAKS_BACKWARD, "constraint added (a new loader refuses what an old source may hold)"),
    "VD033": (Direction.BEHAVIOURAL, "hooks changed"),
    "VD034": (Direction.BEHAVIOURAL, "register reset value changed"),
    "VD035": (Direction.BREAKS_FORWARD, "constraint removed (an old loader refuses what a new source may hold)"),
    "VD036": (Direction.BREAKS_BOTH, "a param's source (`from`) changed (the builds may compute another value "
                                     "for one function, and lay its sections out differently)"),
    "VD037": (Direction.BEHAVIOURAL, "param added, removed, retyped or given another default (what a "
                                     "hypervisor passes; a device's own value is VD038)"),
    "VD038": (Direction.BREAKS_BOTH, "a device's value of a param changed, bound or by default (the section is "
                                     "laid out for another function)"),
    "VD040": (Direction.COSMETIC, "title changed"),
    "VD041": (Direction.BREAKS_BOTH, "a register's mask-list index changed (each build compares another "
                                     "register's masks)"),
}
