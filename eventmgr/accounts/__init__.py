"""Accounts: sign-up, log-in, profiles and roles."""
