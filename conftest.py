"""Root conftest: intentionally empty. The suite's machinery is the `phoenix_verify.suite.plugin` pytest11 entry point."""
