"""Root conftest: intentionally empty. The suite's machinery is the `phoenix_verify.plugin` pytest11 entry point."""
