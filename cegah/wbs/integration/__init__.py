"""Integrated WBS across organisations: duplicate candidates and groups, and the federation API
for institutions that run their own WBS. Built on the engine in ``cegah.wbs.dedup``."""
