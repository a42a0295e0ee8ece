"""The frameworks Cegah ships: MCP 2023 and 2024, eight areas each (GUIDE §3.3).

Area names are KPK's. Indicator names follow the public MCP guides where known; the
sub-indicators split each indicator into "the rule or document exists" and "it is applied and
published", the usual shape of MCP evidence. KPK does not publish the weights, so every weight
here is an equal split marked as a placeholder: replace them by importing a spreadsheet.
"""

from __future__ import annotations

from decimal import Decimal

from cegah.monitoring.framework_io import AreaSpec, FrameworkSpec, IndicatorSpec, SubSpec

MCP_2023: list[tuple[str, list[str]]] = [
    (
        "Perencanaan dan Penganggaran APBD",
        [
            "Integrasi perencanaan dan penganggaran elektronik (e-planning, e-budgeting)",
            "Pokok pikiran DPRD melalui aplikasi perencanaan",
            "Standar satuan harga dan analisis standar belanja",
            "Keterbukaan informasi APBD kepada publik",
        ],
    ),
    (
        "Pengadaan Barang dan Jasa",
        [
            "Kelembagaan UKPBJ dan tingkat kematangannya",
            "Pengumuman rencana umum pengadaan (SiRUP)",
            "Pemanfaatan e-katalog dan toko daring",
            "Pengelolaan SDM pengadaan (jabatan fungsional)",
        ],
    ),
    (
        "Perizinan (PTSP)",
        [
            "Pelimpahan kewenangan perizinan ke DPMPTSP dan OSS berbasis risiko",
            "Standar pelayanan, SOP dan keterbukaan biaya serta waktu",
            "Pengelolaan pengaduan dan survei kepuasan layanan",
        ],
    ),
    (
        "Pengawasan APIP",
        [
            "Kapabilitas APIP (IACM)",
            "Pemenuhan SDM dan anggaran APIP",
            "Tindak lanjut hasil pemeriksaan",
            "Pengelolaan pengaduan (WBS) dan pengendalian gratifikasi",
        ],
    ),
    (
        "Manajemen ASN",
        [
            "Penerapan sistem merit",
            "Sistem informasi kepegawaian terintegrasi",
            "Tambahan penghasilan pegawai berbasis kinerja",
            "Kepatuhan LHKPN dan penegakan kode etik",
        ],
    ),
    (
        "Optimalisasi Pajak Daerah",
        [
            "Regulasi dan SOP pajak daerah",
            "Perekaman transaksi usaha (tapping box / pajak daring)",
            "Pemutakhiran data PBB-P2 dan integrasi BPHTB",
            "Penagihan piutang pajak daerah",
        ],
    ),
    (
        "Manajemen Aset Daerah (BMD)",
        [
            "Regulasi dan SOP pengelolaan BMD",
            "Basis data aset dan rekonsiliasi",
            "Sertifikasi dan pengamanan tanah pemerintah daerah",
            "Penertiban aset bermasalah dan PSU",
        ],
    ),
    (
        "Tata Kelola Dana Desa",
        [
            "Regulasi pembagian dan penyaluran dana desa",
            "Pengawasan dana desa oleh APIP",
            "Keterbukaan APBDes kepada masyarakat",
        ],
    ),
]

MCP_2024: list[tuple[str, list[str]]] = [
    (
        "Perencanaan",
        [
            "Penyusunan RKPD tepat waktu dan berbasis aplikasi",
            "Pokok pikiran DPRD melalui aplikasi perencanaan",
            "Musrenbang dan keterbukaan dokumen perencanaan",
        ],
    ),
    (
        "Penganggaran",
        [
            "Integrasi perencanaan dan penganggaran (SIPD)",
            "Standar satuan harga dan analisis standar belanja",
            "Keterbukaan informasi APBD",
        ],
    ),
    (
        "Pengadaan Barang dan Jasa",
        [
            "Kelembagaan dan kematangan UKPBJ",
            "Pengumuman RUP dan pelaksanaan tender elektronik",
            "Pemanfaatan e-katalog lokal dan toko daring",
            "Pengendalian benturan kepentingan dalam pengadaan",
        ],
    ),
    (
        "Pelayanan Publik",
        [
            "Penyelenggaraan pelayanan terpadu (MPP/PTSP)",
            "Standar pelayanan dan keterbukaan biaya serta waktu",
            "Pengelolaan pengaduan pelayanan publik",
        ],
    ),
    (
        "Pengawasan APIP",
        [
            "Kapabilitas APIP",
            "Pemenuhan SDM dan anggaran APIP",
            "Penanganan pengaduan dan pengendalian gratifikasi",
            "Penerapan manajemen risiko",
        ],
    ),
    (
        "Manajemen ASN",
        [
            "Penerapan sistem merit",
            "Tambahan penghasilan pegawai berbasis kinerja",
            "Kepatuhan LHKPN dan penegakan kode etik",
        ],
    ),
    (
        "Pengelolaan Barang Milik Daerah",
        [
            "Basis data dan rekonsiliasi aset",
            "Sertifikasi tanah pemerintah daerah",
            "Penertiban dan pemanfaatan aset",
        ],
    ),
    (
        "Optimalisasi Pajak Daerah",
        [
            "Regulasi dan SOP pajak daerah",
            "Perekaman transaksi usaha (pajak daring)",
            "Pemutakhiran data PBB-P2 dan BPHTB",
            "Penagihan piutang pajak daerah",
        ],
    ),
]

SUB_SHAPES = (
    (
        "Regulasi, SK atau dokumen tersedia",
        "Perkada, SK, SOP atau dokumen yang ditetapkan dan masih berlaku.",
        "Salinan dokumen yang ditandatangani (PDF).",
    ),
    (
        "Diterapkan dan dipublikasikan",
        "Bukti penerapan dalam tahun berjalan dan publikasinya.",
        "Tangkapan layar aplikasi atau situs, laporan pelaksanaan, tautan publikasi.",
    ),
)


def _equal(n: int) -> list[Decimal]:
    """Split 100 into ``n`` weights with two decimals that add up to exactly 100."""
    base = (Decimal(100) / n).quantize(Decimal("0.01"))
    weights = [base] * n
    weights[-1] = Decimal(100) - base * (n - 1)
    return weights


def build_spec(year: int, name: str, areas: list[tuple[str, list[str]]]) -> FrameworkSpec:
    area_specs = []
    for a_idx, (area_name, indicators) in enumerate(areas, start=1):
        ind_specs = []
        for i_idx, (ind_name, ind_weight) in enumerate(
            zip(indicators, _equal(len(indicators)), strict=True), start=1
        ):
            subs = [
                SubSpec(
                    code=str(s_idx),
                    name=f"{ind_name}: {shape[0].lower()}",
                    weight=weight,
                    description=shape[1],
                    required_evidence=shape[2],
                )
                for s_idx, (shape, weight) in enumerate(
                    zip(SUB_SHAPES, _equal(len(SUB_SHAPES)), strict=True), start=1
                )
            ]
            ind_specs.append(
                IndicatorSpec(code=str(i_idx), name=ind_name, weight=ind_weight, subs=subs)
            )
        area_specs.append(
            AreaSpec(
                code=str(a_idx),
                name=area_name,
                weight=_equal(len(areas))[a_idx - 1],
                indicators=ind_specs,
            )
        )
    return FrameworkSpec(
        year=year, version=1, name=name, weights_are_placeholders=True, areas=area_specs
    )


def shipped_specs() -> list[FrameworkSpec]:
    return [
        build_spec(2023, "MCP 2023", MCP_2023),
        build_spec(2024, "MCP 2024", MCP_2024),
    ]
