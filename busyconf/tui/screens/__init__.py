"""Screens and modal dialogs of the busyconf TUI."""
