"""Registrations: members' places at meetings, the waiting list, and the organisers' roster."""
