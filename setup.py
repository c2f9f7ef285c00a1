"""Build hook for the optional C accelerator; all metadata lives in pyproject.toml.

``dissector._fastscan`` is optional: without a C compiler (or Python headers) the build
prints a warning and installs the pure-Python package, which FastPath then uses.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension("dissector._fastscan", sources=["dissector/_fastscan.c"], optional=True),
    ],
)
