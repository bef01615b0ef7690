"""公用文チェック: rule-based checks of Japanese official writing."""
