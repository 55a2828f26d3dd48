/**
 * Optional test resources come from environment variables that `.ci/run` sets.
 * Without them the tests that need them skip with a visible message, so `npm test`
 * on a plain clone passes and CI always runs everything.
 */
import { existsSync } from 'node:fs'

function fromEnv (name: string, what: string): string | undefined {
  const value = process.env[name]
  if (value == null || value === '') {
    console.warn(`[skip] ${name} is not set: tests that need ${what} are skipped (.ci/run sets it)`)
    return undefined
  }
  if (!existsSync(value)) {
    throw new Error(`${name}=${value} does not exist: ${what} is missing`)
  }
  return value
}

/** ../shared/fixtures/real (real DICOM, NIfTI and PNG files with MANIFEST.tsv). */
export const REAL_FIXTURES = fromEnv('MIST_REAL_FIXTURES', 'the real fixture files')
/** Path of OpenJPEG's opj_decompress (Debian libopenjp2-tools). */
export const OPJ_DECOMPRESS = fromEnv('MIST_OPJ_DECOMPRESS', 'OpenJPEG opj_decompress')
/** Path of a python3 that can import nibabel (Debian python3-nibabel). */
export const PYTHON_NIBABEL = fromEnv('MIST_PYTHON_NIBABEL', 'python3 with nibabel')
/** Path of dcm2niix (Debian dcm2niix), the reference DICOM-to-NIfTI converter. */
export const DCM2NIIX = fromEnv('MIST_DCM2NIIX', 'the dcm2niix reference converter')
