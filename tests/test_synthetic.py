"""The fixture writers themselves: deterministic bytes and the real formats' details."""

import csv
import io
import zipfile

import pydicom

from spinebench_hf.sources.synthetic import write_samples


def all_bytes(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_samples_are_byte_identical_across_runs_and_places(tmp_path):
    first, second = tmp_path / "a", tmp_path / "elsewhere" / "b"
    write_samples(first, seed=3, per_source=8)
    write_samples(second, seed=3, per_source=8)
    assert all_bytes(first) == all_bytes(second)
    assert all_bytes(first) != all_bytes(write_samples(tmp_path / "c", seed=4, per_source=8)["buu"].parent)


def test_sample_archives_have_the_real_layouts(tmp_path):
    paths = write_samples(tmp_path, per_source=8)
    buu = zipfile.ZipFile(paths["buu"]).namelist()
    assert "BUU-LSPINE_400/LA/0001-M-031Y1.csv" in buu and "BUU-LSPINE_400/AP/0001-M-031Y0.jpg" in buu
    la_csv = zipfile.ZipFile(paths["buu"]).read("BUU-LSPINE_400/LA/0001-M-031Y1.csv").decode()
    rows = list(csv.reader(io.StringIO(la_csv)))
    assert len(rows) == 11 and all(len(r) == 5 for r in rows) and float(rows[0][0])  # headerless, numeric
    assert sorted(p.name for p in paths["csxa"].iterdir()) == [
        "datasets-JSON.zip",
        "datasets-PNG.zip",
        "datasets.xlsx",
    ]
    rsna = zipfile.ZipFile(paths["rsna"])
    assert {
        "train.csv",
        "train_label_coordinates.csv",
        "train_series_descriptions.csv",
        "test_series_descriptions.csv",
        "sample_submission.csv",
    } <= set(rsna.namelist())
    header = rsna.read("train_label_coordinates.csv").decode().splitlines()[0]
    assert header == "study_id,series_id,instance_number,condition,level,x,y"
    dicom_name = next(n for n in rsna.namelist() if n.startswith("train_images/") and n.endswith(".dcm"))
    ds = pydicom.dcmread(io.BytesIO(rsna.read(dicom_name)))
    assert ds.Modality == "MR" and str(ds.InstanceNumber) == dicom_name.rsplit("/", 1)[1][:-4]


def test_fixtures_have_the_quirks_of_the_real_files(tmp_path):
    """docs/sources.md §6: what the real VinDr, RSNA and CSXA files look like, quirks included."""
    import json
    import re
    import tarfile
    import warnings

    from spinebench_hf.sources.synthetic import CSXA_LANDMARKS

    paths = write_samples(tmp_path, per_source=8)
    with tarfile.open(paths["vindr"]) as vindr:
        names = vindr.getnames()
        dicom = next(n for n in names if n.endswith(".dicom"))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ds = pydicom.dcmread(vindr.extractfile(dicom))
            uids = [str(ds.StudyInstanceUID), str(ds.SeriesInstanceUID), str(ds.SOPInstanceUID)]
        train = vindr.extractfile(next(n for n in names if n.endswith("annotations/train.csv"))).read().decode()
    assert ds.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.4.90"  # JPEG 2000 Lossless
    assert (ds.PhotometricInterpretation, ds.BitsAllocated, ds.BitsStored) == ("MONOCHROME2", 16, 12)
    assert "WindowCenter" in ds and not {"Modality", "SOPClassUID", "BodyPartExamined", "PatientAge"} & set(ds.dir())
    assert all(re.fullmatch("[0-9a-f]{32}", uid) for uid in uids)
    assert any("Invalid value for VR UI" in str(w.message) for w in caught)  # as pydicom flags the real ones
    rows = train.splitlines()[1:]
    assert len(rows) > len(set(rows))  # exact duplicate box rows
    rsna = zipfile.ZipFile(paths["rsna"])
    slice_ = pydicom.dcmread(io.BytesIO(rsna.read(next(n for n in rsna.namelist() if n.endswith(".dcm")))))
    assert {"ImagePositionPatient", "ImageOrientationPatient", "PixelSpacing", "SliceThickness"} <= set(slice_.dir())
    labelme = zipfile.ZipFile(paths["csxa"] / "datasets-JSON.zip")
    shapes = json.loads(labelme.read(labelme.namelist()[0]))["shapes"]
    assert sorted(s["label"] for s in shapes) == sorted(CSXA_LANDMARKS)
    assert [s["label"] for s in shapes] != CSXA_LANDMARKS  # a non-canonical order
    assert {s["shape_type"] for s in shapes} == {"point", "polygon"} and all(len(s["points"]) == 1 for s in shapes)
