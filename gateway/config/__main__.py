"""``python -m gateway.config``: README.md's configuration tables, made from the settings table."""

from gateway.config.settings import configuration_markdown

print(configuration_markdown(), end="")
