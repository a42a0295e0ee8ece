"""Fixed vocabularies of the SPI: respondent groups and the seven internal dimensions."""

from typing import Final

GROUPS: Final[tuple[str, ...]] = ("internal", "external", "expert")

# Order follows KPK's presentation of the internal dimensions (GUIDE §3.2).
DIMENSIONS: Final[tuple[str, ...]] = (
    "transparansi",
    "sdm",
    "anggaran",
    "integritas",
    "pengaruh",
    "pbj",
    "sosialisasi",
)

DIMENSION_LABELS: Final[dict[str, tuple[str, str]]] = {
    "transparansi": ("Transparansi", "Transparency"),
    "sdm": ("Pengelolaan SDM", "Human resource management"),
    "anggaran": ("Pengelolaan anggaran", "Budget management"),
    "integritas": ("Integritas dalam pelaksanaan tugas", "Integrity in duties"),
    "pengaruh": ("Perdagangan pengaruh", "Trading in influence"),
    "pbj": ("Pengelolaan pengadaan barang dan jasa", "Procurement management"),
    "sosialisasi": ("Sosialisasi antikorupsi", "Anti-corruption socialisation"),
}

GROUP_LABELS: Final[dict[str, tuple[str, str]]] = {
    "internal": ("Pegawai (internal)", "Employees (internal)"),
    "external": ("Pengguna layanan (eksternal)", "Service users (external)"),
    "expert": ("Eksper", "Experts"),
}
