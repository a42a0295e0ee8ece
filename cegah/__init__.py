"""Cegah: an open-source platform for preventing corruption in Indonesian government."""

__version__ = "0.1.0"
