"""busyconf: configure, size and build BusyBox."""

__version__ = "0.1.0"
