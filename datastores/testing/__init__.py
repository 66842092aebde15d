"""Test kit: fake exchanges on 127.0.0.1, fault injection, virtual time.

Documented in docs/testing.md. Used by the project's tests, the demo and the
benchmarks, and by users to test their bots offline.
"""

from __future__ import annotations

from ._clock import VirtualClock

__all__ = ["VirtualClock"]
