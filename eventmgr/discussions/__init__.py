"""Discussions: a thread per key question and a follow-up thread per meeting, with nested comments."""
