# Writes N uncompressed DICOM slices of one series from one uncompressed CT slice (rows rolled per slice so
# each differs; positions 1.25 mm apart): the uncompressed CT series of the benchmark codec section.
# usage: python3 ct-series.py SRC.dcm OUTDIR N
import copy, sys
import numpy as np
import pydicom
from pydicom.uid import generate_uid
src, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
ds = pydicom.dcmread(src)
arr = ds.pixel_array
series = generate_uid(entropy_srcs=['mist-bench-series', src])
pos = [float(x) for x in getattr(ds, 'ImagePositionPatient', [0, 0, 0])]
for k in range(n):
    d = copy.deepcopy(ds)
    d.SeriesInstanceUID = series
    d.SOPInstanceUID = generate_uid(entropy_srcs=['mist-bench-slice', src, str(k)])
    d.file_meta.MediaStorageSOPInstanceUID = d.SOPInstanceUID
    d.InstanceNumber = k + 1
    d.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    d.ImagePositionPatient = [pos[0], pos[1], pos[2] + 1.25 * k]
    d.SliceThickness = 1.25
    d.PixelData = np.roll(arr, 7 * k, axis=0).astype(arr.dtype).tobytes()
    d.save_as(f'{out}/slice-{k:03d}.dcm')
