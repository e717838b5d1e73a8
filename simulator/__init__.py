"""Protocol-level printer simulators for tests and development (never installed for users)."""
