"""Feedback datasets (framework-free): users' feedback and corrections, with each team's consent and
without personal data, reviewed by a team admin and exported as SFT, preference (DPO) and KTO JSONL
with a dataset card. See docs/feedback-datasets.md."""
