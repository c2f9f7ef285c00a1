"""Build hook for the optional C accelerator; all metadata lives in pyproject.toml.

``dissector._fastscan`` is optional: without a C compiler (or Python headers) the build
prints a warning and installs the pure-Python package, which FastPath then uses.
"""

from setuptools import Extension, setup

# The accelerator's sources, split by concern; fastscan.h is their shared internal header.
# Not named dissector/_fastscan/: without a built extension that directory would import as
# an empty namespace package and FastPath would take it for the accelerator.
FASTSCAN_DIR = "dissector/_fastscan_src"
FASTSCAN_PARTS = ("module", "walk", "levels", "flowtable", "flush", "admit")

setup(
    ext_modules=[
        Extension(
            "dissector._fastscan",
            sources=[f"{FASTSCAN_DIR}/{part}.c" for part in FASTSCAN_PARTS],
            depends=[f"{FASTSCAN_DIR}/fastscan.h"],
            optional=True,
        ),
    ],
)
