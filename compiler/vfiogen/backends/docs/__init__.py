"""The Markdown documentation back end."""
