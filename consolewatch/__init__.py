"""consolewatch: tells you why a cloud VM did not boot.

It reads the machine's console (serial text, screenshots), splits it into boots, runs
declarative detectors (parsers/) and names the failure with its evidence and a cloud-aware fix.
"""

__version__ = "0.1.0"
