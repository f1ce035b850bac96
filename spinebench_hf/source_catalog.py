"""What is known of each source before any file is read: its title, homepage, licence, citation and whether its
images may be redistributed (docs/sources.md). Light on purpose: the command line lists the sources from here without
importing the readers (pydicom, pandas)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SourceInfo:
    """What is known of one source before any file is read; `CATALOG` holds one per source name."""

    title: str
    short_title: str  # for table headings
    homepage: str
    licence: str
    citation: str
    redistributable: bool  # may derived images be published?


CATALOG = {
    "buu": SourceInfo(
        title="BUU-LSPINE",
        short_title="BUU-LSPINE",
        homepage="https://services.informatics.buu.ac.th/spine/",
        licence="Burapha University end-user licence agreement; redistribution not granted",
        citation=(
            "Klinwichit et al. BUU-LSPINE: A Thai Open Lumbar Spine Dataset for Spondylolisthesis Detection. "
            "Applied Sciences. 2023;13(15):8646. doi:10.3390/app13158646"
        ),
        redistributable=False,
    ),
    "csxa": SourceInfo(
        title="CSXA (Cervical Spine X-ray Atlas)",
        short_title="CSXA",
        homepage="https://doi.org/10.57760/sciencedb.15391",
        licence="open access (Science Data Bank; check the licence line there before publishing)",
        citation=(
            "Ran Y, et al. A high-quality dataset featuring classified and annotated cervical spine X-ray atlas. "
            "Scientific Data. 2024. doi:10.1038/s41597-024-03383-0. Data: CSXA V3.0, doi:10.57760/sciencedb.15391"
        ),
        redistributable=True,
    ),
    "rsna": SourceInfo(
        title="RSNA 2024 Lumbar Spine Degenerative Classification",
        short_title="RSNA 2024",
        homepage="https://www.kaggle.com/competitions/rsna-2024-lumbar-spine-degenerative-classification",
        licence="Kaggle competition rules; non-commercial use; redistribution terms unknown",
        citation=(
            "RSNA 2024 Lumbar Spine Degenerative Classification, Kaggle competition, 2024; dataset paper: The RSNA "
            "Lumbar Degenerative Imaging Spine Classification (LumbarDISC) Dataset"
        ),
        redistributable=False,
    ),
    "vindr": SourceInfo(
        title="VinDr-SpineXR",
        short_title="VinDr-SpineXR",
        homepage="https://physionet.org/content/vindr-spinexr/1.0.0/",
        licence="PhysioNet Restricted Health Data License 1.5.0 (signed data use agreement); no sharing",
        citation=(
            "Nguyen HT, et al. VinDr-SpineXR: A deep learning framework for spinal lesions detection and "
            "classification from radiographs. MICCAI 2021. Data: PhysioNet, doi:10.13026/q45h-5h59"
        ),
        redistributable=False,
    ),
}
