"""Detector rules (parsers/detectors/*.yaml) as frozen values (`ruleparse` reads them).

The YAML schema is documented in parsers/README.md. A rule has metadata (id, title, category,
severity, scope, remediation per cloud, references, inhibits), one condition and inline real
samples. Conditions are built from line matchers; the engine evaluates them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from consolewatch.detect.facts import ContextTest

REMEDIATION_KEYS = ("default", "aws", "aws-xen", "aws-nitro", "gce", "do", "openstack", "openstack-xen", "openstack-kvm",
                    "qemu", "azure")
VERDICTS = ("failure", "stall", "success", "none")


@dataclass(frozen=True, slots=True)
class Window:
    """How far a multi-line condition may reach: seconds of line time and/or lines."""

    seconds: float | None = None
    lines: int | None = None

    def exceeded(self, t0: float | None, seq0: int, t: float | None, seq: int) -> bool:
        if self.lines is not None and seq - seq0 > self.lines:
            return True
        return self.seconds is not None and t0 is not None and t is not None and t - t0 > self.seconds


@dataclass(frozen=True, slots=True)
class LineMatcher:
    """Tests one line: a regex on its message and/or a format pattern, field tests, exclusions."""

    regex: re.Pattern[str] | None = None
    format_ref: str | None = None
    where: tuple[tuple[str, re.Pattern[str]], ...] = ()
    exclude: re.Pattern[str] | None = None
    origin: str | None = None
    context: tuple[ContextTest, ...] = ()
    """Fields compared with the cloud's facts (detect/facts.py)."""


@dataclass(frozen=True, slots=True)
class LineCond:
    matchers: tuple[LineMatcher, ...]


@dataclass(frozen=True, slots=True)
class SequenceCond:
    steps: tuple[LineMatcher, ...]
    window: Window


@dataclass(frozen=True, slots=True)
class AbsentCond:
    first: LineMatcher
    expect: tuple[LineMatcher, ...]
    """Any of them ends the wait (a format pattern reference costs no scanning of its own)."""
    window: Window | None
    """None: by the end of the boot."""
    latest: bool = False
    """Quote the latest `first` line too (an agent retrying: its last error is the current one)."""


@dataclass(frozen=True, slots=True)
class RepeatCond:
    matcher: LineMatcher
    count: int
    window: Window | None


@dataclass(frozen=True, slots=True)
class BootCond:
    reached: tuple[str, ...] = ()
    not_reached: tuple[str, ...] = ()
    last_milestone: tuple[str, ...] = ()
    max_lines_after: int | None = None
    min_lines_after: int | None = None
    """At least this many lines of `origin` after the last milestone line (a banner, then output)."""
    ended_by: tuple[str, ...] = ()
    outcome: tuple[str, ...] = ()
    evidence: str = "last-line"
    origin: str | None = None
    """Judge milestones and lines of this origin only (`text`: the serial port, not the screen)."""
    last_pattern: tuple[str, ...] = ()
    """The last milestone line must match one of these format patterns (e.g. a hand-off line)."""
    unless_found: tuple[str, ...] = ()
    """Not when the boot already has a finding of one of these categories (a failure that
    explains the boot's end better)."""
    first_boot: bool | None = None
    """True: only on the first boot the capture shows on this origin (an earlier boot there ended
    by restarting into this one: what it printed proves the console); False: only on later ones."""
    armed: bool | None = None
    """True: only when the boot showed a watchdog that resets the machine unless fed (an `arms`
    format pattern: a driver initialised, a daemon arming it); evidence `armed` quotes that line."""
    unless_screen_at: tuple[str, ...] = ()
    """Not when a screen (the boot's lines of origin ocr) shows the boot still at one of these
    milestones (its last milestone there, no kernel line after it): a screen still at the
    firmware or boot loader shows the OS never started, whatever the serial port did not print."""


@dataclass(frozen=True, slots=True)
class CaptureCond:
    """Judged over the whole capture: several boots with these outcomes, or next to no output."""

    min_boots: int | None = None
    outcome: tuple[str, ...] = ()
    max_lines: int | None = None
    ended_by: tuple[str, ...] = ()
    """With `min_boots`: count only boots that ended so (`next-boot`, `reset`: they restarted)."""
    non_text: float | None = None
    """At least this fraction of the console's bytes were not text (controls, invalid UTF-8)."""


@dataclass(frozen=True, slots=True)
class IdleCond:
    """Live only: the console has been quiet for the stall period (`tail --stall-after`)."""

    not_reached: tuple[str, ...] = ()


Condition = LineCond | SequenceCond | AbsentCond | RepeatCond | BootCond | CaptureCond | IdleCond


@dataclass(frozen=True, slots=True)
class RuleSample:
    lines: tuple[str, ...]
    source: str
    cloud: str | None
    hypervisor: str | None
    at: int
    context: Mapping[str, str] = field(default_factory=dict)
    """The cloud's facts the sample is run with (as a `tail` of a cloud target would have them)."""


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    title: str
    category: str
    severity: str
    verdict: str
    condition: Condition
    remediation: Mapping[str, str]
    description: str = ""
    clouds: tuple[str, ...] = ()
    hypervisors: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    inhibits: tuple[str, ...] = ()
    survivable: bool = False
    """Reports an action the system carries on after (the OOM killer killing one process): its
    verdict decides the outcome only when the boot shows no progress after it."""
    needs_milestone: bool = False
    """Its verdict decides only in a view that shows the boot (a milestone reached): a report
    that a running system carries on after (a hung task, a lockup) in an excerpt that starts
    mid-run says nothing of how the boot ended."""
    superseded_reached: tuple[str, ...] = ()
    """Milestones that make a finding of this rule moot when the boot reaches one after its last
    occurrence (a DHCP client that retried and got its lease; firmware that booted from disk
    after its network boot failed): the finding is dropped, and decides nothing."""
    superseded_at: int = -1
    """Index in `matchers` of the line matcher that makes a finding moot the same way (the
    network shown working after a route error), -1 when none."""
    superseded_keeps: bool = False
    """`superseded_by` only ends what the finding waited for (a start job whose unit then
    failed): the finding stays, reported at its severity, and decides nothing."""
    fallback: bool = False
    """Stands in for its category's fuller evidence (a panic footer when the header scrolled
    away): dropped when another finding of the same category is in the boot."""
    component: bool = False
    """A component fallback (`fallback: component`: a component named next to a failure word,
    parsers/detectors/fallbacks.yaml): the weakest evidence of its category. Any other finding of
    the category, a fallback too, replaces it; so does a rule of any category that quotes its
    every line; after the machine came up it is a warning."""
    match_samples: tuple[RuleSample, ...] = ()
    no_match_samples: tuple[RuleSample, ...] = ()
    path: str = ""
    at: int = 0
    matchers: tuple[LineMatcher, ...] = field(default=(), compare=False)
    """Every line matcher the condition uses (for the scanner)."""

    def applies(self, cloud: str, hypervisor: str) -> bool:
        if self.clouds and cloud not in self.clouds:
            return False
        return not self.hypervisors or hypervisor in self.hypervisors
