"""`python -m config`: README's table of the process settings (tests/test_settings.py checks it)."""

from config.environment import table

if __name__ == "__main__":
    print("\n".join(table()))
