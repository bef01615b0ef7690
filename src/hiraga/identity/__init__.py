"""Identity and organisation: organisations, teams, users, memberships and their credentials."""
