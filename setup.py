"""Package layout: the checkout's `tests/` and `remediate/` ship inside the wheel as `phoenix_verify.tests` and
`phoenix_verify.remediate`, so an installed suite runs from any directory (`phoenix-verify check`). Metadata is in
pyproject.toml; only the directory mapping needs code (setuptools cannot glob mapped sub-packages from the toml)."""
from setuptools import find_namespace_packages, find_packages, setup

MAPPED = {"phoenix_verify.tests": "tests", "phoenix_verify.remediate": "remediate"}
packages = find_packages(include=["phoenix_model*", "phoenix_verify*", "phoenix_lab*"])
for name, where in MAPPED.items():
    packages += [name] + [f"{name}.{sub}" for sub in find_namespace_packages(where=where, exclude=["*__pycache__*"])]

setup(
    packages=packages,
    package_dir=MAPPED,
    package_data={"phoenix_verify.remediate": ["*.sh", "*.py", "README.md"], "phoenix_verify.suite": ["pytest.ini"],
                  "phoenix_lab": ["build_scripts/*", "services/vllm/*"]},
    include_package_data=False,
)
