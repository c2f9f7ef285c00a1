"""mcoaviz: Mobile IPv6 Multiple Care-of Addresses Registration analysis and visualisation."""

__version__ = "0.1.0"
